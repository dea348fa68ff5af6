/**
 * `wait`, `waitAsync` and `notify` on the 32-bit atomics, between Workers and
 * between processes (the built-in `Atomics.wait` works only within one
 * process, and blocks the event loop).
 *
 * @module
 */

import { brandOf } from "./atomic.ts";
import type { Pointer } from "../native/backend.ts";
import { argumentError, rangeError, typeError } from "../errors.ts";
import {
  checkSignal,
  checkTimeout,
  waitAsync as waitAsyncAt,
  type WaitResult,
  waitSync,
  wake,
} from "../sync/waiting.ts";

/**
 * Waiting on a 32-bit atomic's value, and waking the waiters.
 *
 * @example
 * ```ts
 * import { AtomicI32 } from "./mod.ts";
 * const flag = AtomicI32.create(0);
 * setTimeout(() => {
 *   flag.store(1);
 *   flag.notify();
 * }, 10);
 * await flag.waitAsync(0); // "ok": the event loop ran meanwhile
 * flag.wait(0, 5); // "not-equal": it is 1 now
 * ```
 */
export interface AtomicWaitable {
  /**
   * Blocks while the value equals `expected`, up to `timeoutMs` (default
   * forever): "ok" when woken (possibly spuriously: re-check the value),
   * "not-equal" (the value differed at the start: checked first, also with
   * a timeout of 0), or "timed-out". Any finite timeout means at least that
   * long; one too large to ever end (beyond ~2^53 ms) waits like Infinity.
   */
  wait(expected: number, timeoutMs?: number): WaitResult;
  /**
   * Like `wait`, without blocking the event loop; an abort rejects the
   * Promise. A value that differs at the start resolves "not-equal" at once;
   * a timeout of 0 only checks the value.
   */
  waitAsync(expected: number, timeoutMs?: number, signal?: AbortSignal): Promise<WaitResult>;
  /** Wakes up to `count` waiters (default all) in any thread or process; returns how many woke. */
  notify(count?: number): number;
}

interface Waitable {
  readonly ptr: Pointer;
}

/** Adds wait/waitAsync/notify to a 32-bit class, whose values `ok` accepts. */
export function addWaiting(cls: { prototype: object; name: string }, ok: (v: unknown) => boolean, range: string): void {
  const name = cls.name;
  const expected = (where: string, v: unknown): number => {
    if (ok(v)) return v as number;
    throw typeof v === "number"
      ? rangeError(where, "expected", range, v)
      : typeError(where, "expected", `a number: ${range}`, v);
  };
  // like every method of the class: never a pointer from anything but an instance of it
  const { is, notThis } = brandOf(cls);
  const methods: Record<string, (this: Waitable, ...a: never[]) => unknown> = {
    wait(this: Waitable, v: unknown, timeoutMs?: unknown): WaitResult {
      const where = `${name}.wait`;
      if (!is(this)) throw notThis(this, where);
      return waitSync(this.ptr, expected(where, v), checkTimeout(where, timeoutMs));
    },
    waitAsync(this: Waitable, v: unknown, timeoutMs?: unknown, signal?: unknown): Promise<WaitResult> {
      const where = `${name}.waitAsync`;
      try {
        if (!is(this)) throw notThis(this, where);
        const x = expected(where, v);
        const ms = checkTimeout(where, timeoutMs);
        let s: AbortSignal | undefined;
        try {
          s = checkSignal(where, signal);
          if (s?.aborted) return waitAsyncAt(this.ptr, x, ms, s, this); // rejects with the abort reason
        } catch (e) {
          throw argumentError(where, "signal", e);
        }
        // the value first, without a Worker or a thread: "not-equal" now, or a zero timeout's answer
        const now = waitSync(this.ptr, x, 0);
        if (now === "not-equal" || ms === 0) return Promise.resolve(now);
        return waitAsyncAt(this.ptr, x, ms, s, this);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    notify(this: Waitable, count: unknown = Infinity): number {
      if (!is(this)) throw notThis(this, `${name}.notify`);
      if (typeof count !== "number") throw typeError(`${name}.notify`, "count", "a number", count);
      if (count !== Infinity && (!Number.isInteger(count) || count < 0 || count > 0x7fffffff)) {
        throw rangeError(`${name}.notify`, "count", "an integer in [0, 2^31-1], or Infinity", count);
      }
      return count === 0 ? 0 : wake(this.ptr, count);
    },
  };
  for (const [k, fn] of Object.entries(methods)) Object.defineProperty(cls.prototype, k, { value: fn, writable: true });
}
