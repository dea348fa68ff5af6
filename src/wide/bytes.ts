/**
 * `AtomicBytes`: a fixed-width byte string of 1, 2, 4, 8 or 16 bytes whose
 * value is a `Uint8Array`, read, written, compared and combined (and, or,
 * xor, nand) atomically, lock-free.
 *
 * @module
 */

import type { NativeFn, Pointer } from "../native/backend.ts";
import { brand } from "../atomics/atomic.ts";
import { closedPrototype } from "../memory/closed.ts";
import { describe, rangeError, typeError } from "../errors.ts";
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
import { descriptorOf, handleOf, openDescriptor, openHandle, registerClass } from "../memory/descriptor.ts";
import { place, requireLockFree, S8, scratch, type WideDescriptor, wideSymbols } from "./native.ts";
import { BYTE_WIDTHS, type ByteWidth, type WideTypeName } from "./table.ts";

/**
 * The native side of one byte width, over the scratch: values go in at
 * byte 0 (and the desired value of a compare-exchange at byte 16); results
 * come out at byte 0. Each function is compiled for its width (see
 * `compile`), so every FFI call site has one target.
 */
export interface Engine {
  readonly width: ByteWidth;
  /** Loads into slot 0. */
  readonly load: EngineFn;
  /** Stores slot 0. */
  readonly store: EngineFn;
  /** Read-modify-writes: operand in slot 0, old (fetch_x) or new (x_fetch) value out. */
  readonly exchange: EngineFn;
  readonly fetch_and: EngineFn;
  readonly fetch_or: EngineFn;
  readonly fetch_xor: EngineFn;
  readonly fetch_nand: EngineFn;
  readonly and_fetch: EngineFn;
  readonly or_fetch: EngineFn;
  readonly xor_fetch: EngineFn;
  readonly nand_fetch: EngineFn;
  /** Compare-exchange: expected in slot 0, desired in slot 1; on failure the current value is in slot 0. */
  readonly cas: (ptr: Pointer, order: unknown, where: string) => boolean;
}

/** One engine function: `ptr` the value's address, `order` checked and coded. */
export type EngineFn = (ptr: Pointer, order: unknown, where: string) => void;

const RMW_OPS = [
  "exchange",
  "fetch_and",
  "fetch_or",
  "fetch_xor",
  "fetch_nand",
  "and_fetch",
  "or_fetch",
  "xor_fetch",
  "nand_fetch",
] as const;

/**
 * Compiles the call of export `sa_bytes<w>_<op>` on the scratch: its own
 * function body per (width, operation). A body shared by several widths
 * sees several native functions at one call site, which both JITs stop
 * optimising (measured in Deno: ~45 → ~300 ns for a compareAndSet once two
 * widths were in use).
 */
function compile(w: number, op: string, fns: Record<string, NativeFn>, allowed: readonly string[]): EngineFn {
  const [p0, p1] = scratch();
  const cas = op === "compare_exchange";
  const slots = cas ? "p0, p1" : "p0";
  const make = new Function(
    "f",
    "fx",
    "p0",
    "p1",
    "code",
    "allowed",
    `return function sa_bytes${w}_${op}(ptr, order, where) {
      return order === undefined ? f(ptr, ${slots}) : fx(ptr, ${slots}, code(order, allowed, where));
    };`,
  );
  return make(fns[op], fns[`${op}_explicit`], p0, p1, orderCode, allowed);
}

const engines = new Map<ByteWidth, Engine>();

/** The engine of width `w` (opens its exports on first use). */
export function engine(w: ByteWidth): Engine {
  let e = engines.get(w);
  if (e !== undefined) return e;
  const n = wideSymbols(`bytes${w}`);
  const rmw = Object.fromEntries(RMW_OPS.map((op) => [op, compile(w, op, n, RMW_ORDERS)]));
  e = {
    width: w,
    load: compile(w, "load", n, LOAD_ORDERS),
    store: compile(w, "store", n, STORE_ORDERS),
    ...rmw,
    cas: compile(w, "compare_exchange", n, RMW_ORDERS) as unknown as Engine["cas"],
  } as Engine;
  engines.set(w, e);
  return e;
}

/** Checks a width: one of 1, 2, 4, 8, 16. */
export function checkWidth(where: string, width: unknown): ByteWidth {
  if (typeof width === "number" && (BYTE_WIDTHS as readonly number[]).includes(width)) return width as ByteWidth;
  const allowed = "one of 1, 2, 4, 8, 16 (bytes)";
  throw (typeof width === "number" ? rangeError : typeError)(where, "width", allowed, width);
}

