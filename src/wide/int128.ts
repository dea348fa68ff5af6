/**
 * `AtomicI128` and `AtomicU128`: 128-bit integers (bigint values), lock-free
 * (`lock cmpxchg16b` on x86_64, LDAXP/STLXP on aarch64). Both classes come
 * from one definition; their methods are compiled from the wide table (see
 * `atomics/method.ts`) on first construction. Values cross the FFI through a
 * per-thread scratch (`native.ts`).
 *
 * @module
 */

import type { NativeFn, Pointer } from "../native/backend.ts";
import { type Brand, compileMethod, type Method, orderedCall, ordersOf, valueParams } from "../atomics/method.ts";
import type { AtomicInteger } from "../atomics/types.ts";
import { defineValueClass } from "../atomics/value_class.ts";
import { rangeError, typeError } from "../errors.ts";
import type { AtomicMemory } from "../memory/region.ts";
import { type LoadOrder, type MemoryOrder, orderCode, RMW_ORDERS } from "../atomics/order.ts";
import { checkOpen } from "../memory/shared_memory.ts";
import { codec128, requireLockFree, scratch, type WideDescriptor, wideMethods, wideSymbols } from "./native.ts";

/**
 * A 128-bit atomic integer: every operation of the 64-bit ones, on bigints
 * over the full 128-bit range (integers wrap, two's complement).
 *
 * @example
 * ```ts
 * import { AtomicU128 } from "./mod.ts";
 * const a = AtomicU128.create(2n ** 64n - 1n);
 * a.addFetch(1n); // 18446744073709551616n: the carry crosses the 64-bit halves
 * a.compareAndSet(2n ** 64n, 0n); // true
 * ```
 */
export interface AtomicInteger128 extends AtomicInteger<bigint> {
  /** The value's byte offset within `memory` (absolute, even if built from a view); a multiple of 16. */
  readonly byteOffset: number;
  /** Reads the value (a 16-byte compare-exchange: the only lock-free 16-byte read on x86_64). */
  load(order?: LoadOrder): bigint;
  /** The descriptor to send this atomic to a Worker. */
  descriptor(): WideDescriptor;
}

/**
 * The static side of `AtomicI128` and `AtomicU128`.
 *
 * @example
 * ```ts
 * import { AtomicI128 } from "./mod.ts";
 * const sab = new SharedArrayBuffer(AtomicI128.BYTES * 2);
 * const second = new AtomicI128(sab, 16); // 16-byte alignment required
 * second.store(-(2n ** 127n));
 * ```
 */
export interface AtomicInteger128Class<A> {
  /**
   * An atomic over `memory` at `byteOffset` (default 0), checked for bounds
   * and 16-byte alignment. Throws `AtomicUnavailableError` where 16-byte
   * atomics are not lock-free.
   */
  new (memory: AtomicMemory, byteOffset?: number): A;
  /** Width, and required alignment, in bytes: 16. */
  readonly BYTES: 16;
  /** The value type's name: "i128" or "u128". */
  readonly type: "i128" | "u128";
  /** A fresh atomic in its own 16-byte SharedArrayBuffer, holding `initial` (default 0n). */
  create(initial?: bigint): A;
  /** Rebuilds an atomic from its descriptor (e.g. in a Worker), or from its handle string. */
  from(descriptor: WideDescriptor | string): A;
  /** Rebuilds an atomic from its handle string (e.g. in another process), opening the segment. */
  fromHandle(handle: string): A;
}

/** What a compiled method of a 128-bit class closes over. */
interface Scratch128 {
  /** The exports of its type, by operation. */
  readonly natives: Record<string, NativeFn>;
  /** The scratch slots (byte 0 and 16). */
  readonly p0: Pointer;
  readonly p1: Pointer;
  /** Checks a value and writes it to the scratch at byte `k`; false (nothing written) if not allowed. */
  readonly put: (v: unknown, k: number) => boolean;
  readonly get: (k: number) => bigint;
  readonly fail: (v: unknown, where: string, param: string) => Error;
}

/**
 * Compiles the method of a 128-bit class around export `sa_<type>_<op>`
 * (see `compileMethod`); `compare_and_set` is compare_exchange's, returning
 * whether it won.
 */
function compileInt128(type: string, op: string, shape: string, where: string, b: Brand, s: Scratch128): Method {
  // the value check and the write to the scratch are one step; the scratch
  // is not shared memory, so a later throw (a bad order) leaves nothing behind
  const { params, names } = valueParams(shape);
  const puts = params.map((a, j) => `if (!put(${a}, ${16 * j})) throw fail(${a}, where, "${names[j]}");`);
  const call = orderedCall("native", "explicit", ["this.ptr", ...(params.length === 2 ? ["p0", "p1"] : ["p0"])]);
  const result = shape === "store"
    ? `${call};`
    : op === "compare_and_set"
    ? `return ${call};`
    : shape === "cmpxchg"
    ? `const won = ${call};\nreturn won ? e : get(0);`
    : `${call};\nreturn get(0);`;
  const native = op === "compare_and_set" ? "compare_exchange" : op;
  return compileMethod({
    name: `sa_${type}_${op}`,
    params: [...params, "order"],
    body: `${puts.join("\n")}\n${result}`,
    values: { ...s, native: s.natives[native], explicit: s.natives[`${native}_explicit`], allowed: ordersOf(shape) },
    where,
    brand: b,
  });
}

