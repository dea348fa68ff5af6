/**
 * What bench/processes.bench.ts, bench/locks.bench.ts and bench/peer.ts
 * share: the runtime's name, child processes (Bun.spawn / Deno.Command),
 * Workers running bench/peer.ts, start gates, the built-in SQLite, medians and
 * formatting. No side effects on import beyond loading the library's entry.
 *
 * @module
 */

import process from "node:process";
import type * as Api from "../src/index.ts";
import type { Job, Reply } from "./peer.ts";

/** Whether this is Bun (else Deno). */
export const isBun: boolean = "Bun" in globalThis;

// Non-literal specifier: neither type checker follows the other runtime's entry.
const entry: string = isBun ? "../bun.ts" : "../mod.ts";
/** The library, through this runtime's entry (bun.ts or mod.ts). */
export const api: typeof Api = (await import(entry)) as typeof Api;

interface DenoChild {
  readonly pid: number;
  output(): Promise<{ code: number; signal: string | null; stdout: Uint8Array; stderr: Uint8Array }>;
  kill(signal?: string): void;
}
interface DenoGlobal {
  version: { deno: string; v8: string };
  execPath(): string;
  Command: new (
    cmd: string,
    options: { args: string[]; stdout: "piped"; stderr: "piped"; stdin: "null" },
  ) => { spawn(): DenoChild };
}
interface BunChild {
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly exited: Promise<number>;
  readonly signalCode: string | null;
  kill(signal?: string): void;
}
interface BunGlobal {
  version: string;
  spawn(cmd: string[], options: { stdout: "pipe"; stderr: "pipe"; stdin: "ignore" }): BunChild;
}

const deno = (globalThis as unknown as { Deno?: DenoGlobal }).Deno;
const bun = (globalThis as unknown as { Bun?: BunGlobal }).Bun;

/** "Bun 1.4.5" or "Deno 2.9.6 (V8 …)". */
export const runtimeName: string = bun ? `Bun ${bun.version}` : `Deno ${deno!.version.deno} (V8 ${deno!.version.v8})`;

/** An environment variable, undefined when unset or empty. */
export const env = (name: string): string | undefined => process.env[name] || undefined;

/** Nanoseconds, from performance.now(). */
export const now = (): number => performance.now() * 1e6;

/** Progress on stderr (stdout carries the markdown). */
export const progress = (s: string): void => void process.stderr.write(s);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A child process with piped output. */
export interface Child {
  readonly pid: number;
  /** Whether the process has exited (and its output has been read). */
  readonly exited: boolean;
  kill(): void;
  /** Exit code (null if killed by a signal) and output. */
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

const decoder = new TextDecoder();

/** Starts `cmd` (argv) with stdout and stderr piped; the environment is inherited. */
export function start(cmd: string[]): Child {
  if (bun) {
    const p = bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const state = { exited: false };
    const done = (async () => {
      const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
      const code = await p.exited;
      state.exited = true;
      return { code: p.signalCode ? null : code, stdout, stderr };
    })();
    return {
      pid: p.pid,
      get exited() {
        return state.exited;
      },
      kill: () => p.kill("SIGKILL"),
      done,
    };
  }
  const p = new deno!.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped", stdin: "null" }).spawn();
  const state = { exited: false };
  const done = (async () => {
    const out = await p.output();
    state.exited = true;
    return {
      code: out.signal ? null : out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  })();
  return {
    pid: p.pid,
    get exited() {
      return state.exited;
    },
    kill: () => {
      try {
        p.kill("SIGKILL");
      } catch { /* already gone */ }
    },
    done,
  };
}

const peerPath = decodeURIComponent(new URL("./peer.ts", import.meta.url).pathname);

/** Starts bench/peer.ts as a child process of this runtime, running `job`. */
export function startPeer(job: Job): Child {
  const arg = JSON.stringify(job);
  return start(
    bun
      ? [process.execPath, peerPath, "--peer-process", arg]
      : [deno!.execPath(), "run", "-A", peerPath, "--peer-process", arg],
  );
}

/** Waits for a peer process; throws with its stderr unless it exited 0. Returns its reply. */
export async function peerResult(child: Child, what: string): Promise<Reply> {
  const { code, stdout, stderr } = await child.done;
  if (code !== 0) throw new Error(`${what}: peer process ${child.pid} exited with ${code}:\n${stderr}`);
  const reply = JSON.parse(stdout.trim().split("\n").pop() || "{}") as Reply;
  if (reply.error) throw new Error(`${what}: ${reply.error}`);
  return reply;
}

/** A Worker running bench/peer.ts; `call` runs one job there. */
export interface Peer {
  call(job: Job): Promise<Reply>;
  terminate(): void;
}

/**
 * Starts `count` Workers running bench/peer.ts; resolves once each has said
 * it is ready (a message posted before a Worker's module has finished
 * loading, and so before its handler exists, can be lost).
 */
export async function startWorkers(count: number): Promise<Peer[]> {
  const url = new URL("./peer.ts", import.meta.url).href;
  const workers = Array.from({ length: count }, () => new Worker(url, { type: "module" }));
  try {
    await Promise.all(workers.map((w) => reply(w, "start")));
  } catch (e) {
    for (const w of workers) w.terminate();
    throw e;
  }
  return workers.map((w) => ({
    call: (job: Job) => reply(w, job.mode, job),
    terminate: () => w.terminate(),
  }));
}

/** The next message of `w` (after posting `job`, if given); rejects on an error reply, a Worker error, or 120 s. */
function reply(w: Worker, what: string, job?: Job): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`peer Worker: no reply to ${what} within 120 s`)), 120_000);
    const settle = (fn: () => void): void => {
      clearTimeout(timer);
      fn();
    };
    w.onmessage = (e: MessageEvent<Reply>) =>
      settle(() => e.data.error ? reject(new Error(e.data.error)) : resolve(e.data));
    w.onerror = (e: Event) => settle(() => reject(new Error(`peer Worker failed: ${(e as ErrorEvent).message}`)));
    if (job) w.postMessage(job);
  });
}

