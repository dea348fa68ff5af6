/**
 * SharedMap: a hash map in a SharedArrayBuffer or SharedMemory that Workers,
 * processes and other languages (C, Python through `sa_map_*`) read and
 * write at once. The algorithm lives in zig/map.zig: open addressing with
 * double-buffered slots read lock-free through per-slot versions, writers
 * serialised by one robust lock, backward-shift deletion under a journal.
 *
 * @module
 */

import type { NativeFn, Pointer } from "../native/backend.ts";
import { argumentError, describe, MapFullError, typeError } from "../errors.ts";
import { backend } from "../native/backend.ts";
import { type AtomicMemory, sharedBuffer } from "../memory/region.ts";
import { definePrimitive, type Kind, Primitive } from "../sync/primitive.ts";
import {
  ABSENT,
  CORRUPT,
  FULL,
  HEADER_BYTES,
  MAP_TAG,
  type MapNative,
  mapNative,
  NOT_COUNTER,
  SEAL_OFFSET,
  STUCK,
  TOO_SMALL,
} from "./native.ts";
import {
  DEFAULT_KEY_SIZE,
  DEFAULT_VALUE_SIZE,
  deltaOf,
  mapOptions,
  newConfig,
  type SetOptions,
  type SharedMapOptions,
  ttlOf,
} from "./options.ts";
import { isUint8Array, type MapBytes, Scratch } from "./scratch.ts";
import { readSnapshot } from "./snapshot.ts";
import { pool, renew, take } from "./pool.ts";

const KIND: Kind = { name: "SharedMap", type: "map", bytes: HEADER_BYTES, tag: MAP_TAG, align: 8 };
const decoder = new TextDecoder();

/** The options of `keys()` and `entries()`. */
export interface IterateOptions {
  /** Yield keys as Uint8Arrays (their bytes) instead of strings (decoded as UTF-8). */
  readonly binary?: boolean;
}

/**
 * A concurrent hash map in shared memory: string or byte keys of up to
 * `keySize` bytes, byte or string values of up to `valueSize` bytes, at most
 * `capacity` entries, optional per-entry TTLs, and 64-bit counters. Reads
 * take no lock and never see a half-written value; writes take one robust
 * lock for a few hundred nanoseconds, and a process killed inside one
 * neither blocks the others nor leaves a torn value visible.
 *
 * Empty keys are allowed. Keys are compared as bytes (a string key is its
 * UTF-8). `get` returns a copy.
 *
 * @example
 * ```ts
 * import { SharedMap } from "./mod.ts";
 * const hits = SharedMap.create({ capacity: 1000, keySize: 32, valueSize: 64 });
 * hits.set("greeting", "hello");
 * hits.getText("greeting"); // "hello"
 * hits.fetchAdd("/index.html", 1); // 0: absent counts as 0
 * hits.addFetch("/index.html", 1); // 2
 * hits.size; // 2
 * // in a Worker, after postMessage(hits.descriptor()): SharedMap.from(descriptor)
 * ```
 */
export class SharedMap extends Primitive {
  /** Descriptor and handle type name: "map". */
  declare static readonly type: string;
  readonly #map: Pointer;
  readonly #s: Scratch;
  readonly #n: MapNative;
  readonly #get: NativeFn;
  readonly #getAt: NativeFn;
  readonly #valueSize: number;
  /** The configuration it was opened with, passed to every native call (which refuses memory that says otherwise now). */
  readonly #cap: number;
  readonly #ks: number;
  readonly #vs: number;

