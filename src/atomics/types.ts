/**
 * The public shape of the atomics, documented once and shared by every
 * value type (the way `portable-atomic` documents its generated methods).
 *
 * @module
 */

import type { AtomicMemory } from "../memory/region.ts";
import type { LoadOrder, MemoryOrder, StoreOrder } from "./order.ts";
import type { TypeName } from "../native/abi.ts";
import type { SharedMemory } from "../memory/shared_memory.ts";
import type { AtomicDescriptor } from "../memory/descriptor.ts";

/**
 * What every atomic has: load, store, exchange, compare-exchange, update.
 *
 * @example
 * ```ts
 * import { AtomicF64 } from "./mod.ts";
 * const a = AtomicF64.create(1.5);
 * a.exchange(2.5); // 1.5
 * a.compareAndSet(2.5, 3); // true
 * ```
 */
export interface AtomicBase<V> {
  /** The memory the value lives in (kept alive as long as the atomic is). */
  readonly memory: SharedArrayBuffer | SharedMemory;
  /** The value's byte offset within `memory` (absolute, even if built from a view). */
  readonly byteOffset: number;
  /** Reads the value. */
  load(order?: LoadOrder): V;
  /** Writes the value. */
  store(value: V, order?: StoreOrder): void;
  /** Writes `value`, returns the previous value. */
  exchange(value: V, order?: MemoryOrder): V;
  /**
   * Writes `desired` if the value is `expected`; returns the previous value
   * either way, so the caller won exactly when it is `Object.is`-equal to
   * `expected`. "Is" compares what `load()` would return: integers exactly;
   * floats bit for bit (`-0` is not `0`), except that a NaN `expected`
   * matches any NaN stored (JavaScript cannot see a NaN's bits, so the NaN a
   * `load()` returned always matches); for a bool, `true` matches any
   * non-zero byte (see `AtomicBool`), and `desired` is stored as 0 or 1.
   *
   * @example
   * ```ts
   * import { AtomicF64 } from "./mod.ts";
   * const a = AtomicF64.create(Infinity);
   * a.fetchAdd(-Infinity); // Infinity; now the NaN the hardware made
   * a.compareExchange(NaN, 1); // NaN: it matched, 1 is stored
   * a.compareExchange(-0, 2); // 1: no match
   * ```
   */
  compareExchange(expected: V, desired: V, order?: MemoryOrder): V;
  /** Like `compareExchange` (same matching), but returns whether it wrote. */
  compareAndSet(expected: V, desired: V, order?: MemoryOrder): boolean;
  /**
   * Replaces the value with `fn(current)` in a compare-exchange loop (`fn`
   * may run more than once under contention); returns the value written, as
   * a `load()` would now return it (`AtomicF32`: rounded to float32). The
   * loop ends whatever is stored (a NaN, a bool byte other than 0/1). If
   * `fn` throws, its error propagates unchanged and nothing is written.
   *
   * @example
   * ```ts
   * import { AtomicF32 } from "./mod.ts";
   * AtomicF32.create().update(() => 0.1); // 0.10000000149011612, what is stored
   * ```
   */
  update(fn: (current: V) => V, order?: MemoryOrder): V;
  /** The descriptor to send this atomic to a Worker. */
  descriptor(): AtomicDescriptor;
  /**
   * A short string naming this atomic for another process (argv, an
   * environment variable): `"sa1:u64@16:shm:/name"`. Only for atomics in a
   * `SharedMemory`; rebuild with `fromHandle`.
   */
  handle(): string;
}

/**
 * Add, subtract, max and min, in both return forms: `fetchX` returns the
 * old value, `xFetch` the new one. Integers wrap (two's complement); float
 * max/min are IEEE 754-2019 maximumNumber/minimumNumber (a NaN operand is
 * ignored, -0 < +0).
 *
 * @example
 * ```ts
 * import { AtomicI32 } from "./mod.ts";
 * const a = AtomicI32.create(10);
 * a.fetchAdd(5); // 10
 * a.subFetch(3); // 12
 * a.fetchMax(100); // 12, now 100
 * ```
 */
