/**
 * Run an initialiser exactly once across all Workers and processes; the
 * others wait for it to finish. If the runner throws, the next caller runs
 * it (as C++'s `call_once`); if the runner's thread or process dies, the
 * next caller runs it.
 *
 * The state word is a robust word (see mutex.ts): 0 not run; the runner's
 * thread id while it runs (the kernel marks it OWNER_DIED if the runner
 * dies, and wakes a waiter, which runs it); DONE. Waiters set the top bit.
 *
 * Layout (48 bytes, 8-aligned): tag, 4 spare bytes, the state word's 40 bytes.
 *
 * @module
 */

import { typeError } from "../errors.ts";
import type { AtomicMemory } from "../memory/region.ts";
import { definePrimitive, type Kind, pin, Primitive, SLICE_MS } from "./primitive.ts";
import { takeable, TID, WAITERS } from "./words.ts";
import type { Pointer } from "../native/backend.ts";
import { type Algorithm, checkSignal, left, runAsync, runSync, wake } from "./waiting.ts";

const KIND: Kind = { name: "Once", type: "once", bytes: 48, tag: 0x4f4e4332, align: 8 };
const STATE = 8;
/** Done: every owner bit set, an id no thread has (ids are below 2^22). */
const DONE = 0x3fffffff;

/**
 * A once-flag (48 bytes, 8-aligned; zeroed memory is "not run yet").
 * `run(fn)` returns true in the one caller that ran `fn` to completion.
 *
 * @example
 * ```ts
 * import { Once } from "./mod.ts";
 * const init = Once.create();
 * init.run(() => console.log("set up")); // true: ran it
 * init.run(() => console.log("never")); // false
 * await init.runAsync(async () => {}); // false
 * ```
 */
export class Once extends Primitive {
  #state: Pointer;

  /** A once-flag at `byteOffset` in `memory`. */
  constructor(memory: AtomicMemory, byteOffset = 0) {
    super(KIND, memory, byteOffset, { robust: true });
    this.#state = this.at(STATE);
  }

  /** A once-flag in its own fresh SharedArrayBuffer. */
  static create(): Once {
    return new Once(new SharedArrayBuffer(KIND.bytes));
  }

  /** Whether the initialiser has completed. */
  get done(): boolean {
    return this.ops.load(this.#state) === DONE;
  }

  /**
   * Runs `fn` if nobody has, else blocks until whoever runs it is done; true
   * if this call ran it. Calling it again from inside `fn` (or while another
   * task of this thread runs it through `runAsync`) throws: it would wait
   * for itself.
   */
  run(fn: () => void): boolean {
    if (typeof fn !== "function") throw typeError("Once.run", "fn", "a function", fn);
    if (!runSync(this.#claim(false))) return false;
    try {
      fn();
    } catch (e) {
      this.#finish(0);
      throw e;
    }
    this.#finish(DONE);
    return true;
  }

  /**
   * Like `run`, but waits without blocking the event loop, and `fn` may be
   * async; while another task of this thread runs it, this one waits.
   */
  async runAsync(fn: () => unknown, signal?: AbortSignal): Promise<boolean> {
    if (typeof fn !== "function") throw typeError("Once.runAsync", "fn", "a function", fn);
    const s = checkSignal("Once.runAsync", signal);
    if (s?.aborted) throw s.reason;
    if (!(await runAsync(this.#claim(true), s, this))) return false;
    try {
      await fn();
    } catch (e) {
      this.#finish(0);
      throw e;
    }
    this.#finish(DONE);
    return true;
  }

  /** @internal */
  override holding(): boolean {
    return this.robust.owned(this.#state) === 1;
  }

  /** @internal */
  override abandon(): void {
    this.robust.abandon(this.#state);
  }

  /** Leaves the run: DONE, or 0 (the next caller runs it); wakes every waiter. */
  #finish(to: number): void {
    const { load } = this.ops;
    this.live("Once.run");
    for (;;) {
      const v = load(this.#state);
      const r = this.robust.cas(this.#state, v, to);
      if (r === 1) break;
      if (r === -1) return; // no longer ours (its memory was closed and the run given up)
    }
    wake(this.#state, Infinity);
  }

  /** Claims the run (true), or waits until someone else's completes (false). */
  *#claim(async: boolean): Algorithm<boolean> {
    const { load, cas } = this.ops;
    const r = this.robust;
    const state = this.#state;
    const me = r.tid;
    let waited = false;
    for (;;) {
      const v = load(state);
      if (v === DONE) return false;
      if (takeable(r, v)) {
        // 0, or its runner died (OWNER_DIED): this caller runs it; others may wait
        if (r.cas(state, v, (me | (waited ? WAITERS : v & WAITERS)) >>> 0) === 1) {
          if (!this.pinned) pin(this);
          return true;
        }
        continue;
      }
      if (!async && (v & TID) === me && r.owned(state) === 1) {
        throw new Error(
          "Once.run: this thread is running this Once's initialiser already (a call from inside fn, or another " +
            "task of this thread running it with runAsync): waiting for it would never end",
        );
      }
      if (!(v & WAITERS) && !cas(state, v, (v | WAITERS) >>> 0)) continue;
      waited = true;
      yield { ptr: state, expected: (v | WAITERS) >>> 0, timeoutMs: left(Infinity, SLICE_MS) };
      this.live("Once.run");
    }
  }
}

definePrimitive(Once, KIND);
