/**
 * A 64-bit integer on a Valkey server, kept as the decimal string Valkey's
 * own INCRBY works on (so any other client can read and add to it). Every
 * operation is one round trip, atomic on the server: add and subtract are
 * INCRBY/DECRBY (the old value is the new one minus the delta, computed here,
 * exactly; for a bigint, a script that runs them and returns the new value
 * as text, since integer replies come back as numbers), store is SET, exchange is SET … GET, and compare-exchange,
 * max and min are cached scripts that compare the decimal strings exactly
 * (Lua's own numbers are doubles). An absent key reads as 0. Unlike shared
 * memory, a result outside the signed 64-bit range is refused (RangeError,
 * nothing changed) rather than wrapped.
 *
 * @module
 */

import type { AsyncAtomicInteger } from "./interfaces.ts";
import { type Connection, Script } from "./connection.ts";
import { bigOf, int64, numberOf } from "./values.ts";

/** Compares two canonical decimal integers: -1, 0 or 1. */
const CMP = `
local function cmp(a, b)
  local na, nb = a:sub(1, 1) == '-', b:sub(1, 1) == '-'
  if na ~= nb then return na and -1 or 1 end
  local c = 0
  if #a ~= #b then c = (#a < #b) and -1 or 1 elseif a ~= b then c = (a < b) and -1 or 1 end
  if na then return -c end
  return c
end
`;

/** KEYS[1]; ARGV[1] expected, ARGV[2] desired: the old value (absent: '0'). */
const CMPXCHG = new Script(
  `local v = redis.call('GET', KEYS[1]) or '0'
if v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) end
return v`,
  1,
);

/** KEYS[1]; ARGV[1] operand, ARGV[2] 1 for max, -1 for min: the old value. */
const EXTREMUM = new Script(
  CMP +
    `local v = redis.call('GET', KEYS[1]) or '0'
if not v:match('^-?%d+$') then return redis.error_reply('WRONGTYPE the value is not a 64-bit integer') end
if cmp(ARGV[1], v) == tonumber(ARGV[2]) then redis.call('SET', KEYS[1], ARGV[1]) end
return v`,
  1,
);

/** KEYS[1]; ARGV[1] delta, ARGV[2] INCRBY or DECRBY: the new value as a string (for links whose integers are numbers). */
const ADD = new Script(
  `redis.call(ARGV[2], KEYS[1], ARGV[1])
return redis.call('GET', KEYS[1])`,
  1,
);

type Int = bigint | number;
const W = "ValkeyAtomicI64.";
const FETCH_ADD = W + "fetchAdd";

/**
 * A 64-bit atomic integer on a Valkey server (`store.atomicI64(name)`): the
 * same methods as a local `AtomicI64` (bigints over the full range, or
 * numbers in, numbers out), each returning a promise.
 *
 * @example
 * ```ts
 * // check-only: needs a Valkey server (VALKEY_URL)
 * import { ValkeyStore } from "./valkey.ts";
 * await using store = await ValkeyStore.connect(process.env.VALKEY_URL!, { prefix: "app:" });
 * const hits = store.atomicI64("hits");
 * await hits.fetchAdd(1); // the count before this call (a number)
 * await hits.load(); // a bigint
 * ```
 */
export class ValkeyAtomicI64 implements AsyncAtomicInteger {
  readonly #c: Connection;
  /** The object's name in the store. */
  readonly name: string;
  /** The key on the server. */
  readonly key: string;

  /** @internal Made by `ValkeyStore.atomicI64`. */
  constructor(connection: Connection, key: string, name: string) {
    this.#c = connection;
    this.key = key;
    this.name = name;
  }

