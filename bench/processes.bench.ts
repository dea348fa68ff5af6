/**
 * `fetchAdd` throughput on one `AtomicU64` shared between 2 processes (a
 * `SharedMemory` segment), against the same between 2 Workers (a
 * `SharedArrayBuffer`) and against what a Bun or Deno user has today for a
 * counter shared between processes: SQLite `UPDATE counter SET v = v + 1` in
 * WAL mode through the runtime's built-in SQLite (`bun:sqlite`,
 * `node:sqlite`). One file for both runtimes.
 *
 * The peers are bench/peer.ts: child processes (Bun.spawn / Deno.Command),
 * each pair started once and serving every round, or Workers. Each round the
 * peers count in at a start gate in the shared memory; the parent opens it
 * and takes the wall time from the gate opening until both have counted
 * themselves done (it sleeps in a futex wait meanwhile, taking no CPU from
 * the peers). Start-up is never measured. Every round checks the count
 * exactly.
 *
 * Run: `bun bench/processes.bench.ts`, `deno run -A bench/processes.bench.ts`,
 * or `bash bench/run.sh`. Environment: BENCH_ROUNDS (default 5),
 * BENCH_ADD_N (fetchAdds per peer, default 2000000), BENCH_SQL_N (updates
 * per peer with synchronous=NORMAL, default 2000), BENCH_SQL_FULL_N (with
 * synchronous=FULL, the default, default 100), SHARED_ATOMIC_LIB.
 *
 * Prints markdown on stdout, progress on stderr.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type * as Api from "../src/index.ts";
import {
  api,
  type Child,
  env,
  fmtInt,
  fmtNs,
  fmtRate,
  fmtTimes,
  Gates,
  isBun,
  median,
  now,
  openDatabase,
  type Peer,
  peerResult,
  progress,
  ratio,
  runtimeName,
  startPeer,
  startWorkers,
} from "./common.ts";
import type { Job, Reply } from "./peer.ts";

const ROUNDS = Number(env("BENCH_ROUNDS") ?? 5);
const ADD_N = Number(env("BENCH_ADD_N") ?? 2_000_000);
/** Untimed fetchAdds each peer does on a private atomic before its first gate (JIT warm-up). */
const ADD_WARM = Math.min(ADD_N, 500_000);
const SQL_N = Number(env("BENCH_SQL_N") ?? 2_000);
const SQL_FULL_N = Number(env("BENCH_SQL_FULL_N") ?? 100);
const PEERS = 2;

/** Byte offsets in each shared memory: the counter on its own cache line, then the gates. */
const AT = { counter: 64, gates: 128 } as const;
const BYTES = 4096;

function expectEqual(what: string, got: unknown, want: unknown): void {
  if (got !== want) throw new Error(`bench self-check: ${what} is ${String(got)}, expected ${String(want)}`);
}

/** The share of the time from the first loop start to the last loop end during which both loops ran. */
function overlap(spans: readonly [number, number][]): number {
  const both = Math.min(...spans.map((s) => s[1])) - Math.max(...spans.map((s) => s[0]));
  const all = Math.max(...spans.map((s) => s[1])) - Math.min(...spans.map((s) => s[0]));
  return Math.max(0, both) / all;
}

/** A pair of peer processes started once, serving every round through the gates of their own segment. */
class ProcessPair {
  readonly what: string;
  readonly segment: Api.SharedMemory;
  readonly gates: Gates;
  readonly children: Child[] = [];
  #round = 0;

  constructor(what: string, name: string, job: Omit<Job, "memory" | "at">) {
    this.what = what;
    this.segment = api.SharedMemory.create(`/sa-bench-${process.pid}-${name}`, BYTES);
    this.gates = new Gates(this.segment, AT.gates);
    const full: Job = { ...job, memory: this.segment.handle(), at: AT };
    for (let i = 0; i < PEERS; i++) this.children.push(startPeer(full));
  }

  /** Runs the next round; returns its wall time in ns. */
  async round(): Promise<number> {
    const r = this.#round++;
    await this.gates.ready(r, PEERS, this.children, this.what);
    // both have mapped the segment: its name can go (nothing is left behind if this process is killed)
    if (r === 0) this.#unlink();
    return this.gates.open(r, PEERS, this.what);
  }

  #unlinked = false;
  #unlink(): void {
    if (!this.#unlinked) this.segment.unlink();
    this.#unlinked = true;
  }

  /** Waits for both processes to exit; returns their replies. */
  async replies(): Promise<Reply[]> {
    const out: Reply[] = [];
    for (const c of this.children) out.push(await peerResult(c, this.what));
    return out;
  }

  close(): void {
    for (const c of this.children) if (!c.exited) c.kill();
    this.segment.close();
    this.#unlink();
  }
}