  /**
   * A map at `byteOffset` (a multiple of 8) in `memory`: zeroed memory is
   * initialised with `options` (capacity required), an existing map is
   * adopted (options left out adopt its configuration; a different one
   * throws), anything else is refused.
   */
  constructor(memory: AtomicMemory, byteOffset = 0, options: SharedMapOptions = {}) {
    const c = mapOptions("new SharedMap", options);
    const n = mapNative();
    super(KIND, memory, byteOffset, {
      robust: true,
      config: [c.capacity, c.keySize, c.valueSize],
      defaults: [undefined, DEFAULT_KEY_SIZE, DEFAULT_VALUE_SIZE],
      fixed: 3,
      names: ["capacity", "keySize", "valueSize"],
      size: ([cap, k, v]) => {
        const bytes = Number(n.bytes(cap, k, v));
        if (bytes > 0) return bytes;
        // only a map's header overwritten with a configuration out of range gets here
        throw new RangeError(
          `new SharedMap: this memory holds a SharedMap of an impossible configuration (${cap}, ${k}, ${v})`,
        );
      },
      fresh: ([cap, k, v]) => [[SEAL_OFFSET, n.seal(cap, k, v)]],
    });
    this.#n = n;
    this.#get = n.get;
    this.#getAt = n.get_at;
    this.#map = this.at(0);
    [this.#cap, this.#ks, this.#vs] = this.config;
    this.#valueSize = this.#vs;
    this.#s = new Scratch(this.#ks, this.#vs);
  }

  /**
   * The bytes a map with these options needs (then place it at a multiple of 8).
   *
   * @example
   * ```ts
   * import { SharedMap } from "./mod.ts";
   * SharedMap.byteLength({ capacity: 100, keySize: 16, valueSize: 64 }) > 0; // true
   * ```
   */
  static byteLength(options: SharedMapOptions): number {
    const [cap, k, v] = newConfig("SharedMap.byteLength", options);
    return Number(mapNative().bytes(cap, k, v));
  }

  /**
   * A map in its own fresh SharedArrayBuffer.
   *
   * @example
   * ```ts
   * import { SharedMap } from "./mod.ts";
   * SharedMap.create({ capacity: 10 }).capacity; // 10
   * ```
   */
  static create(options: SharedMapOptions): SharedMap {
    const [capacity, keySize, valueSize] = newConfig("SharedMap.create", options);
    const sab = sharedBuffer("SharedMap.create", SharedMap.byteLength({ capacity, keySize, valueSize }));
    return new SharedMap(sab, 0, { capacity, keySize, valueSize });
  }

  /** The most entries it holds. */
  get capacity(): number {
    return this.config[0];
  }

  /** The longest key, in bytes. */
  get keySize(): number {
    return this.config[1];
  }

  /** The longest value, in bytes. */
  get valueSize(): number {
    return this.config[2];
  }

  /** How many entries are visible now (expired ones are removed first when some are due). */
  get size(): number {
    SharedMap.#use(this, "SharedMap.size");
    return this.#check("size", this.#n.size(this.#map, this.#cap, this.#ks, this.#vs));
  }

  /** A copy of the value of `key`, or undefined if absent (or expired). */
  get(key: MapBytes): Uint8Array | undefined {
    SharedMap.#use(this, "SharedMap.get");
    const s = this.#s;
    const k = s.putKey("SharedMap.get", key);
    // the native call writes the value straight into this thread's pool (a detached pool reads as 0 bytes long)
    if (pool.used + this.#valueSize > pool.buffer.byteLength) renew(this.#valueSize);
    const r = this.#getAt(this.#map, this.#cap, this.#ks, this.#vs, s.keyPtr, k, pool.pointer, pool.used);
    if (r >= 0) return take(r);
    if (r === ABSENT) return undefined;
    throw this.#corrupt("get", r);
  }

  /** The value of `key` decoded as UTF-8, or undefined if absent. */
  getText(key: MapBytes): string | undefined {
    SharedMap.#use(this, "SharedMap.getText");
    const s = this.#s;
    const k = s.putKey("SharedMap.getText", key);
    const r = this.#get(this.#map, this.#cap, this.#ks, this.#vs, s.keyPtr, k, s.aPtr);
    if (r >= 0) return decoder.decode(s.prefix(r)); // decoded straight from the scratch: no copy
    if (r === ABSENT) return undefined;
    throw this.#corrupt("getText", r);
  }

  /** Whether `key` is present (and not expired). */
  has(key: MapBytes): boolean {
    SharedMap.#use(this, "SharedMap.has");
    const s = this.#s;
    const k = s.putKey("SharedMap.has", key);
    const r = this.#get(this.#map, this.#cap, this.#ks, this.#vs, s.keyPtr, k, null);
    if (r >= 0) return true;
    if (r === ABSENT) return false;
    throw this.#corrupt("has", r);
  }

  /**
   * Copies the value of `key` into `target` (from its start) and returns
   * its length, or undefined if absent; a RangeError if `target` is shorter
   * than the value (nothing written).
   */
  getInto(key: MapBytes, target: Uint8Array): number | undefined {
    SharedMap.#use(this, "SharedMap.getInto");
    const s = this.#s;
    if (!isUint8Array(target)) throw this.#type("getInto", "target", "a Uint8Array", target);
    const k = s.putKey("SharedMap.getInto", key);
    const r = this.#get(this.#map, this.#cap, this.#ks, this.#vs, s.keyPtr, k, s.aPtr);
    if (r === ABSENT) return undefined;
    if (r < 0) throw this.#corrupt("getInto", r);
    if (target.length < r) {
      throw new RangeError(`SharedMap.getInto: target must hold the value's ${r} bytes; got ${target.length} bytes`);
    }
    target.set(s.prefix(r));
    return r;
  }

  /**
   * Stores `value` under `key` (replacing its value and expiry). Throws
   * MapFullError, changing nothing, if the key is new and the map is full.
   */
  set(key: MapBytes, value: MapBytes, options?: SetOptions): void {
    SharedMap.#use(this, "SharedMap.set");
    this.#put("SharedMap.set", key, value, options, 0);
  }

  /** Stores `value` under `key` only if absent; returns whether it did. MapFullError if full. */
  setIfAbsent(key: MapBytes, value: MapBytes, options?: SetOptions): boolean {
    SharedMap.#use(this, "SharedMap.setIfAbsent");
    return this.#put("SharedMap.setIfAbsent", key, value, options, 1) === 1;
  }

  /** If `key` holds exactly `expected`, stores `desired` (keeping the expiry); returns whether it did. */
  compareAndSet(key: MapBytes, expected: MapBytes, desired: MapBytes): boolean {
    const where = "SharedMap.compareAndSet";
    SharedMap.#use(this, where);
    const s = this.#s;
    const k = s.putKey(where, key);
    const e = s.putValue(where, "expected", expected, s.a);
    const d = s.putValue(where, "desired", desired, s.b);
    return this.#check(
      "compareAndSet",
      this.#n.cas(this.#map, this.#cap, this.#ks, this.#vs, s.keyPtr, k, s.aPtr, e, s.bPtr, d),
    ) === 1;
  }

  /** Deletes `key`; returns whether it was present. */
  delete(key: MapBytes): boolean {
    SharedMap.#use(this, "SharedMap.delete");
    const s = this.#s;
    const k = s.putKey("SharedMap.delete", key);
    const r = this.#n.delete(this.#map, this.#cap, this.#ks, this.#vs, s.keyPtr, k);
    return this.#check("delete", r) === 1;
  }

  /**
   * Replaces the value of `key` with `fn(current)` (current: a copy, or
   * undefined if absent), as a compare-and-set loop: `fn` runs again when
   * another write to the key came between (so it should have no other
   * effects). Returning undefined deletes the key (or leaves it absent).
   * Returns what `fn` returned last. MapFullError if the key is new and the
   * map is full.
   */
  update(key: MapBytes, fn: (current: Uint8Array | undefined) => MapBytes | undefined): MapBytes | undefined {
    SharedMap.#use(this, "SharedMap.update");
    if (typeof fn !== "function") throw this.#type("update", "fn", "a function", fn);
    this.#s.putKey("SharedMap.update", key);
    for (;;) {
      const current = this.get(key);
      const next = fn(current);
      this.live("SharedMap.update"); // fn may have closed the SharedMemory

      if (current === undefined) {
        if (next === undefined || this.#put("SharedMap.update", key, next, undefined, 1) === 1) return next;
      } else if (next === undefined) {
        if (this.#compareAndDelete(key, current)) return next;
      } else if (this.#compareAndSetFrom("SharedMap.update", key, current, next)) return next;
    }
  }

  /** Deletes every entry. */
  clear(): void {
    SharedMap.#use(this, "SharedMap.clear");
    this.#check("clear", this.#n.clear(this.#map, this.#cap, this.#ks, this.#vs));
  }

  /**
   * Adds `delta` to the little-endian 64-bit integer value of `key` and
   * returns the value before; an absent key counts as 0 and is created (with
   * `options.ttlMs`, if given: a fixed window). A number delta (a safe
   * integer) returns a number, a bigint delta a bigint (exact beyond 2^53).
   * Wraps at 64 bits. A TypeError if the key's value is not 8 bytes;
   * MapFullError if the key is new and the map is full.
   */
  fetchAdd<D extends number | bigint>(key: MapBytes, delta: D, options?: SetOptions): D {
    SharedMap.#use(this, "SharedMap.fetchAdd");
    return this.#add("SharedMap.fetchAdd", key, delta, options, false) as D;
  }

  /** `fetchAdd`, returning the value after the addition. */
  addFetch<D extends number | bigint>(key: MapBytes, delta: D, options?: SetOptions): D {
    SharedMap.#use(this, "SharedMap.addFetch");
    return this.#add("SharedMap.addFetch", key, delta, options, true) as D;
  }

  /**
   * The keys, as strings (or Uint8Arrays with `{ binary: true }`), from a
   * snapshot taken when called: every key present for the whole call
   * appears exactly once.
   */
  keys(options?: IterateOptions): IterableIterator<string | Uint8Array> {
    SharedMap.#use(this, "SharedMap.keys");
    const binary = this.#binary("keys", options);
    return readSnapshot(...this.#snapshot("keys", false), binary).map(([k]) => k)[Symbol.iterator]();
  }

  /** [key, value] pairs from a snapshot taken when called (see `keys`); every value whole. */
  entries(options?: IterateOptions): IterableIterator<[string | Uint8Array, Uint8Array]> {
    SharedMap.#use(this, "SharedMap.entries");
    const binary = this.#binary("entries", options);
    return readSnapshot(...this.#snapshot("entries", true), binary)[Symbol.iterator]();
  }

  /** The entries (see `entries`), with string keys. */
  [Symbol.iterator](): IterableIterator<[string | Uint8Array, Uint8Array]> {
    SharedMap.#use(this, "SharedMap[Symbol.iterator]");
    return this.entries();
  }

  /**
   * Checks that `o` (a method's `this`) is a SharedMap, whose SharedMemory
   * (if any) is open: a method called on anything else is a TypeError naming
   * it (not the engine's message about a private field), and one kept from
   * before its segment closed is a SharedMemoryClosedError.
   */
  static #use(o: unknown, where: string): void {
    if (o === null || typeof o !== "object" || !(#map in o)) {
      throw new TypeError(`${where}: this must be a SharedMap (call the method on one); got ${describe(o)}`);
    }
    (o as SharedMap).stillOpen(where);
  }

  /** `where`: "SharedMap.<method>", a constant (no string built per call). */
  #put(where: string, key: unknown, value: unknown, options: unknown, onlyIfAbsent: number): number {
    const ttl = ttlOf(where, options); // first: its getter may call this map, whose scratch is staged next
    const s = this.#s;
    const k = s.putKey(where, key);
    const v = s.putValue(where, "value", value, s.a);
    this.stillOpen(where);
    const r = this.#n.set(this.#map, this.#cap, this.#ks, this.#vs, s.keyPtr, k, s.aPtr, v, ttl, onlyIfAbsent);
    if (r === FULL) throw new MapFullError(where, this.#cap);
    if (r === CORRUPT || r === STUCK) throw this.#corrupt(where.slice(10), r);
    return r;
  }

  #compareAndSetFrom(where: string, key: MapBytes, expected: Uint8Array, desired: MapBytes): boolean {
    const s = this.#s;
    const k = s.putKey(where, key);
    const e = s.putValue(where, "expected", expected, s.a);
    const d = s.putValue(where, "the new value", desired, s.b);
    this.stillOpen(where);
    return this.#check(
      "update",
      this.#n.cas(this.#map, this.#cap, this.#ks, this.#vs, s.keyPtr, k, s.aPtr, e, s.bPtr, d),
    ) === 1;
  }

  #compareAndDelete(key: MapBytes, expected: Uint8Array): boolean {
    const s = this.#s;
    const k = s.putKey("SharedMap.update", key);
    const e = s.putValue("SharedMap.update", "expected", expected, s.a);
    this.stillOpen("SharedMap.update");
    return this.#check(
      "update",
      this.#n.cas(this.#map, this.#cap, this.#ks, this.#vs, s.keyPtr, k, s.aPtr, e, null, -1),
    ) === 1;
  }

  #add(where: string, key: unknown, delta: unknown, options: unknown, after: boolean): number | bigint {
    const ttl = ttlOf(where, options); // first: its getter may call this map, whose scratch is staged next
    const d = deltaOf(where, delta);
    const s = this.#s;
    const k = s.putKey(where, key);
    this.stillOpen(where);
    if (typeof d === "bigint") {
      this.#added(where, key, this.#n.add(this.#map, this.#cap, this.#ks, this.#vs, s.keyPtr, k, d, ttl, s.outPtr));
      const old = s.i64[0];
      return after ? BigInt.asIntN(64, old + d) : old;
    }
    this.#added(where, key, this.#n.add_f64(this.#map, this.#cap, this.#ks, this.#vs, s.keyPtr, k, d, ttl, s.outPtr));
    const old = s.f64[0];
    return after ? old + d : old;
  }

  #added(where: string, key: unknown, r: number): void {
    if (r === 0) return;
    if (r === FULL) throw new MapFullError(where, this.#cap);
    if (r === NOT_COUNTER) {
      const n = this.#n.get(this.#map, this.#cap, this.#ks, this.#vs, this.#s.keyPtr, this.#s.putKey(where, key), null);
      throw new TypeError(
        `${where}: the value of key ${describe(key)} is ${n} bytes, not an 8-byte little-endian counter` +
          (this.#vs < 8 ? ` (this map's valueSize is ${this.#vs})` : ""),
      );
    }
    throw this.#corrupt(where.slice("SharedMap.".length), r);
  }

  /** Every visible entry, written by one native call: the records and how many. */
  #snapshot(method: string, withValues: boolean): [Uint8Array, number] {
    this.stillOpen(`SharedMap.${method}`);
    const per = 8 + this.#ks + (withValues ? this.#vs : 0);
    // room for the entries there now and some more, doubled while more keep coming (never the whole capacity's
    // worth up front: 2^26 entries of 1 MiB values is more memory than there is)
    let room = Math.min(this.#cap, this.#check(method, this.#n.size(this.#map, this.#cap, this.#ks, this.#vs)) + 16);
    for (;;) {
      const out = new Uint8Array(sharedBuffer(`SharedMap.${method}`, room * per));
      const n = this.#n.snapshot(
        this.#map,
        this.#cap,
        this.#ks,
        this.#vs,
        backend().pointer(out),
        out.length,
        withValues ? 1 : 0,
      );
      if (n !== TOO_SMALL) return [out, this.#check(method, n)];
      if (room === this.#cap) throw new Error(`SharedMap.${method}: more entries than its capacity (corrupt memory?)`);
      room = Math.min(this.#cap, room * 2);
    }
  }

  #binary(method: string, options: unknown): boolean {
    if (options === undefined) return false;
    if (options === null || typeof options !== "object") {
      throw this.#type(method, "options", "{ binary? }", options);
    }
    try {
      return (options as IterateOptions).binary === true;
    } catch (e) {
      throw argumentError(`SharedMap.${method}`, "options.binary", e); // a throwing getter, a revoked Proxy
    }
  }

  #check(method: string, r: number): number {
    if (r === CORRUPT || r === STUCK) throw this.#corrupt(method, r);
    return r;
  }

  /**
   * The error for memory that no longer holds this map: its SharedMemory was
   * closed (a method kept from before, or closed inside the call), or its
   * header was overwritten; or (STUCK) for a writers' lock that one live
   * owner held without letting go for seconds.
   */
  #corrupt(method: string, r: number): Error {
    this.live(`SharedMap.${method}`);
    if (r === STUCK) {
      return new Error(
        `SharedMap.${method}: the writers' lock has been held by one live owner for over 2 s without letting go ` +
          "(a stopped process, or its word was overwritten)",
      );
    }
    return new Error(
      `SharedMap.${method}: the memory does not hold a SharedMap any more (not the one opened, of capacity ` +
        `${this.#cap}, keySize ${this.#ks}, valueSize ${this.#vs}); it was overwritten`,
    );
  }

  #type(method: string, param: string, allowed: string, v: unknown): TypeError {
    return typeError(`SharedMap.${method}`, param, allowed, v);
  }
}

definePrimitive(SharedMap, KIND);
