/**
 * The async surface that both backends implement: the local shared-memory
 * classes (`AtomicI64`, `AtomicF64`, `Mutex`, `Semaphore`, `SharedMap`,
 * `Channel`) and the Valkey ones (`ValkeyStore`'s `atomicI64`, `atomicF64`,
 * `mutex`, `semaphore`, `map`, `channel`). Code written against these types
 * and `await`ing every call runs on either backend unchanged: a local method
 * that returns its result at once satisfies a member typed `Awaitable<T>`.
 *
 * @module
 */

/**
 * A value, or a promise of it: what a member returns that one backend
 * computes at once (shared memory) and the other over the network.
 *
 * @example
 * ```ts
 * import type { Awaitable } from "./valkey.ts";
 * const twice = async (x: Awaitable<number>) => 2 * (await x);
 * await twice(Promise.resolve(21)); // 42
 * ```
 */
export type Awaitable<T> = T | PromiseLike<T>;

/**
 * An atomic number on either backend: load, store, exchange,
 * compare-exchange, add, sub, max and min in both return forms (`fetchX`
 * returns the old value, `xFetch` the new one). `V` is `bigint` or `number`
 * for a 64-bit integer (both paths exist on both backends: pass a number,
 * get a number), `number` for a float.
 *
 * @example
 * ```ts
 * import { AtomicI64 } from "./mod.ts";
 * import type { AsyncAtomic } from "./valkey.ts";
 * async function bump(counter: AsyncAtomic<bigint>): Promise<bigint> {
 *   await counter.fetchAdd(2n);
 *   return await counter.subFetch(1n);
 * }
 * await bump(AtomicI64.create(10n)); // 11n
 * ```
 */
export interface AsyncAtomic<V> {
  /** Reads the value. */
  load(): Awaitable<V>;
  /** Writes the value. */
  store(value: V): Awaitable<void>;
  /** Writes `value`, returns the previous value. */
  exchange(value: V): Awaitable<V>;
  /** Writes `desired` if the value is `expected`; returns the previous value either way. */
  compareExchange(expected: V, desired: V): Awaitable<V>;
  /** Writes `desired` if the value is `expected`; returns whether it wrote. */
  compareAndSet(expected: V, desired: V): Awaitable<boolean>;
  /** Adds, returns the old value. */
  fetchAdd(value: V): Awaitable<V>;
  /** Adds, returns the new value. */
  addFetch(value: V): Awaitable<V>;
  /** Subtracts, returns the old value. */
  fetchSub(value: V): Awaitable<V>;
  /** Subtracts, returns the new value. */
  subFetch(value: V): Awaitable<V>;
  /** Stores the larger, returns the old value. */
  fetchMax(value: V): Awaitable<V>;
  /** Stores the smaller, returns the old value. */
  fetchMin(value: V): Awaitable<V>;
  /** Stores the larger, returns the new value. */
  maxFetch(value: V): Awaitable<V>;
  /** Stores the smaller, returns the new value. */
  minFetch(value: V): Awaitable<V>;
}

/**
 * A 64-bit atomic integer on either backend: the bigint methods over the
 * full range, and a number path (a number in, a number out) for values
 * within ±2^53.
 *
 * @example
 * ```ts
 * import { AtomicI64 } from "./mod.ts";
 * import type { AsyncAtomicInteger } from "./valkey.ts";
 * const hits: AsyncAtomicInteger = AtomicI64.create();
 * await hits.fetchAdd(1); // 0 (a number)
 * await hits.load(); // 1n
 * ```
 */
export interface AsyncAtomicInteger extends AsyncAtomic<bigint> {
  /** Reads the value as a number. */
  loadNumber(): Awaitable<number>;
  /** Writes a number. */
  store(value: bigint | number): Awaitable<void>;
  /** Adds a number, returns the old value as a number. */
  fetchAdd(value: number): Awaitable<number>;
  /** Adds, returns the old value. */
  fetchAdd(value: bigint): Awaitable<bigint>;
  /** Adds a number, returns the new value as a number. */
  addFetch(value: number): Awaitable<number>;
  /** Adds, returns the new value. */
  addFetch(value: bigint): Awaitable<bigint>;
  /** Subtracts a number, returns the old value as a number. */
  fetchSub(value: number): Awaitable<number>;
  /** Subtracts, returns the old value. */
  fetchSub(value: bigint): Awaitable<bigint>;
  /** Subtracts a number, returns the new value as a number. */
  subFetch(value: number): Awaitable<number>;
  /** Subtracts, returns the new value. */
  subFetch(value: bigint): Awaitable<bigint>;
}

