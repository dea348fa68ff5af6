/**
 * Bun's asynchronous waits: an internal Worker that blocks in the native
 * wait (in 20 ms slices, watching a cancel word) and posts the result back.
 * A native thread calling a JSCallback instead would crash the process if
 * the waiting Worker were terminated first; a message to a closed port is
 * simply dropped.
 *
 * @module
 */

import "../bun.ts";
import { waitSymbols } from "./waiting.ts";

/** One wait request from `waiting.ts`. */
export interface WaitRequest {
  readonly token: number;
  readonly ptr: number;
  readonly expected: number;
  readonly timeoutMs: number;
  readonly cancel: Int32Array;
}

const SLICE_MS = 20;
// deno-lint-ignore no-explicit-any
const scope = globalThis as any;

scope.onmessage = (e: MessageEvent<WaitRequest>) => {
  const { token, ptr, expected, timeoutMs, cancel } = e.data;
  const wait = waitSymbols().sa_wait32;
  const deadline = performance.now() + timeoutMs;
  let result = 3; // cancelled
  for (let first = true;; first = false) {
    if (Atomics.load(cancel, 0) !== 0) break;
    const left = deadline - performance.now();
    if (left <= 0) {
      result = 2;
      break;
    }
    const r = wait(ptr, expected, Math.min(left, SLICE_MS));
    if (r === 0 || r === 1) {
      // a value that changed between slices means we were (about to be) woken
      result = r === 1 && !first ? 0 : r;
      break;
    }
  }
  scope.postMessage({ token, result });
};
