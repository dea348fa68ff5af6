/**
 * A map on a Valkey server: one hash, whose fields are the map's keys, with
 * Valkey 9's per-field expiry for TTLs (HSETEX, HPEXPIRE). Every call is one
 * round trip, atomic on the server: plain commands where one does the job
 * (HGET, HSET, HSETNX, HSETEX FNX, HDEL, HINCRBY), cached scripts for
 * compare-and-set, for a counter created with a TTL, and for a bigint add
 * (HINCRBY, then the new value as text: integer replies come back as
 * numbers). Counters are HINCRBY's decimal strings, 64-bit, exact.
 *
 * @module
 */

import type { AsyncMap, Bytes, MapWriteOptions } from "./interfaces.ts";
import { type Connection, Script } from "./connection.ts";
import { checkInt, checkOptions } from "./checks.ts";
import { bigOf, bytesArg, int64, keyText, numberOf, ownBytes } from "./values.ts";

/** KEYS[1]; ARGV[1] field, ARGV[2] delta, ARGV[3] ttlMs: the new value (a TTL only when this call creates it). */
const ADD_TTL = new Script(
  `local existed = redis.call('HEXISTS', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if existed == 0 then redis.call('HPEXPIRE', KEYS[1], ARGV[3], 'FIELDS', 1, ARGV[1]) end
return redis.call('HGET', KEYS[1], ARGV[1])`,
  1,
);

/** KEYS[1]; ARGV[1] field, ARGV[2] delta: the new value as text (exact where integer replies are numbers). */
const ADD = new Script(
  `redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGET', KEYS[1], ARGV[1])`,
  1,
);

/** KEYS[1]; ARGV[1] field, ARGV[2] expected, ARGV[3] desired: 1 written (its TTL kept), 0 not. */
const CAS = new Script(
  `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSETEX', KEYS[1], 'KEEPTTL', 'FIELDS', 1, ARGV[1], ARGV[3])
  return 1
end
return 0`,
  1,
);

const W = "ValkeyMap.";
const MAX_TTL = 2 ** 31 - 1;
const decoder = new TextDecoder();

function ttlOf(where: string, options: unknown): number | undefined {
  const o = checkOptions<MapWriteOptions>(where, options, "{ ttlMs? }");
  return o.ttlMs === undefined ? undefined : checkInt(where, "ttlMs", o.ttlMs, 1, MAX_TTL);
}

/**
 * A map of byte keys to byte values on a Valkey server (`store.map(name)`),
 * with per-entry TTLs and 64-bit counters: the async form of `SharedMap`'s
 * methods. A counter created by `fetchAdd`/`addFetch` with `ttlMs` expires
 * that long after its creation (a fixed window); adding to an existing
 * counter keeps its expiry. `set` without `ttlMs` clears any TTL;
 * `compareAndSet` keeps it.
 *
 * @example
 * ```ts
 * // check-only: needs a Valkey server (VALKEY_URL)
 * import { ValkeyStore } from "./valkey.ts";
 * await using store = await ValkeyStore.connect(process.env.VALKEY_URL!);
 * const limits = store.map("rate");
 * const used = await limits.addFetch("client-42", 1, { ttlMs: 60_000 }); // 1, 2, … within a minute
 * if (used > 100) console.log("429");
 * ```
 */
export class ValkeyMap implements AsyncMap {
  readonly #c: Connection;
  /** The object's name in the store. */
  readonly name: string;
  /** The hash on the server. */
  readonly key: string;

  /** @internal Made by `ValkeyStore.map`. */
  constructor(connection: Connection, key: string, name: string) {
    this.#c = connection;
    this.key = key;
    this.name = name;
  }

  /** The value (a copy), or undefined if absent or expired. */
  async get(key: Bytes): Promise<Uint8Array | undefined> {
    const r = await this.#c.callBytes(W + "get", this.key, "HGET", this.key, bytesArg(W + "get", "key", key));
    return r === null ? undefined : ownBytes(r as Uint8Array);
  }

  /** The value decoded as UTF-8, or undefined. */
  async getText(key: Bytes): Promise<string | undefined> {
    const r = await this.#c.callBytes(W + "getText", this.key, "HGET", this.key, bytesArg(W + "getText", "key", key));
    return r === null ? undefined : decoder.decode(r as Uint8Array);
  }