/** Bytes per gate in shared memory: ready, go, done (i32 each), one spare word. */
const GATE_BYTES = 16;
/** Longest wait for peers to start or to finish a round. */
const DEADLINE_MS = 60_000;

/**
 * The parent's side of the start gates in `memory` from byte `base` (see
 * bench/peer.ts): gate `round` is i32 words ready, go, done at
 * `base + 16 × round`.
 */
export class Gates {
  readonly #memory: SharedArrayBuffer | Api.SharedMemory;
  readonly #base: number;
  constructor(memory: SharedArrayBuffer | Api.SharedMemory, base: number) {
    this.#memory = memory;
    this.#base = base;
  }

  #word(round: number, i: number): Api.AtomicI32 {
    return new api.AtomicI32(this.#memory, this.#base + GATE_BYTES * round + 4 * i);
  }

  /**
   * Waits, with the event loop running, until `peers` have counted in at gate
   * `round`; throws if one of `children` exits first, or after DEADLINE_MS.
   */
  async ready(round: number, peers: number, children: readonly Child[], what: string): Promise<void> {
    const ready = this.#word(round, 0);
    const deadline = performance.now() + DEADLINE_MS;
    while (ready.load() < peers) {
      const gone = children.find((c) => c.exited);
      if (gone) {
        await peerResult(gone, what); // throws with its stderr if it failed
        throw new Error(`${what}: peer process ${gone.pid} exited before gate ${round}`);
      }
      if (performance.now() > deadline) throw new Error(`${what}: peers not at gate ${round} within ${DEADLINE_MS} ms`);
      await sleep(1);
    }
  }

  /**
   * Opens gate `round` and blocks this thread (a futex wait: no CPU taken
   * from the peers) until `peers` are done. Returns the wall time in ns.
   */
  open(round: number, peers: number, what: string): number {
    const go = this.#word(round, 1), done = this.#word(round, 2);
    const t0 = now();
    go.store(1);
    go.notify();
    for (;;) {
      const d = done.load();
      if (d >= peers) break;
      if (now() - t0 > DEADLINE_MS * 1e6) throw new Error(`${what}: round ${round} not done within ${DEADLINE_MS} ms`);
      done.wait(d, 100);
    }
    return now() - t0;
  }
}

/** A prepared statement of the built-in SQLite (the part both runtimes share). */
export interface Statement {
  run(): unknown;
  get(): unknown;
}
/** A connection of the built-in SQLite (the part both runtimes share). */
export interface Database {
  exec(sql: string): unknown;
  prepare(sql: string): Statement;
  close(): void;
}

/** The runtime's built-in SQLite: bun:sqlite in Bun, node:sqlite in Deno. */
export async function openDatabase(path: string): Promise<Database> {
  // Non-literal specifiers: neither type checker knows the other runtime's module.
  if (bun) {
    const name: string = ["bun", "sqlite"].join(":");
    const { Database } = (await import(name)) as { Database: new (path: string) => Database };
    return new Database(path);
  }
  const name: string = ["node", "sqlite"].join(":");
  const { DatabaseSync } = (await import(name)) as { DatabaseSync: new (path: string) => Database };
  return new DatabaseSync(path);
}

/** The median of `xs`. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The median of the per-round ratios a[i] / b[i]. */
export const ratio = (a: readonly number[], b: readonly number[]): number => median(a.map((x, i) => x / b[i]));

/** ns with 3 significant digits-ish: 2.26, 15.4, 1234. */
export const fmtNs = (x: number): string =>
  x >= 1000 ? Math.round(x).toLocaleString("en-US") : x.toFixed(x < 10 ? 2 : 1);

/** A ratio: 1.23×. */
export const fmtTimes = (x: number): string => `${x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(2)}×`;

/** An integer with thousands separators. */
export const fmtInt = (x: number): string => Math.round(x).toLocaleString("en-US");

/** Ops per second, readable: 12.3 M/s, 4,567/s. */
export function fmtRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(perSecond >= 1e8 ? 0 : 1)} M/s`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(0)} k/s`;
  return `${fmtInt(perSecond)}/s`;
}
