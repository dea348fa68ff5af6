/**
 * `AtomicI128` and `AtomicU128`: 128-bit integers (bigint values), lock-free
 * (`lock cmpxchg16b` on x86_64, LDAXP/STLXP on aarch64). Both classes come
 * from one definition; every method is a closure over its native function,
 * bound on first construction. Values cross the FFI through a per-thread
 * scratch (`wide_native.ts`).
 *
 * @module
 */

import type { NativeFn, Pointer } from "../native/backend.ts";
import { closedPrototype } from "../memory/closed.ts";
import { type Brand, brand } from "../atomics/atomic.ts";
import { rangeError, typeError } from "../errors.ts";
import {
  acceptsType,
  descriptorOf,
  handleOf,
  openDescriptor,
  openHandle,
  registerClass,
} from "../memory/descriptor.ts";
import type { AtomicMemory } from "../memory/region.ts";
import {
  LOAD_ORDERS,
  type LoadOrder,
  type MemoryOrder,
  orderCode,
  RMW_ORDERS,
  STORE_ORDERS,
  type StoreOrder,
} from "../atomics/order.ts";
import { checkOpen, type SharedMemory } from "../memory/shared_memory.ts";
import { codec128, place, requireLockFree, scratch, type WideDescriptor, wideSymbols } from "./native.ts";

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
export interface AtomicInteger128 {
  /** The memory the value lives in (kept alive as long as the atomic is). */
  readonly memory: SharedArrayBuffer | SharedMemory;
  /** The value's byte offset within `memory` (absolute, even if built from a view); a multiple of 16. */
  readonly byteOffset: number;
  /** Reads the value (a 16-byte compare-exchange: the only lock-free 16-byte read on x86_64). */
  load(order?: LoadOrder): bigint;
  /** Writes the value. */
  store(value: bigint, order?: StoreOrder): void;
  /** Writes `value`, returns the previous value. */
  exchange(value: bigint, order?: MemoryOrder): bigint;
  /** Writes `desired` if the value is `expected`; returns the previous value (you won iff it equals `expected`). */
  compareExchange(expected: bigint, desired: bigint, order?: MemoryOrder): bigint;
  /** Like `compareExchange`, but returns whether it wrote. */
  compareAndSet(expected: bigint, desired: bigint, order?: MemoryOrder): boolean;
  /** Replaces the value with `fn(current)` in a compare-exchange loop (`fn` may run more than once); returns the value written. */
  update(fn: (current: bigint) => bigint, order?: MemoryOrder): bigint;
  /** Adds, returns the old value. */
  fetchAdd(value: bigint, order?: MemoryOrder): bigint;
  /** Subtracts, returns the old value. */
  fetchSub(value: bigint, order?: MemoryOrder): bigint;
  /** Bitwise and, returns the old value. */
  fetchAnd(value: bigint, order?: MemoryOrder): bigint;
  /** Bitwise or, returns the old value. */
  fetchOr(value: bigint, order?: MemoryOrder): bigint;
  /** Bitwise xor, returns the old value. */
  fetchXor(value: bigint, order?: MemoryOrder): bigint;
  /** Bitwise nand (`~(old & value)`), returns the old value. */
  fetchNand(value: bigint, order?: MemoryOrder): bigint;
  /** Stores the larger, returns the old value. */
  fetchMax(value: bigint, order?: MemoryOrder): bigint;
  /** Stores the smaller, returns the old value. */
  fetchMin(value: bigint, order?: MemoryOrder): bigint;
  /** Adds, returns the new value. */
  addFetch(value: bigint, order?: MemoryOrder): bigint;
  /** Subtracts, returns the new value. */
  subFetch(value: bigint, order?: MemoryOrder): bigint;
  /** Bitwise and, returns the new value. */
  andFetch(value: bigint, order?: MemoryOrder): bigint;
  /** Bitwise or, returns the new value. */
  orFetch(value: bigint, order?: MemoryOrder): bigint;
  /** Bitwise xor, returns the new value. */
  xorFetch(value: bigint, order?: MemoryOrder): bigint;
  /** Bitwise nand, returns the new value. */
  nandFetch(value: bigint, order?: MemoryOrder): bigint;
  /** Stores the larger, returns the new value. */
  maxFetch(value: bigint, order?: MemoryOrder): bigint;
  /** Stores the smaller, returns the new value. */
  minFetch(value: bigint, order?: MemoryOrder): bigint;
  /** The descriptor to send this atomic to a Worker. */
  descriptor(): WideDescriptor;
  /** A string naming this atomic for another process, e.g. `"sa1:u128@16:shm:/name"` (only in a `SharedMemory`). */
  handle(): string;
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
  /** Rebuilds an atomic from its descriptor (e.g. in a Worker). */
  from(descriptor: WideDescriptor): A;
  /** Rebuilds an atomic from its handle string (e.g. in another process), opening the segment. */
  fromHandle(handle: string): A;
}

