/**
 * The words the synchronisation primitives are made of: 32-bit words (the
 * u32 exports, bound once) and robust owner words, which hold their owner's
 * thread id and which the kernel marks when that thread dies (the robust
 * futex list; without one, as on macOS, a dead owner's process is looked
 * for with `kill(pid, 0)`).
 *
 * @module
 */

import { backend, type NativeFn, type Pointer } from "../native/backend.ts";
import { errnoName } from "../native/errno.ts";
import { openGroup, typeSymbols } from "../native/library.ts";
import { ROBUST_SYMBOLS } from "../native/abi.ts";
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
