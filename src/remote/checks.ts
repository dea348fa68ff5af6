/**
 * Argument checks shared by the Valkey objects: counts and options objects
 * (a wait's timeout and signal: ../sync/wait_args.ts, as the local objects').
 * Each throws a TypeError or RangeError naming the method, the parameter,
 * what is allowed and what was given.
 *
 * @module
 */

import { rangeError, typeError } from "../errors.ts";

export { checkSignal, checkTimeout } from "../sync/wait_args.ts";

/** An integer in [lo, hi]. */
export function checkInt(where: string, param: string, v: unknown, lo: number, hi: number): number {
  const allowed = `an integer in [${lo}, ${hi}]`;
  if (typeof v !== "number") throw typeError(where, param, allowed, v);
  if (!Number.isInteger(v) || v < lo || v > hi) throw rangeError(where, param, allowed, v);
  return v;
}

/** An options object (undefined: {}). */
export function checkOptions<T extends object>(where: string, options: unknown, shape: string): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object") throw typeError(where, "options", shape, options);
  return options as Partial<T>;
}
