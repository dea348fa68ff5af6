/**
 * The class of an atomic of one value type (the narrow ones, `AtomicI128`,
 * `AtomicU128`): where an instance lives, its pointer, `create`, `from`,
 * `fromHandle`, `descriptor`, `handle`, and its closed-segment prototype.
 * Its operations are compiled onto the prototype on first construction, not
 * at import (see `method.ts`).
 *
 * @module
 */

import type { Pointer } from "../native/backend.ts";
import { closedPrototype } from "../memory/closed.ts";
import {
  acceptsType,
  type AtomicDescriptor,
  descriptorOf,
  handleOf,
  openDescriptorOrHandle,
  openHandle,
  type Rebuilder,
  registerClass,
} from "../memory/descriptor.ts";
import { type Region, valueRegion } from "../memory/region.ts";
import type { SharedMemory } from "../memory/shared_memory.ts";
import { type Brand, brand, type Method } from "./method.ts";

/** What makes one class of single-type atomics. */
export interface ValueClass {
  /** "AtomicI32". */
  readonly name: string;
  /** "i32": its descriptors' and handles' type. */
  readonly type: string;
  /** Width and alignment in bytes. */
  readonly bytes: number;
  /** Throws, naming `where`, if values of this type cannot be atomic here (before the memory is checked). */
  readonly available?: (where: string) => void;
  /** Opens the exports and compiles the methods onto `proto`; on first construction. */
  readonly bind: (proto: Record<string, Method>, brand: Brand) => void;
  /** More own properties of an instance at `region` (after `bind`). */
  readonly properties?: (region: Region) => PropertyDescriptorMap;
  /** Throws, naming `where` and "initial", if `initial` is not a value of the type. */
  readonly checkInitial: (initial: unknown, where: string) => void;
  /** Every method, for the closed-segment prototype. */
  readonly methods: readonly string[];
}

/** The class `spec` describes, registered to rebuild its descriptors and handles, and its brand. */
export function defineValueClass(spec: ValueClass): { readonly cls: unknown; readonly brand: Brand } {
  const { name, type, bytes } = spec;
  const accepted = acceptsType(type);
  let bound = false;
  let is: (o: unknown) => boolean = () => false;

  class Atomic {
    readonly memory: SharedArrayBuffer | SharedMemory;
    readonly byteOffset: number;
    // non-writable (defined in the constructor): a method never uses a pointer it did not make
    declare readonly ptr: Pointer;
    /** The brand: only instances made by this constructor have it. */
    #atomic = true;
    static readonly BYTES: number = bytes;
    static readonly type: string = type;

    /** The value type ("u64"): what tells the classes apart, for the type checker too. */
    get type(): string {
      return type;
    }

    static {
      is = (o) => typeof o === "object" && o !== null && #atomic in o;
    }

    constructor(memory: unknown, byteOffset?: unknown) {
      const where = `new ${name}`;
      spec.available?.(where);
      const r = valueRegion(where, memory, byteOffset, bytes);
      if (!bound) spec.bind(Atomic.prototype as unknown as Record<string, Method>, b);
      bound = true;
      this.memory = r.owner;
      this.byteOffset = r.byteOffset;
      Object.defineProperties(this, { ptr: { value: r.pointer, enumerable: true }, ...spec.properties?.(r) });
      r.track?.(this, closed);
    }

    static create(initial?: unknown): Atomic {
      // checked here, so the error names create and initial (not store and value)
      if (initial !== undefined) spec.checkInitial(initial, `${name}.create`);
      const a = new Atomic(new SharedArrayBuffer(bytes));
      if (initial !== undefined) (a as unknown as { store(v: unknown): void }).store(initial);
      return a;
    }

    static from(d: AtomicDescriptor | string): Atomic {
      const r = openDescriptorOrHandle(`${name}.from`, d, accepted);
      return new Atomic(r.memory, r.byteOffset);
    }

    static fromHandle(handle: string): Atomic {
      const r = openHandle(`${name}.fromHandle`, handle, accepted);
      return new Atomic(r.memory, r.byteOffset);
    }

    descriptor(): AtomicDescriptor {
      return descriptorOf(type, this.memory, this.byteOffset);
    }

    handle(): string {
      return handleOf(`${name}.handle`, type, this.memory, this.byteOffset);
    }

    toString(): string {
      return `${name}(${String((this as unknown as { load(): unknown }).load())})`;
    }
  }
  Object.defineProperty(Atomic, "name", { value: name });

  // what an atomic in a closed SharedMemory turns into: every method throws
  const closed = closedPrototype(Atomic.prototype, name, spec.methods);
  const b = brand(name, is); // set by the static block above
  registerClass(type, Atomic as unknown as Rebuilder);
  return { cls: Atomic, brand: b };
}
