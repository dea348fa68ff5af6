/**
 * What every synchronisation primitive shares: a block of 32-bit words in a
 * SharedArrayBuffer or SharedMemory, a tag word that says which primitive
 * lives there and holds its configuration, the word operations, robust
 * owner words (which the kernel marks when their owner dies), the set of
 * primitives this thread holds, and descriptors and handles like the
 * atomics'.
 *
 * @module
 */

import { backend, type NativeFn, type Pointer } from "../native/backend.ts";
import { errnoName } from "../native/errno.ts";
import { rangeError, typeError } from "../errors.ts";
import { region } from "../memory/region.ts";
import { openGroup, typeSymbols } from "../native/library.ts";
import { closedPrototype, membersOf } from "../memory/closed.ts";
import { onSegmentClose, SharedMemory, SharedMemoryClosedError } from "../memory/shared_memory.ts";
import { ROBUST_SYMBOLS } from "../native/abi.ts";
import {
  acceptsType,
  type AtomicDescriptor,
  descriptorOf,
  handleOf,
  openDescriptorOrHandle,
} from "../memory/descriptor.ts";
import { waitSymbols, wake } from "./waiting.ts";

/** The u32 word operations the primitives use, bound once. */
export interface Words {
  load: NativeFn;
  store: NativeFn;
  cas: NativeFn;
  exchange: NativeFn;
  fetchAdd: NativeFn;
  fetchSub: NativeFn;
}

let words: Words | undefined;

/** The u32 exports (and, first, the wait exports' version check). */
export function wordOps(): Words {
  if (words !== undefined) return words;
  waitSymbols();
  const s = typeSymbols("u32");
  return (words = {
    load: s.sa_u32_load,
    store: s.sa_u32_store,
    cas: s.sa_u32_compare_and_set,
    exchange: s.sa_u32_exchange,
    fetchAdd: s.sa_u32_fetch_add,
    fetchSub: s.sa_u32_fetch_sub,
  });
}

/** A robust word's bits (the kernel's): waiters, owner died, owner's thread id. */
export const WAITERS = 0x80000000;
export const OWNER_DIED = 0x40000000;
export const TID = 0x3fffffff;
/** Bytes a robust word owns: the word, its last owner, 12 spare bytes, the list links. */
export const ROBUST_BYTES = 40;
/** How long a wait sleeps before it looks again (a waiter woken and then killed wakes nobody). */
export const SLICE_MS = 200;

/** The robust-word exports and this thread's id, bound once per thread. */
export interface Robust {
  /** Compare-and-set that links/unlinks the word in this thread's robust list: 1 stored, 0 differed, -1 not ours. */
  cas: NativeFn;
  /** The same with this thread's context passed first (`casAt(context, ptr, expected, desired)`): the hot path. */
  casAt: NativeFn;
  /** This thread's robust-list context, for `casAt` (valid in this thread only). */
  readonly context: Pointer;
  /** `lockAt(context, ptr)`: casAt(context, ptr, 0, tid), the uncontended lock. */
  lockAt: NativeFn;
  /** `unlockAt(context, ptr)`: casAt(context, ptr, tid, 0), the uncontended unlock. */
  unlockAt: NativeFn;
  /** 1 if this thread owns the word (its id is in it and it is in this thread's list). */
  owned: NativeFn;
  /** Without a robust list: 1 if the owner a word names is gone (its process). */
  gone: NativeFn;
  /** Gives up an owned word as if this thread had died. */
  abandon: NativeFn;
  /** Claims the first free word of a row; index (+ 0x10000 if its owner had died), or -1. */
  claim: NativeFn;
  /** Index of the first word of a row a live thread owns, or -1. */
  busy: NativeFn;
  semAcquire: NativeFn;
  semRelease: NativeFn;
  semHeld: NativeFn;
  /** This thread's id, as robust words hold it. */
  readonly tid: number;
  /** No robust list here (macOS): a dead owner is found with `kill(id, 0)`. */
  readonly fallback: boolean;
}

let robust: Robust | undefined;

