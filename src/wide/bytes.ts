/**
 * `AtomicBytes`: a fixed-width byte string of 1, 2, 4, 8 or 16 bytes whose
 * value is a `Uint8Array`, read, written, compared and combined (and, or,
 * xor, nand) atomically, lock-free.
 *
 * @module
 */

import { brand } from "../atomics/method.ts";
import type { AtomicBase, AtomicBitwise } from "../atomics/types.ts";
import { describe } from "../errors.ts";
import type { AtomicMemory } from "../memory/region.ts";
import type { LoadOrder, MemoryOrder } from "../atomics/order.ts";
import { openDescriptorOrHandle, openHandle } from "../memory/descriptor.ts";
import { S8, type WideDescriptor } from "./native.ts";
import { BYTE_WIDTHS, type ByteWidth } from "./table.ts";
import { byteKind, ByteString, createByteString, defineByteString, rebuildByteString } from "./byte_string.ts";

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

/** Writes a `Uint8Array` of exactly `width` bytes to the scratch at `at`. */
function putBytes(v: unknown, at: number, width: number, where: string, param: string): void {
  if (bytesLength(v) !== width) throw badBytes(v, width, where, param);
  for (let i = 0; i < width; i++) S8[at + i] = (v as Uint8Array)[i];
}

/** A fresh `Uint8Array` of the scratch's first `width` bytes. */
function getBytes(width: number): Uint8Array {
  const out = new Uint8Array(width);
  for (let i = 0; i < width; i++) out[i] = S8[i];
  return out;
}

const BYTES = byteKind<Uint8Array>(
  "AtomicBytes",
  "bytes",
  { put: putBytes, get: getBytes, wonReturnsExpected: false },
  true,
);

// every method checks its `this` first: a TypeError naming the method
let is: (o: unknown) => boolean = () => false; // set by the class's static block

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
export class AtomicBytes extends ByteString {
  /** The widths an AtomicBytes can have: 1, 2, 4, 8, 16. */
  static readonly WIDTHS: readonly ByteWidth[] = BYTE_WIDTHS;
  /** The width in bytes: 1, 2, 4, 8 or 16. */
  declare readonly width: ByteWidth;
  /** The brand: only instances made by this constructor have it. */
  #bytes = true;

  static {
    is = (o) => typeof o === "object" && o !== null && #bytes in o;
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
    super(BYTES, memory, byteOffset, width);
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
    return createByteString(AtomicBytes, BYTES, width, initial);
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
  static from(descriptor: WideDescriptor | string): AtomicBytes {
    return rebuildByteString(
      AtomicBytes,
      BYTES,
      openDescriptorOrHandle("AtomicBytes.from", descriptor, BYTES.accepted),
    );
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
    return rebuildByteString(AtomicBytes, BYTES, openHandle("AtomicBytes.fromHandle", handle, BYTES.accepted));
  }

  /** The type name in descriptors and handles: `"bytes1"` … `"bytes16"`. */
  get type(): `bytes${ByteWidth}` {
    return `bytes${this.width}`;
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
    if (!is(this)) throw bytesBrand.notThis(this, "AtomicBytes.loadInto");
    const where = "AtomicBytes.loadInto";
    if (bytesLength(target) !== this.width) {
      throw badBytes(target, this.width, where, "target");
    }
    this.engine.load(this.ptr, order, where);
    for (let i = 0; i < this.width; i++) target[i] = S8[i];
    return target;
  }

  /** `AtomicBytes(ca fe)`: the value in hex. */
  override toString(): string {
    return `AtomicBytes(${hex(this.load())})`;
  }
}

/**
 * The operations of an `AtomicBytes`, from the wide table: those of every
 * atomic and the bitwise ones, on `Uint8Array` values of exactly `width`
 * bytes, combined byte by byte.
 */
export interface AtomicBytes extends AtomicBase<Uint8Array>, AtomicBitwise<Uint8Array> {
  /**
   * Writes `desired` if all `width` bytes equal `expected`; returns the
   * previous value either way (you won iff its bytes equal `expected`'s).
   */
  compareExchange(expected: Uint8Array, desired: Uint8Array, order?: MemoryOrder): Uint8Array;
  /** The descriptor to send this atomic to a Worker. */
  descriptor(): WideDescriptor;
}

const bytesBrand = brand("AtomicBytes", is); // set by the class's static block
defineByteString(AtomicBytes, BYTES, bytesBrand);
