/**
 * `Channel`: a bounded multi-producer multi-consumer FIFO of byte messages
 * in a SharedArrayBuffer (Workers) or SharedMemory (processes; C and Python
 * through the same `sa_channel_*` exports). The queue's algorithm is native
 * (`zig/channel.zig`); this class checks arguments, stages messages in its
 * own SharedArrayBuffer, and waits asynchronously through `sync/waiting.ts`.
 *
 * @module
 */

import { backend, type NativeFn, type Pointer } from "../native/backend.ts";
import { argumentError, ChannelClosedError, describe, rangeError, typeError } from "../errors.ts";
import { type AtomicMemory, sharedBuffer } from "../memory/region.ts";
import { definePrimitive, type Kind, Primitive } from "../sync/primitive.ts";
import { checkSignal, checkTimeout, waitAsync } from "../sync/waiting.ts";
import { bytesLength, isSharedView, messageLength, overlaps, recordBytes, Staging } from "./data.ts";
import {
  channelBytes,
  channelSymbols,
  CLOSED,
  INVALID,
  MAX_CAPACITY,
  MAX_MESSAGE_SIZE,
  RECV_EVENT,
  SEND_EVENT,
  TIMED_OUT,
  TOO_BIG,
  TOO_SMALL,
  WOULD_BLOCK,
} from "./native.ts";

const KIND: Kind = { name: "Channel", type: "channel", bytes: 16, tag: 0x43484e31, align: 8 };

/** A channel's configuration. */
export interface ChannelOptions {
  /** How many messages it holds at most: an integer in [1, 2^24]. */
  readonly capacity?: number;
  /** The longest message, in bytes: an integer in [1, 2^30]. */
  readonly messageSize?: number;
}

/** Options of the asynchronous forms. */
export interface ChannelWaitOptions {
  /** Give up after this many milliseconds (default: wait forever). */
  readonly timeoutMs?: number;
  /** Abort the wait: the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** The bytes a message may be: any Uint8Array, or a string (sent as UTF-8). */
export type ChannelData = Uint8Array | string;

/** Staging for batches: at least this many bytes (more for larger messages). */
const BATCH_BYTES = 64 * 1024;
/** How long one asynchronous wait lasts before looking again (a repair after a death). */
const ASYNC_SLICE_MS = 100;

function option(where: string, options: object, name: "capacity" | "messageSize", max: number): number | undefined {
  let v: unknown;
  try {
    v = (options as Record<string, unknown>)[name];
  } catch (e) {
    throw argumentError(where, `options.${name}`, e);
  }
  if (v === undefined) return undefined;
  const allowed = `an integer in [1, ${max}]`;
  if (typeof v !== "number") throw typeError(where, `options.${name}`, allowed, v);
  if (!Number.isInteger(v) || v < 1 || v > max) throw rangeError(where, `options.${name}`, allowed, v);
  return v;
}

/** Checks channel options: [capacity, messageSize], each undefined when not given. */
function checkOptions(where: string, options: unknown): [number | undefined, number | undefined] {
  if (options === undefined) return [undefined, undefined];
  if (options === null || typeof options !== "object") {
    throw typeError(where, "options", "an object { capacity, messageSize }", options);
  }
  return [option(where, options, "capacity", MAX_CAPACITY), option(where, options, "messageSize", MAX_MESSAGE_SIZE)];
}

/** The bytes a channel of this configuration takes, if a number can say it exactly (below 2^53). */
function safeBytes(where: string, capacity: number, messageSize: number): number {
  const n = channelBytes(capacity, messageSize);
  if (n > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(
      `${where}: options.capacity × options.messageSize must fit in 2^53 bytes; ${capacity} × ${messageSize} does not`,
    );
  }
  return n;
}

/** Checks the options of an asynchronous form. */
function waitOptions(where: string, options: unknown): { timeoutMs: number; signal: AbortSignal | undefined } {
  if (options === undefined) return { timeoutMs: Infinity, signal: undefined };
  if (options === null || typeof options !== "object") {
    throw typeError(where, "options", "an object { timeoutMs?, signal? }", options);
  }
  let t: unknown, s: unknown;
  try {
    ({ timeoutMs: t, signal: s } = options as ChannelWaitOptions);
  } catch (e) {
    throw argumentError(where, "options", e);
  }
  return { timeoutMs: checkTimeout(where, t), signal: checkSignal(where, s) };
}

/**
 * A blocking native call comes back to JavaScript at least this often, so
 * that a Worker terminated while it waits does end (a thread inside a native
 * call cannot be stopped).
 */
const SYNC_SLICE_MS = 200;

/**
 * Runs `call(ms)`, a native wait of up to `ms` milliseconds that returns
 * TIMED_OUT when they pass, in slices of at most SYNC_SLICE_MS until it
 * returns anything else or `t` milliseconds (Infinity: forever) have passed.
 */
function sliced(t: number, call: (ms: number) => number): number {
  if (t <= SYNC_SLICE_MS) return call(t);
  const deadline = performance.now() + t;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) return TIMED_OUT;
    const r = call(Math.min(left, SYNC_SLICE_MS));
    if (r !== TIMED_OUT) return r;
  }
}