/**
 * The robust-word exports, after setting up this thread's robust futex list
 * and checking its futex_offset fits the layout (throws, naming `where`,
 * before any memory is written).
 */
export function robustOps(where: string): Robust {
  if (robust !== undefined) return robust;
  wordOps();
  const s = openGroup("robust", ROBUST_SYMBOLS);
  const offset: number = s.sa_robust_init();
  if (offset > 0) {
    throw new Error(
      `${where}: the kernel refused this thread's robust futex list (set_robust_list: ${
        errnoName(offset, backend().os)
      }); the locks need it to notice a holder that dies`,
    );
  }
  if (offset !== 0 && (offset < -32 || offset > -28)) {
    throw new Error(
      `${where}: this thread's robust futex list has futex_offset ${offset}; a lock's words hold the list links ` +
        "for futex_offset -32 (glibc) to -28 (musl) only",
    );
  }
  return (robust = {
    cas: s.sa_robust_cas,
    casAt: s.sa_robust_cas_at,
    lockAt: s.sa_robust_lock_at,
    unlockAt: s.sa_robust_unlock_at,
    context: s.sa_robust_context(),
    owned: s.sa_robust_owned,
    gone: s.sa_robust_gone,
    abandon: s.sa_robust_abandon,
    claim: s.sa_robust_claim,
    busy: s.sa_robust_busy,
    semAcquire: s.sa_sem_acquire,
    semRelease: s.sa_sem_release,
    semHeld: s.sa_sem_held,
    tid: s.sa_robust_tid(),
    fallback: offset === 0,
  });
}

/** Without a robust list: whether `v`'s owner is gone (its process: `kill(pid, 0)`). */
function ownerGone(r: Robust, v: number): boolean {
  return r.fallback && (v & TID) !== 0 && r.gone(v >>> 0) === 1;
}

/** Whether a robust word is free to take: no live owner. */
export function takeable(r: Robust, v: number): boolean {
  return (v & TID) === 0 || ownerGone(r, v);
}

/** Whether a robust word's last owner died holding it. */
export function ownerDied(r: Robust, v: number): boolean {
  return ((v & TID) === 0 && (v & OWNER_DIED) !== 0) || ownerGone(r, v);
}

/** The id of a robust word's owner: the one in it, or (after a death, which clears it) the one recorded after it. */
export function lastOwner(load: NativeFn, recordPtr: Pointer, v: number): number {
  return (v & TID) !== 0 ? v & TID : load(recordPtr);
}

/** The static description of one primitive kind. */
export interface Kind {
  /** Class name, for messages: "Mutex". */
  readonly name: string;
  /** Descriptor and handle type: "mutex". */
  readonly type: string;
  /** Size in bytes of the fixed part: the tag and configuration words (all of it, for a fixed size). */
  readonly bytes: number;
  /** The tag word's value once initialised (never 0 or 1). */
  readonly tag: number;
  /** Alignment in bytes: 8 where there are robust words, else 4. */
  readonly align: number;
}

/** How a primitive is laid out and configured (see the constructor). */
export interface Layout {
  /** Configuration words after the tag: undefined adopts what is stored. */
  readonly config?: readonly (number | undefined)[];
  /** Used for an undefined configuration word when the memory is fresh (undefined: required). */
  readonly defaults?: readonly (number | undefined)[];
  /** How many of the configuration words must match what is stored. */
  readonly fixed?: number;
  /** The whole size in bytes, from the configuration (default: `kind.bytes`). */
  readonly size?: (config: readonly number[]) => number;
  /** More words to write in fresh memory: [byte offset, value] pairs, from the configuration. */
  readonly fresh?: (config: readonly number[]) => readonly (readonly [number, number])[];
  /** Whether it has robust words (then this thread's robust list is set up first). */
  readonly robust?: boolean;
}

const INITIALISING = 1;
const nap = new Int32Array(new SharedArrayBuffer(4));

