/**
 * A readers-writer lock in shared memory: many readers or one writer;
 * a waiting writer stops new readers from entering, so writers are not
 * starved.
 *
 * Words: tag, state (readers count, or WRITER), writers waiting.
 *
 * @module
 */

import { registerClass } from "./descriptor.ts";
import type { AtomicMemory } from "./memory.ts";
import { LockNotHeldError } from "./mutex.ts";
import { closedPrototypeOf, type Kind, locate, Primitive } from "./primitive.ts";
import { type Algorithm, checkSignal, checkTimeout, left, runAsync, runSync, wake } from "./waiting.ts";

const WRITER = 0x80000000;
/** Waits re-check at least this often (a writer that gives up wakes readers, but not atomically). */
const SLICE_MS = 50;
const KIND: Kind = { name: "RwLock", type: "rwlock", bytes: 16, tag: 0x52574c31 };

/**
 * A held read or write lock: `unlock()` it, or let `using` do it.
 *
 * @example
 * ```ts
 * import { RwLock } from "./mod.ts";
 * const rw = RwLock.create();
 * {
 *   using _r = rw.read();
 * }
 * ```
 */
export interface RwLockGuard extends Disposable {
  /** Releases the lock. */
  unlock(): void;
}

/**
 * A readers-writer lock (16 bytes, 4-aligned; zeroed memory is an unlocked
 * lock), between Workers and processes. Readers and writers get blocking,
 * try (with a timeout) and async forms and `using` guards.
 *
 * @example
 * ```ts
 * import { RwLock } from "./mod.ts";
 * const rw = RwLock.create();
 * {
 *   using _r1 = rw.read();
 *   using _r2 = rw.read(); // readers share
 * }
 * const w = await rw.writeAsync(); // alone
 * w.unlock();
 * ```
 */
export class RwLock extends Primitive {
  /** Size in bytes. */
  static readonly BYTES: number = KIND.bytes;
  /** Required alignment in bytes. */
  static readonly ALIGN: number = 4;
  /** Descriptor and handle type name. */
  static readonly type: string = KIND.type;
  #reader: RwLockGuard;
  #writer: RwLockGuard;

  /** A readers-writer lock at `byteOffset` in `memory`. */
  constructor(memory: AtomicMemory, byteOffset = 0) {
    super(KIND, closed, memory, byteOffset);
    this.#reader = { unlock: () => this.readUnlock(), [Symbol.dispose]: () => this.readUnlock() };
    this.#writer = { unlock: () => this.writeUnlock(), [Symbol.dispose]: () => this.writeUnlock() };
  }

  /** A lock in its own fresh SharedArrayBuffer. */
  static create(): RwLock {
    return new RwLock(new SharedArrayBuffer(KIND.bytes));
  }

  /** Rebuilds a lock from its descriptor or handle string. */
  static from(descriptorOrHandle: unknown): RwLock {
    const [memory, offset] = locate(KIND, "RwLock.from", descriptorOrHandle);
    return new RwLock(memory as AtomicMemory, offset);
  }

  /** Same as `from`, for handle strings. */
  static fromHandle(handle: string): RwLock {
    return RwLock.from(handle);
  }

  /** Blocks until a read lock is held. */
  read(): RwLockGuard {
    runSync(this.#read(Infinity));
    return this.#reader;
  }

  /** A read lock if one can be had (within `timeoutMs`), else null. */
  tryRead(timeoutMs = 0): RwLockGuard | null {
    const t = checkTimeout("RwLock.tryRead", timeoutMs);
    return runSync(this.#read(performance.now() + t)) ? this.#reader : null;
  }

  /** Waits for a read lock without blocking the event loop; null on timeout. */
  async readAsync(timeoutMs?: number, signal?: AbortSignal): Promise<RwLockGuard | null> {
    const t = checkTimeout("RwLock.readAsync", timeoutMs);
    const s = checkSignal("RwLock.readAsync", signal);
    if (s?.aborted) throw s.reason;
    return (await runAsync(this.#read(performance.now() + t), s, this)) ? this.#reader : null;
  }

  /** Blocks until the write lock is held. */
  write(): RwLockGuard {
    runSync(this.#write(Infinity));
    return this.#writer;
  }

  /** The write lock if it can be had (within `timeoutMs`), else null. */
  tryWrite(timeoutMs = 0): RwLockGuard | null {
    const t = checkTimeout("RwLock.tryWrite", timeoutMs);
    return runSync(this.#write(performance.now() + t)) ? this.#writer : null;
  }

  /** Waits for the write lock without blocking the event loop; null on timeout. */
  async writeAsync(timeoutMs?: number, signal?: AbortSignal): Promise<RwLockGuard | null> {
    const t = checkTimeout("RwLock.writeAsync", timeoutMs);
    const s = checkSignal("RwLock.writeAsync", signal);
    if (s?.aborted) throw s.reason;
    return (await runAsync(this.#write(performance.now() + t), s, this)) ? this.#writer : null;
  }

  /** Releases a read lock; throws LockNotHeldError if no reader holds it. */
  readUnlock(): void {
    const { load, cas } = this.ops;
    const state = this.w[1];
    for (;;) {
      const s = load(state);
      if (s === 0 || s & WRITER) {
        throw new LockNotHeldError(`RwLock.readUnlock: no read lock is held (${s ? "a writer holds it" : "unlocked"})`);
      }
      if (cas(state, s, s - 1)) {
        if (s === 1 && load(this.w[2]) > 0) wake(state, Infinity);
        return;
      }
    }
  }

  /** Releases the write lock; throws LockNotHeldError if it is not write-locked. */
  writeUnlock(): void {
    if (!this.ops.cas(this.w[1], WRITER, 0)) {
      throw new LockNotHeldError("RwLock.writeUnlock: the write lock is not held");
    }
    wake(this.w[1], Infinity);
  }

  /** Readers holding the lock now (a snapshot); -1 if a writer holds it. */
  get readers(): number {
    const s = this.ops.load(this.w[1]);
    return s & WRITER ? -1 : s;
  }

  *#read(deadline: number): Algorithm<boolean> {
    const { load, cas } = this.ops;
    const state = this.w[1];
    for (;;) {
      const s = load(state);
      if (!(s & WRITER) && load(this.w[2]) === 0) {
        if (cas(state, s, s + 1)) return true;
        continue;
      }
      const ms = left(deadline, SLICE_MS);
      if (ms <= 0) return false;
      yield { ptr: state, expected: s, timeoutMs: ms };
    }
  }

  *#write(deadline: number): Algorithm<boolean> {
    const { load, cas, fetchAdd, fetchSub } = this.ops;
    const state = this.w[1];
    if (cas(state, 0, WRITER)) return true;
    fetchAdd(this.w[2], 1);
    let won = false;
    try {
      for (;;) {
        const s = load(state);
        if (s === 0) {
          if (cas(state, 0, WRITER)) return (won = true);
          continue;
        }
        const ms = left(deadline, SLICE_MS);
        if (ms <= 0) return false;
        yield { ptr: state, expected: s, timeoutMs: ms };
      }
    } finally {
      // the last waiting writer to leave lets blocked readers in again
      if (fetchSub(this.w[2], 1) === 1 && !won) wake(state, Infinity);
    }
  }
}

const closed = closedPrototypeOf(RwLock);
registerClass(KIND.type, RwLock);
