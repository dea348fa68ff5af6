/**
 * A robust mutex in shared memory: across Workers and processes, with
 * blocking, try (with a timeout) and async forms, `using` guards, and
 * owner-death detection like a robust POSIX mutex's EOWNERDEAD.
 *
 * The state word is a robust futex word: it holds the owner's thread id,
 * the top bit while others wait, and the owner takes it through its
 * thread's robust list, so that when the owner's thread ends (its process
 * killed, its Worker terminated) the kernel itself marks the word
 * OWNER_DIED and wakes a waiter. Uncontended lock and unlock are one native
 * call each, with one compare-and-set.
 *
 * Layout (48 bytes, 8-aligned): tag, 4 spare bytes, then the state word's
 * 40 bytes (word, last owner's id, spare, list links).
 *
 * @module
 */

import type { NativeFn, Pointer } from "../native/backend.ts";
import type { AtomicMemory } from "../memory/region.ts";
import { definePrimitive, type Kind, pin, Primitive, SLICE_MS } from "./primitive.ts";
import { lastOwner, ownerDied, release, takeable, TID, WAITERS } from "./words.ts";
import { type Algorithm, checkTimeout, left, runAsync, runSync, wake } from "./waiting.ts";
import { startWait } from "./wait_args.ts";

const KIND: Kind = { name: "Mutex", type: "mutex", bytes: 48, tag: 0x4d545832, align: 8 };
/** Byte offset of the state word. */
const STATE = 8;

/**
 * Thrown by `lock`, `tryLock` and `lockAsync` when the previous owner died
 * holding the mutex: the lock IS now held by the caller (`guard`), but the
 * data it protects may be half-updated. Repair it, then unlock as usual.
 *
 * @example
 * ```ts
 * import { Mutex, MutexOwnerDiedError } from "./mod.ts";
 * const m = Mutex.create();
 * let guard;
 * try {
 *   guard = m.lock();
 * } catch (e) {
 *   if (!(e instanceof MutexOwnerDiedError)) throw e;
 *   guard = e.guard; // repair the shared state here
 * }
 * guard.unlock();
 * ```
 */
export class MutexOwnerDiedError extends Error {
  /** The guard of the lock the caller now holds. */
  readonly guard: MutexGuard;
  /** The thread id the owner that died had (in its own PID namespace), 0 if unknown. */
  readonly previousOwner: number;
  /**
   * An owner-died report.
   *
   * @example
   * ```ts
   * import { Mutex, MutexOwnerDiedError } from "./mod.ts";
   * const m = Mutex.create();
   * new MutexOwnerDiedError(m.lock(), 1234).previousOwner; // 1234
   * ```
   */
  constructor(guard: MutexGuard, previousOwner: number) {
    super(
      `Mutex: the previous owner (thread ${previousOwner}) died holding the lock; you hold it now, repair the data`,
    );
    this.name = "MutexOwnerDiedError";
    this.guard = guard;
    this.previousOwner = previousOwner;
  }
}

/**
 * Unlocking a lock the calling thread does not hold.
 *
 * @example
 * ```ts
 * import { LockNotHeldError, Mutex } from "./mod.ts";
 * try {
 *   Mutex.create().unlock();
 * } catch (e) {
 *   console.assert(e instanceof LockNotHeldError);
 * }
 * ```
 */
