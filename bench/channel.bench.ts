/**
 * `Channel` throughput and latency, against what a Bun or Deno user has
 * today: messages/s for 64-byte and 4 KiB messages, 1→1 and 4→4 between
 * Workers against `postMessage` of the same bytes; 1→1 between processes
 * against the runtime's own child-process IPC (`Bun.spawn({ ipc })` in Bun,
 * `Deno.Command` with piped stdio in Deno) and a Unix-domain socket
 * (`node:net`); one-way latency (half a round trip, p50 and p99). One file
 * for both runtimes; the peers are bench/channel_peer.ts.
 *
 * Each row is a median over BENCH_ROUNDS rounds (default 3); each ratio is
 * the median of per-round ratios of two measurements taken back to back.
 * Start-up is never timed: Workers wait at a gate, a process sends one
 * untimed message first.
 *
 * Run: `bun bench/channel.bench.ts`, `deno run -A bench/channel.bench.ts`,
 * or `BENCHES=channel bash bench/run.sh`. Environment: BENCH_ROUNDS,
 * BENCH_CH_N (64-byte messages per producer, default 200000; 4 KiB: a fifth),
 * BENCH_PM_N (postMessage and IPC messages, default 50000), BENCH_TRIPS
 * (round trips, default 20000), SHARED_ATOMIC_LIB.
 *
 * Prints markdown on stdout, progress on stderr.
 *
 * @module
 */

import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { api, type Child, env, fmtTimes, isBun, median, progress, ratio, runtimeName, start } from "./common.ts";
import type { ChannelJob } from "./channel_peer.ts";

const { Channel, SharedMemory } = api;
const ROUNDS = Number(env("BENCH_ROUNDS") ?? 3);
const CH_N = Number(env("BENCH_CH_N") ?? 200_000);
const PM_N = Number(env("BENCH_PM_N") ?? 50_000);
const TRIPS = Number(env("BENCH_TRIPS") ?? 20_000);
const peerUrl = new URL("./channel_peer.ts", import.meta.url);
const CAPACITY = 1024;
const BATCH = 64;

/** Messages per second, e.g. "4.1 M/s". */
const rate = (x: number) => x >= 1e6 ? `${(x / 1e6).toFixed(2)} M/s` : `${Math.round(x / 1e3)} k/s`;
const us = (ns: number) => `${(ns / 1000).toFixed(1)} µs`;

// ---- Workers -------------------------------------------------------------------------

/** Starts a peer Worker with `job`; resolves once it is ready, with a promise of its next message. */
async function worker(job: ChannelJob, transfer: MessagePort[] = []): Promise<{ w: Worker; next: Promise<unknown> }> {
  const w = new Worker(peerUrl.href, { type: "module" });
  const message = () =>
    new Promise<void>((resolve, reject) => {
      w.onmessage = () => resolve();
      w.onerror = (e) => reject(new Error(`peer failed: ${e.message}`));
    });
  await message(); // loaded
  const ready = message();
  w.postMessage(job, transfer);
  await ready;
  const next = new Promise<unknown>((resolve) => (w.onmessage = (e) => resolve(e.data)));
  return { w, next };
}

const gate = () => new SharedArrayBuffer(4);
function open(g: SharedArrayBuffer): void {
  const a = new Int32Array(g);
  Atomics.store(a, 0, 1);
  Atomics.notify(a, 0);
}

/** Messages/s of `pairs` channel producers → consumers Workers (batch: sendMany/recvMany). */
async function channelWorkers(pairs: number, size: number, n: number, batch?: number): Promise<number> {
  const ch = Channel.create({ capacity: CAPACITY, messageSize: size });
  const g = gate();
  const channel = ch.descriptor();
  const consumers = await Promise.all(
    Array.from({ length: pairs }, () => worker({ kind: "ch-consume", channel, n, size, batch })),
  );
  const producers = await Promise.all(
    Array.from({ length: pairs }, () => worker({ kind: "ch-produce", channel, n, size, batch, gate: g })),
  );
  const t0 = performance.now();
  open(g);
  await Promise.all(consumers.map((c) => c.next));
  const ms = performance.now() - t0;
  for (const p of [...consumers, ...producers]) p.w.terminate();
  return (pairs * n) / (ms / 1000);
}

/** Messages/s of `pairs` postMessage producers → consumers (1 pair: to the main thread). */
async function postMessageWorkers(pairs: number, size: number, n: number): Promise<number> {
  const g = gate();
  if (pairs === 1) {
    const p = await worker({ kind: "pm-produce", n, size, gate: g });
    let got = 0;
    const done = new Promise<void>((resolve) => (p.w.onmessage = () => ++got === n && resolve()));
    const t0 = performance.now();
    open(g);
    await done;
    const ms = performance.now() - t0;
    p.w.terminate();
    return n / (ms / 1000);
  }
  const channels = Array.from({ length: pairs }, () => new MessageChannel());
  const consumers = await Promise.all(
    channels.map((c) => worker({ kind: "pm-consume", n, size, port: c.port2 }, [c.port2])),
  );
  const producers = await Promise.all(
    channels.map((c) => worker({ kind: "pm-produce", n, size, gate: g, port: c.port1 }, [c.port1])),
  );
  const t0 = performance.now();
  open(g);
  await Promise.all(consumers.map((c) => c.next));
  const ms = performance.now() - t0;
  for (const p of [...consumers, ...producers]) p.w.terminate();
  return (pairs * n) / (ms / 1000);
}

