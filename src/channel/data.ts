/**
 * A channel message's bytes on their way in and out: what a message may be
 * (a Uint8Array, checked by its internal slot, or a string sent as UTF-8),
 * how long it is, and the staging memory (a SharedArrayBuffer, whose
 * pointer never moves) messages cross the FFI through, one message or a
 * batch of records (a little-endian u32 length, then the bytes, padded to 4).
 *
 * @module
 */

import { backend, type Pointer } from "../native/backend.ts";
import { typeError } from "../errors.ts";
import { isUint8Array, sharedBuffer } from "../memory/region.ts";

const typedArrayLength = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), "length")!.get!;
const typedArrayBuffer = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), "buffer")!.get!;
const sharedPrototype = SharedArrayBuffer.prototype;
const sharedLength = Object.getOwnPropertyDescriptor(sharedPrototype, "byteLength")!.get!;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The byte length of `v` if it is a Uint8Array, else -1. The length is the
 * engine's own (the typed-array getter, which throws for anything that is
 * not a typed array, whatever it claims), so the bytes staged and sent are
 * always the array's real ones.
 */
export function bytesLength(v: unknown): number {
  if (!isUint8Array(v)) return -1; // never `instanceof`, which can run a Proxy's trap mid-call (see isUint8Array)
  try {
    return typedArrayLength.call(v) as number;
  } catch {
    return -1;
  }
}

const typedArrayOffset = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), "byteOffset")!
  .get!;

/**
 * Whether view `v` (of `n` bytes) overlaps bytes [at, at + size) of
 * `buffer`, by the engine's own buffer and offset.
 */
export function overlaps(v: Uint8Array, n: number, buffer: unknown, at: number, size: number): boolean {
  if (typedArrayBuffer.call(v) !== buffer) return false;
  const start = typedArrayOffset.call(v) as number;
  return start < at + size && at < start + n;
}

/**
 * Whether a Uint8Array is a view of a SharedArrayBuffer (its memory never
 * moves). The buffer's prototype sorts out the common case, a plain
 * ArrayBuffer, without throwing (a thrown and caught error costs
 * microseconds) and without running user code (`instanceof` would call a
 * redefined `Symbol.hasInstance`); a buffer it accepts is then
 * brand-checked by the engine's own getter. A real SharedArrayBuffer with
 * another prototype (another realm, a changed one) only takes the slower
 * staged path.
 */
export function isSharedView(v: Uint8Array): boolean {
  const buffer = typedArrayBuffer.call(v);
  if (Object.getPrototypeOf(buffer) !== sharedPrototype) return false;
  try {
    sharedLength.call(buffer);
    return true;
  } catch {
    return false;
  }
}

/** The UTF-8 length of `s` (lone surrogates count as U+FFFD, 3 bytes, as TextEncoder writes them). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** What a message may be. */
const ALLOWED = "a Uint8Array or a string";

/**
 * Checks message `v` against `max` bytes: a TypeError for anything but a
 * Uint8Array or string, a RangeError naming both lengths for one that is
 * too long. Returns the bytes it needs at most (a Uint8Array's length; a
 * string's UTF-8 length, or 3 bytes per UTF-16 unit where that fits).
 */
export function messageLength(where: string, param: string, v: unknown, max: number): number {
  let n: number;
  if (typeof v === "string") {
    n = v.length * 3 <= max ? v.length * 3 : utf8Length(v);
  } else if ((n = bytesLength(v)) < 0) throw typeError(where, param, ALLOWED, v);
  if (n > max) {
    throw new RangeError(`${where}: ${param} must be at most messageSize (${max}) bytes long; got ${n} bytes`);
  }
  return n;
}

/** Per-instance staging memory: bytes, their pointer, and views for the hot paths. */
export class Staging {
  readonly bytes: Uint8Array;
  readonly pointer: Pointer;
  readonly #view: DataView;

  /** At least `size` bytes (rounded up to 8). */
  constructor(size: number) {
    this.bytes = new Uint8Array(sharedBuffer("new Channel", Math.ceil(size / 8) * 8));
    this.pointer = backend().pointer(this.bytes);
    this.#view = new DataView(this.bytes.buffer);
  }

  /**
   * Writes message `v` (already checked) at byte `at`; returns its length.
   * `room` is what `messageLength` returned: a Uint8Array's exact length, a
   * string's most.
   */
  put(v: string | Uint8Array, at: number, room: number): number {
    if (typeof v !== "string") {
      this.bytes.set(v, at);
      return room;
    }
    if (v.length === 0) return 0;
    return encoder.encodeInto(v, this.bytes.subarray(at, at + room)).written!;
  }

  /** A copy of bytes [at, at + n) the caller owns (a plain ArrayBuffer). */
  copy(at: number, n: number): Uint8Array {
    return this.bytes.slice(at, at + n);
  }

  /** Bytes [at, at + n) as UTF-8 text. */
  text(at: number, n: number): string {
    return decoder.decode(this.bytes.slice(at, at + n));
  }

  /** The u32 record length at `at`. */
  getLength(at: number): number {
    return this.#view.getUint32(at, true);
  }

  /** Writes a record length. */
  setLength(at: number, n: number): void {
    this.#view.setUint32(at, n, true);
  }
}

/** Bytes a batch record of an `n`-byte message takes. */
export function recordBytes(n: number): number {
  return 4 + ((n + 3) & ~3);
}
