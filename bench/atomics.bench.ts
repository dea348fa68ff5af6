/**
 * ns/op of shared-atomic against what a program can do without it, in Bun and
 * in Deno (one file for both):
 *
 * - i32: `AtomicI32` vs the built-in `Atomics` on an `Int32Array` over the same
 *   `SharedArrayBuffer`;
 * - u64: `AtomicU64` with numbers (the `_f64` native path) and with bigints vs
 *   the built-in `Atomics` on a `BigUint64Array`;
 * - f64: `AtomicF64` vs pure JavaScript (a `BigUint64Array` alias of the same
 *   memory, `Atomics.compareExchange` on the bit pattern, a private
 *   `Float64Array`/`BigUint64Array` pair to convert bits): the best a user
 *   can do without this library;
 * - the native limit: the same operation in a C loop (bench/native_loop.c,
 *   compiled here with `cc`), called once per measurement through the same FFI.
 *
 * Run: `bun bench/atomics.bench.ts`, `deno run -A bench/atomics.bench.ts`, or
 * `bash bench/run.sh` for both plus bench/RESULTS.md. Environment:
 * BENCH_N (ops per measurement, default 5000000), BENCH_ROUNDS (default 5),
 * NATIVE_LOOP_LIB (a prebuilt native_loop shared library), CC (default cc),
 * SHARED_ATOMIC_LIB (the library under test).
 *
 * Prints markdown on stdout (progress on stderr): one table, the FFI call
 * floor, and a PASS/MISS line per target. Every figure is a median over the
 * rounds; ratios are medians of the per-round ratios, where the two sides were
 * measured back to back.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type * as Api from "../src/index.ts";

// ---- runtime ----------------------------------------------------------------

const isBun = "Bun" in globalThis;

interface FfiSig {
  readonly args: readonly string[];
  readonly returns: string;
}
type FfiFn = (...args: unknown[]) => unknown;

interface DenoGlobal {
  version: { deno: string; v8: string };
  dlopen(path: string, defs: Record<string, { parameters: string[]; result: string }>): {
    symbols: Record<string, FfiFn>;
  };
  UnsafePointer: { of(view: ArrayBufferView): unknown };
}
interface BunFfi {
  dlopen(path: string, defs: Record<string, { args: string[]; returns: string }>): { symbols: Record<string, FfiFn> };
  ptr(view: ArrayBufferView): number;
}

const deno = (globalThis as unknown as { Deno?: DenoGlobal }).Deno;
// Non-literal specifiers: neither type checker follows the other runtime's entry.
const entry: string = isBun ? "../bun.ts" : "../mod.ts";
const api = (await import(entry)) as typeof Api;
const bunFfiName: string = isBun ? ["bun", "ffi"].join(":") : "";
const bunFfi = isBun ? (await import(bunFfiName)) as BunFfi : undefined;

const runtimeName = isBun
  ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : `Deno ${deno!.version.deno} (V8 ${deno!.version.v8})`;

/** Opens a shared library with the runtime's FFI; "ptr" is Bun's name, "pointer" Deno's. */
function openFfi(path: string, sigs: Record<string, FfiSig>): Record<string, FfiFn> {
  if (bunFfi) {
    const defs: Record<string, { args: string[]; returns: string }> = {};
    for (const [k, s] of Object.entries(sigs)) defs[k] = { args: [...s.args], returns: s.returns };
    return bunFfi.dlopen(path, defs).symbols;
  }
  const d = (t: string): string => (t === "ptr" ? "pointer" : t);
  const defs: Record<string, { parameters: string[]; result: string }> = {};
  for (const [k, s] of Object.entries(sigs)) defs[k] = { parameters: s.args.map(d), result: d(s.returns) };
  return deno!.dlopen(path, defs).symbols;
}

/** The pointer of `view[0]` as the library's hot path holds it (number in Bun, UnsafePointer in Deno). */
const pointerOf = (view: ArrayBufferView): unknown => bunFfi ? bunFfi.ptr(view) : deno!.UnsafePointer.of(view);

const env = (name: string): string | undefined => process.env[name] || undefined;
const N = Number(env("BENCH_N") ?? 5_000_000) & ~1; // even: compare-exchange loops do pairs
const ROUNDS = Number(env("BENCH_ROUNDS") ?? 5);
const now = (): number => performance.now() * 1e6; // ns

