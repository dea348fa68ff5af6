/**
 * A link: one client connection to the server, as the Valkey objects use it.
 * Two kinds: ioredis (Bun and Deno; binary-safe replies, exact integers as
 * strings) and, in Bun, Bun's built-in RedisClient (1.7–2.6× the round
 * trips of ioredis in Bun, measured in bench/valkey.bench.ts; its replies
 * are text, and integers come back as numbers, so it carries the objects
 * whose replies are text: the 64-bit integers, the locks and the semaphore).
 * Neither is hand-written protocol code.
 *
 * @module
 */

import { Redis } from "ioredis";
import { Deadlines } from "./deadlines.ts";

/** A command argument. */
export type Arg = string | number | Uint8Array;

/** What a failed command's error becomes (the named error the caller sees). */
export type OnError = (e: unknown) => never;

/** One client connection. */
export interface Link {
  /** Runs a command: bulk replies as strings; integers as strings or (Bun) numbers; errors through `fail`. */
  send(command: string, args: Arg[], fail: OnError): Promise<unknown>;
  /** Runs a command with bulk replies as bytes (ioredis only). */
  sendBytes(command: string, args: Arg[], fail: OnError): Promise<unknown>;
  /** Whether integer replies are exact beyond 2^53 (strings), else numbers. */
  readonly exactIntegers: boolean;
  /** Whether `sendBytes` works. */
  readonly binary: boolean;
  /** Whether the connection is up now. */
  readonly ready: boolean;
  /** Connects (rejects if the server cannot be reached within the timeout). */
  connect(): Promise<void>;
  /** Closes it; later commands reject. */
  close(): void;
}

/** An ioredis connection: no offline queue, no re-sending after a drop, reconnecting in the background. */
export class IoredisLink implements Link {
  readonly #client: Redis;
  readonly #deadlines: Deadlines;
  readonly exactIntegers = true;
  readonly binary = true;

  constructor(url: string, timeoutMs: number) {
    this.#client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: timeoutMs, // reply deadlines: ./deadlines.ts (ioredis's own costs a timer per command)
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      stringNumbers: true,
      // reconnect forever, at most every half second, until closed
      retryStrategy: (times: number) => Math.min(25 * times, 500),
    });
    // errors reach the callers of the commands; the client's own event would only be printed
    this.#client.on("error", () => {});
    this.#deadlines = new Deadlines(timeoutMs);
  }

  send(command: string, args: Arg[], fail: OnError): Promise<unknown> {
    return this.#deadlines.track(this.#client.call(command, ...args as string[]) as Promise<unknown>, fail);
  }

  sendBytes(command: string, args: Arg[], fail: OnError): Promise<unknown> {
    return this.#deadlines.track(this.#client.callBuffer(command, ...args as string[]) as Promise<unknown>, fail);
  }

  get ready(): boolean {
    return this.#client.status === "ready";
  }

  connect(): Promise<void> {
    return this.#client.connect();
  }

  close(): void {
    this.#deadlines.stop();
    this.#client.disconnect();
  }
}
