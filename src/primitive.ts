/**
 * What every synchronisation primitive shares: a block of 32-bit words in a
 * SharedArrayBuffer or SharedMemory, a tag word that says which primitive
 * lives there and holds its configuration, the word operations, and
 * descriptors and handles like the atomics'.
 *
 * @module
 */

import type { NativeFn, Pointer } from "./backend.ts";
import { rangeError, typeError } from "./errors.ts";
import { region } from "./memory.ts";
import { typeSymbols } from "./native.ts";
import { closedPrototype, membersOf } from "./closed.ts";
import { SharedMemory } from "./shared_memory.ts";
import type { AtomicDescriptor } from "./types.ts";
import { waitSymbols } from "./waiting.ts";

/** The u32 word operations the primitives use, bound once. */
export interface Words {
  load: NativeFn;
  store: NativeFn;
  cas: NativeFn;
  exchange: NativeFn;
  fetchAdd: NativeFn;
  fetchSub: NativeFn;
}

let words: Words | undefined;

/** The u32 exports (and, first, the wait exports' version check). */
export function wordOps(): Words {
  if (words !== undefined) return words;
  waitSymbols();
  const s = typeSymbols("u32");
  return (words = {
    load: s.sa_u32_load,
    store: s.sa_u32_store,
    cas: s.sa_u32_compare_and_set,
    exchange: s.sa_u32_exchange,
    fetchAdd: s.sa_u32_fetch_add,
    fetchSub: s.sa_u32_fetch_sub,
  });
}

/** The static description of one primitive kind. */
export interface Kind {
  /** Class name, for messages: "Mutex". */
  readonly name: string;
  /** Descriptor and handle type: "mutex". */
  readonly type: string;
  /** Size in bytes (a multiple of 4; alignment is 4). */
  readonly bytes: number;
  /** The tag word's value once initialised (never 0 or 1). */
  readonly tag: number;
}

const INITIALISING = 1;
const nap = new Int32Array(new SharedArrayBuffer(4));

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
  /** The memory the primitive lives in (kept alive as long as it is). */
  readonly memory: SharedArrayBuffer | SharedMemory;
  /** Its byte offset within `memory`. */
  readonly byteOffset: number;
  /** @internal Pointers to its words; word 0 is the tag, 1 the first configuration word. */
  protected readonly w: Pointer[];
  /** @internal */
  protected readonly ops: Words;

  /**
   * Places the primitive: checks memory, offset, size and alignment; on
   * first use writes `init` into the words after the tag, else checks the
   * first `fixed` of them match (an undefined entry adopts what is stored).
   */
  protected constructor(
    kind: Kind,
    closed: object,
    memory: unknown,
    byteOffset: unknown,
    init: readonly (number | undefined)[] = [],
    fixed = 0,
  ) {
    const where = `new ${kind.name}`;
    const r = region(where, memory, byteOffset, kind.bytes, 4);
    this.ops = wordOps();
    this.memory = r.owner;
    this.byteOffset = r.byteOffset;
    const rel = (byteOffset as number | undefined) ?? 0;
    this.w = Array.from(
      { length: kind.bytes / 4 },
      (_, i) => i === 0 ? r.pointer : region(where, memory, rel + 4 * i, 4, 4).pointer,
    );
    this.#init(kind, where, init, fixed);
    r.track?.(this, closed);
  }

  #init(kind: Kind, where: string, config: readonly (number | undefined)[], fixed: number): void {
    const { load, store, cas } = this.ops;
    const tag = this.w[0];
    for (let spins = 0;; spins++) {
      const t = load(tag);
      if (t === kind.tag) break;
      if (t === 0) {
        if (!cas(tag, 0, INITIALISING)) continue;
        config.forEach((c, i) => {
          if (c === undefined) {
            store(tag, 0);
            throw typeError(where, "options", `the ${kind.name}'s configuration (this memory holds none yet)`, c);
          }
          store(this.w[1 + i], c);
        });
        store(tag, kind.tag);
        return;
      }
      if (t === INITIALISING) {
        if (spins > 5000) throw new Error(`${where}: the memory stays half-initialised (did its creator die?)`);
        Atomics.wait(nap, 0, 0, 1);
        continue;
      }
      throw typeError(
        where,
        "memory",
        `free (zeroed) memory or a ${kind.name}`,
        `memory holding something else (tag 0x${(t >>> 0).toString(16)})`,
      );
    }
    config.slice(0, fixed).forEach((c, i) => {
      const have = load(this.w[1 + i]);
      if (c !== undefined && c !== have) {
        throw rangeError(
          where,
          "options",
          `the configuration this ${kind.name} already has (${have} at word ${1 + i})`,
          c,
        );
      }
    });
  }

  /** A structured-clonable descriptor, to send this primitive to a Worker. */
  descriptor(): AtomicDescriptor {
    const m = this.memory;
    const type = (this.constructor as unknown as { type: string }).type;
    return m instanceof SharedMemory
      ? { kind: "shared-atomic", type, segment: m.handle(), byteOffset: this.byteOffset }
      : { kind: "shared-atomic", type, buffer: m, byteOffset: this.byteOffset };
  }

  /** A short string naming this primitive for another process: "sa1:mutex@0:shm:/name". */
  handle(): string {
    const m = this.memory;
    const name = (this.constructor as unknown as { name: string }).name;
    if (!(m instanceof SharedMemory)) {
      throw new TypeError(
        `${name}.handle: a ${name} in a SharedArrayBuffer has no handle for other processes; put it in a SharedMemory`,
      );
    }
    return `sa1:${(this.constructor as unknown as { type: string }).type}@${this.byteOffset}:${m.handle().slice(4)}`;
  }
}

/** Parses a descriptor or handle for `kind`; returns the memory and offset. */
export function locate(kind: Kind, where: string, d: unknown): [unknown, number] {
  if (typeof d === "string") {
    const m = /^sa1:([a-z0-9]+)@(\d+):((?:shm|file):.+)$/s.exec(d);
    if (!m) throw rangeError(where, "handle", `a string like "sa1:${kind.type}@0:shm:/name"`, d);
    if (m[1] !== kind.type) throw typeError(where, "handle", `a handle of a ${kind.name} (this is ${m[1]})`, d);
    return [SharedMemory.fromHandle(`sa1:${m[3]}`), Number(m[2])];
  }
  const desc = d as AtomicDescriptor;
  if (desc === null || typeof desc !== "object" || desc.kind !== "shared-atomic") {
    throw typeError(where, "descriptor", "an object made by .descriptor()", d);
  }
  if (desc.type !== kind.type) {
    throw typeError(where, "descriptor", `a descriptor of a ${kind.name} (this is ${desc.type})`, desc.type);
  }
  return [typeof desc.segment === "string" ? SharedMemory.fromHandle(desc.segment) : desc.buffer, desc.byteOffset];
}

/**
 * The prototype an instance gets when its SharedMemory closes: every method
 * and getter of the class (and its bases) throws.
 */
export function closedPrototypeOf(cls: { prototype: object; name: string }): object {
  return closedPrototype(cls.prototype, cls.name, membersOf(cls), "it");
}