/**
 * A bounded multi-producer multi-consumer FIFO of byte messages in shared
 * memory, between Workers (a SharedArrayBuffer) and processes (a
 * SharedMemory), in JavaScript, C and Python alike. Messages never split or
 * interleave; each is received exactly once. A participant killed in the
 * middle of a send or receive never blocks the others for more than a
 * fraction of a second: a message its sender was writing is dropped, never
 * delivered half-written; a receiver killed while taking a message loses at
 * most that message.
 *
 * @example
 * ```ts
 * import { Channel } from "./mod.ts";
 * const ch = Channel.create({ capacity: 64, messageSize: 256 });
 * ch.send("hello");
 * ch.send(new Uint8Array([1, 2, 3]));
 * ch.recvText(); // "hello"
 * ch.recv(); // Uint8Array(3) [ 1, 2, 3 ]
 * ch.tryRecv(); // undefined: empty
 * // in a Worker: Channel.from(ch.descriptor()); in another process: Channel.fromHandle(ch.handle())
 * ```
 */
export class Channel extends Primitive {
  /** How many messages it holds at most. */
  readonly capacity: number;
  /** The longest message, in bytes. */
  readonly messageSize: number;
  readonly #ch: Pointer;
  /** The configuration it was opened with, passed to every native call (which refuses memory that says otherwise now). */
  readonly #cap: number;
  readonly #size: number;
  /** Its memory and byte offset (the public fields are informational: a program could reassign them). */
  readonly #owner: SharedArrayBuffer | object;
  readonly #at: number;
  /** Staging for one message; for batches, a larger one made on first use. */
  readonly #stage: Staging;
  #batchStage: Staging | undefined;
  /** recvInto's last SharedArrayBuffer target and its pointer (a view of one never moves or changes). */
  #lastTarget: Uint8Array | undefined;
  #lastPointer: Pointer;
  readonly #s: Record<string, NativeFn>;

  /**
   * The channel at `byteOffset` in `memory`: fresh zeroed memory becomes one
   * with `options` (both required then); memory that already holds a
   * channel is adopted (options may be left out, or must match).
   */
  constructor(memory: AtomicMemory, byteOffset = 0, options?: ChannelOptions) {
    const [capacity, messageSize] = checkOptions("new Channel", options);
    super(KIND, memory, byteOffset, {
      config: [capacity, messageSize],
      fixed: 2,
      names: ["capacity", "messageSize"],
      robust: true,
      size: (c) => {
        if (!(c[0] >= 1 && c[0] <= MAX_CAPACITY && c[1] >= 1 && c[1] <= MAX_MESSAGE_SIZE)) {
          throw new RangeError(`new Channel: this memory holds a Channel with a bad configuration (${c[0]}, ${c[1]})`);
        }
        return channelBytes(c[0], c[1]);
      },
    });
    this.#owner = this.memory;
    this.#at = this.byteOffset;
    this.capacity = this.#cap = this.config[0];
    this.messageSize = this.#size = this.config[1];
    this.#s = channelSymbols();
    this.#ch = this.at(0);
    this.#stage = new Staging(this.#size);
  }