type Method = (this: { ptr: Pointer }, ...args: unknown[]) => unknown;

const RMW = ["add", "sub", "and", "or", "xor", "nand", "max", "min"];
const cap = (s: string): string => s[0].toUpperCase() + s.slice(1);

/** Every method name, for the closed-segment prototype. */
const METHODS: readonly string[] = [
  "load",
  "store",
  "exchange",
  "compareExchange",
  "compareAndSet",
  "update",
  ...RMW.flatMap((r) => [`fetch${cap(r)}`, `${r}Fetch`]),
  "descriptor",
  "handle",
  "toString",
];

/** What a compiled method closes over. */
interface Env {
  readonly n: Record<string, NativeFn>;
  readonly p0: Pointer;
  readonly p1: Pointer;
  /** Checks a value and writes it to the scratch at byte `k`; false (nothing written) if not allowed. */
  readonly put: (v: unknown, k: number) => boolean;
  readonly get: (k: number) => bigint;
  readonly fail: (v: unknown, where: string, param: string) => Error;
  readonly code: typeof orderCode;
  readonly brand: Brand;
}

/**
 * Compiles one method of a 128-bit class around export `sa_<type>_<op>`.
 * Each (type, operation) gets its own function body, named after its
 * export: a body shared by several would see several native functions at
 * one call site, which both JITs stop optimising (Bun's profile is per
 * function; Deno's fast FFI path needs a known target).
 */
function compile(type: string, op: string, where: string, env: Env): Method {
  // the value check and the write to the scratch are one step; the scratch
  // is not shared memory, so a later throw (a bad order) leaves nothing behind
  const put = (a: string, k: number, param: string) => `if (!put(${a}, ${k})) throw fail(${a}, where, "${param}");`;
  let args: string, body: string;
  const call = (f: string, extra: string, slots: string) => `${f}(this.ptr, ${slots}${extra})`;
  const both = (slots: string, pre: string, post: string) =>
    `if (order === undefined) {
      ${pre}${call("f", "", slots)}${post}
    } else {
      const c = code(order, allowed, where);
      ${pre}${call("fx", ", c", slots)}${post}
    }`;
  let allowed = RMW_ORDERS;
  let native = op;
  switch (op) {
    case "load":
      allowed = LOAD_ORDERS;
      args = "order";
      body = `${both("p0", "", ";")}
      return get(0);`;
      break;
    case "store":
      allowed = STORE_ORDERS;
      args = "v, order";
      body = `${put("v", 0, "value")}
      ${both("p0", "", ";")}`;
      break;
    case "compare_exchange":
    case "compare_and_set":
      native = "compare_exchange";
      args = "e, d, order";
      body = `${put("e", 0, "expected")}
      ${put("d", 16, "desired")}
      let won;
      ${both("p0, p1", "won = ", ";")}
      return ${op === "compare_and_set" ? "won" : "won ? e : get(0)"};`;
      break;
    default:
      args = "v, order";
      body = `${put("v", 0, "value")}
      ${both("p0", "", ";")}
      return get(0);`;
  }
  const symbol = `sa_${type}_${op}`;
  const make = new Function(
    "is",
    "notThis",
    "f",
    "fx",
    "p0",
    "p1",
    "put",
    "get",
    "fail",
    "code",
    "allowed",
    "where",
    // the brand check first: never a pointer from anything but an instance of this class
    `"use strict";
    return function ${symbol}(${args}) {
      if (!is(this)) throw notThis(this, where);
      ${body}
    };`,
  );
  return make(
    env.brand.is,
    env.brand.notThis,
    env.n[native],
    env.n[`${native}_explicit`],
    env.p0,
    env.p1,
    env.put,
    env.get,
    env.fail,
    env.code,
    allowed,
    where,
  );
}

