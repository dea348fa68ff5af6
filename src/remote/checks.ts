/**
 * Argument checks shared by the Valkey objects: timeouts, signals, counts.
 * Each throws a TypeError or RangeError naming the method, the parameter,
 * what is allowed and what was given.
 *
 * @module
 */

import { rangeError, typeError } from "../errors.ts";

/** A timeout in ms: undefined or Infinity is forever. */
export function checkTimeout(where: string, timeoutMs: unknown): number {
  if (timeoutMs === undefined) return Infinity;
  if (typeof timeoutMs !== "number") throw typeError(where, "timeoutMs", "a number of milliseconds", timeoutMs);
  if (!(timeoutMs >= 0)) throw rangeError(where, "timeoutMs", "a number of milliseconds ≥ 0, or Infinity", timeoutMs);
  return timeoutMs;
}

/** An AbortSignal, or undefined. */
export function checkSignal(where: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  throw typeError(where, "signal", "an AbortSignal", signal);
}

/** An integer in [lo, hi]. */
export function checkInt(where: string, param: string, v: unknown, lo: number, hi: number): number {
  const allowed = `an integer in [${lo}, ${hi}]`;
  if (typeof v !== "number") throw typeError(where, param, allowed, v);
  if (!Number.isInteger(v) || v < lo || v > hi) throw rangeError(where, param, allowed, v);
  return v;
}

/** An options object (undefined: {}). */
export function checkOptions<T extends object>(where: string, options: unknown, shape: string): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object") throw typeError(where, "options", shape, options);
  return options as Partial<T>;
}
