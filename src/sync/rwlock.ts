/**
 * A readers-writer lock in shared memory: many readers or one writer; a
 * waiting writer stops new readers from entering, so writers are not
 * starved. Every participant is robust: nothing a dead one leaves behind
 * can block the others.
 *
 * Layout (8-aligned), every owner word a robust word (see mutex.ts) of 40
 * bytes:
 *
 *     0   tag
 *     4   reader slots, N
 *     8   the writer word: the thread that writes, or waits to write (so a
 *         writer that dies while waiting for readers lets them go on)
 *     16  "writing": set once the writer has the lock (the readers gone),
 *         cleared before it lets go; a writer that died with it set leaves
 *         the data maybe half-written, and the next taker is told
 *     48 + 40 i   reader slot i: the thread id of a reader holding it
 *
 * A reader takes a free slot, then checks the writer word; a writer takes
 * the writer word, then waits until no slot has a live reader (both
 * sequentially consistent, so one of them sees the other). A dead reader's
 * slot is marked by the kernel and counts as free; a dead writer's word too.
 *
 * @module
 */

import type { Pointer } from "../native/backend.ts";
import { typeError } from "../errors.ts";
import type { AtomicMemory } from "../memory/region.ts";
import { LockNotHeldError } from "./mutex.ts";
import { DEFAULT_SLOTS, definePrimitive, type Kind, pin, Primitive, SLICE_MS, slotsOption } from "./primitive.ts";
import { lastOwner, ownerDied, release, ROBUST_BYTES, takeable, TID, WAITERS } from "./words.ts";
import {
  type Algorithm,
  checkTimeout,
  left,
  runAsync,
  runSync,
  type WaitResult,
  type WaitStep,
  wake,
} from "./waiting.ts";
import { startWait } from "./wait_args.ts";

const KIND: Kind = { name: "RwLock", type: "rwlock", bytes: 8, tag: 0x52574c32, align: 8 };
const WRITER = 8;
const WRITING = 16;
const SLOT0 = 48;

/** Options of a new RwLock. */
export interface RwLockOptions {
  /**
   * How many threads can hold the read lock at once, 1 … 1024 (default 16):
   * each reader holds a slot of 40 bytes that the kernel clears if it dies.
   * More readers wait for a slot. Omit to adopt an existing lock's.
   */
  readonly readers?: number;
}

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
 * Thrown when the caller takes an RwLock whose writer died while writing:
 * the caller now holds the WRITE lock (`guard`), whether it asked to read
 * or to write, because the data may be half-written: repair it, then
 * unlock. (A reader that dies, or a writer that dies while still waiting
 * for readers, changed nothing: the lock goes on without a report.)
 *
 * @example
 * ```ts
 * import { RwLock, RwLockOwnerDiedError } from "./mod.ts";
 * const rw = RwLock.create();
 * let guard;
 * try {
 *   guard = rw.read();
 * } catch (e) {
 *   if (!(e instanceof RwLockOwnerDiedError)) throw e;
 *   guard = e.guard; // the write lock: repair the data, then
 * }
 * guard.unlock();
 * ```
 */
export class RwLockOwnerDiedError extends Error {
  /** The guard of the write lock the caller now holds. */
  readonly guard: RwLockGuard;
  /** The thread id the writer that died had (in its own PID namespace), 0 if unknown. */
  readonly previousOwner: number;
  /**
   * An owner-died report.
   *
   * @example
   * ```ts
   * import { RwLock, RwLockOwnerDiedError } from "./mod.ts";
   * const rw = RwLock.create();
   * new RwLockOwnerDiedError(rw.write(), 1234).previousOwner; // 1234
   * ```
   */
  constructor(guard: RwLockGuard, previousOwner: number) {
    super(
      `RwLock: the writer (thread ${previousOwner}) died while writing; you hold the write lock now, repair the data`,
    );
    this.name = "RwLockOwnerDiedError";
    this.guard = guard;
    this.previousOwner = previousOwner;
  }
}

const ACQUIRED = -2;
const TIMED_OUT = -1;
// >= 0: the write lock, taken from a writer that died writing, whose id this is

function readersOption(options: unknown): number | undefined {
  const where = "new RwLock";
  if (options === null || typeof options !== "object") throw typeError(where, "options", "{ readers? }", options);
  return slotsOption(where, "readers", (options as RwLockOptions).readers);
}