// ---- the native loop library --------------------------------------------------

/** Builds bench/native_loop.c into the temp dir (keyed by its hash) unless NATIVE_LOOP_LIB is set. */
function nativeLoopLibrary(): string {
  const given = env("NATIVE_LOOP_LIB");
  if (given) return given;
  const src = fileURLToPath(new URL("./native_loop.c", import.meta.url));
  const hash = createHash("sha256").update(readFileSync(src)).digest("hex").slice(0, 12);
  const dir = join(tmpdir(), "shared-atomic-bench");
  const out = join(dir, `native_loop-${hash}.${process.platform === "darwin" ? "dylib" : "so"}`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync(env("CC") ?? "cc", ["-O2", "-shared", "-fPIC", "-o", tmp, src], { stdio: "inherit" });
    renameSync(tmp, out);
  }
  return out;
}

const loopSig = (v: string): FfiSig => ({ args: ["ptr", v, "u32"], returns: v });
const cmpxchgSig = (v: string): FfiSig => ({ args: ["ptr", v, v, "u32"], returns: v });
const nl = openFfi(nativeLoopLibrary(), {
  nl_i32_load: loopSig("i32"),
  nl_i32_store: loopSig("i32"),
  nl_i32_fetch_add: loopSig("i32"),
  nl_i32_compare_exchange: cmpxchgSig("i32"),
  nl_u64_load: loopSig("u64"),
  nl_u64_store: loopSig("u64"),
  nl_u64_fetch_add: loopSig("u64"),
  nl_u64_compare_exchange: cmpxchgSig("u64"),
  nl_f64_load: loopSig("f64"),
  nl_f64_store: loopSig("f64"),
  nl_f64_fetch_add: loopSig("f64"),
  nl_f64_fetch_max: loopSig("f64"),
  nl_f64_compare_exchange: cmpxchgSig("f64"),
  nl_noop_i32: { args: ["ptr", "i32"], returns: "i32" },
  nl_noop_f64: { args: ["ptr", "f64"], returns: "f64" },
  nl_noop_u64: { args: ["ptr", "u64"], returns: "u64" },
});

// ---- memory: one SharedArrayBuffer, each value on its own cache line -----------

const sab = new SharedArrayBuffer(256);
const I32 = 0, U64 = 64, F64 = 128; // byte offsets
const i32v = new Int32Array(sab);
const u64v = new BigUint64Array(sab);
const f64v = new Float64Array(sab); // the same memory as u64v, seen as doubles
const i32i = I32 / 4, u64i = U64 / 8, f64i = F64 / 8;

const ai32: Api.AtomicI32 = new api.AtomicI32(sab, I32);
const au64: Api.AtomicU64 = new api.AtomicU64(sab, U64);
const af64: Api.AtomicF64 = new api.AtomicF64(sab, F64);

const pI32 = pointerOf(new Uint8Array(sab, I32, 4));
const pU64 = pointerOf(new Uint8Array(sab, U64, 8));
const pF64 = pointerOf(new Uint8Array(sab, F64, 8));

// ---- pure-JavaScript f64 atomics: the best a user can do without the library ---

const scratchF = new Float64Array(1); // private, never shared: only converts bits
const scratchU = new BigUint64Array(scratchF.buffer);

function jsLoadF64(bits: BigUint64Array, i: number): number {
  scratchU[0] = Atomics.load(bits, i);
  return scratchF[0];
}

function jsStoreF64(bits: BigUint64Array, i: number, v: number): void {
  scratchF[0] = v;
  Atomics.store(bits, i, scratchU[0]);
}

function jsCompareExchangeF64(bits: BigUint64Array, i: number, expected: number, desired: number): number {
  scratchF[0] = expected;
  const e = scratchU[0];
  scratchF[0] = desired;
  scratchU[0] = Atomics.compareExchange(bits, i, e, scratchU[0]);
  return scratchF[0];
}

