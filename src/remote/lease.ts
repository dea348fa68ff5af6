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

/** The renewal timer of one held lease. */
export class Lease {
  /** Made on first use (most leases are released without anyone looking at their signal). */
  #abort: AbortController | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastRenewed = performance.now();
  #renewing = false;

  /** Starts renewing `name`'s lease of `leaseMs` through `renew`. */
  constructor(readonly where: string, readonly name: string, readonly leaseMs: number, readonly renew: Renew) {
    this.#timer = setInterval(() => this.#tick(), Math.max(1, Math.floor(leaseMs / 3)));
    unref(this.#timer);
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
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #tick(): Promise<void> {
    if (this.#renewing || this.#timer === undefined) return;
    this.#renewing = true;
    try {
      const held = await this.renew();
      if (this.#timer === undefined) return; // released meanwhile
      if (held) this.#lastRenewed = performance.now();
      else this.markLost();
    } catch {
      // the server is unreachable: the lease may run out there meanwhile
      if (this.#timer !== undefined && performance.now() - this.#lastRenewed >= this.leaseMs) this.markLost();
    } finally {
      this.#renewing = false;
    }
  }
}
