/**
 * Memory orders, as C11 names them, and which operation allows which.
 *
 * @module
 */

import { rangeError, typeError } from "../errors.ts";
import { MEMORY_ORDER } from "../native/abi.ts";

/**
 * A memory order for an atomic operation. `"seq_cst"` is the default
 * everywhere; loads allow relaxed/acquire/seq_cst, stores relaxed/release/seq_cst,
 * read-modify-writes all five.
 *
 * @example
 * ```ts
 * import { AtomicU32, type MemoryOrder } from "./mod.ts";
 * const order: MemoryOrder = "relaxed";
 * AtomicU32.create().fetchAdd(1, order);
 * ```
 */
export type MemoryOrder = "relaxed" | "acquire" | "release" | "acq_rel" | "seq_cst";

/** Orders a load allows. */
export type LoadOrder = "relaxed" | "acquire" | "seq_cst";

/** Orders a store allows. */
export type StoreOrder = "relaxed" | "release" | "seq_cst";

/** The C11 code of each order the API has (the library's, less `consume`: JavaScript has no dependency ordering). */
const CODES: Record<string, number> = Object.fromEntries(
  Object.entries(MEMORY_ORDER).filter(([name]) => name !== "consume"),
);

/** The orders each shape allows. */
export const LOAD_ORDERS: readonly string[] = ["relaxed", "acquire", "seq_cst"];
export const STORE_ORDERS: readonly string[] = ["relaxed", "release", "seq_cst"];
export const RMW_ORDERS: readonly string[] = ["relaxed", "acquire", "release", "acq_rel", "seq_cst"];

/** The C11 code of `order`, or a thrown error naming what `where` allows. */
export function orderCode(order: unknown, allowed: readonly string[], where: string): number {
  if (typeof order === "string" && allowed.includes(order)) return CODES[order];
  const list = allowed.map((o) => `"${o}"`).join(", ");
  if (typeof order !== "string") throw typeError(where, "order", `one of ${list}`, order);
  const why = order in CODES ? ` (${order} is not allowed for this operation)` : "";
  throw rangeError(where, "order", `one of ${list}${why}`, order);
}