  /** Reads the value. */
  async load(): Promise<bigint> {
    return bigOf(W + "load", this.key, await this.#c.call(W + "load", this.key, "GET", this.key));
  }

  /** Reads the value as a number (beyond ±2^53: rounded). */
  async loadNumber(): Promise<number> {
    return numberOf(W + "loadNumber", this.key, await this.#c.call(W + "loadNumber", this.key, "GET", this.key));
  }

  /** Writes the value. */
  async store(value: bigint | number): Promise<void> {
    const v = int64(W + "store", "value", value);
    await this.#c.call(W + "store", this.key, "SET", this.key, v);
  }

  /** Writes `value`, returns the previous value. */
  exchange(value: number): Promise<number>;
  exchange(value: bigint): Promise<bigint>;
  async exchange(value: Int): Promise<Int> {
    const v = int64(W + "exchange", "value", value);
    return this.#result(W + "exchange", value, await this.#c.call(W + "exchange", this.key, "SET", this.key, v, "GET"));
  }

  /** Writes `desired` if the value is `expected`; returns the previous value either way. */
  compareExchange(expected: number, desired: number): Promise<number>;
  compareExchange(expected: bigint, desired: bigint): Promise<bigint>;
  async compareExchange(expected: Int, desired: Int): Promise<Int> {
    const where = W + "compareExchange";
    const e = int64(where, "expected", expected);
    const d = int64(where, "desired", desired);
    return this.#result(where, expected, await this.#c.run(where, CMPXCHG, [this.key], [e, d]));
  }

  /** Writes `desired` if the value is `expected`; returns whether it wrote. */
  compareAndSet(expected: number, desired: number): Promise<boolean>;
  compareAndSet(expected: bigint, desired: bigint): Promise<boolean>;
  async compareAndSet(expected: Int, desired: Int): Promise<boolean> {
    const where = W + "compareAndSet";
    const e = int64(where, "expected", expected);
    const d = int64(where, "desired", desired);
    return String(await this.#c.run(where, CMPXCHG, [this.key], [e, d])) === e;
  }

  /** Adds, returns the old value. */
  fetchAdd(value: number): Promise<number>;
  fetchAdd(value: bigint): Promise<bigint>;
  fetchAdd(value: Int): Promise<Int> {
    return this.#add(FETCH_ADD, value, 1, true);
  }

  /** Adds, returns the new value. */
  addFetch(value: number): Promise<number>;
  addFetch(value: bigint): Promise<bigint>;
  addFetch(value: Int): Promise<Int> {
    return this.#add(W + "addFetch", value, 1, false);
  }

  /** Subtracts, returns the old value. */
  fetchSub(value: number): Promise<number>;
  fetchSub(value: bigint): Promise<bigint>;
  fetchSub(value: Int): Promise<Int> {
    return this.#add(W + "fetchSub", value, -1, true);
  }

  /** Subtracts, returns the new value. */
  subFetch(value: number): Promise<number>;
  subFetch(value: bigint): Promise<bigint>;
  subFetch(value: Int): Promise<Int> {
    return this.#add(W + "subFetch", value, -1, false);
  }

  /** Stores the larger, returns the old value. */
  fetchMax(value: number): Promise<number>;
  fetchMax(value: bigint): Promise<bigint>;
  fetchMax(value: Int): Promise<Int> {
    return this.#extremum(W + "fetchMax", value, 1, true);
  }

  /** Stores the smaller, returns the old value. */
  fetchMin(value: number): Promise<number>;
  fetchMin(value: bigint): Promise<bigint>;
  fetchMin(value: Int): Promise<Int> {
    return this.#extremum(W + "fetchMin", value, -1, true);
  }

  /** Stores the larger, returns the new value. */
  maxFetch(value: number): Promise<number>;
  maxFetch(value: bigint): Promise<bigint>;
  maxFetch(value: Int): Promise<Int> {
    return this.#extremum(W + "maxFetch", value, 1, false);
  }

  /** Stores the smaller, returns the new value. */
  minFetch(value: number): Promise<number>;
  minFetch(value: bigint): Promise<bigint>;
  minFetch(value: Int): Promise<Int> {
    return this.#extremum(W + "minFetch", value, -1, false);
  }

  /** INCRBY or DECRBY: one command; the old value is derived exactly from the new one. */
  #add(where: string, value: Int, sign: 1 | -1, old: boolean): Promise<Int> {
    let v: string;
    try {
      v = int64(where, "value", value);
    } catch (e) {
      return Promise.reject(e); // bad input rejects, like every other call
    }
    const command = sign === 1 ? "INCRBY" : "DECRBY";
    const key = this.key;
    if (typeof value === "number") {
      return this.#c.request(where, key, command, [key, v], (reply) => {
        const now = numberOf(where, key, reply);
        return old ? now - sign * value : now;
      });
    }
    const convert = (reply: unknown) => {
      const now = bigOf(where, key, reply);
      return old ? now - BigInt(sign) * value : now;
    };
    // a bigint result must be exact: where integer replies are numbers, a script returns the new value as text
    return this.#c.exactIntegers
      ? this.#c.request(where, key, command, [key, v], convert)
      : this.#c.run(where, ADD, [key], [v, command], false, convert);
  }

  async #extremum(where: string, value: Int, dir: 1 | -1, old: boolean): Promise<Int> {
    const v = int64(where, "value", value);
    const reply = await this.#c.run(where, EXTREMUM, [this.key], [v, dir]);
    const before = bigOf(where, this.key, reply);
    const b = BigInt(value);
    const after = old ? before : dir === 1 ? (b > before ? b : before) : (b < before ? b : before);
    return typeof value === "number" ? Number(after) : after;
  }

  #result(where: string, like: Int, reply: unknown): Int {
    return typeof like === "number" ? numberOf(where, this.key, reply) : bigOf(where, this.key, reply);
  }
}
