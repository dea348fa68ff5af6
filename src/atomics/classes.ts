/**
 * The atomic classes, one per value type, generated from the table.
 *
 * @module
 */

import { defineAtomic } from "./atomic.ts";
import { argumentError } from "../errors.ts";
import { addWaiting, type AtomicWaitable } from "./wait.ts";
import type { AtomicBytes, AtomicI128, AtomicString, AtomicU128, WideDescriptor } from "../wide/index.ts";
import { type AtomicDescriptor, rebuild, rebuildHandle } from "../memory/descriptor.ts";
import { type TypeName, TYPES } from "../native/abi.ts";
import type { AtomicBoolean, AtomicClass, AtomicFloat, AtomicInteger, AtomicInteger64 } from "./types.ts";

function make<A, V>(type: TypeName, name: string): AtomicClass<A, V> {
  return defineAtomic(TYPES.find((t) => t.name === type)!, name) as AtomicClass<A, V>;
}

/**
 * An atomic 8-bit signed integer, values in [-128, 127].
 *
 * @example
 * ```ts
 * import { AtomicI8 } from "./mod.ts";
 * const a = AtomicI8.create(127);
 * a.addFetch(1); // -128: wraps
 * ```
 */
export const AtomicI8: AtomicClass<AtomicI8, number> = make("i8", "AtomicI8");
/** An instance of {@link AtomicI8}. */
export type AtomicI8 = AtomicInteger<number>;

/**
 * An atomic 8-bit unsigned integer, values in [0, 255].
 *
 * @example
 * ```ts
 * import { AtomicU8 } from "./mod.ts";
 * const a = AtomicU8.create(0);
 * a.subFetch(1); // 255: wraps
 * ```
 */
export const AtomicU8: AtomicClass<AtomicU8, number> = make("u8", "AtomicU8");
/** An instance of {@link AtomicU8}. */
export type AtomicU8 = AtomicInteger<number>;

/**
 * An atomic 16-bit signed integer, values in [-32768, 32767].
 *
 * @example
 * ```ts
 * import { AtomicI16 } from "./mod.ts";
 * const a = AtomicI16.create(-32768);
 * a.fetchMin(0); // -32768
 * ```
 */
export const AtomicI16: AtomicClass<AtomicI16, number> = make("i16", "AtomicI16");
/** An instance of {@link AtomicI16}. */
export type AtomicI16 = AtomicInteger<number>;

/**
 * An atomic 16-bit unsigned integer, values in [0, 65535].
 *
 * @example
 * ```ts
 * import { AtomicU16 } from "./mod.ts";
 * const a = AtomicU16.create(0xff00);
 * a.xorFetch(0xffff); // 0x00ff
 * ```
 */
export const AtomicU16: AtomicClass<AtomicU16, number> = make("u16", "AtomicU16");
/** An instance of {@link AtomicU16}. */
export type AtomicU16 = AtomicInteger<number>;

/**
 * An atomic 32-bit signed integer, values in [-2^31, 2^31-1].
 *
 * @example
 * ```ts
 * import { AtomicI32 } from "./mod.ts";
 * const sab = new SharedArrayBuffer(8);
 * const a = new AtomicI32(sab, 4);
 * a.fetchAdd(1); // 0
 * a.load(); // 1
 * ```
 */
export const AtomicI32: AtomicClass<AtomicI32, number> = make("i32", "AtomicI32");
/** An instance of {@link AtomicI32}. */
export type AtomicI32 = AtomicInteger<number> & AtomicWaitable;

/**
 * An atomic 32-bit unsigned integer, values in [0, 2^32-1].
 *
 * @example
 * ```ts
 * import { AtomicU32 } from "./mod.ts";
 * const a = AtomicU32.create(4294967295);
 * a.addFetch(1); // 0: wraps
 * ```
 */
export const AtomicU32: AtomicClass<AtomicU32, number> = make("u32", "AtomicU32");
/** An instance of {@link AtomicU32}. */
export type AtomicU32 = AtomicInteger<number> & AtomicWaitable;

/**
 * An atomic 64-bit signed integer: bigint methods over [-2^63, 2^63-1], number methods within ±2^53.
 *
 * @example
 * ```ts
 * import { AtomicI64 } from "./mod.ts";
 * const a = AtomicI64.create(0n);
 * a.addFetch(100n); // 100n
 * a.addFetch(100); // 200 (number path)
 * ```
 */
export const AtomicI64: AtomicClass<AtomicI64, bigint | number> = make("i64", "AtomicI64");
/** An instance of {@link AtomicI64}. */
export type AtomicI64 = AtomicInteger64;

/**
 * An atomic 64-bit unsigned integer: bigint methods over [0, 2^64-1], number methods within [0, 2^53).
 *
 * @example
 * ```ts
 * import { AtomicU64 } from "./mod.ts";
 * const a = AtomicU64.create(2n ** 63n - 1n);
 * a.subFetch(100n); // 9223372036854775707n
 * ```
 */
