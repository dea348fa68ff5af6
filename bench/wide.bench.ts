/**
 * ns/op of the wide atomics (AtomicU128, AtomicI128, AtomicString,
 * AtomicBytes) next to the 64-bit ones, in Bun and in Deno (one file for
 * both): single-threaded and uncontended, the cost of a call.
 *
 * Run: `bun bench/wide.bench.ts` or `deno run -A bench/wide.bench.ts`.
 * Environment: BENCH_N (ops per measurement, default 1000000), BENCH_ROUNDS
 * (default 7), SHARED_ATOMIC_LIB (the library under test).
 *
 * Each figure is the median over the rounds of the process's CPU time
 * (user + system) per operation: on a shared machine, time this process was
 * not running does not count. The rounds go round-robin over every row (round
 * 1 of each, then round 2 of each, …), so a slow spell of the machine hits
 * every row alike. Prints a markdown table on stdout.
 *
 * @module
 */

import { loadavg as osLoadavg } from "node:os";
import process from "node:process";
import type * as Api from "../src/index.ts";

const isBun = "Bun" in globalThis;
// Non-literal specifier: neither type checker follows the other runtime's entry.
const entry: string = isBun ? "../bun.ts" : "../mod.ts";
const api = (await import(entry)) as typeof Api;
const { wideSymbols, scratch } = await import("../src/wide/native.ts");

