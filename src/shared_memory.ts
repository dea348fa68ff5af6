/**
 * Named shared memory between processes: a POSIX `shm_open` segment, or a
 * file on a path you choose, mapped `MAP_SHARED`. Atomics take a
 * `SharedMemory` wherever they take a `SharedArrayBuffer`.
 *
 * @module
 */

import { backend, type Pointer } from "./backend.ts";
import { errnoName } from "./errno.ts";
import { rangeError, typeError } from "./errors.ts";
import { shmSymbols } from "./native.ts";

/** Base class of the shared-memory errors; `code` is the errno name, e.g. "EACCES". */
export class SharedMemoryError extends Error {
  /** The errno name ("EEXIST", "ENOENT", …), or "" when not from the OS. */
  readonly code: string;
  /**
   * An error with its errno name.
   *
   * @example
   * ```ts
   * import { SharedMemoryError } from "./mod.ts";
   * new SharedMemoryError("mapping failed", "ENOMEM").code; // "ENOMEM"
   * ```
   */
  constructor(message: string, code = "") {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * `SharedMemory.create` of a name that already exists.
 *
 * @example
 * ```ts
 * import { SharedMemory, SharedMemoryExistsError } from "./mod.ts";
 * try {
 *   SharedMemory.create("/taken", 64);
 * } catch (e) {
 *   if (!(e instanceof SharedMemoryExistsError)) throw e;
 * }
 * ```
 */
export class SharedMemoryExistsError extends SharedMemoryError {}

/**
 * `SharedMemory.open` (or `unlink`) of a name that does not exist.
 *
 * @example
 * ```ts
 * import { SharedMemory, SharedMemoryNotFoundError } from "./mod.ts";
 * try {
 *   SharedMemory.open("/missing");
 * } catch (e) {
 *   if (!(e instanceof SharedMemoryNotFoundError)) throw e;
 * }
 * ```
 */
export class SharedMemoryNotFoundError extends SharedMemoryError {}

/**
 * Any use of a `SharedMemory`, or of an atomic in it, after `close()`.
 *
 * @example
 * ```ts
 * import { AtomicU32, SharedMemory, SharedMemoryClosedError } from "./mod.ts";
 * const seg = SharedMemory.create("/closing", 64);
 * const a = new AtomicU32(seg);
 * seg.close();
 * seg.unlink();
 * try {
 *   a.load();
 * } catch (e) {
 *   console.assert(e instanceof SharedMemoryClosedError);
 * }
 * ```
 */
export class SharedMemoryClosedError extends SharedMemoryError {}

/** Where a segment lives: a POSIX shm name, or `{ path }` for a file. */
export type SegmentName = string | { readonly path: string };

/** What an atomic needs from the segment it lives in. */
export interface SegmentView {
  readonly base: Pointer;
  readonly byteLength: number;
  /** Makes `target` use `closed` as its prototype once the segment closes. */
  track(target: object, closed: object): void;
}

/** The key of the internal protocol between atomics and segments. */
export const SEGMENT: unique symbol = Symbol("shared-atomic segment");

const OWNER = Symbol("shared-atomic owner");
const MAX_BYTES = Number.MAX_SAFE_INTEGER;

function nameLimit(): number {
  // macOS: PSHMNAMLEN (31, counting the leading slash); Linux: NAME_MAX (255) without it
  return backend().os === "darwin" ? 30 : 255;
}

interface Parsed {
  readonly kind: "shm" | "file";
  /** The shm name with its leading slash, or the path. */
  readonly name: string;
}

function parseName(where: string, name: unknown): Parsed {
  if (name !== null && typeof name === "object" && "path" in name) {
    const path = (name as { path: unknown }).path;
    if (typeof path !== "string") throw typeError(where, "path", "a string", path);
    if (path === "" || path.includes("\0")) {
      throw rangeError(where, "path", "a non-empty file path without NUL characters", path);
    }
    return { kind: "file", name: path };
  }
  if (typeof name !== "string") throw typeError(where, "name", 'a string like "/counters", or { path }', name);
  const bare = name.startsWith("/") ? name.slice(1) : name;
  const limit = nameLimit();
  if (bare === "" || bare.includes("/") || bare.includes("\0")) {
    throw rangeError(
      where,
      "name",
      `a non-empty name with no "/" after an optional leading one and no NUL, at most ${limit} bytes`,
      name,
    );
  }
  const bytes = new TextEncoder().encode(bare).length;
  if (bytes > limit) {
    throw rangeError(where, "name", `at most ${limit} bytes on ${backend().os} (this one has ${bytes})`, name);
  }
  return { kind: "shm", name: `/${bare}` };
}

/** A NUL-terminated copy of `s` in memory that never moves. */
function cString(s: string): Pointer {
  const utf8 = new TextEncoder().encode(s);
  const view = new Uint8Array(new SharedArrayBuffer(utf8.length + 1));
  view.set(utf8);
  return backend().pointer(view);
}

function osError(where: string, what: string, p: Parsed, rc: number): SharedMemoryError {
  const code = errnoName(-rc, backend().os);
  const label = p.kind === "file" ? `file ${JSON.stringify(p.name)}` : `segment ${JSON.stringify(p.name)}`;
  if (code === "EEXIST") return new SharedMemoryExistsError(`${where}: ${label} already exists`, code);
  if (code === "ENOENT") return new SharedMemoryNotFoundError(`${where}: ${label} does not exist`, code);
  if (code === "ELOOP") {
    return new SharedMemoryError(`${where}: ${label} is a symbolic link; links are never followed`, code);
  }
  return new SharedMemoryError(`${where}: ${what} ${label} failed: ${code}`, code);
}

function checkSize(where: string, byteLength: unknown, allowed: string): number {
  if (typeof byteLength !== "number") throw typeError(where, "byteLength", "a number", byteLength);
  if (!Number.isInteger(byteLength) || byteLength < 1 || byteLength > MAX_BYTES) {
    throw rangeError(where, "byteLength", allowed, byteLength);
  }
  return byteLength;
}

const cache = new Map<string, WeakRef<SharedMemory>>();
const cacheKey = (p: Parsed): string => `${p.kind}:${p.name}`;

const finalizer = new FinalizationRegistry<{ base: Pointer; length: number }>(({ base, length }) => {
  shmSymbols().sa_shm_unmap(base, length);
});

/**
 * A named shared-memory segment mapped into this process. Create it in one
 * process, open it by name in others; atomics over it are shared by all.
 *
 * @example
 * ```ts
 * import { AtomicU64, SharedMemory } from "./mod.ts";
 * using seg = SharedMemory.create("/my-counters", 4096);
 * const hits = new AtomicU64(seg, 0);
 * hits.fetchAdd(1);
 * // another process: new AtomicU64(SharedMemory.open("/my-counters"), 0)
 * // or, from a string in argv: fromHandle(hits.handle())
 * seg.unlink(); // remove the name; the memory lives while mapped
 * ```
 */
export class SharedMemory implements Disposable {
  /** The shm name with its leading slash ("/counters"), or the file path. */
  readonly name: string;
  /** "shm" for a POSIX shared-memory object, "file" for a file on a path. */
  readonly kind: "shm" | "file";
  /** The mapped size in bytes. */
  readonly byteLength: number;
  #base: Pointer;
  #bytes: Uint8Array | undefined;
  #tracked: WeakRef<object>[] | undefined = [];
  #closedProtos = new WeakMap<object, object>();

  private constructor(p: Parsed, base: Pointer, byteLength: number) {
    this.name = p.name;
    this.kind = p.kind;
    this.byteLength = byteLength;
    this.#base = base;
    finalizer.register(this, { base, length: byteLength }, this);
  }

  /**
   * Creates a new segment of `byteLength` zeroed bytes, owner-only (0600),
   * failing with `SharedMemoryExistsError` if the name exists.
   *
   * @example
   * ```ts
   * import { SharedMemory } from "./mod.ts";
   * const seg = SharedMemory.create("/jobs", 1024); // or SharedMemory.create({ path: "/var/tmp/jobs.bin" }, 1024)
   * seg.close();
   * seg.unlink();
   * ```
   */
  static create(name: SegmentName, byteLength: number): SharedMemory {
    const where = "SharedMemory.create";
    const p = parseName(where, name);
    const size = checkSize(where, byteLength, `an integer in [1, 2^53-1]`);
    const s = shmSymbols();
    const cname = cString(p.name);
    const file = p.kind === "file" ? 1 : 0;
    const fd = s.sa_shm_open_fd(cname, 1, file);
    if (fd < 0) throw osError(where, "creating", p, fd);
    let rc = s.sa_shm_fd_truncate(fd, size);
    const base = rc === 0 ? s.sa_shm_map(fd, size) : null;
    if (rc === 0 && backend().isNull(base)) rc = -s.sa_shm_map_error();
    s.sa_shm_close_fd(fd);
    if (rc !== 0) {
      s.sa_shm_remove(cname, file);
      const e = osError(where, `sizing to ${size} bytes`, p, rc);
      if (e.code === "EFBIG" || e.code === "ENOSPC" || e.code === "ENOMEM" || e.code === "EINVAL") {
        throw new RangeError(`${where}: byteLength ${size} is more than this system allows (${e.code})`);
      }
      throw e;
    }
    const seg = new SharedMemory(p, base, size);
    cache.set(cacheKey(p), new WeakRef(seg));
    return seg;
  }

  /**
   * Opens an existing segment; maps all of it, or its first `byteLength`
   * bytes (a RangeError if the segment is smaller).
   *
   * @example
   * ```ts
   * import { SharedMemory } from "./mod.ts";
   * SharedMemory.create("/opened", 64).close();
   * const seg = SharedMemory.open("/opened");
   * seg.byteLength; // 64
   * seg.close();
   * SharedMemory.unlink("/opened");
   * ```
   */
  static open(name: SegmentName, byteLength?: number): SharedMemory {
    const where = "SharedMemory.open";
    const p = parseName(where, name);
    if (byteLength !== undefined) checkSize(where, byteLength, `an integer in [1, 2^53-1]`);
    const s = shmSymbols();
    const fd = s.sa_shm_open_fd(cString(p.name), 0, p.kind === "file" ? 1 : 0);
    if (fd < 0) throw osError(where, "opening", p, fd);
    try {
      const size = s.sa_shm_fd_size(fd);
      if (size < 0) throw osError(where, "sizing", p, size);
      if (size === 0) {
        throw new SharedMemoryError(`${where}: ${p.name} is empty (its creator may not have sized it yet)`);
      }
      if (byteLength !== undefined && byteLength > size) {
        throw rangeError(where, "byteLength", `at most the segment's size, ${size}`, byteLength);
      }
      const length = byteLength ?? size;
      const base = s.sa_shm_map(fd, length);
      if (backend().isNull(base)) throw osError(where, "mapping", p, -s.sa_shm_map_error());
      return new SharedMemory(p, base, length);
    } finally {
      s.sa_shm_close_fd(fd);
    }
  }

  /**
   * Removes a segment's name (processes that have it mapped keep using it).
   *
   * @example
   * ```ts
   * import { SharedMemory } from "./mod.ts";
   * SharedMemory.create("/gone", 8).close();
   * SharedMemory.unlink("/gone");
   * ```
   */
  static unlink(name: SegmentName): void {
    const where = "SharedMemory.unlink";
    const p = parseName(where, name);
    const rc = shmSymbols().sa_shm_remove(cString(p.name), p.kind === "file" ? 1 : 0);
    if (rc !== 0) throw osError(where, "removing", p, rc);
  }

  /**
   * Opens the segment a handle string names (from `handle()`), reusing this
   * process's open mapping of it if there is one.
   *
   * @example
   * ```ts
   * import { SharedMemory } from "./mod.ts";
   * const seg = SharedMemory.create("/handled", 64);
   * const same = SharedMemory.fromHandle(seg.handle()); // e.g. in a child process
   * seg.close();
   * seg.unlink();
   * ```
   */
  static fromHandle(handle: string): SharedMemory {
    const where = "SharedMemory.fromHandle";
    if (typeof handle !== "string") throw typeError(where, "handle", 'a string like "sa1:shm:/name"', handle);
    const m = /^sa1:(shm|file):(.+)$/s.exec(handle);
    if (!m) throw rangeError(where, "handle", 'a string like "sa1:shm:/name" or "sa1:file:/path"', handle);
    return SharedMemory.cached(m[1] === "file" ? { path: m[2] } : m[2]);
  }

  /** An open mapping of `name` in this process, shared by every `fromHandle`. */
  static cached(name: SegmentName): SharedMemory {
    const key = cacheKey(parseName("SharedMemory.fromHandle", name));
    const hit = cache.get(key)?.deref();
    if (hit && !hit.closed) return hit;
    const seg = SharedMemory.open(name);
    cache.set(key, new WeakRef(seg));
    return seg;
  }

  /** A short string naming this segment, for argv or an environment variable. */
  handle(): string {
    return `sa1:${this.kind}:${this.name}`;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#tracked === undefined;
  }

  /** A `Uint8Array` over the whole segment, for plain (non-atomic) reads and writes. */
  get bytes(): Uint8Array {
    this.#check("bytes");
    if (this.#bytes === undefined) {
      const ab = backend().arrayBuffer(this.#base, this.byteLength);
      // the buffer keeps the mapping alive as long as anyone holds it
      Object.defineProperty(ab, OWNER, { value: this });
      this.#bytes = new Uint8Array(ab);
    }
    return this.#bytes;
  }

  /**
   * Unmaps the segment in this process. Every later use of it, of `bytes`,
   * or of an atomic in it throws `SharedMemoryClosedError`. Idempotent.
   */
  close(): void {
    const tracked = this.#tracked;
    if (tracked === undefined) return;
    this.#tracked = undefined;
    for (const ref of tracked) {
      const target = ref.deref();
      if (target) Object.setPrototypeOf(target, this.#closedProtos.get(target)!);
    }
    if (this.#bytes) (this.#bytes.buffer as ArrayBuffer & { transfer(n: number): ArrayBuffer }).transfer(0);
    this.#bytes = undefined;
    finalizer.unregister(this);
    shmSymbols().sa_shm_unmap(this.#base, this.byteLength);
  }

  /** Removes this segment's name (see the static `unlink`); works after `close()` too. */
  unlink(): void {
    SharedMemory.unlink(this.kind === "file" ? { path: this.name } : this.name);
  }

  /** `close()`, for `using seg = SharedMemory.create(...)`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal What an atomic needs; throws if closed. */
  [SEGMENT](where: string): SegmentView {
    this.#check(where);
    return {
      base: this.#base,
      byteLength: this.byteLength,
      track: (target, closed) => {
        this.#closedProtos.set(target, closed);
        const tracked = this.#tracked!;
        if (tracked.length >= 64 && (tracked.length & (tracked.length - 1)) === 0) {
          // prune collected atomics now and then (at each power of two)
          const live = tracked.filter((r) => r.deref() !== undefined);
          tracked.length = 0;
          tracked.push(...live);
        }
        tracked.push(new WeakRef(target));
      },
    };
  }

  #check(where: string): void {
    if (this.#tracked === undefined) {
      throw new SharedMemoryClosedError(`${where}: the SharedMemory ${JSON.stringify(this.name)} is closed`);
    }
  }
}
