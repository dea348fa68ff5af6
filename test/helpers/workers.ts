// Runs a job on N Workers at once and collects their results.
import type { Job } from "../workers/worker.ts";
import { newWorker } from "./worker.ts";

export async function onWorkers(
  n: number,
  job: Omit<Job, "gate"> | Record<string, unknown>,
  counts?: number[],
  script = "./worker.ts",
): Promise<number[]> {
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const url = new URL(script, new URL("../workers/", import.meta.url)).href;
  const workers = Array.from({ length: n }, () => newWorker(url));
  try {
    const ready = workers.map((w) =>
      new Promise<void>((resolve, reject) => {
        w.onmessage = () => resolve();
        w.onerror = (e) => reject(new Error(`worker failed to start: ${e.message}`));
      })
    );
    await Promise.all(ready);
    const results = workers.map((w, i) =>
      new Promise<number>((resolve, reject) => {
        w.onmessage = (e) => resolve(e.data);
        w.onerror = (e) => reject(new Error(`worker failed: ${e.message}`));
        w.postMessage({ ...job, count: counts?.[i] ?? job.count, gate });
      })
    );
    while (Atomics.load(gate, 1) < n) await new Promise((r) => setTimeout(r, 1));
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    return await Promise.all(results);
  } finally {
    for (const w of workers) w.terminate();
  }
}