// ---- the primitives this thread holds ------------------------------------------------
//
// A held robust word is linked into this thread's robust list, in the memory
// the primitive lives in: that memory must not be collected while it is, so
// a primitive is pinned here when it is taken. Unpinning costs the hot path
// nothing: primitives that hold nothing are swept out when the set has grown
// (at most 64, or twice what is held, stay pinned longer than needed).

const pinned = new Set<Primitive>();
let sweepAt = 64;

/** Keeps `p` (and its memory) alive while this thread holds any of its words. */
export function pin(p: Primitive): void {
  p.pinned = true;
  if (pinned.size >= sweepAt) {
    for (const q of pinned) {
      if (!q.memoryOpen() || !q.holding()) {
        pinned.delete(q);
        q.pinned = false;
      }
    }
    sweepAt = Math.max(64, 2 * pinned.size);
  }
  pinned.add(p);
}

// A SharedMemory about to close: the words this thread holds in it are given
// up exactly as if it had died (the next owner is told), and unlinked first,
// since their memory is about to be replaced.
onSegmentClose((seg) => {
  for (const p of pinned) {
    if (p.memory !== seg) continue;
    p.abandon();
    pinned.delete(p);
    p.pinned = false;
  }
});

/**
 * The common part of every synchronisation primitive: where it lives, and
 * its descriptor (for Workers) and handle (for other processes).
 *
 * @example
 * ```ts
 * import { Mutex, type Primitive } from "./mod.ts";
 * const p: Primitive = Mutex.create();
 * p.descriptor().type; // "mutex"
 * ```
 */
export abstract class Primitive {
  /** The memory the primitive lives in (kept alive as long as it is). */
  readonly memory: SharedArrayBuffer | SharedMemory;
  /** Its byte offset within `memory`. */
  readonly byteOffset: number;
  /** @internal Pointers to its fixed words; word 0 is the tag, 1 the first configuration word. */
  protected readonly w: Pointer[];
  /** @internal Its configuration as stored (after the tag). */
  protected readonly config: readonly number[];
  /** @internal */
  protected readonly ops: Words;
  /** @internal Robust-word exports (primitives with robust words only). */
  protected readonly robust: Robust;
  /** @internal Pinned in this thread's set of held primitives. */
  pinned = false;
  readonly #base: Pointer;

  /**
   * Places the primitive: checks memory, offset, alignment and (once the
   * configuration is known) the whole size, and sets up this thread's robust
   * list, all before writing anything; then, on first use, writes the
   * configuration after the tag, else checks the first `fixed` words match
   * (an undefined entry adopts what is stored).
   */
  protected constructor(kind: Kind, closed: object, memory: unknown, byteOffset: unknown, layout: Layout = {}) {
    const where = `new ${kind.name}`;
    const head = region(where, memory, byteOffset, kind.bytes, kind.align);
    this.ops = wordOps();
    this.robust = layout.robust ? robustOps(where) : (undefined as unknown as Robust);
    this.memory = head.owner;
    this.byteOffset = head.byteOffset;
    this.#base = head.pointer;
    const b = backend();
    this.w = Array.from(
      { length: kind.bytes / 4 },
      (_, i) => (i === 0 ? head.pointer : b.pointerAt(head.pointer, 4 * i)),
    );
    const config = this.#settle(kind, where, memory, byteOffset, layout);
    this.config = config;
    head.track?.(this, closed);
  }

  /** @internal The pointer `offset` bytes into the primitive. */
  protected at(offset: number): Pointer {
    return offset === 0 ? this.#base : backend().pointerAt(this.#base, offset);
  }

