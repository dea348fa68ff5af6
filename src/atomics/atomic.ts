/**
 * Builds an atomic class for one value type from the table: every method is
 * compiled around its native function (see `method.ts`), so a call is one
 * checked FFI call on a pointer computed at construction.
 *
 * @module
 */

import { backend, type NativeFn } from "../native/backend.ts";
import { typeError } from "../errors.ts";
import { typeSymbols } from "../native/library.ts";
import { SharedMemory } from "../memory/shared_memory.ts";
import { orderCode, RMW_ORDERS } from "./order.ts";
import { OPS, type Shape, type TypeInfo } from "../native/abi.ts";
import { type Brand, compileMethod, type Method, orderedCall, ordersOf, valueParams } from "./method.ts";
import { defineValueClass } from "./value_class.ts";
import type { Region } from "../memory/region.ts";
import { numberCheck, type ValueCheck, valueCheck } from "./values.ts";

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
  readonly native: NativeFn;
  readonly explicit: NativeFn;
  readonly check: ValueCheck;
  readonly plusZero?: boolean;
}

/**
 * Compiles one method (see `compileMethod`), with its value check inlined.
 * With two paths (64-bit: bigint, then number), the first argument's type
 * picks one; `builtins`, each path's seq_cst call on the built-in (if any).
 */
