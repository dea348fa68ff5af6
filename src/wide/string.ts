/**
 * `AtomicString`: short UTF-8 text (up to 16 bytes) in an `AtomicBytes`,
 * read, written and compared atomically.
 *
 * The encoding: the string's UTF-8 bytes, then zero bytes up to the width.
 * Strings containing NUL (U+0000) are rejected, so the zero padding is never
 * ambiguous and every accepted string round-trips exactly; the empty string
 * is all zeros (what fresh memory holds). A C program sees a NUL-terminated
 * string, or `width` bytes with no terminator when the text fills the width.
 *
 * @module
 */

import { brand } from "../atomics/method.ts";
import type { AtomicBase } from "../atomics/types.ts";
import { describe, typeError } from "../errors.ts";
import type { AtomicMemory } from "../memory/region.ts";
import { openDescriptorOrHandle, openHandle } from "../memory/descriptor.ts";
import { AtomicBytes } from "./bytes.ts";
import { byteKind, ByteString, createByteString, defineByteString, rebuildByteString } from "./byte_string.ts";
import { S32, S8, type WideDescriptor } from "./native.ts";
import { BYTE_WIDTHS, type ByteWidth } from "./table.ts";

const encoder = new TextEncoder();
// ignoreBOM: a leading EF BB BF is the character U+FEFF, as the fast path decodes it, not something to drop
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Why `s` cannot be stored in `w` bytes (the cold path of `encode`). */
function badString(s: unknown, w: number, where: string, param: string): Error {
  if (typeof s !== "string") return typeError(where, param, `a string (at most ${w} bytes of UTF-8)`, s);
  if (/\p{Surrogate}/u.test(s)) {
    return new RangeError(
      `${where}: ${param} must be well-formed UTF-16 (a lone surrogate has no UTF-8 encoding); got ${describe(s)}`,
    );
  }
  if (s.includes("\0")) {
    return new RangeError(
      `${where}: ${param} must not contain NUL (U+0000): zero bytes are an AtomicString's padding; got ${describe(s)}`,
    );
  }
  const n = encoder.encode(s).length;
  return new RangeError(
    `${where}: ${param} must be at most ${w} bytes of UTF-8 (the width of this AtomicString); ` +
      `got ${n} bytes: ${describe(s)}`,
  );
}

/**
 * Writes `s` as UTF-8 into the scratch at `at`, zero-padded to `w` bytes;
 * throws (before anything reaches shared memory) if it is not a string, has
 * a lone surrogate or a NUL, or is longer than `w` bytes. Never cuts a
 * character: a string either fits whole or is refused.
 */
function encode(s: unknown, at: number, w: number, where: string, param: string): void {
  if (typeof s !== "string") throw badString(s, w, where, param);
  const n = s.length;
  if (n <= w) {
    // ASCII without NUL, the common case: four characters per 32-bit store
    let word = 0, i = 0, k = at >> 2;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || c === 0) break;
      word |= c << ((i & 3) << 3);
      if ((i & 3) === 3) {
        S32[k++] = word;
        word = 0;
      }
    }
    if (i === n) {
      // pad to whole words: the slot is 16 bytes; a width under 4 reads only its own bytes
      const end = (at >> 2) + ((w + 3) >> 2);
      if (k < end) S32[k++] = word;
      while (k < end) S32[k++] = 0;
      return;
    }
  }
  const end = at + w;
  let j = at;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0 || j >= end) throw badString(s, w, where, param);
      S8[j++] = c;
    } else if (c < 0x800) {
      if (j + 2 > end) throw badString(s, w, where, param);
      S8[j++] = 0xc0 | (c >> 6);
      S8[j++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      if (j + 3 > end) throw badString(s, w, where, param);
      S8[j++] = 0xe0 | (c >> 12);
      S8[j++] = 0x80 | ((c >> 6) & 0x3f);
      S8[j++] = 0x80 | (c & 0x3f);
    } else {
      const d = s.charCodeAt(i + 1); // NaN past the end
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff) || j + 4 > end) throw badString(s, w, where, param);
      const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      i++;
      S8[j++] = 0xf0 | (cp >> 18);
      S8[j++] = 0x80 | ((cp >> 12) & 0x3f);
      S8[j++] = 0x80 | ((cp >> 6) & 0x3f);
      S8[j++] = 0x80 | (cp & 0x3f);
    }
  }
  while (j < end) S8[j++] = 0;
}

/**
 * The string in the scratch at 0..w: trailing zero bytes are padding. Bytes
 * that are not UTF-8 (written by something else) decode as U+FFFD, as
 * `TextDecoder` does.
 */
function decode(w: number): string {
  let n = w;
  if (w >= 4) {
    let k = w >> 2; // whole zero words first
    while (k > 0 && S32[k - 1] === 0) k--;
    n = k << 2;
  }
  while (n > 0 && S8[n - 1] === 0) n--;
  let s = "";
  for (let i = 0; i < n;) {
    const c = S8[i];
    if (c < 0x80) {
      s += String.fromCharCode(c);
      i++;
      continue;
    }
    // a multi-byte sequence, decoded here only if well-formed
    const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > n) return decodeSlow(n);
    let cp = c & (0x7f >> len);
    for (let k = 1; k < len; k++) {
      const b = S8[i + k];
      if ((b & 0xc0) !== 0x80) return decodeSlow(n);
      cp = (cp << 6) | (b & 0x3f);
    }
    if (len === 3 ? cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff) : len === 4 && (cp < 0x10000 || cp > 0x10ffff)) {
      return decodeSlow(n);
    }
    s += String.fromCodePoint(cp);
    i += len;
  }
  return s;
}

