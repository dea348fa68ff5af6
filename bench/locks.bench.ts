/**
 * Locks and waking, in Bun and in Deno (one file for both):
 *
 * (a) uncontended `Mutex` lock + unlock, ns per pair: `lock(); unlock()`, and
 *     the `using` guard form, against the mutex a user writes today with the
 *     built-in `Atomics` on an `Int32Array` over a `SharedArrayBuffer` (the
 *     futex-style 3-state mutex: compareExchange 0→1 to lock, compareExchange
 *     1→0 to unlock, else store 0 + `Atomics.notify`), and against the native
 *     limit: the same mutex in a C loop, and `pthread_mutex_lock`/`unlock`
 *     (default, and process-shared + robust like ours) in a C loop
 *     (bench/native_locks.c, compiled here with `cc`), one FFI call per
 *     measurement;
 * (b) wake-up latency, `notify` → the woken `wait` returning: a ping-pong on
 *     one 32-bit word, median round trip / 2, between two Workers with the
 *     library's `AtomicI32.wait`/`notify`, between two processes with the same
 *     over a `SharedMemory` segment, between two Workers with the built-in
 *     `Atomics.wait`/`Atomics.notify` (reference), and between two threads of a
 *     C program on a futex (the OS floor).
 *
 * Run: `bun bench/locks.bench.ts`, `deno run -A bench/locks.bench.ts`, or
 * `bash bench/run.sh`. Environment: BENCH_ROUNDS (ping-pong rounds, default
 * 5), BENCH_LOCK_ROUNDS (default 4 × BENCH_ROUNDS), BENCH_LOCK_N (most
 * lock+unlock pairs per measurement, default 2000000; each row does about
 * 15 ms of work), BENCH_TRIPS (timed round trips per ping-pong measurement,
 * default 5000), NATIVE_LOCKS_LIB (a prebuilt native_locks shared library),
 * CC (default cc), SHARED_ATOMIC_LIB.
 *
 * Prints markdown on stdout (progress on stderr). Figures are medians over
 * the rounds; ratios are medians of per-round ratios of measurements taken
 * back to back.
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
import {
  api,
  type Child,
  env,
  fmtInt,
  fmtNs,
  fmtTimes,
  Gates,
  isBun,
  median,
  now,
  type Peer,
  peerResult,
  progress,
  ratio,
  runtimeName,
  startPeer,
  startWorkers,
} from "./common.ts";
import type { Reply } from "./peer.ts";

// ---- runtime ----------------------------------------------------------------

interface FfiSig {
  readonly args: readonly string[];
  readonly returns: string;
}
type FfiFn = (...args: unknown[]) => unknown;

interface DenoGlobal {
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
// Non-literal specifier: the Deno type checker does not know bun:ffi.
const bunFfiName: string = isBun ? ["bun", "ffi"].join(":") : "";
const bunFfi = isBun ? (await import(bunFfiName)) as BunFfi : undefined;

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

/** The pointer of `view[0]` (a number in Bun, an UnsafePointer in Deno). */
const pointerOf = (view: ArrayBufferView): unknown => bunFfi ? bunFfi.ptr(view) : deno!.UnsafePointer.of(view);

const ROUNDS = Number(env("BENCH_ROUNDS") ?? 5);
/** Lock measurements are short and many: a descheduling spoils one sample, not a round. */
const LOCK_ROUNDS = Number(env("BENCH_LOCK_ROUNDS") ?? 4 * ROUNDS);
const LOCK_N = Number(env("BENCH_LOCK_N") ?? 2_000_000);
/** Target duration of one lock measurement. */
const LOCK_MS = 15;
const TRIPS = Number(env("BENCH_TRIPS") ?? 5_000);
const WARM_TRIPS = Math.max(100, TRIPS >> 3);

// ---- the native library ---------------------------------------------------------

/** Builds bench/native_locks.c into the temp dir (keyed by its hash) unless NATIVE_LOCKS_LIB is set. */
function nativeLocksLibrary(): string {
  const given = env("NATIVE_LOCKS_LIB");
  if (given) return given;
  const src = fileURLToPath(new URL("./native_locks.c", import.meta.url));
  const hash = createHash("sha256").update(readFileSync(src)).digest("hex").slice(0, 12);
  const dir = join(tmpdir(), "shared-atomic-bench");
  const out = join(dir, `native_locks-${hash}.${process.platform === "darwin" ? "dylib" : "so"}`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync(env("CC") ?? "cc", ["-O2", "-shared", "-fPIC", "-pthread", "-o", tmp, src], { stdio: "inherit" });
    renameSync(tmp, out);
  }
  return out;
}

