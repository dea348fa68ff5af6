/**
 * Builds an atomic class for one value type from the table: every method is
 * a closure over its native function, so a call is one checked FFI call on a
 * pointer computed at construction.
 *
 * @module
 */

import { backend, type NativeFn, type Pointer } from "../native/backend.ts";
import { argumentError, describe, typeError } from "../errors.ts";
import { region } from "../memory/region.ts";
import { typeSymbols } from "../native/library.ts";
import { closedPrototype } from "../memory/closed.ts";
import { SharedMemory } from "../memory/shared_memory.ts";
import { LOAD_ORDERS, orderCode, RMW_ORDERS, STORE_ORDERS } from "./order.ts";
import { OPS, type Shape, type TypeInfo } from "../native/abi.ts";
import {
  acceptsType,
  type AtomicDescriptor,
  descriptorOf,
  handleOf,
  openDescriptor,
  openHandle,
} from "../memory/descriptor.ts";
import { numberCheck, type ValueCheck, valueCheck } from "./values.ts";

/** What every generated instance holds. */
interface Instance {
  readonly memory: SharedArrayBuffer | SharedMemory;
  readonly byteOffset: number;
  readonly ptr: Pointer;
}

type Method = (this: Instance, ...args: unknown[]) => unknown;

const ORDERS: Record<Shape, readonly string[]> = {
  load: LOAD_ORDERS,
  store: STORE_ORDERS,
  rmw: RMW_ORDERS,
  cmpxchg: RMW_ORDERS,
  cas: RMW_ORDERS,
  cas_weak: RMW_ORDERS,
};

/** Whether a value is an instance of one class, and the error when it is not. */
export interface Brand {
  readonly is: (o: unknown) => boolean;
  readonly notThis: (o: unknown, where: string) => TypeError;
}

/** The Brand of a class named `name` whose instances `is` recognises. */
export function brand(name: string, is: (o: unknown) => boolean): Brand {
  return {
    is,
    notThis: (o, where) =>
      new TypeError(`${where}: this must be an ${name} (call the method on one); got ${describe(o)}`),
  };
}

const brands = new Map<unknown, Brand>();

/** The Brand of an atomic class made by `defineAtomic` (for methods added elsewhere, like wait). */
export function brandOf(cls: unknown): Brand {
  const b = brands.get(cls);
  if (b === undefined) throw new Error(`shared-atomic: ${String((cls as { name?: string })?.name)} has no brand`);
  return b;
}

/**
 * One way through a method: the seq_cst export, the `_explicit` one, the
 * value check, and whether checked numbers get `+ 0` (turns -0 into 0: Deno's
 * FFI refuses -0 for its integer types).
 */
interface Path {
  readonly f: NativeFn;
  readonly fx: NativeFn;
  readonly check: ValueCheck;
  readonly plusZero?: boolean;
}

/**
 * Compiles one method. Each (type, operation) gets its own function body
 * (named after its export), with its value check inlined: a body shared by
 * every type would see many native functions at one call site, which Bun's
 * JIT stops optimising (measured 11.8 → 3.4 ns for i32 fetchAdd). With two
 * paths (64-bit: bigint, then number), the first argument's type picks one.
 */
function compile(
  symbol: string,
  shape: Shape,
  where: string,
  brand: Brand,
  paths: readonly Path[],
  builtin?: string,
): Method {
  const args = shape === "load" ? [] : shape === "store" || shape === "rmw" ? ["v"] : ["e", "d"];
  const names = args.length === 1 ? ["value"] : ["expected", "desired"];
  const body = (i: number) => {
    const checks = args.map((a, j) =>
      `if (!(${paths[i].check.expr.replace(/\bv\b/g, a)})) throw fail${i}(${a}, where, "${names[j]}");` +
      (paths[i].plusZero ? ` ${a} += 0;` : "")
    );
    const call = (fn: string, extra: string) => `${fn}${i}(this.ptr${args.map((a) => `, ${a}`).join("")}${extra})`;
    const seqCst = builtin === undefined
      ? call("f", "")
      : `(this.ta !== null ? ${builtin.replace(/\b(ta|ix)\b/g, "this.$1")} : ${call("f", "")})`;
    return `${checks.join("\n")}
      return order === undefined ? ${seqCst} : ${call("fx", ", code(order, allowed, where)")};`;
  };
  const src = paths.length === 1 ? body(0) : `if (typeof ${args[0]} === "bigint") {\n${body(0)}\n}\n${body(1)}`;
  const params = [
    "is",
    "notThis",
    "code",
    "allowed",
    "where",
    ...paths.flatMap((_, i) => [`f${i}`, `fx${i}`, `fail${i}`]),
  ];
  // the brand check comes first: a method called on anything but an instance
  // of its own class (another class's atomic, a plain object with a `ptr`)
  // must never reach native code with a pointer it did not make
  const make = new Function(
    ...params,
    `"use strict";
    return function ${symbol}(${[...args, "order"].join(", ")}) {
      if (!is(this)) throw notThis(this, where);
      ${src}
    };`,
  );
  return make(
    brand.is,
    brand.notThis,
    orderCode,
    ORDERS[shape],
    where,
    ...paths.flatMap((p) => [p.f, p.fx, p.check.fail]),
  );
}