export interface AtomicArithmetic<V> {
  /** Adds, returns the old value. */
  fetchAdd(value: V, order?: MemoryOrder): V;
  /** Subtracts, returns the old value. */
  fetchSub(value: V, order?: MemoryOrder): V;
  /** Stores the larger, returns the old value. */
  fetchMax(value: V, order?: MemoryOrder): V;
  /** Stores the smaller, returns the old value. */
  fetchMin(value: V, order?: MemoryOrder): V;
  /** Adds, returns the new value. */
  addFetch(value: V, order?: MemoryOrder): V;
  /** Subtracts, returns the new value. */
  subFetch(value: V, order?: MemoryOrder): V;
  /** Stores the larger, returns the new value. */
  maxFetch(value: V, order?: MemoryOrder): V;
  /** Stores the smaller, returns the new value. */
  minFetch(value: V, order?: MemoryOrder): V;
}

/**
 * And, or, xor and nand (`~(old & value)`), in both return forms.
 *
 * @example
 * ```ts
 * import { AtomicU8 } from "./mod.ts";
 * const flags = AtomicU8.create(0b0001);
 * flags.fetchOr(0b0100); // 1
 * flags.andFetch(0b0100); // 4
 * ```
 */
export interface AtomicBitwise<V> {
  /** Bitwise and, returns the old value. */
  fetchAnd(value: V, order?: MemoryOrder): V;
  /** Bitwise or, returns the old value. */
  fetchOr(value: V, order?: MemoryOrder): V;
  /** Bitwise xor, returns the old value. */
  fetchXor(value: V, order?: MemoryOrder): V;
  /** Bitwise nand, returns the old value. */
  fetchNand(value: V, order?: MemoryOrder): V;
  /** Bitwise and, returns the new value. */
  andFetch(value: V, order?: MemoryOrder): V;
  /** Bitwise or, returns the new value. */
  orFetch(value: V, order?: MemoryOrder): V;
  /** Bitwise xor, returns the new value. */
  xorFetch(value: V, order?: MemoryOrder): V;
  /** Bitwise nand, returns the new value. */
  nandFetch(value: V, order?: MemoryOrder): V;
}

/**
 * An atomic integer of up to 32 bits (values are numbers) or, with `bigint`,
 * of 64 bits.
 *
 * @example
 * ```ts
 * import { AtomicU16 } from "./mod.ts";
 * const a = AtomicU16.create(65535);
 * a.addFetch(1); // 0: wraps
 * ```
 */
export interface AtomicInteger<V> extends AtomicBase<V>, AtomicArithmetic<V>, AtomicBitwise<V> {}

/**
 * An atomic float: load, store, exchange, compare-exchange, add, sub, max, min.
 *
 * @example
 * ```ts
 * import { AtomicF64 } from "./mod.ts";
 * const a = AtomicF64.create();
 * a.fetchAdd(0.5); // 0
 * a.maxFetch(-1); // 0.5
 * ```
 */
export interface AtomicFloat extends AtomicBase<number>, AtomicArithmetic<number> {}

/**
 * An atomic boolean: load, store, exchange, compare-exchange, and, or, xor, nand.
 * Stored as one byte: every operation writes 0 or 1 and reads any non-zero
 * byte (written by an `AtomicU8` or by C) as `true`, like C's `_Bool`
 * conversion; and/or/xor/nand combine truth values, never bits.
 *
 * @example
 * ```ts
 * import { AtomicBool } from "./mod.ts";
 * const flag = AtomicBool.create(false);
 * flag.compareAndSet(false, true); // true: this caller won
 * ```
 */
export interface AtomicBoolean extends AtomicBase<boolean>, AtomicBitwise<boolean> {}

/**
 * The number path of a 64-bit atomic: pass a (safe integer) number instead
 * of a bigint and get a number back, on each runtime's fast FFI path. The
 * memory is always exact; a result beyond ±2^53 comes back rounded to the
 * nearest double (as `Number(bigint)` would): use the bigint form there.
 *
 * @example
 * ```ts
 * import { AtomicU64 } from "./mod.ts";
 * const hits = AtomicU64.create();
 * hits.fetchAdd(1); // 0 (a number)
 * hits.loadNumber(); // 1
 * hits.load(); // 1n
 * ```
 */
