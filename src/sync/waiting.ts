/**
 * Waiting on a 32-bit word, between Workers and between processes: the
 * blocking wait, the asynchronous one (Deno: a nonblocking FFI call; Bun: an
 * internal waiter Worker blocking in the native wait), wake,
 * and the drivers that run a primitive's algorithm in either form.
 *
 * @module
 */

import { backend, type NativeFn, type Pointer } from "../native/backend.ts";
export { checkSignal, checkTimeout } from "./wait_args.ts";
import { openGroup, typeSymbols } from "../native/library.ts";
import { WAIT_NONBLOCKING, WAIT_RESULTS, WAIT_SYMBOLS } from "../native/abi.ts";
import { isSharedMemory, SEGMENT_WAIT, type SharedMemory, SharedMemoryClosedError } from "../memory/shared_memory.ts";

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

/** The result of each code `sa_wait32` returns. */
const RESULTS: readonly WaitResult[] = WAIT_RESULTS;

/** The wait exports. */
export function waitSymbols(): Record<string, NativeFn> {
  return openGroup("wait", WAIT_SYMBOLS);
}

/** Blocks while `*ptr === expected` (as u32), up to `timeoutMs`. */
export function waitSync(ptr: Pointer, expected: number, timeoutMs: number): WaitResult {
  return RESULTS[waitSymbols().sa_wait32(ptr, expected >>> 0, timeoutMs)];
}

let loadWord: NativeFn | undefined;

/** The u32 at `ptr`. */
function load32(ptr: Pointer): number {
  return (loadWord ??= typeSymbols("u32").sa_u32_load)(ptr);
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

// Bun: a bounded pool of internal waiter Workers (see waiter_worker.ts); idle ones are unref'd. Up to
// MAX_WAITERS waits each have a Worker to themselves; beyond that, waits queue and the busy Workers
// time-share: while anything queues, each gives its wait back after one slice with result YIELDED, and it
// goes to the back of the queue. Lock algorithms lose nothing (they re-check the word, and a changed word
// returns at once); a bare notify() that does not change the value can be missed while a wait is queued.
const MAX_WAITERS = 16;
/** The waiter Worker's results beyond the wait results (0…2): it gave up (cancelled), or gave its turn back. */
export const WAITER_CANCELLED = WAIT_RESULTS.length, WAITER_YIELDED = WAIT_RESULTS.length + 1;
interface WaitJob {
  readonly ptr: Pointer;
  readonly expected: number;
  readonly deadline: number;
  readonly cancel: Int32Array;
  first: boolean;
  readonly resolve: (result: number) => void;
}
interface Waiter {
  readonly worker: Worker & { ref?(): void; unref?(): void };
  job?: WaitJob;
}
const idle: Waiter[] = [];
const queue: WaitJob[] = [];
let workers = 0;
/** Word 0 is 1 while waits queue: busy waiter Workers yield after a slice. */
const contended = new Int32Array(new SharedArrayBuffer(4));

function spawnWaiter(): Waiter {
  workers++;
  const worker: Waiter["worker"] = new Worker(new URL("./waiter_worker.ts", import.meta.url).href, { type: "module" });
  const waiter: Waiter = { worker };
  worker.onmessage = (e: MessageEvent<{ result: number }>) => {
    const job = waiter.job!;
    waiter.job = undefined;
    if (e.data.result === WAITER_YIELDED) {
      job.first = false;
      queue.push(job);
    } else job.resolve(e.data.result);
    const next = queue.shift();
    if (next) dispatch(waiter, next);
    else {
      worker.unref?.();
      idle.push(waiter);
    }
    Atomics.store(contended, 0, queue.length > 0 ? 1 : 0);
  };
  return waiter;
}

function dispatch(waiter: Waiter, job: WaitJob): void {
  waiter.job = job;
  waiter.worker.ref?.();
  const { ptr, expected, deadline, cancel, first } = job;
  waiter.worker.postMessage({ ptr, expected, timeoutMs: deadline - performance.now(), cancel, first, contended });
}

function workerWait(ptr: Pointer, expected: number, timeoutMs: number, cancel: Int32Array): Promise<number> {
  return new Promise<number>((resolve) => {
    const job: WaitJob = {
      ptr,
      expected: expected >>> 0,
      deadline: performance.now() + timeoutMs,
      cancel,
      first: false,
      resolve,
    };
    const waiter = idle.pop() ?? (workers < MAX_WAITERS ? spawnWaiter() : undefined);
    if (waiter) return dispatch(waiter, job);
    queue.push(job);
    Atomics.store(contended, 0, 1);
  });
}

/** The SharedMemory `keep` (an atomic or a lock) lives in, if any. */
function segmentOf(keep: unknown): SharedMemory | undefined {
  const memory = keep !== null && typeof keep === "object" ? (keep as { memory?: unknown }).memory : undefined;
  return isSharedMemory(memory) ? memory : undefined;
}

function closedWhileWaiting(where: string, seg: SharedMemory): SharedMemoryClosedError {
  return new SharedMemoryClosedError(
    `${where}: the SharedMemory ${JSON.stringify(seg.name)} it lives in was closed while waiting`,
  );
}

/**
 * Waits asynchronously while `*ptr === expected`: the event loop keeps
 * running. `keep` (the atomic or lock waiting) is held until the wait ends;
 * if it lives in a SharedMemory, the segment counts the wait as pending, so
 * `close()` wakes it (it then rejects with SharedMemoryClosedError) and
 * retires the memory only once it has ended.
 */
export async function waitAsync(
  ptr: Pointer,
  expected: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  keep: unknown,
): Promise<WaitResult> {
  if (signal?.aborted) throw abortError(signal);
  // "not-equal" is decided here, at the call; a value that differs later means it changed: woken ("ok"),
  // however long the wait took to reach a thread
  if (load32(ptr) !== expected >>> 0) return "not-equal";
  const seg = segmentOf(keep);
  const cancel = backend().nonblocking ? undefined : new Int32Array(new SharedArrayBuffer(4));
  const where = seg && `${(keep as { constructor?: { name?: string } }).constructor?.name ?? "wait"}`;
  const end = seg?.[SEGMENT_WAIT](where!, ptr, cancel);
  const abort = onAbort(signal);
  try {
    const r = await waitSlices(ptr, expected, timeoutMs, abort.promise, cancel, seg);
    if (seg?.closed) throw closedWhileWaiting(where!, seg);
    return r;
  } finally {
    abort.off();
    end?.();
  }
}

async function waitSlices(
  ptr: Pointer,
  expected: number,
  timeoutMs: number,
  aborted: Promise<never>,
  cancel: Int32Array | undefined,
  seg: SharedMemory | undefined,
): Promise<WaitResult> {
  if (cancel !== undefined) {
    const done = workerWait(ptr, expected, timeoutMs, cancel);
    try {
      return RESULTS[await Promise.race([done, aborted])] ?? "ok";
    } catch (e) {
      Atomics.store(cancel, 0, 1); // the waiter notices within a slice
      throw e;
    }
  }
  const nb = openGroup("wait-nonblocking", WAIT_NONBLOCKING).sa_wait32_nonblocking;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) return "timed-out";
    const r: number = await Promise.race([nb(ptr, expected >>> 0, Math.min(left, SLICE_MS)), aborted]);
    // a value that changed since the call means we were (about to be) woken
    if (RESULTS[r] !== "timed-out" || seg?.closed) return "ok";
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
