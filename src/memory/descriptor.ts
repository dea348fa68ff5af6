/**
 * Descriptors (for Workers) and handles (for other processes) of anything
 * that lives in shared memory: atomics, wide atomics and locks. Built here,
 * checked and opened here, and rebuilt, whatever their class, through the
 * registry of classes by type. The handle grammar is `handle.ts`.
 *
 * @module
 */

import { argumentError, describe, rangeError, typeError } from "../errors.ts";
import type { TypeName } from "../native/abi.ts";
import { formatValueHandle, parseValueHandle } from "./handle.ts";
import { SharedMemory } from "./shared_memory.ts";

/**
 * A structured-clonable description of an atomic: `postMessage` it to a
 * Worker and rebuild the atomic there with `fromDescriptor` (or the class's
 * `from`).
 *
 * @example
 * ```ts
 * import { AtomicU64, fromDescriptor } from "./mod.ts";
 * const d = AtomicU64.create(5n).descriptor();
 * // in a Worker, after postMessage(d):
 * fromDescriptor(d).load(); // 5n
 * ```
 */
export interface AtomicDescriptor {
  /** Always "shared-atomic". */
  readonly kind: "shared-atomic";
  /** The value type, e.g. "u64", or the primitive, e.g. "mutex". */
  readonly type: TypeName | string;
  /** The memory the value lives in, when it is a SharedArrayBuffer. */
  readonly buffer?: SharedArrayBuffer;
  /** The segment's handle (see `SharedMemory.handle()`), when it lives in a SharedMemory. */
  readonly segment?: string;
  /** The value's byte offset within `buffer` or the segment. */
  readonly byteOffset: number;
}

/** The descriptor of a `type` value (or primitive) at `byteOffset` in `memory`. */
export function descriptorOf<D extends AtomicDescriptor>(
  type: D["type"],
  memory: SharedArrayBuffer | SharedMemory,
  byteOffset: number,
): D {
  return (memory instanceof SharedMemory
    ? { kind: "shared-atomic", type, segment: memory.handle(), byteOffset }
    : { kind: "shared-atomic", type, buffer: memory, byteOffset }) as D;
}

/**
 * The handle of a `type` value at `byteOffset` in `memory`: only for one in
 * a SharedMemory (else a TypeError, naming `where` and `what` it is).
 */
export function handleOf(
  where: string,
  type: string,
  memory: SharedArrayBuffer | SharedMemory,
  byteOffset: number,
  what = "an atomic",
  advice = " (use descriptor() for Workers)",
): string {
  if (!(memory instanceof SharedMemory)) {
    throw new TypeError(
      `${where}: ${what} in a SharedArrayBuffer has no handle for other processes; put it in a SharedMemory${advice}`,
    );
  }
  return formatValueHandle(type, byteOffset, memory.handle());
}

/** The types a class rebuilds, and how its errors name them. */
export interface Accepted {
  /** Whether a descriptor's or handle's type is one of them. */
  readonly type: (type: unknown) => boolean;
  /** What is wanted, after "a descriptor of" / "a handle of": `type "u64"`, `a Mutex`. */
  readonly wanted: string;
  /** A type for the example handle in errors: "u64". */
  readonly example: string;
}

/** What a class with one type accepts. */
export function acceptsType(type: string, wanted = `type "${type}"`): Accepted {
  return { type: (t) => t === type, wanted, example: type };
}

/** Where a descriptor or handle says the value lives (its memory not yet checked), and its type. */
export interface Located {
  readonly memory: unknown;
  readonly byteOffset: unknown;
  readonly type: string;
}

/**
 * Checks a descriptor's kind and type; opens (or reuses) its segment. Reads
 * each field once; a field whose getter throws (a Proxy, a revoked Proxy)
 * is reported naming `where` and "descriptor".
 */
export function openDescriptor(where: string, d: unknown, accepted: Accepted): Located {
  if (d === null || typeof d !== "object") throw typeError(where, "descriptor", "an object made by .descriptor()", d);
  let kind, type, segment, buffer, byteOffset;
  try {
    ({ kind, type, segment, buffer, byteOffset } = d as AtomicDescriptor);
  } catch (e) {
    throw argumentError(where, "descriptor", e);
  }
  if (kind !== "shared-atomic") throw typeError(where, "descriptor", "an object made by .descriptor()", d);
  if (!accepted.type(type)) {
    const is = typeof type === "string" ? type : describe(type);
    throw typeError(where, "descriptor", `a descriptor of ${accepted.wanted} (this is ${is})`, type);
  }
  const memory = typeof segment === "string" ? SharedMemory.fromHandle(segment) : buffer;
  return { memory, byteOffset, type: type as string };
}

/** Parses a value's handle and checks its type; opens (or reuses) its segment. */
export function openHandle(
  where: string,
  handle: unknown,
  accepted: Accepted,
): { memory: SharedMemory; byteOffset: number; type: string } {
  if (typeof handle !== "string") throw typeError(where, "handle", "a string made by .handle()", handle);
  const h = parseValueHandle(handle);
  if (h?.at === undefined) {
    throw rangeError(where, "handle", `a string like "sa1:${accepted.example}@0:shm:/name"`, handle);
  }
  if (!accepted.type(h.type)) {
    throw typeError(where, "handle", `a handle of ${accepted.wanted} (this is ${h.type})`, handle);
  }
  return { memory: SharedMemory.fromHandle(h.at.segment), byteOffset: h.at.byteOffset, type: h.type };
}

/** A handle string (`openHandle`) or else a descriptor (`openDescriptor`). */
export function openDescriptorOrHandle(where: string, d: unknown, accepted: Accepted): Located {
  return typeof d === "string" ? openHandle(where, d, accepted) : openDescriptor(where, d, accepted);
}

// ---- rebuilding whatever the class ---------------------------------------------------

/** A class that rebuilds its instances from descriptors and handles. */
export interface Rebuilder {
  from(d: AtomicDescriptor | string): unknown;
  fromHandle(h: string): unknown;
}

const registry = new Map<string, Rebuilder>();

/** Registers the class that rebuilds descriptors and handles of `type`. */
export function registerClass(type: string, cls: Rebuilder): void {
  registry.set(type, cls);
}

/** Whether `cls` is a registered class (an atomic or lock class of this package). */
export function isRegisteredClass(cls: unknown): cls is Rebuilder {
  for (const c of registry.values()) if (c === cls) return true;
  return false;
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
  const type = typeof h === "string" ? parseValueHandle(h)?.type : undefined;
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