function compileOp(
  symbol: string,
  shape: Shape,
  where: string,
  brand: Brand,
  paths: readonly Path[],
  builtins: readonly (string | undefined)[] = [],
): Method {
  const { params, names } = valueParams(shape);
  const values: Record<string, unknown> = { allowed: ordersOf(shape) };
  const body = (p: Path, i: number) => {
    Object.assign(values, { [`fail${i}`]: p.check.fail, [`native${i}`]: p.native, [`explicit${i}`]: p.explicit });
    const checks = params.map((a, j) =>
      `if (!(${p.check.expr.replace(/\bv\b/g, a)})) throw fail${i}(${a}, where, "${names[j]}");` +
      (p.plusZero ? ` ${a} += 0;` : "")
    );
    const args = ["this.ptr", ...params];
    const builtin = builtins[i];
    const seqCst = builtin === undefined
      ? undefined
      : `(this.ta !== null ? ${builtin.replace(/\b(ta|ix)\b/g, "this.$1")} : native${i}(${args.join(", ")}))`;
    return `${checks.join("\n")}
      return ${orderedCall(`native${i}`, `explicit${i}`, args, seqCst)};`;
  };
  const source = paths.length === 1
    ? body(paths[0], 0)
    : `if (typeof ${params[0]} === "bigint") {\n${body(paths[0], 0)}\n}\n${body(paths[1], 1)}`;
  return compileMethod({ name: symbol, params: [...params, "order"], body: source, values, where, brand });
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
 * SharedArrayBuffer, or undefined. Used in Bun and Node: in Bun an FFI call
 * (~2.8 ns) plus the argument check cannot get within 1.2× of the built-in
 * (~2.6 ns), in Node a Node-API call has a fixed cost several times the
 * built-in's, while the built-in on the same address is the same lock-prefixed
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

/**
 * 64-bit integers in Node only: a Node-API call costs several times
 * `Atomics.add` on a `BigInt64Array`, the same lock-prefixed instruction; the
 * bigint path and the number path (`num`: safe integers in, numbers out,
 * rounded as the `_f64` exports round) both use it. Bun and Deno keep their FFI
 * (faster there than BigInt atomics).
 */
const VIEWS64: Record<string, new (b: SharedArrayBuffer, byteOffset: number, length: number) => ArrayBufferView> = {
  i64: BigInt64Array,
  u64: BigUint64Array,
};

function builtinExpr64(type: string, op: string, num: boolean): string | undefined {
  const big = (x: string) => (num ? `BigInt(${x})` : x);
  const out = (x: string) => (num ? `Number(${x})` : x);
  const wrap = (x: string) => `BigInt.as${type === "i64" ? "Int" : "Uint"}N(64, ${x})`;
  const rmw: Record<string, string> = { add: "+", sub: "-", and: "&", or: "|", xor: "^" };
  switch (op) {
    case "load":
      return out("Atomics.load(ta, ix)");
    case "store":
      return `void Atomics.store(ta, ix, ${big("v")})`;
    case "exchange":
      return out(`Atomics.exchange(ta, ix, ${big("v")})`);
    case "compare_exchange":
      return out(`Atomics.compareExchange(ta, ix, ${big("e")}, ${big("d")})`);
    case "compare_and_set":
      return `Atomics.compareExchange(ta, ix, ${big("e")}, ${big("d")}) === ${big("e")}`;
  }
  const [a, b] = op.split("_");
  if (a === "fetch" && b in rmw) return out(`Atomics.${b}(ta, ix, ${big("v")})`);
  if (b === "fetch" && a in rmw) return out(wrap(`Atomics.${a}(ta, ix, ${big("v")}) ${rmw[a]} ${big("v")}`));
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

/** The value checks of a type. */
interface Checks {
  readonly check: ValueCheck;
  readonly numCheck: ValueCheck;
}

/** Opens the exports of `t` and compiles the methods of its class onto `proto`. */
function bindMethods(t: TypeInfo, name: string, proto: Record<string, Method>, b: Brand, c: Checks): void {
  const syms = typeSymbols(t.name);
  const runtime = backend().runtime;
  const builtin = runtime !== "deno" && t.name in VIEWS;
  const builtin64 = runtime === "node" && t.name in VIEWS64;
  // Deno's FFI throws "Invalid FFI i32 type" for -0; Bun's takes it as 0
  const plusZero = runtime === "deno" && t.name in VIEWS;
  for (const op of OPS) {
    if (!op.method || !op.kinds.includes(t.kind)) continue;
    const base = `sa_${t.name}_${op.name}`;
    const where = `${name}.${op.method}`;
    const big: Path = { native: syms[base], explicit: syms[`${base}_explicit`], check: c.check, plusZero };
    if (!t.numberPath) {
      const fast = builtin ? builtinExpr(t.name, op.name) : undefined;
      proto[op.method] = compileOp(base, op.shape, where, b, [big], [fast]);
      continue;
    }
    const num: Path = { native: syms[`${base}_f64`], explicit: syms[`${base}_f64_explicit`], check: c.numCheck };
    const wide = builtin64 ? [false, true].map((n) => builtinExpr64(t.name, op.name, n)) : [];
    if (op.shape === "load") {
      proto.load = compileOp(base, "load", where, b, [big], [wide[0]]);
      proto.loadNumber = compileOp(`${base}_f64`, "load", `${name}.loadNumber`, b, [num], [wide[1]]);
    } else {
      proto[op.method] = compileOp(base, op.shape, where, b, [big, num], wide);
    }
  }
  proto.update = update(name, c.check, STORED[t.name] ?? same, b);
}

/**
 * The view the built-in works on for the value at `r`, or null (the FFI then).
 * Node: also in a segment, since a Node-API call costs several times the
 * built-in, over an ArrayBuffer of the value's own bytes in the mapping
 * (the same lock-prefixed instruction on the same address); the view holds
 * the segment, so the mapping outlives every view of it.
 */
function builtinView(t: TypeInfo, r: Region): ArrayBufferView | null {
  const View = VIEWS[t.name] ?? VIEWS64[t.name];
  if (!(r.owner instanceof SharedMemory)) return new View(r.owner, r.byteOffset, 1);
  if (backend().runtime !== "node") return null;
  const view = new View(backend().arrayBuffer(r.pointer, t.bytes) as unknown as SharedArrayBuffer, 0, 1);
  return Object.defineProperty(view, "memory", { value: r.owner });
}

/** The methods besides the table's operations (some added by `wait.ts`), for the closed-segment prototype. */
const DERIVED = ["loadNumber", "update", "descriptor", "handle", "toString", "wait", "waitAsync", "notify"];

/** The class for value type `t`, named `name` (e.g. "AtomicI32"). */
export function defineAtomic(t: TypeInfo, name: string): unknown {
  let checks: Checks | undefined;
  const checksOf = (): Checks => checks ??= { check: valueCheck(t, backend().runtime), numCheck: numberCheck(t) };
  // Bun, Node: seq_cst ops on small integers in a SharedArrayBuffer use the built-in (see builtinExpr);
  // Node also on 64-bit integers (builtinExpr64)
  const builtin = (): boolean =>
    (backend().runtime !== "deno" && t.name in VIEWS) || (backend().runtime === "node" && t.name in VIEWS64);
  const { cls, brand } = defineValueClass({
    name,
    type: t.name,
    bytes: t.bytes,
    bind: (proto, b) => bindMethods(t, name, proto, b, checksOf()),
    // a view of this value's own bytes for the built-in: one over the whole
    // buffer would throw for a buffer whose length is not a multiple of the width
    properties: (r) => ({
      ta: { value: builtin() ? builtinView(t, r) : null, enumerable: true },
      ix: { value: 0, enumerable: true },
    }),
    checkInitial: (initial, where) => {
      const c = t.numberPath && typeof initial !== "bigint" ? checksOf().numCheck : checksOf().check;
      if (!c.ok(initial)) throw c.fail(initial, where, "initial");
    },
    methods: [...OPS.map((op) => op.method).filter(Boolean), ...DERIVED],
  });
  brands.set(cls, brand);
  return cls;
}
