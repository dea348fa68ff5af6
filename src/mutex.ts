/**
 * A robust mutex in shared memory: across Workers and processes, with
 * blocking, try (with a timeout) and async forms, `using` guards, and
 * owner-death detection like a robust POSIX mutex's EOWNERDEAD.
 *
 * The state word holds the owner's thread id (the Linux tid: unique on the
 * system while the thread lives), with the top bit set while others wait.
 * Uncontended lock and unlock are one compare-and-set each.
 *
 * @module
 */

import { backend, type NativeFn, type Pointer } from "./backend.ts";
import type { AtomicMemory } from "./memory.ts";
import { SharedMemory } from "./shared_memory.ts";
import { closedPrototypeOf, type Kind, locate, Primitive } from "./primitive.ts";
import { registerClass } from "./descriptor.ts";
import {
  type Algorithm,
  checkSignal,
  checkTimeout,
  left,
  runAsync,
  runSync,
  threadAlive,
  threadId,
  wake,
} from "./waiting.ts";

const WAITERS = 0x80000000;
const OWNER = 0x3fffffff;
/** How often a waiter checks that the owner is still alive. */
const LIVENESS_MS = 100;

const KIND: Kind = { name: "Mutex", type: "mutex", bytes: 8, tag: 0x4d545831 };

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
  /** The thread (or process) id of the owner that died. */
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
export interface MutexGuard extends Disposable {
  /** Releases the lock. */
  unlock(): void;
}

/** The guard: one per mutex, reused. */
class Guard implements MutexGuard {
  constructor(readonly mutex: Mutex) {}
  unlock(): void {
    this.mutex.unlock();
  }
  [Symbol.dispose](): void {
    this.mutex.unlock();
  }
}

const ACQUIRED = 0;
const TIMED_OUT = -1;
// > 0: acquired from a dead owner, whose id this is

/**
 * A mutual-exclusion lock in shared memory (8 bytes, 4-aligned; zeroed
 * memory is an unlocked mutex). Works between Workers (SharedArrayBuffer)
 * and between processes (SharedMemory). Not re-entrant.
 *
 * @example
 * ```ts
 * import { Mutex, SharedMemory } from "./mod.ts";
 * const seg = SharedMemory.create("/app-lock", Mutex.BYTES);
 * const m = new Mutex(seg, 0); // in another process: Mutex.fromHandle(m.handle())
 * {
 *   using _g = m.lock();
 *   // ... only one thread in any process runs this at a time
 * }
 * const g = await m.lockAsync(); // without blocking the event loop
 * g.unlock();
 * seg.close();
 * seg.unlink();
 * ```
 */
export class Mutex extends Primitive {
  /** Size in bytes. */
  static readonly BYTES: number = KIND.bytes;
  /** Required alignment in bytes. */
  static readonly ALIGN: number = 4;
  /** Descriptor and handle type name. */
  static readonly type: string = KIND.type;
  #guard: MutexGuard;
  /** Bun, SharedArrayBuffer: the state word through the built-in Atomics (see #cas). */
  #view: Uint32Array | null;
  #ix: number;
  /** The state word's pointer and the native compare-and-set, for the FFI fast path. */
  #state: Pointer;
  #nativeCas: NativeFn;
  /** This thread's id (an instance belongs to the thread that made it). */
  #me: number;

  /** A mutex at `byteOffset` in `memory` (zeroed, or already a Mutex). */
  constructor(memory: AtomicMemory, byteOffset = 0) {
    super(KIND, closed, memory, byteOffset);
    this.#guard = new Guard(this);
    const builtin = backend().runtime === "bun" && !(this.memory instanceof SharedMemory);
    this.#view = builtin ? new Uint32Array(this.memory as SharedArrayBuffer) : null;
    this.#ix = (this.byteOffset >> 2) + 1;
    this.#state = this.w[1];
    this.#nativeCas = this.ops.cas;
    this.#me = threadId();
  }

  /**
   * The uncontended lock and unlock: one compare-and-set of the state word.
   * In Bun over a SharedArrayBuffer it goes through the built-in Atomics (the
   * same lock cmpxchg, without an FFI call's ~3 ns), as the atomics do.
   */
  #cas(expected: number, desired: number): boolean {
    const v = this.#view;
    return v !== null
      ? Atomics.compareExchange(v, this.#ix, expected, desired) === expected
      : this.#nativeCas(this.#state, expected, desired);
  }

