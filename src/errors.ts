/**
 * Error messages that name the method, the parameter, what is allowed and
 * what was given.
 *
 * @module
 */

/** What the last `describe` of an object caught, for the error's `cause`. */
let caught: { error: unknown } | undefined;

/** The constructor name of an object, read defensively (a Proxy's traps may throw). */
function objectName(v: object): string {
  try {
    const n = (v as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof n === "string" && n !== "" ? n : "object";
  } catch (error) {
    caught = { error };
    return "object that cannot be inspected (reading it threw; a revoked Proxy?)";
  }
}

/** The options of an error whose value `describe` just rendered: what it caught, as the cause. */
function options(): ErrorOptions | undefined {
  const c = caught;
  caught = undefined;
  return c && { cause: c.error };
}

/**
 * A short, readable rendering of any value for an error message. Never
 * throws, whatever `v` is (a Proxy whose traps throw, a revoked Proxy).
 */
export function describe(v: unknown): string {
  switch (typeof v) {
    case "bigint":
      return `${v}n`;
    case "string":
      return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "undefined":
    case "boolean":
    case "symbol":
      return String(v);
    case "function":
      return "a function";
    default: {
      if (v === null) return "null";
      const n = objectName(v as object);
      return `${/^[AEIOaeiou]/.test(n) ? "an" : "a"} ${n}`; // a Uint8Array, an Object
    }
  }
}

/** `TypeError("<where>: <param> must be <allowed>; got <v>")`. */
export function typeError(where: string, param: string, allowed: string, v: unknown): TypeError {
  caught = undefined;
  const got = describe(v);
  return new TypeError(`${where}: ${param} must be ${allowed}; got ${got}`, options());
}

/** `RangeError("<where>: <param> must be <allowed>; got <v>")`. */
export function rangeError(where: string, param: string, allowed: string, v: unknown): RangeError {
  caught = undefined;
  const got = describe(v);
  return new RangeError(`${where}: ${param} must be ${allowed}; got ${got}`, options());
}

/**
 * What to throw when reading argument `param` of `where` threw `e` (a
 * getter, a Proxy trap, a revoked Proxy): `e` itself if it already names
 * `where` or "shared-atomic" (one of this library's own errors), else a TypeError
 * "`where`: `param`: reading it threw …" that keeps `e` as its `cause`.
 *
 * @example
 * ```ts
 * import { argumentError } from "./src/errors.ts";
 * const e = argumentError("AtomicI32.from", "descriptor", new Error("boom"));
 * e.message; // "AtomicI32.from: descriptor: reading it threw Error: boom"
 * ```
 */
export function argumentError(where: string, param: string, e: unknown): Error {
  let what: string;
  try {
    if (e instanceof Error) {
      // this library's own errors name their method, or the library
      if (e.message.startsWith(`${where}:`) || e.message.startsWith("shared-atomic:")) return e;
      what = `${e.name}: ${e.message}`;
    } else what = describe(e);
  } catch {
    what = "an error that cannot be inspected";
  }
  return new TypeError(`${where}: ${param}: reading it threw ${what}`, { cause: e });
}

/**
 * Sending on a closed `Channel`, or receiving from one that is closed and
 * has no messages left (its async iterator ends instead).
 *
 * @example
 * ```ts
 * import { Channel, ChannelClosedError } from "./mod.ts";
 * const ch = Channel.create({ capacity: 4, messageSize: 16 });
 * ch.send("last");
 * ch.close();
 * ch.recvText(); // "last": what was sent before close() is still received
 * try {
 *   ch.recv();
 * } catch (e) {
 *   console.assert(e instanceof ChannelClosedError);
 * }
 * ```
 */
export class ChannelClosedError extends Error {
  /**
   * A closed-channel report.
   *
   * @example
   * ```ts
   * import { ChannelClosedError } from "./mod.ts";
   * new ChannelClosedError("Channel.send: the channel is closed").name; // "ChannelClosedError"
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "ChannelClosedError";
  }
}

/**
 * Thrown by `SharedMap.set`, `setIfAbsent`, `fetchAdd` and `addFetch` when a
 * new key does not fit: the map holds `capacity` entries (after expired ones
 * were removed). Nothing changed.
 *
 * @example
 * ```ts
 * import { MapFullError, SharedMap } from "./mod.ts";
 * const m = SharedMap.create({ capacity: 1, keySize: 8, valueSize: 8 });
 * m.set("a", "1");
 * try {
 *   m.set("b", "2");
 * } catch (e) {
 *   if (!(e instanceof MapFullError)) throw e;
 *   e.capacity; // 1
 * }
 * ```
 */
export class MapFullError extends Error {
  /** The map's capacity, in entries. */
  readonly capacity: number;
  /**
   * A full-map report for `where` (the method).
   *
   * @example
   * ```ts
   * import { MapFullError } from "./mod.ts";
   * new MapFullError("SharedMap.set", 100).name; // "MapFullError"
   * ```
   */
  constructor(where: string, capacity: number) {
    super(
      `${where}: the map is full (capacity ${capacity} entries); delete entries, give them a ttlMs, or make a ` +
        "larger map",
    );
    this.name = "MapFullError";
    this.capacity = capacity;
  }
}