  /** Whether the key is present. */
  async has(key: Bytes): Promise<boolean> {
    return String(await this.#c.call(W + "has", this.key, "HEXISTS", this.key, bytesArg(W + "has", "key", key))) ===
      "1";
  }

  /** Writes the value, with `ttlMs` or without any TTL. */
  async set(key: Bytes, value: Bytes, options?: MapWriteOptions): Promise<void> {
    const where = W + "set";
    const k = bytesArg(where, "key", key);
    const v = bytesArg(where, "value", value);
    const ttl = ttlOf(where, options);
    if (ttl === undefined) await this.#c.call(where, this.key, "HSET", this.key, k, v);
    else await this.#c.call(where, this.key, "HSETEX", this.key, "PX", ttl, "FIELDS", 1, k, v);
  }

  /** Writes the value only if the key is absent; returns whether it did. */
  async setIfAbsent(key: Bytes, value: Bytes, options?: MapWriteOptions): Promise<boolean> {
    const where = W + "setIfAbsent";
    const k = bytesArg(where, "key", key);
    const v = bytesArg(where, "value", value);
    const ttl = ttlOf(where, options);
    const r = ttl === undefined
      ? await this.#c.call(where, this.key, "HSETNX", this.key, k, v)
      : await this.#c.call(where, this.key, "HSETEX", this.key, "FNX", "PX", ttl, "FIELDS", 1, k, v);
    return String(r) === "1";
  }

  /** Writes `desired` only if the value is `expected` (byte for byte); returns whether it did. */
  async compareAndSet(key: Bytes, expected: Bytes, desired: Bytes): Promise<boolean> {
    const where = W + "compareAndSet";
    const args = [
      bytesArg(where, "key", key),
      bytesArg(where, "expected", expected),
      bytesArg(where, "desired", desired),
    ];
    return String(await this.#c.run(where, CAS, [this.key], args)) === "1";
  }

  /** Removes the key; returns whether it was present. */
  async delete(key: Bytes): Promise<boolean> {
    const r = await this.#c.call(W + "delete", this.key, "HDEL", this.key, bytesArg(W + "delete", "key", key));
    return String(r) === "1";
  }

  /** Adds to the counter (absent: 0, created with `ttlMs`); returns the old value. */
  fetchAdd(key: Bytes, delta: number, options?: MapWriteOptions): Promise<number>;
  fetchAdd(key: Bytes, delta: bigint, options?: MapWriteOptions): Promise<bigint>;
  fetchAdd(key: Bytes, delta: number | bigint, options?: MapWriteOptions): Promise<number | bigint> {
    return this.#add(W + "fetchAdd", key, delta, options, true);
  }

  /** Adds to the counter (absent: 0, created with `ttlMs`); returns the new value. */
  addFetch(key: Bytes, delta: number, options?: MapWriteOptions): Promise<number>;
  addFetch(key: Bytes, delta: bigint, options?: MapWriteOptions): Promise<bigint>;
  addFetch(key: Bytes, delta: number | bigint, options?: MapWriteOptions): Promise<number | bigint> {
    return this.#add(W + "addFetch", key, delta, options, false);
  }

  /** How many entries there are (entries past their TTL may count until the server reclaims them). */
  async size(): Promise<number> {
    return Number(await this.#c.call(W + "size", this.key, "HLEN", this.key));
  }

  /** Removes every entry. */
  async clear(): Promise<void> {
    await this.#c.call(W + "clear", this.key, "DEL", this.key);
  }

  /** Every key present for the whole iteration, exactly once (HSCAN, de-duplicated). */
  async *keys(): AsyncGenerator<Uint8Array> {
    for await (const [k] of this.entries()) yield k;
  }

  /** Every entry present for the whole iteration, exactly once, as [key, value] copies. */
  async *entries(): AsyncGenerator<[Uint8Array, Uint8Array]> {
    const seen = new Set<string>();
    let cursor = "0";
    do {
      const [next, items] = await this.#c.callBytes(
        W + "entries",
        this.key,
        "HSCAN",
        this.key,
        cursor,
        "COUNT",
        256,
      ) as [
        Uint8Array,
        Uint8Array[],
      ];
      cursor = decoder.decode(next);
      for (let i = 0; i < items.length; i += 2) {
        const id = Array.prototype.join.call(items[i], ",");
        if (seen.has(id)) continue;
        seen.add(id);
        yield [ownBytes(items[i]), ownBytes(items[i + 1])];
      }
    } while (cursor !== "0");
  }

  #add(where: string, key: Bytes, delta: number | bigint, options: unknown, old: boolean): Promise<number | bigint> {
    let k: string | Uint8Array, d: string, ttl: number | undefined;
    try {
      k = bytesArg(where, "key", key);
      d = int64(where, "delta", delta);
      ttl = ttlOf(where, options);
    } catch (e) {
      return Promise.reject(e); // bad input rejects, like every other call
    }
    // the field's name for an error message, made only for one
    const label = () => `${this.key} field ${JSON.stringify(keyText(key))}`;
    const convert: (reply: unknown) => number | bigint = typeof delta === "number"
      ? (reply: unknown) => {
        const now = numberOf(where, label, reply);
        return old ? now - delta : now;
      }
      : (reply: unknown) => {
        const now = bigOf(where, label, reply);
        return old ? now - delta : now;
      };
    if (ttl !== undefined) return this.#c.run(where, ADD_TTL, [this.key], [k, d, ttl], false, convert);
    // a bigint result must be exact: where integer replies are numbers, a script returns the new value as text
    return typeof delta === "number" || this.#c.exactIntegers
      ? this.#c.request(where, this.key, "HINCRBY", [this.key, k, d], convert)
      : this.#c.run(where, ADD, [this.key], [k, d], false, convert);
  }
}
