/**
 * The TypeScript half of the wide-value table (`zig/wide.zig` is the other):
 * 128-bit integers and byte strings of 1 to 16 bytes, their operations, and
 * the C signatures that follow. Every value crosses the FFI by pointer (no
 * FFI has a 128-bit type); `test/wide.test.ts` checks this table against the
 * library's `sa_wide_manifest()`.
 *
 * @module
 */

import type { Signature } from "../native/abi.ts";

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
export type ByteWidth = 1 | 2 | 4 | 8 | 16;

/** Every byte width, smallest first. */
export const BYTE_WIDTHS: readonly ByteWidth[] = [1, 2, 4, 8, 16];

/** Names of the wide value types in export symbols. */
export type WideNativeType = "i128" | "u128" | `bytes${ByteWidth}`;

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

/** One wide value type of the table. */
export interface WideTypeInfo {
  readonly name: WideNativeType;
  readonly kind: "int" | "bytes";
  readonly bytes: ByteWidth;
}

/** Every wide type, in the Zig table's order. */
export const WIDE_TYPES: readonly WideTypeInfo[] = [
  { name: "i128", kind: "int", bytes: 16 },
  { name: "u128", kind: "int", bytes: 16 },
  ...BYTE_WIDTHS.map((w): WideTypeInfo => ({ name: `bytes${w}`, kind: "bytes", bytes: w })),
];

/** The shape of a wide operation's C signature (`T` is the value's integer). */
export type WideShape =
  /** `void f(T *p, T *out)` */
  | "load"
  /** `void f(T *p, const T *value)` */
  | "store"
  /** `void f(T *p, T *io)`: operand in, old (or new) value out */
  | "rmw"
  /** `bool f(T *p, T *expected, const T *desired)`: C11 strong compare-exchange */
  | "cmpxchg"
  /** the same, weak (may fail spuriously): for C callers */
  | "cmpxchg_weak";

/** One wide operation. */
export interface WideOpInfo {
  /** Name in export symbols, e.g. `fetch_add`. */
  readonly name: string;
  readonly shape: WideShape;
  /** Integers only (add, sub, max, min). */
  readonly intOnly: boolean;
}

function pair(name: string, intOnly: boolean): WideOpInfo[] {
  return [
    { name: `fetch_${name}`, shape: "rmw", intOnly },
    { name: `${name}_fetch`, shape: "rmw", intOnly },
  ];
}

/** Every wide operation, in the Zig table's order. */
export const WIDE_OPS: readonly WideOpInfo[] = [
  { name: "load", shape: "load", intOnly: false },
  { name: "store", shape: "store", intOnly: false },
  { name: "exchange", shape: "rmw", intOnly: false },
  { name: "compare_exchange", shape: "cmpxchg", intOnly: false },
  { name: "compare_exchange_weak", shape: "cmpxchg_weak", intOnly: false },
  ...pair("add", true),
  ...pair("sub", true),
  ...pair("and", false),
  ...pair("or", false),
  ...pair("xor", false),
  ...pair("nand", false),
  ...pair("max", true),
  ...pair("min", true),
];

function wideSignature(shape: WideShape, explicit: boolean): Signature {
  const order: Signature["args"] = explicit ? ["i32"] : [];
  switch (shape) {
    case "load":
    case "store":
    case "rmw":
      return { args: ["ptr", "ptr", ...order], returns: "void" };
    case "cmpxchg":
    case "cmpxchg_weak":
      return { args: ["ptr", "ptr", "ptr", ...order], returns: "bool" };
  }
}

/**
 * Every wide export with its signature, in the library's order; without
 * the 16-byte types when `lockFree128` is false (the library then has none).
 */
export function wideExportTable(lockFree128 = true): Map<string, Signature> {
  const out = new Map<string, Signature>();
  for (const t of WIDE_TYPES) {
    if (t.bytes === 16 && !lockFree128) continue;
    for (const op of WIDE_OPS) {
      if (op.intOnly && t.kind !== "int") continue;
      const base = `sa_${t.name}_${op.name}`;
      out.set(base, wideSignature(op.shape, false));
      out.set(`${base}_explicit`, wideSignature(op.shape, true));
    }
  }
  return out;
}

/** The wide exports besides the table. */
export const WIDE_EXTRA_SYMBOLS: Readonly<Record<string, Signature>> = {
  sa_wide_manifest: { args: [], returns: "cstring" },
  sa_wide_lock_free: { args: [], returns: "i32" },
};
