/**
 * What an object in a closed SharedMemory turns into: the same prototype
 * chain, with every listed member replaced by one that throws
 * SharedMemoryClosedError. Swapping an instance's prototype on close costs
 * the hot path nothing; a stale pointer is never used.
 *
 * @module
 */

import { SharedMemoryClosedError } from "./shared_memory.ts";

function isGetter(proto: object, key: string): boolean {
  for (let p: object | null = proto; p !== null; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, key);
    if (d) return d.get !== undefined;
  }
  return false;
}

/**
 * A prototype over `proto` whose `members` (methods, or getters) throw
 * "`name`.`member`: the SharedMemory `what` lives in is closed".
 */
export function closedPrototype(
  proto: object,
  name: string,
  members: readonly string[],
  what = "this atomic",
): object {
  const closed: object = Object.create(proto);
  for (const m of members) {
    const fail = (): never => {
      throw new SharedMemoryClosedError(`${name}.${m}: the SharedMemory ${what} lives in is closed`);
    };
    Object.defineProperty(closed, m, isGetter(proto, m) ? { get: fail } : { value: fail });
  }
  return closed;
}

/** Every method and getter of a class and its bases (not `constructor`). */
export function membersOf(cls: { prototype: object }): string[] {
  const out = new Set<string>();
  for (let p = cls.prototype; p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const key of Object.getOwnPropertyNames(p)) if (key !== "constructor") out.add(key);
  }
  return [...out];
}