// Read-modify-write loops start from the bit pattern (not from a plain read of
// the Float64Array alias): converting a NaN read as a double back to bits may
// not reproduce its payload, and the loop would then never succeed.
function jsFetchAddF64(bits: BigUint64Array, i: number, v: number): number {
  let cur = Atomics.load(bits, i);
  for (;;) {
    scratchU[0] = cur;
    const old = scratchF[0];
    scratchF[0] = old + v;
    const seen = Atomics.compareExchange(bits, i, cur, scratchU[0]);
    if (seen === cur) return old;
    cur = seen;
  }
}

function jsFetchMaxF64(bits: BigUint64Array, i: number, v: number): number {
  let cur = Atomics.load(bits, i);
  for (;;) {
    scratchU[0] = cur;
    const old = scratchF[0];
    scratchF[0] = v > old ? v : old;
    const seen = Atomics.compareExchange(bits, i, cur, scratchU[0]);
    if (seen === cur) return old;
    cur = seen;
  }
}

// ---- the measured loops ----------------------------------------------------------
// Every loop is its own function literal, so each call site in it stays
// monomorphic (a shared `for (...) op()` helper would make all of them
// megamorphic and measure the dispatch instead of the operation).

type Loop = (n: number) => unknown;

interface Row {
  /** e.g. "i32 fetchAdd". */
  readonly op: string;
  readonly ours: Loop;
  readonly builtin: Loop;
  readonly native: Loop;
  /** Sets the value before each measurement. */
  readonly reset: () => void;
  /** Throws if a measured loop did not do its work (value after `n` ops). */
  readonly check?: (n: number) => void;
}

function expectEqual(what: string, got: unknown, want: unknown): void {
  if (got !== want) throw new Error(`bench self-check: ${what} is ${String(got)}, expected ${String(want)}`);
}

const resetI32 = (): void => void Atomics.store(i32v, i32i, 0);
const resetU64 = (): void => void Atomics.store(u64v, u64i, 0n);
const resetF64 = (): void => void (f64v[f64i] = 0);

