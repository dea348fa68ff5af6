/**
 * The values the Valkey objects take and give: 64-bit integers (a bigint,
 * or a safe-integer number on the number path) kept as the decimal strings
 * Valkey's INCRBY works on, and 64-bit floats kept as their 8 bytes
 * (little-endian, the IEEE 754 bits, exact), plus byte strings for maps and
 * channels.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { rangeError, typeError } from "../errors.ts";
import { ValkeyWrongTypeError } from "./errors.ts";

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const I64 = "a bigint in [-2^63, 2^63-1] or a safe integer number";

/** Checks a 64-bit integer argument (bigint or safe-integer number); returns its decimal form. */
export function int64(where: string, param: string, v: unknown): string {
  if (typeof v === "bigint") {
    if (v < MIN || v > MAX) throw rangeError(where, param, I64, v);
    return v.toString();
  }
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw rangeError(where, param, I64, v);
    return String(v);
  }
  throw typeError(where, param, I64, v);
}

/**
 * A reply holding a decimal integer (null: an absent key, 0) as a bigint;
 * WRONGTYPE naming `key` (or what `key()` returns) if it is not one.
 */
export function bigOf(where: string, key: string | (() => string), reply: unknown): bigint {
  if (reply === null || reply === undefined) return 0n;
  const s = String(reply);
  if (!/^-?\d{1,19}$/.test(s)) {
    const name = typeof key === "string" ? key : key();
    throw new ValkeyWrongTypeError(where, name, "it holds a value that is not a 64-bit integer");
  }
  return BigInt(s);
}

/** The same reply as a number (beyond ±2^53: rounded). */
export function numberOf(where: string, key: string | (() => string), reply: unknown): number {
  if (typeof reply === "number") return reply;
  if (typeof reply === "string" && reply.length < 16 && /^-?\d+$/.test(reply)) return +reply;
  return Number(bigOf(where, key, reply));
}

/** Checks a float argument. */
export function float64(where: string, param: string, v: unknown): number {
  if (typeof v !== "number") throw typeError(where, param, "a number", v);
  return v;
}

/** A float's 8 bytes (little-endian), as the Buffer the client sends. */
export function floatBytes(v: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleLE(v, 0);
  return b;
}

/** The float in `reply` at byte `at` (null: an absent key, 0); WRONGTYPE if it does not hold 8-byte floats. */
export function floatOf(where: string, key: string, reply: unknown, at = 0): number {
  if (reply === null || reply === undefined) return 0;
  if (!(reply instanceof Uint8Array) || reply.length < at + 8) {
    throw new ValkeyWrongTypeError(where, key, "it holds a value that is not an 8-byte float");
  }
  return new DataView(reply.buffer, reply.byteOffset, reply.length).getFloat64(at, true);
}

/** A key or value argument: a string (UTF-8) or bytes (any Uint8Array, sent as is). */
export function bytesArg(where: string, param: string, v: unknown): string | Buffer {
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw typeError(where, param, "a string or a Uint8Array", v);
}

/** Bytes the client returned, as a plain Uint8Array the caller owns. */
export function ownBytes(reply: Uint8Array): Uint8Array {
  return new Uint8Array(reply);
}

/** The text form of a key for messages. */
export function keyText(key: string | Uint8Array): string {
  return typeof key === "string" ? key : new TextDecoder().decode(key);
}
