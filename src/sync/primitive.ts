/**
 * What every synchronisation primitive shares: a block of 32-bit words (see
 * `words.ts`) in a SharedArrayBuffer or SharedMemory, a tag word that says
 * which primitive lives there and holds its configuration, the set of
 * primitives this thread holds, and the static side of every primitive
 * class (`BYTES`, `ALIGN`, `type`, `from`, `fromHandle`), its descriptors and
 * handles like the atomics', and its closed-segment prototype.
 *
 * @module
 */

import { backend, type Pointer } from "../native/backend.ts";
import { rangeError, typeError } from "../errors.ts";
import { type AtomicMemory, region } from "../memory/region.ts";
import { closedPrototype, membersOf } from "../memory/closed.ts";
import { onSegmentClose, SharedMemory, SharedMemoryClosedError } from "../memory/shared_memory.ts";
import {
  acceptsType,
  type AtomicDescriptor,
  descriptorOf,
  handleOf,
  openDescriptorOrHandle,
  type Rebuilder,
  registerClass,
} from "../memory/descriptor.ts";
import { type Robust, robustOps, wordOps, type Words } from "./words.ts";

/** How long a wait sleeps before it looks again (a waiter woken and then killed wakes nobody). */
export const SLICE_MS = 200;

/** The static description of one primitive kind. */
export interface Kind {
  /** Class name, for messages: "Mutex". */
  readonly name: string;
  /** Descriptor and handle type: "mutex". */
  readonly type: string;
  /** Size in bytes of the fixed part: the tag and configuration words (all of it, for a fixed size). */
  readonly bytes: number;
  /** The tag word's value once initialised (never 0 or 1). */
  readonly tag: number;
  /** Alignment in bytes: 8 where there are robust words, else 4. */
  readonly align: number;
}

/** How a primitive is laid out and configured (see the constructor). */
export interface Layout {
  /** Configuration words after the tag: undefined adopts what is stored. */
  readonly config?: readonly (number | undefined)[];
  /** Used for an undefined configuration word when the memory is fresh (undefined: required). */
  readonly defaults?: readonly (number | undefined)[];
  /** How many of the configuration words must match what is stored. */
  readonly fixed?: number;
  /** The option each configuration word comes from ("max", "parties"), for messages. */
  readonly names?: readonly string[];
  /** The whole size in bytes, from the configuration (default: `kind.bytes`). */
  readonly size?: (config: readonly number[]) => number;
  /** More words to write in fresh memory: [byte offset, value] pairs, from the configuration. */
  readonly fresh?: (config: readonly number[]) => readonly (readonly [number, number])[];
  /** Whether it has robust words (then this thread's robust list is set up first). */
  readonly robust?: boolean;
}

const INITIALISING = 1;
const nap = new Int32Array(new SharedArrayBuffer(4));
/** Every primitive kind seen so far, by its tag: to say what a memory holds instead of its tag word. */
const kindsByTag = new Map<number, string>();

// ---- the primitives this thread holds ------------------------------------------------
//
// A held robust word is linked into this thread's robust list, in the memory
// the primitive lives in: that memory must not be collected while it is, so
// a primitive is pinned here when it is taken. Unpinning costs the hot path
// nothing: primitives that hold nothing are swept out when the set has grown
// (at most 64, or twice what is held, stay pinned longer than needed).

const pinned = new Set<Primitive>();
let sweepAt = 64;

/** Keeps `p` (and its memory) alive while this thread holds any of its words. */
export function pin(p: Primitive): void {
  p.pinned = true;
  if (pinned.size >= sweepAt) {
    for (const q of pinned) {
      if (!q.memoryOpen() || !q.holding()) {
        pinned.delete(q);
        q.pinned = false;
      }
    }
    sweepAt = Math.max(64, 2 * pinned.size);
  }
  pinned.add(p);
}

// A SharedMemory about to close: the words this thread holds in it are given
// up exactly as if it had died (the next owner is told), and unlinked first,
// since their memory is about to be replaced.
onSegmentClose((seg) => {
  for (const p of pinned) {
    if (p.memory !== seg) continue;
    p.abandon();
    pinned.delete(p);
    p.pinned = false;
  }
});

/**
 * The common part of every synchronisation primitive: where it lives, and
 * its descriptor (for Workers) and handle (for other processes).
 *
 * @example
 * ```ts
 * import { Mutex, type Primitive } from "./mod.ts";
 * const p: Primitive = Mutex.create();
 * p.descriptor().type; // "mutex"
 * ```
 */
