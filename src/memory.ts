/**
 * Validates where an atomic lives, once, at construction: the memory kind,
 * the byte offset, the bounds and the alignment.
 *
 * @module
 */

import { rangeError, typeError } from "./errors.ts";

/**
 * Memory an atomic can live in: a `SharedArrayBuffer`, or a typed array or
 * `DataView` over one (the byte offset is then relative to the view).
 *
 * @example
 * ```ts
 * import { AtomicI32, type AtomicMemory } from "./mod.ts";
 * const memory: AtomicMemory = new Int32Array(new SharedArrayBuffer(16));
 * new AtomicI32(memory, 4).store(7);
 * ```
 */
export type AtomicMemory = SharedArrayBuffer | ArrayBufferView;

/** A validated place: the buffer, the absolute offset, a view of the value's bytes. */
export interface Region {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly view: Uint8Array;
}

const tag = (v: unknown): string => Object.prototype.toString.call(v).slice(8, -1);

/** Whether `v` is a SharedArrayBuffer (of any realm). */
export function isSharedArrayBuffer(v: unknown): v is SharedArrayBuffer {
  return tag(v) === "SharedArrayBuffer";
}

const MEMORY = "a SharedArrayBuffer, or a typed array or DataView over one";

/**
 * Checks `memory` and `byteOffset` for a value of `size` bytes aligned to
 * `align`, and returns where it is. Throws a TypeError or RangeError naming
 * `where` otherwise.
 */
export function region(where: string, memory: unknown, byteOffset: unknown, size: number, align: number): Region {
  let buffer: unknown = memory;
  let base = 0;
  let length: number;
  if (ArrayBuffer.isView(memory)) {
    buffer = memory.buffer;
    base = memory.byteOffset;
    length = memory.byteLength;
  }
  if (!isSharedArrayBuffer(buffer)) {
    if (tag(buffer) === "ArrayBuffer") {
      const detached = (buffer as { detached?: boolean }).detached === true;
      throw typeError(
        where,
        "memory",
        `${MEMORY} (${detached ? "this ArrayBuffer is detached" : "an ArrayBuffer is not shared"})`,
        memory,
      );
    }
    throw typeError(where, "memory", MEMORY, memory);
  }
  length ??= buffer.byteLength;
  if (byteOffset === undefined) byteOffset = 0;
  if (typeof byteOffset !== "number") throw typeError(where, "byteOffset", "a number", byteOffset);
  const last = length - size;
  if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset > last) {
    const allowed = last < 0
      ? `within the memory, but ${length} bytes cannot hold a ${size}-byte value`
      : `an integer in [0, ${last}] (${length} bytes of memory, ${size}-byte value)`;
    throw rangeError(where, "byteOffset", allowed, byteOffset);
  }
  const absolute = base + byteOffset;
  if (absolute % align !== 0) {
    throw rangeError(
      where,
      "byteOffset",
      `a multiple of ${align} (the value's alignment)${base ? `, counting the view's own offset ${base}` : ""}`,
      byteOffset,
    );
  }
  return { buffer, byteOffset: absolute, view: new Uint8Array(buffer, absolute, size) };
}
