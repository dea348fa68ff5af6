/**
 * Value checks per type: what each atomic accepts, as one fast predicate for
 * the hot path and one cold function that builds the error.
 *
 * @module
 */

import { rangeError, typeError } from "../errors.ts";
import type { TypeInfo } from "../native/abi.ts";

/**
 * A value check: `expr` is a JavaScript expression over `v` that the method
 * compilers inline into each hot path; `ok` is the same, as a function;
 * `fail` builds the error.
 */
export interface ValueCheck {
  readonly expr: string;
  readonly ok: (v: unknown) => boolean;
  readonly fail: (v: unknown, where: string, param: string) => Error;
}

const typeOf = (v: unknown): string => typeof v;

function check(kind: string, expr: string, allowed: string): ValueCheck {
  return {
    expr,
    ok: new Function("v", `return ${expr};`) as (v: unknown) => boolean,
    fail: (v, where, param) =>
      typeOf(v) !== kind ? typeError(where, param, `a ${kind}: ${allowed}`, v) : rangeError(where, param, allowed, v),
  };
}

function range(t: TypeInfo): [bigint, bigint] {
  const bits = BigInt(t.bytes * 8);
  return t.signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
}

const SMALL: Record<string, string> = {
  i8: "(v << 24 >> 24) === v",
  u8: "(v & 0xff) === v",
  i16: "(v << 16 >> 16) === v",
  u16: "(v & 0xffff) === v",
  i32: "(v | 0) === v",
  u32: "(v >>> 0) === v",
};

/**
 * The check for values of `t` (bigint for 64-bit integers). `runtime`
 * picks the faster bigint range test: comparisons in Bun (asIntN costs
 * ~26 ns there), BigInt.asIntN in Deno (comparisons cost ~16 ns there).
 */
export function valueCheck(t: TypeInfo, runtime: string): ValueCheck {
  if (t.kind === "bool") return check("boolean", 'typeof v === "boolean"', "true or false");
  if (t.kind === "float") return check("number", 'typeof v === "number"', `any number (${t.name})`);
  const [lo, hi] = range(t);
  const allowed = `an integer in [${lo}, ${hi}]`;
  if (t.name in SMALL) return check("number", `typeof v === "number" && ${SMALL[t.name]}`, allowed);
  const test = runtime === "bun"
    ? `v >= ${lo}n && v <= ${hi}n`
    : `BigInt.${t.signed ? "asIntN" : "asUintN"}(${t.bytes * 8}, v) === v`;
  return check("bigint", `typeof v === "bigint" && ${test}`, allowed);
}

/** The number-path check for 64-bit integers: safe integers (≥ 0 if unsigned). */
export function numberCheck(t: TypeInfo): ValueCheck {
  return t.signed
    ? check("number", "Number.isSafeInteger(v)", "a bigint, or a safe integer number in [-(2^53-1), 2^53-1]")
    : check("number", "Number.isSafeInteger(v) && v >= 0", "a bigint, or a safe integer number in [0, 2^53-1]");
}