const nl = openFfi(nativeLocksLibrary(), {
  nl_pthread_mutex_loop: { args: ["u32", "i32"], returns: "i32" },
  nl_futex_mutex_loop: { args: ["ptr", "u32"], returns: "i32" },
  nl_futex_pingpong: { args: ["u32"], returns: "f64" },
});

// ---- (a) uncontended lock + unlock ---------------------------------------------------

/**
 * A mutex written with the built-in Atomics, as a user would today: 0
 * unlocked, 1 locked, 2 locked with waiters (Drepper, "Futexes are tricky").
 */
class AtomicsMutex {
  readonly words: Int32Array;
  readonly index: number;
  constructor(sab: SharedArrayBuffer, byteOffset: number) {
    this.words = new Int32Array(sab);
    this.index = byteOffset / 4;
  }
  lock(): void {
    const a = this.words, i = this.index;
    let c = Atomics.compareExchange(a, i, 0, 1);
    if (c === 0) return;
    if (c !== 2) c = Atomics.exchange(a, i, 2);
    while (c !== 0) {
      Atomics.wait(a, i, 2);
      c = Atomics.exchange(a, i, 2);
    }
  }
  unlock(): void {
    const a = this.words, i = this.index;
    if (Atomics.compareExchange(a, i, 1, 0) === 1) return;
    Atomics.store(a, i, 0);
    Atomics.notify(a, i, 1);
  }
}

// each lock on its own cache line
const sab = new SharedArrayBuffer(256);
const mutex: Api.Mutex = new api.Mutex(sab, 0);
const atomicsMutex = new AtomicsMutex(sab, 64);
const futexWord = pointerOf(new Uint8Array(sab, 128, 4));
const words = new Int32Array(sab);
// the same Mutex where processes share it
const lockSegment = api.SharedMemory.create(`/sa-bench-${process.pid}-mutex`, 64);
lockSegment.unlink(); // only this process maps it: the name can go at once
const segMutex: Api.Mutex = new api.Mutex(lockSegment, 0);

type Loop = (n: number) => unknown;

/** A disposable that does nothing: what `using` costs by itself. */
const noopDisposable: Disposable = { [Symbol.dispose]() {} };

interface Side {
  readonly key?: "ours" | "ours-using" | "atomics" | "native-futex";
  readonly name: string;
  readonly loop: Loop;
  /** Throws if the loop left its lock held. */
  readonly check?: () => void;
}

function expectEqual(what: string, got: unknown, want: unknown): void {
  if (got !== want) throw new Error(`bench self-check: ${what} is ${String(got)}, expected ${String(want)}`);
}

const checkMutex = (): void => expectEqual("Mutex after the loop: locked", mutex.locked, false);
const checkAtomics = (): void => expectEqual("Atomics mutex word after the loop", words[16], 0);
const checkFutex = (): void => expectEqual("futex mutex word after the loop", words[32], 0);

// Every loop is its own function literal: each call site stays monomorphic.
const atomicsSide = (): Side => ({
  key: "atomics",
  name: "Atomics mutex (built-in `Atomics` on an `Int32Array`)",
  loop: (n) => {
    for (let i = 0; i < n; i++) {
      atomicsMutex.lock();
      atomicsMutex.unlock();
    }
  },
  check: checkAtomics,
});
const nativeFutexSide = (): Side => ({
  key: "native-futex",
  name: "native: the same futex mutex in a C loop",
  loop: (n) => nl.nl_futex_mutex_loop(futexWord, n),
  check: checkFutex,
});

/** Phase 1: every Mutex in this process is in a SharedArrayBuffer (as in a program that shares it with Workers). */
const lockSides: Side[] = [
  {
    key: "ours",
    name: "`Mutex`: `lock(); unlock()`",
    loop: (n) => {
      for (let i = 0; i < n; i++) {
        mutex.lock();
        mutex.unlock();
      }
    },
    check: checkMutex,
  },
  {
    key: "ours-using",
    name: "`Mutex`: `{ using _g = lock(); }`",
    loop: (n) => {
      for (let i = 0; i < n; i++) {
        using _g = mutex.lock();
      }
    },
    check: checkMutex,
  },
  {
    name: "reference: `{ using _d = noop; }`, the `using` syntax alone (no lock)",
    loop: (n) => {
      for (let i = 0; i < n; i++) {
        using _d = noopDisposable;
      }
    },
  },
  atomicsSide(),
  nativeFutexSide(),
  {
    name: "native: `pthread_mutex` (default) in a C loop",
    loop: (n) => expectEqual("pthread_mutex_loop", nl.nl_pthread_mutex_loop(n, 0), 0),
  },
  {
    name: "native: `pthread_mutex` (process-shared, robust) in a C loop",
    loop: (n) => expectEqual("pthread_mutex_loop robust", nl.nl_pthread_mutex_loop(n, 1), 0),
  },
];

