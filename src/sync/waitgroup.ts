/**
 * A wait group (a countdown latch that can count up again): `add(n)`,
 * `done()`, and `wait()` until the count is zero.
 *
 * Words: tag, count (signed).
 *
 * A participant that dies before its `done()` leaves the count up for good
 * (nothing says who was going to count down): `wait(timeoutMs)` then times
 * out, so wait with a timeout where participants can die. Waits sleep in
 * the kernel, in slices, never spinning, however large the timeout.
 *
 * @module
 */

import { rangeError, typeError } from "../errors.ts";
import type { AtomicMemory } from "../memory/region.ts";
import { definePrimitive, type Kind, Primitive, SLICE_MS } from "./primitive.ts";
import { type Algorithm, checkTimeout, left, runAsync, runSync, wake } from "./waiting.ts";
import { startWait } from "./wait_args.ts";

const KIND: Kind = { name: "WaitGroup", type: "waitgroup", bytes: 8, tag: 0x57474731, align: 4 };
const LIMIT = 0x7fffffff;

/**
 * A wait group (8 bytes, 4-aligned; zeroed memory has count 0), like Go's
 * `sync.WaitGroup`, between Workers and processes.
 *
 * @example
 * ```ts
 * import { WaitGroup } from "./mod.ts";
 * const wg = WaitGroup.create();
 * wg.add(2);
 * wg.done();
 * wg.done();
 * wg.wait(); // returns at once: the count is 0
 * ```
 */
export class WaitGroup extends Primitive {
  /** A wait group at `byteOffset` in `memory`. */
  constructor(memory: AtomicMemory, byteOffset = 0) {
    super(KIND, memory, byteOffset);
  }

  /** A wait group in its own fresh SharedArrayBuffer. */
  static create(): WaitGroup {
    return new WaitGroup(new SharedArrayBuffer(KIND.bytes));
  }

  /** The count now (a snapshot). */
  get count(): number {
    return this.ops.load(this.w[1]) | 0;
  }

  /** Adds `n` (may be negative); the count may never go below 0 (RangeError, no change). */
  add(n = 1): void {
    if (typeof n !== "number") throw typeError("WaitGroup.add", "n", "an integer", n);
    if (!Number.isInteger(n) || n === 0 || Math.abs(n) > LIMIT) {
      throw rangeError("WaitGroup.add", "n", `a non-zero integer in [-${LIMIT}, ${LIMIT}]`, n);
    }
    this.#change(n, "WaitGroup.add");
  }

  /** Adds `n` to the count in one compare-and-set loop; wakes the waiters when it reaches 0. */
  #change(n: number, where: string): void {
    const { load, cas } = this.ops;
    for (;;) {
      const c = load(this.w[1]) | 0;
      const next = c + n;
      if (next < 0 && where === "WaitGroup.done") {
        throw new RangeError(`${where}: the count is 0: every add() already has its done() (a done() too many)`);
      }
      if (next < 0) throw rangeError(where, "n", `an amount keeping the count ≥ 0 (it is ${c})`, n);
      if (next > LIMIT) {
        throw rangeError(where, "n", `an amount keeping the count in [0, ${LIMIT}] (it is ${c})`, n);
      }
      if (cas(this.w[1], c >>> 0, next >>> 0)) {
        if (next === 0) wake(this.w[1], Infinity);
        return;
      }
    }
  }

  /** `add(-1)`. */
  done(): void {
    this.#change(-1, "WaitGroup.done");
  }

  /** Blocks until the count is 0; false if `timeoutMs` passes first (at least that long, however large). */
  wait(timeoutMs?: number): boolean {
    const t = checkTimeout("WaitGroup.wait", timeoutMs);
    return runSync(this.#wait(performance.now() + t));
  }

  /** Waits for a zero count without blocking the event loop; false on timeout. */
  async waitAsync(timeoutMs?: number, signal?: AbortSignal): Promise<boolean> {
    const { deadline, signal: s } = startWait("WaitGroup.waitAsync", timeoutMs, signal);
    return await runAsync(this.#wait(deadline), s, this);
  }

  *#wait(deadline: number): Algorithm<boolean> {
    const word = this.w[1];
    for (;;) {
      const c = this.ops.load(word);
      if (c === 0) return true;
      const ms = left(deadline, SLICE_MS);
      if (ms <= 0) return false;
      yield { ptr: word, expected: c, timeoutMs: ms };
      this.live("WaitGroup.wait");
    }
  }
}

definePrimitive(WaitGroup, KIND);