export interface AtomicNumberPath {
  /** Reads the value as a number. */
  loadNumber(order?: LoadOrder): number;
  /** Writes a number. */
  store(value: number, order?: StoreOrder): void;
  /** Writes a number, returns the previous value as a number. */
  exchange(value: number, order?: MemoryOrder): number;
  /** Compare-exchange with numbers; returns the previous value. */
  compareExchange(expected: number, desired: number, order?: MemoryOrder): number;
  /** Compare-exchange with numbers; returns whether it wrote. */
  compareAndSet(expected: number, desired: number, order?: MemoryOrder): boolean;
  /** Adds, returns the old value. */
  fetchAdd(value: number, order?: MemoryOrder): number;
  /** Subtracts, returns the old value. */
  fetchSub(value: number, order?: MemoryOrder): number;
  /** Stores the larger, returns the old value. */
  fetchMax(value: number, order?: MemoryOrder): number;
  /** Stores the smaller, returns the old value. */
  fetchMin(value: number, order?: MemoryOrder): number;
  /** Adds, returns the new value. */
  addFetch(value: number, order?: MemoryOrder): number;
  /** Subtracts, returns the new value. */
  subFetch(value: number, order?: MemoryOrder): number;
  /** Stores the larger, returns the new value. */
  maxFetch(value: number, order?: MemoryOrder): number;
  /** Stores the smaller, returns the new value. */
  minFetch(value: number, order?: MemoryOrder): number;
  /** Bitwise and, returns the old value. */
  fetchAnd(value: number, order?: MemoryOrder): number;
  /** Bitwise or, returns the old value. */
  fetchOr(value: number, order?: MemoryOrder): number;
  /** Bitwise xor, returns the old value. */
  fetchXor(value: number, order?: MemoryOrder): number;
  /** Bitwise nand, returns the old value. */
  fetchNand(value: number, order?: MemoryOrder): number;
  /** Bitwise and, returns the new value. */
  andFetch(value: number, order?: MemoryOrder): number;
  /** Bitwise or, returns the new value. */
  orFetch(value: number, order?: MemoryOrder): number;
  /** Bitwise xor, returns the new value. */
  xorFetch(value: number, order?: MemoryOrder): number;
  /** Bitwise nand, returns the new value. */
  nandFetch(value: number, order?: MemoryOrder): number;
}

/**
 * A 64-bit atomic integer: bigint methods over the full range, and the same
 * methods with numbers for values within ±2^53 (see {@link AtomicNumberPath}).
 *
 * @example
 * ```ts
 * import { AtomicI64 } from "./mod.ts";
 * const a = AtomicI64.create(-(2n ** 63n));
 * a.fetchSub(1n); // -9223372036854775808n, now 2^63-1
 * a.store(42);
 * a.addFetch(1); // 43
 * ```
 */
export type AtomicInteger64 = AtomicInteger<bigint> & AtomicNumberPath;

/**
 * The static side of every atomic class.
 *
 * @example
 * ```ts
 * import { AtomicI32 } from "./mod.ts";
 * const sab = new SharedArrayBuffer(AtomicI32.BYTES * 4);
 * const third = new AtomicI32(sab, 2 * AtomicI32.BYTES);
 * const fresh = AtomicI32.create(7); // its own 4-byte SharedArrayBuffer
 * ```
 */
export interface AtomicClass<A, V> {
  /** An atomic over `memory` at `byteOffset` (default 0), checked for bounds and alignment. */
  new (memory: AtomicMemory, byteOffset?: number): A;
  /** Width, and required alignment, in bytes. */
  readonly BYTES: number;
  /** The value type's name, e.g. "i32". */
  readonly type: TypeName;
  /** A fresh atomic in its own SharedArrayBuffer, holding `initial` (default zero/false). */
  create(initial?: V): A;
  /** Rebuilds an atomic from its descriptor (e.g. in a Worker), or from its handle string (like `fromHandle`). */
  from(descriptor: AtomicDescriptor | string): A;
  /** Rebuilds an atomic from its handle string (e.g. in another process), opening the segment. */
  fromHandle(handle: string): A;
}
