/**
 * A reusable barrier in shared memory: N parties wait until all have
 * arrived, then all go on, generation after generation.
 *
 * Words: tag, parties, and one word holding the generation (high 16 bits)
 * and the count arrived (low 16), so a waiter that times out can take its
 * arrival back atomically.
 *
 * A party that dies before it arrives never arrives: the others wait until
 * their timeout (wait with one where parties can die), each taking its
 * arrival back, so the barrier stays consistent. A party that dies after
 * arriving has arrived: its generation completes without it. Waits sleep in
 * the kernel, in slices, never spinning, however large the timeout.
 *
 * @module
 */

import { rangeError, typeError } from "../errors.ts";
import type { AtomicMemory } from "../memory/region.ts";
import { definePrimitive, type Kind, Primitive, SLICE_MS } from "./primitive.ts";
import { type Algorithm, checkTimeout, left, runAsync, runSync, wake } from "./waiting.ts";
import { startWait } from "./wait_args.ts";

const KIND: Kind = { name: "Barrier", type: "barrier", bytes: 12, tag: 0x42415231, align: 4 };
const MAX_PARTIES = 0xffff;

/**
 * A barrier for `parties` threads or processes (12 bytes, 4-aligned),
 * reusable across generations. `wait()` returns true in exactly one party
 * per generation (the last to arrive), false in the others, and null if it
 * timed out (its arrival taken back: the barrier stays consistent).
 *
 * @example
 * ```ts
 * import { Barrier } from "./mod.ts";
 * const b = Barrier.create({ parties: 1 });
 * b.wait(); // true: the only party is the last
 * await b.waitAsync(); // next generation
 * ```
 */
export class Barrier extends Primitive {
  /** A barrier at `byteOffset` in `memory`; fresh memory needs `parties` (1 … 65535). */
  constructor(memory: AtomicMemory, byteOffset = 0, options: { readonly parties?: number } = {}) {
    const where = "new Barrier";
    if (options === null || typeof options !== "object") throw typeError(where, "options", "{ parties }", options);
    const p = options.parties;
    if (p !== undefined && typeof p !== "number") throw typeError(where, "parties", "a number", p);
    if (p !== undefined && (!Number.isInteger(p) || p < 1 || p > MAX_PARTIES)) {
      throw rangeError(where, "parties", `an integer in [1, ${MAX_PARTIES}]`, p);
    }
    super(KIND, memory, byteOffset, { config: [p], fixed: 1, names: ["parties"] });
  }

  /** A barrier in its own fresh SharedArrayBuffer. */
  static create(options: { readonly parties: number }): Barrier {
    return new Barrier(new SharedArrayBuffer(KIND.bytes), 0, options);
  }

  /** The number of parties. */
  get parties(): number {
    return this.ops.load(this.w[1]);
  }

  /** Completed generations, modulo 65536. */
  get generation(): number {
    return this.ops.load(this.w[2]) >>> 16;
  }

  /** Blocks until all parties arrive (or `timeoutMs` passes, at least that long however large: null). */
  wait(timeoutMs?: number): boolean | null {
    const t = checkTimeout("Barrier.wait", timeoutMs);
    return runSync(this.#wait(performance.now() + t));
  }

  /** Waits for all parties without blocking the event loop; null on timeout. */
  async waitAsync(timeoutMs?: number, signal?: AbortSignal): Promise<boolean | null> {
    const { deadline, signal: s } = startWait("Barrier.waitAsync", timeoutMs, signal);
    return await runAsync(this.#wait(deadline), s, this);
  }

  *#wait(deadline: number): Algorithm<boolean | null> {
    const { load, cas, fetchAdd, store } = this.ops;
    const word = this.w[2];
    const parties = load(this.w[1]);
    const mine = fetchAdd(word, 1);
    const gen = mine >>> 16;
    if ((mine & 0xffff) + 1 === parties) {
      store(word, (((gen + 1) & 0xffff) << 16) >>> 0);
      wake(word, Infinity);
      return true;
    }
    let settled = false;
    try {
      for (;;) {
        const v = load(word);
        if (v >>> 16 !== gen) {
          settled = true;
          return false;
        }
        const ms = left(deadline, SLICE_MS);
        if (ms <= 0) {
          // take the arrival back, unless the generation completed meanwhile
          if (cas(word, v, v - 1)) {
            settled = true;
            return null;
          }
          continue;
        }
        yield { ptr: word, expected: v, timeoutMs: ms };
        this.live("Barrier.wait");
      }
    } finally {
      if (!settled && this.memoryOpen()) {
        // aborted: take the arrival back if still in this generation
        for (let v = load(word); v >>> 16 === gen && (v & 0xffff) > 0 && !cas(word, v, v - 1); v = load(word));
      }
    }
  }
}

definePrimitive(Barrier, KIND);
