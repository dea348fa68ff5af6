/**
 * Named shared memory between processes: a POSIX `shm_open` segment, or a
 * file on a path you choose, mapped `MAP_SHARED`. Atomics take a
 * `SharedMemory` wherever they take a `SharedArrayBuffer`.
 *
 * @module
 */

import { backend, type Pointer } from "../native/backend.ts";
import { errnoName } from "../native/errno.ts";
import { rangeError, typeError } from "../errors.ts";
import { shmSymbols } from "../native/library.ts";
import { wake } from "../sync/waiting.ts";
import { endsLikeIdentity, formatSegmentHandle, parseSegmentHandle } from "./handle.ts";
import { cancelAtExit, removeAtExit } from "./exit_cleanup.ts";

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
 * const name = `/taken-${Date.now()}`;
 * using seg = SharedMemory.create(name, 64);
 * try {
 *   SharedMemory.create(name, 64); // throws: the name is taken
 * } catch (e) {
 *   console.assert(e instanceof SharedMemoryExistsError);
 * }
 * seg.unlink();
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
 * const seg = SharedMemory.create(`/closing-${Date.now()}`, 64);
 * const a = new AtomicU32(seg);
 * seg.close();
 * seg.unlink();
 * try {
 *   a.load(); // throws: the segment is closed
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
/** The key of the internal protocol between waits and segments. */
export const SEGMENT_WAIT: unique symbol = Symbol("shared-atomic segment wait");
/** The key of a segment's identity. */
export const SEGMENT_IDENTITY: unique symbol = Symbol("shared-atomic segment identity");

/**
 * Options of `SharedMemory.open` (and what `fromHandle` uses: the defaults).
 *
 * @example
 * ```ts
 * import type { OpenOptions } from "./mod.ts";
 * const relaxed: OpenOptions = { ownerOnly: false }; // also segments of other users, or mode 0644
 * ```
 */
export interface OpenOptions {
  /**
   * Open only a segment (or file) owned by the current user that no other
   * user can read or write (mode 0600, what `create` makes). Default true:
   * a handle or name from elsewhere cannot map a system file writable.
   */
  readonly ownerOnly?: boolean;
}

/**
 * Options of `SharedMemory.create` (and of `openOrCreate`).
 *
 * @example
 * ```ts
 * import type { CreateOptions } from "./mod.ts";
 * const tidy: CreateOptions = { unlinkOnExit: true }; // the name goes away when the program ends (best effort)
 * ```
 */
export interface CreateOptions {
  /**
   * Remove the name when this process exits normally or is ended by SIGINT
   * or SIGTERM, if the name still refers to this segment. Best effort:
   * nothing runs after SIGKILL or a crash (`shared-atomic ls`/`rm` finds and
   * removes what is left). It is registered in the calling thread: use it
   * in the main thread (a Worker's registration is lost when the Worker is
   * terminated). Default false.
   */
  readonly unlinkOnExit?: boolean;
}

/**
 * Options of `SharedMemory.openOrCreate`: those of `open` and of `create`.
 *
 * @example
 * ```ts
 * import type { OpenOrCreateOptions } from "./mod.ts";
 * const options: OpenOrCreateOptions = { unlinkOnExit: true, ownerOnly: true };
 * ```
 */
export interface OpenOrCreateOptions extends OpenOptions, CreateOptions {}

/** Reads the boolean option `key` of `options` (undefined options or key: `fallback`). */
function readBoolOption(where: string, options: unknown, key: string, fallback: boolean): boolean {
  if (options === undefined) return fallback;
  if (options === null || typeof options !== "object") throw typeError(where, "options", "an object", options);
  let value: unknown;
  try {
    value = (options as Record<string, unknown>)[key];
  } catch (e) {
    throw new TypeError(`${where}: options.${key} could not be read (${(e as Error)?.message})`, { cause: e });
  }
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw typeError(where, `options.${key}`, "a boolean", value);
  return value;
}

function checkOpenOptions(where: string, options: unknown): boolean {
  return readBoolOption(where, options, "ownerOnly", true);
}

function checkOwner(where: string, p: Parsed, rc: number, ownerOnly: boolean): void {
  const label = p.kind === "file" ? `file ${JSON.stringify(p.name)}` : `segment ${JSON.stringify(p.name)}`;
  if (rc < 0) throw osError(where, "checking", p, rc);
  if (rc === 3) throw new SharedMemoryError(`${where}: ${label} is not a regular file`, "EINVAL");
  if (rc === 0 || !ownerOnly) return;
  const why = rc === 1 ? "is owned by another user" : "can be read or written by other users (its mode is not 0600)";
  throw new SharedMemoryError(
    `${where}: ${label} ${why}; pass { ownerOnly: false } to SharedMemory.open to map it anyway`,
    "EPERM",
  );
}

/** A reservation result: file systems that cannot reserve (EOPNOTSUPP) are used as they are. */
function reserved(rc: number): number {
  const code = rc < 0 ? errnoName(-rc, backend().os) : "";
  return code === "EOPNOTSUPP" || code === "ENOTSUP" || code === "ENOSYS" ? 0 : rc;
}

/** "device:inode" of what `fd` refers to ("" if unknown). */
function fdIdentity(fd: number): string {
  const out = new Uint8Array(new SharedArrayBuffer(16));
  if (shmSymbols().sa_shm_fd_identity(fd, backend().pointer(out)) !== 0) return "";
  const v = new DataView(out.buffer);
  return `${v.getBigUint64(0, true)}:${v.getBigUint64(8, true)}`;
}

const OWNER = Symbol("shared-atomic owner");
/**
 * How long an opener waits for a segment's creator to size it (ms). A creator
 * sizes the object right after creating it, in one call that also reserves
 * its memory, so an opener that finds it empty is between those two calls:
 * it waits, instead of failing. Still empty after this long means a creator
 * that died in between.
 */
const SIZE_WAIT_MS = 2000;
const nap = new Int32Array(new SharedArrayBuffer(4));
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
    if (endsLikeIdentity(path)) {
      throw rangeError(where, "path", 'a path that does not end like a handle\'s identity ("?id=1.2")', path);
    }
    return { kind: "file", name: path };
  }
  if (typeof name !== "string") throw typeError(where, "name", 'a string like "/counters", or { path }', name);
  const bare = name.startsWith("/") ? name.slice(1) : name;
  const limit = nameLimit();
  if (bare === "" || bare === "." || bare === ".." || bare.includes("/") || bare.includes("\0")) {
    throw rangeError(
      where,
      "name",
      `a non-empty name other than "." and "..", with no "/" after an optional leading one and no NUL, ` +
        `at most ${limit} bytes`,
      name,
    );
  }
  if (backend().os === "windows" && bare.includes("\\")) {
    // "Local\\<name>" is an object name: a backslash would name another directory of the object namespace
    throw rangeError(where, "name", 'a name without "\\" on Windows', name);
  }
  const bytes = new TextEncoder().encode(bare).length;
  if (bytes > limit) {
    throw rangeError(where, "name", `at most ${limit} bytes on ${backend().os} (this one has ${bytes})`, name);
  }
  if (endsLikeIdentity(bare)) {
    throw rangeError(where, "name", 'a name that does not end like a handle\'s identity ("?id=1.2")', name);
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
  // Windows: a named segment (a named file mapping) exists exactly while some process has it open
  const windowsName = p.kind === "shm" && backend().os === "windows";
  if (code === "EEXIST" && windowsName) {
    return new SharedMemoryExistsError(
      `${where}: ${label} already exists (open it with SharedMemory.open; on Windows the name is free again ` +
        "once no process has the segment open)",
      code,
    );
  }
  if (code === "ENOENT" && windowsName) {
    return new SharedMemoryNotFoundError(
      `${where}: ${label} does not exist (on Windows a named segment exists only while some process has it open)`,
      code,
    );
  }
  if (code === "EEXIST") {
    // often left by an earlier run that was killed before it unlinked the name: say how to remove it
    const remove = p.kind === "file"
      ? `SharedMemory.unlink({ path: ${JSON.stringify(p.name)} })`
      : `SharedMemory.unlink(${JSON.stringify(p.name)})${
        backend().os === "linux" ? ` or rm /dev/shm${p.name}, or \`bunx shared-atomic rm ${p.name}\`` : ""
      }`;
    return new SharedMemoryExistsError(
      `${where}: ${label} already exists (open it with SharedMemory.open, or take either with ` +
        `SharedMemory.openOrCreate; or remove it first: ${remove})`,
      code,
    );
  }
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

/** EEXIST's errno value (17 on Linux and macOS), for the message of a create that finds the name taken. */
const EEXIST = 17;

/**
 * The size of the object `fd` refers to, waiting up to SIZE_WAIT_MS while it
 * is 0 (its creator between creating and sizing it).
 */
function sizedSize(where: string, p: Parsed, fd: number): number {
  const s = shmSymbols();
  const deadline = Date.now() + SIZE_WAIT_MS;
  for (let polls = 0;; polls++) {
    const size = s.sa_shm_fd_size(fd);
    if (size < 0) throw osError(where, "sizing", p, size);
    if (size > 0) return size;
    if (Date.now() >= deadline) {
      const label = p.kind === "file" ? `file ${JSON.stringify(p.name)}` : `segment ${JSON.stringify(p.name)}`;
      throw new SharedMemoryError(
        `${where}: ${label} is still empty after ${SIZE_WAIT_MS} ms: its creator did not size it (it may have ` +
          `died between creating and sizing it; remove it with SharedMemory.unlink(${
            JSON.stringify(p.kind === "file" ? { path: p.name } : p.name)
          }))`,
        "EAGAIN",
      );
    }
    if (polls >= 16) Atomics.wait(nap, 0, 0, 1); // a few immediate retries first: the creator is one call away
  }
}

/** Removes `p`'s name if it still refers to the object with `identity` (best effort, never throws). */
function unlinkIfSame(p: Parsed, identity: string): void {
  const s = shmSymbols();
  const cname = cString(p.name);
  const file = p.kind === "file" ? 1 : 0;
  const fd = s.sa_shm_open_fd(cname, 0, file);
  if (fd < 0) return;
  const same = identity === "" || fdIdentity(fd) === identity;
  s.sa_shm_close_fd(fd);
  if (same) s.sa_shm_remove(cname, file);
}

const cache = new Map<string, WeakRef<SharedMemory>>();
const cacheKey = (p: Parsed): string => `${p.kind}:${p.name}`;

/**
 * A mapping's lifetime, shared by its SharedMemory and the finalizer. The
 * range is released (munmap) only when nothing can reach it: the
 * SharedMemory is collected (every atomic, primitive, pending wait and bound
 * method holds it) and no ArrayBuffer over it was ever handed out. An
 * ArrayBuffer (`bytes`) can be transferred away from anything that would
 * keep the segment alive, so once one exists the range is never unmapped:
 * it is retired instead, i.e. replaced in place by private zero pages that
 * belong to nobody (address space stays reserved; memory is freed).
 */
interface Mapping {
  readonly base: Pointer;
  readonly length: number;
  /** An ArrayBuffer over the range was handed out. */
  exposed: boolean;
  /** The range holds inert private memory now, not the segment. */
  retired: boolean;
}

function retire(m: Mapping): void {
  if (m.retired) return;
  // MAP_FIXED replaces the mapping atomically: there is never a moment when the range is unmapped
  // (where another mapping could land) for a stale pointer to reach.
  if (shmSymbols().sa_shm_retire(m.base, m.length) === 0) m.retired = true;
}

const finalizer = new FinalizationRegistry<Mapping>((m) => {
  if (!m.exposed) shmSymbols().sa_shm_unmap(m.base, m.length);
  else retire(m);
});

/** Runs at the start of every `close()`, before the memory is retired (robust locks abandon what they hold). */
const closeHooks: ((seg: SharedMemory) => void)[] = [];

/** @internal Registers a hook that every `SharedMemory.close()` runs first (the segment is already marked closed). */
export function onSegmentClose(hook: (seg: SharedMemory) => void): void {
  closeHooks.push(hook);
}

/** @internal An asynchronous wait in progress on a segment's word. */
interface PendingWait {
  readonly ptr: Pointer;
  /** Bun's waiter Worker watches this word and gives up when it is set. */
  readonly cancel?: Int32Array;
}

/**
 * @internal Throws SharedMemoryClosedError if `memory` is a SharedMemory that
 * was closed: for loops that call user code (`update`'s fn) between native
 * calls through a pointer computed before.
 */
export function checkOpen(memory: unknown, where: string): void {
  if (isSharedMemory(memory) && memory.closed) {
    throw new SharedMemoryClosedError(`${where}: the SharedMemory ${JSON.stringify(memory.name)} was closed meanwhile`);
  }
}

/** Whether `v` really is a SharedMemory of this package (a brand check: a look-alike object is not). */
export function isSharedMemory(v: unknown): v is SharedMemory {
  return SharedMemory.isSegment(v);
}

/**
 * A named shared-memory segment mapped into this process. Create it in one
 * process, open it by name in others; atomics over it are shared by all.
 *
 * @example
 * ```ts
 * import { AtomicU64, SharedMemory } from "./mod.ts";
 * const name = `/counters-${Date.now()}`; // names are system-wide: pick one no one else uses
 * using seg = SharedMemory.create(name, 4096);
 * const hits = new AtomicU64(seg, 0);
 * hits.fetchAdd(1);
 * // another process: new AtomicU64(SharedMemory.open(name), 0)
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
  #mapping: Mapping;
  #bytes: Uint8Array | undefined;
  #tracked: WeakRef<object>[] | undefined = [];
  #closedProtos = new WeakMap<object, object>();
  #waits = new Set<PendingWait>();
  #identity: string;
  #created: boolean;

  private constructor(p: Parsed, base: Pointer, byteLength: number, identity: string, created: boolean) {
    this.#created = created;
    this.name = p.name;
    this.kind = p.kind;
    this.byteLength = byteLength;
    this.#base = base;
    this.#identity = identity;
    this.#mapping = { base, length: byteLength, exposed: false, retired: false };
    finalizer.register(this, this.#mapping, this);
  }

  /** @internal Whether `v` is a SharedMemory made by this class (cannot be faked by prototypes or proxies). */
  static isSegment(v: unknown): v is SharedMemory {
    return v !== null && typeof v === "object" && #mapping in v;
  }

  /**
   * Creates a new segment of `byteLength` zeroed bytes, owner-only (0600),
   * failing with `SharedMemoryExistsError` if the name exists. With
   * `{ unlinkOnExit: true }` the name is removed when the process ends
   * (best effort, see {@linkcode CreateOptions}).
   *
   * @example
   * ```ts
   * import { SharedMemory } from "./mod.ts";
   * const seg = SharedMemory.create(`/jobs-${Date.now()}`, 1024); // or SharedMemory.create({ path: "/var/tmp/jobs.bin" }, 1024)
   * seg.close();
   * seg.unlink();
   * ```
   */
  static create(name: SegmentName, byteLength: number, options?: CreateOptions): SharedMemory {
    const where = "SharedMemory.create";
    const p = parseName(where, name);
    const size = checkSize(where, byteLength, `an integer in [1, 2^53-1]`);
    const unlinkOnExit = readBoolOption(where, options, "unlinkOnExit", false);
    const seg = SharedMemory.#tryCreate(where, p, size);
    if (seg === undefined) throw osError(where, "creating", p, -EEXIST);
    if (unlinkOnExit) seg.#unlinkAtExit();
    return seg;
  }

  /**
   * Opens the segment `name`, or creates it (`byteLength` zeroed bytes, 0600)
   * if it does not exist, without a race: of any number of processes calling
   * this at once, exactly one creates it and every other maps the same
   * segment, sized (an opener that finds it not yet sized waits for its
   * creator). `created` tells which one this process is, e.g. to initialise
   * it. An existing segment smaller than `byteLength` is a RangeError; a
   * larger one is mapped to `byteLength` bytes.
   *
   * @example
   * ```ts
   * import { AtomicU64, SharedMemory } from "./mod.ts";
   * const name = `/shared-${Date.now()}`;
   * using seg = SharedMemory.openOrCreate(name, 64, { unlinkOnExit: true }); // every process runs the same line
   * seg.created; // true (the first one)
   * new AtomicU64(seg, 0).fetchAdd(1);
   * using again = SharedMemory.openOrCreate(name, 64);
   * again.created; // false
   * ```
   */
  static openOrCreate(name: SegmentName, byteLength: number, options?: OpenOrCreateOptions): SharedMemory {
    const where = "SharedMemory.openOrCreate";
    const p = parseName(where, name);
    const size = checkSize(where, byteLength, `an integer in [1, 2^53-1]`);
    const ownerOnly = checkOpenOptions(where, options);
    const unlinkOnExit = readBoolOption(where, options, "unlinkOnExit", false);
    // Create, else open; an open that finds no name (removed between the two) creates again.
    for (let attempt = 0;; attempt++) {
      let seg = SharedMemory.#tryCreate(where, p, size);
      if (seg === undefined) {
        try {
          seg = SharedMemory.#openParsed(where, p, size, ownerOnly);
        } catch (e) {
          if (e instanceof SharedMemoryNotFoundError && attempt < 100) continue;
          throw e;
        }
      }
      if (unlinkOnExit) seg.#unlinkAtExit();
      return seg;
    }
  }

  /** A new segment, or undefined if the name exists; throws any other failure. */
  static #tryCreate(where: string, p: Parsed, size: number): SharedMemory | undefined {
    const s = shmSymbols();
    const cname = cString(p.name);
    const file = p.kind === "file" ? 1 : 0;
    const fd = s.sa_shm_open_fd(cname, 1, file);
    if (fd < 0 && errnoName(-fd, backend().os) === "EEXIST") return undefined;
    if (fd < 0) throw osError(where, "creating", p, fd);
    // Reserve the backing store first, so a segment too large for its filesystem (a small /dev/shm) fails
    // here instead of killing the process with SIGBUS when an atomic first touches a page past the end.
    // On Linux this one call also sets the size, once every page is reserved: an opener never sees a
    // sized segment that is not backed. Where it cannot reserve, ftruncate sizes it.
    let rc = reserved(s.sa_shm_fd_reserve(fd, size));
    if (rc === 0 && s.sa_shm_fd_size(fd) !== size) rc = s.sa_shm_fd_truncate(fd, size);
    const identity = rc === 0 ? fdIdentity(fd) : "";
    const base = rc === 0 ? s.sa_shm_map(fd, size) : null;
    if (rc === 0 && backend().isNull(base)) rc = -s.sa_shm_map_error();
    s.sa_shm_close_fd(fd);
    if (rc !== 0) {
      s.sa_shm_remove(cname, file);
      const e = osError(where, `sizing to ${size} bytes`, p, rc);
      if (e.code === "EFBIG" || e.code === "ENOSPC" || e.code === "ENOMEM" || e.code === "EINVAL") {
        throw new RangeError(
          `${where}: byteLength ${size} is more than ${
            p.kind === "file" ? "the file system" : "the shared-memory file system (/dev/shm)"
          } can back (${e.code})`,
        );
      }
      throw e;
    }
    const seg = new SharedMemory(p, base, size, identity, true);
    cache.set(cacheKey(p), new WeakRef(seg));
    return seg;
  }

  /**
   * Opens an existing segment; maps all of it, or its first `byteLength`
   * bytes (a RangeError if the segment is smaller). A segment its creator
   * has not sized yet is waited for (up to 2 s; then a `SharedMemoryError`
   * with code `"EAGAIN"`).
   *
   * @example
   * ```ts
   * import { SharedMemory } from "./mod.ts";
   * const name = `/opened-${Date.now()}`;
   * SharedMemory.create(name, 64).close();
   * const seg = SharedMemory.open(name);
   * seg.byteLength; // 64
   * seg.close();
   * SharedMemory.unlink(name);
   * ```
   */
  static open(name: SegmentName, byteLength?: number, options?: OpenOptions): SharedMemory {
    const where = "SharedMemory.open";
    const p = parseName(where, name);
    if (byteLength !== undefined) checkSize(where, byteLength, `an integer in [1, 2^53-1]`);
    return SharedMemory.#openParsed(where, p, byteLength, checkOpenOptions(where, options));
  }

  static #openParsed(where: string, p: Parsed, byteLength: number | undefined, ownerOnly: boolean): SharedMemory {
    const s = shmSymbols();
    const fd = s.sa_shm_open_fd(cString(p.name), 0, p.kind === "file" ? 1 : 0);
    if (fd < 0) throw osError(where, "opening", p, fd);
    try {
      checkOwner(where, p, s.sa_shm_fd_check(fd), ownerOnly);
      const size = sizedSize(where, p, fd);
      if (byteLength !== undefined && byteLength > size) {
        throw rangeError(where, "byteLength", `at most the segment's size, ${size}`, byteLength);
      }
      const length = byteLength ?? size;
      const identity = fdIdentity(fd);
      const base = s.sa_shm_map(fd, length);
      if (backend().isNull(base)) throw osError(where, "mapping", p, -s.sa_shm_map_error());
      const seg = new SharedMemory(p, base, length, identity, false);
      cache.set(cacheKey(p), new WeakRef(seg));
      return seg;
    } finally {
      s.sa_shm_close_fd(fd);
    }
  }

  /** Removes the name at exit if it still refers to this segment. */
  #unlinkAtExit(): void {
    const p: Parsed = { kind: this.kind, name: this.name };
    const identity = this.#identity;
    removeAtExit(this.#mapping, () => unlinkIfSame(p, identity));
  }

  /**
   * Removes a segment's name (processes that have it mapped keep using it).
   * On Windows a named segment has no name to remove (it exists while some
   * process has it open), so this removes files only there.
   *
   * @example
   * ```ts
   * import { SharedMemory } from "./mod.ts";
   * const name = `/gone-${Date.now()}`;
   * SharedMemory.create(name, 8).close();
   * SharedMemory.unlink(name);
   * ```
   */
  static unlink(name: SegmentName): void {
    const where = "SharedMemory.unlink";
    const p = parseName(where, name);
    const rc = shmSymbols().sa_shm_remove(cString(p.name), p.kind === "file" ? 1 : 0);
    const open = cache.get(cacheKey(p))?.deref();
    if (open) cancelAtExit(open.#mapping);
    if (rc !== 0) throw osError(where, "removing", p, rc);
  }

  /**
   * Opens the segment a handle string names (from `handle()`), reusing this
   * process's open mapping of it if there is one.
   *
   * @example
   * ```ts
   * import { SharedMemory } from "./mod.ts";
   * const seg = SharedMemory.create(`/handled-${Date.now()}`, 64);
   * const same = SharedMemory.fromHandle(seg.handle()); // e.g. in a child process
   * seg.close();
   * seg.unlink();
   * ```
   */
  static fromHandle(handle: string): SharedMemory {
    const where = "SharedMemory.fromHandle";
    if (typeof handle !== "string") throw typeError(where, "handle", 'a string like "sa1:shm:/name"', handle);
    const h = parseSegmentHandle(handle);
    if (!h) throw rangeError(where, "handle", 'a string like "sa1:shm:/name" or "sa1:file:/path"', handle);
    return SharedMemory.cached(h.kind === "file" ? { path: h.name } : h.name, h.identity);
  }

  /**
   * An open mapping of `name` in this process, shared by every `fromHandle`.
   * With `identity` ("device:inode", from a handle), the segment must be the
   * very object the handle was made from: a name removed and re-created
   * since is refused, never silently mapped.
   */
  static cached(name: SegmentName, identity?: string): SharedMemory {
    const where = "SharedMemory.fromHandle";
    const key = cacheKey(parseName(where, name));
    const hit = cache.get(key)?.deref();
    if (hit && !hit.closed && (identity === undefined || hit.#identity === identity)) return hit;
    const seg = SharedMemory.open(name);
    if (identity !== undefined && seg.#identity !== "" && seg.#identity !== identity) {
      seg.close();
      throw new SharedMemoryNotFoundError(
        `${where}: ${JSON.stringify(seg.name)} is not the segment this handle was made for ` +
          "(it was removed and created again since)",
        "ENOENT",
      );
    }
    cache.set(key, new WeakRef(seg));
    return seg;
  }

  /**
   * A short string naming this segment, for argv or an environment variable:
   * `"sa1:shm:/name?id=<device>.<inode>"`. The identity suffix makes
   * `fromHandle` refuse a segment of the same name created after this one.
   */
  handle(): string {
    return formatSegmentHandle(this.kind, this.name, this.#identity);
  }

  /** Whether this `SharedMemory` created the segment (`create`, or the `openOrCreate` that made it). */
  get created(): boolean {
    return this.#created;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#tracked === undefined;
  }

  /** A `Uint8Array` over the whole segment, for plain (non-atomic) reads and writes. */
  get bytes(): Uint8Array {
    this.#check("bytes");
    if (this.#bytes === undefined) {
      this.#mapping.exposed = true;
      const ab = backend().arrayBuffer(this.#base, this.byteLength);
      // the buffer keeps the mapping alive as long as anyone holds it
      Object.defineProperty(ab, OWNER, { value: this });
      this.#bytes = new Uint8Array(ab);
    }
    return this.#bytes;
  }

  /**
   * Closes the segment in this process. Every later use of it, of `bytes`,
   * or of an atomic or lock in it throws `SharedMemoryClosedError`; pending
   * asynchronous waits on it reject with it; locks this thread holds in it
   * are abandoned as if it had died (the next owner is told). Idempotent,
   * and safe at any moment, even from inside a callback of an operation on
   * the segment: the memory is never unmapped while anything can still
   * reach it (see "Memory lifetime" in the README).
   */
  close(): void {
    const tracked = this.#tracked;
    if (tracked === undefined) return;
    this.#tracked = undefined;
    for (const hook of closeHooks) {
      try {
        hook(this);
      } catch { /* a hook never stops the close */ }
    }
    for (const ref of tracked) {
      const target = ref.deref();
      const closed = target && this.#closedProtos.get(target);
      if (closed) Object.setPrototypeOf(target, closed);
    }
    try {
      // detach our own view so it throws on use (a user may have transferred it already)
      (this.#bytes?.buffer as (ArrayBuffer & { transfer?(n: number): ArrayBuffer }) | undefined)?.transfer?.(0);
    } catch { /* detached or transferred by the user: retire() covers it */ }
    this.#bytes = undefined;
    for (const w of this.#waits) {
      if (w.cancel) Atomics.store(w.cancel, 0, 1);
      wake(w.ptr, Infinity);
    }
    // Pending asynchronous waits run on other threads with pointers into the mapping: the memory is
    // retired when the last of them ends (they notice the close within one 20 ms slice).
    if (this.#waits.size === 0) retire(this.#mapping);
  }

  /**
   * @internal An asynchronous wait on `ptr` (in this segment) begins; call
   * the returned function when it ends. Throws if the segment is closed.
   */
  [SEGMENT_WAIT](where: string, ptr: Pointer, cancel?: Int32Array): () => void {
    this.#check(where);
    const w: PendingWait = { ptr, cancel };
    this.#waits.add(w);
    return () => {
      this.#waits.delete(w);
      if (this.#tracked === undefined && this.#waits.size === 0) retire(this.#mapping);
    };
  }

  /** @internal The identity ("device:inode") of the object this maps, to tell a re-created name apart. */
  get [SEGMENT_IDENTITY](): string {
    return this.#identity;
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