/** 2 Workers × ADD_N fetchAdd(1) on one AtomicU64 in a fresh SharedArrayBuffer (one gated round). */
async function workersAdd(workers: readonly Peer[]): Promise<{ ns: number; overlap: number }> {
  const what = "2 Workers fetchAdd";
  const sab = new SharedArrayBuffer(BYTES);
  const gates = new Gates(sab, AT.gates);
  const job: Job = { mode: "add", memory: sab, at: AT, n: ADD_N, warm: ADD_WARM };
  const replies = workers.map((w) => w.call(job));
  replies.forEach((r) => r.catch(() => {}));
  await Promise.race([gates.ready(0, PEERS, [], what), ...replies]);
  const ns = gates.open(0, PEERS, what);
  const done = await Promise.all(replies);
  expectEqual(`${what}: final count`, new api.AtomicU64(sab, AT.counter).loadNumber(), PEERS * ADD_N);
  return { ns, overlap: overlap(done.map((d) => d.spans![0])) };
}

/** The same loop on one thread, nobody else touching the line: the uncontended cost. Returns wall ns. */
function oneThreadAdd(): number {
  const a = new api.AtomicU64(new SharedArrayBuffer(64));
  const n = PEERS * ADD_N;
  const t0 = now();
  for (let i = 0; i < n; i++) a.fetchAdd(1);
  const ns = now() - t0;
  expectEqual("1 thread fetchAdd: final count", a.loadNumber(), n);
  return ns;
}

const dbDir = mkdtempSync(join(tmpdir(), "shared-atomic-bench-"));

