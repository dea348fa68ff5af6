/**
 * The wide-value table as the TypeScript side uses it: 128-bit integers and
 * byte strings of 1 to 16 bytes, their operations and exports, derived from
 * `src/native/abi_generated.ts` (which `zig build gen` writes from
 * `zig/wide.zig`). Every value crosses the FFI by pointer (no FFI has a
 * 128-bit type); `test/wide_native.test.ts` checks this against the
 * library's `sa_wide_manifest()`.
 *
 * @module
 */

import type { Signature } from "../native/abi.ts";
import {
  FUNCTIONS,
  WIDE_EXPORTS,
  WIDE_TABLE_OPS,
  WIDE_TABLE_TYPES,
  type WideByteWidth,
  type WideKind,
  type WideNativeType,
  type WideShape,
} from "../native/abi_generated.ts";

export type { WideNativeType, WideShape } from "../native/abi_generated.ts";

/**
 * The widths an `AtomicBytes` or `AtomicString` can have, in bytes: the
 * sizes with a lock-free atomic instruction (16: `cmpxchg16b` on x86-64).
 *
 * @example
 * ```ts
 * import { AtomicString, type ByteWidth } from "./mod.ts";
 * const width: ByteWidth = 16;
 * AtomicString.create(width, "fits in sixteen"); // 15 bytes of UTF-8
 * ```
 */
export type ByteWidth = WideByteWidth;

/** One wide value type of the table. */
export interface WideTypeInfo {
  readonly name: WideNativeType;
  readonly kind: WideKind;
  readonly bytes: ByteWidth;
}

/** Every wide type, in the Zig table's order. */
export const WIDE_TYPES: readonly WideTypeInfo[] = WIDE_TABLE_TYPES.map((t) => ({
  name: t.name,
  kind: t.kind,
  bytes: t.bytes as ByteWidth,
}));

/** Every byte width, smallest first. */
export const BYTE_WIDTHS: readonly ByteWidth[] = WIDE_TYPES.filter((t) => t.kind === "bytes").map((t) => t.bytes);

/**
 * The `type` of a wide atomic's descriptor and handle: `"i128"`, `"u128"`,
 * `"bytes1"` … `"bytes16"` (an `AtomicBytes` of that width), `"str1"` …
 * `"str16"` (an `AtomicString`).
 *
 * @example
 * ```ts
 * import type { WideTypeName } from "./mod.ts";
 * const t: WideTypeName = "str8";
 * ```
 */
export type WideTypeName = "i128" | "u128" | `bytes${ByteWidth}` | `str${ByteWidth}`;

/** One wide operation. */
export interface WideOpInfo {
  /** Name in export symbols, e.g. `fetch_add`. */
  readonly name: string;
  readonly shape: WideShape;
  /** Integers only (add, sub, max, min). */
  readonly intOnly: boolean;
}

/** Every wide operation, in the Zig table's order. */
export const WIDE_OPS: readonly WideOpInfo[] = WIDE_TABLE_OPS.map((op) => ({
  name: op.name,
  shape: op.shape,
  intOnly: !op.kinds.includes("bytes"),
}));

/**
 * Every wide export with its signature, in the library's order; without
 * the 16-byte types when `lockFree128` is false (the library then has none).
 */
export function wideExportTable(lockFree128 = true): Map<string, Signature> {
  return new Map(Object.entries(WIDE_EXPORTS).filter(([, s]) => lockFree128 || s.needs !== "lock_free_16"));
}

/** The wide exports besides the table (`sa_wide_manifest`, `sa_wide_lock_free`). */
export const WIDE_EXTRA_SYMBOLS: Readonly<Record<string, Signature>> = FUNCTIONS.wide.exports;
