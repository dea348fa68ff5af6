/**
 * A connection of a `ValkeyStore` to its server, through a link
 * (./link.ts: ioredis, or Bun's RedisClient): commands and cached scripts
 * with the store's timeout, server errors turned into the named errors of
 * ./errors.ts, reconnection in the background, and no silent re-sending of
 * a command whose reply was lost (a re-sent INCRBY would count twice).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { type Arg, IoredisLink, type Link } from "./link.ts";
import { BunLink, BunRedis } from "./bun_link.ts";
import { ValkeyConnectionError, ValkeyError, ValkeyTimeoutError, ValkeyWrongTypeError } from "./errors.ts";

/** How a connection is made (the store's options, checked). */
export interface ConnectionSettings {
  /** The server's URL, `redis://`/`valkey://` (TLS: `rediss://`/`valkeys://`). */
  readonly url: string;
  /** Each command's reply deadline, and the connect deadline, in ms. */
  readonly timeoutMs: number;
}

/** A Lua script run by its SHA-1 (EVALSHA), loaded on the first NOSCRIPT (a new or restarted server). */
export class Script {
  /** The SHA-1 of the source, what EVALSHA names. */
  readonly sha: string;
  /** The number of keys as the argument EVALSHA takes (a string: Bun's client sends strings fastest). */
  readonly count: string;
  /** The Lua source. */
  readonly source: string;
  /** How many of the script's arguments are keys. */
  readonly keys: number;
  /** A script of `keys` keys. */
  constructor(source: string, keys: number) {
    this.source = source;
    this.keys = keys;
    this.sha = createHash("sha1").update(source).digest("hex");
    this.count = String(keys);
  }
}

/** Error texts of ioredis that mean the link is down, not that the server refused the command. */
const LINK_DOWN =
  /isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|Reached the max retries|max retries|connect|socket/i;

/** A server's or the client's error, as the named error for `where` (about `key`). */
export function mapError(where: string, key: string, e: unknown, timeoutMs: number): Error {
  if (e instanceof ValkeyError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const name = e instanceof Error ? e.name : "";
  if (message.includes("WRONGTYPE")) return new ValkeyWrongTypeError(where, key, undefined, { cause: e });
  if (/not an integer|not a valid float/.test(message)) {
    return new ValkeyWrongTypeError(where, key, "it holds a value that is not a 64-bit integer", { cause: e });
  }
  if (message.includes("would overflow")) {
    return new RangeError(
      `${where}: the result would leave the signed 64-bit range (Valkey refuses; nothing was changed)`,
      { cause: e },
    );
  }
  if (message === "Command timed out" || (e as { timedOut?: boolean })?.timedOut === true) {
    return new ValkeyTimeoutError(where, timeoutMs, { cause: e });
  }
  if (name === "ReplyError" || (e as { code?: string }).code === "ERR_REDIS_SERVER_ERROR") {
    return new ValkeyError(where, `the server refused the command: ${message}`, { cause: e });
  }
  if (name === "MaxRetriesPerRequestError" || LINK_DOWN.test(message)) {
    return new ValkeyConnectionError(
      where,
      `the server is not reachable (${message}); the store reconnects in the background: retry later`,
      { cause: e },
    );
  }
  return new ValkeyError(where, message, { cause: e });
}

/** A URL as ioredis reads it (valkey:// is redis://), or a TypeError naming `where`. */
export function clientUrl(where: string, url: unknown): string {
  if (typeof url !== "string") {
    throw new TypeError(`${where}: url must be a string like "redis://127.0.0.1:6379"; got ${typeof url}`);
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`${where}: url must be a URL like "redis://127.0.0.1:6379"; got ${JSON.stringify(url)}`);
  }
  const scheme = { "redis:": "redis:", "valkey:": "redis:", "rediss:": "rediss:", "valkeys:": "rediss:" }[u.protocol];
  if (!scheme || u.hostname === "") {
    throw new TypeError(
      `${where}: url must be redis://, valkey://, rediss:// or valkeys:// with a host; got ${JSON.stringify(url)}`,
    );
  }
  return scheme + url.slice(u.protocol.length);
}