/** The methods every wide class has besides the table's operations. */
const DERIVED = ["compareAndSet", "update", "descriptor", "handle", "toString"];

/** Opens the exports of `type` and compiles the methods of its class onto `proto`, from the wide table. */
function bindInt128(
  type: "i128" | "u128",
  name: string,
  proto: Record<string, Method>,
  range: Range128,
  b: Brand,
): void {
  const c = codec128();
  const [p0, p1] = scratch();
  const signed = type === "i128";
  const s: Scratch128 = {
    natives: wideSymbols(type),
    p0,
    p1,
    put: signed ? c.putI : c.putU,
    get: signed ? c.getI : c.getU,
    fail: range.fail,
  };
  for (const { op, method } of wideMethods("int")) {
    proto[method] = compileInt128(type, op.name, op.shape, `${name}.${method}`, b, s);
  }
  proto.compareAndSet = compileInt128(type, "compare_and_set", "cas", `${name}.compareAndSet`, b, s);
  proto.update = update128(name, range, b);
}

/** The values of a 128-bit type: the check, and the error for a value outside it. */
interface Range128 {
  readonly ok: (v: unknown) => v is bigint;
  readonly fail: (v: unknown, where: string, param: string) => Error;
}

function int128Range(type: "i128" | "u128"): Range128 {
  const signed = type === "i128";
  const lo = signed ? -(1n << 127n) : 0n;
  const hi = signed ? (1n << 127n) - 1n : (1n << 128n) - 1n;
  const allowed = `an integer in [${lo}, ${hi}] (${signed ? "-2^127 to 2^127-1" : "0 to 2^128-1"})`;
  return {
    ok: (v: unknown): v is bigint => typeof v === "bigint" && v >= lo && v <= hi,
    fail: (v, where, param) =>
      typeof v !== "bigint" ? typeError(where, param, `a bigint: ${allowed}`, v) : rangeError(where, param, allowed, v),
  };
}

/** `update`: a compare-exchange loop through the class's own compiled compareExchange. */
function update128(name: string, range: Range128, b: Brand): Method {
  const where = `${name}.update`;
  return function (this: AtomicInteger128, fn: (current: bigint) => unknown, order?: MemoryOrder) {
    if (!b.is(this)) throw b.notThis(this, where);
    if (typeof fn !== "function") throw typeError(where, "fn", "a function (current) => next", fn);
    if (order !== undefined) orderCode(order, RMW_ORDERS, where);
    let cur = this.load();
    for (;;) {
      const next = fn(cur);
      checkOpen(this.memory, where); // fn may have closed the segment
      if (!range.ok(next)) throw range.fail(next, where, "fn's result");
      // through this type's own compiled compareExchange: one FFI target per call site
      const prev = this.compareExchange(cur, next, order);
      if (prev === cur) return next;
      cur = prev;
    }
  };
}

function defineInt128(type: "i128" | "u128", name: string): unknown {
  const range = int128Range(type);
  return defineValueClass({
    name,
    type,
    bytes: 16,
    available: (where) => requireLockFree(where, 16),
    bind: (proto, b) => bindInt128(type, name, proto, range, b),
    checkInitial: (initial, where) => {
      if (!range.ok(initial)) throw range.fail(initial, where, "initial");
    },
    methods: [...wideMethods("int").map((m) => m.method), ...DERIVED],
  }).cls;
}

/**
 * An atomic 128-bit signed integer, values in [-2^127, 2^127-1] (bigints),
 * lock-free. 16 bytes, 16-byte aligned; the layout is plain two's complement,
 * little-endian (a `BigInt64Array` sees the low half at index 0).
 *
 * @example
 * ```ts
 * import { AtomicI128 } from "./mod.ts";
 * const a = AtomicI128.create(-(2n ** 127n));
 * a.subFetch(1n); // 170141183460469231731687303715884105727n: wraps to 2^127-1
 * a.fetchMin(-1n); // 2^127-1, now -1n
 * ```
 */
export const AtomicI128: AtomicInteger128Class<AtomicI128> = defineInt128(
  "i128",
  "AtomicI128",
) as AtomicInteger128Class<AtomicI128>;
/** An instance of {@link AtomicI128}: its `type` ("i128") sets it apart from every other class. */
export interface AtomicI128 extends AtomicInteger128 {
  /** The value type. */
  readonly type: "i128";
}

/**
 * An atomic 128-bit unsigned integer, values in [0, 2^128-1] (bigints),
 * lock-free. 16 bytes, 16-byte aligned; the layout is plain little-endian (a
 * `BigUint64Array` sees the low half at index 0, the high half at 1).
 *
 * @example
 * ```ts
 * import { AtomicU128 } from "./mod.ts";
 * const sab = new SharedArrayBuffer(32);
 * const ids = new AtomicU128(sab, 16);
 * ids.store(2n ** 128n - 1n);
 * ids.fetchAdd(1n); // 340282366920938463463374607431768211455n, now 0n
 * ```
 */
export const AtomicU128: AtomicInteger128Class<AtomicU128> = defineInt128(
  "u128",
  "AtomicU128",
) as AtomicInteger128Class<AtomicU128>;
/** An instance of {@link AtomicU128}: its `type` ("u128") sets it apart from every other class. */
export interface AtomicU128 extends AtomicInteger128 {
  /** The value type. */
  readonly type: "u128";
}