function defineInt128(type: "i128" | "u128", name: string): unknown {
  const signed = type === "i128";
  const lo = signed ? -(1n << 127n) : 0n;
  const hi = signed ? (1n << 127n) - 1n : (1n << 128n) - 1n;
  const allowed = `an integer in [${lo}, ${hi}] (${signed ? "-2^127 to 2^127-1" : "0 to 2^128-1"})`;
  const ok = (v: unknown): v is bigint => typeof v === "bigint" && v >= lo && v <= hi;
  const fail = (v: unknown, where: string, param: string): Error =>
    typeof v !== "bigint" ? typeError(where, param, `a bigint: ${allowed}`, v) : rangeError(where, param, allowed, v);
  let bound = false;
  const accepted = acceptsType(type);

  let is: (o: unknown) => boolean = () => false;

  class Int128 {
    readonly memory: SharedArrayBuffer | SharedMemory;
    readonly byteOffset: number;
    // non-writable (defined in the constructor): a method never uses a pointer it did not make
    declare readonly ptr: Pointer;
    /** The brand: only instances made by this constructor have it. */
    #int128 = true;
    static readonly BYTES: 16 = 16;
    static readonly type: "i128" | "u128" = type;

    static {
      is = (o) => typeof o === "object" && o !== null && #int128 in o;
    }

    constructor(memory: unknown, byteOffset?: unknown) {
      const where = `new ${name}`;
      requireLockFree(where, 16);
      const p = place(where, memory, byteOffset, 16);
      if (!bound) bind();
      this.memory = p.memory;
      this.byteOffset = p.byteOffset;
      Object.defineProperty(this, "ptr", { value: p.ptr, enumerable: true });
      p.track?.(this, closed);
    }

    static create(initial?: unknown): Int128 {
      if (initial !== undefined && !ok(initial)) throw fail(initial, `${name}.create`, "initial");
      const a = new Int128(new SharedArrayBuffer(16));
      if (initial !== undefined) (a as unknown as AtomicInteger128).store(initial as bigint);
      return a;
    }

    static from(d: WideDescriptor): Int128 {
      const r = openDescriptor(`${name}.from`, d, accepted);
      return new Int128(r.memory, r.byteOffset);
    }

    static fromHandle(handle: string): Int128 {
      const r = openHandle(`${name}.fromHandle`, handle, accepted);
      return new Int128(r.memory, r.byteOffset);
    }

    descriptor(): WideDescriptor {
      return descriptorOf(type, this.memory, this.byteOffset);
    }

    handle(): string {
      return handleOf(`${name}.handle`, type, this.memory, this.byteOffset);
    }

    toString(): string {
      return `${name}(${(this as unknown as AtomicInteger128).load()})`;
    }
  }
  Object.defineProperty(Int128, "name", { value: name });
  const closed = closedPrototype(Int128.prototype, name, METHODS);
  const b = brand(name, is); // set by the static block above

  // The native functions are opened on first construction; each method is
  // compiled on its own (see `compile`), with its value check inlined.
  function bind(): void {
    const n = wideSymbols(type);
    const [p0, p1] = scratch();
    const proto = Int128.prototype as unknown as Record<string, Method>;
    const c = codec128();
    const env: Env = {
      n,
      p0,
      p1,
      put: signed ? c.putI : c.putU,
      get: signed ? c.getI : c.getU,
      fail,
      code: orderCode,
      brand: b,
    };
    proto.load = compile(type, "load", `${name}.load`, env);
    proto.store = compile(type, "store", `${name}.store`, env);
    proto.exchange = compile(type, "exchange", `${name}.exchange`, env);
    for (const r of RMW) {
      proto[`fetch${cap(r)}`] = compile(type, `fetch_${r}`, `${name}.fetch${cap(r)}`, env);
      proto[`${r}Fetch`] = compile(type, `${r}_fetch`, `${name}.${r}Fetch`, env);
    }
    proto.compareExchange = compile(type, "compare_exchange", `${name}.compareExchange`, env);
    proto.compareAndSet = compile(type, "compare_and_set", `${name}.compareAndSet`, env);

    proto.update = function (fn, order) {
      const where = `${name}.update`;
      if (!b.is(this)) throw b.notThis(this, where);
      if (typeof fn !== "function") throw typeError(where, "fn", "a function (current) => next", fn);
      if (order !== undefined) orderCode(order, RMW_ORDERS, where);
      const self = this as unknown as AtomicInteger128;
      let cur = self.load();
      for (;;) {
        const next = fn(cur);
        checkOpen(self.memory, where); // fn may have closed the segment
        if (!ok(next)) throw fail(next, where, "fn's result");
        // through this type's own compiled compareExchange: one FFI target per call site
        const prev = self.compareExchange(cur, next, order as MemoryOrder | undefined);
        if (prev === cur) return next;
        cur = prev;
      }
    };
    bound = true;
  }

  registerClass(type, Int128 as unknown as Parameters<typeof registerClass>[1]);
  return Int128;
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
/** An instance of {@link AtomicI128}. */
export type AtomicI128 = AtomicInteger128;

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
/** An instance of {@link AtomicU128}. */
export type AtomicU128 = AtomicInteger128;
