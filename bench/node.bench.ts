/**
 * The Node column: issue 13's speed targets, measured in Node in one run
 * (each ratio the median of per-round ratios of two measurements taken back
 * to back), and the fixed cost of a Node-API call, which decides where the
 * Node entry uses the built-in `Atomics` instead of the addon.
 *
 * - i32 `fetchAdd` vs the built-in `Atomics.add` (target ≤ 1.2×);
 * - f64 `fetchAdd` vs a pure-JavaScript compare-exchange loop (≤ 0.5×);
 * - u64 `fetchAdd(1)` (number path) vs `Atomics.add` on a `BigUint64Array` (≤ 0.7×);
 * - a counter (`AtomicU64.fetchAdd(1)`) shared by 2 processes on a segment vs
 *   by 2 `worker_threads` on a `SharedArrayBuffer` (≤ 2×);
 * - Node-API: a call of an export with no argument, with (pointer, i32), vs a JavaScript call.
 *
 * Run: `node bench/node.bench.ts` (Node 22.18 or newer strips the types), or
 * `bash bench/run.sh`. Environment: BENCH_ROUNDS (default 5), BENCH_N
 * (calls per measurement, default 2000000), BENCH_ADD_N (fetchAdds per peer,
 * default 1000000). Prints markdown on stdout, progress on stderr.
 *
 * @module
 */

import process from "node:process";
import { spawn } from "node:child_process";
import { Worker } from "node:worker_threads";
import { loadedAddon } from "../src/native/node_addon.ts";
import type * as Api from "../src/index.ts";

const entry = new URL("../node.ts", import.meta.url).href;
const api = (await import(entry)) as typeof Api;
const env = (name: string, fallback: number): number => Number(process.env[name] || fallback);
const ROUNDS = env("BENCH_ROUNDS", 5), N = env("BENCH_N", 2_000_000), ADD_N = env("BENCH_ADD_N", 1_000_000);
const now = (): number => performance.now() * 1e6;
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[(s.length >> 1) - 1] + s[s.length >> 1]) / 2;
};
const fmt = (x: number): string => (x >= 100 ? Math.round(x).toString() : x.toFixed(x < 10 ? 2 : 1));

/** ns per call of `loop(n)` (which makes n calls). */
function time(loop: (n: number) => unknown): number {
  const t0 = now();
  loop(N);
  return (now() - t0) / N;
}

/** Two measurements per round, back to back; their medians and the median ratio. */
function pair(a: (n: number) => unknown, b: (n: number) => unknown): { a: number; b: number; ratio: number } {
  a(N >> 4), b(N >> 4); // warm up
  const as: number[] = [], bs: number[] = [], rs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const x = time(a), y = time(b);
    as.push(x), bs.push(y), rs.push(x / y);
  }
  return { a: median(as), b: median(bs), ratio: median(rs) };
}

const rows: string[] = [];
function row(what: string, ours: string, base: string, m: { a: number; b: number; ratio: number }, target?: number) {
  const verdict = target === undefined ? "" : m.ratio <= target ? `≤ ${target}×: met` : `≤ ${target}×: **missed**`;
  rows.push(`| ${what} | ${ours} ${fmt(m.a)} ns | ${base} ${fmt(m.b)} ns | ${m.ratio.toFixed(2)}× | ${verdict} |`);
  process.stderr.write(`${what}: ${m.ratio.toFixed(2)}×\n`);
}

// ---- single-thread, on a SharedArrayBuffer ------------------------------------------------

const sab = new SharedArrayBuffer(64);
const i32 = new api.AtomicI32(sab, 0), ta32 = new Int32Array(sab, 0, 1);
row(
  "i32 `fetchAdd(1)` vs `Atomics.add`",
  "`AtomicI32`",
  "built-in",
  pair((n) => {
    for (let i = 0; i < n; i++) i32.fetchAdd(1);
  }, (n) => {
    for (let i = 0; i < n; i++) Atomics.add(ta32, 0, 1);
  }),
  1.2,
);

const f64 = new api.AtomicF64(sab, 8), bits = new BigInt64Array(sab, 16, 1);
const scratch = new ArrayBuffer(8), sf = new Float64Array(scratch), sb = new BigInt64Array(scratch);
/** What a program can do without the library: a compare-exchange loop on the float's bits. */
function jsFetchAddF64(v: number): number {
  for (;;) {
    const old = Atomics.load(bits, 0);
    sb[0] = old;
    const before = sf[0];
    sf[0] = before + v;
    if (Atomics.compareExchange(bits, 0, old, sb[0]) === old) return before;
  }
}
row(
  "f64 `fetchAdd(1.5)` vs a JavaScript CAS loop",
  "`AtomicF64`",
  "CAS loop",
  pair((n) => {
    for (let i = 0; i < n; i++) f64.fetchAdd(1.5);
  }, (n) => {
    for (let i = 0; i < n; i++) jsFetchAddF64(1.5);
  }),
  0.5,
);

