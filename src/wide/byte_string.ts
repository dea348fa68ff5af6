/**
 * What `AtomicBytes` and `AtomicString` share: a value of 1, 2, 4, 8 or 16
 * bytes whose operations run through the engine of its width, the native
 * calls on the scratch, while the class's codec writes its values to the
 * scratch and reads them back. The engines and the methods are compiled
 * from the wide table (see `atomics/method.ts`).
 *
 * @module
 */

import type { NativeFn, Pointer } from "../native/backend.ts";
import { type Brand, compileMethod, type Method, orderedCall, ordersOf, valueParams } from "../atomics/method.ts";
import { orderCode, RMW_ORDERS } from "../atomics/order.ts";
import { closedPrototype, membersOf } from "../memory/closed.ts";
import {
  type Accepted,
  descriptorOf,
  handleOf,
  type Located,
  type Rebuilder,
  registerClass,
} from "../memory/descriptor.ts";
import { valueRegion } from "../memory/region.ts";
import { checkOpen, type SharedMemory } from "../memory/shared_memory.ts";
import { rangeError, typeError } from "../errors.ts";
import { requireLockFree, S8, scratch, wideMethods, wideSymbols } from "./native.ts";
import { BYTE_WIDTHS, type ByteWidth, type WideTypeName } from "./table.ts";

/**
 * One engine function: the call of export `sa_bytes<w>_<op>` on the
 * scratch, `ptr` the value's address, `order` checked and coded. Values go
 * in at byte 0 (and the desired value of a compare-exchange at byte 16);
 * results come out at byte 0 (a compare-exchange that fails leaves the
 * current value there).
 */
export type EngineFn = (ptr: Pointer, order: unknown, where: string) => unknown;

/** The engine of one width: its functions by operation (`load`, `fetch_and`, `compare_exchange`, …). */
export type Engine = Readonly<Record<string, EngineFn>>;

/**
 * Compiles the call of export `sa_bytes<w>_<op>` on the scratch: its own
 * function body per (width, operation), so every FFI call site has one
 * target (see `compileMethod`).
 */
function compileEngineFn(w: ByteWidth, op: string, shape: string, natives: Record<string, NativeFn>): EngineFn {
  const [p0, p1] = scratch();
  const slots = shape === "cmpxchg" ? ["p0", "p1"] : ["p0"];
  return compileMethod({
    name: `sa_bytes${w}_${op}`,
    params: ["ptr", "order", "where"],
    body: `return ${orderedCall("native", "explicit", ["ptr", ...slots])};`,
    values: { native: natives[op], explicit: natives[`${op}_explicit`], p0, p1, allowed: ordersOf(shape) },
  }) as EngineFn;
}

const engines = new Map<ByteWidth, Engine>();

/** The engine of width `w` (opens its exports on first use). */
function engine(w: ByteWidth): Engine {
  let e = engines.get(w);
  if (e === undefined) {
    const natives = wideSymbols(`bytes${w}`);
    e = Object.fromEntries(
      wideMethods("bytes").map(({ op }) => [op.name, compileEngineFn(w, op.name, op.shape, natives)]),
    );
    engines.set(w, e);
  }
  return e;
}

/** Checks a width: one of 1, 2, 4, 8, 16. */
export function checkWidth(where: string, width: unknown): ByteWidth {
  if (typeof width === "number" && (BYTE_WIDTHS as readonly number[]).includes(width)) return width as ByteWidth;
  const allowed = "one of 1, 2, 4, 8, 16 (bytes)";
  throw (typeof width === "number" ? rangeError : typeError)(where, "width", allowed, width);
}

/** How a class's values cross the scratch. */
export interface Codec<V> {
  /** Writes `v` at scratch byte `at`, `width` bytes; throws, naming `where` and `param`, if it is not a value. */
  readonly put: (v: unknown, at: number, width: number, where: string, param: string) => void;
  /** The value of `width` bytes at scratch byte 0. */
  readonly get: (width: number) => V;
  /** Whether a compare-exchange that wins returns `expected` itself (an immutable value), not a fresh copy. */
  readonly wonReturnsExpected: boolean;
}

