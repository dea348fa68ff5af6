/**
 * SharedMap: `get`, `set` and `fetchAdd` on 16-byte keys and 64-byte values
 * (1,000 keys), in one thread against a JS `Map` (the floor), and as
 * throughput from 1 thread, 2 Workers and 2 processes, against an SQLite
 * table in WAL mode (`synchronous=NORMAL`) shared by 2 processes, what users
 * of Bun and Deno reach for today (`bun:sqlite`, `node:sqlite`). One file
 * for both runtimes; the peers are bench/map_peer.ts (processes) and
 * bench/map_worker.ts (Workers), started once and
 * gated per round (start-up never measured). A Valkey/Redis comparison
 * belongs to the Valkey work and is not here.
 *
 * Run: `bun bench/map.bench.ts`, `deno run -A bench/map.bench.ts`, or
 * `BENCHES=map bash bench/run.sh`. Environment: BENCH_ROUNDS (default 5),
 * BENCH_MAP_N (calls per timed loop, default 200000), BENCH_MAP_SQL_N
 * (SQLite reads per peer per round, default 20000; writes a tenth of it).
 *
 * Prints markdown on stdout, progress on stderr.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import {
  api,
  type Child,
  env,
  fmtNs,
  fmtRate,
  fmtTimes,
  Gates,
  isBun,
  median,
  now,
  openDatabase,
  progress,
  ratio,
  runtimeName,
  start,
} from "./common.ts";
import { counterOf, keyOf, KEYS, type MapJob, VALUE_BYTES, WARM } from "./map_peer.ts";

const ROUNDS = Number(env("BENCH_ROUNDS") ?? 5);
const N = Number(env("BENCH_MAP_N") ?? 200_000);
const SQL_N = Number(env("BENCH_MAP_SQL_N") ?? 20_000);
const OPTIONS = { capacity: 2 * KEYS, keySize: 16, valueSize: VALUE_BYTES };
const MAP_AT = 4096;
const GATES_AT = 64;
const OPS = ["get", "set", "fetchAdd"] as const;
const SQL_OPS = ["sql-get", "sql-set", "sql-add"] as const;
const n = (op: string): number => (op === "sql-get" ? SQL_N : op.startsWith("sql") ? Math.ceil(SQL_N / 10) : N);

// ---- one thread, against a JS Map -------------------------------------------------

const keys = Array.from({ length: KEYS }, (_, i) => keyOf(i));
const counters = Array.from({ length: KEYS }, (_, i) => counterOf(i));
const value = new Uint8Array(VALUE_BYTES).fill(7);

function timed(loop: (count: number) => void, count: number): number {
  const t0 = now();
  loop(count);
  return (now() - t0) / count;
}

/** ns of this process's CPU time (user + system): unlike wall time, not inflated when the machine is shared. */
const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

function cpuTimed(loop: (count: number) => void, count: number): number {
  const t0 = cpuNs();
  loop(count);
  return (cpuNs() - t0) / count;
}

function singleThread(): string {
  const js = new Map<string, Uint8Array>();
  const m = api.SharedMap.create(OPTIONS);
  for (const k of keys) {
    js.set(k, value.slice());
    m.set(k, value);
  }
  const target = new Uint8Array(VALUE_BYTES);
  let sink = 0;
  const loops: [string, (c: number) => void][] = [
    ["JS `Map.get` (the floor)", (c) => {
      for (let i = 0; i < c; i++) sink ^= js.get(keys[i % KEYS])!.length;
    }],
    ["`SharedMap.get` (a copy)", (c) => {
      for (let i = 0; i < c; i++) sink ^= m.get(keys[i % KEYS])!.length;
    }],
    ["`SharedMap.getInto` (no allocation)", (c) => {
      for (let i = 0; i < c; i++) sink ^= m.getInto(keys[i % KEYS], target)!;
    }],
    ["`SharedMap.has`", (c) => {
      for (let i = 0; i < c; i++) sink ^= m.has(keys[i % KEYS]) ? 1 : 0;
    }],
    ["JS `Map.set` (the floor)", (c) => {
      for (let i = 0; i < c; i++) js.set(keys[i % KEYS], value);
    }],
    ["`SharedMap.set`", (c) => {
      for (let i = 0; i < c; i++) m.set(keys[i % KEYS], value);
    }],
    ["`SharedMap.fetchAdd(k, 1)` (number)", (c) => {
      for (let i = 0; i < c; i++) sink ^= m.fetchAdd(counters[i % KEYS], 1);
    }],
    ["`SharedMap.fetchAdd(k, 1n)` (bigint)", (c) => {
      for (let i = 0; i < c; i++) sink ^= Number(m.fetchAdd(counters[i % KEYS], 1n) & 1n);
    }],
  ];
  const samples = loops.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) {
    loops.forEach(([, loop], i) => samples[i].push(cpuTimed(loop, N)));
    progress(".");
  }
  if (sink === 0.5) console.log(sink);
  // reads against Map.get (row 0), writes against Map.set (row 4)
  const rows = loops.map(([label], i) => {
    const floor = i < 4 ? samples[0] : samples[4];
    const vs = i === 0 || i === 4 ? "1.00×" : fmtTimes(ratio(samples[i], floor));
    return `| ${label} | ${fmtNs(median(samples[i]))} | ${vs} |`;
  });
  return [
    `### One thread, ${runtimeName}: ns per call (median of ${ROUNDS} rounds of ${N.toLocaleString("en-US")} calls)`,
    "",
    "Process CPU time per call (user + system, so a busy machine's waiting is not counted; the runtime's GC",
    "threads are). The ratio is the median of per-round ratios to `Map.get` for reads and `Map.set` for writes.",
    "Target: `SharedMap.get` ≤ 4× `Map.get`.",
    "",
    "| operation | ns/call | vs JS Map |",
    "|---|---:|---:|",
    ...rows,
  ].join("\n");
}

