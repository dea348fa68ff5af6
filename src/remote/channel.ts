/**
 * A channel on a Valkey server: a stream with one consumer group. Sending
 * is one script call that refuses a closed channel, waits (by polling)
 * while `capacity` messages are in flight, and XADDs. Receiving reads one
 * new message for this receiver through the group (XREADGROUP on a
 * connection of its own, since it blocks), first taking over any message
 * another receiver took but did not acknowledge within `claimAfterMs`
 * (XAUTOCLAIM: that receiver died). A message is acknowledged and deleted
 * (XACK + XDEL, one script) when its receiver asks for the next one, calls
 * `ack()`, or leaves its `for await` loop.
 *
 * Delivery is therefore **at least once**: every message sent is received;
 * a message whose receiver died (or stalled past `claimAfterMs`) before
 * acknowledging it is delivered again, to another receiver.
 *
 * @module
 */

import { randomUUID } from "node:crypto";
import type { AsyncChannel, AsyncWaitOptions, Bytes } from "./interfaces.ts";
import { type Connection, Script } from "./connection.ts";
import { ChannelClosedError } from "../errors.ts";
import { ValkeyError } from "./errors.ts";
import { poll, waitOptions } from "./poll.ts";
import type { Wait } from "../sync/wait_args.ts";
import { bytesArg, ownBytes } from "./values.ts";

const GROUP = "shared-atomic";
/** The longest a blocking read waits before it looks at the closed flag again, ms. */
const SLICE_MS = 200;

/** KEYS[1] stream, KEYS[2] closed flag; ARGV[1] capacity, ARGV[2] data: 1 sent, 0 full, -1 closed. */
const SEND = new Script(
  `if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('XADD', KEYS[1], '*', 'd', ARGV[2])
return 1`,
  2,
);

/** KEYS[1] stream; ARGV[1] group, ARGV[2] id: acknowledges and deletes the message. */
const ACK = new Script(
  `redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])`,
  1,
);

/** KEYS[1] stream, KEYS[2] closed flag: 1 if closed and every message is acknowledged (drained). */
const DRAINED = new Script(
  `if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
if redis.call('XLEN', KEYS[1]) == 0 then return 1 end
return 0`,
  2,
);

/** Options of `store.channel`. */
export interface ValkeyChannelOptions {
  /** The most messages in flight (sent, not yet acknowledged); default 1024. Every user should give the same. */
  readonly capacity?: number;
  /** After how long an unacknowledged message goes to another receiver, ms; default 30,000. */
  readonly claimAfterMs?: number;
}

type Entry = [Uint8Array, Uint8Array[]];
const decoder = new TextDecoder();

/**
 * A message queue on a Valkey server (`store.channel(name)`), shared by
 * every process that names it: `sendAsync`, `recvAsync`, `for await`,
 * `close` like a local `Channel`, delivering every message at least once.
 *
 * @example
 * ```ts
 * // check-only: needs a Valkey server (VALKEY_URL)
 * import { ValkeyStore } from "./valkey.ts";
 * await using store = await ValkeyStore.connect(process.env.VALKEY_URL!);
 * const jobs = store.channel("jobs");
 * await jobs.sendAsync("resize 42.png");
 * await jobs.close(); // receivers drain, then their loops end
 * for await (const job of jobs) console.log(new TextDecoder().decode(job));
 * ```
 */
export class ValkeyChannel implements AsyncChannel {
  readonly #c: Connection;
  readonly #closedKey: string;
  readonly #consumer = randomUUID();
  #reader: Promise<Connection> | undefined;
  #group = false;
  #unacked: string | undefined;
  #lastClaim = 0;
  #queue: Promise<unknown> = Promise.resolve();
  /** The object's name in the store. */
  readonly name: string;
  /** The stream on the server (closed: this key + ":closed" exists). */
  readonly key: string;
  /** The most messages in flight. */
  readonly capacity: number;
  /** After how long an unacknowledged message goes to another receiver, ms. */
  readonly claimAfterMs: number;