/** One class of byte strings. */
export interface ByteKind<V> {
  /** The class's name: "AtomicBytes". */
  readonly name: string;
  /** Its types are the prefix and the width: "bytes" for "bytes1" … "bytes16". */
  readonly prefix: "bytes" | "str";
  readonly codec: Codec<V>;
  /** Whether it has the bitwise operations (and, or, xor, nand). */
  readonly bitwise: boolean;
  /** Its descriptors' and handles' types, for `openDescriptor` and `openHandle`. */
  readonly accepted: Accepted;
}

/** A ByteKind, with what it accepts (from the prefix). */
export function byteKind<V>(name: string, prefix: "bytes" | "str", codec: Codec<V>, bitwise: boolean): ByteKind<V> {
  const types = new RegExp(`^${prefix}(${BYTE_WIDTHS.join("|")})$`);
  const accepted: Accepted = {
    type: (t) => typeof t === "string" && types.test(t),
    wanted: `type "${prefix}1" … "${prefix}16"`,
    example: `${prefix}8`,
  };
  return { name, prefix, codec, bitwise, accepted };
}

/** What the compiled methods see of an instance (see `ByteString`). */
interface Compiled {
  readonly width: number;
  readonly memory: SharedArrayBuffer | SharedMemory;
  readonly ptr: Pointer;
  readonly engine: Engine;
}

const closedOf = new Map<ByteKind<unknown>, object>();

/**
 * The common part of `AtomicBytes` and `AtomicString`: where the value
 * lives, its width, its pointer and its width's engine. The compiled
 * methods read the pointer and the engine as properties of `this` (each
 * method's own property access: fast), defined non-writable, after checking
 * that `this` is an instance of their class: a method never uses a pointer
 * it did not make.
 *
 * @internal
 */
export abstract class ByteString {
  /** The memory the value lives in (kept alive as long as the atomic is). */
  readonly memory: SharedArrayBuffer | SharedMemory;
  /** The value's byte offset within `memory` (absolute, even if built from a view); a multiple of `width`. */
  readonly byteOffset: number;
  /** The width in bytes: 1, 2, 4, 8 or 16. */
  readonly width: ByteWidth;
  /** The value's address (non-writable, not enumerable). */
  declare protected readonly ptr: Pointer;
  /** The engine of its width (non-writable, not enumerable). */
  declare protected readonly engine: Engine;

  /** Checks width, memory, offset, bounds and alignment (a multiple of the width); opens the width's engine. */
  protected constructor(kind: ByteKind<unknown>, memory: unknown, byteOffset: unknown, width: unknown) {
    const where = `new ${kind.name}`;
    const w = checkWidth(where, width);
    requireLockFree(where, w);
    const r = valueRegion(where, memory, byteOffset, w);
    const e = engine(w);
    this.memory = r.owner;
    this.byteOffset = r.byteOffset;
    this.width = w;
    Object.defineProperties(this, { ptr: { value: r.pointer }, engine: { value: e } });
    r.track?.(this, closedOf.get(kind)!);
  }
}

/**
 * Compiles a byte-string method around engine function `op` (see
 * `compileMethod`): the order is checked, then the operands are written to
 * the scratch by the codec, then the engine runs; `compare_and_set` is
 * compare_exchange's, returning whether it won.
 */
function compileByteMethod<V>(kind: ByteKind<V>, op: string, shape: string, method: string, b: Brand): Method {
  const { params, names } = valueParams(shape);
  const check = shape === "load" ? "" : "if (order !== undefined) code(order, allowed, where);";
  const puts = params.map((a, j) => `put(${a}, ${16 * j}, this.width, where, "${names[j]}");`);
  const native = op === "compare_and_set" ? "compare_exchange" : op;
  const call = `this.engine.${native}(this.ptr, order, where)`;
  const result = shape === "store"
    ? `${call};`
    : op === "compare_and_set"
    ? `return ${call};`
    : shape === "cmpxchg"
    ? `const won = ${call};\nreturn ${kind.codec.wonReturnsExpected ? "won ? e : get(this.width)" : "get(this.width)"};`
    : `${call};\nreturn get(this.width);`;
  return compileMethod({
    name: method,
    params: [...params, "order"],
    body: [check, ...puts, result].join("\n"),
    values: { put: kind.codec.put, get: kind.codec.get, allowed: ordersOf(shape) },
    where: `${kind.name}.${method}`,
    brand: b,
  });
}

