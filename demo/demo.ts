// The seed's scenario, made visible: N Workers hammer shared counters of
// several types at once; the totals come out exact, where a plain
// Float64Array updated the same way loses updates.
//
//   bun demo/demo.ts [workers] [ops per worker]
//   deno run -A demo/demo.ts [workers] [ops per worker]
const isBun = "Bun" in globalThis;
const entry = isBun ? "../bun.ts" : "../mod.ts";
const api: typeof import("../src/index.ts") = await import(entry);
const { AtomicU64, AtomicI32, AtomicF64, AtomicBool } = api;

// deno-lint-ignore no-explicit-any
const args: string[] = isBun ? (globalThis as any).process.argv.slice(2) : (globalThis as any).Deno.args;
const workers = Number(args[0] ?? 8);
const ops = Number(args[1] ?? 250_000);
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime = isBun ? `Bun ${g.Bun.version}` : `Deno ${g.Deno.version.deno}`;

const START = 2n ** 63n - 1n;
const seed = AtomicU64.create(START);
const hits = AtomicI32.create(0);
const sum = AtomicF64.create(0);
const flag = AtomicBool.create(false);
const plain = new SharedArrayBuffer(8);
const gate = new Int32Array(new SharedArrayBuffer(8));

console.log(`shared-atomic demo on ${runtime}: ${workers} Workers × ${ops.toLocaleString("en")} rounds`);
console.log("each round: u64.subFetch(100n), i32.fetchAdd(1), f64.fetchAdd(0.5), bool.compareAndSet(false, true),");
console.log("then, for comparison, the same number of plain (non-atomic) Int32Array increments\n");

const url = new URL("./worker.ts", import.meta.url).href;
const pool = Array.from({ length: workers }, () => new Worker(url, { type: "module" }));
await Promise.all(pool.map((w) => new Promise((r) => (w.onmessage = r))));
const done = pool.map((w) =>
  new Promise<{ ms: number; won: number }>((resolve) => {
    w.onmessage = (e) => resolve(e.data);
    w.postMessage({
      u64: seed.descriptor(),
      i32: hits.descriptor(),
      f64: sum.descriptor(),
      flag: flag.descriptor(),
      plain,
      ops,
      gate,
      workers,
    });
  })
);
await new Promise((r) => setTimeout(r, 50));
Atomics.store(gate, 0, 1);
Atomics.notify(gate, 0);
const results = await Promise.all(done);
const wall = Math.max(...(await Promise.all(done)).map((r) => r.ms));
for (const w of pool) w.terminate();

const n = workers * ops;
const rows: [string, string, string][] = [
  ["AtomicU64 subFetch(100n) from 2^63-1", String(START - 100n * BigInt(n)), String(seed.load())],
  ["AtomicI32 fetchAdd(1)", String(n), String(hits.load())],
  ["AtomicF64 fetchAdd(0.5)", String(n * 0.5), String(sum.load())],
  ["AtomicBool compareAndSet winners", "1", String(results.reduce((a, r) => a + r.won, 0))],
  ["plain Int32Array[0]++ (not atomic)", String(n), String(new Int32Array(plain)[0])],
];
const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length), 8);
console.log(`${"counter".padEnd(w0)}  ${"expected".padStart(w1)}  ${"actual".padStart(w1)}`);
let exact = true;
for (const [name, want, got] of rows) {
  const ok = want === got;
  if (!name.startsWith("plain")) exact &&= ok;
  const mark = ok ? "exact" : name.startsWith("plain") ? `lost ${Number(want) - Number(got)} updates` : "WRONG";
  console.log(`${name.padEnd(w0)}  ${want.padStart(w1)}  ${got.padStart(w1)}  ${mark}`);
}
const atomicOps = n * 4;
console.log(
  `\n${atomicOps.toLocaleString("en")} atomic operations in ${wall.toFixed(0)} ms (slowest Worker): ` +
    `${(atomicOps / wall / 1000).toFixed(1)} M ops/s across ${workers} Workers (contended, same cache lines)`,
);
console.log(exact ? "all atomic totals exact" : "MISMATCH: an atomic total is wrong");
if (!exact) (globalThis as { process?: { exitCode: number } }).process!.exitCode = 1;
export {};
