/**
 * A counting semaphore in shared memory, never above its maximum.
 *
 * Words: tag, max, count.
 *
 * @module
 */

import { registerClass } from "./descriptor.ts";
import { rangeError, typeError } from "./errors.ts";
import type { AtomicMemory } from "./memory.ts";
import { closedPrototypeOf, type Kind, locate, Primitive } from "./primitive.ts";
import { type Algorithm, checkSignal, checkTimeout, left, runAsync, runSync, wake } from "./waiting.ts";

const KIND: Kind = { name: "Semaphore", type: "semaphore", bytes: 12, tag: 0x53454d31 };
const MAX = 0x7fffffff;

/** Options of a new Semaphore. */
export interface SemaphoreOptions {
  /** The most permits it can hold, 1 … 2^31−1. Omit to adopt an existing semaphore's. */
  readonly max?: number;
  /** Permits it starts with (default: `max`); only used when the memory is fresh. */
  readonly initial?: number;
}

function count(where: string, param: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== "number") throw typeError(where, param, `an integer in [${lo}, ${hi}]`, v);
  if (!Number.isInteger(v) || v < lo || v > hi) throw rangeError(where, param, `an integer in [${lo}, ${hi}]`, v);
  return v;
}

/**
 * A counting semaphore (12 bytes, 4-aligned) between Workers and processes:
 * `acquire(n)` takes n permits (blocking, try with a timeout, or async),
 * `release(n)` returns them and throws rather than exceed `max`.
 *
 * @example
 * ```ts
 * import { Semaphore } from "./mod.ts";
 * const slots = Semaphore.create({ max: 4 });
 * slots.acquire();
 * slots.tryAcquire(3); // true
 * slots.tryAcquire(); // false: none left
 * slots.release(4);
 * ```
 */
export class Semaphore extends Primitive {
  /** Size in bytes. */
  static readonly BYTES: number = KIND.bytes;
  /** Required alignment in bytes. */
  static readonly ALIGN: number = 4;
  /** Descriptor and handle type name. */
  static readonly type: string = KIND.type;

  /**
   * A semaphore at `byteOffset` in `memory`: fresh (zeroed) memory needs
   * `max`; existing ones are adopted (a different `max` throws).
   */
  constructor(memory: AtomicMemory, byteOffset = 0, options: SemaphoreOptions = {}) {
    const where = "new Semaphore";
    if (options === null || typeof options !== "object") {
      throw typeError(where, "options", "{ max, initial? }", options);
    }
    const max = options.max === undefined ? undefined : count(where, "max", options.max, 1, MAX);
    const initial = options.initial === undefined ? max : count(where, "initial", options.initial, 0, max ?? MAX);
    super(KIND, closed, memory, byteOffset, [max, initial], 1);
  }

  /** A semaphore in its own fresh SharedArrayBuffer. */
  static create(options: SemaphoreOptions): Semaphore {
    return new Semaphore(new SharedArrayBuffer(KIND.bytes), 0, options);
  }

  /** Rebuilds a semaphore from its descriptor or handle string. */
  static from(descriptorOrHandle: unknown): Semaphore {
    const [memory, offset] = locate(KIND, "Semaphore.from", descriptorOrHandle);
    return new Semaphore(memory as AtomicMemory, offset);
  }

  /** Same as `from`, for handle strings. */
  static fromHandle(handle: string): Semaphore {
    return Semaphore.from(handle);
  }

  /** The maximum number of permits. */
  get max(): number {
    return this.ops.load(this.w[1]);
  }

  /** Permits available now (a snapshot). */
  get available(): number {
    return this.ops.load(this.w[2]);
  }

  /** Blocks until `n` permits are taken. */
  acquire(n = 1): void {
    runSync(this.#acquire(this.#n("acquire", n), Infinity));
  }

  /** Takes `n` permits if available (within `timeoutMs`); returns whether it did. */
  tryAcquire(n = 1, timeoutMs = 0): boolean {
    const k = this.#n("tryAcquire", n);
    const t = checkTimeout("Semaphore.tryAcquire", timeoutMs);
    return runSync(this.#acquire(k, performance.now() + t));
  }

  /** Waits for `n` permits without blocking the event loop; false on timeout. */
  async acquireAsync(n = 1, timeoutMs?: number, signal?: AbortSignal): Promise<boolean> {
    const k = this.#n("acquireAsync", n);
    const t = checkTimeout("Semaphore.acquireAsync", timeoutMs);
    const s = checkSignal("Semaphore.acquireAsync", signal);
    if (s?.aborted) throw s.reason;
    return await runAsync(this.#acquire(k, performance.now() + t), s, this);
  }

  /** Returns `n` permits; a RangeError (and no change) if that would exceed `max`. */
  release(n = 1): void {
    const k = this.#n("release", n);
    const { load, cas } = this.ops;
    const max = load(this.w[1]);
    for (;;) {
      const c = load(this.w[2]);
      if (c + k > max) {
        throw rangeError("Semaphore.release", "n", `at most ${max - c} (max ${max}, ${c} available)`, n);
      }
      if (cas(this.w[2], c, c + k)) break;
    }
    wake(this.w[2], Infinity);
  }

  #n(method: string, n: unknown): number {
    return count(`Semaphore.${method}`, "n", n, 1, this.ops.load(this.w[1]));
  }

  *#acquire(n: number, deadline: number): Algorithm<boolean> {
    const { load, cas } = this.ops;
    const word = this.w[2];
    for (;;) {
      const c = load(word);
      if (c >= n) {
        if (cas(word, c, c - n)) return true;
        continue;
      }
      const ms = left(deadline, Infinity);
      if (ms <= 0) return false;
      yield { ptr: word, expected: c, timeoutMs: ms };
    }
  }
}

const closed = closedPrototypeOf(Semaphore);
registerClass(KIND.type, Semaphore);