export const AtomicU64: AtomicClass<AtomicU64, bigint | number> = make("u64", "AtomicU64");
/** An instance of {@link AtomicU64}. */
export type AtomicU64 = AtomicInteger64;

/**
 * An atomic 32-bit float (values are rounded to float32 when stored, and
 * every method returns values as stored: `update(() => 0.1)` returns
 * 0.10000000149011612). Compare-exchange as for `AtomicF64`: bit for bit,
 * except that a NaN matches any NaN.
 *
 * @example
 * ```ts
 * import { AtomicF32 } from "./mod.ts";
 * const a = AtomicF32.create(0.5);
 * a.fetchAdd(0.25); // 0.5
 * ```
 */
export const AtomicF32: AtomicClass<AtomicF32, number> = make("f32", "AtomicF32");
/** An instance of {@link AtomicF32}. */
export type AtomicF32 = AtomicFloat;

/**
 * An atomic 64-bit float: add, sub, max and min that the built-in Atomics lacks.
 * Compare-exchange compares bits (`-0` is not `0`), except that a NaN
 * `expected` matches any NaN stored, so `update` ends even on the NaN that
 * `Infinity - Infinity` leaves.
 *
 * @example
 * ```ts
 * import { AtomicF64 } from "./mod.ts";
 * const a = AtomicF64.create();
 * a.addFetch(0.1); // 0.1
 * a.fetchMax(Infinity); // 0.1
 * ```
 */
export const AtomicF64: AtomicClass<AtomicF64, number> = make("f64", "AtomicF64");
/** An instance of {@link AtomicF64}. */
export type AtomicF64 = AtomicFloat;

/**
 * An atomic boolean, stored in one byte. It writes 0 or 1; a byte holding
 * anything else (written by an `AtomicU8` or by C) is true, like C's
 * conversion to `_Bool`: `load()` returns true, `compareAndSet(true, …)`
 * matches it, and `fetchAnd`/`fetchOr`/`fetchXor`/`fetchNand` treat it as
 * true and store 0 or 1.
 *
 * @example
 * ```ts
 * import { AtomicBool } from "./mod.ts";
 * const ready = AtomicBool.create();
 * ready.store(true);
 * ready.fetchXor(true); // true, now false
 * ```
 */
export const AtomicBool: AtomicClass<AtomicBool, boolean> = make("bool", "AtomicBool");
/** An instance of {@link AtomicBool}. */
export type AtomicBool = AtomicBoolean;

addWaiting(AtomicI32, (v) => typeof v === "number" && (v | 0) === v, "an integer in [-2147483648, 2147483647]");
addWaiting(AtomicU32, (v) => typeof v === "number" && (v >>> 0) === v, "an integer in [0, 4294967295]");

/**
 * Rebuilds an atomic of the right class from its descriptor: the one call a
 * Worker makes after receiving it with `postMessage`.
 *
 * @example
 * ```ts
 * // check-only: it needs worker.ts, the Worker script it starts
 * import { AtomicI32, fromDescriptor } from "./mod.ts";
 * const counter = AtomicI32.create();
 * const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
 * worker.postMessage(counter.descriptor());
 * // worker.ts:
 * // self.onmessage = (e) => { fromDescriptor(e.data).fetchAdd(1); };
 * ```
 */
export function fromDescriptor<A extends AnyAtomic = AnyAtomic>(descriptor: AtomicDescriptor | WideDescriptor): A {
  let d: unknown = descriptor;
  if (d !== null && typeof d === "object") {
    // a plain copy, each field read once: a getter that throws (a Proxy) is reported here
    try {
      const { kind, type, segment, buffer, byteOffset } = d as AtomicDescriptor;
      d = { kind, type, segment, buffer, byteOffset };
    } catch (e) {
      throw argumentError("fromDescriptor", "descriptor", e);
    }
  }
  return rebuild(d) as A;
}

/** Any atomic instance. */
export type AnyAtomic =
  | AtomicI8
  | AtomicU8
  | AtomicI16
  | AtomicU16
  | AtomicI32
  | AtomicU32
  | AtomicI64
  | AtomicU64
  | AtomicF32
  | AtomicF64
  | AtomicBool
  | AtomicI128
  | AtomicU128
  | AtomicBytes
  | AtomicString;

/**
 * Rebuilds an atomic of the right class from its handle string, opening its
 * segment: the one call another process makes with what it got in argv or
 * an environment variable.
 *
 * @example
 * ```ts
 * import { AtomicU64, fromHandle, SharedMemory } from "./mod.ts";
 * const seg = SharedMemory.create(`/handles-${Date.now()}`, 64);
 * const a = new AtomicU64(seg, 8);
 * const h = a.handle(); // "sa1:u64@8:shm:/handles-…?id=…": pass it to a child process
 * fromHandle<AtomicU64>(h).fetchAdd(1n); // in the child
 * seg.close();
 * seg.unlink();
 * ```
 */
export function fromHandle<A extends AnyAtomic = AnyAtomic>(handle: string): A {
  return rebuildHandle(handle) as A;
}
