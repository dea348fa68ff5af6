/**
 * A lock on a Valkey server: a lease. Taking it is one script call that
 * sets the lease key to an owner token (random per lock object, and a count)
 * only if it is absent (`SET NX
 * PX`) and, in the same call, increments the lock's fencing counter; the
 * guard carries that fencing token. Only the owner releases or extends
 * (scripts that compare the token first). While held, the lease is renewed
 * every third of `leaseMs`; a holder that dies stops renewing, and the
 * lease expires after at most `leaseMs`, when the next holder gets a larger
 * fencing token. Waiting is polling with a doubling sleep (1 to 25 ms).
 *
 * @module
 */

import { randomUUID } from "node:crypto";
import type { AsyncLockGuard, AsyncMutex } from "./interfaces.ts";
import { type Connection, Script } from "./connection.ts";
import { LeaseLostError, ValkeyError, ValkeyWrongTypeError } from "./errors.ts";
import { Lease } from "./lease.ts";
import { FIRST_SLEEP_MS, poll, sleep } from "./poll.ts";
import { checkSignal, checkTimeout } from "./checks.ts";

/** @internal KEYS[1] lease, KEYS[2] fence; ARGV[1] token, ARGV[2] leaseMs: {1, fence} taken, {0, pttl} held by another. */
export const ACQUIRE = new Script(
  `if redis.call('EXISTS', KEYS[1]) == 0 then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, fence}
end
return {0, redis.call('PTTL', KEYS[1])}`,
  2,
);

/** @internal KEYS[1] lease; ARGV[1] token: 1 released, 0 not ours (any more). */
export const RELEASE = new Script(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  1,
);

/** KEYS[1] lease; ARGV[1] token, ARGV[2] leaseMs: 1 extended, 0 not ours (any more). */
const EXTEND = new Script(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
  1,
);

/** Whether a script's reply is 1. */
const isOne = (reply: unknown): boolean => String(reply) === "1";

/** Options of `store.mutex`. */
export interface ValkeyMutexOptions {
  /** How long a lease lasts without renewal (a dead holder blocks others this long), ms; default 10,000. */
  readonly leaseMs?: number;
}

/**
 * A held Valkey lock: `unlock()` it or let `await using` do it. Check
 * `fencingToken` where the protected work lands (a storage write that
 * refuses a token smaller than the last one seen), and `signal`/`lost`
 * for a lease that ran out meanwhile.
 *
 * @example
 * ```ts
 * // check-only: needs a Valkey server (VALKEY_URL)
 * import { ValkeyStore } from "./valkey.ts";
 * await using store = await ValkeyStore.connect(process.env.VALKEY_URL!);
 * await using guard = await store.mutex("jobs").lockAsync();
 * guard.fencingToken; // 1, 2, 3, … one larger on every acquisition
 * ```
 */
export class ValkeyMutexGuard implements AsyncLockGuard {
  readonly #c: Connection;
  readonly #lease: Lease;
  readonly #key: string;
  #held = true;
  /** The lock's acquisition count when this guard took it: larger for every later holder. */
  readonly fencingToken: number;
  /** The owner token stored in the lease key. */
  readonly token: string;

  /** @internal Made by `ValkeyMutex.lockAsync`. */
  constructor(c: Connection, mutex: ValkeyMutex, token: string, fencingToken: number) {
    this.#c = c;
    this.#key = mutex.key;
    this.token = token;
    this.fencingToken = fencingToken;
    this.#lease = new Lease("ValkeyMutexGuard", mutex.name, mutex.leaseMs, () => this.#renew());
  }

  /** Aborts, with a LeaseLostError as its reason, when the lease is found lost while held. */
  get signal(): AbortSignal {
    return this.#lease.signal;
  }

  /** Whether the lease is known to be lost. */
  get lost(): boolean {
    return this.#lease.lost;
  }