  /** @internal Made by `ValkeyStore.channel`. */
  constructor(connection: Connection, key: string, name: string, capacity: number, claimAfterMs: number) {
    this.#c = connection;
    this.key = key;
    this.#closedKey = key + ":closed";
    this.name = name;
    this.capacity = capacity;
    this.claimAfterMs = claimAfterMs;
  }

  /** Sends a message, waiting while `capacity` are in flight; false if `timeoutMs` passes first. */
  async sendAsync(data: Bytes, options?: AsyncWaitOptions): Promise<boolean> {
    const where = "ValkeyChannel.sendAsync";
    const d = bytesArg(where, "data", data);
    const wait = waitOptions(where, options);
    const keys = [this.key, this.#closedKey];
    const sent = await poll(
      async () => {
        const r = String(await this.#c.run(where, SEND, keys, [this.capacity, d]));
        if (r === "-1") throw new ChannelClosedError(`${where}: the channel ${JSON.stringify(this.name)} is closed`);
        return r === "1" ? true : undefined;
      },
      wait.deadline,
      wait.signal,
    );
    return sent === true;
  }

  /**
   * Receives a message (acknowledging the one this receiver got before);
   * undefined if `timeoutMs` passes first (an AbortSignal is noticed
   * between blocking reads of at most 200 ms); ChannelClosedError once the
   * channel is closed and drained (every message sent is acknowledged: a
   * message another receiver holds unacknowledged may still come back).
   */
  recvAsync(options?: AsyncWaitOptions): Promise<Uint8Array | undefined> {
    const where = "ValkeyChannel.recvAsync";
    let wait: Wait;
    try {
      wait = waitOptions(where, options);
    } catch (e) {
      return Promise.reject(e); // bad options reject, as every other call's
    }
    // one blocking read at a time per receiver connection
    const next = this.#queue.then(() => this.#recv(where, wait));
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Receives a message as UTF-8 text. */
  async recvText(options?: AsyncWaitOptions): Promise<string | undefined> {
    const m = await this.recvAsync(options);
    return m === undefined ? undefined : decoder.decode(m);
  }

  /** Acknowledges (and deletes) the last message this receiver got, now instead of at the next receive. */
  async ack(): Promise<void> {
    const id = this.#unacked;
    if (id === undefined) return;
    this.#unacked = undefined;
    await this.#c.run("ValkeyChannel.ack", ACK, [this.key], [GROUP, id]);
  }

  /** Closes the channel for every sender and receiver (receivers drain what is left). */
  async close(): Promise<void> {
    await this.#c.call("ValkeyChannel.close", this.#closedKey, "SET", this.#closedKey, "1");
  }

  /** Whether the channel is closed. */
  async closed(): Promise<boolean> {
    return String(await this.#c.call("ValkeyChannel.closed", this.#closedKey, "EXISTS", this.#closedKey)) === "1";
  }

  /** Messages in flight (sent and not yet acknowledged). */
  async length(): Promise<number> {
    return Number(await this.#c.call("ValkeyChannel.length", this.key, "XLEN", this.key));
  }

  /** Deletes the channel's keys on the server (its messages, its closed flag): the name can start afresh. */
  async destroy(): Promise<void> {
    await this.#c.call("ValkeyChannel.destroy", this.key, "DEL", this.key, this.#closedKey);
    this.#group = false;
    this.#unacked = undefined;
  }

  /** Receives until the channel is closed and drained; the last message is acknowledged when the loop ends. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        let m: Uint8Array | undefined;
        try {
          m = await this.recvAsync();
        } catch (e) {
          if (e instanceof ChannelClosedError) return;
          throw e;
        }
        if (m !== undefined) yield m;
      }
    } finally {
      await this.ack().catch(() => {}); // unacknowledged (the server is gone?): redelivered later, at least once
    }
  }

  async #recv(where: string, wait: Wait): Promise<Uint8Array | undefined> {
    // the ack runs on the store's connection while the read waits on this receiver's own
    const acked = this.ack().catch(() => {}); // a lost ack only means a later redelivery
    try {
      return await this.#read(where, wait, acked);
    } finally {
      await acked;
    }
  }

  async #read(where: string, { deadline, signal }: Wait, acked: Promise<void>): Promise<Uint8Array | undefined> {
    const reader = await (this.#reader ??= this.#c.blocking(where).catch((e) => {
      this.#reader = undefined; // not reached now: the next receive tries again
      throw e;
    }));
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      await this.#ensureGroup(where);
      const claimed = await this.#claim(where);
      if (claimed) return claimed;
      const left = deadline - performance.now();
      // a slice well within the reply deadline, so that waiting is never taken for a frozen server
      const block = Math.max(1, Math.floor(Math.min(left, SLICE_MS, reader.settings.timeoutMs / 2)));
      const r = await reader.callBytes(
        where,
        this.key,
        "XREADGROUP",
        "GROUP",
        GROUP,
        this.#consumer,
        "COUNT",
        1,
        "BLOCK",
        block,
        "STREAMS",
        this.key,
        ">",
      ).catch((e) => this.#noGroup(where, e));
      const m = r ? this.#take(streamEntries(r)) : undefined;
      if (m) return m;
      // closed, and every message acknowledged (ours too): nothing can come any more
      await acked;
      if (String(await this.#c.run(where, DRAINED, [this.key, this.#closedKey], [])) === "1") {
        throw new ChannelClosedError(`${where}: the channel ${JSON.stringify(this.name)} is closed`);
      }
      if (performance.now() >= deadline) return undefined;
    }
  }

  /** A message another receiver left unacknowledged past `claimAfterMs`, checked at most every 1/4 of it. */
  async #claim(where: string): Promise<Uint8Array | undefined> {
    const now = performance.now();
    if (now - this.#lastClaim < Math.min(this.claimAfterMs / 4, 1000)) return undefined;
    this.#lastClaim = now;
    const r = await this.#c.callBytes(
      where,
      this.key,
      "XAUTOCLAIM",
      this.key,
      GROUP,
      this.#consumer,
      this.claimAfterMs,
      "0-0",
      "COUNT",
      1,
    ).catch((e) => this.#noGroup(where, e)) as [Uint8Array, Entry[]] | null;
    return r ? this.#take(r[1]) : undefined;
  }

  #take(entries: Entry[]): Uint8Array | undefined {
    const e = entries.find((x) => x && x[1]);
    if (!e) return undefined;
    this.#unacked = decoder.decode(e[0]);
    const fields = e[1];
    for (let i = 0; i < fields.length; i += 2) {
      if (decoder.decode(fields[i]) === "d") return ownBytes(fields[i + 1]);
    }
    return new Uint8Array(0);
  }

  async #ensureGroup(where: string): Promise<void> {
    if (this.#group) return;
    try {
      await this.#c.call(where, this.key, "XGROUP", "CREATE", this.key, GROUP, "0", "MKSTREAM");
    } catch (e) {
      if (!(e instanceof ValkeyError && /BUSYGROUP/.test(e.message))) throw e;
    }
    this.#group = true;
  }

  /** The server lost the group (a restart, a destroy): make it again on the next try. */
  #noGroup(_where: string, e: unknown): null {
    if (e instanceof ValkeyError && /NOGROUP/.test(e.message)) {
      this.#group = false;
      return null;
    }
    throw e;
  }
}

/** The entries of an XREADGROUP reply for one stream: [[stream, entries]] (or [stream, entries] as ioredis 6 gives it). */
function streamEntries(reply: unknown): Entry[] {
  const r = reply as unknown[];
  const pair = (r[0] instanceof Uint8Array ? r : r[0]) as [Uint8Array, Entry[]];
  return pair[1] ?? [];
}