/**
 * A readers-writer lock (48 + 40 × readers bytes, 8-aligned; zeroed memory
 * is an unlocked lock), between Workers and processes. Readers and writers
 * get blocking, try (with a timeout) and async forms and `using` guards.
 *
 * @example
 * ```ts
 * import { RwLock } from "./mod.ts";
 * const rw = RwLock.create();
 * {
 *   using _r1 = rw.read();
 *   using _r2 = rw.read(); // readers share
 * }
 * {
 *   using _w = await rw.writeAsync(); // alone
 * }
 * ```
 */
export class RwLock extends Primitive {
  #reader: RwLockGuard;
  #writer: RwLockGuard;
  #writerWord: Pointer;
  #writing: Pointer;
  #slots: Pointer;
  #n: number;
  /** Reader slots this instance holds, most recent last. */
  #held: number[] = [];

  /**
   * A readers-writer lock at `byteOffset` in `memory`: fresh (zeroed)
   * memory gets `options.readers` slots (default 16); an existing lock is
   * adopted (a different `readers` throws).
   */
  constructor(memory: AtomicMemory, byteOffset = 0, options: RwLockOptions = {}) {
    const readers = readersOption(options);
    super(KIND, memory, byteOffset, {
      robust: true,
      config: [readers],
      defaults: [DEFAULT_SLOTS],
      fixed: 1,
      names: ["readers"],
      size: ([n]) => RwLock.bytes({ readers: n }),
    });
    this.#n = this.config[0];
    this.#writerWord = this.at(WRITER);
    this.#writing = this.at(WRITING);
    this.#slots = this.at(SLOT0);
    this.#reader = { unlock: () => this.readUnlock(), [Symbol.dispose]: () => this.readUnlock() };
    this.#writer = { unlock: () => this.writeUnlock(), [Symbol.dispose]: () => this.writeUnlock() };
  }

  /**
   * The size in bytes of an RwLock with `readers` slots (default 16).
   *
   * @example
   * ```ts
   * import { RwLock } from "./mod.ts";
   * RwLock.bytes({ readers: 4 }); // 208
   * ```
   */
  static bytes(options: RwLockOptions = {}): number {
    return SLOT0 + ROBUST_BYTES * (readersOption(options) ?? DEFAULT_SLOTS);
  }

  /** A lock in its own fresh SharedArrayBuffer. */
  static create(options: RwLockOptions = {}): RwLock {
    return new RwLock(new SharedArrayBuffer(RwLock.bytes(options)), 0, options);
  }

  /** How many threads can hold the read lock at once. */
  get readerSlots(): number {
    return this.#n;
  }

  /** Blocks until a read lock is held. */
  read(): RwLockGuard {
    return this.#result(runSync(this.#read(Infinity, false)), this.#reader)!;
  }

  /** A read lock if one can be had (within `timeoutMs`), else null. */
  tryRead(timeoutMs = 0): RwLockGuard | null {
    const t = checkTimeout("RwLock.tryRead", timeoutMs);
    return this.#result(runSync(this.#read(performance.now() + t, false)), this.#reader);
  }

  /** Waits for a read lock without blocking the event loop (no timeout: the guard, never null). */
  readAsync(timeoutMs?: undefined, signal?: AbortSignal): Promise<RwLockGuard>;
  /** Waits for a read lock without blocking the event loop; null on timeout. */
  readAsync(timeoutMs: number, signal?: AbortSignal): Promise<RwLockGuard | null>;
  async readAsync(timeoutMs?: number, signal?: AbortSignal): Promise<RwLockGuard | null> {
    const { deadline, signal: s } = startWait("RwLock.readAsync", timeoutMs, signal);
    return this.#result(await runAsync(this.#read(deadline, true), s, this), this.#reader);
  }

  /** Blocks until the write lock is held. */
  write(): RwLockGuard {
    return this.#result(runSync(this.#write(Infinity, false)), this.#writer)!;
  }

  /** The write lock if it can be had (within `timeoutMs`), else null. */
  tryWrite(timeoutMs = 0): RwLockGuard | null {
    const t = checkTimeout("RwLock.tryWrite", timeoutMs);
    return this.#result(runSync(this.#write(performance.now() + t, false)), this.#writer);
  }

  /** Waits for the write lock without blocking the event loop (no timeout: the guard, never null). */
  writeAsync(timeoutMs?: undefined, signal?: AbortSignal): Promise<RwLockGuard>;
  /** Waits for the write lock without blocking the event loop; null on timeout. */
  writeAsync(timeoutMs: number, signal?: AbortSignal): Promise<RwLockGuard | null>;
  async writeAsync(timeoutMs?: number, signal?: AbortSignal): Promise<RwLockGuard | null> {
    const { deadline, signal: s } = startWait("RwLock.writeAsync", timeoutMs, signal);
    return this.#result(await runAsync(this.#write(deadline, true), s, this), this.#writer);
  }

