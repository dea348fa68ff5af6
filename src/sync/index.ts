/**
 * Waiting and locks across Workers and processes.
 *
 * @module
 */

export { type WaitResult } from "./waiting.ts";
export { Primitive } from "./primitive.ts";
export { LockNotHeldError, Mutex, type MutexGuard, MutexOwnerDiedError } from "./mutex.ts";
export { RwLock, type RwLockGuard, type RwLockOptions, RwLockOwnerDiedError } from "./rwlock.ts";
export { Semaphore, type SemaphoreOptions, SemaphoreOwnerDiedError } from "./semaphore.ts";
export { Barrier } from "./barrier.ts";
export { Once } from "./once.ts";
export { WaitGroup } from "./waitgroup.ts";
