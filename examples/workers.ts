// Four Workers add to two counters in one SharedArrayBuffer at the same time;
// every update lands: an exact integer count and an exact float sum.
//
//   bun examples/workers.ts          deno run -A examples/workers.ts
import { AtomicF64, AtomicU64 } from "shared-atomic";

const WORKERS = 4;
const ROUNDS = 10_000;

const sab = new SharedArrayBuffer(16);
const count = new AtomicU64(sab, 0); // bytes 0..7
const sum = new AtomicF64(sab, 8); // bytes 8..15

const url = new URL("./workers.worker.ts", import.meta.url).href;
const finished = Array.from({ length: WORKERS }, () => {
  const worker = new Worker(url, { type: "module" });
  worker.postMessage({ count: count.descriptor(), sum: sum.descriptor(), rounds: ROUNDS });
  return new Promise<void>((resolve) => {
    worker.onmessage = () => {
      worker.terminate();
      resolve();
    };
  });
});
await Promise.all(finished);

console.log(`count: ${count.load()}`); // 4 × 10,000 increments
console.log(`sum: ${sum.load()}`); // 4 × 10,000 × 0.5
