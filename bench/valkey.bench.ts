/**
 * The Valkey backend (valkey.ts) against the raw client doing the same
 * commands, and against the local shared-memory backend: round trips per
 * second, one call in flight (each call awaits the last, as code written
 * against the async interface does), on a valkey-server started on loopback
 * for the run (no persistence). Prints a markdown table on stdout.
 *
 * Environment: BENCH_VALKEY_N (calls per measurement, default 4000),
 * BENCH_ROUNDS (default 5).
 *
 * @module
 */

import { loadavg } from "node:os";
import { Redis } from "ioredis";
import { ValkeyStore } from "../valkey.ts";
import { ACQUIRE, RELEASE } from "../src/remote/mutex.ts";
import { ValkeyServer } from "../test/helpers/valkey_server.ts";
import { api, env, isBun, progress, runtimeName } from "./common.ts";

const N = Number(env("BENCH_VALKEY_N") ?? 4000);
const ROUNDS = Number(env("BENCH_ROUNDS") ?? 5);

const server = await ValkeyServer.start();
const store = await ValkeyStore.connect(server.url, { prefix: "bench:" });
const raw = new Redis(server.url);
// deno-lint-ignore no-explicit-any
const BunRedis = isBun ? (globalThis as any).Bun.RedisClient : undefined;
const bunRaw = BunRedis ? new BunRedis(server.url) : undefined;
if (bunRaw) await bunRaw.connect();

/** Calls per second of `body` (awaited one at a time, `n` times). */
async function rate(body: () => unknown, n = N): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await body();
  return n / ((performance.now() - t) / 1000);
}
/** Slices per round: ours and raw alternate in slices of N / SLICES calls. */
const SLICES = 20;
/**
 * The rates of `a` and `b`, and the median latencies of their calls (ms), measured in SLICES alternating slices of
 * N/SLICES calls each, which of the two goes first alternating too (a change in the machine's load, or a cost of
 * switching, hits both alike). The median latency is what a call costs when the machine lets the process run; on a
 * loaded machine the rate also counts the times it was preempted.
 */
