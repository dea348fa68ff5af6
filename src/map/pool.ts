/**
 * Where `SharedMap.get` puts the values it returns: the native call writes
 * a value straight into a per-thread ArrayBuffer (64 KiB, or more for large
 * values), and `get` returns a Uint8Array over just those bytes. A region is
 * handed out once and never written again; a full pool is replaced, and
 * collected once no value over it is left. Allocating an ArrayBuffer per
 * value costs far more than the map itself (over a microsecond in Deno).
 *
 * A pool the program detached (by transferring a returned value's buffer)
 * reads as 0 bytes long, so it is replaced before native code could write
 * into it.
 *
 * @module
 */

import { backend, type Pointer } from "../native/backend.ts";

const POOL_BYTES = 64 * 1024;

let buffer = new ArrayBuffer(0);
let pointer: Pointer = null;
let used = 0;

/** The pool's buffer and pointer, with at least `n` bytes free at `offset()`. */
export function reserve(n: number): void {
  if (used + n <= buffer.byteLength) return;
  buffer = new ArrayBuffer(Math.max(POOL_BYTES, 4 * n));
  pointer = backend().pointer(new Uint8Array(buffer));
  used = 0;
}

/** The pool's base pointer (after `reserve`). */
export function poolPointer(): Pointer {
  return pointer;
}

/** Where the next value goes, in bytes from the pool's start. */
export function poolOffset(): number {
  return used;
}

/** Hands out the `n` bytes at `poolOffset()` as a Uint8Array, which the pool never writes again. */
export function take(n: number): Uint8Array {
  const v = new Uint8Array(buffer, used, n);
  used += (n + 7) & ~7;
  return v;
}

/** The `n` bytes at `poolOffset()`, decoded as UTF-8 (the region stays free). */
export function text(decoder: TextDecoder, n: number): string {
  return decoder.decode(new Uint8Array(buffer, used, n));
}