  /** Releases a read lock this thread holds; throws LockNotHeldError if it holds none. */
  readUnlock(): void {
    const { load } = this.ops;
    const r = this.robust;
    // this instance's slots first, newest first; then any this thread holds
    for (let i = this.#held.pop(); i !== undefined; i = this.#held.pop()) {
      if (this.#releaseSlot(i)) return;
    }
    for (let i = 0; i < this.#n; i++) {
      const slot = this.#slot(i);
      if ((load(slot) & TID) === r.tid && r.owned(slot) === 1 && this.#releaseSlot(i)) return;
    }
    throw new LockNotHeldError(
      `RwLock.readUnlock: this thread holds no read lock (${this.#writes() ? "a writer holds it" : "it is not held"})`,
    );
  }

  /** Releases the write lock; throws LockNotHeldError if this thread does not hold it. */
  writeUnlock(): void {
    const { load } = this.ops;
    const r = this.robust;
    const word = this.#writerWord;
    if ((load(word) & TID) !== r.tid || r.owned(word) !== 1 || load(this.#writing) === 0) {
      throw new LockNotHeldError(
        `RwLock.writeUnlock: this thread does not hold the write lock (${
          this.#writes() ? "another thread does" : "it is not write-locked"
        })`,
      );
    }
    this.#releaseWrite();
  }

  /** Lets go of the write lock this thread holds. */
  #releaseWrite(): void {
    const { load, store } = this.ops;
    // not writing any more, then let go: a death in between leaves nothing to report
    store(this.#writing, 0);
    for (;;) {
      const v = load(this.#writerWord);
      if (release(this.robust, this.#writerWord, v, Infinity) !== 0) return;
    }
  }

  /** Readers holding the lock now (a snapshot); -1 if a writer holds it. */
  get readers(): number {
    if (this.#writes()) return -1;
    let n = 0;
    for (let i = this.robust.busy(this.#slots, this.#n, ROBUST_BYTES, 0); i >= 0; n++) {
      i = this.robust.busy(this.#slots, this.#n, ROBUST_BYTES, i + 1);
    }
    return n;
  }

  /** @internal */
  override holding(): boolean {
    const r = this.robust;
    if (r.owned(this.#writerWord) === 1) return true;
    for (let i = 0; i < this.#n; i++) if (r.owned(this.#slot(i)) === 1) return true;
    return false;
  }

  /** @internal */
  override abandon(): void {
    const r = this.robust;
    r.abandon(this.#writerWord);
    for (let i = 0; i < this.#n; i++) r.abandon(this.#slot(i));
    this.#held.length = 0;
  }

  /** Whether this thread holds a read lock (through any instance). */
  #readsHere(): boolean {
    const r = this.robust;
    for (let i = 0; i < this.#n; i++) {
      const slot = this.#slot(i);
      if ((this.ops.load(slot) & TID) === r.tid && r.owned(slot) === 1) return true;
    }
    return false;
  }

  /** Whether a live writer holds the write lock (not merely waits for it). */
  #writes(): boolean {
    const { load } = this.ops;
    return !takeable(this.robust, load(this.#writerWord)) && load(this.#writing) !== 0;
  }

  #slot(i: number): Pointer {
    return this.at(SLOT0 + ROBUST_BYTES * i);
  }

  /** Gives up reader slot `i` if this thread owns it; wakes a writer waiting on it. */
  #releaseSlot(i: number): boolean {
    const slot = this.#slot(i);
    for (;;) {
      const v = this.ops.load(slot);
      if ((v & TID) !== this.robust.tid) return false;
      const res = release(this.robust, slot, v, Infinity);
      if (res !== 0) return res === 1;
    }
  }

  #result(r: number, guard: RwLockGuard): RwLockGuard | null {
    if (r === ACQUIRED) return guard;
    if (r === TIMED_OUT) return null;
    throw new RwLockOwnerDiedError(this.#writer, r);
  }

  /** Sets WAITERS on `ptr` (which holds `v`) and waits there; false if it changed first. */
  *#sleep(ptr: Pointer, v: number, deadline: number, where: string): Generator<WaitStep, boolean, WaitResult> {
    if (!(v & WAITERS) && !this.ops.cas(ptr, v, (v | WAITERS) >>> 0)) return true;
    const ms = left(deadline, SLICE_MS);
    if (ms <= 0) return false;
    yield { ptr, expected: (v | WAITERS) >>> 0, timeoutMs: ms };
    this.live(where);
    return true;
  }

  *#read(deadline: number, async: boolean): Algorithm<number> {
    const { load, cas } = this.ops;
    const r = this.robust;
    const word = this.#writerWord;
    const start = r.tid % this.#n;
    for (;;) {
      const w = load(word);
      if (!takeable(r, w)) {
        // a writer holds it, or waits for readers to leave: new readers wait
        if (!async && (w & TID) === r.tid && r.owned(word) === 1) {
          if (deadline !== Infinity) return TIMED_OUT;
          throw new Error("RwLock.read: this thread holds (or waits for) the write lock: that would deadlock");
        }
        if (!async && deadline === Infinity && this.#readsHere()) {
          // the writer waits for this thread's read lock to go, this read for the writer
          throw new Error(
            "RwLock.read: this thread holds a read lock and a writer waits for it: reading again would deadlock",
          );
        }
        if (!(yield* this.#sleep(word, w, deadline, "RwLock.read"))) return TIMED_OUT;
        continue;
      }
      if (ownerDied(r, w)) {
        // the writer died: writing (take over as the writer and report), or only waiting (clear its word)
        if (load(this.#writing) !== 0) {
          const res = yield* this.#write(deadline, async);
          if (res !== ACQUIRED) return res;
          // another thread took over and repaired first: give back the write lock this read did not ask for
          this.#releaseWrite();
          continue;
        }
        if (cas(word, w, 0) && w & WAITERS) wake(word, Infinity);
        continue;
      }
      const c = r.claim(this.#slots, this.#n, ROBUST_BYTES, start);
      if (c < 0) {
        // every slot has a live reader: wait for one
        const slot = this.#slot(start);
        const v = load(slot);
        if (takeable(r, v)) continue;
        if (!(yield* this.#sleep(slot, v, deadline, "RwLock.read"))) return TIMED_OUT;
        continue;
      }
      const i = c & 0xffff;
      if (!takeable(r, load(word))) {
        // a writer came: make way for it (writers first), then wait like the others
        this.#releaseSlot(i);
        continue;
      }
      this.#held.push(i);
      if (!this.pinned) pin(this);
      return ACQUIRED;
    }
  }

  *#write(deadline: number, async: boolean): Algorithm<number> {
    const { load, store } = this.ops;
    const r = this.robust;
    const word = this.#writerWord;
    const me = r.tid;
    let waited = false;
    let previous = ACQUIRED;
    // 1: the writer word, which keeps new readers out
    for (;;) {
      const w = load(word);
      if (takeable(r, w)) {
        const died = ownerDied(r, w) && load(this.#writing) !== 0;
        const prev = died ? lastOwner(load, this.at(WRITER + 4), w) : ACQUIRED;
        if (r.cas(word, w, (me | (waited ? WAITERS : w & WAITERS)) >>> 0) === 1) {
          previous = prev;
          break;
        }
        continue;
      }
      if (!async && (w & TID) === me && r.owned(word) === 1) {
        if (deadline !== Infinity) return TIMED_OUT;
        throw new Error("RwLock.write: this thread holds (or waits for) the write lock: that would deadlock");
      }
      waited = true;
      if (!(yield* this.#sleep(word, w, deadline, "RwLock.write"))) return TIMED_OUT;
    }
    if (!this.pinned) pin(this);
    // 2: wait until no slot has a live reader
    let held = false;
    try {
      for (let i = r.busy(this.#slots, this.#n, ROBUST_BYTES, 0); i >= 0;) {
        const slot = this.#slot(i);
        const v = load(slot);
        if (takeable(r, v)) {
          i = r.busy(this.#slots, this.#n, ROBUST_BYTES, i);
          continue;
        }
        if (!async && (v & TID) === me && r.owned(slot) === 1) {
          if (deadline !== Infinity) return TIMED_OUT;
          throw new Error("RwLock.write: this thread holds a read lock (no upgrades): that would deadlock");
        }
        if (!(yield* this.#sleep(slot, v, deadline, "RwLock.write"))) return TIMED_OUT;
      }
      store(this.#writing, 1);
      held = true;
      return previous;
    } finally {
      if (!held && this.memoryOpen()) {
        // gave up (timed out, aborted, would deadlock): let the readers in again
        for (;;) {
          const w = load(word);
          if (release(r, word, w, Infinity) !== 0) break;
        }
      }
    }
  }
}

definePrimitive(RwLock, KIND, SLOT0 + ROBUST_BYTES * DEFAULT_SLOTS);
