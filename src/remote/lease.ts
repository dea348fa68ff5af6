/**
 * A lease kept alive: while a Valkey lock or permit is held, its expiry is
 * pushed forward every third of the lease. When a renewal finds the lease
 * gone (it expired while the process stalled, or the server restarted
 * without it), or no renewal has succeeded for a whole lease, the lease is
 * lost: `signal` aborts with a LeaseLostError, so the holder learns it
 * before it unlocks.
 *
 * @module
 */

import { LeaseLostError } from "./errors.ts";
import { unref } from "./poll.ts";

/** A renewal: true if the server still had the lease (and extended it). */
export type Renew = () => Promise<boolean>;

/**
 * The leases held in this thread, by renewal period, with one interval per
 * period (a timer per lock would cost ~15 µs a lock in Deno): made when the
 * first lease of its period is taken, stopped at a tick that finds none.
 * Each period's leases are a list threaded through them, so taking and
 * releasing a lease costs a few stores (a Set's add and delete cost more in
 * a lock's round trip, measured).
 */
interface Group {
  head: Lease | undefined;
}
const held = new Map<number, Group>();

function track(lease: Lease, period: number): Group {
  let group = held.get(period);
  if (!group) {
    const g: Group = { head: undefined };
    const timer = setInterval(() => {
      if (g.head === undefined) {
        clearInterval(timer);
        held.delete(period);
        return;
      }
      for (let l: Lease | undefined = g.head, next; l; l = next) {
        next = l.next; // a tick may unlink l (lost), never another
        l.tick();
      }
    }, period);
    unref(timer);
    held.set(period, group = g);
  }
  lease.next = group.head;
  if (group.head) group.head.prev = lease;
  group.head = lease;
  return group;
}

function untrack(lease: Lease, group: Group): void {
  if (lease.prev) lease.prev.next = lease.next;
  else if (group.head === lease) group.head = lease.next;
  else return; // not in the list (already untracked)
  if (lease.next) lease.next.prev = lease.prev;
  lease.prev = lease.next = undefined;
}

/** The renewal of one held lease. */
export class Lease {
  /** Made on first use (most leases are released without anyone looking at their signal). */
  #abort: AbortController | undefined;
  #active = true;
  #lastRenewed = performance.now();
  #renewing = false;
  readonly #group: Group;
  /** @internal The neighbours in its period's list of held leases. */
  prev: Lease | undefined;
  /** @internal */
  next: Lease | undefined;

  /** The method that took the lease, for messages. */
  readonly where: string;
  /** The lease's name. */
  readonly name: string;
  /** The lease's length. */
  readonly leaseMs: number;
  /** How to renew it. */
  readonly renew: Renew;
  /** Starts renewing `name`'s lease of `leaseMs` through `renew`, every third of it. */
  constructor(where: string, name: string, leaseMs: number, renew: Renew) {
    this.where = where;
    this.name = name;
    this.leaseMs = leaseMs;
    this.renew = renew;
    this.#group = track(this, Math.max(1, Math.floor(leaseMs / 3)));
  }

  /** Aborts (with a LeaseLostError) once the lease is lost. */
  get signal(): AbortSignal {
    return (this.#abort ??= new AbortController()).signal;
  }

  /** Whether the lease is known to be lost. */
  get lost(): boolean {
    return this.#abort?.signal.aborted ?? false;
  }

  /** Renews now; throws LeaseLostError if the lease is gone. */
  async extend(where: string): Promise<void> {
    if (this.lost) throw new LeaseLostError(where, this.name);
    if (await this.renew()) {
      this.#lastRenewed = performance.now();
      return;
    }
    this.markLost();
    throw new LeaseLostError(where, this.name);
  }

  /** Marks the lease lost (stops renewing, aborts the signal). */
  markLost(): void {
    this.stop();
    if (!this.lost) (this.#abort ??= new AbortController()).abort(new LeaseLostError(this.where, this.name));
  }

  /** Stops renewing (released). */
  stop(): void {
    this.#active = false;
    untrack(this, this.#group);
  }

  /** @internal One renewal, by the interval of its period (skipped while one is under way). */
  async tick(): Promise<void> {
    if (this.#renewing || !this.#active) return;
    this.#renewing = true;
    try {
      const ok = await this.renew();
      if (!this.#active) return; // released meanwhile
      if (ok) this.#lastRenewed = performance.now();
      else this.markLost();
    } catch {
      // the server is unreachable: the lease may run out there meanwhile
      if (this.#active && performance.now() - this.#lastRenewed >= this.leaseMs) this.markLost();
    } finally {
      this.#renewing = false;
    }
  }
}