// ---- throughput: 1 thread, 2 Workers, 2 processes, SQLite -------------------------------

/** A fresh map (all keys present, counters at 0) at MAP_AT in `memory`. */
function freshMap(memory: SharedArrayBuffer | import("../src/index.ts").SharedMemory): void {
  const m = new api.SharedMap(memory, MAP_AT, OPTIONS);
  for (const k of keys) m.set(k, value);
}

const bytes = MAP_AT + api.SharedMap.byteLength(OPTIONS);
const peerUrl = new URL("./map_worker.ts", import.meta.url).href;
const peerPath = decodeURIComponent(new URL("./map_peer.ts", import.meta.url).pathname);

/** Runs every round of `ops` with `peers` gated peers; returns per op the ops/s of each round. */
async function gated(
  memory: SharedArrayBuffer | import("../src/index.ts").SharedMemory,
  ops: readonly string[],
  peers: number,
  children: Child[],
  replies: Promise<unknown>[],
  what: string,
): Promise<Record<string, number[]>> {
  const gates = new Gates(memory, GATES_AT);
  const out: Record<string, number[]> = {};
  let round = 0;
  for (const op of ops) {
    for (let r = 0; r < ROUNDS; r++, round++) {
      await Promise.race([gates.ready(round, peers, children, what), ...replies]);
      const ns = gates.open(round, peers, what);
      (out[op] ??= []).push((peers * n(op)) / (ns / 1e9));
    }
    progress(".");
  }
  await Promise.all(replies);
  return out;
}

async function twoWorkers(): Promise<Record<string, number[]>> {
  const sab = new SharedArrayBuffer(bytes);
  freshMap(sab);
  const workers = [0, 1].map(() => new Worker(peerUrl, { type: "module" }));
  try {
    const replies = workers.map((w, peer) =>
      new Promise((resolve, reject) => {
        w.onmessage = (e) => {
          if (e.data.ready) {
            const job: MapJob = {
              ops: OPS,
              memory: sab,
              mapAt: MAP_AT,
              gates: GATES_AT,
              rounds: ROUNDS,
              n: nOf(),
              peer,
            };
            w.postMessage(job);
          } else if (e.data.error) reject(new Error(e.data.error));
          else resolve(e.data);
        };
        w.onerror = (e) => reject(new Error(`map peer Worker: ${e.message}`));
      })
    );
    const out = await gated(sab, OPS, 2, [], replies, "2 Workers");
    checkCounters(new api.SharedMap(sab, MAP_AT), 2);
    return out;
  } finally {
    for (const w of workers) w.terminate();
  }
}

const nOf = (): Record<string, number> => Object.fromEntries([...OPS, ...SQL_OPS].map((op) => [op, n(op)]));

async function twoProcesses(ops: readonly string[], db?: string): Promise<Record<string, number[]>> {
  const seg = api.SharedMemory.create(`/sa-bench-map-${process.pid}-${ops[0]}`, bytes);
  try {
    freshMap(seg);
    const children = [0, 1].map((peer) => {
      const job: MapJob = {
        ops,
        memory: seg.handle(),
        mapAt: MAP_AT,
        gates: GATES_AT,
        rounds: ROUNDS,
        n: nOf(),
        peer,
        db,
      };
      const arg = JSON.stringify(job);
      return start(isBun ? [process.execPath, peerPath, arg] : [process.execPath, "run", "-A", peerPath, arg]);
    });
    const replies = children.map(async (c) => {
      const { code, stdout, stderr } = await c.done;
      const reply = JSON.parse(stdout.trim().split("\n").pop() || "{}");
      if (code !== 0 || reply.error) throw new Error(`map peer process: ${reply.error ?? stderr}`);
      return reply;
    });
    replies.forEach((r) => r.catch(() => {}));
    const out = await gated(seg, ops, 2, children, replies, `2 processes ${ops[0]}`);
    if (!ops[0].startsWith("sql")) checkCounters(new api.SharedMap(seg, MAP_AT), 2);
    return out;
  } finally {
    seg.close();
    api.SharedMemory.unlink(seg.name);
  }
}

