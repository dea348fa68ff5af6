/**
 * Names of objects on a Valkey server, and the keys they live under:
 * `<prefix><kind>:{<name>}` (plus `:<part>` for an object of several keys),
 * so that objects of different kinds never share a key, one object's keys
 * share a cluster hash slot, and no name can reach another's keys.
 *
 * @module
 */

import { describe } from "../errors.ts";

/** The longest name or prefix, in UTF-16 code units. */
export const MAX_NAME = 256;

/** Whether `s` has a control character, or a brace (braces delimit the name inside the key). */
function forbidden(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x7b || c === 0x7d) return true;
  }
  return false;
}

/**
 * Checks a name (`empty` allows "", for a prefix): a string of 1 to 256
 * characters without braces or control characters; a TypeError or
 * RangeError naming `where` and `param` otherwise.
 */
export function checkName(where: string, param: string, name: unknown, empty = false): string {
  const allowed = `a string of ${empty ? 0 : 1} to ${MAX_NAME} characters without braces or control characters`;
  if (typeof name !== "string") throw new TypeError(`${where}: ${param} must be ${allowed}; got ${describe(name)}`);
  if ((!empty && name.length === 0) || name.length > MAX_NAME || forbidden(name)) {
    throw new RangeError(`${where}: ${param} must be ${allowed}; got ${describe(name)}`);
  }
  return name;
}

/** The key of object `name` of `kind` under `prefix`, with an optional `part`. */
export function keyOf(prefix: string, kind: string, name: string, part?: string): string {
  return part === undefined ? `${prefix}${kind}:{${name}}` : `${prefix}${kind}:{${name}}:${part}`;
}