/**
 * Phase 2, after phase 1: a Mutex in a SharedMemory segment (as processes
 * share it), and then the SharedArrayBuffer one again, now that one process
 * has used both kinds.
 */
const segmentSides: Side[] = [
  {
    key: "ours",
    name: "`Mutex` in a `SharedMemory` segment: `lock(); unlock()`",
    loop: (n) => {
      for (let i = 0; i < n; i++) {
        segMutex.lock();
        segMutex.unlock();
      }
    },
    check: () => expectEqual("SharedMemory Mutex after the loop: locked", segMutex.locked, false),
  },
  {
    name: "`Mutex` in a `SharedArrayBuffer` again, once both kinds have run in this process",
    loop: (n) => {
      for (let i = 0; i < n; i++) {
        mutex.lock();
        mutex.unlock();
      }
    },
    check: checkMutex,
  },
  atomicsSide(),
  nativeFutexSide(),
];

let sink: unknown;

/** CPU time of this process (user + system) in ns: time this process was not running does not count. */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function timeLock(side: Side, n: number): number {
  const t0 = cpuNs();
  sink = side.loop(n);
  const ns = (cpuNs() - t0) / n;
  side.check?.();
  return ns;
}

/** One phase: calibrates each side to about LOCK_MS of work, then `rounds` rounds in a rotating order. */
function measureLocks(sides: readonly Side[], rounds: number): { n: number[]; samples: number[][] } {
  for (const s of sides) timeLock(s, Math.max(1, LOCK_N / 10));
  const n = sides.map((s) => {
    const ns = Math.min(timeLock(s, LOCK_N / 10), timeLock(s, LOCK_N / 10));
    return Math.max(10_000, Math.min(LOCK_N, Math.round(LOCK_MS * 1e6 / ns)));
  });
  const samples: number[][] = sides.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (k + r) % sides.length;
      samples[i].push(timeLock(sides[i], n[i]));
    }
  }
  return { n, samples };
}

// ---- (b) wake-up latency ----------------------------------------------------------

const AT = { ready: 0, word: 64, gates: 128 } as const;
/** The Workers' ping-pongs run ungated (the job starts at once). */
const WORKER_AT = { ready: 0, word: 64 } as const;

/** One-way latencies (round trip / 2, ns) of a ping-pong between two Workers. */
async function workersPingPong(peers: readonly Peer[], builtin: boolean): Promise<number[]> {
  const mem = new SharedArrayBuffer(128);
  const pong = peers[0].call({ mode: builtin ? "pong-builtin" : "pong", memory: mem, at: WORKER_AT, n: 0 });
  const ping = peers[1].call({
    mode: builtin ? "ping-builtin" : "ping",
    memory: mem,
    at: WORKER_AT,
    n: TRIPS,
    warm: WARM_TRIPS,
  });
  const [, reply] = await Promise.all([pong, ping]);
  return oneWay(reply);
}

/** Two peer processes, ping and pong, started once; each round is one gate of the ping. */
class ProcessPingPong {
  readonly what = "process ping-pong";
  readonly segment: Api.SharedMemory;
  readonly gates: Gates;
  readonly pong: Child;
  readonly ping: Child;
  #round = 0;
  #rounds: number;

  constructor(rounds: number) {
    this.#rounds = rounds;
    this.segment = api.SharedMemory.create(`/sa-bench-${process.pid}-pingpong`, 4096);
    this.gates = new Gates(this.segment, AT.gates);
    const job = { memory: this.segment.handle(), at: AT, n: TRIPS, warm: WARM_TRIPS, rounds };
    this.pong = startPeer({ ...job, mode: "pong" });
    this.ping = startPeer({ ...job, mode: "ping" });
  }

