/**
 * Bun's asynchronous waits: an internal Worker that blocks in the native
 * wait (in 20 ms slices, watching a cancel word) and posts the result back.
 * A native thread calling a JSCallback instead would crash the process if
 * the waiting Worker were terminated first; a message to a closed port is
 * simply dropped.
 *
 * @module
 */

import "../../bun.ts";
import { WAITER_CANCELLED as CANCELLED, WAITER_YIELDED as YIELDED, waitSymbols } from "./waiting.ts";
import { WAIT_RESULTS } from "../native/abi.ts";

/** One wait request from `waiting.ts`. */
export interface WaitRequest {
  readonly ptr: number;
  readonly expected: number;
  readonly timeoutMs: number;
  /** Set to 1 when the wait is abandoned (aborted, or its segment closed). */
  readonly cancel: Int32Array;
  /** Whether this is the wait's first slice ("not-equal" is only reported then). */
  readonly first: boolean;
  /** Word 0 is 1 while other waits queue for a waiter: give this one back after a slice. */
  readonly contended: Int32Array;
}

const SLICE_MS = 20;
const OK = WAIT_RESULTS.indexOf("ok"), NOT_EQUAL = WAIT_RESULTS.indexOf("not-equal");
const TIMED_OUT = WAIT_RESULTS.indexOf("timed-out");
// this Worker's own results, after the library's
// deno-lint-ignore no-explicit-any
const scope = globalThis as any;

scope.onmessage = (e: MessageEvent<WaitRequest>) => {
  const { ptr, expected, timeoutMs, cancel, contended } = e.data;
  const wait = waitSymbols().sa_wait32;
  const deadline = performance.now() + timeoutMs;
  let result = CANCELLED;
  for (let first = e.data.first, slices = 0;; first = false, slices++) {
    if (Atomics.load(cancel, 0) !== 0) break;
    if (slices > 0 && Atomics.load(contended, 0) !== 0) {
      result = YIELDED;
      break;
    }
    const left = deadline - performance.now();
    if (left <= 0) {
      result = TIMED_OUT;
      break;
    }
    const r = wait(ptr, expected, Math.min(left, SLICE_MS));
    if (r === OK || r === NOT_EQUAL) {
      // a value that changed between slices means we were (about to be) woken
      result = r === NOT_EQUAL && !first ? OK : r;
      break;
    }
  }
  scope.postMessage({ result });
};