/**
 * A 64-bit float on either backend (IEEE 754 double arithmetic; max/min
 * ignore a NaN operand and order -0 below +0).
 *
 * @example
 * ```ts
 * import { AtomicF64 } from "./mod.ts";
 * import type { AsyncAtomicFloat } from "./valkey.ts";
 * const total: AsyncAtomicFloat = AtomicF64.create(0.5);
 * await total.addFetch(0.25); // 0.75
 * ```
 */
export type AsyncAtomicFloat = AsyncAtomic<number>;

/**
 * A held lock on either backend: `unlock()` it, or let `await using` do it.
 * (A Valkey guard also carries the lease's fencing token, see
 * `ValkeyMutexGuard`.)
 *
 * @example
 * ```ts
 * import { Mutex } from "./mod.ts";
 * import type { AsyncLockGuard } from "./valkey.ts";
 * const guard: AsyncLockGuard = await Mutex.create().lockAsync();
 * await guard.unlock();
 * ```
 */
export interface AsyncLockGuard extends AsyncDisposable {
  /** Releases the lock. */
  unlock(): Awaitable<void>;
}

/**
 * A mutual-exclusion lock on either backend.
 *
 * @example
 * ```ts
 * import { Mutex } from "./mod.ts";
 * import type { AsyncMutex } from "./valkey.ts";
 * async function critical(m: AsyncMutex, work: () => void): Promise<void> {
 *   await using _held = await m.lockAsync();
 *   work();
 * }
 * await critical(Mutex.create(), () => {});
 * ```
 */
export interface AsyncMutex {
  /** Waits for the lock (no timeout: the guard, never null). */
  lockAsync(timeoutMs?: undefined, signal?: AbortSignal): Promise<AsyncLockGuard>;
  /** Waits for the lock; null if `timeoutMs` passes first. */
  lockAsync(timeoutMs: number, signal?: AbortSignal): Promise<AsyncLockGuard | null>;
}

/**
 * A counting semaphore on either backend, never above its `max`.
 *
 * @example
 * ```ts
 * import { Semaphore } from "./mod.ts";
 * import type { AsyncSemaphore } from "./valkey.ts";
 * const slots: AsyncSemaphore = Semaphore.create({ max: 2 });
 * await slots.acquireAsync(2); // true
 * await slots.acquireAsync(1, 0); // false: none left
 * await slots.release(2);
 * ```
 */
export interface AsyncSemaphore {
  /** The most permits it holds. */
  readonly max: number;
  /** Waits for `n` permits (default 1); false if `timeoutMs` passes first. */
  acquireAsync(n?: number, timeoutMs?: number, signal?: AbortSignal): Promise<boolean>;
  /** Returns `n` permits (default 1) this holder took. */
  release(n?: number): Awaitable<void>;
}

/** A map key or value: bytes, or a string (stored as UTF-8). */
export type Bytes = Uint8Array | string;

/**
 * The options of an `AsyncMap` write that may create an entry: its time to
 * live. `set` and `setIfAbsent` give the entry this TTL (omitted: none);
 * `fetchAdd` and `addFetch` give it only to a counter they create, and
 * adding to an existing counter keeps its expiry (a fixed window).
 *
 * @example
 * ```ts
 * import { SharedMap } from "./mod.ts";
 * import type { AsyncMap, TtlOptions } from "./valkey.ts";
 * const perSecond: TtlOptions = { ttlMs: 1000 };
 * const limits: AsyncMap = SharedMap.create({ capacity: 16 });
 * await limits.addFetch("client-42", 1, perSecond); // 1
 * await limits.addFetch("client-42", 1, perSecond); // 2: the same window
 * ```
 */
export interface TtlOptions {
  /** Milliseconds until the entry expires, an integer ≥ 1 (omit: it never does). */
  readonly ttlMs?: number;
}

/** The options of a map write: the same as `TtlOptions` (this name stays for existing code). */
export type MapWriteOptions = TtlOptions;

/**
 * A concurrent map of byte keys to byte values on either backend, with
 * 64-bit counters (`fetchAdd` with a TTL is a fixed-window rate limiter in
 * one call). Shaped after `SharedMap`'s methods.
 *
 * A counter's bytes differ by backend (shared memory: 8 bytes
 * little-endian; Valkey: the decimal digits its HINCRBY keeps): read
 * counters with `fetchAdd(key, 0)`, not `get`.
 *
 * @example
 * ```ts
 * import { SharedMap } from "./mod.ts";
 * import type { AsyncMap } from "./valkey.ts";
 * async function allow(limits: AsyncMap, client: string): Promise<boolean> {
 *   return (await limits.addFetch(`rate:${client}`, 1, { ttlMs: 1000 })) <= 10;
 * }
 * await allow(SharedMap.create({ capacity: 16 }), "client-42"); // true
 * ```
 */