/** What `TextDecoder` makes of the first `n` scratch bytes (U+FFFD for what is not UTF-8). */
function decodeSlow(n: number): string {
  return decoder.decode(S8.slice(0, n)); // TextDecoder refuses shared memory: a copy
}

const STRINGS = byteKind<string>("AtomicString", "str", { put: encode, get: decode, wonReturnsExpected: true }, false);

// every method checks its `this` first: a TypeError naming the method
let is: (o: unknown) => boolean = () => false; // set by the class's static block

/**
 * Short UTF-8 text, atomically: up to `width` bytes (1, 2, 4, 8 or 16) of
 * UTF-8, read, written and compared in one lock-free operation. A string too
 * long for the width is refused with a `RangeError` naming both lengths (never
 * cut, so never cut in the middle of a character); so are strings with a NUL
 * (U+0000) or a lone surrogate.
 *
 * Encoding, in memory: the UTF-8 bytes, then zero bytes up to the width. The
 * empty string is all zeros; a string that fills the width has no
 * terminator. Compare-exchange compares these bytes, so it is exact string
 * equality (no Unicode normalization). Bytes written by something else that
 * are not UTF-8 load as U+FFFD.
 *
 * @example
 * ```ts
 * import { AtomicString } from "./mod.ts";
 * const state = AtomicString.create(8, "idle");
 * state.compareAndSet("idle", "running"); // true: this caller won
 * state.compareExchange("idle", "stopped"); // "running": someone else won
 * state.exchange("naïve"); // "running" (6 bytes of UTF-8)
 * ```
 */
export class AtomicString extends ByteString {
  /** The widths an AtomicString can have: 1, 2, 4, 8, 16 (bytes of UTF-8). */
  static readonly WIDTHS: readonly ByteWidth[] = BYTE_WIDTHS;
  /** The width in bytes: the longest UTF-8 encoding it holds. */
  declare readonly width: ByteWidth;
  /** The brand: only instances made by this constructor have it. */
  #string = true;

  static {
    is = (o) => typeof o === "object" && o !== null && #string in o;
  }

  /**
   * Text of up to `width` bytes of UTF-8 over `memory` at `byteOffset`,
   * checked for bounds and alignment (a multiple of `width`). Zeroed memory
   * reads as `""`. Throws `AtomicUnavailableError` for width 16 where
   * 16-byte atomics are not lock-free.
   *
   * @example
   * ```ts
   * import { AtomicString } from "./mod.ts";
   * const sab = new SharedArrayBuffer(32);
   * const name = new AtomicString(sab, 16, 16);
   * name.load(); // ""
   * ```
   */
  constructor(memory: AtomicMemory, byteOffset: number | undefined, width: ByteWidth) {
    super(STRINGS, memory, byteOffset, width);
  }

  /**
   * A fresh atomic in its own SharedArrayBuffer of `width` bytes, holding
   * `initial` (default `""`).
   *
   * @example
   * ```ts
   * import { AtomicString } from "./mod.ts";
   * AtomicString.create(4, "ab").load(); // "ab"
   * ```
   */
  static create(width: ByteWidth, initial?: string): AtomicString {
    return createByteString(AtomicString, STRINGS, width, initial);
  }

  /**
   * Rebuilds an atomic from its descriptor (e.g. in a Worker).
   *
   * @example
   * ```ts
   * import { AtomicString } from "./mod.ts";
   * const d = AtomicString.create(16, "job-42").descriptor(); // { kind, type: "str16", buffer, byteOffset }
   * AtomicString.from(d).load(); // "job-42"
   * ```
   */
  static from(descriptor: WideDescriptor | string): AtomicString {
    return rebuildByteString(
      AtomicString,
      STRINGS,
      openDescriptorOrHandle("AtomicString.from", descriptor, STRINGS.accepted),
    );
  }

  /**
   * Rebuilds an atomic from its handle string (e.g. in another process),
   * opening the segment.
   *
   * @example
   * ```ts
   * import { AtomicString, SharedMemory } from "./mod.ts";
   * const seg = SharedMemory.create(`/string-demo-${Date.now()}`, 64);
   * const h = new AtomicString(seg, 0, 8).handle(); // "sa1:str8@0:shm:/string-demo-…?id=…"
   * AtomicString.fromHandle(h).store("hi"); // in another process
   * seg.close();
   * seg.unlink();
   * ```
   */
  static fromHandle(handle: string): AtomicString {
    return rebuildByteString(AtomicString, STRINGS, openHandle("AtomicString.fromHandle", handle, STRINGS.accepted));
  }

  /** The type name in descriptors and handles: `"str1"` … `"str16"`. */
  get type(): `str${ByteWidth}` {
    return `str${this.width}`;
  }

  /**
   * An `AtomicBytes` over the same memory: the raw bytes (UTF-8 and zero
   * padding).
   *
   * @example
   * ```ts
   * import { AtomicString } from "./mod.ts";
   * AtomicString.create(4, "é").asBytes().load(); // Uint8Array [195, 169, 0, 0]
   * ```
   */
  asBytes(): AtomicBytes {
    if (!is(this)) throw stringBrand.notThis(this, "AtomicString.asBytes");
    return new AtomicBytes(this.memory, this.byteOffset, this.width);
  }

  /** `AtomicString("text")`. */
  override toString(): string {
    return `AtomicString(${JSON.stringify(this.load())})`;
  }
}

/**
 * The operations of an `AtomicString`, from the wide table: those of every
 * atomic, on strings of at most `width` bytes of UTF-8.
 */
export interface AtomicString extends AtomicBase<string> {
  /** The descriptor to send this atomic to a Worker. */
  descriptor(): WideDescriptor;
}

const stringBrand = brand("AtomicString", is); // set by the class's static block
defineByteString(AtomicString, STRINGS, stringBrand);
