/**
 * The SharedMap's options, checked: the configuration (capacity, key and
 * value sizes), a write's `{ ttlMs }`, counter deltas.
 *
 * @module
 */

import { argumentError, rangeError, typeError } from "../errors.ts";
import { MAX_CAPACITY, MAX_KEY, MAX_VALUE } from "./native.ts";

/** The configuration of a SharedMap. */
export interface SharedMapOptions {
  /** How many entries it holds at most, 1 … 2^26. Omit to adopt an existing map's. */
  readonly capacity?: number;
  /** The longest key in bytes (UTF-8 for strings), 1 … 4096 (default 64). Omit to adopt an existing map's. */
  readonly keySize?: number;
  /** The longest value in bytes, 1 … 1048576 (default 256; at least 8 for counters). Omit to adopt an existing map's. */
  readonly valueSize?: number;
}

/** Options of a write that may create an entry. */
export interface SetOptions {
  /**
   * The entry expires this many milliseconds from now (an integer, 1 …
   * 2^40): afterwards it is invisible and its room is reused. Omit for no
   * expiry. `set` replaces an entry's expiry; `fetchAdd` and `addFetch` use
   * it only when they create the entry (a fixed window).
   */
  readonly ttlMs?: number;
}

/** Default key and value sizes of a new map. */
export const DEFAULT_KEY_SIZE = 64;
export const DEFAULT_VALUE_SIZE = 256;
const MAX_TTL = 2 ** 40;

function integer(where: string, param: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== "number") throw typeError(where, param, `an integer in [${lo}, ${hi}]`, v);
  if (!Number.isInteger(v) || v < lo || v > hi) throw rangeError(where, param, `an integer in [${lo}, ${hi}]`, v);
  return v;
}

function optional(where: string, param: string, v: unknown, lo: number, hi: number): number | undefined {
  return v === undefined ? undefined : integer(where, param, v, lo, hi);
}

/** The configuration as given (undefined: adopt what the memory holds). */
export interface Config {
  readonly capacity?: number;
  readonly keySize?: number;
  readonly valueSize?: number;
}

/** Checks a SharedMap's options object (undefined for `{}`). */
export function mapOptions(where: string, o: unknown): Config {
  if (o === undefined) return {};
  if (o === null || typeof o !== "object") {
    throw typeError(where, "options", "{ capacity, keySize?, valueSize? }", o);
  }
  let capacity: unknown, keySize: unknown, valueSize: unknown;
  try {
    ({ capacity, keySize, valueSize } = o as SharedMapOptions);
  } catch (e) {
    throw argumentError(where, "options", e); // a throwing getter, a revoked Proxy
  }
  return {
    capacity: optional(where, "options.capacity", capacity, 1, MAX_CAPACITY),
    keySize: optional(where, "options.keySize", keySize, 1, MAX_KEY),
    valueSize: optional(where, "options.valueSize", valueSize, 1, MAX_VALUE),
  };
}

/** The configuration of a new map: capacity required, sizes defaulted. */
export function newConfig(where: string, o: unknown): [number, number, number] {
  const c = mapOptions(where, o);
  if (c.capacity === undefined) {
    throw typeError(where, "options.capacity", `an integer in [1, ${MAX_CAPACITY}]`, undefined);
  }
  return [c.capacity, c.keySize ?? DEFAULT_KEY_SIZE, c.valueSize ?? DEFAULT_VALUE_SIZE];
}

/** The TTL of a write's options in milliseconds: 0 for none. */
export function ttlOf(where: string, o: unknown): number {
  if (o === undefined) return 0;
  if (o === null || typeof o !== "object") throw typeError(where, "options", "{ ttlMs? }", o);
  let t: unknown;
  try {
    t = (o as SetOptions).ttlMs;
  } catch (e) {
    throw argumentError(where, "options.ttlMs", e); // a throwing getter, a revoked Proxy
  }
  return t === undefined ? 0 : integer(where, "options.ttlMs", t, 1, MAX_TTL);
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** Checks a counter's delta: a safe integer, or a bigint in the signed 64-bit range. */
export function deltaOf(where: string, d: unknown): number | bigint {
  if (typeof d === "number") {
    if (!Number.isSafeInteger(d)) throw rangeError(where, "delta", "a safe integer (or a bigint)", d);
    return d;
  }
  if (typeof d === "bigint") {
    if (d < I64_MIN || d > I64_MAX) throw rangeError(where, "delta", "a bigint in [-(2^63), 2^63 - 1]", d);
    return d;
  }
  throw typeError(where, "delta", "a number (a safe integer) or a bigint", d);
}
