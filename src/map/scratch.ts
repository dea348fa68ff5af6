/**
 * Where keys and values cross the FFI: each SharedMap instance has its own
 * small SharedArrayBuffer (a result word, a key, two values), whose pointers
 * are computed once. Strings are encoded straight into it as UTF-8
 * (`TextEncoder.encodeInto`); byte arrays are copied in.
 *
 * @module
 */

import { backend, type Pointer } from "../native/backend.ts";
import { rangeError, typeError } from "../errors.ts";
import { isUint8Array, sharedBuffer } from "../memory/region.ts";

export { isUint8Array };

const encoder = new TextEncoder();
/** The engine's length of a typed array (an own `length` property cannot change it). */
const lengthOf = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, "length")!
  .get! as (this: unknown) => number;

const align8 = (n: number): number => (n + 7) & ~7;

/** A key or value as a map accepts it. */
export type MapBytes = Uint8Array | string;

/** One instance's scratch memory. */
export class Scratch {
  /** All of it. */
  readonly bytes: Uint8Array;
  /** The result word (8 bytes at 0) as a signed 64-bit integer and as a double. */
  readonly i64: BigInt64Array;
  readonly f64: Float64Array;
  /** The key area, the first and the second value area. */
  readonly key: Uint8Array;
  readonly a: Uint8Array;
  readonly b: Uint8Array;
  /** Byte offset of the first value area. */
  readonly aOffset: number;
  readonly outPtr: Pointer;
  readonly keyPtr: Pointer;
  readonly aPtr: Pointer;
  readonly bPtr: Pointer;
  readonly #keySize: number;
  readonly #valueSize: number;
  /** Strings up to this long (in UTF-16 units) are tried as ASCII first (which fits if they are). */
  readonly #asciiKey: number;

  constructor(keySize: number, valueSize: number) {
    const aOffset = align8(8 + keySize);
    const bOffset = aOffset + align8(valueSize);
    const sab = sharedBuffer("new SharedMap", bOffset + align8(valueSize));
    this.bytes = new Uint8Array(sab);
    this.i64 = new BigInt64Array(sab, 0, 1);
    this.f64 = new Float64Array(sab, 0, 1);
    this.key = new Uint8Array(sab, 8, keySize);
    this.a = new Uint8Array(sab, aOffset, valueSize);
    this.b = new Uint8Array(sab, bOffset, valueSize);
    this.aOffset = aOffset;
    const b = backend();
    this.outPtr = b.pointer(this.bytes);
    this.keyPtr = b.pointerAt(this.outPtr, 8);
    this.aPtr = b.pointerAt(this.outPtr, aOffset);
    this.bPtr = b.pointerAt(this.outPtr, bOffset);
    this.#keySize = keySize;
    this.#valueSize = valueSize;
    this.#asciiKey = Math.min(keySize, 64);
  }

  /** Puts `key` in the key area; returns its length in bytes. */
  putKey(where: string, key: unknown): number {
    if (typeof key === "string") {
      const n = key.length;
      const k = this.key;
      if (n <= this.#asciiKey) {
        // ASCII by hand (faster than encodeInto for short keys); the first other character hands over
        for (let i = 0; i < n; i++) {
          const c = key.charCodeAt(i);
          if (c >= 0x80) return this.#encodeKey(where, key);
          k[i] = c;
        }
        return n;
      }
      return this.#encodeKey(where, key);
    }
    if (isUint8Array(key)) {
      const n = lengthOf.call(key);
      if (n > this.#keySize) {
        throw rangeError(where, "key", `at most ${this.#keySize} bytes (the map's keySize)`, key);
      }
      this.key.set(key);
      return n;
    }
    throw typeError(where, "key", "a string or a Uint8Array", key);
  }

  readonly #prefixes: Uint8Array[] = [];

  /** The first `n` bytes of the first value area (views of lengths up to 4 KiB made once, then reused). */
  prefix(n: number): Uint8Array {
    if (n > 4096) return this.a.subarray(0, n);
    return this.#prefixes[n] ??= this.a.subarray(0, n);
  }

  #encodeKey(where: string, key: string): number {
    const r = encoder.encodeInto(key, this.key);
    if (r.read === key.length) return r.written;
    throw rangeError(where, "key", `at most ${this.#keySize} bytes of UTF-8 (the map's keySize)`, key);
  }

  /** Puts `value` in value area `area` (this.a or this.b); returns its length in bytes. */
  putValue(where: string, param: string, value: unknown, area: Uint8Array): number {
    if (typeof value === "string") {
      const r = encoder.encodeInto(value, area);
      if (r.read === value.length) return r.written;
      throw rangeError(where, param, `at most ${this.#valueSize} bytes of UTF-8 (the map's valueSize)`, value);
    }
    if (isUint8Array(value)) {
      const n = lengthOf.call(value);
      if (n > this.#valueSize) {
        throw rangeError(where, param, `at most ${this.#valueSize} bytes (the map's valueSize)`, value);
      }
      area.set(value);
      return n;
    }
    throw typeError(where, param, "a Uint8Array or a string", value);
  }
}