/** Checks an order before any scratch or memory is written. */
export function checkOrder(order: unknown, allowed: readonly string[], where: string): void {
  if (order !== undefined) orderCode(order, allowed, where);
}

const RMW = ["and", "or", "xor", "nand"];
const cap = (s: string): string => s[0].toUpperCase() + s.slice(1);

// Every method checks its `this` first: a TypeError naming the method, not the engine's
let is: (o: unknown) => boolean = () => false; // set by the class's static block
const notThis = (o: unknown, where: string): TypeError => brand("AtomicBytes", is).notThis(o, where);

const METHODS: readonly string[] = [
  "load",
  "loadInto",
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

// The engine's own accessors: a brand check that a Proxy, or an object
// claiming to be a Uint8Array, cannot pass, and a length no getter can fake.
// They cost ~15-60 ns a call, so the hot path asks the cheap questions first.
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const taTag = Object.getOwnPropertyDescriptor(typedArrayProto, Symbol.toStringTag)!.get!;
const taLength = Object.getOwnPropertyDescriptor(typedArrayProto, "length")!.get!;

/** The length of `v` if it really is a Uint8Array (or a subclass), else -1. Never throws. */
function realLength(v: unknown): number {
  return taTag.call(v) === "Uint8Array" ? taLength.call(v) as number : -1;
}

/**
 * The length of `v` if it is a Uint8Array (or a subclass), else -1; never
 * throws. `ArrayBuffer.isView` is false for a Proxy without touching a trap;
 * a view whose `length` or prototype chain throws gets the engine's answer.
 */
function bytesLength(v: unknown): number {
  try {
    if (ArrayBuffer.isView(v) && v instanceof Uint8Array) return v.length;
  } catch { /* a throwing length getter or prototype: ask the engine */ }
  return realLength(v);
}

function badBytes(v: unknown, w: number, where: string, param: string): Error {
  const allowed = `a Uint8Array of ${w} bytes (the width of this AtomicBytes)`;
  const n = realLength(v);
  if (n < 0) {
    const got = describe(v);
    const fake = got === "a Uint8Array" ? " that is not one (a Proxy?)" : "";
    return new TypeError(`${where}: ${param} must be ${allowed}; got ${got}${fake}`);
  }
  return new RangeError(`${where}: ${param} must be ${allowed}; got ${n} bytes`);
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

/** The types of AtomicBytes descriptors and handles. */
const accepted = {
  type: (t: unknown): boolean => typeof t === "string" && /^bytes(1|2|4|8|16)$/.test(t),
  wanted: 'type "bytes1" … "bytes16"',
  example: "bytes8",
};

/**
 * A fixed-width byte string of 1, 2, 4, 8 or 16 bytes, atomically: its value
 * is a `Uint8Array` of exactly `width` bytes, byte `i` of the value being
 * byte `byteOffset + i` of the memory. Lock-free (16 bytes: `cmpxchg16b` on
 * x86_64); the offset must be a multiple of the width.
 *
 * Every method returns a fresh `Uint8Array` (never a view of the shared
 * memory). Compare-exchange compares all `width` bytes.
 *
 * @example
 * ```ts
 * import { AtomicBytes } from "./mod.ts";
 * const sab = new SharedArrayBuffer(32);
 * const tag = new AtomicBytes(sab, 16, 4);
 * tag.store(new Uint8Array([1, 2, 3, 4]));
 * tag.fetchOr(new Uint8Array([0x80, 0, 0, 0])); // Uint8Array [1, 2, 3, 4]
 * tag.load(); // Uint8Array [129, 2, 3, 4]
 * tag.compareAndSet(new Uint8Array([129, 2, 3, 4]), new Uint8Array(4)); // true
 * ```
 */
export class AtomicBytes {
  /** The widths an AtomicBytes can have: 1, 2, 4, 8, 16. */
  static readonly WIDTHS: readonly ByteWidth[] = BYTE_WIDTHS;
  /** The memory the value lives in (kept alive as long as the atomic is). */
  readonly memory: SharedArrayBuffer | SharedMemory;
  /** The value's byte offset within `memory` (absolute, even if built from a view); a multiple of `width`. */
  readonly byteOffset: number;
  /** The width in bytes: 1, 2, 4, 8 or 16. */
  readonly width: ByteWidth;
  #ptr: Pointer;
  #e: Engine;

  static {
    is = (o) => typeof o === "object" && o !== null && #ptr in o;
  }

  /**
   * A byte string of `width` bytes over `memory` at `byteOffset`, checked
   * for bounds and alignment (a multiple of `width`). Throws
   * `AtomicUnavailableError` for width 16 where 16-byte atomics are not
   * lock-free.
   *
   * @example
   * ```ts
   * import { AtomicBytes } from "./mod.ts";
   * const b = new AtomicBytes(new SharedArrayBuffer(16), 0, 16);
   * b.load(); // 16 zero bytes
   * ```
   */
  constructor(memory: AtomicMemory, byteOffset: number | undefined, width: ByteWidth) {
    const where = "new AtomicBytes";
    const w = checkWidth(where, width);
    requireLockFree(where, w);
    const p = place(where, memory, byteOffset, w);
    this.#e = engine(w);
    this.memory = p.memory;
    this.byteOffset = p.byteOffset;
    this.width = w;
    this.#ptr = p.ptr;
    p.track?.(this, closed);
  }

  /**
   * A fresh atomic in its own SharedArrayBuffer of `width` bytes, holding
   * `initial` (default: zero bytes).
   *
   * @example
   * ```ts
   * import { AtomicBytes } from "./mod.ts";
   * const b = AtomicBytes.create(2, new Uint8Array([0xca, 0xfe]));
   * b.load(); // Uint8Array [202, 254]
   * ```
   */
  static create(width: ByteWidth, initial?: Uint8Array): AtomicBytes {
    const w = checkWidth("AtomicBytes.create", width);
    if (initial !== undefined && bytesLength(initial) !== w) {
      throw badBytes(initial, w, "AtomicBytes.create", "initial");
    }
    const a = new AtomicBytes(new SharedArrayBuffer(w), 0, w);
    if (initial !== undefined) a.store(initial);
    return a;
  }

  /**
   * Rebuilds an atomic from its descriptor (e.g. in a Worker).
   *
   * @example
   * ```ts
   * import { AtomicBytes } from "./mod.ts";
   * const d = AtomicBytes.create(8).descriptor(); // { kind, type: "bytes8", buffer, byteOffset }
   * AtomicBytes.from(d).width; // 8
   * ```
   */
  static from(descriptor: WideDescriptor): AtomicBytes {
    const r = openDescriptor("AtomicBytes.from", descriptor, accepted);
    return new AtomicBytes(r.memory as AtomicMemory, r.byteOffset as number, Number(r.type.slice(5)) as ByteWidth);
  }

  /**
   * Rebuilds an atomic from its handle string (e.g. in another process),
   * opening the segment.
   *
   * @example
   * ```ts
   * import { AtomicBytes, SharedMemory } from "./mod.ts";
   * const seg = SharedMemory.create(`/bytes-demo-${Date.now()}`, 64);
   * const h = new AtomicBytes(seg, 16, 16).handle(); // "sa1:bytes16@16:shm:/bytes-demo-…?id=…"
   * AtomicBytes.fromHandle(h).width; // 16 (in another process)
   * seg.close();
   * seg.unlink();
   * ```
   */
  static fromHandle(handle: string): AtomicBytes {
    const r = openHandle("AtomicBytes.fromHandle", handle, accepted);
    return new AtomicBytes(r.memory, r.byteOffset, Number(r.type.slice(5)) as ByteWidth);
  }

  /** The type name in descriptors and handles: `"bytes1"` … `"bytes16"`. */
  get type(): WideTypeName {
    return `bytes${this.width}`;
  }

  #put(v: unknown, at: number, where: string, param: string): void {
    const w = this.width;
    if (bytesLength(v) !== w) throw badBytes(v, w, where, param);
    for (let i = 0; i < w; i++) S8[at + i] = (v as Uint8Array)[i];
  }

  #out(): Uint8Array {
    const w = this.width;
    const out = new Uint8Array(w);
    for (let i = 0; i < w; i++) out[i] = S8[i];
    return out;
  }

  /** Reads the value: a fresh `Uint8Array` of `width` bytes. */
  load(order?: LoadOrder): Uint8Array {
    if (!is(this)) throw notThis(this, "AtomicBytes.load");
    this.#e.load(this.#ptr, order, "AtomicBytes.load");
    return this.#out();
  }

  /**
   * Reads the value into `target` (a `Uint8Array` of exactly `width` bytes)
   * and returns it: `load()` without allocating, for hot loops (a fresh
   * `Uint8Array` costs ~1 µs in Deno, where every typed array gets its own
   * off-heap buffer).
   *
   * @example
   * ```ts
   * import { AtomicBytes } from "./mod.ts";
   * const b = AtomicBytes.create(4, new Uint8Array([1, 2, 3, 4]));
   * const buf = new Uint8Array(4);
   * b.loadInto(buf); // buf is now [1, 2, 3, 4]
   * ```
   */
  loadInto(target: Uint8Array, order?: LoadOrder): Uint8Array {
    if (!is(this)) throw notThis(this, "AtomicBytes.loadInto");
    const where = "AtomicBytes.loadInto";
    if (bytesLength(target) !== this.width) {
      throw badBytes(target, this.width, where, "target");
    }
    this.#e.load(this.#ptr, order, where);
    for (let i = 0; i < this.width; i++) target[i] = S8[i];
    return target;
  }

  /** Writes `value`, a `Uint8Array` of exactly `width` bytes. */
  store(value: Uint8Array, order?: StoreOrder): void {
    if (!is(this)) throw notThis(this, "AtomicBytes.store");
    const where = "AtomicBytes.store";
    checkOrder(order, STORE_ORDERS, where);
    this.#put(value, 0, where, "value");
    this.#e.store(this.#ptr, order, where);
  }

  /** Writes `value`, returns the previous value. */
  exchange(value: Uint8Array, order?: MemoryOrder): Uint8Array {
    if (!is(this)) throw notThis(this, "AtomicBytes.exchange");
    const where = "AtomicBytes.exchange";
    checkOrder(order, RMW_ORDERS, where);
    this.#put(value, 0, where, "value");
    this.#e.exchange(this.#ptr, order, where);
    return this.#out();
  }

  /**
   * Writes `desired` if all `width` bytes equal `expected`; returns the
   * previous value either way (you won iff its bytes equal `expected`'s).
   */
  compareExchange(expected: Uint8Array, desired: Uint8Array, order?: MemoryOrder): Uint8Array {
    if (!is(this)) throw notThis(this, "AtomicBytes.compareExchange");
    const where = "AtomicBytes.compareExchange";
    checkOrder(order, RMW_ORDERS, where);
    this.#put(expected, 0, where, "expected");
    this.#put(desired, 16, where, "desired");
    this.#e.cas(this.#ptr, order, where);
    return this.#out();
  }

  /** Like `compareExchange`, but returns whether it wrote. */
  compareAndSet(expected: Uint8Array, desired: Uint8Array, order?: MemoryOrder): boolean {
    if (!is(this)) throw notThis(this, "AtomicBytes.compareAndSet");
    const where = "AtomicBytes.compareAndSet";
    checkOrder(order, RMW_ORDERS, where);
    this.#put(expected, 0, where, "expected");
    this.#put(desired, 16, where, "desired");
    return this.#e.cas(this.#ptr, order, where);
  }

  /**
   * Replaces the value with `fn(current)` in a compare-exchange loop (`fn`
   * may run more than once); returns the value written.
   */
  update(fn: (current: Uint8Array) => Uint8Array, order?: MemoryOrder): Uint8Array {
    if (!is(this)) throw notThis(this, "AtomicBytes.update");
    const where = "AtomicBytes.update";
    if (typeof fn !== "function") throw typeError(where, "fn", "a function (current) => next", fn);
    checkOrder(order, RMW_ORDERS, where);
    let cur = this.load();
    const raw = cur.slice(); // fn may change cur: compare with the bytes read
    for (;;) {
      const next = fn(cur);
      checkOpen(this.memory, where); // fn may have closed the segment
      // fn may have used other wide atomics: the scratch is written only now
      this.#put(next, 16, where, "fn's result");
      for (let i = 0; i < this.width; i++) S8[i] = raw[i];
      if (this.#e.cas(this.#ptr, order, where)) return next;
      for (let i = 0; i < this.width; i++) raw[i] = S8[i];
      cur = this.#out();
    }
  }

  /** Bitwise and with `value`, byte by byte; returns the old value. */
  fetchAnd(value: Uint8Array, order?: MemoryOrder): Uint8Array {
    if (!is(this)) throw notThis(this, "AtomicBytes.fetchAnd");
    const where = "AtomicBytes.fetchAnd";
    checkOrder(order, RMW_ORDERS, where);
    this.#put(value, 0, where, "value");
    this.#e.fetch_and(this.#ptr, order, where);
    return this.#out();
  }
  /** Bitwise or; returns the old value. */
  fetchOr(value: Uint8Array, order?: MemoryOrder): Uint8Array {
    if (!is(this)) throw notThis(this, "AtomicBytes.fetchOr");
    const where = "AtomicBytes.fetchOr";
    checkOrder(order, RMW_ORDERS, where);
    this.#put(value, 0, where, "value");
    this.#e.fetch_or(this.#ptr, order, where);
    return this.#out();
  }
  /** Bitwise xor; returns the old value. */
  fetchXor(value: Uint8Array, order?: MemoryOrder): Uint8Array {
    if (!is(this)) throw notThis(this, "AtomicBytes.fetchXor");
    const where = "AtomicBytes.fetchXor";
    checkOrder(order, RMW_ORDERS, where);
    this.#put(value, 0, where, "value");
    this.#e.fetch_xor(this.#ptr, order, where);
    return this.#out();
  }
  /** Bitwise nand (`~(old & value)`); returns the old value. */
  fetchNand(value: Uint8Array, order?: MemoryOrder): Uint8Array {
    if (!is(this)) throw notThis(this, "AtomicBytes.fetchNand");
    const where = "AtomicBytes.fetchNand";
    checkOrder(order, RMW_ORDERS, where);
    this.#put(value, 0, where, "value");
    this.#e.fetch_nand(this.#ptr, order, where);
    return this.#out();
  }
  /** Bitwise and; returns the new value. */
  andFetch(value: Uint8Array, order?: MemoryOrder): Uint8Array {
    if (!is(this)) throw notThis(this, "AtomicBytes.andFetch");
    const where = "AtomicBytes.andFetch";
    checkOrder(order, RMW_ORDERS, where);
    this.#put(value, 0, where, "value");
    this.#e.and_fetch(this.#ptr, order, where);
    return this.#out();
  }
  /** Bitwise or; returns the new value. */
  orFetch(value: Uint8Array, order?: MemoryOrder): Uint8Array {
    if (!is(this)) throw notThis(this, "AtomicBytes.orFetch");
    const where = "AtomicBytes.orFetch";
    checkOrder(order, RMW_ORDERS, where);
    this.#put(value, 0, where, "value");
    this.#e.or_fetch(this.#ptr, order, where);
    return this.#out();
  }
  /** Bitwise xor; returns the new value. */
  xorFetch(value: Uint8Array, order?: MemoryOrder): Uint8Array {
    if (!is(this)) throw notThis(this, "AtomicBytes.xorFetch");
    const where = "AtomicBytes.xorFetch";
    checkOrder(order, RMW_ORDERS, where);
    this.#put(value, 0, where, "value");
    this.#e.xor_fetch(this.#ptr, order, where);
    return this.#out();
  }
  /** Bitwise nand; returns the new value. */
  nandFetch(value: Uint8Array, order?: MemoryOrder): Uint8Array {
    if (!is(this)) throw notThis(this, "AtomicBytes.nandFetch");
    const where = "AtomicBytes.nandFetch";
    checkOrder(order, RMW_ORDERS, where);
    this.#put(value, 0, where, "value");
    this.#e.nand_fetch(this.#ptr, order, where);
    return this.#out();
  }

  /** The descriptor to send this atomic to a Worker. */
  descriptor(): WideDescriptor {
    return descriptorOf(this.type, this.memory, this.byteOffset);
  }

  /** A string naming this atomic for another process, e.g. `"sa1:bytes8@0:shm:/name"` (only in a `SharedMemory`). */
  handle(): string {
    return handleOf("AtomicBytes.handle", this.type, this.memory, this.byteOffset);
  }

  /** `AtomicBytes(ca fe)`: the value in hex. */
  toString(): string {
    return `AtomicBytes(${hex(this.load())})`;
  }
}

const closed = closedPrototype(AtomicBytes.prototype, "AtomicBytes", METHODS);

for (const w of BYTE_WIDTHS) registerClass(`bytes${w}`, AtomicBytes as unknown as Parameters<typeof registerClass>[1]);
