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

/** The pool of this thread: `get` reads and advances it inline (a call per field costs more than the map). */
export const pool: { buffer: ArrayBuffer; pointer: Pointer; used: number } = {
  buffer: new ArrayBuffer(0),
  pointer: null,
  used: 0,
};

/** Replaces the pool with a fresh one of at least `n` free bytes (it was full, or detached). */
export function renew(n: number): void {
  pool.buffer = new ArrayBuffer(Math.max(POOL_BYTES, 4 * n));
  pool.pointer = backend().pointer(new Uint8Array(pool.buffer));
  pool.used = 0;
}

/** Hands out the `n` bytes at `pool.used` as a Uint8Array, which the pool never writes again. */
export function take(n: number): Uint8Array {
  const v = new Uint8Array(pool.buffer, pool.used, n);
  pool.used += (n + 7) & ~7;
  return v;
}
