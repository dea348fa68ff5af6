/**
 * Validates where an atomic lives, once, at construction: the memory kind,
 * the byte offset, the bounds and the alignment; then computes the pointer.
 *
 * @module
 */

import { backend, type Pointer } from "./backend.ts";
import { rangeError, typeError } from "./errors.ts";
import { SEGMENT, type SharedMemory } from "./shared_memory.ts";

/**
 * Memory an atomic can live in: a `SharedArrayBuffer`, a typed array or
 * `DataView` over one (the byte offset is then relative to the view), or a
 * `SharedMemory` segment shared with other processes.
 *
 * @example
 * ```ts
 * import { AtomicI32, type AtomicMemory } from "./mod.ts";
 * const memory: AtomicMemory = new Int32Array(new SharedArrayBuffer(16));
 * new AtomicI32(memory, 4).store(7);
 * ```
 */
export type AtomicMemory = SharedArrayBuffer | ArrayBufferView | SharedMemory;

/** A validated place. */
export interface Region {
  /** What the atomic keeps alive: the SharedArrayBuffer or the SharedMemory. */
  readonly owner: SharedArrayBuffer | SharedMemory;
  /** The offset within `owner`. */
  readonly byteOffset: number;
  readonly pointer: Pointer;
  /** For a SharedMemory: make `target` use `closed` as prototype on close. */
  readonly track?: (target: object, closed: object) => void;
}

const tag = (v: unknown): string => Object.prototype.toString.call(v).slice(8, -1);

/** Whether `v` is a SharedArrayBuffer (of any realm). */
export function isSharedArrayBuffer(v: unknown): v is SharedArrayBuffer {
  return tag(v) === "SharedArrayBuffer";
}

const MEMORY = "a SharedArrayBuffer, a typed array or DataView over one, or a SharedMemory";

/** Checks bounds and alignment of `byteOffset` within `length` bytes starting at `base`. */
function offset(where: string, byteOffset: unknown, length: number, base: number, size: number, align: number): number {
  if (byteOffset === undefined) byteOffset = 0;
  if (typeof byteOffset !== "number") throw typeError(where, "byteOffset", "a number", byteOffset);
  const last = length - size;
  if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset > last) {
    const allowed = last < 0
      ? `within the memory, but ${length} bytes cannot hold a ${size}-byte value`
      : `an integer in [0, ${last}] (${length} bytes of memory, ${size}-byte value)`;
    throw rangeError(where, "byteOffset", allowed, byteOffset);
  }
  if ((base + byteOffset) % align !== 0) {
    throw rangeError(
      where,
      "byteOffset",
      `a multiple of ${align} (the value's alignment)${base ? `, counting the view's own offset ${base}` : ""}`,
      byteOffset,
    );
  }
  return base + byteOffset;
}

/**
 * Checks `memory` and `byteOffset` for a value of `size` bytes aligned to
 * `align`, and returns where it is. Throws a TypeError or RangeError naming
 * `where` otherwise.
 */
export function region(where: string, memory: unknown, byteOffset: unknown, size: number, align: number): Region {
  if (memory !== null && typeof memory === "object" && SEGMENT in memory) {
    const seg = memory as SharedMemory;
    const view = seg[SEGMENT](where);
    const at = offset(where, byteOffset, view.byteLength, 0, size, align);
    return { owner: seg, byteOffset: at, pointer: backend().pointerAt(view.base, at), track: view.track };
  }
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
  const at = offset(where, byteOffset, length, base, size, align);
  return { owner: buffer, byteOffset: at, pointer: backend().pointer(new Uint8Array(buffer, at, size)) };
}
