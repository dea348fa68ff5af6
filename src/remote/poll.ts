/**
 * Waiting on a server: a Valkey lock, semaphore permit or channel slot is
 * taken by one script call; while it is not free, the caller tries again
 * after a short sleep that doubles up to a cap (with jitter, so waiters
 * spread out), until its deadline or its AbortSignal. Each try is one round
 * trip. The wait's `timeoutMs` and `signal` are checked as every wait's
 * are (../sync/wait_args.ts), given as arguments or as an options object.
 *
 * @module
 */

import type { AsyncWaitOptions } from "./interfaces.ts";
import { checkOptions } from "./checks.ts";
import { type Wait, waitOf } from "../sync/wait_args.ts";

/** The first and the longest sleep between tries, in ms. */
export const FIRST_SLEEP_MS = 1;
export const MAX_SLEEP_MS = 25;

/** Sleeps `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Checks a wait given as the options object `{ timeoutMs?, signal? }` of `where`. */
export function waitOptions(where: string, options: unknown): Wait {
  const o = checkOptions<AsyncWaitOptions>(where, options, "{ timeoutMs?, signal? }");
  return waitOf(where, o.timeoutMs, o.signal);
}

/**
 * Calls `attempt` until it returns something other than undefined, the
 * deadline (a `performance.now()` time) passes (then undefined), or
 * `signal` aborts (then its reason is thrown).
 */
export async function poll<T>(
  attempt: () => Promise<T | undefined>,
  deadline: number,
  signal?: AbortSignal,
): Promise<T | undefined> {
  let pause = FIRST_SLEEP_MS;
  for (;;) {
    if (signal?.aborted) throw signal.reason;
    const r = await attempt();
    if (r !== undefined) return r;
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(left, pause * (0.5 + Math.random())), signal);
    pause = Math.min(pause * 2, MAX_SLEEP_MS);
  }
}

/** Lets the process exit while `timer` is pending (Bun/Node: unref(); Deno: Deno.unrefTimer). */
export function unref(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) (timer as { unref(): void }).unref();
  else if (typeof timer === "number") {
    (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(timer);
  }
}
