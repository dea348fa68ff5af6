/**
 * The link through Bun's built-in RedisClient (see ./link.ts): no offline
 * queue (a command while the connection is down rejects at once), automatic
 * reconnection, and reply deadlines of our own (./deadlines.ts; the client
 * has none: a frozen server would leave a command pending forever).
 *
 * @module
 */

import type { Arg, Link } from "./link.ts";
import { Deadlines, Rejectable } from "./deadlines.ts";

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

/** A connection through Bun's RedisClient. */
export class BunLink implements Link {
  readonly #client: BunRedisClient;
  readonly #timeoutMs: number;
  readonly #deadlines: Deadlines;
  readonly exactIntegers = false;
  readonly binary = false;

  constructor(url: string, timeoutMs: number) {
    this.#client = new BunRedis!(url, {
      connectionTimeout: timeoutMs,
      enableOfflineQueue: false,
      autoReconnect: true,
      maxRetries: 0xffffffff, // reconnect for as long as the store is open
    });
    this.#timeoutMs = timeoutMs;
    this.#deadlines = new Deadlines(timeoutMs);
  }

  send(command: string, args: Arg[]): Promise<unknown> {
    const reply = new Rejectable(this.#client.send(command, args));
    this.#deadlines.watch(reply);
    return reply.promise;
  }

  sendBytes(): Promise<unknown> {
    return Promise.reject(new Error("this link has no binary replies (internal: use an ioredis link)"));
  }

  get ready(): boolean {
    return this.#client.connected;
  }

  /** Connects; the client retries a refused connection on its own, so the deadline is ours. */
  async connect(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no connection within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      await Promise.race([this.#client.connect(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.#deadlines.stop();
    this.#client.close();
  }
}