export class LockNotHeldError extends Error {
  /**
   * A not-held report.
   *
   * @example
   * ```ts
   * import { LockNotHeldError } from "./mod.ts";
   * new LockNotHeldError("Mutex.unlock: not held").name; // "LockNotHeldError"
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "LockNotHeldError";
  }
}

/**
 * A held lock: `unlock()` it, or let `using` do it.
 *
 * @example
 * ```ts
 * import { Mutex } from "./mod.ts";
 * const m = Mutex.create();
 * {
 *   using _held = m.lock();
 *   // critical section
 * } // unlocked here
 * ```
 */
export interface MutexGuard extends Disposable, AsyncDisposable {
  /** Releases the lock. */
  unlock(): void;
}

/** The guard: one per mutex, reused. */
class Guard implements MutexGuard {
  readonly mutex: Mutex;
  constructor(mutex: Mutex) {
    this.mutex = mutex;
  }
  unlock(): void {
    this.mutex.unlock();
  }
  [Symbol.dispose](): void {
    this.mutex.unlock();
  }
  /** `await using` a guard: the same unlock (the async interface of both backends, src/remote/interfaces.ts). */
  [Symbol.asyncDispose](): Promise<void> {
    try {
      this.mutex.unlock();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

const ACQUIRED = -2;
const TIMED_OUT = -1;
// >= 0: acquired from an owner that died, whose id this is

/**
 * A mutual-exclusion lock in shared memory (48 bytes, 8-aligned; zeroed
 * memory is an unlocked mutex). Works between Workers (SharedArrayBuffer)
 * and between processes (SharedMemory), including processes in other PID
 * namespaces (containers sharing /dev/shm). Not re-entrant.
 *
 * @example
 * ```ts
 * import { Mutex, SharedMemory } from "./mod.ts";
 * const seg = SharedMemory.create(`/app-lock-${Date.now()}`, Mutex.BYTES);
 * const m = new Mutex(seg, 0); // in another process: Mutex.fromHandle(m.handle())
 * {
 *   using _g = m.lock();
 *   // ... only one thread in any process runs this at a time
 * }
 * {
 *   using _g = await m.lockAsync(); // without blocking the event loop
 * }
 * seg.close();
 * seg.unlink();
 * ```
 */
export class Mutex extends Primitive {
  #guard: MutexGuard;
  /** The state word's pointer, this thread's robust context and the uncontended lock and unlock (one call each). */
  #state: Pointer;
  #ctx: Pointer;
  #lockAt: NativeFn;
  #unlockAt: NativeFn;
  /** This thread's id (an instance belongs to the thread that made it). */
  #me: number;

  /** A mutex at `byteOffset` in `memory` (zeroed, or already a Mutex). */
  constructor(memory: AtomicMemory, byteOffset = 0) {
    super(KIND, memory, byteOffset, { robust: true });
    this.#guard = new Guard(this);
    this.#state = this.at(STATE);
    this.#ctx = this.robust.context;
    this.#lockAt = this.robust.lockAt;
    this.#unlockAt = this.robust.unlockAt;
    this.#me = this.robust.tid;
  }

  /** A mutex in its own fresh SharedArrayBuffer (for Workers). */
  static create(): Mutex {
    return new Mutex(new SharedArrayBuffer(KIND.bytes));
  }

  /** Blocks until the lock is held; returns its guard. */
  lock(): MutexGuard {
    if (this.#lockAt(this.#ctx, this.#state) === 1) {
      if (!this.pinned) pin(this);
      return this.#guard;
    }
    return this.#result(runSync(this.#acquire(Infinity)))!;
  }

  /** Takes the lock if free (or within `timeoutMs`); returns its guard, or null. */
  tryLock(timeoutMs = 0): MutexGuard | null {
    const t = checkTimeout("Mutex.tryLock", timeoutMs);
    if (this.#lockAt(this.#ctx, this.#state) === 1) {
      if (!this.pinned) pin(this);
      return this.#guard;
    }
    return this.#result(runSync(this.#acquire(performance.now() + t)));
  }

  /** Waits for the lock without blocking the event loop (no timeout: the guard, never null). */
  lockAsync(timeoutMs?: undefined, signal?: AbortSignal): Promise<MutexGuard>;
  /** Waits for the lock without blocking the event loop; null if `timeoutMs` passes first. */
  lockAsync(timeoutMs: number, signal?: AbortSignal): Promise<MutexGuard | null>;
  async lockAsync(timeoutMs?: number, signal?: AbortSignal): Promise<MutexGuard | null> {
    const { deadline, signal: s } = startWait("Mutex.lockAsync", timeoutMs, signal);
    if (this.#lockAt(this.#ctx, this.#state) === 1) {
      if (!this.pinned) pin(this);
      return this.#guard;
    }
    return this.#result(await runAsync(this.#acquire(deadline, true), s, this));
  }

  /** Releases the lock; throws LockNotHeldError if this thread does not hold it. */
  unlock(): void {
    if (this.#unlockAt(this.#ctx, this.#state) !== 1) this.#unlockContended();
  }

  #unlockContended(): void {
    const { load } = this.ops;
    const me = this.#me;
    for (;;) {
      const v = load(this.#state);
      const r = (v & TID) === me ? release(this.robust, this.#state, v) : -1;
      if (r === 1) return;
      if (r === -1) {
        const owner = v & TID;
        throw new LockNotHeldError(
          `Mutex.unlock: this thread (${me}) does not hold the lock (${
            owner === 0
              ? "it is unlocked"
              : owner === me
              ? "a thread with the same id in another PID namespace does"
              : `thread ${owner} does`
          })`,
        );
      }
    }
  }

  /** Whether some thread holds the lock right now (a snapshot). */
  get locked(): boolean {
    return !takeable(this.robust, this.ops.load(this.#state));
  }

  /** @internal */
  override holding(): boolean {
    return this.robust.owned(this.#state) === 1;
  }

  /** @internal */
  override abandon(): void {
    this.robust.abandon(this.#state);
  }

  #result(r: number): MutexGuard | null {
    if (r === ACQUIRED) return this.#guard;
    if (r === TIMED_OUT) return null;
    throw new MutexOwnerDiedError(this.#guard, r);
  }

  /** In async mode another task of this thread may hold it: wait for it like any owner. */
  *#acquire(deadline: number, async = false): Algorithm<number> {
    const { load, cas } = this.ops;
    const r = this.robust;
    const state = this.#state;
    const me = this.#me;
    let waited = false;
    let done = false;
    try {
      for (;;) {
        const v = load(state);
        if (takeable(r, v)) {
          // after waiting, others may still wait: keep their bit so unlock wakes them
          const keep = waited ? WAITERS : v & WAITERS;
          const died = ownerDied(r, v);
          const previous = died ? lastOwner(load, this.at(STATE + 4), v) : 0;
          if (r.cas(state, v, (me | keep) >>> 0) === 1) {
            done = true;
            if (!this.pinned) pin(this);
            return died ? previous : ACQUIRED;
          }
          continue;
        }
        if (!async && (v & TID) === me && r.owned(state) === 1) {
          // only this thread could release it: blocking would never end
          if (deadline !== Infinity) return TIMED_OUT;
          throw new Error("Mutex.lock: this thread already holds the lock (it is not re-entrant): that would deadlock");
        }
        if (!(v & WAITERS) && !cas(state, v, (v | WAITERS) >>> 0)) continue;
        const ms = left(deadline, SLICE_MS);
        if (ms <= 0) return TIMED_OUT;
        waited = true;
        yield { ptr: state, expected: (v | WAITERS) >>> 0, timeoutMs: ms };
        this.live("Mutex.lock");
      }
    } finally {
      // a waiter leaving without the lock may have taken the wake-up meant for another: pass it on
      if (!done && waited && this.memoryOpen() && takeable(r, load(state))) wake(state, 1);
    }
  }
}

definePrimitive(Mutex, KIND);