  /** Pushes the lease's expiry `leaseMs` ahead now (it is also renewed on its own while held). */
  async extend(): Promise<void> {
    if (!this.#held) throw new ValkeyError("ValkeyMutexGuard.extend", "this guard was already unlocked");
    await this.#lease.extend("ValkeyMutexGuard.extend");
  }

  /** Releases the lock; LeaseLostError if it was no longer this guard's (expired, or the server lost it). */
  async unlock(): Promise<void> {
    const where = "ValkeyMutexGuard.unlock";
    if (!this.#held) throw new ValkeyError(where, "this guard was already unlocked");
    this.#held = false;
    this.#lease.stop();
    const released = await this.#c.run(where, RELEASE, [this.#key], [this.token], false, isOne);
    if (!released) {
      this.#lease.markLost();
      throw new LeaseLostError(where, this.#lease.name);
    }
  }

  /** `await using`: unlocks if still held. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#held) await this.unlock();
  }

  async #renew(): Promise<boolean> {
    return await this.#c.run(
      "ValkeyMutexGuard.extend",
      EXTEND,
      [this.#key],
      [this.token, this.#lease.leaseMs],
      false,
      isOne,
    );
  }
}

/**
 * A mutual-exclusion lock on a Valkey server (`store.mutex(name, { leaseMs })`),
 * shared by every process that names it: `lockAsync` like a local
 * `Mutex`'s, whose guard also carries a fencing token.
 *
 * @example
 * ```ts
 * // check-only: needs a Valkey server (VALKEY_URL)
 * import { ValkeyStore } from "./valkey.ts";
 * await using store = await ValkeyStore.connect(process.env.VALKEY_URL!);
 * const lock = store.mutex("report", { leaseMs: 5000 });
 * const guard = await lock.lockAsync(1000); // null if not taken within a second
 * await guard?.unlock();
 * ```
 */
export class ValkeyMutex implements AsyncMutex {
  readonly #c: Connection;
  readonly #fence: string;
  readonly #leaseArg: string;
  /** Owner tokens are this (random, one per object) and a count of the acquisitions tried. */
  readonly #owner = randomUUID() + ":";
  #taken = 0;
  /** The object's name in the store. */
  readonly name: string;
  /** The lease key on the server (its fencing counter is this key + ":fence"). */
  readonly key: string;
  /** The lease length, ms. */
  readonly leaseMs: number;

  /** @internal Made by `ValkeyStore.mutex`. */
  constructor(connection: Connection, key: string, name: string, leaseMs: number) {
    this.#c = connection;
    this.key = key;
    this.#fence = key + ":fence";
    this.name = name;
    this.leaseMs = leaseMs;
    this.#leaseArg = String(leaseMs);
  }

  /** Waits for the lock (no timeout: the guard, never null). */
  lockAsync(timeoutMs?: undefined, signal?: AbortSignal): Promise<ValkeyMutexGuard>;
  /** Waits for the lock; null if `timeoutMs` passes first. */
  lockAsync(timeoutMs: number, signal?: AbortSignal): Promise<ValkeyMutexGuard | null>;
  lockAsync(timeoutMs?: number, signal?: AbortSignal): Promise<ValkeyMutexGuard | null> {
    const where = "ValkeyMutex.lockAsync";
    let deadline: number, s: AbortSignal | undefined;
    try {
      deadline = performance.now() + checkTimeout(where, timeoutMs);
      s = checkSignal(where, signal);
    } catch (e) {
      return Promise.reject(e); // bad input rejects, like every other call
    }
    if (s?.aborted) return Promise.reject(s.reason);
    const token = this.#owner + ++this.#taken;
    // the first try straight away (the lock is usually free); while it is held, poll's tries with their pauses
    return this.#try(where, token).then((fence) =>
      fence === undefined ? this.#wait(where, token, deadline, s) : new ValkeyMutexGuard(this.#c, this, token, fence)
    );
  }

  /** After a first try found the lock held: poll's first pause, then its tries, until `deadline`. */
  async #wait(where: string, token: string, deadline: number, s?: AbortSignal): Promise<ValkeyMutexGuard | null> {
    const left = deadline - performance.now();
    if (left <= 0) return null;
    await sleep(Math.min(left, FIRST_SLEEP_MS * (0.5 + Math.random())), s);
    const fence = await poll(() => this.#try(where, token), deadline, s);
    return fence === undefined ? null : new ValkeyMutexGuard(this.#c, this, token, fence);
  }

  /** One try: the fencing token, or undefined while another holds it. */
  #try(where: string, token: string): Promise<number | undefined> {
    return this.#c.run(where, ACQUIRE, [this.key, this.#fence], [token, this.#leaseArg], false, (reply) => {
      const [taken, n] = reply as unknown[];
      if (String(taken) === "1") return Number(n);
      if (String(n) === "-1") {
        throw new ValkeyWrongTypeError(
          where,
          this.key,
          "it holds a value without an expiry: not a lease of this library",
        );
      }
      return undefined;
    });
  }
}
