/**
 * The runtime-neutral API; `bun.ts` and `mod.ts` install a runtime binding
 * and re-export this.
 *
 * @module
 */

export * from "./atomics/classes.ts";
export type { AtomicWaitable } from "./atomics/wait.ts";
export type { AtomicMemory } from "./memory/region.ts";
export type { AtomicDescriptor } from "./memory/descriptor.ts";
export type { LoadOrder, MemoryOrder, StoreOrder } from "./atomics/order.ts";
export type { TypeName } from "./native/abi.ts";
export type {
  AtomicArithmetic,
  AtomicBase,
  AtomicBitwise,
  AtomicBoolean,
  AtomicClass,
  AtomicFloat,
  AtomicInteger,
  AtomicInteger64,
  AtomicNumberPath,
} from "./atomics/types.ts";
export { VERSION } from "./native/version.ts";
export {
  type CreateOptions,
  type OpenOptions,
  type OpenOrCreateOptions,
  type SegmentName,
  SharedMemory,
  SharedMemoryClosedError,
  SharedMemoryError,
  SharedMemoryExistsError,
  SharedMemoryNotFoundError,
} from "./memory/shared_memory.ts";
export * from "./wide/index.ts";
export * from "./sync/index.ts";
export * from "./channel/index.ts";
export { ChannelClosedError } from "./errors.ts";
export * from "./map/index.ts";
export { MapFullError } from "./errors.ts";
