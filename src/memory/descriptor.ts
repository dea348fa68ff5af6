/**
 * Rebuilding any atomic from its descriptor, whatever its type.
 *
 * @module
 */

import { rangeError, typeError } from "../errors.ts";
import type { AtomicDescriptor } from "../atomics/types.ts";

interface Rebuilder {
  from(d: AtomicDescriptor): unknown;
  fromHandle(h: string): unknown;
}

const registry = new Map<string, Rebuilder>();

/** Registers the class that rebuilds descriptors of `type`. */
export function registerClass(type: string, cls: Rebuilder): void {
  registry.set(type, cls);
}

/** Rebuilds the atomic a descriptor describes, of its own class. */
export function rebuild(d: unknown): unknown {
  const cls = d !== null && typeof d === "object" ? registry.get((d as AtomicDescriptor).type) : undefined;
  if (cls === undefined || (d as AtomicDescriptor).kind !== "shared-atomic") {
    throw typeError("fromDescriptor", "descriptor", "an object made by an atomic's .descriptor()", d);
  }
  return cls.from(d as AtomicDescriptor);
}

/** Rebuilds the atomic a handle string names, of its own class. */
export function rebuildHandle(h: unknown): unknown {
  const type = typeof h === "string" ? /^sa1:([a-z0-9]+)@/.exec(h)?.[1] : undefined;
  const cls = type === undefined ? undefined : registry.get(type);
  if (cls === undefined) {
    throw (typeof h === "string" ? rangeError : typeError)(
      "fromHandle",
      "handle",
      'a string made by an atomic\'s .handle(), like "sa1:u64@0:shm:/name"',
      h,
    );
  }
  return cls.fromHandle(h as string);
}
