/**
 * Reply deadlines without a timer per command: one interval per link ticks
 * every quarter of the timeout, and a command still pending at its fifth
 * tick is failed with "Command timed out", so a command fails between 1 and
 * 1.25 times the timeout after it was sent. (A timer per command costs about
 * 15 µs in Deno, measured: 15% of a loopback round trip.)
 *
 * @module
 */

import type { OnError } from "./link.ts";
import { unref } from "./poll.ts";

interface Pending {
  ticks: number;
  fail: (e: unknown) => void;
}

/** The pending commands of one link, and the interval that times them out. */
export class Deadlines {
  readonly #pending = new Set<Pending>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** How long a reply may take. */
  readonly timeoutMs: number;
  /** Deadlines of `timeoutMs`. */
  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  /** `reply`, failed through `fail` once it is late (or when it rejects). */
  track(reply: Promise<unknown>, fail: OnError): Promise<unknown> {
    this.#timer ??= this.#start();
    return new Promise((resolve, reject) => {
      const p: Pending = {
        ticks: 0,
        fail: (e) => {
          try {
            fail(e);
          } catch (mapped) {
            reject(mapped);
          }
        },
      };
      this.#pending.add(p);
      reply.then((v) => {
        this.#pending.delete(p);
        resolve(v);
      }, (e) => {
        if (this.#pending.delete(p)) p.fail(e);
      });
    });
  }

  /** Stops the interval (the link is closed). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #start(): ReturnType<typeof setInterval> {
    const t = setInterval(() => {
      for (const p of this.#pending) {
        if (++p.ticks < 5) continue; // the first tick may come at once: four whole quarters after it
        this.#pending.delete(p);
        p.fail(new Error("Command timed out"));
      }
    }, Math.max(1, this.timeoutMs / 4));
    unref(t);
    return t;
  }
}