/** Each peer added 1 per fetchAdd call (warm-up and rounds): the total must be exact. */
function checkCounters(m: import("../src/index.ts").SharedMap, peers: number): void {
  let total = 0;
  for (const k of counters) total += m.fetchAdd(k, 0);
  const want = peers * (Math.min(N, WARM) + ROUNDS * N);
  if (total !== want) throw new Error(`bench self-check: the counters total ${total}, expected ${want}`);
}

function oneThread(): Record<string, number[]> {
  const sab = new SharedArrayBuffer(bytes);
  freshMap(sab);
  const m = new api.SharedMap(sab, MAP_AT);
  const out: Record<string, number[]> = {};
  const loops: Record<string, (c: number) => void> = {
    get: (c) => {
      for (let i = 0; i < c; i++) m.get(keys[i % KEYS]);
    },
    set: (c) => {
      for (let i = 0; i < c; i++) m.set(keys[i % KEYS], value);
    },
    fetchAdd: (c) => {
      for (let i = 0; i < c; i++) m.fetchAdd(counters[i % KEYS], 1);
    },
  };
  for (const op of OPS) {
    loops[op](20_000);
    for (let r = 0; r < ROUNDS; r++) (out[op] ??= []).push(1e9 / timed(loops[op], N));
  }
  return out;
}

async function sqliteDatabase(dir: string): Promise<string> {
  const path = join(dir, "map.db");
  const db = await openDatabase(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB NOT NULL)");
  db.exec("CREATE TABLE counters (k TEXT PRIMARY KEY, n INTEGER NOT NULL)");
  const kv = db.prepare("INSERT INTO kv (k, v) VALUES (?, ?)") as unknown as { run(...a: unknown[]): unknown };
  const c = db.prepare("INSERT INTO counters (k, n) VALUES (?, 0)") as unknown as { run(...a: unknown[]): unknown };
  db.exec("BEGIN");
  for (const k of keys) {
    kv.run(k, value);
    c.run(k);
  }
  db.exec("COMMIT");
  db.close();
  return path;
}

async function throughput(): Promise<string> {
  const one = oneThread();
  progress(" 1 thread");
  const workers = await twoWorkers();
  progress(" 2 Workers");
  const procs = await twoProcesses(OPS);
  progress(" 2 processes");
  const dir = mkdtempSync(join(tmpdir(), "shared-atomic-map-bench-"));
  let sql: Record<string, number[]>;
  try {
    sql = await twoProcesses(SQL_OPS, await sqliteDatabase(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  progress(" SQLite");
  const sqlOf = { get: "sql-get", set: "sql-set", fetchAdd: "sql-add" } as const;
  const rows = OPS.map((op) => {
    const s = sql[sqlOf[op]];
    return `| \`${op}\` | ${fmtRate(median(one[op]))} | ${fmtRate(median(workers[op]))} (${
      fmtTimes(median(workers[op]) / median(one[op]))
    }) | ${fmtRate(median(procs[op]))} | ${fmtRate(median(s))} | ${fmtTimes(ratio(procs[op], s))} |`;
  });
  return [
    `### Throughput, ${runtimeName}: calls per second over ${
      KEYS.toLocaleString("en-US")
    } keys (median of ${ROUNDS} rounds)`,
    "",
    `Every peer runs ${N.toLocaleString("en-US")} calls a round (SQLite: ${SQL_N.toLocaleString("en-US")} reads, ` +
    `${Math.ceil(SQL_N / 10).toLocaleString("en-US")} writes); the figure is all peers' calls over the wall time ` +
    "from the gate opening to the last peer done. In brackets: 2 Workers against 1 thread. The last column is " +
    "2 processes on the SharedMap against 2 processes on SQLite (WAL, `synchronous=NORMAL`, each statement " +
    "its own transaction): the target is ≥ 100×.",
    "",
    "| operation | 1 thread | 2 Workers | 2 processes | SQLite, 2 processes | SharedMap / SQLite |",
    "|---|---:|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}

const started = now();
progress(`${runtimeName}: map, start`);
const out = [singleThread(), "", await throughput()];
progress(` done in ${((now() - started) / 1e9).toFixed(1)} s\n`);
console.log(out.join("\n"));
