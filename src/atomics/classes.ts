/**
 * The atomic classes, one per value type, generated from the table.
 *
 * @module
 */

import { defineAtomic } from "./atomic.ts";
import { argumentError, typeError } from "../errors.ts";
import { addWaiting, type AtomicWaitable } from "./wait.ts";
import type { AtomicBytes, AtomicI128, AtomicString, AtomicU128, WideDescriptor } from "../wide/index.ts";
import {
  type AtomicDescriptor,
  isRegisteredClass,
  rebuild,
  type Rebuilder,
  rebuildHandle,
} from "../memory/descriptor.ts";
import type { Primitive } from "../sync/primitive.ts";
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
/** An instance of {@link AtomicI8}: its `type` ("i8") sets it apart from every other class. */
export interface AtomicI8 extends AtomicInteger<number> {
  /** The value type. */
  readonly type: "i8";
}

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
/** An instance of {@link AtomicU8}: its `type` ("u8") sets it apart from every other class. */
export interface AtomicU8 extends AtomicInteger<number> {
  /** The value type. */
  readonly type: "u8";
}

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
/** An instance of {@link AtomicI16}: its `type` ("i16") sets it apart from every other class. */
export interface AtomicI16 extends AtomicInteger<number> {
  /** The value type. */
  readonly type: "i16";
}

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
/** An instance of {@link AtomicU16}: its `type` ("u16") sets it apart from every other class. */
export interface AtomicU16 extends AtomicInteger<number> {
  /** The value type. */
  readonly type: "u16";
}

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
/** An instance of {@link AtomicI32}: its `type` ("i32") sets it apart from every other class. */
export interface AtomicI32 extends AtomicInteger<number>, AtomicWaitable {
  /** The value type. */
  readonly type: "i32";
}

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
/** An instance of {@link AtomicU32}: its `type` ("u32") sets it apart from every other class. */
export interface AtomicU32 extends AtomicInteger<number>, AtomicWaitable {
  /** The value type. */
  readonly type: "u32";
}

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
/** An instance of {@link AtomicI64}: its `type` ("i64") sets it apart from every other class. */
export interface AtomicI64 extends AtomicInteger64 {
  /** The value type. */
  readonly type: "i64";
}

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
/** An instance of {@link AtomicU64}: its `type` ("u64") sets it apart from every other class. */
export interface AtomicU64 extends AtomicInteger64 {
  /** The value type. */
  readonly type: "u64";
}

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
/** An instance of {@link AtomicF32}: its `type` ("f32") sets it apart from every other class. */
export interface AtomicF32 extends AtomicFloat {
  /** The value type. */
  readonly type: "f32";
}

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
/** An instance of {@link AtomicF64}: its `type` ("f64") sets it apart from every other class. */
export interface AtomicF64 extends AtomicFloat {
  /** The value type. */
  readonly type: "f64";
}

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
/** An instance of {@link AtomicBool}: its `type` ("bool") sets it apart from every other class. */
export interface AtomicBool extends AtomicBoolean {
  /** The value type. */
  readonly type: "bool";
}

addWaiting(AtomicI32, (v) => typeof v === "number" && (v | 0) === v, "an integer in [-2147483648, 2147483647]");
addWaiting(AtomicU32, (v) => typeof v === "number" && (v >>> 0) === v, "an integer in [0, 4294967295]");

/**
 * Rebuilds an atomic (or lock) from its descriptor: the one call a Worker
 * makes after receiving it with `postMessage`. Pass the class you expect
 * (`fromDescriptor(d, AtomicU64)`): a descriptor of another type throws a
 * TypeError here instead of failing later, elsewhere. Without it the result
 * is any atomic; its `type` ("u64", …) tells which.
 *
 * @example
 * ```ts
 * // check-only: it needs worker.ts, the Worker script it starts
 * import { AtomicI32, fromDescriptor } from "./mod.ts";
 * const counter = AtomicI32.create();
 * const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
 * worker.postMessage(counter.descriptor());
 * // worker.ts:
 * // self.onmessage = (e) => { fromDescriptor(e.data, AtomicI32).fetchAdd(1); };
 * ```
 */
export function fromDescriptor<C extends RebuildableClass>(
  descriptor: AtomicDescriptor | WideDescriptor,
  cls: C,
): InstanceType<C>;
/** Any atomic; its `type` says which (`if (a.type === "u64") …`). */
export function fromDescriptor(descriptor: AtomicDescriptor | WideDescriptor): AnyAtomic;
/**
 * @deprecated The type argument is not checked at run time (a descriptor of
 * another type gives an object of that other class, typed as `A`): pass the
 * class instead, `fromDescriptor(d, AtomicU64)`.
 */
export function fromDescriptor<A extends AnyAtomic>(descriptor: AtomicDescriptor | WideDescriptor): A;
export function fromDescriptor(descriptor: AtomicDescriptor | WideDescriptor, cls?: RebuildableClass): unknown {
  if (cls !== undefined) return expected("fromDescriptor", cls).from(descriptor);
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
  return rebuild(d);
}

/**
 * A class `fromHandle` and `fromDescriptor` can be told to expect: an atomic
 * class (`AtomicU64`, `AtomicBytes`, …) or a lock class (`Mutex`, …).
 */
export type RebuildableClass = abstract new (...args: never[]) => unknown;

/** Checks that `cls` is one of this package's atomic or lock classes. */
function expected(where: string, cls: unknown): Rebuilder {
  if (!isRegisteredClass(cls)) {
    throw typeError(where, "cls", "an atomic or lock class of shared-atomic (AtomicU64, Mutex, …)", cls);
  }
  return cls;
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
 * Rebuilds an atomic (or lock) from its handle string, opening its segment:
 * the one call another process makes with what it got in argv or an
 * environment variable. Pass the class you expect (`fromHandle(h, AtomicU64)`):
 * a handle of another type throws a TypeError here instead of failing later,
 * elsewhere. Without it the result is any atomic; its `type` tells which.
 *
 * @example
 * ```ts
 * import { AtomicU64, fromHandle, SharedMemory } from "./mod.ts";
 * const seg = SharedMemory.create(`/handles-${Date.now()}`, 64);
 * const a = new AtomicU64(seg, 8);
 * const h = a.handle(); // "sa1:u64@8:shm:/handles-…?id=…": pass it to a child process
 * fromHandle(h, AtomicU64).fetchAdd(1n); // in the child: checked to be a u64
 * seg.close();
 * seg.unlink();
 * ```
 */
export function fromHandle<C extends RebuildableClass>(handle: string, cls: C): InstanceType<C>;
/** Any atomic; its `type` says which (`if (a.type === "u64") …`). */
export function fromHandle(handle: string): AnyAtomic;
/**
 * @deprecated The type argument is not checked at run time (a handle of
 * another type gives an object of that other class, typed as `A`): pass the
 * class instead, `fromHandle(h, AtomicU64)`.
 */
export function fromHandle<A extends AnyAtomic | Primitive>(handle: string): A;
export function fromHandle(handle: string, cls?: RebuildableClass): unknown {
  if (cls !== undefined) return expected("fromHandle", cls).fromHandle(handle);
  return rebuildHandle(handle);
}
