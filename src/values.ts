/**
 * Value checks per type: what each atomic accepts, as one fast predicate for
 * the hot path and one cold function that builds the error.
 *
 * @module
 */

import { rangeError, typeError } from "./errors.ts";
import type { TypeInfo } from "./table.ts";

/** A value check: `ok` on the hot path, `fail` builds the error. */
export interface ValueCheck {
  readonly ok: (v: unknown) => boolean;
  readonly fail: (v: unknown, where: string, param: string) => Error;
}

const typeOf = (v: unknown): string => typeof v;

function check(kind: string, ok: (v: unknown) => boolean, allowed: string): ValueCheck {
  return {
    ok,
    fail: (v, where, param) =>
      typeOf(v) !== kind ? typeError(where, param, `a ${kind}: ${allowed}`, v) : rangeError(where, param, allowed, v),
  };
}

function range(t: TypeInfo): [bigint, bigint] {
  const bits = BigInt(t.bytes * 8);
  return t.signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
}

/** The check for values of `t` (bigint for 64-bit integers). */
export function valueCheck(t: TypeInfo): ValueCheck {
  if (t.kind === "bool") return check("boolean", (v) => typeof v === "boolean", "true or false");
  if (t.kind === "float") return check("number", (v) => typeof v === "number", `any number (${t.name})`);
  const [lo, hi] = range(t);
  const allowed = `an integer in [${lo}, ${hi}]`;
  switch (t.name) {
    case "i8":
      return check("number", (v) => typeof v === "number" && (v << 24 >> 24) === v, allowed);
    case "u8":
      return check("number", (v) => typeof v === "number" && (v & 0xff) === v, allowed);
    case "i16":
      return check("number", (v) => typeof v === "number" && (v << 16 >> 16) === v, allowed);
    case "u16":
      return check("number", (v) => typeof v === "number" && (v & 0xffff) === v, allowed);
    case "i32":
      return check("number", (v) => typeof v === "number" && (v | 0) === v, allowed);
    case "u32":
      return check("number", (v) => typeof v === "number" && (v >>> 0) === v, allowed);
    default:
      return t.signed
        ? check("bigint", (v) => typeof v === "bigint" && BigInt.asIntN(64, v) === v, `${allowed}`)
        : check("bigint", (v) => typeof v === "bigint" && BigInt.asUintN(64, v) === v, `${allowed}`);
  }
}

/** The number-path check for 64-bit integers: safe integers (≥ 0 if unsigned). */
export function numberCheck(t: TypeInfo): ValueCheck {
  return t.signed
    ? check(
      "number",
      (v) => Number.isSafeInteger(v),
      "a bigint, or a safe integer number in [-(2^53-1), 2^53-1]",
    )
    : check(
      "number",
      (v) => Number.isSafeInteger(v) && (v as number) >= 0,
      "a bigint, or a safe integer number in [0, 2^53-1]",
    );
}