const rows: Row[] = [
  // -- i32 --
  {
    op: "i32 load",
    ours: (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s ^= ai32.load();
      return s;
    },
    builtin: (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s ^= Atomics.load(i32v, i32i);
      return s;
    },
    native: (n) => nl.nl_i32_load(pI32, 0, n),
    reset: resetI32,
  },
  {
    op: "i32 store",
    ours: (n) => {
      for (let i = 0; i < n; i++) ai32.store(7);
    },
    builtin: (n) => {
      for (let i = 0; i < n; i++) Atomics.store(i32v, i32i, 7);
    },
    native: (n) => nl.nl_i32_store(pI32, 7, n),
    reset: resetI32,
    check: () => expectEqual("i32 after store", i32v[i32i], 7),
  },
  {
    op: "i32 fetchAdd",
    ours: (n) => {
      let r = 0;
      for (let i = 0; i < n; i++) r = ai32.fetchAdd(1);
      return r;
    },
    builtin: (n) => {
      let r = 0;
      for (let i = 0; i < n; i++) r = Atomics.add(i32v, i32i, 1);
      return r;
    },
    native: (n) => nl.nl_i32_fetch_add(pI32, 1, n),
    reset: resetI32,
    check: (n) => expectEqual("i32 after fetchAdd", i32v[i32i], n),
  },
  {
    op: "i32 compareExchange",
    ours: (n) => {
      let r = 0;
      for (let i = 0; i < n; i += 2) {
        r = ai32.compareExchange(0, 1);
        r += ai32.compareExchange(1, 0);
      }
      return r;
    },
    builtin: (n) => {
      let r = 0;
      for (let i = 0; i < n; i += 2) {
        r = Atomics.compareExchange(i32v, i32i, 0, 1);
        r += Atomics.compareExchange(i32v, i32i, 1, 0);
      }
      return r;
    },
    native: (n) => nl.nl_i32_compare_exchange(pI32, 0, 1, n),
    reset: resetI32,
    check: () => expectEqual("i32 after compareExchange pairs", i32v[i32i], 0),
  },
  // -- u64, number path --
  {
    op: "u64 load (number)",
    ours: (n) => {
      let r = 0;
      for (let i = 0; i < n; i++) r = au64.loadNumber();
      return r;
    },
    builtin: (n) => {
      let r = 0n;
      for (let i = 0; i < n; i++) r = Atomics.load(u64v, u64i);
      return r;
    },
    native: (n) => nl.nl_u64_load(pU64, 0n, n),
    reset: resetU64,
  },
  {
    op: "u64 store (number)",
    ours: (n) => {
      for (let i = 0; i < n; i++) au64.store(7);
    },
    builtin: (n) => {
      for (let i = 0; i < n; i++) Atomics.store(u64v, u64i, 7n);
    },
    native: (n) => nl.nl_u64_store(pU64, 7n, n),
    reset: resetU64,
    check: () => expectEqual("u64 after store", u64v[u64i], 7n),
  },
  {
    op: "u64 fetchAdd (number)",
    ours: (n) => {
      let r = 0;
      for (let i = 0; i < n; i++) r = au64.fetchAdd(1);
      return r;
    },
    builtin: (n) => {
      let r = 0n;
      for (let i = 0; i < n; i++) r = Atomics.add(u64v, u64i, 1n);
      return r;
    },
    native: (n) => nl.nl_u64_fetch_add(pU64, 1n, n),
    reset: resetU64,
    check: (n) => expectEqual("u64 after fetchAdd", u64v[u64i], BigInt(n)),
  },
  {
    op: "u64 compareExchange (number)",
    ours: (n) => {
      let r = 0;
      for (let i = 0; i < n; i += 2) {
        r = au64.compareExchange(0, 1);
        r += au64.compareExchange(1, 0);
      }
      return r;
    },
    builtin: (n) => {
      let r = 0n;
      for (let i = 0; i < n; i += 2) {
        r = Atomics.compareExchange(u64v, u64i, 0n, 1n);
        r = Atomics.compareExchange(u64v, u64i, 1n, 0n);
      }
      return r;
    },
    native: (n) => nl.nl_u64_compare_exchange(pU64, 0n, 1n, n),
    reset: resetU64,
    check: () => expectEqual("u64 after compareExchange pairs", u64v[u64i], 0n),
  },
  // -- u64, bigint path --
  {
    op: "u64 load (bigint)",
    ours: (n) => {
      let r = 0n;
      for (let i = 0; i < n; i++) r = au64.load();
      return r;
    },
    builtin: (n) => {
      let r = 0n;
      for (let i = 0; i < n; i++) r = Atomics.load(u64v, u64i);
      return r;
    },
    native: (n) => nl.nl_u64_load(pU64, 0n, n),
    reset: resetU64,
  },
  {
    op: "u64 store (bigint)",
    ours: (n) => {
      for (let i = 0; i < n; i++) au64.store(7n);
    },
    builtin: (n) => {
      for (let i = 0; i < n; i++) Atomics.store(u64v, u64i, 7n);
    },
    native: (n) => nl.nl_u64_store(pU64, 7n, n),
    reset: resetU64,
    check: () => expectEqual("u64 after store", u64v[u64i], 7n),
  },
  {
    op: "u64 fetchAdd (bigint)",
    ours: (n) => {
      let r = 0n;
      for (let i = 0; i < n; i++) r = au64.fetchAdd(1n);
      return r;
    },
    builtin: (n) => {
      let r = 0n;
      for (let i = 0; i < n; i++) r = Atomics.add(u64v, u64i, 1n);
      return r;
    },
    native: (n) => nl.nl_u64_fetch_add(pU64, 1n, n),
    reset: resetU64,
    check: (n) => expectEqual("u64 after fetchAdd", u64v[u64i], BigInt(n)),
  },
  {
    op: "u64 compareExchange (bigint)",
    ours: (n) => {
      let r = 0n;
      for (let i = 0; i < n; i += 2) {
        r = au64.compareExchange(0n, 1n);
        r = au64.compareExchange(1n, 0n);
      }
      return r;
    },
    builtin: (n) => {
      let r = 0n;
      for (let i = 0; i < n; i += 2) {
        r = Atomics.compareExchange(u64v, u64i, 0n, 1n);
        r = Atomics.compareExchange(u64v, u64i, 1n, 0n);
      }
      return r;
    },
    native: (n) => nl.nl_u64_compare_exchange(pU64, 0n, 1n, n),
    reset: resetU64,
    check: () => expectEqual("u64 after compareExchange pairs", u64v[u64i], 0n),
  },
  // -- f64 (built-in column: pure JavaScript on the bit pattern) --
  {
    op: "f64 load",
    ours: (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += af64.load();
      return s;
    },
    builtin: (n) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += jsLoadF64(u64v, f64i);
      return s;
    },
    native: (n) => nl.nl_f64_load(pF64, 0, n),
    reset: resetF64,
  },
  {
    op: "f64 store",
    ours: (n) => {
      for (let i = 0; i < n; i++) af64.store(0.5);
    },
    builtin: (n) => {
      for (let i = 0; i < n; i++) jsStoreF64(u64v, f64i, 0.5);
    },
    native: (n) => nl.nl_f64_store(pF64, 0.5, n),
    reset: resetF64,
    check: () => expectEqual("f64 after store", f64v[f64i], 0.5),
  },
  {
    op: "f64 fetchAdd",
    ours: (n) => {
      let r = 0;
      for (let i = 0; i < n; i++) r = af64.fetchAdd(1);
      return r;
    },
    builtin: (n) => {
      let r = 0;
      for (let i = 0; i < n; i++) r = jsFetchAddF64(u64v, f64i, 1);
      return r;
    },
    native: (n) => nl.nl_f64_fetch_add(pF64, 1, n),
    reset: resetF64,
    check: (n) => expectEqual("f64 after fetchAdd", f64v[f64i], n),
  },
  {
    op: "f64 fetchMax",
    ours: (n) => {
      let r = 0;
      for (let i = 0; i < n; i++) r = af64.fetchMax(i);
      return r;
    },
    builtin: (n) => {
      let r = 0;
      for (let i = 0; i < n; i++) r = jsFetchMaxF64(u64v, f64i, i);
      return r;
    },
    native: (n) => nl.nl_f64_fetch_max(pF64, 0, n),
    reset: resetF64,
    check: (n) => expectEqual("f64 after fetchMax", f64v[f64i], n - 1),
  },
  {
    op: "f64 compareExchange",
    ours: (n) => {
      let r = 0;
      for (let i = 0; i < n; i += 2) {
        r = af64.compareExchange(0, 1);
        r += af64.compareExchange(1, 0);
      }
      return r;
    },
    builtin: (n) => {
      let r = 0;
      for (let i = 0; i < n; i += 2) {
        r = jsCompareExchangeF64(u64v, f64i, 0, 1);
        r += jsCompareExchangeF64(u64v, f64i, 1, 0);
      }
      return r;
    },
    native: (n) => nl.nl_f64_compare_exchange(pF64, 0, 1, n),
    reset: resetF64,
    check: () => expectEqual("f64 after compareExchange pairs", f64v[f64i], 0),
  },
];