  /** A mutex in its own fresh SharedArrayBuffer (for Workers). */
  static create(): Mutex {
    return new Mutex(new SharedArrayBuffer(KIND.bytes));
  }

  /** Rebuilds a mutex from its descriptor (Workers) or handle string (processes). */
  static from(descriptorOrHandle: unknown): Mutex {
    const [memory, offset] = locate(KIND, "Mutex.from", descriptorOrHandle);
    return new Mutex(memory as AtomicMemory, offset);
  }

  /** Same as `from`, for handle strings. */
  static fromHandle(handle: string): Mutex {
    return Mutex.from(handle);
  }

  /** Blocks until the lock is held; returns its guard. */
  lock(): MutexGuard {
    const me = this.#me;
    if (this.#cas(0, me)) return this.#guard;
    return this.#result(runSync(this.#acquire(me, Infinity)))!;
  }

  /** Takes the lock if free (or within `timeoutMs`); returns its guard, or null. */
  tryLock(timeoutMs = 0): MutexGuard | null {
    const t = checkTimeout("Mutex.tryLock", timeoutMs);
    const me = this.#me;
    if (this.#cas(0, me)) return this.#guard;
    return this.#result(runSync(this.#acquire(me, performance.now() + t)));
  }

  /** Waits for the lock without blocking the event loop; null if `timeoutMs` passes first. */
  async lockAsync(timeoutMs?: number, signal?: AbortSignal): Promise<MutexGuard | null> {
    const t = checkTimeout("Mutex.lockAsync", timeoutMs);
    const s = checkSignal("Mutex.lockAsync", signal);
    if (s?.aborted) throw s.reason;
    const me = this.#me;
    if (this.#cas(0, me)) return this.#guard;
    return this.#result(await runAsync(this.#acquire(me, performance.now() + t, true), s, this));
  }

  /** Releases the lock; throws LockNotHeldError if this thread does not hold it. */
  unlock(): void {
    const me = this.#me;
    if (this.#cas(me, 0)) return;
    const { load, exchange } = this.ops;
    const v = load(this.w[1]);
    if ((v & OWNER) !== me) {
      throw new LockNotHeldError(
        `Mutex.unlock: this thread (${me}) does not hold the lock (${
          v === 0 ? "it is unlocked" : `thread ${v & OWNER} does`
        })`,
      );
    }
    exchange(this.w[1], 0);
    wake(this.w[1], 1);
  }

  /** Whether some thread holds the lock right now (a snapshot). */
  get locked(): boolean {
    return this.ops.load(this.w[1]) !== 0;
  }

  #result(r: number): MutexGuard | null {
    if (r === ACQUIRED) return this.#guard;
    if (r === TIMED_OUT) return null;
    throw new MutexOwnerDiedError(this.#guard, r);
  }

  /** In async mode another task of this thread may hold it: wait for it like any owner. */
  *#acquire(me: number, deadline: number, async = false): Algorithm<number> {
    const { load, cas } = this.ops;
    const state = this.w[1];
    let waited = false;
    for (;;) {
      const v = load(state);
      if (v === 0) {
        // after waiting, others may still wait: keep their bit so unlock wakes them
        if (cas(state, 0, waited ? (me | WAITERS) >>> 0 : me)) return ACQUIRED;
        continue;
      }
      const owner = v & OWNER;
      if (owner === me && !async) {
        // only this thread could release it: blocking would never end
        if (deadline !== Infinity) return TIMED_OUT;
        throw new Error("Mutex.lock: this thread already holds the lock (it is not re-entrant): that would deadlock");
      }
      if (!threadAlive(owner)) {
        if (cas(state, v, (me | (v & WAITERS)) >>> 0)) return owner;
        continue;
      }
      if (!(v & WAITERS) && !cas(state, v, (v | WAITERS) >>> 0)) continue;
      const ms = left(deadline, LIVENESS_MS);
      if (ms <= 0) return TIMED_OUT;
      waited = true;
      yield { ptr: state, expected: (v | WAITERS) >>> 0, timeoutMs: ms };
    }
  }
}

const closed = closedPrototypeOf(Mutex);
registerClass(KIND.type, Mutex);
