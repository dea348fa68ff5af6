/**
 * Run an initialiser exactly once across all Workers and processes; the
 * others wait for it to finish. If the runner throws, the next caller runs
 * it (as C++'s `call_once`); if the runner's thread or process dies, the
 * next caller runs it.
 *
 * Words: tag, state (0: not run; RUNNING | runner's thread id; DONE).
 *
 * @module
 */

import { registerClass } from "./descriptor.ts";
import { typeError } from "./errors.ts";
import type { AtomicMemory } from "./memory.ts";
import { closedPrototypeOf, type Kind, locate, Primitive } from "./primitive.ts";
import { type Algorithm, checkSignal, left, runAsync, runSync, threadAlive, threadId, wake } from "./waiting.ts";

const KIND: Kind = { name: "Once", type: "once", bytes: 8, tag: 0x4f4e4331 };
const DONE = 0x80000000;
const RUNNING = 0x40000000;
const OWNER = 0x3fffffff;
const LIVENESS_MS = 100;

/**
 * A once-flag (8 bytes, 4-aligned; zeroed memory is "not run yet").
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
  /** Size in bytes. */
  static readonly BYTES: number = KIND.bytes;
  /** Required alignment in bytes. */
  static readonly ALIGN: number = 4;
  /** Descriptor and handle type name. */
  static readonly type: string = KIND.type;

  /** A once-flag at `byteOffset` in `memory`. */
  constructor(memory: AtomicMemory, byteOffset = 0) {
    super(KIND, closed, memory, byteOffset);
  }

  /** A once-flag in its own fresh SharedArrayBuffer. */
  static create(): Once {
    return new Once(new SharedArrayBuffer(KIND.bytes));
  }

  /** Rebuilds a once-flag from its descriptor or handle string. */
  static from(descriptorOrHandle: unknown): Once {
    const [memory, offset] = locate(KIND, "Once.from", descriptorOrHandle);
    return new Once(memory as AtomicMemory, offset);
  }

  /** Same as `from`, for handle strings. */
  static fromHandle(handle: string): Once {
    return Once.from(handle);
  }

  /** Whether the initialiser has completed. */
  get done(): boolean {
    return this.ops.load(this.w[1]) === DONE;
  }

  /** Runs `fn` if nobody has, else blocks until whoever runs it is done; true if this call ran it. */
  run(fn: () => void): boolean {
    if (typeof fn !== "function") throw typeError("Once.run", "fn", "a function", fn);
    if (!runSync(this.#claim())) return false;
    this.#finish(() => fn());
    return true;
  }

  /** Like `run`, but waits without blocking the event loop, and `fn` may be async. */
  async runAsync(fn: () => unknown, signal?: AbortSignal): Promise<boolean> {
    if (typeof fn !== "function") throw typeError("Once.runAsync", "fn", "a function", fn);
    const s = checkSignal("Once.runAsync", signal);
    if (s?.aborted) throw s.reason;
    if (!(await runAsync(this.#claim(), s, this))) return false;
    try {
      await fn();
    } catch (e) {
      this.#release(0);
      throw e;
    }
    this.#release(DONE);
    return true;
  }

  #finish(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#release(0);
      throw e;
    }
    this.#release(DONE);
  }

  #release(to: number): void {
    this.ops.store(this.w[1], to);
    wake(this.w[1], Infinity);
  }

  /** Claims the run (true), or waits until someone else's completes (false). */
  *#claim(): Algorithm<boolean> {
    const { load, cas } = this.ops;
    const state = this.w[1];
    const me = threadId();
    for (;;) {
      const s = load(state);
      if (s === DONE) return false;
      if (s === 0) {
        if (cas(state, 0, RUNNING | me)) return true;
        continue;
      }
      const runner = s & OWNER;
      if (runner === me) throw typeError("Once.run", "fn", "a function that does not call this Once's run again", s);
      if (!threadAlive(runner)) {
        cas(state, s, 0); // its runner died: the next caller runs it
        continue;
      }
      yield { ptr: state, expected: s, timeoutMs: left(Infinity, LIVENESS_MS) };
    }
  }
}

const closed = closedPrototypeOf(Once);
registerClass(KIND.type, Once);
