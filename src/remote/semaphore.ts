/**
 * A counting semaphore on a Valkey server: a sorted set of permits, one
 * member per permit (its holder's token and index), scored by the time its
 * lease ends (the server's clock). Acquiring is one script call: drop the
 * expired permits (their holders stopped renewing: they died), count the
 * rest, and add `n` members only if that stays within `max`. Releasing
 * removes this holder's members; while held, their leases are renewed every
 * third of `leaseMs`. `max` is recorded on first use; a different `max` for
 * the same name is refused.
 *
 * @module
 */

import { randomUUID } from "node:crypto";
import type { AsyncSemaphore } from "./interfaces.ts";
import { type Connection, Script } from "./connection.ts";
import { LeaseLostError, ValkeyError } from "./errors.ts";
import { Lease } from "./lease.ts";
import { poll } from "./poll.ts";
import { waitOf } from "../sync/wait_args.ts";
import { checkInt } from "./checks.ts";
import { rangeError } from "../errors.ts";

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS[1] permits, KEYS[2] max; ARGV[1] max, ARGV[2] n, ARGV[3] leaseMs, ARGV[4] token:
 * {1, held before} taken, {0, held} not enough, {-1, recorded max} another max.
 */
const ACQUIRE = new Script(
  NOW +
    `local m = redis.call('GET', KEYS[2])
if not m then redis.call('SET', KEYS[2], ARGV[1]) elseif m ~= ARGV[1] then return {-1, m} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
local n = tonumber(ARGV[2])
if held + n > tonumber(ARGV[1]) then return {0, held} end
local expires = now + tonumber(ARGV[3])
for i = 1, n do redis.call('ZADD', KEYS[1], expires, ARGV[4] .. ':' .. i) end
return {1, held}`,
  2,
);

/** KEYS[1] permits; ARGV: members: how many were still there (now removed). */
const RELEASE = new Script(`return redis.call('ZREM', KEYS[1], unpack(ARGV))`, 1);

/** KEYS[1] permits; ARGV[1] leaseMs, ARGV[2…] members: how many were still there (now extended). */
const EXTEND = new Script(
  NOW +
    `local expires = now + tonumber(ARGV[1])
local c = 0
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', expires, ARGV[i])
    c = c + 1
  end
end
return c`,
  1,
);

/** Options of `store.semaphore`. */
export interface ValkeySemaphoreOptions {
  /** The most permits held at once, 1 … 2^31−1 (every user of the name must give the same). */
  readonly max: number;
  /** How long a permit's lease lasts without renewal, ms; default 10,000. */
  readonly leaseMs?: number;
}

/**
 * A counting semaphore on a Valkey server (`store.semaphore(name, { max })`),
 * never above `max` across every process that names it; a holder's permits
 * come back within `leaseMs` of its death.
 *
 * @example
 * ```ts
 * // check-only: needs a Valkey server (VALKEY_URL)
 * import { ValkeyStore } from "./valkey.ts";
 * await using store = await ValkeyStore.connect(process.env.VALKEY_URL!);
 * const slots = store.semaphore("encoders", { max: 4 });
 * if (await slots.acquireAsync(1, 5000)) {
 *   try {
 *     // at most 4 processes, on any machine, run this at once
 *   } finally {
 *     await slots.release();
 *   }
 * }
 * ```
 */
export class ValkeySemaphore implements AsyncSemaphore {
  readonly #c: Connection;
  readonly #maxKey: string;
  /** This holder's permits (members of the set), oldest first, and their renewal. */
  #members: string[] = [];
  #lease: Lease | undefined;
  /** The object's name in the store. */
  readonly name: string;
  /** The sorted set of permits on the server (the recorded max is this key + ":max"). */
  readonly key: string;
  /** The most permits held at once. */
  readonly max: number;
  /** The lease length, ms. */
  readonly leaseMs: number;

  /** @internal Made by `ValkeyStore.semaphore`. */
  constructor(connection: Connection, key: string, name: string, max: number, leaseMs: number) {
    this.#c = connection;
    this.key = key;
    this.#maxKey = key + ":max";
    this.name = name;
    this.max = max;
    this.leaseMs = leaseMs;
  }

  /** Permits this holder has. */
  get held(): number {
    return this.#members.length;
  }

  /** Aborts, with a LeaseLostError, if this holder's permits are found lost while held. */
  get signal(): AbortSignal | undefined {
    return this.#lease?.signal;
  }

  /** Waits for `n` permits; false if `timeoutMs` passes first. */
  async acquireAsync(n = 1, timeoutMs?: number, signal?: AbortSignal): Promise<boolean> {
    const where = "ValkeySemaphore.acquireAsync";
    const k = checkInt(where, "n", n, 1, this.max);
    const { deadline, signal: s } = waitOf(where, timeoutMs, signal);
    const token = randomUUID();
    const got = await poll(() => this.#try(where, k, token), deadline, s);
    if (!got) return false;
    if (this.#lease?.lost) {
      // permits of a lost lease are gone (or expire on their own): start afresh with the new ones
      this.#lease.stop();
      this.#lease = undefined;
      this.#members = [];
    }
    for (let i = 1; i <= k; i++) this.#members.push(`${token}:${i}`);
    this.#lease ??= new Lease("ValkeySemaphore", this.name, this.leaseMs, () => this.#renew());
    return true;
  }

  /** Returns `n` of this holder's permits (newest first); LeaseLostError if some had expired meanwhile. */
  async release(n = 1): Promise<void> {
    const where = "ValkeySemaphore.release";
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > this.#members.length) {
      throw rangeError(where, "n", `an integer in [1, ${this.#members.length}] (the permits this holder has)`, n);
    }
    const gone = this.#members.splice(this.#members.length - n, n);
    const lease = this.#lease!;
    if (this.#members.length === 0) {
      lease.stop();
      this.#lease = undefined;
    }
    const removed = Number(await this.#c.run(where, RELEASE, [this.key], gone));
    if (removed !== n || lease.lost) {
      lease.markLost();
      throw new LeaseLostError(where, this.name);
    }
  }

  async #try(where: string, n: number, token: string): Promise<true | undefined> {
    const args = [this.max, n, this.leaseMs, token];
    const [r, v] = (await this.#c.run(where, ACQUIRE, [this.key, this.#maxKey], args) as unknown[]).map(String);
    if (r === "1") return true;
    if (r === "-1") {
      throw new ValkeyError(
        where,
        `the semaphore ${
          JSON.stringify(this.name)
        } was made with max ${v}; this one says ${this.max}: use the same max`,
      );
    }
    return undefined;
  }

  async #renew(): Promise<boolean> {
    const members = this.#members;
    if (members.length === 0) return true;
    const r = await this.#c.run("ValkeySemaphore.extend", EXTEND, [this.key], [this.leaseMs, ...members]);
    return Number(r) === members.length;
  }
}
