/**
 * A 64-bit float on a Valkey server, kept as its 8 IEEE 754 bytes
 * (little-endian, the layout of a local `AtomicF64`). Valkey's INCRBYFLOAT
 * is not used: it adds in long double and stores 17 decimal digits, which
 * is not JavaScript's double addition. Instead add, max, min and
 * compare-exchange are cached scripts that unpack the bytes to a Lua number
 * (a double), compute exactly as JavaScript does, and pack them back: one
 * round trip each, atomic on the server. An absent key reads as +0.
 *
 * @module
 */

import type { AsyncAtomicFloat } from "./interfaces.ts";
import { type Connection, Script } from "./connection.ts";
import { float64, floatBytes, floatOf } from "./values.ts";

/** The stored double (absent: 0), or a WRONGTYPE error. */
const READ = `
local function read(k)
  local v = redis.call('GET', k)
  if not v then return 0 end
  if #v ~= 8 then return nil end
  return struct.unpack('<d', v)
end
`;

/** maximumNumber / minimumNumber of IEEE 754-2019 (a NaN operand is ignored; -0 < +0). */
const EXTREMA = `
local function neg0(x) return x == 0 and 1 / x < 0 end
local function maxnum(a, b)
  if b ~= b then return a end
  if a ~= a then return b end
  if a == b then if neg0(a) then return b end return a end
  if a > b then return a end
  return b
end
local function minnum(a, b)
  if b ~= b then return a end
  if a ~= a then return b end
  if a == b then if neg0(a) then return a end return b end
  if a < b then return a end
  return b
end
`;

/** KEYS[1]; ARGV[1] operand (8 bytes), ARGV[2] 'add' | 'max' | 'min': old and new, 16 bytes. */
const RMW = new Script(
  READ + EXTREMA +
    `local x = read(KEYS[1])
if x == nil then return redis.error_reply('WRONGTYPE the value is not an 8-byte float') end
local d = struct.unpack('<d', ARGV[1])
local r
if ARGV[2] == 'add' then r = x + d elseif ARGV[2] == 'max' then r = maxnum(x, d) else r = minnum(x, d) end
local out = struct.pack('<d', r)
redis.call('SET', KEYS[1], out)
return struct.pack('<d', x) .. out`,
  1,
);

/** KEYS[1]; ARGV[1] expected, ARGV[2] desired (8 bytes each), ARGV[3] '1' if expected is NaN: the old bytes. */
const CMPXCHG = new Script(
  READ +
    `local x = read(KEYS[1])
if x == nil then return redis.error_reply('WRONGTYPE the value is not an 8-byte float') end
local old = redis.call('GET', KEYS[1]) or struct.pack('<d', 0)
if old == ARGV[1] or (ARGV[3] == '1' and x ~= x) then redis.call('SET', KEYS[1], ARGV[2]) end
return old`,
  1,
);

const W = "ValkeyAtomicF64.";

/**
 * A 64-bit atomic float on a Valkey server (`store.atomicF64(name)`): the
 * same methods as a local `AtomicF64`, each returning a promise, with the
 * same results bit for bit (compare-exchange matches bits, a NaN `expected`
 * matches any NaN).
 *
 * @example
 * ```ts
 * // check-only: needs a Valkey server (VALKEY_URL)
 * import { ValkeyStore } from "./valkey.ts";
 * await using store = await ValkeyStore.connect(process.env.VALKEY_URL!);
 * const seconds = store.atomicF64("busy-seconds");
 * await seconds.addFetch(0.25);
 * ```
 */
export class ValkeyAtomicF64 implements AsyncAtomicFloat {
  readonly #c: Connection;
  /** The object's name in the store. */
  readonly name: string;
  /** The key on the server. */
  readonly key: string;

  /** @internal Made by `ValkeyStore.atomicF64`. */
  constructor(connection: Connection, key: string, name: string) {
    this.#c = connection;
    this.key = key;
    this.name = name;
  }

  /** Reads the value. */
  async load(): Promise<number> {
    return floatOf(W + "load", this.key, await this.#c.callBytes(W + "load", this.key, "GET", this.key));
  }

  /** Writes the value. */
  async store(value: number): Promise<void> {
    const v = floatBytes(float64(W + "store", "value", value));
    await this.#c.call(W + "store", this.key, "SET", this.key, v);
  }

  /** Writes `value`, returns the previous value. */
  async exchange(value: number): Promise<number> {
    const v = floatBytes(float64(W + "exchange", "value", value));
    const reply = await this.#c.callBytes(W + "exchange", this.key, "SET", this.key, v, "GET");
    return floatOf(W + "exchange", this.key, reply);
  }

  /** Writes `desired` if the value is `expected` (bit for bit; NaN matches any NaN); returns the previous value. */
  async compareExchange(expected: number, desired: number): Promise<number> {
    return floatOf(W + "compareExchange", this.key, await this.#cas(W + "compareExchange", expected, desired));
  }

  /** Like `compareExchange`, but returns whether it wrote. */
  async compareAndSet(expected: number, desired: number): Promise<boolean> {
    const old = floatOf(W + "compareAndSet", this.key, await this.#cas(W + "compareAndSet", expected, desired));
    return Object.is(old, expected) || (Number.isNaN(old) && Number.isNaN(expected));
  }

  /** Adds, returns the old value. */
  fetchAdd(value: number): Promise<number> {
    return this.#rmw(W + "fetchAdd", value, "add", 0);
  }
  /** Adds, returns the new value. */
  addFetch(value: number): Promise<number> {
    return this.#rmw(W + "addFetch", value, "add", 8);
  }
  /** Subtracts, returns the old value. */
  fetchSub(value: number): Promise<number> {
    return this.#rmw(W + "fetchSub", -float64(W + "fetchSub", "value", value), "add", 0);
  }
  /** Subtracts, returns the new value. */
  subFetch(value: number): Promise<number> {
    return this.#rmw(W + "subFetch", -float64(W + "subFetch", "value", value), "add", 8);
  }
  /** Stores the larger (maximumNumber), returns the old value. */
  fetchMax(value: number): Promise<number> {
    return this.#rmw(W + "fetchMax", value, "max", 0);
  }
  /** Stores the smaller (minimumNumber), returns the old value. */
  fetchMin(value: number): Promise<number> {
    return this.#rmw(W + "fetchMin", value, "min", 0);
  }
  /** Stores the larger, returns the new value. */
  maxFetch(value: number): Promise<number> {
    return this.#rmw(W + "maxFetch", value, "max", 8);
  }
  /** Stores the smaller, returns the new value. */
  minFetch(value: number): Promise<number> {
    return this.#rmw(W + "minFetch", value, "min", 8);
  }

  async #rmw(where: string, value: number, op: string, at: 0 | 8): Promise<number> {
    const v = floatBytes(float64(where, "value", value));
    return floatOf(where, this.key, await this.#c.run(where, RMW, [this.key], [v, op], true), at);
  }

  #cas(where: string, expected: number, desired: number): Promise<unknown> {
    const e = floatBytes(float64(where, "expected", expected));
    const d = floatBytes(float64(where, "desired", desired));
    return this.#c.run(where, CMPXCHG, [this.key], [e, d, Number.isNaN(expected) ? "1" : "0"], true);
  }
}
