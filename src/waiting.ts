/**
 * Waiting on a 32-bit word, between Workers and between processes: the
 * blocking wait, the asynchronous one (Deno: a nonblocking FFI call; Bun: an
 * internal waiter Worker blocking in the native wait), wake,
 * and the drivers that run a primitive's algorithm in either form.
 *
 * @module
 */

import { backend, type NativeFn, type Pointer } from "./backend.ts";
import { rangeError, typeError } from "./errors.ts";
import { openGroup } from "./native.ts";
import { WAIT_NONBLOCKING, WAIT_SYMBOLS } from "./table.ts";

/**
 * How a wait ended: woken (`"ok"`, which like any futex wait can also be
 * spurious), the value was not the expected one to begin with
 * (`"not-equal"`), or the time ran out (`"timed-out"`).
 *
 * @example
 * ```ts
 * import { AtomicI32, type WaitResult } from "./mod.ts";
 * const r: WaitResult = AtomicI32.create(0).wait(1); // "not-equal"
 * ```
 */
export type WaitResult = "ok" | "not-equal" | "timed-out";

const RESULTS: readonly WaitResult[] = ["ok", "not-equal", "timed-out"];

/** The wait exports. */
export function waitSymbols(): Record<string, NativeFn> {
  return openGroup("wait", WAIT_SYMBOLS);
}

/** Checks a timeout in milliseconds: undefined or Infinity is forever; NaN and negatives throw. */
export function checkTimeout(where: string, timeoutMs: unknown): number {
  if (timeoutMs === undefined) return Infinity;
  if (typeof timeoutMs !== "number") throw typeError(where, "timeoutMs", "a number of milliseconds", timeoutMs);
  if (!(timeoutMs >= 0)) throw rangeError(where, "timeoutMs", "a number of milliseconds ≥ 0, or Infinity", timeoutMs);
  return timeoutMs;
}

/** Checks an AbortSignal argument. */
export function checkSignal(where: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (signal === null || typeof signal !== "object" || typeof (signal as AbortSignal).aborted !== "boolean") {
    throw typeError(where, "signal", "an AbortSignal", signal);
  }
  return signal as AbortSignal;
}

/** Blocks while `*ptr === expected` (as u32), up to `timeoutMs`. */
export function waitSync(ptr: Pointer, expected: number, timeoutMs: number): WaitResult {
  return RESULTS[waitSymbols().sa_wait32(ptr, expected >>> 0, timeoutMs)];
}

/** Wakes up to `count` waiters (Infinity: all); returns how many were woken. */
export function wake(ptr: Pointer, count: number): number {
  return waitSymbols().sa_wake32(ptr, count === Infinity ? 0 : count);
}

let tid = 0;

/** The calling thread's id (the Linux tid; the pid elsewhere). */
export function threadId(): number {
  return tid || (tid = waitSymbols().sa_thread_id());
}

/** Whether thread or process `id` is alive. */
export function threadAlive(id: number): boolean {
  return waitSymbols().sa_thread_alive(id) !== 0;
}

/** How long one asynchronous slice waits, so an AbortSignal is noticed quickly. */
const SLICE_MS = 20;

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

/** Resolves when `signal` aborts (never, without one); `off()` detaches. */
function onAbort(signal: AbortSignal | undefined): { promise: Promise<never>; off(): void } {
  if (signal === undefined) return { promise: new Promise<never>(() => {}), off() {} };
  let off = () => {};
  const promise = new Promise<never>((_, reject) => {
    const fn = () => reject(abortError(signal));
    signal.addEventListener("abort", fn, { once: true });
    off = () => signal.removeEventListener("abort", fn);
  });
  promise.catch(() => {});
  return { promise, off };
}

// Bun: a pool of internal waiter Workers (see waiter_worker.ts); idle ones are unref'd.
interface Waiter {
  readonly worker: Worker & { ref?(): void; unref?(): void };
  resolve?: (result: number) => void;
}
const idle: Waiter[] = [];

function spawnWaiter(): Waiter {
  const worker: Waiter["worker"] = new Worker(new URL("./waiter_worker.ts", import.meta.url).href, { type: "module" });
  const waiter: Waiter = { worker };
  worker.onmessage = (e: MessageEvent<{ result: number }>) => {
    const resolve = waiter.resolve;
    waiter.resolve = undefined;
    worker.unref?.();
    idle.push(waiter);
    resolve?.(e.data.result);
  };
  return waiter;
}

function workerWait(ptr: Pointer, expected: number, timeoutMs: number, cancel: Int32Array): Promise<number> {
  const waiter = idle.pop() ?? spawnWaiter();
  waiter.worker.ref?.();
  const done = new Promise<number>((resolve) => (waiter.resolve = resolve));
  waiter.worker.postMessage({ token: 0, ptr, expected: expected >>> 0, timeoutMs, cancel });
  return done;
}

/**
 * Waits asynchronously while `*ptr === expected`: the event loop keeps
 * running. `keep` is held until the wait ends (the memory `ptr` points into).
 */
export async function waitAsync(
  ptr: Pointer,
  expected: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  keep: unknown,
): Promise<WaitResult> {
  if (signal?.aborted) throw abortError(signal);
  const abort = onAbort(signal);
  try {
    if (!backend().nonblocking) {
      const cancel = new Int32Array(new SharedArrayBuffer(4));
      const done = workerWait(ptr, expected, timeoutMs, cancel);
      try {
        const r = await Promise.race([done, abort.promise]);
        return RESULTS[r] ?? "ok";
      } catch (e) {
        Atomics.store(cancel, 0, 1); // the waiter notices within a slice
        throw e;
      }
    }
    const nb = openGroup("wait-nonblocking", WAIT_NONBLOCKING).sa_wait32_nonblocking;
    const deadline = performance.now() + timeoutMs;
    for (let first = true;; first = false) {
      const left = deadline - performance.now();
      if (left <= 0) return "timed-out";
      const r: number = await Promise.race([nb(ptr, expected >>> 0, Math.min(left, SLICE_MS)), abort.promise]);
      // a value that changed between slices means we were (about to be) woken
      if (r === 1) return first ? "not-equal" : "ok";
      if (r === 0) return "ok";
    }
  } finally {
    abort.off();
    void keep;
  }
}

/** One wait a primitive's algorithm asks for. */
export interface WaitStep {
  readonly ptr: Pointer;
  readonly expected: number;
  readonly timeoutMs: number;
}

/** An algorithm: yields the waits it needs, returns its result. */
export type Algorithm<T> = Generator<WaitStep, T, WaitResult>;

/** Runs an algorithm blocking this thread for its waits. */
export function runSync<T>(alg: Algorithm<T>): T {
  let step = alg.next();
  while (!step.done) step = alg.next(waitSync(step.value.ptr, step.value.expected, step.value.timeoutMs));
  return step.value;
}

/** Runs an algorithm with asynchronous waits; an abort ends it (its `finally` blocks run). */
export async function runAsync<T>(alg: Algorithm<T>, signal: AbortSignal | undefined, keep: unknown): Promise<T> {
  let step = alg.next();
  try {
    while (!step.done) {
      const s = step.value;
      step = alg.next(await waitAsync(s.ptr, s.expected, s.timeoutMs, signal, keep));
    }
    return step.value;
  } catch (e) {
    alg.return(undefined as T);
    throw e;
  }
}

/** Milliseconds left until `deadline` (performance.now() based), at most `cap`. */
export function left(deadline: number, cap: number): number {
  return Math.min(deadline - performance.now(), cap);
}