/** FFI call floor: a native function that does nothing, with the hot path's signatures. */
const floors: { sig: string; loop: Loop }[] = [
  {
    sig: "(ptr, i32) -> i32",
    loop: (n) => {
      let r = 0;
      for (let i = 0; i < n; i++) r = nl.nl_noop_i32(pI32, 1) as number;
      return r;
    },
  },
  {
    sig: "(ptr, f64) -> f64",
    loop: (n) => {
      let r = 0;
      for (let i = 0; i < n; i++) r = nl.nl_noop_f64(pF64, 1) as number;
      return r;
    },
  },
  {
    sig: "(ptr, u64) -> u64, bigint in and out",
    loop: (n) => {
      let r: unknown = 0n;
      for (let i = 0; i < n; i++) r = nl.nl_noop_u64(pU64, 1n);
      return r;
    },
  },
];

// ---- measuring -------------------------------------------------------------------

let sink: unknown;

function time(loop: Loop, n: number): number {
  const t0 = now();
  sink = loop(n);
  return (now() - t0) / n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

type Side = "ours" | "builtin" | "native";
const SIDES: readonly Side[] = ["ours", "builtin", "native"];

interface Samples {
  ours: number[];
  builtin: number[];
  native: number[];
}

function measureRow(row: Row, n: number, round: number, into?: Samples): void {
  // rotate the order each round: no side is always first after the previous row
  for (let k = 0; k < SIDES.length; k++) {
    const side = SIDES[(k + round) % SIDES.length];
    row.reset();
    const ns = time(row[side], n);
    row.check?.(n);
    into?.[side].push(ns);
  }
}

const progress = (s: string): void => void process.stderr.write(s);
const started = now();

// warm-up: every loop through its optimising tiers, checks on, results dropped
progress(`${runtimeName}: warm-up`);
for (let w = 0; w < 2; w++) {
  for (const row of rows) measureRow(row, Math.max(2, (N / 5) & ~1), w);
  for (const f of floors) time(f.loop, Math.max(2, (N / 5) & ~1));
}

const samples: Samples[] = rows.map(() => ({ ours: [], builtin: [], native: [] }));
const floorSamples: number[][] = floors.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  progress(`, round ${r + 1}/${ROUNDS}`);
  rows.forEach((row, i) => measureRow(row, N, r, samples[i]));
  floors.forEach((f, i) => floorSamples[i].push(time(f.loop, N)));
}
progress(` (${((now() - started) / 1e9).toFixed(1)} s)\n`);
void sink;

