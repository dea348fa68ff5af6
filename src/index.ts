/**
 * The runtime-neutral API; `bun.ts` and `mod.ts` install a runtime binding
 * and re-export this.
 *
 * @module
 */

export * from "./classes.ts";
export type { AtomicWaitable } from "./atomic_wait.ts";
export type { AtomicMemory } from "./memory.ts";
export type { LoadOrder, MemoryOrder, StoreOrder } from "./order.ts";
export type { TypeName } from "./table.ts";
export type {
  AtomicArithmetic,
  AtomicBase,
  AtomicBitwise,
  AtomicBoolean,
  AtomicClass,
  AtomicDescriptor,
  AtomicFloat,
  AtomicInteger,
  AtomicInteger64,
  AtomicNumberPath,
} from "./types.ts";
export { VERSION } from "./version.ts";
export {
  type OpenOptions,
  type SegmentName,
  SharedMemory,
  SharedMemoryClosedError,
  SharedMemoryError,
  SharedMemoryExistsError,
  SharedMemoryNotFoundError,
} from "./shared_memory.ts";
export * from "./wide.ts";
export * from "./sync.ts";