/** Two's-complement wrap of a JS number to each small integer type. */
const WRAP: Record<string, (x: string) => string> = {
  i8: (x) => `((${x}) << 24 >> 24)`,
  u8: (x) => `((${x}) & 0xff)`,
  i16: (x) => `((${x}) << 16 >> 16)`,
  u16: (x) => `((${x}) & 0xffff)`,
  i32: (x) => `((${x}) | 0)`,
  u32: (x) => `((${x}) >>> 0)`,
};

const VIEWS: Record<string, new (b: SharedArrayBuffer, byteOffset: number, length: number) => ArrayBufferView> = {
  i8: Int8Array,
  u8: Uint8Array,
  i16: Int16Array,
  u16: Uint16Array,
  i32: Int32Array,
  u32: Uint32Array,
};

/**
 * The built-in `Atomics` expression for a seq_cst op on a small integer in a
 * SharedArrayBuffer, or undefined. Used in Bun only: there an FFI call
 * (~2.8 ns) plus the argument check cannot get within 1.2× of the built-in
 * (~2.6 ns), while the built-in on the same address is the same lock-prefixed
 * instruction. Deno's FFI call (~7 ns) is faster than its built-in (~12 ns).
 * Segments always take the FFI path (their buffer is not a SharedArrayBuffer).
 */
function builtinExpr(type: string, op: string): string | undefined {
  const wrap = WRAP[type];
  if (wrap === undefined) return undefined;
  const rmw: Record<string, string> = { add: "add", sub: "sub", and: "and", or: "or", xor: "xor" };
  const apply: Record<string, (old: string) => string> = {
    add: (o) => wrap(`${o} + v`),
    sub: (o) => wrap(`${o} - v`),
    and: (o) => wrap(`${o} & v`),
    or: (o) => wrap(`${o} | v`),
    xor: (o) => wrap(`${o} ^ v`),
  };
  switch (op) {
    case "load":
      return "Atomics.load(ta, ix)";
    case "store":
      return "void Atomics.store(ta, ix, v)";
    case "exchange":
      return "Atomics.exchange(ta, ix, v)";
    case "compare_exchange":
      return "Atomics.compareExchange(ta, ix, e, d)";
    case "compare_and_set":
      return "Atomics.compareExchange(ta, ix, e, d) === e";
  }
  const [a, b] = op.split("_");
  if (a === "fetch" && b in rmw) return `Atomics.${rmw[b]}(ta, ix, v)`;
  if (b === "fetch" && a in rmw) return apply[a](`Atomics.${rmw[a]}(ta, ix, v)`);
  return undefined;
}

/** What `update` returns for a value it wrote: what a load now returns (float32 rounding; -0 is 0 for integers). */
const plusZero = (v: unknown) => (v as number) + 0;
const STORED: Record<string, (v: unknown) => unknown> = {
  f32: (v) => Math.fround(v as number),
  i8: plusZero,
  u8: plusZero,
  i16: plusZero,
  u16: plusZero,
  i32: plusZero,
  u32: plusZero,
};
const same = (v: unknown) => v;

function update(name: string, c: ValueCheck, stored: (v: unknown) => unknown, b: Brand): Method {
  const where = `${name}.update`;
  return function (fn, order) {
    if (!b.is(this)) throw b.notThis(this, where);
    if (typeof fn !== "function") throw typeError(where, "fn", "a function (current) => next", fn);
    if (order !== undefined) orderCode(order, RMW_ORDERS, where);
    const self = this as unknown as {
      load(): unknown;
      compareAndSet(e: unknown, d: unknown, o?: unknown): boolean;
    };
    for (let cur = self.load();; cur = self.load()) {
      const next = fn(cur);
      if (!c.ok(next)) throw c.fail(next, where, "fn's result");
      // compareAndSet matches what load() returned, also a NaN (any NaN) or a non-0/1 bool byte (true)
      if (self.compareAndSet(cur, next, order)) return stored(next);
    }
  };
}