const N = Number(process.env.BENCH_N ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

const loadavg = (): string => osLoadavg().map((x) => x.toFixed(2)).join(" ");

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Row {
  op: string;
  note: string;
  /** Runs `n` operations; its own function per row, so the call of the op is monomorphic and can be inlined. */
  loop: (n: number) => unknown;
  rounds: number[];
}
const rows: Row[] = [];
function row(op: string, note: string, f: (i: number) => unknown): void {
  const loop = new Function("f", "return function (n) { let s; for (let i = 0; i < n; i++) s = f(i); return s; };")(
    f,
  ) as Row["loop"];
  loop(Math.min(N, 300_000)); // warm up: let the JIT settle
  rows.push({ op, note, loop, rounds: [] });
}

/** Runs every row's rounds, round-robin; ns/op of each round. */
function measureAll(): void {
  for (let r = 0; r < ROUNDS; r++) {
    for (const row of rows) {
      const t = cpuNs();
      row.loop(N);
      row.rounds.push((cpuNs() - t) / N);
    }
    console.error(`round ${r + 1}/${ROUNDS}`);
  }
}

// ---- 64-bit figures, for comparison ----------------------------------------------
const u64 = api.AtomicU64.create(0n);
row("AtomicU64.fetchAdd(1n)", "64-bit, bigint path", () => u64.fetchAdd(1n));
row("AtomicU64.fetchAdd(1)", "64-bit, number path", () => u64.fetchAdd(1));
const c64 = api.AtomicU64.create(0n);
row(
  "AtomicU64.compareAndSet(bigint)",
  "64-bit; always succeeds (0n ↔ 1n)",
  (i) => c64.compareAndSet(i & 1 ? 1n : 0n, i & 1 ? 0n : 1n),
);
const c64n = api.AtomicU64.create(0n);
row("AtomicU64.compareAndSet(number)", "64-bit; always succeeds (0 ↔ 1)", (i) => c64n.compareAndSet(i & 1, ~i & 1));

// ---- 128-bit integers --------------------------------------------------------------
const u128 = api.AtomicU128.create(0n);
row("AtomicU128.fetchAdd(1n)", "value < 2^64 (one 64-bit half in use)", () => u128.fetchAdd(1n));
const w128 = api.AtomicU128.create(1n << 100n);
row("AtomicU128.fetchAdd(1n), value ≥ 2^64", "both halves in use", () => w128.fetchAdd(1n));
row("AtomicU128.load()", "a 16-byte compare-exchange", () => w128.load());
row("AtomicU128.store(v)", "", () => u128.store(5n));
const cas128 = api.AtomicU128.create(0n);
const A = 1n << 70n, B = (1n << 70n) + 1n;
row(
  "AtomicU128.compareAndSet",
  "always succeeds (2^70 ↔ 2^70+1)",
  (i) => cas128.compareAndSet(i & 1 ? B : A, i & 1 ? A : B),
);
const i128 = api.AtomicI128.create(0n);
row("AtomicI128.fetchAdd(-1n)", "negative values", () => i128.fetchAdd(-1n));

// ---- strings and bytes ---------------------------------------------------------------
const s8 = api.AtomicString.create(8, "ab");
row(
  'AtomicString(8).compareAndSet("ab" ↔ "cd")',
  "always succeeds",
  (i) => s8.compareAndSet(i & 1 ? "cd" : "ab", i & 1 ? "ab" : "cd"),
);
const s16 = api.AtomicString.create(16, "ab");
row(
  'AtomicString(16).compareAndSet("ab" ↔ "cd")',
  "always succeeds",
  (i) => s16.compareAndSet(i & 1 ? "cd" : "ab", i & 1 ? "ab" : "cd"),
);
row('AtomicString(16).compareAndSet("xy", "cd")', "always fails", () => s16.compareAndSet("xy", "cd"));
const u16 = api.AtomicString.create(16, "");
row(
  "AtomicString(16).compareAndSet, non-ASCII",
  '"naïve→" ↔ "日本語": 2- and 3-byte UTF-8',
  (i) => u16.compareAndSet(i & 1 ? "日本語" : "naïve→", i & 1 ? "naïve→" : "日本語"),
);
row("AtomicString(16).load()", '"ab"', () => s16.load());
row("AtomicString(16).store(s)", '"ab"', () => s16.store("ab"));

const b8 = api.AtomicBytes.create(8);
const x8 = new Uint8Array(8), y8 = new Uint8Array(8).fill(1);
row("AtomicBytes(8).compareAndSet", "always succeeds", (i) => b8.compareAndSet(i & 1 ? y8 : x8, i & 1 ? x8 : y8));
const b16 = api.AtomicBytes.create(16);
const x16 = new Uint8Array(16), y16 = new Uint8Array(16).fill(1);
row("AtomicBytes(16).compareAndSet", "always succeeds", (i) => b16.compareAndSet(i & 1 ? y16 : x16, i & 1 ? x16 : y16));
const into = new Uint8Array(16);
row("AtomicBytes(16).loadInto(buf)", "no allocation", () => b16.loadInto(into));
row("AtomicBytes(16).load()", "allocates the result", () => b16.load());

// ---- the floor: the native call alone ------------------------------------------------
const raw = wideSymbols("u128");
const [p0] = scratch();
const mem = new Uint8Array(new SharedArrayBuffer(16));
const memPtr = isBun
  ? (await import(["bun", "ffi"].join(":"))).ptr(mem)
  : (globalThis as unknown as { Deno: { UnsafePointer: { of(v: Uint8Array): unknown } } }).Deno.UnsafePointer.of(mem);
const load = raw.load;
row("native sa_u128_load(p, scratch)", "the FFI call and cmpxchg16b, no conversion", () => load(memPtr, p0));

// ---- report ------------------------------------------------------------------------------
const loadBefore = loadavg();
measureAll();
const version = isBun
  ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : `Deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`;
console.log(`### ${version}: wide values\n`);
console.log(
  `${N.toLocaleString("en-US")} ops per measurement, ${ROUNDS} rounds (round-robin over the rows); ` +
    `median CPU time per op. Load average before/after: ${loadBefore} / ${loadavg()}.\n`,
);
const fmt = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));
console.log("| op | ns/op (median) | ns/op (best round) | note |");
console.log("|---|---:|---:|---|");
for (const r of rows) console.log(`| ${r.op} | ${fmt(median(r.rounds))} | ${fmt(Math.min(...r.rounds))} | ${r.note} |`);
