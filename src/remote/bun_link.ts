/**
 * The link through Bun's built-in RedisClient (see ./link.ts): no offline
 * queue (a command while the connection is down rejects at once), automatic
 * reconnection, and reply deadlines of our own (the client has none: a
 * frozen server would leave a command pending forever). The client's
 * commands cannot be failed one by one, and a wrapping promise per command
 * costs 2–5 µs in a loopback round trip of 30–50 µs (measured with
 * bench/valkey_layers.ts), so the deadline is a stall watchdog
 * (./deadlines.ts `Stall`): when no reply has come for the timeout while
 * commands are in flight, the client is closed, which fails every command
 * in flight ("timed out": they may or may not have run), and a new one
 * connects in its place (retrying every half second until it does).
 *
 * @module
 */

import type { Arg, Link } from "./link.ts";
import { Stall } from "./deadlines.ts";
import { unref } from "./poll.ts";

/** The part of Bun's RedisClient used here. */
interface BunRedisClient {
  readonly connected: boolean;
  connect(): Promise<void>;
  close(): void;
  send(command: string, args: Arg[]): Promise<unknown>;
}
type BunRedisClass = new (url: string, options: Record<string, unknown>) => BunRedisClient;

/** Bun's RedisClient class, or undefined outside Bun. */
export const BunRedis: BunRedisClass | undefined = (globalThis as { Bun?: { RedisClient?: BunRedisClass } }).Bun
  ?.RedisClient;

/** One client of a link, with its reply handlers (made once per client, not per command). */
interface Client {
  readonly redis: BunRedisClient;
  /** Closed by the watchdog: the errors of its commands in flight are timeouts. */
  expired: boolean;
  readonly ok: () => void;
  readonly failed: (e: unknown) => void;
}

/** How long a replacement client waits before it tries to connect again, ms. */
const RETRY_MS = 500;

/** A connection through Bun's RedisClient. */
export class BunLink implements Link {
  #client: Client;
  #closed = false;
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #stall: Stall;
  readonly exactIntegers = false;
  readonly binary = false;

  constructor(url: string, timeoutMs: number) {
    this.#url = url;
    this.#timeoutMs = timeoutMs;
    this.#stall = new Stall(timeoutMs, () => this.#expire());
    this.#client = this.#newClient();
  }

  send(command: string, args: Arg[]): Promise<unknown> {
    const c = this.#client;
    const reply = c.redis.send(command, args);
    this.#stall.sent();
    reply.then(c.ok, c.failed); // registered before the caller's handlers: a timeout is marked before they see it
    return reply;
  }

  sendBytes(): Promise<unknown> {
    return Promise.reject(new Error("this link has no binary replies (internal: use an ioredis link)"));
  }

  get ready(): boolean {
    return this.#client.redis.connected;
  }

  /** Connects; the client retries a refused connection on its own, so the deadline is ours. */
  async connect(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no connection within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      await Promise.race([this.#client.redis.connect(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.#closed = true;
    this.#stall.stop();
    this.#client.redis.close();
  }

  #newClient(): Client {
    const redis = new BunRedis!(this.#url, {
      connectionTimeout: this.#timeoutMs,
      enableOfflineQueue: false,
      autoReconnect: true,
      maxRetries: 0xffffffff, // reconnect for as long as the store is open
    });
    const stall = this.#stall;
    const c: Client = {
      redis,
      expired: false,
      ok: () => stall.settled(),
      failed: (e: unknown) => {
        stall.settled();
        if (c.expired && e instanceof Error) Object.assign(e, { timedOut: true });
      },
    };
    return c;
  }

  /** No reply for the timeout: fails what is in flight (closing the client) and connects a new one. */
  #expire(): void {
    const old = this.#client;
    old.expired = true;
    this.#replace();
    old.redis.close(); // its commands in flight reject, marked as timed out
  }

  /** A new client in place of the current one, connecting in the background until it does or the link closes. */
  #replace(): void {
    const c = this.#newClient();
    this.#client = c;
    c.redis.connect().catch(() => {
      // a failed first connection is not retried by the client itself
      const t = setTimeout(() => {
        if (this.#closed || this.#client !== c || c.redis.connected) return;
        c.redis.close();
        this.#replace();
      }, RETRY_MS);
      unref(t);
    });
  }
}
