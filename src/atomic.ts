/**
 * Builds an atomic class for one value type from the table: every method is
 * a closure over its native function, so a call is one checked FFI call on a
 * pointer computed at construction.
 *
 * @module
 */

import type { NativeFn, Pointer } from "./backend.ts";
import { rangeError, typeError } from "./errors.ts";
import { region } from "./memory.ts";
import { typeSymbols } from "./native.ts";
import { SharedMemory, SharedMemoryClosedError } from "./shared_memory.ts";
import { LOAD_ORDERS, orderCode, RMW_ORDERS, STORE_ORDERS } from "./order.ts";
import { OPS, type Shape, type TypeInfo } from "./table.ts";
import type { AtomicDescriptor } from "./types.ts";
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

/** One method for one path: `f` is the seq_cst export, `fx` the `_explicit` one. */
function method(shape: Shape, where: string, f: NativeFn, fx: NativeFn, c: ValueCheck): Method {
  const allowed = ORDERS[shape];
  switch (shape) {
    case "load":
      return function (order) {
        return order === undefined ? f(this.ptr) : fx(this.ptr, orderCode(order, allowed, where));
      };
    case "store":
    case "rmw":
      return function (v, order) {
        if (!c.ok(v)) throw c.fail(v, where, "value");
        return order === undefined ? f(this.ptr, v) : fx(this.ptr, v, orderCode(order, allowed, where));
      };
    default:
      return function (e, d, order) {
        if (!c.ok(e)) throw c.fail(e, where, "expected");
        if (!c.ok(d)) throw c.fail(d, where, "desired");
        return order === undefined ? f(this.ptr, e, d) : fx(this.ptr, e, d, orderCode(order, allowed, where));
      };
  }
}

/** Picks the bigint or the number path of a 64-bit method by the first argument. */
function twoPath(shape: Shape, big: Method, num: Method): Method {
  if (shape === "store" || shape === "rmw") {
    return function (v, order) {
      return typeof v === "bigint" ? big.call(this, v, order) : num.call(this, v, order);
    };
  }
  return function (e, d, order) {
    return typeof e === "bigint" ? big.call(this, e, d, order) : num.call(this, e, d, order);
  };
}

const HANDLE = /^sa1:([a-z0-9]+)@(\d+):((?:shm|file):.+)$/s;

function update(name: string, c: ValueCheck): Method {
  const where = `${name}.update`;
  return function (fn, order) {
    if (typeof fn !== "function") throw typeError(where, "fn", "a function (current) => next", fn);
    if (order !== undefined) orderCode(order, RMW_ORDERS, where);
    const self = this as unknown as {
      load(): unknown;
      compareAndSet(e: unknown, d: unknown, o?: unknown): boolean;
    };
    for (let cur = self.load();; cur = self.load()) {
      const next = fn(cur);
      if (!c.ok(next)) throw c.fail(next, where, "fn's result");
      if (self.compareAndSet(cur, next, order)) return next;
    }
  };
}

/** The class for value type `t`, named `name` (e.g. "AtomicI32"). */
export function defineAtomic(t: TypeInfo, name: string): unknown {
  const check = valueCheck(t);
  let bound = false;

  class Atomic implements Instance {
    readonly memory: SharedArrayBuffer | SharedMemory;
    readonly byteOffset: number;
    readonly ptr: Pointer;
    static readonly BYTES: number = t.bytes;
    static readonly type: string = t.name;

    constructor(memory: unknown, byteOffset?: unknown) {
      const r = region(`new ${name}`, memory, byteOffset, t.bytes, t.bytes);
      if (!bound) bind();
      this.memory = r.owner;
      this.byteOffset = r.byteOffset;
      this.ptr = r.pointer;
      r.track?.(this, closed);
    }

    static create(initial?: unknown): Atomic {
      const a = new Atomic(new SharedArrayBuffer(t.bytes));
      if (initial !== undefined) (a as unknown as { store(v: unknown): void }).store(initial);
      return a;
    }

    static from(d: AtomicDescriptor): Atomic {
      if (d === null || typeof d !== "object" || d.kind !== "shared-atomic") {
        throw typeError(`${name}.from`, "descriptor", "an object made by .descriptor()", d);
      }
      if (d.type !== t.name) {
        throw typeError(`${name}.from`, "descriptor", `a descriptor of type "${t.name}" (this is ${d.type})`, d.type);
      }
      const memory = typeof d.segment === "string" ? SharedMemory.fromHandle(d.segment) : d.buffer;
      return new Atomic(memory, d.byteOffset);
    }

    static fromHandle(handle: string): Atomic {
      const where = `${name}.fromHandle`;
      if (typeof handle !== "string") throw typeError(where, "handle", "a string made by .handle()", handle);
      const m = HANDLE.exec(handle);
      if (!m) throw rangeError(where, "handle", `a string like "sa1:${t.name}@0:shm:/name"`, handle);
      if (m[1] !== t.name) {
        throw typeError(where, "handle", `a handle of type "${t.name}" (this is ${m[1]})`, handle);
      }
      return new Atomic(SharedMemory.fromHandle(`sa1:${m[3]}`), Number(m[2]));
    }

    descriptor(): AtomicDescriptor {
      const m = this.memory;
      return m instanceof SharedMemory
        ? { kind: "shared-atomic", type: t.name, segment: m.handle(), byteOffset: this.byteOffset }
        : { kind: "shared-atomic", type: t.name, buffer: m, byteOffset: this.byteOffset };
    }

    handle(): string {
      const m = this.memory;
      if (!(m instanceof SharedMemory)) {
        throw new TypeError(
          `${name}.handle: an atomic in a SharedArrayBuffer has no handle for other processes; ` +
            "put it in a SharedMemory (use descriptor() for Workers)",
        );
      }
      return `sa1:${t.name}@${this.byteOffset}:${m.handle().slice(4)}`;
    }

    toString(): string {
      return `${name}(${String((this as unknown as { load(): unknown }).load())})`;
    }
  }
  Object.defineProperty(Atomic, "name", { value: name });

  // What an atomic in a closed SharedMemory turns into: every method throws.
  const closed: object = Object.create(Atomic.prototype);
  const extra = ["loadNumber", "update", "descriptor", "handle", "toString", "wait", "waitAsync", "notify"];
  for (const m of [...OPS.map((op) => op.method), ...extra]) {
    if (!m) continue;
    const fail = (): never => {
      throw new SharedMemoryClosedError(`${name}.${m}: the SharedMemory this atomic lives in is closed`);
    };
    Object.defineProperty(closed, m, { value: fail });
  }

  // The native functions are opened on first construction, not at import.
  function bind(): void {
    const syms = typeSymbols(t.name);
    const proto = Atomic.prototype as unknown as Record<string, Method>;
    for (const op of OPS) {
      if (!op.method || !op.kinds.includes(t.kind)) continue;
      const base = `sa_${t.name}_${op.name}`;
      const where = `${name}.${op.method}`;
      const m = method(op.shape, where, syms[base], syms[`${base}_explicit`], check);
      if (!t.numberPath) {
        proto[op.method] = m;
        continue;
      }
      const n = method(op.shape, where, syms[`${base}_f64`], syms[`${base}_f64_explicit`], numberCheck(t));
      if (op.shape === "load") proto.loadNumber = n;
      proto[op.method] = op.shape === "load" ? m : twoPath(op.shape, m, n);
    }
    proto.update = update(name, check);
    bound = true;
  }

  return Atomic;
}