/** `update`: a compare-exchange loop on the bytes read, so whatever `fn` returns, the bytes decide. */
function updateMethod<V>(kind: ByteKind<V>, b: Brand): Method {
  const where = `${kind.name}.update`;
  const { put, get } = kind.codec;
  return function (this: Compiled & { load(): V }, fn: (current: V) => V, order?: unknown) {
    if (!b.is(this)) throw b.notThis(this, where);
    if (typeof fn !== "function") throw typeError(where, "fn", "a function (current) => next", fn);
    if (order !== undefined) orderCode(order, RMW_ORDERS, where);
    const w = this.width;
    let cur = this.load();
    const raw = S8.slice(0, w); // fn may change cur: compare with the bytes read
    for (;;) {
      const next = fn(cur);
      checkOpen(this.memory, where); // fn may have closed the segment
      // fn may have used other wide atomics: the scratch is written only now
      put(next, 16, w, where, "fn's result");
      S8.set(raw, 0);
      if (this.engine.compare_exchange(this.ptr, order, where)) return next;
      raw.set(S8.subarray(0, w));
      cur = get(w);
    }
  };
}

/** The methods every byte-string class gets from the table, and descriptor and handle. */
function defineByteMethods<V>(proto: Record<string, Method>, kind: ByteKind<V>, b: Brand): void {
  for (const { op, method } of wideMethods("bytes")) {
    if (op.shape === "rmw" && op.name !== "exchange" && !kind.bitwise) continue;
    proto[method] = compileByteMethod(kind, op.name, op.shape, method, b);
  }
  proto.compareAndSet = compileByteMethod(kind, "compare_and_set", "cas", "compareAndSet", b);
  proto.update = updateMethod(kind, b);
  proto.descriptor = function (this: ByteString & { type: WideTypeName }) {
    return descriptorOf(this.type, this.memory, this.byteOffset);
  };
  proto.handle = function (this: ByteString & { type: WideTypeName }) {
    return handleOf(`${kind.name}.handle`, this.type, this.memory, this.byteOffset);
  };
}

/**
 * Completes a byte-string class: its methods, its closed-segment prototype
 * (every method and getter but `type` throws), and the classes that rebuild
 * its descriptors and handles, one type per width.
 */
export function defineByteString<V>(cls: Rebuilder & { prototype: object }, kind: ByteKind<V>, b: Brand): void {
  defineByteMethods(cls.prototype as Record<string, Method>, kind, b);
  const members = membersOf(cls).filter((m) => m !== "type");
  closedOf.set(kind as ByteKind<unknown>, closedPrototype(cls.prototype, kind.name, members));
  for (const w of BYTE_WIDTHS) registerClass(`${kind.prefix}${w}`, cls);
}

/** The `create` of a byte-string class: the width and `initial` are checked first (errors name `create`). */
export function createByteString<A extends ByteString, V>(
  cls: new (memory: SharedArrayBuffer, byteOffset: number, width: ByteWidth) => A,
  kind: ByteKind<V>,
  width: unknown,
  initial: V | undefined,
): A {
  const where = `${kind.name}.create`;
  const w = checkWidth(where, width);
  if (initial !== undefined) kind.codec.put(initial, 0, w, where, "initial");
  const a = new cls(new SharedArrayBuffer(w), 0, w);
  if (initial !== undefined) (a as unknown as { store(v: V): void }).store(initial);
  return a;
}

/** The byte string a descriptor or handle located (`openDescriptor`, `openHandle`), of its width. */
export function rebuildByteString<A extends ByteString>(
  cls: new (memory: never, byteOffset: never, width: ByteWidth) => A,
  kind: ByteKind<unknown>,
  r: Located,
): A {
  return new cls(r.memory as never, r.byteOffset as never, Number(r.type.slice(kind.prefix.length)) as ByteWidth);
}
