/**
 * The other side of bench/processes.bench.ts and bench/locks.bench.ts: one
 * job, run in a Worker (one job per message, the reply posted back; an empty
 * message first says the Worker is ready) or in a child process (`peer.ts --peer-process <job as JSON>`, the reply printed as
 * JSON on stdout). Runs in Bun and in Deno. It never starts Workers or
 * processes itself.
 *
 * `memory` is the SharedArrayBuffer in a Worker, a SharedMemory handle in a
 * process; `at` holds the byte offsets of the words a job uses.
 *
 * Gates: a job with `rounds` runs that many rounds, each behind its own start
 * gate of three i32 words at `at.gates + 16 × round` (ready, go, done): the
 * peer adds 1 to ready (and notifies), waits until go is non-zero, does the
 * round's work, then adds 1 to done (and notifies). A process started once
 * thus serves every round, and start-up is never measured.
 *
 * Jobs:
 * - `add`: warms up (`warm` × the same loop on a private atomic), then per
 *   round `n` × `AtomicU64.fetchAdd(1)` (number path) on `at.counter`; replies
 *   with the wall-clock span of each round's loop;
 * - `sqlite`: opens `db`, sets the busy timeout, WAL and `synchronous`, then
 *   per round `n` × `UPDATE counter SET v = v + 1 WHERE id = 1`, each its own
 *   transaction (autocommit);
 * - `pong` / `ping`: the wake-up ping-pong on the `AtomicI32` at `at.word`
 *   with the library's `wait`/`notify`. pong counts itself in at `at.ready`
 *   and answers until ping writes STOP; ping waits for it, then per round (a
 *   gated one in a process, one round right away in a Worker) runs `warm`
 *   untimed and `n` timed round trips and replies with each round trip's ns.
 *   `pong-builtin` / `ping-builtin`: the same with the built-in
 *   `Atomics.wait`/`Atomics.notify` on an `Int32Array` (Workers only).
 *
 * A peer that waits more than IDLE_MS for anything gives up with an error, so
 * a bench that died cannot leave processes behind.
 *
 * @module
 */

import process from "node:process";
import type * as Api from "../src/index.ts";
import { api, now, openDatabase } from "./common.ts";

/** A job for a peer. */
export interface Job {
  readonly mode: "add" | "sqlite" | "pong" | "ping" | "pong-builtin" | "ping-builtin";
  /** A SharedArrayBuffer (Workers) or a SharedMemory handle string (processes). */
  readonly memory: SharedArrayBuffer | string;
  /** Byte offsets: gates (first gate), counter (u64), word and ready (ping-pong). */
  readonly at: Readonly<Record<string, number>>;
  /** Gated rounds (default: 1; ping without `at.gates`: one round, no gate). */
  readonly rounds?: number;
  /** Operations (add, sqlite) or timed round trips (ping) per round. */
  readonly n: number;
  /** Untimed warm-up: fetchAdds on a private atomic before the first gate (add), round trips per round (ping). */
  readonly warm?: number;
  /** SQLite database file (sqlite). */
  readonly db?: string;
  /** SQLite `PRAGMA synchronous` value (sqlite). */
  readonly sync?: string;
}

/** What a peer answers. */
export interface Reply {
  /** Per round: ns of each timed round trip (ping). */
  readonly ns?: number[][];
  /** Per round: start and end of the timed loop, ms since the epoch (add). */
  readonly spans?: [number, number][];
  readonly error?: string;
}

/** Bytes per gate: ready, go, done, one spare word (as in common.ts). */
const GATE_BYTES = 16;

/** The pinger writes STOP at the end; a pong sets the word back to 0. */
const STOP = -1;
/** Longest wait for anything (a gate, a ping, a pong) before giving up. */
const IDLE_MS = 120_000;

type Memory = SharedArrayBuffer | Api.SharedMemory;

function openMemory(memory: SharedArrayBuffer | string): Memory {
  return typeof memory === "string" ? api.SharedMemory.fromHandle(memory) : memory;
}

function i32(memory: Memory, at: number): Api.AtomicI32 {
  return new api.AtomicI32(memory, at);
}

/** Blocks while `a` holds `value`, in 1-second waits, for at most IDLE_MS. */
function waitWhile(a: Api.AtomicI32, value: number, what: string): number {
  const deadline = performance.now() + IDLE_MS;
  let v: number;
  while ((v = a.load()) === value) {
    if (performance.now() > deadline) throw new Error(`peer: gave up waiting for ${what} after ${IDLE_MS} ms`);
    a.wait(value, 1000);
  }
  return v;
}

/** Counts this peer in at gate `round`, then blocks until the gate opens. */
function gate(memory: Memory, at: Job["at"], round: number): void {
  const base = at.gates + GATE_BYTES * round;
  const ready = i32(memory, base);
  ready.fetchAdd(1);
  ready.notify();
  waitWhile(i32(memory, base + 4), 0, `gate ${round}`);
}

/** Counts this peer done at gate `round`. */
function finish(memory: Memory, at: Job["at"], round: number): void {
  const done = i32(memory, at.gates + GATE_BYTES * round + 8);
  done.fetchAdd(1);
  done.notify();
}

const wallMs = (): number => performance.timeOrigin + performance.now();

function addLoop(counter: Api.AtomicU64, n: number): void {
  for (let i = 0; i < n; i++) counter.fetchAdd(1);
}