  /** Bytes a channel with these options takes (place it at a multiple of `Channel.ALIGN`). */
  static byteLength(options: ChannelOptions): number {
    const [capacity, messageSize] = checkOptions("Channel.byteLength", options ?? null);
    if (capacity === undefined || messageSize === undefined) {
      throw typeError("Channel.byteLength", "options", "{ capacity, messageSize }, both given", options);
    }
    return safeBytes("Channel.byteLength", capacity, messageSize);
  }

  /** A channel in its own fresh SharedArrayBuffer (for Workers). */
  static create(options: ChannelOptions): Channel {
    const [capacity, messageSize] = checkOptions("Channel.create", options ?? null);
    if (capacity === undefined || messageSize === undefined) {
      throw typeError("Channel.create", "options", "{ capacity, messageSize }, both given", options);
    }
    const memory = sharedBuffer("Channel.create", safeBytes("Channel.create", capacity, messageSize));
    return new Channel(memory, 0, { capacity, messageSize });
  }

  /** Sends `data`, blocking while the channel is full; false if `timeoutMs` passed first. */
  send(data: ChannelData, timeoutMs?: number): boolean {
    const t = checkTimeout("Channel.send", timeoutMs);
    Channel.#use(this, "Channel.send");
    const n = this.#put("Channel.send", data);
    const r = sliced(t, (ms) => this.#s.sa_channel_send(this.#ch, this.#cap, this.#size, this.#stage.pointer, n, ms));
    return this.#sent("Channel.send", r);
  }

  /** Sends `data` if there is room now; false if the channel is full. Never blocks. */
  trySend(data: ChannelData): boolean {
    Channel.#use(this, "Channel.trySend");
    const n = this.#put("Channel.trySend", data);
    return this.#sent(
      "Channel.trySend",
      this.#s.sa_channel_try_send(this.#ch, this.#cap, this.#size, this.#stage.pointer, n),
    );
  }