export abstract class Primitive {
  /** Size in bytes (with the default configuration: see `RwLock.bytes` and `Semaphore.bytes`). */
  declare static readonly BYTES: number;
  /** Required alignment in bytes. */
  declare static readonly ALIGN: number;
  /** Descriptor and handle type name, e.g. "mutex". */
  declare static readonly type: string;
  /** Rebuilds one from its descriptor (Workers) or handle string (processes). */
  declare static from: <P extends Primitive>(this: PrimitiveClass<P>, descriptorOrHandle: unknown) => P;
  /** Same as `from`, for handle strings. */
  declare static fromHandle: <P extends Primitive>(this: PrimitiveClass<P>, handle: string) => P;
  /** The memory the primitive lives in (kept alive as long as it is). */
  readonly memory: SharedArrayBuffer | SharedMemory;
  /** Its byte offset within `memory`. */
  readonly byteOffset: number;
  /** @internal Pointers to its fixed words; word 0 is the tag, 1 the first configuration word. */
  protected readonly w: Pointer[];
  /** @internal Its configuration as stored (after the tag). */
  protected readonly config: readonly number[];
  /** @internal */
  protected readonly ops: Words;
  /** @internal Robust-word exports (primitives with robust words only). */
  protected readonly robust: Robust;
  /** @internal Pinned in this thread's set of held primitives. */
  pinned = false;
  readonly #base: Pointer;
  /** Its SharedMemory, if it lives in one (a private copy: `memory` could be reassigned by a program). */
  readonly #segment: SharedMemory | undefined;

  /**
   * Places the primitive: checks memory, offset, alignment and (once the
   * configuration is known) the whole size, and sets up this thread's robust
   * list, all before writing anything; then, on first use, writes the
   * configuration after the tag, else checks the first `fixed` words match
   * (an undefined entry adopts what is stored).
   */
  protected constructor(kind: Kind, memory: unknown, byteOffset: unknown, layout: Layout = {}) {
    const where = `new ${kind.name}`;
    const head = region(where, memory, byteOffset, kind.bytes, kind.align);
    this.ops = wordOps();
    this.robust = layout.robust ? robustOps(where) : (undefined as unknown as Robust);
    this.memory = head.owner;
    this.byteOffset = head.byteOffset;
    this.#base = head.pointer;
    this.#segment = head.owner instanceof SharedMemory ? head.owner : undefined;
    const b = backend();
    this.w = Array.from(
      { length: kind.bytes / 4 },
      (_, i) => (i === 0 ? head.pointer : b.pointerAt(head.pointer, 4 * i)),
    );
    const config = this.#settle(kind, where, memory, byteOffset, layout);
    this.config = config;
    head.track?.(this, closedOf.get(kind)!);
  }

  /** @internal The pointer `offset` bytes into the primitive. */
  protected at(offset: number): Pointer {
    return offset === 0 ? this.#base : backend().pointerAt(this.#base, offset);
  }

