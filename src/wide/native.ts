/**
 * What the wide atomics share: the native exports (opened per type, on first
 * construction), the per-thread scratch memory values cross the FFI through,
 * and which operations are methods.
 *
 * @module
 */

import { backend, type NativeFn, type Pointer } from "../native/backend.ts";
import { openGroup } from "../native/library.ts";
import type { AtomicDescriptor } from "../memory/descriptor.ts";
import { methodOf } from "../atomics/method.ts";
import {
  WIDE_EXTRA_SYMBOLS,
  WIDE_OPS,
  wideExportTable,
  type WideNativeType,
  type WideOpInfo,
  type WideTypeName,
} from "./table.ts";

/**
 * Thrown when a wide atomic is constructed where the hardware cannot do it
 * lock-free (16-byte values on an x86_64 CPU level without `cmpxchg16b`, or a
 * 32-bit CPU). shared-atomic never falls back to a lock: a lock private to
 * one process is silently wrong across processes.
 *
 * @example
 * ```ts
 * import { AtomicU128, AtomicUnavailableError } from "./mod.ts";
 * try {
 *   AtomicU128.create();
 * } catch (e) {
 *   if (!(e instanceof AtomicUnavailableError)) throw e;
 *   // fall back to something else, e.g. two AtomicU64 and a protocol of your own
 * }
 * ```
 */
export class AtomicUnavailableError extends Error {
  /**
   * An error saying what is unavailable and why.
   *
   * @example
   * ```ts
   * import { AtomicUnavailableError } from "./mod.ts";
   * new AtomicUnavailableError("no 16-byte compare-exchange").name; // "AtomicUnavailableError"
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "AtomicUnavailableError";
  }
}

/**
 * A structured-clonable description of a wide atomic (`AtomicI128`,
 * `AtomicU128`, `AtomicBytes`, `AtomicString`): `postMessage` it to a Worker
 * and rebuild the atomic there with `fromDescriptor` (or the class's `from`).
 *
 * @example
 * ```ts
 * import { AtomicString } from "./mod.ts";
 * const d = AtomicString.create(8, "ready").descriptor(); // { kind, type: "str8", buffer, byteOffset }
 * // in a Worker, after postMessage(d):
 * AtomicString.from(d).load(); // "ready"
 * ```
 */
export interface WideDescriptor extends AtomicDescriptor {
  /** The value type, e.g. "u128", "bytes8", "str16". */
  readonly type: WideTypeName;
}

// ---- native exports ------------------------------------------------------------

let lockFree: boolean | undefined;

/** Whether the library has lock-free 16-byte operations (`sa_wide_lock_free()`). */
export function wideLockFree(): boolean {
  return (lockFree ??= openGroup("wide", WIDE_EXTRA_SYMBOLS).sa_wide_lock_free() === 1);
}

/** Throws `AtomicUnavailableError` if a `bytes`-byte value is not lock-free here. */
export function requireLockFree(where: string, bytes: number): void {
  if (bytes === 16 && !wideLockFree()) {
    throw new AtomicUnavailableError(
      `${where}: 16-byte atomics are not lock-free on this CPU or build target ` +
        "(x86_64 needs cmpxchg16b: build the library for x86-64-v2 or newer; aarch64 always has them); " +
        "shared-atomic never emulates them with a lock",
    );
  }
}

const groups = new Map<WideNativeType, Record<string, NativeFn>>();

/** The exports of one wide type, keyed by operation (`fetch_add`, `fetch_add_explicit`, …). */
export function wideSymbols(type: WideNativeType): Record<string, NativeFn> {
  let byOp = groups.get(type);
  if (byOp === undefined) {
    const prefix = `sa_${type}_`;
    const wanted: Record<string, (typeof WIDE_EXTRA_SYMBOLS)[string]> = {};
    for (const [name, sig] of wideExportTable()) {
      if (name.startsWith(prefix) && !name.includes("_weak")) wanted[name] = sig;
    }
    const syms = openGroup(`wide:${type}`, wanted);
    byOp = {};
    for (const [name, fn] of Object.entries(syms)) byOp[name.slice(prefix.length)] = fn;
    groups.set(type, byOp);
  }
  return byOp;
}

// ---- scratch -------------------------------------------------------------------

// Values cross the FFI through this per-thread memory (each Worker has its
// own module instance): two 16-byte slots, at 0 and 16. A SharedArrayBuffer
// never moves, so its pointers are computed once.
const SCRATCH = new SharedArrayBuffer(32);
/** The scratch as bytes. */
export const S8: Uint8Array = new Uint8Array(SCRATCH);
let pointers: readonly [Pointer, Pointer] | undefined;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("shared-atomic: wide values assume a little-endian CPU");
}

/** Pointers to the two scratch slots (byte 0 and byte 16). */
export function scratch(): readonly [Pointer, Pointer] {
  if (pointers === undefined) {
    const b = backend();
    const base = b.pointer(S8);
    pointers = [base, b.pointerAt(base, 16)];
  }
  return pointers;
}

const M64 = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const U128_MAX = (1n << 128n) - 1n;
const I128_MIN = -(1n << 127n);
const I128_MAX = (1n << 127n) - 1n;

