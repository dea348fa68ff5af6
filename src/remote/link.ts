/**
 * A link: one client connection to the server, as the Valkey objects use it.
 * Two kinds: ioredis (Bun and Deno; binary-safe replies) and, in Bun, Bun's
 * built-in RedisClient (1.7–2.6× the round trips of ioredis in Bun,
 * measured in bench/valkey.bench.ts; its replies are text, so it carries the
 * objects whose replies are text: the 64-bit integers, the locks and the
 * semaphore). Both give integer replies as numbers (exact up to 2^53; a
 * bigint result comes from a script that returns it as text): ioredis's
 * `stringNumbers` would make them exact strings, but costs about 2 µs a
 * reply (measured with bench/valkey_layers.ts), more than a script costs
 * the rarer bigint path. Neither is hand-written protocol code.
 *
 * @module
 */

import { Command, Redis } from "ioredis";
import { Deadlines } from "./deadlines.ts";

/** A command argument. */
export type Arg = string | number | Uint8Array;

/**
 * One client connection. A command's promise rejects with the client's own
 * error, or with "Command timed out" once its reply is later than the
 * timeout (./deadlines.ts); the caller names it (./connection.ts).
 */
export interface Link {
  /** Runs a command: bulk replies as strings; integers as strings or (Bun) numbers. */
  send(command: string, args: Arg[]): Promise<unknown>;
  /** Runs a command with bulk replies as bytes (ioredis only). */
  sendBytes(command: string, args: Arg[]): Promise<unknown>;
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

const UTF8 = { replyEncoding: "utf8" } as const;
const BYTES = { replyEncoding: null };

/** An ioredis connection: no offline queue, no re-sending after a drop, reconnecting in the background. */
export class IoredisLink implements Link {
  readonly #client: Redis;
  readonly #deadlines: Deadlines;
  readonly exactIntegers = false;
  readonly binary = true;

  constructor(url: string, timeoutMs: number) {
    this.#client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: timeoutMs, // reply deadlines: ./deadlines.ts (ioredis's own costs a timer per command)
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // reconnect forever, at most every half second, until closed
      retryStrategy: (times: number) => Math.min(25 * times, 500),
    });
    // errors reach the callers of the commands; the client's own event would only be printed
    this.#client.on("error", () => {});
    this.#deadlines = new Deadlines(timeoutMs);
  }

  send(command: string, args: Arg[]): Promise<unknown> {
    return this.#send(new Command(command, args as string[], UTF8));
  }

  sendBytes(command: string, args: Arg[]): Promise<unknown> {
    return this.#send(new Command(command, args as string[], BYTES));
  }

  /** What `call`/`callBuffer` do, keeping the command, which the deadlines can fail (no wrapper per command). */
  #send(command: Command): Promise<unknown> {
    const reply = this.#client.sendCommand(command) as Promise<unknown>;
    this.#deadlines.watch(command);
    return reply;
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
