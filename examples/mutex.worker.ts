// The Worker of mutex.ts: each deposit is a read-modify-write of two fields under the lock.
import { type AtomicDescriptor, Mutex } from "shared-atomic";

interface Job {
  mutex: AtomicDescriptor;
  sab: SharedArrayBuffer;
  rounds: number;
}

// A Worker's global scope, typed so this file checks in Bun and Deno alike.
const scope = globalThis as unknown as { onmessage: (e: MessageEvent<Job>) => void; postMessage(m: unknown): void };

scope.onmessage = ({ data }) => {
  const mutex = Mutex.from(data.mutex);
  const account = new Float64Array(data.sab, Mutex.BYTES, 2);
  for (let i = 0; i < data.rounds; i++) {
    using _locked = mutex.lock(); // unlocked at the end of this block
    account[0] += 0.25;
    account[1] += 1;
  }
  scope.postMessage("done");
};