// ---- processes -----------------------------------------------------------------------

const peerCmd = (job: ChannelJob) => {
  const arg = JSON.stringify(job);
  const path = peerUrl.pathname;
  return isBun ? [process.execPath, path, "--peer", arg] : [process.execPath, "run", "-A", path, "--peer", arg];
};

/** Messages/s from a child process producer to this process over a channel in a SharedMemory. */
async function channelProcess(size: number, n: number, batch?: number): Promise<number> {
  const opts = { capacity: CAPACITY, messageSize: size };
  const name = `/sa-bench-ch-${process.pid}-${Date.now().toString(36)}`;
  const seg = SharedMemory.create(name, Channel.byteLength(opts));
  try {
    const ch = new Channel(seg, 0, opts);
    const child = start(peerCmd({ kind: "ch-produce", channel: ch.handle(), n, size, batch }));
    const into = new Uint8Array(new SharedArrayBuffer(size));
    ch.recvInto(into); // the untimed start message
    const t0 = performance.now();
    if (batch) { for (let got = 0; got < n;) got += ch.recvMany(Math.min(batch, n - got)).length; }
    else for (let i = 0; i < n; i++) ch.recvInto(into);
    const ms = performance.now() - t0;
    await child.done;
    return n / (ms / 1000);
  } finally {
    seg.close();
    SharedMemory.unlink(name);
  }
}

/** Counts frames (4 + size bytes each) arriving as chunks; resolves with messages/s after the start one. */
function frameCounter(size: number, n: number) {
  let bytes = 0, t0 = 0;
  let resolve!: (v: number) => void;
  const done = new Promise<number>((r) => (resolve = r));
  const onChunk = (chunk: Uint8Array) => {
    const before = Math.floor(bytes / (4 + size));
    bytes += chunk.length;
    const frames = Math.floor(bytes / (4 + size));
    if (before === 0 && frames >= 1) t0 = performance.now();
    if (frames >= n + 1) resolve(n / ((performance.now() - t0) / 1000));
  };
  return { onChunk, done };
}

/** Bun: messages/s over `Bun.spawn({ ipc })` (`process.send` of a `size`-character string). */
async function bunIpc(size: number, n: number): Promise<number> {
  // deno-lint-ignore no-explicit-any
  const Bun = (globalThis as any).Bun;
  let got = 0, t0 = 0;
  let resolve!: (v: number) => void;
  const done = new Promise<number>((r) => (resolve = r));
  const p = Bun.spawn(peerCmd({ kind: "ipc-produce", n, size }), {
    stdout: "ignore",
    stderr: "inherit",
    ipc() {
      if (got++ === 0) t0 = performance.now();
      else if (got === n + 1) resolve(n / ((performance.now() - t0) / 1000));
    },
  });
  const r = await done;
  p.kill();
  return r;
}

/** Deno: messages/s of length-prefixed frames over a child's piped stdout (`Deno.Command`). */
async function denoStdio(size: number, n: number): Promise<number> {
  // deno-lint-ignore no-explicit-any
  const Deno = (globalThis as any).Deno;
  const cmd = peerCmd({ kind: "stdio-produce", n, size });
  const p = new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "inherit" }).spawn();
  const counter = frameCounter(size, n);
  for await (const chunk of p.stdout) counter.onChunk(chunk);
  await p.status;
  return counter.done;
}

