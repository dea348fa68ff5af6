/**
 * A counting semaphore in shared memory, never above its maximum, whose
 * permits come back when a thread holding them dies.
 *
 * Layout (8-aligned; the words are zig/robust.zig's, which keeps the
 * counters: one native call per acquire or release):
 *
 *     0 tag, 4 max, 8 holder slots (N), 12 permits available,
 *     16 permits held (by all slots), 20 … 36 an undo journal,
 *     40 an internal robust lock (40 bytes) guarding the counters,
 *     80 + 40 k: holder slot k, a robust word holding a thread's id, with
 *     the number of permits it holds 8 bytes further on.
 *
 * A thread that holds permits holds one slot, which the kernel marks if the
 * thread dies; the next acquire short of permits returns a dead holder's
 * permits (under the internal lock, so exactly once), and the next acquire
 * that succeeds after that reports it with SemaphoreOwnerDiedError.
 *
 * @module
 */

import type { Pointer } from "../native/backend.ts";
import { rangeError, typeError } from "../errors.ts";
import type { AtomicMemory } from "../memory/region.ts";
import { DEFAULT_SLOTS, definePrimitive, type Kind, pin, Primitive, SLICE_MS, slotsOption } from "./primitive.ts";
import { ROBUST_BYTES } from "./words.ts";
import { backend } from "../native/backend.ts";
import { type Algorithm, checkTimeout, left, runAsync, runSync } from "./waiting.ts";
import { startWait } from "./wait_args.ts";

const KIND: Kind = { name: "Semaphore", type: "semaphore", bytes: 80, tag: 0x53454d32, align: 8 };
const MAX = 0x7fffffff;
const AVAILABLE = 12;
const SLOT0 = 80;
// results of sa_sem_acquire / sa_sem_release besides a slot index (zig/robust.zig)
const NOT_ENOUGH = -2;
const NO_SLOT = -3;
const EXCEEDS = -4;
// -5: not a Semaphore's words

/** Options of a new Semaphore. */
export interface SemaphoreOptions {
  /** The most permits it can hold, 1 … 2^31−1. Omit to adopt an existing semaphore's. */
  readonly max?: number;
  /** Permits it starts with (default: `max`); only used when the memory is fresh. */
  readonly initial?: number;
  /**
   * How many threads can hold permits at once, 1 … 1024 (default: `max`,
   * at most 16): each holds a slot of 40 bytes, which is how its permits
   * come back if it dies. Omit to adopt an existing semaphore's.
   */
  readonly holders?: number;
}

/**
 * Thrown by `acquire`, `tryAcquire` and `acquireAsync` when, before this
 * call got its permits, permits of a thread that died holding them were
 * returned to the semaphore: the call DID succeed (the caller holds its
 * permits), but whatever the dead holder was doing with them may be
 * unfinished. Reported once, to the next acquire that succeeds.
 *
 * @example
 * ```ts
 * import { Semaphore, SemaphoreOwnerDiedError } from "./mod.ts";
 * const slots = Semaphore.create({ max: 2 });
 * try {
 *   slots.acquire();
 * } catch (e) {
 *   if (!(e instanceof SemaphoreOwnerDiedError)) throw e;
 *   // we hold the permit; e.recovered permits came back from a dead holder
 * }
 * slots.release();
 * ```
 */
export class SemaphoreOwnerDiedError extends Error {
  /** How many permits came back from holders that died. */
  readonly recovered: number;
  /** The thread id (in its own PID namespace) of the last holder that died, 0 if unknown. */
  readonly previousOwner: number;
  /**
   * An owner-died report.
   *
   * @example
   * ```ts
   * import { SemaphoreOwnerDiedError } from "./mod.ts";
   * new SemaphoreOwnerDiedError(2, 1234).recovered; // 2
   * ```
   */
  constructor(recovered: number, previousOwner: number) {
    super(
      `Semaphore: ${recovered} permit(s) of a holder that died (thread ${previousOwner}) came back; ` +
        "this call holds its permits now",
    );
    this.name = "SemaphoreOwnerDiedError";
    this.recovered = recovered;
    this.previousOwner = previousOwner;
  }
}

