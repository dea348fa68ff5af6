/**
 * A wait's arguments, checked the same way by every waiting method, local
 * (shared memory) or remote (Valkey): a `timeoutMs` (undefined or Infinity:
 * forever; NaN and negatives throw) and an `AbortSignal` (a real one: its
 * own `aborted` accessor accepts it). No native library: the Valkey backend
 * uses it too.
 *
 * @module
 */

import { rangeError, typeError } from "../errors.ts";

/** Checks a timeout in milliseconds: undefined or Infinity is forever; NaN and negatives throw. */
export function checkTimeout(where: string, timeoutMs: unknown): number {
  if (timeoutMs === undefined) return Infinity;
  if (typeof timeoutMs !== "number") throw typeError(where, "timeoutMs", "a number of milliseconds", timeoutMs);
  if (!(timeoutMs >= 0)) throw rangeError(where, "timeoutMs", "a number of milliseconds ≥ 0, or Infinity", timeoutMs);
  return timeoutMs;
}

const signalAborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted")!.get!;

/** Checks an AbortSignal argument. */
export function checkSignal(where: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  // a real AbortSignal (of this realm): its own `aborted` accessor accepts it, whatever the object claims
  try {
    if (signal !== null && typeof signal === "object") {
      signalAborted.call(signal);
      return signal as AbortSignal;
    }
  } catch { /* not an AbortSignal */ }
  throw typeError(where, "signal", "an AbortSignal", signal);
}

/** A checked wait: when it ends, a `performance.now()` time (Infinity: never), and what aborts it. */
export interface Wait {
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
}

/** Checks a wait's `timeoutMs` and `signal`, arguments of `where`. */
export function waitOf(where: string, timeoutMs: unknown, signal: unknown): Wait {
  const t = checkTimeout(where, timeoutMs);
  return { deadline: performance.now() + t, signal: checkSignal(where, signal) };
}

/** `waitOf` for an async wait about to start: a signal that has already aborted throws its reason now. */
export function startWait(where: string, timeoutMs: unknown, signal: unknown): Wait {
  const w = waitOf(where, timeoutMs, signal);
  if (w.signal?.aborted) throw w.signal.reason;
  return w;
}