function add(job: Job): Reply {
  const memory = openMemory(job.memory);
  const counter = new api.AtomicU64(memory, job.at.counter);
  // before the first gate: the same loop on a private atomic, so a fresh
  // process is as far through its JIT tiers as a Worker that ran before
  addLoop(new api.AtomicU64(new SharedArrayBuffer(8)), job.warm ?? 0);
  const spans: [number, number][] = [];
  for (let r = 0; r < (job.rounds ?? 1); r++) {
    gate(memory, job.at, r);
    const t0 = wallMs();
    addLoop(counter, job.n);
    spans.push([t0, wallMs()]);
    finish(memory, job.at, r);
  }
  return { spans };
}

async function sqlite(job: Job): Promise<Reply> {
  const memory = openMemory(job.memory);
  const db = await openDatabase(job.db!);
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`PRAGMA synchronous = ${job.sync ?? "FULL"}`);
    const update = db.prepare("UPDATE counter SET v = v + 1 WHERE id = 1");
    for (let r = 0; r < (job.rounds ?? 1); r++) {
      gate(memory, job.at, r);
      for (let i = 0, n = job.n; i < n; i++) update.run();
      finish(memory, job.at, r);
    }
  } finally {
    db.close();
  }
  return {};
}

function pong(job: Job): Reply {
  const memory = openMemory(job.memory);
  const word = i32(memory, job.at.word), ready = i32(memory, job.at.ready);
  ready.fetchAdd(1);
  ready.notify();
  for (;;) {
    let v: number;
    while ((v = word.load()) === 0) {
      // a ping answers in microseconds; a long silence is the gap between rounds
      if (word.wait(0, 1000) === "timed-out") waitWhile(word, 0, "a ping");
    }
    if (v === STOP) return {};
    word.store(0);
    word.notify(1);
  }
}

function ping(job: Job): Reply {
  const memory = openMemory(job.memory);
  const word = i32(memory, job.at.word), ready = i32(memory, job.at.ready);
  waitWhile(ready, 0, "the pong peer");
  const gated = job.at.gates !== undefined;
  const warm = job.warm ?? 0, total = warm + job.n;
  const rounds: number[][] = [];
  try {
    for (let r = 0; r < (gated ? job.rounds ?? 1 : 1); r++) {
      if (gated) gate(memory, job.at, r);
      const ns = new Array<number>(job.n);
      let prev = now();
      for (let i = 0; i < total; i++) {
        word.store(1);
        word.notify(1);
        while (word.load() === 1) word.wait(1);
        const t = now();
        if (i >= warm) ns[i - warm] = Math.round(t - prev);
        prev = t;
      }
      rounds.push(ns);
      if (gated) finish(memory, job.at, r);
    }
  } finally {
    word.store(STOP);
    word.notify();
  }
  return { ns: rounds };
}

function pongBuiltin(job: Job): Reply {
  const words = new Int32Array(job.memory as SharedArrayBuffer);
  const w = job.at.word / 4, ready = job.at.ready / 4;
  Atomics.add(words, ready, 1);
  Atomics.notify(words, ready);
  const deadline = performance.now() + IDLE_MS;
  for (;;) {
    let v: number;
    while ((v = Atomics.load(words, w)) === 0) {
      if (performance.now() > deadline) throw new Error("pong: no STOP");
      Atomics.wait(words, w, 0, 1000);
    }
    if (v === STOP) return {};
    Atomics.store(words, w, 0);
    Atomics.notify(words, w, 1);
  }
}

function pingBuiltin(job: Job): Reply {
  const words = new Int32Array(job.memory as SharedArrayBuffer);
  const w = job.at.word / 4, ready = job.at.ready / 4;
  const deadline = performance.now() + IDLE_MS;
  while (Atomics.load(words, ready) === 0) {
    if (performance.now() > deadline) throw new Error("ping: no pong");
    Atomics.wait(words, ready, 0, 1000);
  }
  const warm = job.warm ?? 0, total = warm + job.n;
  const ns = new Array<number>(job.n);
  let prev = now();
  for (let i = 0; i < total; i++) {
    Atomics.store(words, w, 1);
    Atomics.notify(words, w, 1);
    while (Atomics.load(words, w) === 1) Atomics.wait(words, w, 1);
    const t = now();
    if (i >= warm) ns[i - warm] = Math.round(t - prev);
    prev = t;
  }
  Atomics.store(words, w, STOP);
  Atomics.notify(words, w);
  return { ns: [ns] };
}

/** Runs one job. */
export function run(job: Job): Reply | Promise<Reply> {
  switch (job.mode) {
    case "add":
      return add(job);
    case "sqlite":
      return sqlite(job);
    case "pong":
      return pong(job);
    case "ping":
      return ping(job);
    case "pong-builtin":
      return pongBuiltin(job);
    case "ping-builtin":
      return pingBuiltin(job);
  }
  throw new Error(`peer: unknown mode ${String((job as { mode: unknown }).mode)}`);
}

interface WorkerScope {
  onmessage: ((e: MessageEvent<Job>) => void) | null;
  postMessage(data: Reply): void;
}

const args = process.argv.slice(2);
if (args[0] === "--peer-process") {
  const reply = await run(JSON.parse(args[1]) as Job);
  process.stdout.write(JSON.stringify(reply) + "\n");
} else {
  const scope = globalThis as unknown as WorkerScope;
  scope.onmessage = async (e) => {
    try {
      scope.postMessage(await run(e.data));
    } catch (err) {
      scope.postMessage({ error: String((err as Error)?.stack ?? err) });
    }
  };
  scope.postMessage({}); // ready: the handler is installed
}
