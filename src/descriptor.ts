/**
 * Rebuilding any atomic from its descriptor, whatever its type.
 *
 * @module
 */

import { typeError } from "./errors.ts";
import type { AtomicDescriptor } from "./types.ts";

const registry = new Map<string, { from(d: AtomicDescriptor): unknown }>();

/** Registers the class that rebuilds descriptors of `type`. */
export function registerClass(type: string, cls: { from(d: AtomicDescriptor): unknown }): void {
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
