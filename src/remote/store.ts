/**
 * `ValkeyStore`: one connection to a Valkey (or Redis) server and a key
 * prefix, from which the Valkey forms of the counters, locks, map and
 * channel are made by name. Every process that connects to the same server
 * with the same prefix and names the same object shares it.
 *
 * @module
 */

import { clientUrl, Connection } from "./connection.ts";
import { checkInt, checkOptions } from "./checks.ts";
import { checkName, keyOf } from "./names.ts";
import { ValkeyAtomicI64 } from "./atomic_i64.ts";
import { ValkeyAtomicF64 } from "./atomic_f64.ts";
import { ValkeyMutex, type ValkeyMutexOptions } from "./mutex.ts";
import { ValkeySemaphore, type ValkeySemaphoreOptions } from "./semaphore.ts";
import { ValkeyMap } from "./map.ts";
import { ValkeyChannel, type ValkeyChannelOptions } from "./channel.ts";

/** Options of `ValkeyStore.connect`. */
export interface ValkeyStoreOptions {
  /** Put before every key this store uses (default `"sa:"`); up to 256 characters, no braces. */
  readonly prefix?: string;
  /**
   * How long a command (and connecting) may take before it rejects with a
   * ValkeyTimeoutError, ms (default 5,000).
   */
  readonly timeoutMs?: number;
}

const DEFAULT_LEASE_MS = 10_000;
const MAX_MS = 2 ** 31 - 1;

/**
 * A connection to a Valkey server holding named counters, locks, a
 * semaphore, maps and channels, with the same async interface as the local
 * shared-memory classes (see `AsyncAtomic`, `AsyncMutex`, …).
 *
 * @example
 * ```ts
 * // check-only: needs a Valkey server (VALKEY_URL)
 * import { ValkeyStore } from "./valkey.ts";
 * await using store = await ValkeyStore.connect("redis://127.0.0.1:6379", { prefix: "app:" });
 * const requests = store.atomicI64("requests");
 * await requests.fetchAdd(1);
 * {
 *   await using _held = await store.mutex("nightly-report").lockAsync();
 *   // one process, on any machine, runs this at a time
 * }
 * ```
 */
export class ValkeyStore implements AsyncDisposable {
  /** For the objects whose replies are text (Bun's RedisClient in Bun), and for those with bytes (ioredis). */
  readonly #c: Connection;
  readonly #bytes: Connection;
  /** What every key of this store starts with. */
  readonly prefix: string;

  private constructor(text: Connection, bytes: Connection, prefix: string) {
    this.#c = text;
    this.#bytes = bytes;
    this.prefix = prefix;
  }

  /**
   * Connects to the server at `url` (`redis://`, `valkey://`, `rediss://`,
   * `valkeys://`; a password as `redis://:pw@host`). Rejects with a
   * ValkeyConnectionError if the server cannot be reached within `timeoutMs`.
   */
  static async connect(url: string, options?: ValkeyStoreOptions): Promise<ValkeyStore> {
    const where = "ValkeyStore.connect";
    const o = checkOptions<ValkeyStoreOptions>(where, options, "{ prefix?, timeoutMs? }");
    const prefix = o.prefix === undefined ? "sa:" : checkName(where, "prefix", o.prefix, true);
    const timeoutMs = o.timeoutMs === undefined ? 5000 : checkInt(where, "timeoutMs", o.timeoutMs, 1, MAX_MS);
    const settings = { url: clientUrl(where, url), timeoutMs };
    const text = await Connection.open(where, settings, true);
    if (!text.binary) {
      try {
        return new ValkeyStore(text, await Connection.open(where, settings), prefix);
      } catch (e) {
        text.close();
        throw e;
      }
    }
    return new ValkeyStore(text, text, prefix);
  }

  /** Whether the connection is up now (it reconnects on its own after a drop). */
  get connected(): boolean {
    return this.#c.ready && this.#bytes.ready;
  }

  /** The 64-bit integer `name` (absent on the server: 0). */
  atomicI64(name: string): ValkeyAtomicI64 {
    const n = checkName("ValkeyStore.atomicI64", "name", name);
    return new ValkeyAtomicI64(this.#c, keyOf(this.prefix, "i64", n), n);
  }

  /** The 64-bit float `name` (absent on the server: 0). */
  atomicF64(name: string): ValkeyAtomicF64 {
    const n = checkName("ValkeyStore.atomicF64", "name", name);
    return new ValkeyAtomicF64(this.#bytes, keyOf(this.prefix, "f64", n), n);
  }

  /** The lock `name`, whose leases last `leaseMs` (default 10 s) without renewal. */
  mutex(name: string, options?: ValkeyMutexOptions): ValkeyMutex {
    const where = "ValkeyStore.mutex";
    const n = checkName(where, "name", name);
    const o = checkOptions<ValkeyMutexOptions>(where, options, "{ leaseMs? }");
    return new ValkeyMutex(this.#c, keyOf(this.prefix, "mutex", n), n, leaseOption(where, o.leaseMs));
  }

  /** The semaphore `name` of `max` permits. */
  semaphore(name: string, options: ValkeySemaphoreOptions): ValkeySemaphore {
    const where = "ValkeyStore.semaphore";
    const n = checkName(where, "name", name);
    const o = checkOptions<ValkeySemaphoreOptions>(where, options, "{ max, leaseMs? }");
    const max = checkInt(where, "max", o.max, 1, MAX_MS);
    return new ValkeySemaphore(this.#c, keyOf(this.prefix, "sem", n), n, max, leaseOption(where, o.leaseMs));
  }

  /** The map `name` (a hash on the server, with a TTL per entry). */
  map(name: string): ValkeyMap {
    const n = checkName("ValkeyStore.map", "name", name);
    return new ValkeyMap(this.#bytes, keyOf(this.prefix, "map", n), n);
  }

  /** The channel `name` (a stream with a consumer group on the server). */
  channel(name: string, options?: ValkeyChannelOptions): ValkeyChannel {
    const where = "ValkeyStore.channel";
    const n = checkName(where, "name", name);
    const o = checkOptions<ValkeyChannelOptions>(where, options, "{ capacity?, claimAfterMs? }");
    const capacity = o.capacity === undefined ? 1024 : checkInt(where, "capacity", o.capacity, 1, MAX_MS);
    const claimAfterMs = o.claimAfterMs === undefined
      ? 30_000
      : checkInt(where, "claimAfterMs", o.claimAfterMs, 1, MAX_MS);
    return new ValkeyChannel(this.#bytes, keyOf(this.prefix, "chan", n), n, capacity, claimAfterMs);
  }

  /** Closes the connection; calls after this reject. Held leases are not released (they expire). */
  close(): void {
    this.#c.close();
    this.#bytes.close();
  }

  /** `await using`: closes. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

function leaseOption(where: string, leaseMs: unknown): number {
  return leaseMs === undefined ? DEFAULT_LEASE_MS : checkInt(where, "leaseMs", leaseMs, 10, MAX_MS);
}
