// Demo Worker: hammers the shared counters it is sent, then reports.
const entry = "Bun" in globalThis ? "../bun.ts" : "../mod.ts";
const api: typeof import("../src/index.ts") = await import(entry);

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;

scope.onmessage = (e: MessageEvent) => {
  const { u64, i32, f64, flag, plain, ops, gate, workers } = e.data;
  const seed = api.fromDescriptor<InstanceType<typeof api.AtomicU64>>(u64);
  const hits = api.fromDescriptor<InstanceType<typeof api.AtomicI32>>(i32);
  const sum = api.fromDescriptor<InstanceType<typeof api.AtomicF64>>(f64);
  const once = api.fromDescriptor<InstanceType<typeof api.AtomicBool>>(flag);
  const racy = new Int32Array(plain);
  Atomics.wait(gate, 0, 0);
  const t0 = performance.now();
  let won = 0;
  for (let i = 0; i < ops; i++) {
    seed.subFetch(100n);
    hits.fetchAdd(1);
    sum.fetchAdd(0.5);
    if (once.compareAndSet(false, true)) won++;
  }
  const ms = performance.now() - t0;
  // all Workers start the plain loop together, so they really race
  Atomics.add(gate, 1, 1);
  while (Atomics.load(gate, 1) < workers);
  for (let i = 0; i < ops; i++) racy[0]++; // what you get without atomics
  scope.postMessage({ ms, won });
};
scope.postMessage("ready");
export {};