// ---- report --------------------------------------------------------------------

const ratios = (a: number[], b: number[]): number => median(a.map((x, i) => x / b[i]));
const ns = (x: number): string => x.toFixed(x < 10 ? 2 : 1);
const times = (x: number): string => `${x.toFixed(2)}×`;

const out: string[] = [];
out.push(`### ${runtimeName}`, "");
out.push(`${N.toLocaleString("en-US")} ops per measurement, ${ROUNDS} rounds, medians.`, "");
out.push("| op | ours ns/op | built-in ns/op | ratio | native ns/op | ratio vs native |");
out.push("|---|---:|---:|---:|---:|---:|");
const result = new Map<string, { ratio: number }>();
rows.forEach((row, i) => {
  const s = samples[i];
  const ratio = ratios(s.ours, s.builtin);
  result.set(row.op, { ratio });
  out.push(
    `| ${row.op} | ${ns(median(s.ours))} | ${ns(median(s.builtin))} | ${times(ratio)} | ` +
      `${ns(median(s.native))} | ${times(ratios(s.ours, s.native))} |`,
  );
});
out.push(
  "",
  "Built-in column: `Atomics` on an `Int32Array` (i32) or a `BigUint64Array` (u64, bigint in and out, also for " +
    "the number rows) over the same `SharedArrayBuffer`; for f64, pure JavaScript: `Atomics` on a `BigUint64Array` " +
    "alias of the value's bits, converted through a private `Float64Array`, with an `Atomics.compareExchange` loop " +
    "for fetchAdd/fetchMax. Native: the same operation in a C loop (`bench/native_loop.c`, `cc -O2`), one FFI call " +
    "per measurement. compareExchange always succeeds (pairs 0→1, 1→0); fetchMax stores a new maximum every time.",
  "",
);
out.push("FFI call floor (a native function that does nothing, same argument kinds as the hot path):", "");
out.push("| signature | ns/call |", "|---|---:|");
floors.forEach((f, i) => out.push(`| ${f.sig} | ${ns(median(floorSamples[i]))} |`));
out.push("");

interface Target {
  readonly op: string;
  readonly limit: number;
  readonly against: string;
  readonly only?: "bun" | "deno";
}
const targets: Target[] = [
  { op: "i32 fetchAdd", limit: 1.2, against: "built-in Atomics.add (Int32Array)", only: "bun" },
  { op: "i32 fetchAdd", limit: 1.0, against: "built-in Atomics.add (Int32Array)", only: "deno" },
  { op: "u64 fetchAdd (number)", limit: 0.7, against: "built-in Atomics.add (BigUint64Array)" },
  { op: "f64 fetchAdd", limit: 0.5, against: "the pure-JS compare-exchange loop" },
];
out.push("Targets (ratio = median of per-round ours/baseline):", "");
for (const t of targets) {
  if (t.only && t.only !== (isBun ? "bun" : "deno")) continue;
  const { ratio } = result.get(t.op)!;
  const verdict = ratio <= t.limit ? "PASS" : "MISS";
  out.push(`- ${verdict} ${t.op}: ${times(ratio)} ${t.against} (target ≤ ${times(t.limit)})`);
}
out.push("");
console.log(out.join("\n"));