  #settle(kind: Kind, where: string, memory: unknown, byteOffset: unknown, layout: Layout): number[] {
    const { load, store, cas } = this.ops;
    const given = layout.config ?? [];
    const tag = this.w[0];
    const read = () => given.map((_, i) => load(this.w[1 + i]) as number);
    const sized = (config: number[]) => {
      const size = layout.size?.(config) ?? kind.bytes;
      if (size > kind.bytes) region(where, memory, byteOffset, size, kind.align);
      return config;
    };
    for (let spins = 0;; spins++) {
      const t = load(tag);
      if (t === kind.tag) {
        const have = read();
        given.slice(0, layout.fixed ?? 0).forEach((c, i) => {
          if (c !== undefined && c !== have[i]) {
            const option = layout.names?.[i] ?? `configuration word ${1 + i}`;
            throw new RangeError(
              `${where}: options.${option} must be what this ${kind.name} already has, ${have[i]} ` +
                `(or left out, to adopt it); got ${c}`,
            );
          }
        });
        return sized(have);
      }
      if (t === 0) {
        const config = given.map((c, i) => {
          const v = c ?? layout.defaults?.[i];
          if (v === undefined) {
            throw typeError(where, "options", `the ${kind.name}'s configuration (this memory holds none yet)`, c);
          }
          return v;
        });
        sized(config);
        if (!cas(tag, 0, INITIALISING)) continue;
        config.forEach((c, i) => store(this.w[1 + i], c));
        for (const [offset, value] of layout.fresh?.(config) ?? []) store(this.at(offset), value);
        store(tag, kind.tag);
        return config;
      }
      if (t === INITIALISING) {
        if (spins > 5000) throw new Error(`${where}: the memory stays half-initialised (did its creator die?)`);
        Atomics.wait(nap, 0, 0, 1);
        continue;
      }
      const other = kindsByTag.get(t >>> 0);
      throw new TypeError(
        `${where}: memory must be free (zeroed) memory or a ${kind.name}; this memory holds ` +
          (other ? `a ${other}` : `something else (its first word is 0x${(t >>> 0).toString(16)})`),
      );
    }
  }

  /** @internal Whether this thread holds any of its robust words (through this or another instance). */
  holding(): boolean {
    return false;
  }

  /** @internal Gives up every robust word this thread holds in it, as if the thread had died. */
  abandon(): void {}

  /** @internal Whether its memory is still there (a SharedMemory not closed). */
  memoryOpen(): boolean {
    const m = this.memory;
    return !(m instanceof SharedMemory && m.closed);
  }

  /**
   * @internal Throws SharedMemoryClosedError if its SharedMemory was closed:
   * for methods that write through the segment and may have been taken off
   * the instance before the close (a bound method), while a pending
   * asynchronous wait keeps the mapping from being retired.
   */
  protected stillOpen(where: string): void {
    if (this.#segment?.closed) throw new SharedMemoryClosedError(`${where}: the SharedMemory it lives in is closed`);
  }

  /** @internal Throws if its SharedMemory was closed (e.g. while this thread waited). */
  protected live(where: string): void {
    if (!this.memoryOpen()) {
      throw new SharedMemoryClosedError(`${where}: the SharedMemory it lives in was closed`);
    }
  }

  /** A structured-clonable descriptor, to send this primitive to a Worker. */
  descriptor(): AtomicDescriptor {
    return descriptorOf((this.constructor as unknown as { type: string }).type, this.memory, this.byteOffset);
  }

  /** A short string naming this primitive for another process: "sa1:mutex@0:shm:/name". */
  handle(): string {
    const { name, type } = this.constructor as unknown as { name: string; type: string };
    return handleOf(`${name}.handle`, type, this.memory, this.byteOffset, `a ${name}`, "");
  }
}

/** How many slots (an RwLock's readers, a Semaphore's holders: 40 bytes each) by default, and at most. */
export const DEFAULT_SLOTS = 16;
export const MAX_SLOTS = 1024;

/** Checks a number of slots (readers, holders) option: an integer in [1, MAX_SLOTS], or undefined. */
export function slotsOption(where: string, param: string, v: unknown, max: number = MAX_SLOTS): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number") throw typeError(where, param, `an integer in [1, ${max}]`, v);
  if (!Number.isInteger(v) || v < 1 || v > max) throw rangeError(where, param, `an integer in [1, ${max}]`, v);
  return v;
}

/** A primitive class whose constructor takes memory and offset (and options, optional). */
type PrimitiveClass<P> = new (memory: AtomicMemory, byteOffset?: number) => P;

const closedOf = new Map<Kind, object>();

/** What an instance of a closed segment keeps: the internal members (the others throw). */
const INTERNAL = new Set(["holding", "abandon", "at", "live", "memoryOpen", "stillOpen"]);

/**
 * Completes the class of a primitive kind: its static `BYTES` (default: the
 * kind's), `ALIGN`, `type`, `from` and `fromHandle`; the prototype its
 * instances get when their SharedMemory closes (every method and getter of
 * the class and its bases throws); and the rebuilding of its descriptors
 * and handles by type.
 */
export function definePrimitive(
  cls: PrimitiveClass<Primitive> & { prototype: object; name: string },
  kind: Kind,
  bytes: number = kind.bytes,
): void {
  kindsByTag.set(kind.tag, kind.name);
  const accepted = acceptsType(kind.type, `a ${kind.name}`);
  const field = (value: unknown) => ({ value, writable: true, enumerable: true, configurable: true });
  const method = (value: unknown) => ({ value, writable: true, configurable: true });
  Object.defineProperties(cls, {
    BYTES: field(bytes),
    ALIGN: field(kind.align),
    type: field(kind.type),
    from: method(function from(descriptorOrHandle: unknown): Primitive {
      const r = openDescriptorOrHandle(`${kind.name}.from`, descriptorOrHandle, accepted);
      return new cls(r.memory as AtomicMemory, r.byteOffset as number);
    }),
    fromHandle: method(function fromHandle(handle: string): Primitive {
      return (cls as unknown as Rebuilder).from(handle as never) as Primitive;
    }),
  });
  closedOf.set(kind, closedPrototype(cls.prototype, cls.name, membersOf(cls).filter((m) => !INTERNAL.has(m)), "it"));
  registerClass(kind.type, cls as unknown as Rebuilder);
}