  /** Sends `data`, waiting without blocking the event loop while full; false if the time ran out. */
  async sendAsync(data: ChannelData, options?: ChannelWaitOptions): Promise<boolean> {
    const where = "Channel.sendAsync";
    Channel.#use(this, where);
    const { timeoutMs, signal } = waitOptions(where, options);
    messageLength(where, "data", data, this.#size);
    return await this.#untilAsync(where, false, timeoutMs, signal, () => {
      const n = this.#put(where, data);
      const r = this.#s.sa_channel_try_send(this.#ch, this.#cap, this.#size, this.#stage.pointer, n);
      return r === WOULD_BLOCK ? undefined : this.#sent(where, r);
    }) ?? false;
  }

  /** Receives the next message (a copy the caller owns), blocking while empty; undefined on timeout. */
  recv(timeoutMs?: number): Uint8Array | undefined {
    const t = checkTimeout("Channel.recv", timeoutMs);
    Channel.#use(this, "Channel.recv");
    const n = this.#got("Channel.recv", this.#recvRaw(t));
    return n < 0 ? undefined : this.#stage.copy(0, n);
  }

  /** Receives the next message if there is one now; undefined if empty. Never blocks. */
  tryRecv(): Uint8Array | undefined {
    Channel.#use(this, "Channel.tryRecv");
    const n = this.#got("Channel.tryRecv", this.#recvRaw(0));
    return n < 0 ? undefined : this.#stage.copy(0, n);
  }

  /** Receives the next message as UTF-8 text, blocking while empty; undefined on timeout. */
  recvText(timeoutMs?: number): string | undefined {
    const t = checkTimeout("Channel.recvText", timeoutMs);
    Channel.#use(this, "Channel.recvText");
    const n = this.#got("Channel.recvText", this.#recvRaw(t));
    return n < 0 ? undefined : this.#stage.text(0, n);
  }

  /** Receives the next message without blocking the event loop; undefined if the time ran out. */
  async recvAsync(options?: ChannelWaitOptions): Promise<Uint8Array | undefined> {
    Channel.#use(this, "Channel.recvAsync");
    return await this.#recvAsync("Channel.recvAsync", options, (n) => this.#stage.copy(0, n));
  }

  /** `recvAsync`, as UTF-8 text. */
  async recvTextAsync(options?: ChannelWaitOptions): Promise<string | undefined> {
    Channel.#use(this, "Channel.recvTextAsync");
    return await this.#recvAsync("Channel.recvTextAsync", options, (n) => this.#stage.text(0, n));
  }

  /**
   * Receives the next message into `target` (no allocation; copied straight
   * into it when it is a view of a SharedArrayBuffer), blocking while empty:
   * its length, or undefined on timeout. A target shorter than the next
   * message is a RangeError and the message stays in the channel.
   */
  recvInto(target: Uint8Array, timeoutMs?: number): number | undefined {
    const where = "Channel.recvInto";
    const cap = bytesLength(target);
    if (cap < 0) throw typeError(where, "target", "a Uint8Array", target);
    const t = checkTimeout(where, timeoutMs);
    Channel.#use(this, where);
    const direct = cap > 0 && this.#direct(target, cap);
    const to = direct ? this.#lastPointer : this.#stage.pointer;
    const room = direct ? cap : Math.min(cap, this.#size);
    const r = sliced(t, (ms) => this.#s.sa_channel_recv(this.#ch, this.#cap, this.#size, to, room, ms));
    if (r === TOO_SMALL) {
      const need = this.#s.sa_channel_peek_length(this.#ch, this.#cap, this.#size);
      throw new RangeError(
        `${where}: target must be at least as long as the next message (${need} bytes); got ${cap} bytes`,
      );
    }
    const n = this.#got(where, r);
    if (n < 0) return undefined;
    if (!direct) target.set(this.#stage.bytes.subarray(0, n));
    return n;
  }

  /**
   * Sends every message of `messages` in order, several per native call,
   * blocking while the channel is full. Every message is checked before any
   * is sent. Returns how many were sent: all of them, or fewer if
   * `timeoutMs` passed first. Throws ChannelClosedError if the channel
   * closes first (the message says how many were sent).
   */
  sendMany(messages: readonly ChannelData[], timeoutMs?: number): number {
    const where = "Channel.sendMany";
    const t = checkTimeout(where, timeoutMs);
    let list: unknown[];
    try {
      if (!Array.isArray(messages)) throw typeError(where, "messages", "an array of Uint8Array or string", messages);
      list = messages.slice(); // a Proxy's traps (or element getters) run here, before anything is staged
    } catch (e) {
      throw argumentError(where, "messages", e); // a revoked Proxy, a throwing getter
    }
    Channel.#use(this, where);
    const bounds = list.map((m, i) => messageLength(where, `messages[${i}]`, m, this.#size));
    const deadline = performance.now() + t;
    const stage = this.#batch();
    let sent = 0;
    while (sent < list.length) {
      let at = 0, count = 0;
      while (sent + count < list.length && at + recordBytes(bounds[sent + count]) <= stage.bytes.length) {
        const n = stage.put(list[sent + count] as ChannelData, at + 4, bounds[sent + count]);
        stage.setLength(at, n);
        at += recordBytes(n);
        count++;
      }
      const left = Math.max(0, Math.min(deadline - performance.now(), SYNC_SLICE_MS));
      const r = this.#s.sa_channel_send_many(this.#ch, this.#cap, this.#size, stage.pointer, count, left);
      if (r === CLOSED) throw this.#closed(where, `after ${sent} of ${list.length} were sent`);
      if (r < 0 && r !== TIMED_OUT && r !== WOULD_BLOCK) this.#fail(where, r);
      if (r > 0) sent += r;
      if (r < count) {
        if (this.closed) throw this.#closed(where, `after ${sent} of ${list.length} were sent`);
        if (performance.now() >= deadline) return sent;
      }
    }
    return sent;
  }

  /**
   * Receives up to `max` messages in one native call: waits for the first
   * (up to `timeoutMs`), then takes those already there. Returns them in
   * order (each a copy the caller owns); empty if the time ran out.
   */
  recvMany(max: number, timeoutMs?: number): Uint8Array[] {
    const where = "Channel.recvMany";
    if (typeof max !== "number") throw typeError(where, "max", "an integer ≥ 1", max);
    if (!Number.isInteger(max) || max < 1) throw rangeError(where, "max", "an integer ≥ 1", max);
    const t = checkTimeout(where, timeoutMs);
    Channel.#use(this, where);
    const stage = this.#batch();
    const want = Math.min(max, 0xffffffff);
    const r = sliced(
      t,
      (ms) =>
        this.#s.sa_channel_recv_many(this.#ch, this.#cap, this.#size, stage.pointer, stage.bytes.length, want, ms),
    );
    const count = this.#got(where, r);
    const out: Uint8Array[] = [];
    for (let i = 0, at = 0; i < count; i++) {
      const n = stage.getLength(at);
      out.push(stage.copy(at + 4, n));
      at += recordBytes(n);
    }
    return out;
  }

  /**
   * Closes the channel: later sends throw ChannelClosedError; receivers
   * drain what is left, then throw it (the async iterator ends). Every
   * blocked sender and receiver, in every thread and process, wakes.
   * Returns true if this call closed it.
   */
  close(): boolean {
    Channel.#use(this, "Channel.close");
    return this.#check("Channel.close", this.#s.sa_channel_close(this.#ch, this.#cap, this.#size)) === 1;
  }

  /** Whether it is closed. */
  get closed(): boolean {
    Channel.#use(this, "Channel.closed");
    return this.#check("Channel.closed", this.#s.sa_channel_closed(this.#ch, this.#cap, this.#size)) === 1;
  }

  /** Messages sent and not yet received (a snapshot). */
  get length(): number {
    Channel.#use(this, "Channel.length");
    return this.#check("Channel.length", this.#s.sa_channel_length(this.#ch, this.#cap, this.#size));
  }

  /** Receives until the channel is closed and drained, without blocking the event loop. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    Channel.#use(this, "Channel[Symbol.asyncIterator]");
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
  }

  /**
   * Checks that `o` (a method's `this`) is a Channel, whose SharedMemory (if
   * any) is open: a method called on anything else is a TypeError naming it
   * (not the engine's message about a private field), and one kept from
   * before its segment closed is a SharedMemoryClosedError.
   */
  static #use(o: unknown, where: string): void {
    if (o === null || typeof o !== "object" || !(#ch in o)) {
      throw new TypeError(`${where}: this must be a Channel (call the method on one); got ${describe(o)}`);
    }
    (o as Channel).stillOpen(where);
  }

  /** Whether `target` is a view of a SharedArrayBuffer (then its pointer is in #lastPointer). */
  #direct(target: Uint8Array, n: number): boolean {
    if (target === this.#lastTarget) return true;
    if (!isSharedView(target)) return false;
    if (overlaps(target, n, this.#owner, this.#at, channelBytes(this.#cap, this.#size))) {
      // the native copy would write over the channel's own slots and words while it holds them
      throw rangeError("Channel.recvInto", "target", "memory outside the channel's own bytes", target);
    }
    this.#lastPointer = backend().pointer(target);
    this.#lastTarget = target;
    return true;
  }

  /** The batch staging: room for at least one record of the longest message. */
  #batch(): Staging {
    return this.#batchStage ??= new Staging(Math.max(this.#size + 8, BATCH_BYTES));
  }

  /** Checks and stages `data`; returns its length. */
  #put(where: string, data: unknown): number {
    const bound = messageLength(where, "data", data, this.#size);
    return this.#stage.put(data as ChannelData, 0, Math.min(bound, this.#size));
  }

  #recvRaw(t: number): number {
    return sliced(
      t,
      (ms) => this.#s.sa_channel_recv(this.#ch, this.#cap, this.#size, this.#stage.pointer, this.#size, ms),
    );
  }

  /** A send's result: true, false (full or timed out), or the error. */
  #sent(where: string, r: number): boolean {
    if (r >= 0) return true;
    if (r === WOULD_BLOCK || r === TIMED_OUT) return false;
    return this.#fail(where, r);
  }

  /** A receive's result: the length, -1 (none: empty or timed out), or the error. */
  #got(where: string, r: number): number {
    if (r >= 0) return r;
    if (r === WOULD_BLOCK || r === TIMED_OUT) return -1;
    return this.#fail(where, r);
  }

  #fail(where: string, r: number): never {
    if (r === CLOSED) throw this.#closed(where, "");
    if (r === TOO_BIG) throw new RangeError(`${where}: a message is longer than messageSize (${this.#size})`);
    if (r === INVALID) throw this.#invalid(where);
    throw new Error(`${where}: unexpected result ${r}`);
  }

  /** `r`, unless it says the memory no longer holds this channel. */
  #check(where: string, r: number): number {
    if (r === INVALID) throw this.#invalid(where);
    return r;
  }

  /**
   * The error for memory that no longer holds this channel: its SharedMemory
   * was closed (a method kept from before, or closed inside the call), or its
   * header was overwritten.
   */
  #invalid(where: string): Error {
    this.live(where);
    return new Error(
      `${where}: the memory no longer holds a Channel (not the one opened, of capacity ${this.#cap}, messageSize ` +
        `${this.#size}); was it overwritten?`,
    );
  }

  #closed(where: string, detail: string): ChannelClosedError {
    return new ChannelClosedError(`${where}: the channel is closed${detail ? ` (${detail})` : ""}`);
  }

  async #recvAsync<T>(where: string, options: unknown, take: (n: number) => T): Promise<T | undefined> {
    const { timeoutMs, signal } = waitOptions(where, options);
    return await this.#untilAsync(where, true, timeoutMs, signal, () => {
      const n = this.#got(where, this.#recvRaw(0));
      return n < 0 ? undefined : take(n);
    });
  }

  /**
   * Runs `attempt` (undefined: would block) until it gives a result, waiting
   * on the side's event word between attempts; undefined once the time ran out.
   */
  async #untilAsync<T>(
    where: string,
    receiving: boolean,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    attempt: () => T | undefined,
  ): Promise<T | undefined> {
    if (signal?.aborted) throw signal.reason ?? new DOMException("The operation was aborted", "AbortError");
    this.stillOpen(where);
    const first = attempt();
    if (first !== undefined) return first;
    const deadline = performance.now() + timeoutMs;
    const side = receiving ? 1 : 0;
    const event = this.at(receiving ? RECV_EVENT : SEND_EVENT);
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      const ev = this.#s.sa_channel_wait_begin(this.#ch, this.#cap, this.#size, side);
      try {
        const r = attempt();
        if (r !== undefined) return r;
        await waitAsync(event, ev, Math.min(left, ASYNC_SLICE_MS), signal, this).catch((e) => {
          this.live(where); // closed while waiting: the error names the method
          throw e;
        });
      } finally {
        if (this.memoryOpen()) this.#s.sa_channel_wait_end(this.#ch, this.#cap, this.#size, side);
      }
      this.live(where);
      const r = attempt();
      if (r !== undefined) return r;
    }
  }
}

definePrimitive(Channel, KIND);
