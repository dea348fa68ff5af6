/**
 * Where the Valkey backend's overhead over the raw client goes: the same
 * command timed through each layer (the raw client; the raw client with our
 * options, and with ioredis's `stringNumbers`; our link; our connection; the
 * public method, on our connection and on the raw client's), the variants
 * alternating call by call (the order rotating, so no variant always follows
 * the same one): median and mean latency, and this process's CPU time per
 * call (sampled). A profiling aid for docs/valkey.md, not part of bench/run.sh.
 *
 * Usage: bun bench/valkey_layers.ts | deno run -A bench/valkey_layers.ts
 * Environment: BENCH_VALKEY_N (calls of each variant per round, default 4000), BENCH_ROUNDS (default 5),
 * LAYERS_OPS (default "incr,hincr").
 *
 * @module
 */

import process from "node:process";
import { Redis } from "ioredis";
import { ValkeyStore } from "../valkey.ts";
import { Connection } from "../src/remote/connection.ts";
import { ValkeyAtomicI64 } from "../src/remote/atomic_i64.ts";
import { ValkeyMap } from "../src/remote/map.ts";
import { IoredisLink } from "../src/remote/link.ts";
import { BunLink, BunRedis } from "../src/remote/bun_link.ts";
import { ValkeyServer } from "../test/helpers/valkey_server.ts";
import { env, median, progress, runtimeName } from "./common.ts";

const N = Number(env("BENCH_VALKEY_N") ?? 4000);
const ROUNDS = Number(env("BENCH_ROUNDS") ?? 5);
const server = await ValkeyServer.start();
const url = server.url;
const store = await ValkeyStore.connect(url, { prefix: "L:" });
const settings = { url, timeoutMs: 5000 };

const ioRaw = new Redis(url);
const ourOptions = {
  lazyConnect: true,
  connectTimeout: 5000,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
};
const ioOurs = new Redis(url, ourOptions);
await ioOurs.connect();
const ioStrings = new Redis(url, { ...ourOptions, stringNumbers: true });
await ioStrings.connect();
const ioLink = new IoredisLink(url, 5000);
await ioLink.connect();
const ioConn = await Connection.open("x", settings);
// deno-lint-ignore no-explicit-any
const bunRaw: any = BunRedis ? new BunRedis(url, {}) : undefined;
if (bunRaw) await bunRaw.connect();
const bunLink = BunRedis ? new BunLink(url, 5000) : undefined;
if (bunLink) await bunLink.connect();
const textConn = await Connection.open("x", settings, true);

const counter = store.atomicI64("n");
/** Our objects over the raw client's own connection (no deadlines): the same socket as the raw rows. */
const onRaw = (send: (c: string, a: unknown[]) => Promise<unknown>, exactIntegers: boolean) => {
  const link = {
    exactIntegers,
    binary: true,
    ready: true,
    send,
    sendBytes: send,
    connect: () => Promise.resolve(),
    close() {},
  };
  // deno-lint-ignore no-explicit-any
  return new (Connection as any)(link, settings) as Connection;
};
const bunConn = bunRaw ? onRaw((c, a) => bunRaw.send(c, a), false) : undefined;
const ioConnRaw = onRaw((c, a) => ioRaw.call(c, ...a as string[]) as Promise<unknown>, false);
const counterOnRaw = bunConn ? new ValkeyAtomicI64(bunConn, "k1", "k1") : undefined;
const mapOnRaw = new ValkeyMap(ioConnRaw, "h", "h");
const map = store.map("m");