/** A fresh database with the counter row, in WAL mode. */
async function counterDatabase(name: string): Promise<string> {
  const path = join(dbDir, `${name}.db`);
  const db = await openDatabase(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE counter (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
  db.exec("INSERT INTO counter (id, v) VALUES (1, 0)");
  db.close();
  return path;
}

async function checkDatabase(what: string, path: string, want: number): Promise<void> {
  const db = await openDatabase(path);
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    const row = db.prepare("SELECT v FROM counter WHERE id = 1").get() as { v: number | bigint };
    const mode = db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    expectEqual(`${what}: count`, Number(row.v), want);
    expectEqual(`${what}: journal mode`, mode.journal_mode, "wal");
  } finally {
    db.close();
  }
}

// ---- measuring ---------------------------------------------------------------------

interface Row {
  readonly label: string;
  readonly ops: number;
  readonly samples: number[];
  readonly overlaps: number[];
}
const row = (label: string, ops: number): Row => ({ label, ops, samples: [], overlaps: [] });
const procAdd = row("2 processes: `AtomicU64.fetchAdd(1)` on a `SharedMemory` segment", PEERS * ADD_N);
const workerAdd = row("2 Workers: `AtomicU64.fetchAdd(1)` on a `SharedArrayBuffer`", PEERS * ADD_N);
const oneAdd = row("1 thread, uncontended (reference): `AtomicU64.fetchAdd(1)`", PEERS * ADD_N);
const sqlNormal = row(
  "2 processes: SQLite `UPDATE … SET v = v + 1`, WAL, `synchronous=NORMAL`",
  PEERS * SQL_N,
);
const sqlFull = row(
  "2 processes: SQLite `UPDATE … SET v = v + 1`, WAL, `synchronous=FULL` (the default)",
  PEERS * SQL_FULL_N,
);
const rows = [procAdd, workerAdd, oneAdd, sqlNormal, sqlFull];

const started = now();
progress(`${runtimeName}: processes, start`);
let workers: Peer[] = [];
const pairs: ProcessPair[] = [];
try {
  workers = await startWorkers(PEERS);
  const dbNormal = await counterDatabase("normal"), dbFull = await counterDatabase("full");
  // every process is started once, before any measurement; round 0 of the fetchAdd pair is a warm-up
  const adders = new ProcessPair("2 processes fetchAdd", "add", {
    mode: "add",
    rounds: ROUNDS + 1,
    n: ADD_N,
    warm: ADD_WARM,
  });
  pairs.push(adders);
  const normal = new ProcessPair("2 processes SQLite NORMAL", "sqln", {
    mode: "sqlite",
    rounds: ROUNDS,
    n: SQL_N,
    db: dbNormal,
    sync: "NORMAL",
  });
  pairs.push(normal);
  const full = new ProcessPair("2 processes SQLite FULL", "sqlf", {
    mode: "sqlite",
    rounds: ROUNDS,
    n: SQL_FULL_N,
    db: dbFull,
    sync: "FULL",
  });
  pairs.push(full);
  const addCounter = new api.AtomicU64(adders.segment, AT.counter);

  progress(", warm-up");
  await adders.round();
  expectEqual("2 processes fetchAdd: count after the warm-up", addCounter.loadNumber(), PEERS * ADD_N);
  await workersAdd(workers);
  oneThreadAdd();

  for (let r = 0; r < ROUNDS; r++) {
    progress(`, round ${r + 1}/${ROUNDS}`);
    // the processes/Workers pair back to back, alternating which goes first
    for (const side of r % 2 ? ["workers", "processes"] : ["processes", "workers"]) {
      if (side === "processes") {
        procAdd.samples.push(await adders.round());
        expectEqual("2 processes fetchAdd: count", addCounter.loadNumber(), (r + 2) * PEERS * ADD_N);
      } else {
        const m = await workersAdd(workers);
        workerAdd.samples.push(m.ns);
        workerAdd.overlaps.push(m.overlap);
      }
    }
    oneAdd.samples.push(oneThreadAdd());
    sqlNormal.samples.push(await normal.round());
    await checkDatabase("SQLite NORMAL", dbNormal, (r + 1) * PEERS * SQL_N);
    sqlFull.samples.push(await full.round());
    await checkDatabase("SQLite FULL", dbFull, (r + 1) * PEERS * SQL_FULL_N);
  }
  const spans = (await adders.replies()).map((x) => x.spans!);
  for (let r = 1; r <= ROUNDS; r++) procAdd.overlaps.push(overlap(spans.map((s) => s[r])));
  await normal.replies();
  await full.replies();
} finally {
  for (const w of workers) w.terminate();
  for (const p of pairs) p.close();
  rmSync(dbDir, { recursive: true, force: true });
}
progress(` (${((now() - started) / 1e9).toFixed(1)} s)\n`);

// ---- report --------------------------------------------------------------------------

const perOp = (row: Row): number[] => row.samples.map((ns) => ns / row.ops);
const rate = (row: Row): number => 1e9 / median(perOp(row));

const out: string[] = [];
out.push(`### ${runtimeName}: a counter shared between processes`, "");
out.push(`${ROUNDS} rounds, medians.`, "");
out.push("| setup | ops per measurement | wall ms | ops/s | ns/op | loops overlapped |");
out.push("|---|---:|---:|---:|---:|---:|");
for (const row of rows) {
  const o = row.overlaps.length ? `${(median(row.overlaps) * 100).toFixed(0)}%` : "";
  out.push(
    `| ${row.label} | ${fmtInt(row.ops)} | ${(median(row.samples) / 1e6).toFixed(1)} | ${fmtRate(rate(row))} | ` +
      `${fmtNs(median(perOp(row)))} | ${o} |`,
  );
}
out.push(
  "",
  "Wall time from the start gate opening (both peers already started and waiting in the shared memory) until both " +
    "have counted themselves done; ns/op = wall time / all operations of both peers. Peers are bench/peer.ts, as " +
    `child processes (${isBun ? "`Bun.spawn`" : "`Deno.Command`"}; each pair started once, before any measurement, ` +
    "and serving every round behind its own gate) or as Workers. fetchAdd takes the number path " +
    "(a plain number in and out). SQLite: the runtime's built-in driver " +
    `(${isBun ? "`bun:sqlite`" : "`node:sqlite`"}), a new database file per setting in the temp directory, ` +
    "`PRAGMA journal_mode = WAL`, `busy_timeout = 10000`, one prepared `UPDATE counter SET v = v + 1 WHERE id = 1` " +
    "per increment in autocommit (its own transaction). `synchronous=FULL` is SQLite's default and syncs the WAL " +
    "on every commit; `NORMAL` is the usual WAL setting (a power loss may drop the last commits), so it is the " +
    'generous comparison and the one the target uses. Every round checks the count. "Loops ' +
    'overlapped": the time both peers were inside their timed loops at once, as a share of the time from the first ' +
    "loop start to the last loop end (each peer reports its loop's start and end on the wall clock): near 100% means " +
    "the two really contended for the counter the whole time.",
  "",
);

const procVsWorkers = ratio(perOp(procAdd), perOp(workerAdd));
// ops/s ratios, per round: SQLite's ns/op over fetchAdd's
const vsNormal = ratio(perOp(sqlNormal), perOp(procAdd));
const vsFull = ratio(perOp(sqlFull), perOp(procAdd));
const verdict = (ok: boolean): string => ok ? "PASS" : "MISS";
out.push("Targets:", "");
out.push(
  `- ${verdict(procVsWorkers <= 2)} cross-process fetchAdd: ${fmtTimes(procVsWorkers)} the 2-Worker ns/op ` +
    "(median of the per-round ratios; target ≤ 2.00×)",
  `- ${verdict(vsNormal >= 1000)} cross-process fetchAdd: ${fmtTimes(vsNormal)} the ops/s of SQLite in WAL with ` +
    `synchronous=NORMAL (median of the per-round ratios; target ≥ 1,000×); ${fmtTimes(vsFull)} the ops/s with ` +
    "the default synchronous=FULL",
  "",
);
console.log(out.join("\n"));
