/**
 * The other side of bench/channel.bench.ts: one job, in a Worker (the job is
 * the first message; "ready" is posted once it is set up, "done" or the
 * result when it is finished) or in a child process (`channel_peer.ts
 * --peer <job as JSON>`). Runs in Bun and in Deno.
 *
 * A Worker posts "loaded" first, once it listens for its job.
 *
 * Jobs (`size`-byte messages, `n` of them):
 * - `ch-produce`: `send`s (or `sendMany`s of `batch`) on `channel` (a
 *   descriptor or, in a process, a handle), after waiting at `gate` in a
 *   Worker; in a process it first sends one untimed start message;
 * - `ch-consume`: receives `n` (`recvInto` a SharedArrayBuffer view, or
 *   `recvMany(batch)`) after saying ready;
 * - `pm-produce` / `pm-consume`: the same through `postMessage` of the same
 *   bytes (to the main thread, or on a MessagePort `port`);
 * - `ch-pong`: receives on `ping`, sends it back on `pong`, `n` times;
 *   `pm-pong`: answers every message with `postMessage`;
 * - `ipc-produce` (Bun, a process): `process.send` of a `size`-character string, n + 1 times;
 * - `stdio-produce` (a process): frames (u32 length, bytes) written to stdout, n + 1;
 * - `uds-produce` (a process): the same frames written to the Unix-domain socket at `path`.
 *
 * @module
 */

import process from "node:process";
import { connect } from "node:net";
import type * as Api from "../src/index.ts";

const isBun = "Bun" in globalThis;
const entry: string = isBun ? "../bun.ts" : "../mod.ts";
const api: typeof Api = (await import(entry)) as typeof Api;
const { Channel } = api;

/** A job (see the module comment). */
export interface ChannelJob {
  kind: string;
  n: number;
  size: number;
  batch?: number;
  channel?: unknown;
  ping?: unknown;
  pong?: unknown;
  gate?: SharedArrayBuffer;
  port?: MessagePort;
  path?: string;
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
const open = (d: unknown) => typeof d === "string" ? Channel.fromHandle(d) : Channel.from(d);

function waitGate(gate: SharedArrayBuffer | undefined): void {
  if (gate) Atomics.wait(new Int32Array(gate), 0, 0);
}

function produce(ch: Api.Channel, job: ChannelJob): void {
  const m = new Uint8Array(job.size).fill(7);
  if (job.batch) {
    const batch = Array<Uint8Array>(job.batch).fill(m);
    for (let i = 0; i < job.n; i += job.batch) ch.sendMany(i + job.batch <= job.n ? batch : batch.slice(0, job.n - i));
  } else for (let i = 0; i < job.n; i++) ch.send(m);
}

function consume(ch: Api.Channel, job: ChannelJob): void {
  if (job.batch) {
    for (let got = 0; got < job.n;) got += ch.recvMany(Math.min(job.batch, job.n - got)).length;
  } else {
    const into = new Uint8Array(new SharedArrayBuffer(job.size));
    for (let i = 0; i < job.n; i++) ch.recvInto(into);
  }
}

function pong(job: ChannelJob): void {
  const ping = open(job.ping), back = open(job.pong);
  const into = new Uint8Array(new SharedArrayBuffer(job.size));
  for (let i = 0; i < job.n; i++) {
    const n = ping.recvInto(into)!;
    back.send(into.subarray(0, n));
  }
}

function frame(size: number): Uint8Array {
  const f = new Uint8Array(4 + size).fill(7);
  new DataView(f.buffer).setUint32(0, size, true);
  return f;
}

async function inProcess(job: ChannelJob): Promise<void> {
  switch (job.kind) {
    case "ch-produce": {
      const ch = open(job.channel);
      ch.send(new Uint8Array(job.size)); // the start message
      produce(ch, job);
      break;
    }
    case "ch-pong":
      pong(job);
      break;
    case "ipc-produce": {
      const s = "x".repeat(job.size);
      const send = (process as unknown as { send(m: unknown): boolean }).send.bind(process);
      for (let i = 0; i <= job.n; i++) send(s);
      await new Promise(() => {}); // the parent kills it once it has everything
      break;
    }
    case "stdio-produce": {
      const f = frame(job.size);
      const out = (globalThis as unknown as { Deno: { stdout: { writeSync(b: Uint8Array): number } } }).Deno.stdout;
      for (let i = 0; i <= job.n; i++) {
        for (let w = 0; w < f.length;) w += out.writeSync(w === 0 ? f : f.subarray(w));
      }
      break;
    }
    case "uds-produce": {
      const f = frame(job.size);
      const sock = connect(job.path!);
      await new Promise<void>((r) => sock.once("connect", () => r()));
      for (let i = 0; i <= job.n; i++) {
        if (!sock.write(f)) await new Promise<void>((r) => sock.once("drain", () => r()));
      }
      await new Promise<void>((r) => sock.end(() => r()));
      break;
    }
    default:
      throw new Error(`unknown job ${job.kind}`);
  }
}

function inWorker(job: ChannelJob): void {
  switch (job.kind) {
    case "ch-produce": {
      const ch = open(job.channel);
      scope.postMessage("ready");
      waitGate(job.gate);
      produce(ch, job);
      scope.postMessage("done");
      break;
    }
    case "ch-consume": {
      const ch = open(job.channel);
      scope.postMessage("ready");
      consume(ch, job);
      scope.postMessage("done");
      break;
    }
    case "ch-pong":
      scope.postMessage("ready");
      pong(job);
      break;
    case "pm-produce": {
      const target = job.port ?? scope;
      const m = new Uint8Array(job.size).fill(7);
      scope.postMessage("ready");
      waitGate(job.gate);
      for (let i = 0; i < job.n; i++) target.postMessage(m);
      break;
    }
    case "pm-consume": {
      let got = 0;
      job.port!.onmessage = () => {
        if (++got === job.n) scope.postMessage("done");
      };
      scope.postMessage("ready");
      break;
    }
    case "pm-pong":
      scope.onmessage = (e: MessageEvent) => scope.postMessage(e.data);
      scope.postMessage("ready");
      break;
    default:
      throw new Error(`unknown job ${job.kind}`);
  }
}

const at = process.argv.indexOf("--peer");
if (at >= 0) await inProcess(JSON.parse(process.argv[at + 1]));
else {
  scope.onmessage = (e: MessageEvent<ChannelJob>) => inWorker(e.data);
  scope.postMessage("loaded"); // messages posted before the handler was set would be lost
}
