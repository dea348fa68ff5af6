// The Worker runner of the tests: Workers on a script of test/workers/ that
// post "ready" once loaded, take jobs by postMessage and post their results;
// and the gate-and-collect run, where every Worker counts itself in at a
// shared gate (Atomics.add(gate, 1, 1)), waits there (Atomics.wait(gate, 0, 0))
// and all are released at once, so their jobs race.
import type { Job } from "../workers/worker.ts";
import { newWorker } from "./worker.ts";

/** The URL of a Worker script (relative to test/workers/). */
const scriptUrl = (script: string) => new URL(script, new URL("../workers/", import.meta.url)).href;

/** Starts a Worker on `script` (relative to test/workers/); resolves once it has posted that it is ready. */
export async function startWorker(script: string): Promise<Worker> {
  const w = newWorker(scriptUrl(script));
  try {
    await new Promise<void>((resolve, reject) => {
      w.onmessage = () => resolve();
      w.onerror = (e) => reject(new Error(`worker ${script} failed to start: ${e.message}`));
    });
  } catch (e) {
    w.terminate();
    throw e;
  }
  return w;
}

/** Posts `data` to `w`; resolves with its next message after `skip` others, rejects if it fails. */
export function reply<R>(w: Worker, data: unknown, skip = 0): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let left = skip;
    w.onmessage = (e) => (left-- > 0 ? undefined : resolve(e.data));
    w.onerror = (e) => reject(new Error(`worker failed: ${e.message}`));
    w.postMessage(data);
  });
}

/**
 * Runs one job per Worker on `script` (relative to test/workers/), each job
 * given the gate (`gate`, an Int32Array of 4 the script may also use from
 * index 2), all released at once when every one has counted in; then
 * `whileRunning`, if given; resolves with their results in order. The
 * Workers are terminated afterwards, whatever happens.
 */
export async function onGatedWorkers<R>(
  script: string,
  jobs: readonly object[],
  whileRunning?: () => void | Promise<void>,
): Promise<R[]> {
  const gate = new Int32Array(new SharedArrayBuffer(16));
  const started = await Promise.allSettled(jobs.map(() => startWorker(script)));
  const workers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  try {
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    let failure: { error: unknown } | undefined;
    const results = workers.map((w, i) => reply<R>(w, { ...jobs[i], gate }));
    for (const r of results) r.catch((error) => (failure ??= { error }));
    while (Atomics.load(gate, 1) < jobs.length) {
      if (failure) throw failure.error;
      await new Promise((r) => setTimeout(r, 1));
    }
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await whileRunning?.();
    return await Promise.all(results);
  } finally {
    for (const w of workers) w.terminate();
  }
}

/**
 * Runs `job` on `n` Workers of test/workers/worker.ts (or `script`) at once,
 * Worker i with `counts[i]` as its count when given; their results in order.
 */
export function onWorkers(
  n: number,
  job: Omit<Job, "gate"> | Record<string, unknown>,
  counts?: number[],
  script = "./worker.ts",
): Promise<number[]> {
  return onGatedWorkers<number>(
    script,
    Array.from({ length: n }, (_, i) => ({ ...job, count: counts?.[i] ?? job.count })),
  );
}
