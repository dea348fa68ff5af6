// Stores 1 into the AtomicI32 it is sent, after a short pause, and notifies.
import { api } from "../helpers/api.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
scope.onmessage = (e: MessageEvent) => {
  const a = api.AtomicI32.from(e.data);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  a.store(1);
  a.notify();
};
scope.postMessage("ready");