type Variant = [string, () => unknown];
const ops: Record<string, Variant[]> = {
  incr: [
    ...(bunRaw
      ? [
        ["Bun raw send INCRBY", () => bunRaw.send("INCRBY", ["k1", "1"])],
        ["Bun raw incrby()", () => bunRaw.incrby("k1", 1)],
        ["BunLink.send", () => bunLink!.send("INCRBY", ["k1", "1"])],
      ] as Variant[]
      : []),
    ["ioredis raw incrby()", () => ioRaw.incrby("k1", 1)],
    ["ioredis raw call()", () => ioRaw.call("INCRBY", "k1", "1")],
    ["ioredis our options call()", () => ioOurs.call("INCRBY", "k1", "1")],
    ["ioredis our options + stringNumbers call()", () => ioStrings.call("INCRBY", "k1", "1")],
    ["IoredisLink.send", () => ioLink.send("INCRBY", ["k1", "1"])],
    ["Connection.call (text)", () => textConn.call("w", "k1", "INCRBY", "k1", "1")],
    ["atomicI64.fetchAdd", () => counter.fetchAdd(1)],
    ...(counterOnRaw
      ? [[
        "atomicI64.fetchAdd on the raw client's connection, no deadlines",
        () => counterOnRaw.fetchAdd(1),
      ]] as Variant[]
      : []),
    ...(bunRaw
      ? [["Bun raw send INCRBY (again: A/A control)", () => bunRaw.send("INCRBY", ["k1", "1"])]] as Variant[]
      : []),
  ],
  hincr: [
    ["ioredis raw hincrby()", () => ioRaw.hincrby("h", "key", 1)],
    ["ioredis raw call()", () => ioRaw.call("HINCRBY", "h", "key", "1")],
    ["ioredis raw callBuffer()", () => ioRaw.callBuffer("HINCRBY", "h", "key", "1")],
    ["ioredis our options call()", () => ioOurs.call("HINCRBY", "h", "key", "1")],
    ["ioredis our options + stringNumbers call()", () => ioStrings.call("HINCRBY", "h", "key", "1")],
    ["IoredisLink.send", () => ioLink.send("HINCRBY", ["h", "key", "1"])],
    ["Connection.call (ioredis)", () => ioConn.call("w", "h", "HINCRBY", "h", "key", "1")],
    ["map.fetchAdd", () => map.fetchAdd("key", 1)],
    ["map.fetchAdd on the raw client's connection, no deadlines", () => mapOnRaw.fetchAdd("key", 1)],
    ["ioredis raw hincrby() (again: A/A control)", () => ioRaw.hincrby("h", "key", 1)],
  ],
};

const selected = (env("LAYERS_OPS") ?? Object.keys(ops).join(",")).split(",");
console.log(
  `### ${runtimeName}: per call, µs (${ROUNDS} rounds of ${N} calls of each variant, the variants alternating call by call)`,
);
for (const name of selected) {
  const variants = ops[name];
  for (const [, v] of variants) for (let i = 0; i < 300; i++) await v();
  const lat: number[][] = variants.map(() => []), cpu: number[][] = variants.map(() => []);
  const mean: number[][] = variants.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    progress(`${name} round ${r + 1}/${ROUNDS}\n`);
    const sum = variants.map(() => 0), c = variants.map(() => 0);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < variants.length; j++) {
        const k = (i + j) % variants.length;
        const v = variants[k][1];
        const c0 = i % 50 === 0 ? process.cpuUsage() : undefined;
        const t0 = performance.now();
        await v();
        const t = performance.now() - t0;
        lat[k].push(t);
        sum[k] += t;
        if (c0) {
          const u = process.cpuUsage(c0);
          c[k] += u.user + u.system;
        }
      }
    }
    for (const k of variants.keys()) {
      mean[k].push((sum[k] * 1000) / N);
      cpu[k].push(c[k] / Math.ceil(N / 50));
    }
  }
  console.log(
    `\n| ${name} | median latency µs | mean µs | CPU µs (sampled) | mean / first (median of rounds) |\n|---|---:|---:|---:|---:|`,
  );
  for (const [k, [label]] of variants.entries()) {
    const ratio = median(mean[k].map((x, r) => x / mean[0][r]));
    console.log(
      `| ${label} | ${(median(lat[k]) * 1000).toFixed(1)} | ${median(mean[k]).toFixed(1)} | ${
        median(cpu[k]).toFixed(1)
      } | ${ratio.toFixed(3)} |`,
    );
  }
}

store.close();
ioRaw.disconnect();
ioOurs.disconnect();
ioStrings.disconnect();
ioLink.close();
ioConn.close();
bunRaw?.close();
bunLink?.close();
textConn.close();
await server.stop();