  /** Runs the next round (its round trips are in the ping's reply at the end). */
  async round(): Promise<void> {
    const r = this.#round++;
    if (r >= this.#rounds) throw new Error(`${this.what}: only ${this.#rounds} rounds`);
    await this.gates.ready(r, 1, [this.pong, this.ping], this.what);
    // the ping counts in only after the pong did: both have mapped the segment, its name can go
    if (r === 0) this.#unlink();
    this.gates.open(r, 1, this.what);
  }

  #unlinked = false;
  #unlink(): void {
    if (!this.#unlinked) this.segment.unlink();
    this.#unlinked = true;
  }

  /** One-way latencies (round trip / 2, ns) of every round, once both processes are done. */
  async results(): Promise<number[][]> {
    const reply = await peerResult(this.ping, this.what);
    await peerResult(this.pong, this.what);
    return reply.ns!.map((ns) => oneWay({ ns: [ns] }));
  }

  close(): void {
    for (const c of [this.pong, this.ping]) if (!c.exited) c.kill();
    this.segment.close();
    this.#unlink();
  }
}

function oneWay(reply: Reply): number[] {
  const ns = reply.ns![0];
  expectEqual("ping-pong round trips", ns.length, TRIPS);
  return ns.map((x) => x / 2);
}

interface Latency {
  readonly name: string;
  /** One round: its one-way latencies in ns, or undefined when they come at the end (processes). */
  readonly measure: () => Promise<number[] | undefined> | number[];
  /** per round: median one-way ns */
  readonly medians: number[];
  /** per round: 90th percentile one-way ns */
  readonly p90: number[];
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

function record(l: Latency, ns: readonly number[]): void {
  l.medians.push(median(ns));
  l.p90.push(ns.length > 1 ? percentile(ns, 0.9) : NaN);
}

// ---- measuring ----------------------------------------------------------------------

const started = now();
progress(`${runtimeName}: locks, start`);
let peers: Peer[] = [];
let pingPong: ProcessPingPong | undefined;
const latencies: Latency[] = [
  { name: "2 Workers: `AtomicI32.wait`/`notify`", measure: () => workersPingPong(peers, false), medians: [], p90: [] },
  {
    name: "2 processes: `AtomicI32.wait`/`notify` on a `SharedMemory`",
    measure: () => pingPong!.round().then(() => undefined),
    medians: [],
    p90: [],
  },
  {
    name: "2 Workers: built-in `Atomics.wait`/`Atomics.notify` (reference)",
    measure: () => workersPingPong(peers, true),
    medians: [],
    p90: [],
  },
  {
    name: "2 threads of a C program: futex wait/wake (the OS floor)",
    measure: () => {
      const ns = nl.nl_futex_pingpong(TRIPS) as number;
      if (!(ns > 0)) throw new Error("nl_futex_pingpong failed");
      return [ns];
    },
    medians: [],
    p90: [],
  },
];
const [WORKERS, PROCESSES] = [0, 1];

/** The two phases' results: pairs per measurement and per-round ns per pair, for each side. */
let phase1: { n: number[]; samples: number[][] } | undefined;
let phase2: { n: number[]; samples: number[][] } | undefined;
try {
  peers = await startWorkers(2);
  // round 0 of the processes is a warm-up, like the first Worker measurements
  pingPong = new ProcessPingPong(ROUNDS + 1);
  progress(", warm-up");
  for (const l of latencies) await l.measure();
  progress(", locks");
  // many short measurements (a descheduling spoils one sample, not a round)
  phase1 = measureLocks(lockSides, LOCK_ROUNDS);
  phase2 = measureLocks(segmentSides, Math.max(3, LOCK_ROUNDS >> 1));
  for (let r = 0; r < ROUNDS; r++) {
    progress(`, round ${r + 1}/${ROUNDS}`);
    for (let k = 0; k < latencies.length; k++) {
      const l = latencies[(k + r) % latencies.length];
      const ns = await l.measure();
      if (ns) record(l, ns);
    }
  }
  const rounds = await pingPong.results();
  for (const ns of rounds.slice(1)) record(latencies[PROCESSES], ns);
} finally {
  for (const p of peers) p.terminate();
  pingPong?.close();
  lockSegment.close();
}
progress(` (${((now() - started) / 1e9).toFixed(1)} s)\n`);
void sink;

// ---- report ----------------------------------------------------------------------------

const us = (ns: number): string => Number.isNaN(ns) ? "" : (ns / 1000).toFixed(ns < 10_000 ? 2 : 1);

const out: string[] = [];
out.push(`### ${runtimeName}: locks and wake-ups`, "");
out.push(
  `Uncontended lock + unlock: ${LOCK_ROUNDS} rounds of one measurement per row (about ${LOCK_MS} ms each, in a ` +
    "rotating order); the figure is the median CPU time (user + system) of the process per pair, so time the " +
    "process spent descheduled on this shared machine does not count.",
  "",
);
/** A lock table: each side's figure, and its per-round ratios to the same phase's Atomics mutex and C futex mutex. */
function lockTable(sides: readonly Side[], r: { n: number[]; samples: number[][] }): void {
  const at = (key: Side["key"]): number[] => r.samples[sides.findIndex((s) => s.key === key)];
  out.push("| lock | pairs per measurement | ns per lock+unlock | vs Atomics mutex | vs native futex mutex |");
  out.push("|---|---:|---:|---:|---:|");
  sides.forEach((s, i) => {
    out.push(
      `| ${s.name} | ${fmtInt(r.n[i])} | ${fmtNs(median(r.samples[i]))} | ` +
        `${fmtTimes(ratio(r.samples[i], at("atomics")))} | ${fmtTimes(ratio(r.samples[i], at("native-futex")))} |`,
    );
  });
  out.push("");
}
/** The median per-round ratio of side `a` to side `b` of a phase. */
function lockRatio(sides: readonly Side[], r: { samples: number[][] }, a: Side["key"], b: Side["key"]): number {
  const at = (key: Side["key"]): number[] => r.samples[sides.findIndex((s) => s.key === key)];
  return ratio(at(a), at(b));
}

lockTable(lockSides, phase1!);
out.push(
  "Then, in the same process, a `Mutex` in a `SharedMemory` segment (the form processes share), and the " +
    `\`SharedArrayBuffer\` one again (${Math.max(3, LOCK_ROUNDS >> 1)} rounds): the library's methods are shared ` +
    "by both kinds, so a program that uses both may run the second table's figures.",
  "",
);
lockTable(segmentSides, phase2!);
out.push(
  "",
  "One thread, nobody else using the lock. `Mutex` is the library's (robust, process-shared: the state word holds " +
    "the owner's thread id; one compare-and-set through the FFI to lock and one to unlock). The Atomics mutex is " +
    "the futex-style 3-state mutex written with the built-in `Atomics` (compareExchange 0→1; compareExchange 1→0, " +
    "else store 0 + notify), a class over an `Int32Array`. Native: bench/native_locks.c (`cc -O2`), one FFI call " +
    "per measurement.",
  "",
);
out.push(
  `Wake-up latency: ping-pong on one 32-bit word (one side stores 1 and notifies, the other waits while 0, stores 0 ` +
    `and notifies back), ${TRIPS.toLocaleString("en-US")} timed round trips per measurement after ` +
    `${WARM_TRIPS.toLocaleString("en-US")} untimed, ${ROUNDS} rounds; one-way = round trip / 2.`,
  "",
);
out.push("| between | median one-way µs | p90 one-way µs | vs 2 Workers |");
out.push("|---|---:|---:|---:|");
for (const l of latencies) {
  out.push(
    `| ${l.name} | ${us(median(l.medians))} | ${us(median(l.p90))} | ` +
      `${fmtTimes(ratio(l.medians, latencies[WORKERS].medians))} |`,
  );
}
out.push(
  "",
  "Figures: median over the rounds of each round's median (and 90th percentile) round trip / 2. Each round trip " +
    "is timed with `performance.now()` on the pinging side, so it includes one clock read. Workers and " +
    "processes run bench/peer.ts; the two processes are children of the bench " +
    `(${isBun ? "`Bun.spawn`" : "`Deno.Command`"}). The C ping-pong uses the same process-shared futex calls as ` +
    "the library, between two pthreads.",
  "",
);

interface Target {
  readonly what: string;
  readonly value: number;
  readonly limit: number;
  readonly against: string;
}
const targets: Target[] = [
  {
    what: "uncontended Mutex lock+unlock",
    value: lockRatio(lockSides, phase1!, "ours", "atomics"),
    limit: isBun ? 1.2 : 1.0,
    against: "the Atomics mutex",
  },
  {
    what: "uncontended Mutex lock+unlock with `using`",
    value: lockRatio(lockSides, phase1!, "ours-using", "atomics"),
    limit: isBun ? 1.2 : 1.0,
    against: "the Atomics mutex",
  },
  {
    what: "uncontended Mutex lock+unlock in a SharedMemory",
    value: lockRatio(segmentSides, phase2!, "ours", "atomics"),
    limit: isBun ? 1.2 : 1.0,
    against: "the Atomics mutex (in a SharedArrayBuffer: the built-in cannot do processes)",
  },
  {
    what: "cross-process wake-up latency",
    value: ratio(latencies[PROCESSES].medians, latencies[WORKERS].medians),
    limit: 2.0,
    against: "the cross-Worker latency (library wait/notify)",
  },
];
out.push("Targets (ratio = median of per-round ratios):", "");
for (const t of targets) {
  out.push(
    `- ${t.value <= t.limit ? "PASS" : "MISS"} ${t.what}: ${fmtTimes(t.value)} ${t.against} ` +
      `(target ≤ ${fmtTimes(t.limit)})`,
  );
}
out.push("");
console.log(out.join("\n"));
