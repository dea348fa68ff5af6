// A Worker for test/map_workers.test.ts: rebuilds the SharedMap it is sent,
// waits at the start gate (see helpers/workers.ts), runs one job, posts its result.
//   { job: "add", map, count, keys, offset, bigint }      -> count
//   { job: "write", map, count, keys, seed }              -> count
//   { job: "read", map, count, keys }                     -> torn values seen (0)
//   { job: "churn", map, keys, stop, seed }               -> operations done
import { api } from "../helpers/api.ts";
import { addJob, churnJob, readJob, writeJob } from "../helpers/map_jobs.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;

// deno-lint-ignore no-explicit-any
function run(d: any): number {
  const m = api.SharedMap.from(d.map);
  switch (d.job) {
    case "add":
      return addJob(m, d.count, d.keys, d.offset, d.bigint);
    case "write":
      return writeJob(m, d.count, d.keys, d.seed);
    case "read":
      return readJob(m, d.count, d.keys);
    case "churn":
      return churnJob(m, d.keys, d.stop, d.seed);
  }
  throw new Error(`unknown job ${d.job}`);
}

scope.onmessage = (e: MessageEvent) => {
  const { gate } = e.data;
  Atomics.add(gate, 1, 1); // arrived
  Atomics.wait(gate, 0, 0); // wait for the start signal
  scope.postMessage(run(e.data));
};
scope.postMessage("ready");
