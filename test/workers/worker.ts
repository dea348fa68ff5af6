// A test Worker: rebuilds an atomic from its descriptor, waits at a start
// gate so all Workers race at once, runs one job, posts the result.
import { api } from "../helpers/api.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;

export interface Job {
  job: "subFetch" | "addFetch" | "addFetchNumber" | "fetchAddF64" | "cas";
  descriptor: ReturnType<InstanceType<typeof api.AtomicI32>["descriptor"]>;
  count: number;
  gate: Int32Array;
}

// deno-lint-ignore no-explicit-any
function run({ job, descriptor, count }: Job): any {
  // deno-lint-ignore no-explicit-any
  const a: any = api.fromDescriptor(descriptor);
  let wins = 0;
  switch (job) {
    case "subFetch":
      for (let i = 0; i < count; i++) a.subFetch(100n);
      return count;
    case "addFetch":
      for (let i = 0; i < count; i++) a.addFetch(100n);
      return count;
    case "addFetchNumber":
      for (let i = 0; i < count; i++) a.addFetch(100);
      return count;
    case "fetchAddF64":
      for (let i = 0; i < count; i++) a.fetchAdd(1.0);
      return count;
    case "cas":
      for (let i = 0; i < count; i++) if (a.compareAndSet(0xA, 0xB)) wins++;
      return wins;
  }
}

scope.onmessage = (e: MessageEvent<Job>) => {
  const { gate } = e.data;
  Atomics.add(gate, 1, 1); // arrived
  Atomics.wait(gate, 0, 0); // wait for the start signal
  scope.postMessage(run(e.data));
};
scope.postMessage("ready");