/** The class for value type `t`, named `name` (e.g. "AtomicI32"). */
export function defineAtomic(t: TypeInfo, name: string): unknown {
  let check: ValueCheck;
  let numCheck: ValueCheck;
  let bound = false;

  // Bun: seq_cst ops on small integers in a SharedArrayBuffer use the built-in (see builtinExpr)
  let builtin = false;

  let is: (o: unknown) => boolean = () => false;
  const accepted = acceptsType(t.name);

  class Atomic implements Instance {
    readonly memory: SharedArrayBuffer | SharedMemory;
    readonly byteOffset: number;
    // non-writable (defined in the constructor): a method never uses a pointer it did not make
    declare readonly ptr: Pointer;
    /** @internal The built-in path's view (Bun, small integers, SharedArrayBuffer), else null. */
    declare readonly ta: ArrayBufferView | null;
    /** @internal The value's index in `ta`. */
    declare readonly ix: number;
    /** The brand: only instances made by this constructor have it. */
    #atomic = true;
    static readonly BYTES: number = t.bytes;
    static readonly type: string = t.name;

    static {
      is = (o) => typeof o === "object" && o !== null && #atomic in o;
    }

    constructor(memory: unknown, byteOffset?: unknown) {
      const where = `new ${name}`;
      let r;
      try {
        r = region(where, memory, byteOffset, t.bytes, t.bytes);
      } catch (e) {
        throw argumentError(where, "memory", e);
      }
      if (!bound) bind();
      this.memory = r.owner;
      this.byteOffset = r.byteOffset;
      // a view of this value's own bytes: one over the whole buffer would
      // throw for a buffer whose length is not a multiple of the width
      const ta = builtin && !(r.owner instanceof SharedMemory)
        ? new VIEWS[t.name](r.owner as SharedArrayBuffer, r.byteOffset, 1)
        : null;
      Object.defineProperties(this, {
        ptr: { value: r.pointer, enumerable: true },
        ta: { value: ta, enumerable: true },
        ix: { value: 0, enumerable: true },
      });
      r.track?.(this, closed);
    }

    static create(initial?: unknown): Atomic {
      const a = new Atomic(new SharedArrayBuffer(t.bytes));
      if (initial !== undefined) {
        // checked here, so the error names create and initial (not store and value)
        const c = t.numberPath && typeof initial !== "bigint" ? numCheck : check;
        if (!c.ok(initial)) throw c.fail(initial, `${name}.create`, "initial");
        (a as unknown as { store(v: unknown): void }).store(initial);
      }
      return a;
    }

    static from(d: AtomicDescriptor): Atomic {
      const r = openDescriptor(`${name}.from`, d, accepted);
      return new Atomic(r.memory, r.byteOffset);
    }

    static fromHandle(handle: string): Atomic {
      const r = openHandle(`${name}.fromHandle`, handle, accepted);
      return new Atomic(r.memory, r.byteOffset);
    }

    descriptor(): AtomicDescriptor {
      return descriptorOf(t.name, this.memory, this.byteOffset);
    }

    handle(): string {
      return handleOf(`${name}.handle`, t.name, this.memory, this.byteOffset);
    }

    toString(): string {
      return `${name}(${String((this as unknown as { load(): unknown }).load())})`;
    }
  }
  Object.defineProperty(Atomic, "name", { value: name });

  // What an atomic in a closed SharedMemory turns into: every method throws.
  const extra = ["loadNumber", "update", "descriptor", "handle", "toString", "wait", "waitAsync", "notify"];
  const closed = closedPrototype(Atomic.prototype, name, [...OPS.map((op) => op.method).filter(Boolean), ...extra]);

  // The native functions are opened on first construction, not at import.
  const b = brand(name, is); // set by the static block above
  brands.set(Atomic, b);

  function bind(): void {
    const syms = typeSymbols(t.name);
    check = valueCheck(t, backend().runtime);
    numCheck = numberCheck(t);
    builtin = backend().runtime === "bun" && t.name in VIEWS;
    // Deno's FFI throws "Invalid FFI i32 type" for -0; Bun's takes it as 0
    const plusZero = backend().runtime === "deno" && t.name in VIEWS;
    const proto = Atomic.prototype as unknown as Record<string, Method>;
    for (const op of OPS) {
      if (!op.method || !op.kinds.includes(t.kind)) continue;
      const base = `sa_${t.name}_${op.name}`;
      const where = `${name}.${op.method}`;
      const big: Path = { f: syms[base], fx: syms[`${base}_explicit`], check, plusZero };
      if (!t.numberPath) {
        const fast = builtin ? builtinExpr(t.name, op.name) : undefined;
        proto[op.method] = compile(base, op.shape, where, b, [big], fast);
        continue;
      }
      const num: Path = { f: syms[`${base}_f64`], fx: syms[`${base}_f64_explicit`], check: numCheck };
      if (op.shape === "load") {
        proto.load = compile(base, "load", where, b, [big]);
        proto.loadNumber = compile(`${base}_f64`, "load", `${name}.loadNumber`, b, [num]);
      } else {
        proto[op.method] = compile(base, op.shape, where, b, [big, num]);
      }
    }
    proto.update = update(name, check, STORED[t.name] ?? same, b);
    bound = true;
  }

  return Atomic;
}