/** Messages/s of length-prefixed frames over a Unix-domain socket (node:net) from a child. */
async function unixSocket(size: number, n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "sa-bench-uds-"));
  const path = join(dir, "s");
  const counter = frameCounter(size, n);
  const server = createServer((sock) => sock.on("data", (c: Uint8Array) => counter.onChunk(c)));
  await new Promise<void>((r) => server.listen(path, () => r()));
  let child: Child | undefined;
  try {
    child = start(peerCmd({ kind: "uds-produce", n, size, path }));
    const r = await counter.done;
    await child.done;
    return r;
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- latency -------------------------------------------------------------------------

/** Half of each round trip (ns) over a pair of channels, to a Worker or a process. */
async function channelLatency(processes: boolean, trips: number): Promise<number[]> {
  const opts = { capacity: 16, messageSize: 64 };
  const bytes = Channel.byteLength(opts);
  const name = `/sa-bench-lat-${process.pid}-${Date.now().toString(36)}`;
  const seg = processes ? SharedMemory.create(name, 2 * bytes) : undefined;
  try {
    const mem = seg ?? new SharedArrayBuffer(2 * bytes);
    const ping = new Channel(mem, 0, opts), pong = new Channel(mem, bytes, opts);
    const job: ChannelJob = {
      kind: "ch-pong",
      n: trips + 1000,
      size: 64,
      ping: processes ? ping.handle() : ping.descriptor(),
      pong: processes ? pong.handle() : pong.descriptor(),
    };
    const peer = processes ? start(peerCmd(job)) : (await worker(job)).w;
    const m = new Uint8Array(64), into = new Uint8Array(new SharedArrayBuffer(64));
    const out: number[] = [];
    for (let i = 0; i < trips + 1000; i++) {
      const t0 = performance.now();
      ping.send(m);
      pong.recvInto(into);
      if (i >= 1000) out.push(((performance.now() - t0) * 1e6) / 2);
    }
    if (peer instanceof Worker) peer.terminate();
    else await peer.done;
    return out;
  } finally {
    if (seg) {
      seg.close();
      SharedMemory.unlink(name);
    }
  }
}

/** Half of each postMessage round trip (ns) to a Worker. */
async function postMessageLatency(trips: number): Promise<number[]> {
  const { w } = await worker({ kind: "pm-pong", n: 0, size: 64 });
  const m = new Uint8Array(64);
  const out: number[] = [];
  for (let i = 0; i < trips / 4 + 200; i++) {
    const t0 = performance.now();
    await new Promise((r) => {
      w.onmessage = r;
      w.postMessage(m);
    });
    if (i >= 200) out.push(((performance.now() - t0) * 1e6) / 2);
  }
  w.terminate();
  return out;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

// ---- the run -------------------------------------------------------------------------

interface Row {
  label: string;
  ours: number[];
  theirs: number[];
  theirsLabel: string;
}

async function rounds(f: () => Promise<number>, what: string): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    progress(`${what} ${r + 1}/${ROUNDS}\r`);
    out.push(await f());
  }
  return out;
}

const rows: Row[] = [];
const add = async (label: string, ours: () => Promise<number>, theirsLabel: string, theirs: number[]) =>
  rows.push({ label, ours: await rounds(ours, label), theirs, theirsLabel });

for (const size of [64, 4096]) {
  const n = size === 64 ? CH_N : Math.max(1000, Math.floor(CH_N / 5));
  const kb = size === 64 ? "64 B" : "4 KiB";
  for (const pairs of [1, 4]) {
    const pm = await rounds(() => postMessageWorkers(pairs, size, PM_N), `postMessage ${pairs}→${pairs} ${kb}`);
    const arrow = `${pairs}→${pairs}`;
    await add(`Workers ${arrow}, ${kb}: send/recvInto`, () => channelWorkers(pairs, size, n), "postMessage", pm);
    await add(
      `Workers ${arrow}, ${kb}: sendMany/recvMany (${BATCH})`,
      () => channelWorkers(pairs, size, n, BATCH),
      "postMessage",
      pm,
    );
  }
  const ipcName = isBun ? "Bun.spawn ipc" : "Deno.Command stdio";
  const ipc = await rounds(() => isBun ? bunIpc(size, PM_N) : denoStdio(size, PM_N), `${ipcName} ${kb}`);
  const uds = await rounds(() => unixSocket(size, PM_N), `unix socket ${kb}`);
  const chp = await rounds(() => channelProcess(size, n), `processes ${kb}`);
  const chb = await rounds(() => channelProcess(size, n, BATCH), `processes batched ${kb}`);
  rows.push({ label: `processes 1→1, ${kb}: send/recvInto`, ours: chp, theirs: ipc, theirsLabel: ipcName });
  rows.push({
    label: `processes 1→1, ${kb}: sendMany/recvMany (${BATCH})`,
    ours: chb,
    theirs: ipc,
    theirsLabel: ipcName,
  });
  rows.push({ label: `processes 1→1, ${kb}: send/recvInto`, ours: chp, theirs: uds, theirsLabel: "Unix socket" });
}
const latW = await channelLatency(false, TRIPS);
const latP = await channelLatency(true, TRIPS);
const latPm = await postMessageLatency(TRIPS);
progress("\n");

console.log(`### ${runtimeName}`);
console.log();
console.log(
  `Messages/s (median of ${ROUNDS} rounds; 64-byte: ${CH_N.toLocaleString("en-US")} per producer, 4 KiB: a fifth; ` +
    `postMessage and IPC: ${PM_N.toLocaleString("en-US")}). Channel capacity ${CAPACITY}.`,
);
console.log();
console.log("| transfer | Channel | against | theirs | ratio |");
console.log("|---|---:|---|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.label} | ${rate(median(r.ours))} | ${r.theirsLabel} | ${rate(median(r.theirs))} | ${
      fmtTimes(ratio(r.ours, r.theirs))
    } |`,
  );
}
console.log();
console.log(`One-way latency, 64-byte messages (half a round trip; ${TRIPS.toLocaleString("en-US")} trips):`);
console.log();
console.log("| between | p50 | p99 |");
console.log("|---|---:|---:|");
console.log(`| Workers, Channel send → recvInto | ${us(pct(latW, 0.5))} | ${us(pct(latW, 0.99))} |`);
console.log(`| processes, Channel send → recvInto | ${us(pct(latP, 0.5))} | ${us(pct(latP, 0.99))} |`);
console.log(`| Workers, postMessage | ${us(pct(latPm, 0.5))} | ${us(pct(latPm, 0.99))} |`);