async function interleaved(a: () => unknown, b: () => unknown): Promise<[number, number, number, number]> {
  const slice = Math.max(1, Math.floor(N / SLICES));
  const lat: number[][] = [[], []];
  const run = async (body: () => unknown, k: number) => {
    for (let i = 0; i < slice; i++) {
      const t0 = performance.now();
      await body();
      lat[k].push(performance.now() - t0);
    }
  };
  for (let s = 0; s < SLICES; s++) {
    if (s % 2 === 0) {
      await run(a, 0);
      await run(b, 1);
    } else {
      await run(b, 1);
      await run(a, 0);
    }
  }
  const total = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  const n = SLICES * slice;
  return [n / (total(lat[0]) / 1000), n / (total(lat[1]) / 1000), median(lat[0]), median(lat[1])];
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Row {
  what: string;
  ours: () => unknown;
  /** The same commands through the client ours uses here (Bun's RedisClient for text objects in Bun). */
  raw: () => unknown;
  rawWhat: string;
  /** In Bun, for the objects on Bun's RedisClient: the same commands through ioredis (why Bun's client). */
  alt?: () => unknown;
  /** The same operation on the local shared-memory backend. */
  local: () => unknown;
  localWhat: string;
}

// --- the operations ---------------------------------------------------------------------------
const counter = store.atomicI64("n");
const map = store.map("m");
const mutex = store.mutex("lock");
const chan = store.channel("c", { capacity: 1 << 20 });
const localCounter = api.AtomicI64.create();
const localMutex = api.Mutex.create();
const localMap = api.SharedMap.create({ capacity: 1024, keySize: 16, valueSize: 64 });
const localChan = api.Channel.create({ capacity: 1024, messageSize: 64 });
await chan.sendAsync("warm"); // creates the stream; the group is made by the first receive
await chan.recvAsync();
await chan.ack();
await raw.call("XGROUP", "CREATE", "raw:c", "g", "0", "MKSTREAM");
const token = "raw-owner";
await raw.script("LOAD", ACQUIRE.source);
await raw.script("LOAD", RELEASE.source);
const payload = "x".repeat(64);
await map.set("get", payload);
await raw.hset("raw:m", "get", payload);
localMap.set("get", payload);

const rows: Row[] = [
  {
    what: "atomicI64 fetchAdd",
    ours: () => counter.fetchAdd(1),
    raw: bunRaw ? () => bunRaw.send("INCRBY", ["raw:n", "1"]) : () => raw.incrby("raw:n", 1),
    rawWhat: "INCRBY",
    alt: bunRaw && (() => raw.incrby("raw:n", 1)),
    local: () => localCounter.fetchAdd(1),
    localWhat: "AtomicI64.fetchAdd",
  },
  {
    what: "mutex lockAsync + unlock",
    ours: async () => {
      const g = await mutex.lockAsync();
      await g.unlock();
    },
    raw: bunRaw
      ? async () => {
        await bunRaw.send("EVALSHA", [ACQUIRE.sha, "2", "raw:lock", "raw:fence", token, "10000"]);
        await bunRaw.send("EVALSHA", [RELEASE.sha, "1", "raw:lock", token]);
      }
      : async () => {
        await raw.evalsha(ACQUIRE.sha, 2, "raw:lock", "raw:fence", token, 10000);
        await raw.evalsha(RELEASE.sha, 1, "raw:lock", token);
      },
    rawWhat: "the same two scripts (EVALSHA)",
    alt: bunRaw && (async () => {
      await raw.evalsha(ACQUIRE.sha, 2, "raw:lock", "raw:fence", token, 10000);
      await raw.evalsha(RELEASE.sha, 1, "raw:lock", token);
    }),
    local: async () => {
      const g = await localMutex.lockAsync();
      g.unlock();
    },
    localWhat: "Mutex.lockAsync + unlock",
  },
  {
    what: "map fetchAdd",
    ours: () => map.fetchAdd("key", 1),
    raw: () => raw.hincrby("raw:m", "key", 1),
    rawWhat: "HINCRBY",
    local: () => localMap.fetchAdd("key", 1),
    localWhat: "SharedMap.fetchAdd",
  },
  {
    what: "map fetchAdd with ttlMs (fixed window)",
    ours: () => map.fetchAdd("ttl", 1, { ttlMs: 60_000 }),
    raw: () => raw.multi().hincrby("raw:m", "ttl", 1).call("HPEXPIRE", "raw:m", 60000, "NX", "FIELDS", 1, "ttl").exec(),
    rawWhat: "MULTI HINCRBY + HPEXPIRE NX",
    local: () => localMap.fetchAdd("ttl", 1, { ttlMs: 60_000 }),
    localWhat: "SharedMap.fetchAdd with ttlMs",
  },
  {
    what: "map get (64 B)",
    ours: () => map.get("get"),
    raw: () => raw.hgetBuffer("raw:m", "get"),
    rawWhat: "HGET, bytes",
    local: () => localMap.get("get"),
    localWhat: "SharedMap.get",
  },
  {
    what: "map set (64 B)",
    ours: () => map.set("set", payload),
    raw: () => raw.hset("raw:m", "set", payload),
    rawWhat: "HSET",
    local: () => localMap.set("set", payload),
    localWhat: "SharedMap.set",
  },
  {
    what: "channel sendAsync + recvAsync (64 B)",
    ours: async () => {
      await chan.sendAsync(payload);
      await chan.recvAsync();
    },
    raw: async () => {
      await raw.xadd("raw:c", "*", "d", payload);
      const r = await raw.xreadgroup("GROUP", "g", "me", "COUNT", 1, "STREAMS", "raw:c", ">") as [
        string,
        [string, string[]][],
      ][];
      const id = r[0][1][0][0];
      await raw.multi().xack("raw:c", "g", id).xdel("raw:c", id).exec();
    },
    rawWhat: "XADD + XREADGROUP + XACK/XDEL",
    local: async () => {
      await localChan.sendAsync(payload);
      await localChan.recvAsync();
    },
    localWhat: "Channel.sendAsync + recvAsync",
  },
];

// --- measure ------------------------------------------------------------------------------------
interface Result {
  ours: number[];
  raw: number[];
  ratio: number[];
  /** Per round: the median latency of ours over that of raw. */
  latency: number[];
  oursLatency: number[];
  alt: number[];
  local: number[];
}
const results: Result[] = rows.map(
  () => ({ ours: [], raw: [], ratio: [], latency: [], oursLatency: [], alt: [], local: [] }),
);
for (const r of rows) {
  await rate(r.ours, 300); // warm-up: scripts loaded, JIT
  await rate(r.raw, 300);
  await rate(r.local, 3000);
}
const loadBefore = loadavg()[0];
for (let round = 0; round < ROUNDS; round++) {
  progress(`valkey round ${round + 1}/${ROUNDS}\n`);
  for (const [i, r] of rows.entries()) {
    // ours and raw alternate in slices of a tenth, so that a change in the machine's load hits both alike
    const [ours, rawRate, oursMedian, rawMedian] = await interleaved(r.ours, r.raw);
    results[i].ours.push(ours);
    results[i].raw.push(rawRate);
    results[i].ratio.push(rawRate / ours);
    results[i].latency.push(oursMedian / rawMedian);
    results[i].oursLatency.push(oursMedian);
    if (r.alt) results[i].alt.push(await rate(r.alt));
    results[i].local.push(await rate(r.local, N * 10));
  }
}

const client = (r: Row) => (r.alt ? "Bun RedisClient:" : "ioredis:");
const k = (x: number) => (x >= 1e5 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);
const load = `1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after`;
console.log(`### ${runtimeName}: round trips per second, one call in flight (${N} calls × ${ROUNDS} rounds)`);
console.log();
console.log(
  `Medians over the rounds (${load}); raw / ours is the median of the per-round ratios of the rates, ours and raw ` +
    `alternating in ${SLICES} slices a round; "median call" is the median latency of ours, and its ratio to raw's ` +
    `(per round, then the median: the overhead per call when the process runs, which the load's preemptions do not ` +
    `distort).`,
);
console.log();
console.log(
  "| operation | shared-atomic/valkey | raw client, same commands | raw / ours (target ≤ 1.1) | median call, ours / raw |" +
    (isBun ? " ioredis in Bun, same commands |" : "") + " local shared memory |",
);
console.log("|---|---:|---|---:|---:|" + (isBun ? "---:|" : "") + "---|");
for (const [i, r] of rows.entries()) {
  const x = results[i];
  const alt = isBun ? ` ${x.alt.length ? k(median(x.alt)) + "/s" : "– (ours is ioredis here)"} |` : "";
  const local = `${k(median(x.local))}/s (${r.localWhat}; ${(median(x.local) / median(x.ours)).toFixed(0)}× Valkey)`;
  console.log(
    `| ${r.what} | ${k(median(x.ours))}/s | ${k(median(x.raw))}/s (${client(r)} ${r.rawWhat}) | ${
      median(x.ratio).toFixed(2)
    } | ${(median(x.oursLatency) * 1000).toFixed(0)} µs, ${median(x.latency).toFixed(2)} |${alt} ${local} |`,
  );
}
console.log();

store.close();
raw.disconnect();
bunRaw?.close();
await server.stop();