/**
 * The connection: one link (./link.ts), opened by `open`. `text` picks
 * Bun's RedisClient where there is one (replies as text, integers as
 * numbers); otherwise, and for binary replies, ioredis.
 */
export class Connection {
  #link: Link;
  #closed = false;
  /** Blocking duplicates (channel receivers), closed with this connection. */
  #blocking = new Set<Connection>();

  /** What this connection was opened with. */
  readonly settings: ConnectionSettings;
  private constructor(link: Link, settings: ConnectionSettings) {
    this.settings = settings;
    this.#link = link;
  }

  /** Connects (within `timeoutMs`), or rejects with a ValkeyConnectionError and leaves nothing running. */
  static async open(where: string, settings: ConnectionSettings, text = false): Promise<Connection> {
    const link = text && BunRedis
      ? new BunLink(settings.url, settings.timeoutMs)
      : new IoredisLink(settings.url, settings.timeoutMs);
    const c = new Connection(link, settings);
    try {
      await link.connect();
    } catch (e) {
      link.close();
      throw new ValkeyConnectionError(
        where,
        `cannot connect to ${redact(settings.url)} (${e instanceof Error ? e.message : String(e)})`,
        { cause: e },
      );
    }
    return c;
  }

  /** Whether bulk replies can come as bytes (`callBytes`). */
  get binary(): boolean {
    return this.#link.binary;
  }

  /** Whether integer replies are exact beyond 2^53. */
  get exactIntegers(): boolean {
    return this.#link.exactIntegers;
  }

  /** A second connection to the same server for blocking commands (one per channel receiver). */
  async blocking(where: string): Promise<Connection> {
    const c = await Connection.open(where, this.settings);
    this.#blocking.add(c);
    return c;
  }

  /** Whether the connection is up now. */
  get ready(): boolean {
    return this.#link.ready;
  }

  /** Whether `close` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs a command; bulk replies as strings, integers as strings or (see `exactIntegers`) numbers. */
  call(where: string, key: string, command: string, ...args: Arg[]): Promise<unknown> {
    return this.request(where, key, command, args);
  }

  /** Runs a command; bulk replies as bytes. */
  callBytes(where: string, key: string, command: string, ...args: Arg[]): Promise<unknown> {
    return this.request(where, key, command, args, undefined, true);
  }

  /**
   * Runs a command and passes its reply through `convert`, in the same step
   * that names a failure (one promise between the client's and the caller's).
   */
  request<T = unknown>(
    where: string,
    key: string,
    command: string,
    args: Arg[],
    convert?: (reply: unknown) => T,
    bytes = false,
  ): Promise<T> {
    if (this.#closed) return this.#closedError(where);
    const reply = bytes ? this.#link.sendBytes(command, args) : this.#link.send(command, args);
    return reply.then(convert, (e) => {
      throw this.#error(where, key, e);
    }) as Promise<T>;
  }

  /** Runs a cached script (EVALSHA; EVAL once if the server does not know it); the reply through `convert`. */
  run<T = unknown>(
    where: string,
    script: Script,
    keys: string[],
    args: Arg[],
    bytes = false,
    convert?: (reply: unknown) => T,
  ): Promise<T> {
    if (this.#closed) return this.#closedError(where);
    const argv = [script.sha, script.count, ...keys, ...args];
    const reply = bytes ? this.#link.sendBytes("EVALSHA", argv) : this.#link.send("EVALSHA", argv);
    return reply.then(convert, (e) => {
      const error = this.#error(where, keys[0], e);
      if (!(error instanceof ValkeyError && /NOSCRIPT/.test(error.message))) throw error;
      const again = [script.source, script.count, ...keys, ...args];
      return this.request(where, keys[0], "EVAL", again, convert, bytes);
    }) as Promise<T>;
  }

  /** Closes the connection (and its blocking duplicates); later calls reject. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const b of this.#blocking) b.close();
    this.#link.close();
  }

  /** The named error for a failed command. */
  #error(where: string, key: string, e: unknown): Error {
    if (this.#closed) {
      return new ValkeyConnectionError(where, "the store was closed while the command ran", { cause: e });
    }
    return mapError(where, key, e, this.settings.timeoutMs);
  }

  #closedError(where: string): Promise<never> {
    return Promise.reject(new ValkeyConnectionError(where, "the store is closed"));
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