  #settle(kind: Kind, where: string, memory: unknown, byteOffset: unknown, layout: Layout): number[] {
    const { load, store, cas } = this.ops;
    const given = layout.config ?? [];
    const tag = this.w[0];
    const read = () => given.map((_, i) => load(this.w[1 + i]) as number);
    const sized = (config: number[]) => {
      const size = layout.size?.(config) ?? kind.bytes;
      if (size > kind.bytes) region(where, memory, byteOffset, size, kind.align);
      return config;
    };
    for (let spins = 0;; spins++) {
      const t = load(tag);
      if (t === kind.tag) {
        const have = read();
        given.slice(0, layout.fixed ?? 0).forEach((c, i) => {
          if (c !== undefined && c !== have[i]) {
            throw rangeError(
              where,
              "options",
              `the configuration this ${kind.name} already has (${have[i]} at word ${1 + i})`,
              c,
            );
          }
        });
        return sized(have);
      }
      if (t === 0) {
        const config = given.map((c, i) => {
          const v = c ?? layout.defaults?.[i];
          if (v === undefined) {
            throw typeError(where, "options", `the ${kind.name}'s configuration (this memory holds none yet)`, c);
          }
          return v;
        });
        sized(config);
        if (!cas(tag, 0, INITIALISING)) continue;
        config.forEach((c, i) => store(this.w[1 + i], c));
        for (const [offset, value] of layout.fresh?.(config) ?? []) store(this.at(offset), value);
        store(tag, kind.tag);
        return config;
      }
      if (t === INITIALISING) {
        if (spins > 5000) throw new Error(`${where}: the memory stays half-initialised (did its creator die?)`);
        Atomics.wait(nap, 0, 0, 1);
        continue;
      }
      throw typeError(
        where,
        "memory",
        `free (zeroed) memory or a ${kind.name}`,
        `memory holding something else (tag 0x${(t >>> 0).toString(16)})`,
      );
    }
  }

  /** @internal Whether this thread holds any of its robust words (through this or another instance). */
  holding(): boolean {
    return false;
  }

  /** @internal Gives up every robust word this thread holds in it, as if the thread had died. */
  abandon(): void {}

  /** @internal Whether its memory is still there (a SharedMemory not closed). */
  memoryOpen(): boolean {
    const m = this.memory;
    return !(m instanceof SharedMemory && m.closed);
  }

  /** @internal Throws if its SharedMemory was closed (e.g. while this thread waited). */
  protected live(where: string): void {
    if (!this.memoryOpen()) {
      throw new SharedMemoryClosedError(`${where}: the SharedMemory it lives in was closed`);
    }
  }

  /** A structured-clonable descriptor, to send this primitive to a Worker. */
  descriptor(): AtomicDescriptor {
    return descriptorOf((this.constructor as unknown as { type: string }).type, this.memory, this.byteOffset);
  }

  /** A short string naming this primitive for another process: "sa1:mutex@0:shm:/name". */
  handle(): string {
    const { name, type } = this.constructor as unknown as { name: string; type: string };
    return handleOf(`${name}.handle`, type, this.memory, this.byteOffset, `a ${name}`, "");
  }
}

/**
 * Gives up robust word `ptr`, which this thread owns (`v`: its value now),
 * waking `count` waiters if any wait: 1 done, 0 it changed (retry), -1 not
 * this thread's.
 */
export function release(r: Robust, ptr: Pointer, v: number, count = 1): number {
  const res = r.cas(ptr, v, 0);
  if (res === 1 && v & WAITERS) wake(ptr, count);
  return res;
}

/** Checks a number of slots (readers, holders) option. */
export function slotsOption(where: string, param: string, v: unknown, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number") throw typeError(where, param, `an integer in [1, ${max}]`, v);
  if (!Number.isInteger(v) || v < 1 || v > max) throw rangeError(where, param, `an integer in [1, ${max}]`, v);
  return v;
}

/** Parses a descriptor or handle for `kind`; returns the memory and offset. */
export function locate(kind: Kind, where: string, d: unknown): [unknown, number] {
  const r = openDescriptorOrHandle(where, d, acceptsType(kind.type, `a ${kind.name}`));
  return [r.memory, r.byteOffset as number];
}

/**
 * The prototype an instance gets when its SharedMemory closes: every method
 * and getter of the class (and its bases) throws.
 */
export function closedPrototypeOf(cls: { prototype: object; name: string }): object {
  const internal = new Set(["holding", "abandon", "at", "live", "memoryOpen"]);
  return closedPrototype(cls.prototype, cls.name, membersOf(cls).filter((m) => !internal.has(m)), "it");
}
