/**
 * The other side of bench/map.bench.ts: one job, run in a Worker
 * (bench/map_worker.ts: the job posted, the reply posted back; a first
 * message says it is ready) or
 * in a child process (`map_peer.ts <job as JSON>`, the reply printed as JSON).
 *
 * A job is a list of operations, each run for `rounds` gated rounds of `n`
 * calls over KEYS keys: round r waits at the gate of three i32 words at
 * `gates + 16 r` (ready, go, done; see common.ts `Gates`). Operations:
 * `get`, `set`, `fetchAdd` on the SharedMap at `mapAt` of `memory`, and
 * `sql-get`, `sql-set`, `sql-add`, the same on an SQLite table in WAL mode
 * (`db`), each statement its own transaction.
 *
 * @module
 */

import process from "node:process";
import type * as Api from "../src/index.ts";
import { api, openDatabase } from "./common.ts";

/** A job for a peer. */
export interface MapJob {
  readonly ops: readonly string[];
  /** A SharedArrayBuffer (Workers) or a SharedMemory handle (processes). */
  readonly memory: SharedArrayBuffer | string;
  readonly mapAt: number;
  readonly gates: number;
  readonly rounds: number;
  /** Calls per round, per operation. */
  readonly n: Readonly<Record<string, number>>;
  /** This peer's index (keys start at a different place for each). */
  readonly peer: number;
  readonly db?: string;
}

/** Keys "key-000000000000" … (16 bytes), values 64 bytes. */
export const KEYS = 1000;
export const VALUE_BYTES = 64;
export const keyOf = (i: number): string => `key-${String(i % KEYS).padStart(12, "0")}`;
/** Counter keys "cnt-000000000000" … (values: 8-byte integers). */
export const counterOf = (i: number): string => `cnt-${String(i % KEYS).padStart(12, "0")}`;
/** Untimed calls before an operation's first round. */
export const WARM = 20_000;
const GATE_BYTES = 16;
const IDLE_MS = 120_000;

type Memory = SharedArrayBuffer | Api.SharedMemory;

function word(memory: Memory, at: number): Api.AtomicI32 {
  return new api.AtomicI32(memory, at);
}

function gate(memory: Memory, at: number): void {
  const ready = word(memory, at);
  ready.fetchAdd(1);
  ready.notify();
  const go = word(memory, at + 4);
  const deadline = performance.now() + IDLE_MS;
  while (go.load() === 0) {
    if (performance.now() > deadline) throw new Error("map peer: gave up waiting at a gate");
    go.wait(0, 1000);
  }
}

function finish(memory: Memory, at: number): void {
  const done = word(memory, at + 8);
  done.fetchAdd(1);
  done.notify();
}

interface Sql {
  get(k: string): void;
  set(k: string, v: Uint8Array): void;
  add(k: string): void;
}

async function openSql(path: string): Promise<Sql> {
  const db = await openDatabase(path);
  db.exec("PRAGMA busy_timeout = 10000");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  type S = { get(...a: unknown[]): unknown; run(...a: unknown[]): unknown };
  const get = db.prepare("SELECT v FROM kv WHERE k = ?") as unknown as S;
  const set = db.prepare("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)") as unknown as S;
  const add = db.prepare("UPDATE counters SET n = n + 1 WHERE k = ?") as unknown as S;
  return { get: (k) => void get.get(k), set: (k, v) => void set.run(k, v), add: (k) => void add.run(k) };
}

/** Runs a job: every operation's rounds, each behind its gate. */
export async function runJob(job: MapJob): Promise<void> {
  const memory: Memory = typeof job.memory === "string" ? api.SharedMemory.fromHandle(job.memory) : job.memory;
  const m = new api.SharedMap(memory, job.mapAt);
  const sql = job.db ? await openSql(job.db) : undefined;
  const value = new Uint8Array(VALUE_BYTES).fill(job.peer + 1);
  const keys = Array.from({ length: KEYS }, (_, i) => keyOf(i + 500 * job.peer));
  const counters = Array.from({ length: KEYS }, (_, i) => counterOf(i + 500 * job.peer));
  const loops: Record<string, (n: number) => void> = {
    get: (n) => {
      for (let i = 0; i < n; i++) m.get(keys[i % KEYS]);
    },
    set: (n) => {
      for (let i = 0; i < n; i++) m.set(keys[i % KEYS], value);
    },
    fetchAdd: (n) => {
      for (let i = 0; i < n; i++) m.fetchAdd(counters[i % KEYS], 1);
    },
    "sql-get": (n) => {
      for (let i = 0; i < n; i++) sql!.get(keys[i % KEYS]);
    },
    "sql-set": (n) => {
      for (let i = 0; i < n; i++) sql!.set(keys[i % KEYS], value);
    },
    "sql-add": (n) => {
      for (let i = 0; i < n; i++) sql!.add(counters[i % KEYS]);
    },
  };
  let round = 0;
  for (const op of job.ops) {
    loops[op](Math.min(job.n[op], WARM)); // warm-up, untimed
    for (let r = 0; r < job.rounds; r++, round++) {
      const at = job.gates + GATE_BYTES * round;
      gate(memory, at);
      loops[op](job.n[op]);
      finish(memory, at);
    }
  }
}

if (import.meta.main) {
  // deno-lint-ignore no-explicit-any
  const argv: string[] = "Bun" in globalThis ? process.argv.slice(2) : (globalThis as any).Deno.args;
  try {
    await runJob(JSON.parse(argv[0]));
    console.log(JSON.stringify({ ok: true }));
  } catch (e) {
    console.log(JSON.stringify({ error: String((e as Error).stack ?? e) }));
  }
}