function count(where: string, param: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== "number") throw typeError(where, param, `an integer in [${lo}, ${hi}]`, v);
  if (!Number.isInteger(v) || v < lo || v > hi) throw rangeError(where, param, `an integer in [${lo}, ${hi}]`, v);
  return v;
}

function options(where: string, o: unknown): { max?: number; initial?: number; holders?: number } {
  if (o === null || typeof o !== "object") throw typeError(where, "options", "{ max, initial?, holders? }", o);
  const opt = o as SemaphoreOptions;
  const max = opt.max === undefined ? undefined : count(where, "max", opt.max, 1, MAX);
  const initial = opt.initial === undefined ? max : count(where, "initial", opt.initial, 0, max ?? MAX);
  const holders = slotsOption(where, "holders", opt.holders);
  return { max, initial, holders };
}

/** Per thread: where the native calls write their extra results. */
let scratch: { view: Uint32Array; ptr: Pointer } | undefined;
function out(): { view: Uint32Array; ptr: Pointer } {
  if (scratch !== undefined) return scratch;
  const view = new Uint32Array(new SharedArrayBuffer(16));
  return (scratch = { view, ptr: backend().pointer(new Uint8Array(view.buffer)) });
}

const ACQUIRED = -2;
const TIMED_OUT = -1;
interface Died {
  readonly recovered: number;
  readonly previousOwner: number;
}

