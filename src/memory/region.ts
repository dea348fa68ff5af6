/**
 * Validates where an atomic lives, once, at construction: the memory kind,
 * the byte offset, the bounds and the alignment; then computes the pointer.
 *
 * @module
 */

import { backend, type Pointer } from "../native/backend.ts";
import { argumentError, rangeError, typeError } from "../errors.ts";
import { isSharedMemory, SEGMENT, type SharedMemory } from "./shared_memory.ts";

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

/** The engine's tag of `v` ("" when reading it throws: a revoked Proxy, a throwing toStringTag getter). */
function tag(v: unknown): string {
  try {
    return Object.prototype.toString.call(v).slice(8, -1);
  } catch {
    return "";
  }
}

// The engine's own accessors: they throw for anything that is not really a
// SharedArrayBuffer / typed array / DataView, whatever its tag, prototype or
// own properties claim (a Proxy, a subclass overriding `buffer`, a plain
// object with `Symbol.toStringTag`). Memory is recognised by what it is.
const getter = (proto: object, key: string): (this: unknown) => unknown =>
  Object.getOwnPropertyDescriptor(proto, key)!.get! as (this: unknown) => unknown;
const sabLength = getter(SharedArrayBuffer.prototype, "byteLength");
const abDetached = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "detached")?.get;
const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const taBuffer = getter(typedArrayProto, "buffer");
const taOffset = getter(typedArrayProto, "byteOffset");
const taLength = getter(typedArrayProto, "byteLength");
const dvBuffer = getter(DataView.prototype, "buffer");
const dvOffset = getter(DataView.prototype, "byteOffset");
const dvLength = getter(DataView.prototype, "byteLength");

/** The byte length of a real SharedArrayBuffer, or -1 for anything else (of any tag). */
function sharedLength(v: unknown): number {
  try {
    return sabLength.call(v) as number;
  } catch {
    return -1;
  }
}

/** Whether `v` really is a SharedArrayBuffer (a brand check that cannot be faked). */
export function isSharedArrayBuffer(v: unknown): v is SharedArrayBuffer {
  return sharedLength(v) >= 0;
}

/** A real view's buffer, offset and length, read through the engine's accessors. */
function viewParts(v: ArrayBufferView): [unknown, number, number] {
  for (const [buffer, offset, length] of [[taBuffer, taOffset, taLength], [dvBuffer, dvOffset, dvLength]]) {
    try {
      return [buffer.call(v), offset.call(v) as number, length.call(v) as number];
    } catch { /* not this kind of view, or detached */ }
  }
  return [undefined, 0, 0];
}

const tagOf = Object.getOwnPropertyDescriptor(typedArrayProto, Symbol.toStringTag)!.get! as (
  this: unknown,
) => string | undefined;

/**
 * Whether `v` really is a Uint8Array: a real view (`ArrayBuffer.isView` reads internal slots, never a Proxy's traps)
 * whose prototype is Uint8Array's, else the engine's own tag (a subclass, or a Uint8Array of another realm). The tag
 * alone costs 70 ns in Bun. Not `instanceof`: it walks the prototype chain, and a Proxy there runs its getPrototypeOf
 * trap (code that may call the very object whose staging memory is being filled, or close its segment) in the middle
 * of a call. A real typed array of another type given Uint8Array's prototype passes, harmlessly: it is only ever read
 * by its engine length and copied with `TypedArray.prototype.set`, which the engine bounds-checks.
 */
export function isUint8Array(v: unknown): v is Uint8Array {
  return (ArrayBuffer.isView(v) && Object.getPrototypeOf(v) === Uint8Array.prototype) || tagOf.call(v) === "Uint8Array";
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
  if (isSharedMemory(memory)) {
    const view = memory[SEGMENT](where);
    const at = offset(where, byteOffset, view.byteLength, 0, size, align);
    return { owner: memory, byteOffset: at, pointer: backend().pointerAt(view.base, at), track: view.track };
  }
  let buffer: unknown = memory;
  let base = 0;
  let length: number;
  if (ArrayBuffer.isView(memory)) [buffer, base, length] = viewParts(memory);
  const bufferLength = sharedLength(buffer);
  if (bufferLength < 0) {
    if (buffer !== undefined && tag(buffer) === "ArrayBuffer") {
      let detached = false;
      try {
        detached = abDetached?.call(buffer) === true;
      } catch { /* not really an ArrayBuffer */ }
      throw typeError(
        where,
        "memory",
        `${MEMORY} (${detached ? "this ArrayBuffer is detached" : "an ArrayBuffer is not shared"})`,
        memory,
      );
    }
    throw typeError(where, "memory", MEMORY, memory);
  }
  length ??= bufferLength;
  const at = offset(where, byteOffset, length, base, size, align);
  const sab = buffer as SharedArrayBuffer;
  return { owner: sab, byteOffset: at, pointer: backend().pointer(new Uint8Array(sab, at, size)) };
}

/**
 * The region of one value of `size` bytes, naturally aligned; what reading
 * the memory or offset throws (a hostile getter) is reported naming `where`
 * and "memory".
 */
export function valueRegion(where: string, memory: unknown, byteOffset: unknown, size: number): Region {
  try {
    return region(where, memory, byteOffset, size, size);
  } catch (e) {
    throw argumentError(where, "memory", e);
  }
}

/**
 * A new SharedArrayBuffer of `bytes` bytes, or a RangeError naming `where`
 * when the engine cannot make one (too large for it, or out of memory).
 */
export function sharedBuffer(where: string, bytes: number): SharedArrayBuffer {
  try {
    return new SharedArrayBuffer(bytes);
  } catch (e) {
    throw new RangeError(`${where}: cannot allocate ${bytes} bytes of shared memory (${(e as Error)?.message})`, {
      cause: e,
    });
  }
}
