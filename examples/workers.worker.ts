// The Worker of workers.ts: rebuilds both atomics from their descriptors.
import { type AtomicDescriptor, AtomicF64, AtomicU64 } from "shared-atomic";

interface Job {
  count: AtomicDescriptor;
  sum: AtomicDescriptor;
  rounds: number;
}

// A Worker's global scope, typed so this file checks in Bun and Deno alike.
const scope = globalThis as unknown as { onmessage: (e: MessageEvent<Job>) => void; postMessage(m: unknown): void };

scope.onmessage = ({ data }) => {
  const count = AtomicU64.from(data.count);
  const sum = AtomicF64.from(data.sum);
  for (let i = 0; i < data.rounds; i++) {
    count.fetchAdd(1); // the number path: no BigInt
    sum.fetchAdd(0.5); // an atomic float add
  }
  scope.postMessage("done");
};