/**
 * A counting semaphore (80 + 40 × holders bytes, 8-aligned) between Workers
 * and processes: `acquire(n)` takes n permits (blocking, try with a
 * timeout, or async), `release(n)` returns them and throws rather than
 * exceed `max`. Permits are held by threads: `release` gives back the
 * calling thread's own first, and a holder that dies has its permits
 * returned for it. So a thread that takes permits and never gives them back
 * keeps holding them: for signals between threads (one side only releases,
 * the other only acquires) use `AtomicI32` wait/notify or a `WaitGroup`.
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
  #base: Pointer;
  #available: Pointer;

  /**
   * A semaphore at `byteOffset` in `memory`: fresh (zeroed) memory needs
   * `max`; existing ones are adopted (a different `max` or `holders` throws).
   */
  constructor(memory: AtomicMemory, byteOffset = 0, options_: SemaphoreOptions = {}) {
    const { max, initial, holders } = options("new Semaphore", options_);
    super(KIND, memory, byteOffset, {
      robust: true,
      config: [max, holders],
      defaults: [undefined, Math.min(max ?? DEFAULT_SLOTS, DEFAULT_SLOTS)],
      fixed: 2,
      names: ["max", "holders"],
      size: ([, n]) => SLOT0 + ROBUST_BYTES * n,
      fresh: () => [[AVAILABLE, initial!]],
    });
    this.#base = this.at(0);
    this.#available = this.at(AVAILABLE);
  }

  /**
   * The size in bytes of a Semaphore with these options.
   *
   * @example
   * ```ts
   * import { Semaphore } from "./mod.ts";
   * Semaphore.bytes({ max: 2 }); // 160: two holder slots
   * ```
   */
  static bytes(options_: SemaphoreOptions): number {
    const { max, holders } = options("Semaphore.bytes", options_);
    return SLOT0 + ROBUST_BYTES * (holders ?? Math.min(max ?? DEFAULT_SLOTS, DEFAULT_SLOTS));
  }

  /** A semaphore in its own fresh SharedArrayBuffer. */
  static create(options_: SemaphoreOptions): Semaphore {
    return new Semaphore(new SharedArrayBuffer(Semaphore.bytes(options_)), 0, options_);
  }

  /** The maximum number of permits. */
  get max(): number {
    return this.config[0];
  }

  /** How many threads can hold permits at once. */
  get holders(): number {
    return this.config[1];
  }

  /** Permits available now (a snapshot; a dead holder's count as taken until an acquire returns them). */
  get available(): number {
    return this.ops.load(this.#available);
  }

  /** Permits the calling thread holds. */
  get held(): number {
    return Math.max(0, this.robust.semHeld(this.#base));
  }

  /** Blocks until `n` permits are taken. */
  acquire(n = 1): void {
    this.#result(runSync(this.#acquire(this.#n("acquire", n), Infinity)));
  }

  /**
   * Takes `n` permits if available (within `timeoutMs`, at least that long
   * however large); returns whether it did.
   */
  tryAcquire(n = 1, timeoutMs = 0): boolean {
    const k = this.#n("tryAcquire", n);
    const t = checkTimeout("Semaphore.tryAcquire", timeoutMs);
    return this.#result(runSync(this.#acquire(k, performance.now() + t)));
  }

  /** Waits for `n` permits without blocking the event loop; false on timeout. */
  async acquireAsync(n = 1, timeoutMs?: number, signal?: AbortSignal): Promise<boolean> {
    const k = this.#n("acquireAsync", n);
    const { deadline, signal: s } = startWait("Semaphore.acquireAsync", timeoutMs, signal);
    return this.#result(await runAsync(this.#acquire(k, deadline), s, this));
  }

  /**
   * Returns `n` permits: those the calling thread holds first, then permits
   * nobody holds yet (a semaphore made with `initial` below `max`); a
   * RangeError (and no change) if that would exceed `max`.
   */
  release(n = 1): void {
    const k = this.#n("release", n);
    const o = out();
    const res = this.robust.semRelease(this.#base, k, o.ptr);
    if (res === 1) return;
    if (res === EXCEEDS) {
      const allowed = o.view[2];
      throw rangeError(
        "Semaphore.release",
        "n",
        `at most ${allowed} (max ${this.max}, ${this.available} available, ${this.held} held by this thread)`,
        n,
      );
    }
    throw this.#corrupt("release");
  }

  /** @internal */
  override holding(): boolean {
    return this.robust.semHeld(this.#base) > 0;
  }

  /** @internal */
  override abandon(): void {
    for (let k = 0; k < this.holders; k++) this.robust.abandon(this.at(SLOT0 + ROBUST_BYTES * k));
  }

  #n(method: string, n: unknown): number {
    return count(`Semaphore.${method}`, "n", n, 1, this.max);
  }

  #corrupt(method: string): Error {
    return new Error(`Semaphore.${method}: the memory does not hold a Semaphore's counters any more`);
  }

  #result(r: number | Died): boolean {
    if (r === ACQUIRED) return true;
    if (r === TIMED_OUT) return false;
    const d = r as Died;
    throw new SemaphoreOwnerDiedError(d.recovered, d.previousOwner);
  }

  *#acquire(n: number, deadline: number): Algorithm<number | Died> {
    const o = out();
    for (;;) {
      const res = this.robust.semAcquire(this.#base, n, o.ptr);
      if (res >= 0) {
        if (!this.pinned) pin(this);
        return o.view[0] > 0 ? { recovered: o.view[0], previousOwner: o.view[1] } : ACQUIRED;
      }
      if (res !== NOT_ENOUGH && res !== NO_SLOT) throw this.#corrupt("acquire");
      // a release changes `available` and wakes; a holder's death does not, hence the slices
      const available = res === NOT_ENOUGH ? o.view[2] : this.ops.load(this.#available);
      const ms = left(deadline, SLICE_MS);
      if (ms <= 0) return TIMED_OUT;
      yield { ptr: this.#available, expected: available, timeoutMs: ms };
      this.live("Semaphore.acquire");
    }
  }
}

definePrimitive(Semaphore, KIND, SLOT0 + ROBUST_BYTES * DEFAULT_SLOTS);
