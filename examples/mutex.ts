// A Mutex in shared memory guards a non-atomic update of two plain fields:
// four Workers deposit at once, and balance and count always agree.
//
//   bun examples/mutex.ts            deno run -A examples/mutex.ts
import { Mutex } from "shared-atomic";

const WORKERS = 4;
const ROUNDS = 2_000;

const sab = new SharedArrayBuffer(Mutex.BYTES + 16);
const mutex = new Mutex(sab, 0); // Mutex.BYTES (48) bytes at offset 0: the robust word and room for its list entry
const account = new Float64Array(sab, Mutex.BYTES, 2); // [balance, deposits]: plain memory, guarded by the mutex

const url = new URL("./mutex.worker.ts", import.meta.url).href;
await Promise.all(Array.from({ length: WORKERS }, () => {
  const worker = new Worker(url, { type: "module" });
  worker.postMessage({ mutex: mutex.descriptor(), sab, rounds: ROUNDS });
  return new Promise<void>((resolve) => {
    worker.onmessage = () => {
      worker.terminate();
      resolve();
    };
  });
}));

console.log(`deposits: ${account[1]}`); // 4 × 2,000
console.log(`balance: ${account[0]}`); // 8,000 × 0.25
