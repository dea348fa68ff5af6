/**
 * The TypeScript side of the native library's ABI, derived from
 * `abi_generated.ts`, which `zig build gen` writes from the Zig tables (the
 * one table): the value types and operations with what the TypeScript API
 * adds (method names, which types have a class), and the exports grouped as
 * the library opens them. `test/symbols.test.ts` checks it against the
 * library's `sa_manifest()`.
 *
 * @module
 */

import {
  type CSignature,
  FUNCTIONS,
  type Kind,
  type Shape,
  TABLE_EXPORTS,
  TABLE_OPS,
  TABLE_TYPES,
  type TypeName,
} from "./abi_generated.ts";

export type { FfiType, Kind, MemoryOrderName, Shape, TypeName, WaitResultName } from "./abi_generated.ts";
export { MEMORY_ORDER, VERSION, WAIT_RESULTS } from "./abi_generated.ts";

/** One value type of the table. */
export interface TypeInfo {
  readonly name: TypeName;
  readonly kind: Kind;
  /** Width and natural alignment in bytes. */
  readonly bytes: number;
  readonly signed: boolean;
  /** 64-bit integers: `_f64` variants exist for the number path. */
  readonly numberPath: boolean;
  /** Whether the TypeScript API has a class for it (pointer-sized ones are for C callers; JavaScript uses 64-bit). */
  readonly bound: boolean;
}

/** Every value type, in the Zig table's order. */
export const TYPES: readonly TypeInfo[] = TABLE_TYPES.map((t) => ({
  name: t.name,
  kind: t.kind,
  bytes: t.bytes,
  signed: t.signed,
  numberPath: t.numberPath,
  bound: !t.pointerSized,
}));

/** One operation of the table. */
export interface OpInfo {
  /** Name in export symbols, e.g. `fetch_add`. */
  readonly name: string;
  /** Method name in TypeScript, e.g. `fetchAdd` (empty: C only). */
  readonly method: string;
  readonly shape: Shape;
  readonly kinds: readonly Kind[];
}

/** The method of an operation: its name in camelCase; none for the C11-style weak CAS (C callers only). */
function method(name: string, shape: Shape): string {
  return shape === "cas_weak" ? "" : name.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
}

/** Every operation, in the Zig table's order. */
export const OPS: readonly OpInfo[] = TABLE_OPS.map((op) => ({ ...op, method: method(op.name, op.shape) }));

/** The C signature of one export, as the runtime entries bind it. */
export interface Signature extends CSignature {
  /** The export's name, when the key differs (e.g. a nonblocking binding of the same function). */
  readonly name?: string;
  /** Deno: run on a separate thread and return a Promise. */
  readonly nonblocking?: boolean;
}

/** Every `sa_*` atomic export with its signature, in the library's order. */
export function exportTable(): Map<string, Signature> {
  return new Map(Object.entries(TABLE_EXPORTS));
}

/** Exports besides the atomic table (`sa_manifest`, `sa_version`). */
export const EXTRA_SYMBOLS: Readonly<Record<string, Signature>> = FUNCTIONS.library.exports;

/** The shared-memory exports (`zig/shm.zig`; absent on Windows). */
export const SHM_SYMBOLS: Readonly<Record<string, Signature>> = FUNCTIONS.shm.exports;

/** Waiting on an address (`zig/wait.zig`; Linux and macOS). */
export const WAIT_SYMBOLS: Readonly<Record<string, Signature>> = FUNCTIONS.wait.exports;

/** Deno's nonblocking binding of `sa_wait32` (a Promise; runs on another thread). */
export const WAIT_NONBLOCKING: Readonly<Record<string, Signature>> = {
  sa_wait32_nonblocking: { ...FUNCTIONS.wait.exports.sa_wait32, name: "sa_wait32", nonblocking: true },
};

/**
 * Robust lock words and the Semaphore's bookkeeping (`zig/robust.zig`; Linux
 * and macOS): the locks' owner words, which the kernel marks when their owner
 * dies (the robust-futex list).
 */
export const ROBUST_SYMBOLS: Readonly<Record<string, Signature>> = FUNCTIONS.robust.exports;