/**
 * Moves 128-bit integers between bigints and a scratch slot (`k`: its byte
 * offset, 0 or 16), as two little-endian 64-bit halves. `put` checks the
 * value's kind and range on the way (two comparisons for a value that fits
 * in 64 bits) and returns false, writing nothing, if it is not allowed.
 */
export interface Codec128 {
  putU(v: unknown, k: number): boolean;
  putI(v: unknown, k: number): boolean;
  getU(k: number): bigint;
  getI(k: number): bigint;
}

// Deno (V8): BigUint64Array elements are the fastest way in and out (~7 ns).
const U64 = new BigUint64Array(SCRATCH);
const I64 = new BigInt64Array(SCRATCH);
/** The scratch as 32-bit words (little-endian: byte 4i + b is bits 8b of word i). */
export const S32: Int32Array = new Int32Array(SCRATCH);
const typedArrays: Codec128 = {
  putU(v, k) {
    if (typeof v !== "bigint") return false;
    const i = k >> 3;
    if (v <= M64) {
      if (v < 0n) return false;
      U64[i] = v;
      U64[i + 1] = 0n;
    } else {
      if (v > U128_MAX) return false;
      U64[i] = v; // the setter wraps modulo 2^64
      U64[i + 1] = v >> 64n;
    }
    return true;
  },
  putI(v, k) {
    if (typeof v !== "bigint") return false;
    const i = k >> 3;
    if (v >= 0n) {
      if (v <= M64) U64[i + 1] = 0n;
      else if (v <= I128_MAX) U64[i + 1] = v >> 64n;
      else return false;
    } else {
      if (v >= I64_MIN) I64[i + 1] = -1n;
      else if (v >= I128_MIN) I64[i + 1] = v >> 64n;
      else return false;
    }
    U64[i] = v;
    return true;
  },
  getU(k) {
    const i = k >> 3, h = (k >> 2) + 2;
    if (S32[h] === 0 && S32[h + 1] === 0) return U64[i];
    return (U64[i + 1] << 64n) | U64[i];
  },
  getI(k) {
    const i = k >> 3, h = (k >> 2) + 2;
    const a = S32[h], b = S32[h + 1];
    if (a === 0 && b === 0) return U64[i];
    if (a === -1 && b === -1 && S32[h - 1] < 0) return I64[i];
    return (I64[i + 1] << 64n) | U64[i];
  },
};

// Bun (JavaScriptCore): BigUint64Array elements cost ~25-35 ns each way,
// DataView.get/setBigUint64 ~4-10 ns.
const DV = new DataView(SCRATCH);
const dataView: Codec128 = {
  putU(v, k) {
    if (typeof v !== "bigint") return false;
    if (v <= M64) {
      if (v < 0n) return false;
      DV.setBigUint64(k, v, true);
      DV.setBigUint64(k + 8, 0n, true);
    } else {
      if (v > U128_MAX) return false;
      DV.setBigUint64(k, v, true); // wraps modulo 2^64
      DV.setBigUint64(k + 8, v >> 64n, true);
    }
    return true;
  },
  putI(v, k) {
    if (typeof v !== "bigint") return false;
    if (v >= 0n) {
      if (v <= M64) DV.setBigUint64(k + 8, 0n, true);
      else if (v <= I128_MAX) DV.setBigUint64(k + 8, v >> 64n, true);
      else return false;
    } else {
      if (v >= I64_MIN) DV.setBigInt64(k + 8, -1n, true);
      else if (v >= I128_MIN) DV.setBigInt64(k + 8, v >> 64n, true);
      else return false;
    }
    DV.setBigUint64(k, v, true);
    return true;
  },
  getU(k) {
    if (DV.getInt32(k + 8, true) === 0 && DV.getInt32(k + 12, true) === 0) return DV.getBigUint64(k, true);
    return (DV.getBigUint64(k + 8, true) << 64n) | DV.getBigUint64(k, true);
  },
  getI(k) {
    const a = DV.getInt32(k + 8, true), b = DV.getInt32(k + 12, true);
    if (a === 0 && b === 0) return DV.getBigUint64(k, true);
    if (a === -1 && b === -1 && DV.getInt32(k + 4, true) < 0) return DV.getBigInt64(k, true);
    return (DV.getBigInt64(k + 8, true) << 64n) | DV.getBigUint64(k, true);
  },
};

/** The faster way for this runtime (measured: see the comments above). */
export function codec128(): Codec128 {
  return backend().runtime === "bun" ? dataView : typedArrays;
}

// ---- methods -------------------------------------------------------------------

/** A wide operation that is a method, with the method's name. */
export interface WideMethod {
  readonly op: WideOpInfo;
  /** E.g. `fetchAdd`. */
  readonly method: string;
}

/** The operations of the table that values of `kind` have as methods (not the weak compare-exchange: C only). */
export function wideMethods(kind: "int" | "bytes"): WideMethod[] {
  return WIDE_OPS.filter((op) => kind === "int" || !op.intOnly)
    .map((op) => ({ op, method: methodOf(op.name) }))
    .filter((m) => m.method !== "");
}