export interface AsyncMap {
  /** The value (a copy), or undefined if absent. */
  get(key: Bytes): Awaitable<Uint8Array | undefined>;
  /** The value decoded as UTF-8, or undefined if absent. */
  getText(key: Bytes): Awaitable<string | undefined>;
  /** Whether the key is present. */
  has(key: Bytes): Awaitable<boolean>;
  /** Writes the value. */
  set(key: Bytes, value: Bytes, options?: TtlOptions): Awaitable<void>;
  /** Writes the value only if the key is absent; returns whether it did. */
  setIfAbsent(key: Bytes, value: Bytes, options?: TtlOptions): Awaitable<boolean>;
  /** Writes `desired` only if the value is `expected`; returns whether it did. */
  compareAndSet(key: Bytes, expected: Bytes, desired: Bytes): Awaitable<boolean>;
  /** Removes the key; returns whether it was present. */
  delete(key: Bytes): Awaitable<boolean>;
  /** Adds to the counter (absent: 0); returns the old value. */
  fetchAdd(key: Bytes, delta: number, options?: TtlOptions): Awaitable<number>;
  /** Adds to the counter (a bigint: the full 64-bit range); returns the old value. */
  fetchAdd(key: Bytes, delta: bigint, options?: TtlOptions): Awaitable<bigint>;
  /** Adds to the counter (absent: 0); returns the new value. */
  addFetch(key: Bytes, delta: number, options?: TtlOptions): Awaitable<number>;
  /** Adds to the counter (a bigint: the full 64-bit range); returns the new value. */
  addFetch(key: Bytes, delta: bigint, options?: TtlOptions): Awaitable<bigint>;
  /** Removes every entry. */
  clear(): Awaitable<void>;
}

/**
 * The options of an `AsyncChannel` wait (`sendAsync`, `recvAsync`): how long
 * it may last, and a signal that stops it. A wait that times out gives the
 * method's "not done" result (false, undefined); an aborted one rejects
 * with the signal's reason.
 *
 * @example
 * ```ts
 * import { Channel } from "./mod.ts";
 * import type { AsyncChannel, AsyncWaitOptions } from "./valkey.ts";
 * const jobs: AsyncChannel = Channel.create({ capacity: 4, messageSize: 64 });
 * const brief: AsyncWaitOptions = { timeoutMs: 10, signal: new AbortController().signal };
 * await jobs.recvAsync(brief); // undefined: nothing came within 10 ms
 * ```
 */
export interface AsyncWaitOptions {
  /** How long to wait, ms (default: forever). */
  readonly timeoutMs?: number;
  /** Stops the wait, rejecting with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** The options of a channel's async send and receive: the same as `AsyncWaitOptions` (this name stays for existing code). */
export type ChannelWaitOptions = AsyncWaitOptions;

/**
 * A bounded message queue on either backend: every message sent is
 * received by one receiver (on Valkey, at least once: see `ValkeyChannel`).
 * `close()` ends it for everyone: later sends throw, receivers drain what is
 * left and then their async iteration ends.
 *
 * @example
 * ```ts
 * import { Channel } from "./mod.ts";
 * import type { AsyncChannel } from "./valkey.ts";
 * async function drain(jobs: AsyncChannel): Promise<number> {
 *   let n = 0;
 *   for await (const _job of jobs) n++;
 *   return n;
 * }
 * const jobs = Channel.create({ capacity: 4, messageSize: 64 });
 * await jobs.sendAsync("a");
 * await jobs.sendAsync("b");
 * jobs.close();
 * await drain(jobs); // 2
 * ```
 */
export interface AsyncChannel extends AsyncIterable<Uint8Array> {
  /** Sends a message, waiting while the channel is full; false if the wait times out. */
  sendAsync(data: Bytes, options?: AsyncWaitOptions): Promise<boolean>;
  /** Receives a message (a copy), waiting while it is empty; undefined if the wait times out. */
  recvAsync(options?: AsyncWaitOptions): Promise<Uint8Array | undefined>;
  /** Closes the channel for every sender and receiver (the local Channel also says whether this call closed it). */
  close(): Awaitable<boolean | void>;
}
