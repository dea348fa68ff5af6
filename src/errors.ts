/**
 * Error messages that name the method, the parameter, what is allowed and
 * what was given.
 *
 * @module
 */

/** A short, readable rendering of any value for an error message. */
export function describe(v: unknown): string {
  switch (typeof v) {
    case "bigint":
      return `${v}n`;
    case "string":
      return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "undefined":
    case "boolean":
    case "symbol":
      return String(v);
    case "function":
      return "a function";
    default:
      if (v === null) return "null";
      {
        const n = (v as object).constructor?.name ?? "object";
        return `${/^[AEIOU]/.test(n) ? "an" : "a"} ${n}`;
      }
  }
}

/** `TypeError("<where>: <param> must be <allowed>; got <v>")`. */
export function typeError(where: string, param: string, allowed: string, v: unknown): TypeError {
  return new TypeError(`${where}: ${param} must be ${allowed}; got ${describe(v)}`);
}

/** `RangeError("<where>: <param> must be <allowed>; got <v>")`. */
export function rangeError(where: string, param: string, allowed: string, v: unknown): RangeError {
  return new RangeError(`${where}: ${param} must be ${allowed}; got ${describe(v)}`);
}
