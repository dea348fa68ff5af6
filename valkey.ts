/**
 * shared-atomic's Valkey backend (`shared-atomic/valkey` on npm, `./valkey`
 * on JSR): the counters, locks, semaphore, map and channel of the
 * shared-memory API, on a Valkey (or Redis) server, so that processes on
 * several machines share them. The same async interfaces (`AsyncAtomic`,
 * `AsyncMutex`, …) describe both backends: moving from one machine to many
 * is a change of constructor. Needs no native library (it talks to the
 * server through the ioredis client, in Bun and in Deno).
 *
 * @example
 * ```ts
 * // check-only: needs a Valkey server (VALKEY_URL)
 * import { ValkeyStore } from "./valkey.ts";
 * await using store = await ValkeyStore.connect("redis://127.0.0.1:6379", { prefix: "app:" });
 * await store.atomicI64("visits").fetchAdd(1);
 * ```
 *
 * @module
 */

export type {
  AsyncAtomic,
  AsyncAtomicFloat,
  AsyncAtomicInteger,
  AsyncChannel,
  AsyncLockGuard,
  AsyncMap,
  AsyncMutex,
  AsyncSemaphore,
  AsyncWaitOptions,
  Awaitable,
  Bytes,
  ChannelWaitOptions,
  MapWriteOptions,
  TtlOptions,
} from "./src/remote/interfaces.ts";
/** The same class as `shared-atomic`'s: code written against the interfaces catches one class on both backends. */
export { ChannelClosedError } from "./src/errors.ts";
export {
  LeaseLostError,
  ValkeyConnectionError,
  ValkeyError,
  ValkeyTimeoutError,
  ValkeyWrongTypeError,
} from "./src/remote/errors.ts";
export { ValkeyStore, type ValkeyStoreOptions } from "./src/remote/store.ts";
export { ValkeyAtomicI64 } from "./src/remote/atomic_i64.ts";
export { ValkeyAtomicF64 } from "./src/remote/atomic_f64.ts";
export { ValkeyMutex, ValkeyMutexGuard, type ValkeyMutexOptions } from "./src/remote/mutex.ts";
export { ValkeySemaphore, type ValkeySemaphoreOptions } from "./src/remote/semaphore.ts";
export { ValkeyMap } from "./src/remote/map.ts";
export { ValkeyChannel, type ValkeyChannelOptions } from "./src/remote/channel.ts";
