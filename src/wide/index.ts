/**
 * Wide values, lock-free: 128-bit integers (`AtomicI128`, `AtomicU128`),
 * fixed-width byte strings (`AtomicBytes`) and short UTF-8 text
 * (`AtomicString`), in a `SharedArrayBuffer` or a `SharedMemory`.
 *
 * @module
 */

export { AtomicI128, type AtomicInteger128, type AtomicInteger128Class, AtomicU128 } from "./int128.ts";
export { AtomicBytes } from "./bytes.ts";
export { AtomicString } from "./string.ts";
export { AtomicUnavailableError, type WideDescriptor } from "./native.ts";
export type { ByteWidth, WideTypeName } from "./table.ts";