const u64 = new api.AtomicU64(sab, 24), big = new BigUint64Array(sab, 32, 1);
row(
  "u64 `fetchAdd(1)` (number path) vs `Atomics.add` on a `BigUint64Array`",
  "`AtomicU64`",
  "built-in (bigint)",
  pair((n) => {
    for (let i = 0; i < n; i++) u64.fetchAdd(1);
  }, (n) => {
    for (let i = 0; i < n; i++) Atomics.add(big, 0, 1n);
  }),
  0.7,
);

// ---- the Node-API per-call cost -------------------------------------------------------------

const addon = loadedAddon()!; // loaded by the atomics above
const lockFree = addon.symbol("sa_wide_lock_free", false), add32 = addon.symbol("sa_i32_fetch_add", false);
const p = addon.address(new Uint8Array(sab, 40, 4));
const empty = new Function("return 1") as () => number;
row(
  "Node-API call, no argument (`sa_wide_lock_free()`) vs a JavaScript call",
  "addon",
  "JS function",
  pair((n) => {
    for (let i = 0; i < n; i++) lockFree();
  }, (n) => {
    for (let i = 0; i < n; i++) empty();
  }),
);
row(
  "Node-API `sa_i32_fetch_add(p, 1)` vs `Atomics.add`",
  "addon",
  "built-in",
  pair((n) => {
    for (let i = 0; i < n; i++) add32(p, 1);
  }, (n) => {
    for (let i = 0; i < n; i++) Atomics.add(ta32, 0, 1);
  }),
);

// ---- a counter shared by 2 processes vs 2 worker_threads --------------------------------------

/** Runs `ADD_N` fetchAdd(1) on each of 2 peers started by `start`; ns per fetchAdd (wall / total). */
async function shared(
  start: (args: unknown[]) => { done: Promise<unknown> },
  memory: SharedArrayBuffer | Api.SharedMemory,
): Promise<number> {
  const counter = new api.AtomicU64(memory, 0),
    gate = new api.AtomicI32(memory, 8),
    ready = new api.AtomicI32(memory, 12);
  counter.store(0n), gate.store(0), ready.store(0);
  const ref = (a: { handle(): string; descriptor(): unknown }) =>
    memory instanceof api.SharedMemory ? a.handle() : a.descriptor();
  const args = [entry, ref(counter), ref(gate), ref(ready), ADD_N];
  const peers = [start(args), start(args)];
  while (ready.load() < 2) await new Promise((r) => setTimeout(r, 1));
  const t0 = now();
  gate.store(1);
  gate.notify();
  await Promise.all(peers.map((p) => p.done));
  const ns = (now() - t0) / (2 * ADD_N);
  if (counter.load() !== BigInt(2 * ADD_N)) throw new Error(`lost updates: ${counter.load()}`);
  return ns;
}

const peerScript = new URL("./node_peer.ts", import.meta.url).pathname;
const viaProcess = (args: unknown[]) => {
  const c = spawn(process.execPath, [peerScript, JSON.stringify(args)], { stdio: ["ignore", "ignore", "inherit"] });
  return {
    done: new Promise((r, j) => c.on("close", (code) => (code === 0 ? r(code) : j(new Error(`peer ${code}`))))),
  };
};
const viaWorker = (args: unknown[]) => {
  const w = new Worker(new URL("./node_peer.ts", import.meta.url), { workerData: args });
  return { done: new Promise((r, j) => (w.on("exit", r), w.on("error", j))) };
};
{
  const seg = api.SharedMemory.create(`/sa-bench-node-${process.pid}`, 4096);
  try {
    const ps: number[] = [], ws: number[] = [], rs: number[] = [];
    for (let r = 0; r < Math.max(3, ROUNDS >> 1); r++) {
      const x = await shared(viaProcess, seg), y = await shared(viaWorker, new SharedArrayBuffer(64));
      ps.push(x), ws.push(y), rs.push(x / y);
    }
    row(
      "`AtomicU64.fetchAdd(1)` by 2 processes (segment) vs by 2 `worker_threads` (SharedArrayBuffer)",
      "processes",
      "Workers",
      { a: median(ps), b: median(ws), ratio: median(rs) },
      2,
    );
  } finally {
    seg.close();
    seg.unlink();
  }
}

console.log(`### Node ${process.versions.node} (V8 ${process.versions.v8}), Node-API ${process.versions.napi}

${ROUNDS} rounds of ${N.toLocaleString("en-US")} calls (processes and Workers: ${
  ADD_N.toLocaleString("en-US")
} fetchAdds each).

| measurement | ours | baseline | ratio | target |
|---|---:|---:|---:|---|
${rows.join("\n")}
`);
process.exit(0);
