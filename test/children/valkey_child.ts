// A process using the Valkey backend, for test/valkey_processes.test.ts (run
// by Bun or by Deno): argv is MODE URL PREFIX ARGS…; it prints its results as
// one JSON line (or one line per message received) on stdout.
import { ValkeyStore } from "../../valkey.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const argv: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const [mode, url, prefix, ...rest] = argv;
const store = await ValkeyStore.connect(url, { prefix, timeoutMs: 20_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const print = (line: unknown) => console.log(typeof line === "string" ? line : JSON.stringify(line));

if (mode === "add") {
  // COUNT fetchAdd(1) on one counter, 8 in flight: the sum of the old values seen
  const [name, count] = [rest[0], Number(rest[1])];
  const a = store.atomicI64(name);
  let sum = 0, next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      const old = await a.fetchAdd(1);
      sum += old;
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  print({ sum });
} else if (mode === "map-add") {
  // COUNT addFetch(1) with a TTL spread over KEYS counters of one map, 8 in flight
  const [count, keys] = [Number(rest[0]), Number(rest[1])];
  const m = store.map("counters");
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      await m.addFetch(`k${i % keys}`, 1, { ttlMs: 60_000 });
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  print({ done: count });
} else if (mode === "transfer") {
  // ROUNDS transfers between two balances under the mutex; the total is checked inside the lock
  const rounds = Number(rest[0]);
  const m = store.mutex("bank", { leaseMs: 5000 });
  const a = store.atomicI64("a"), b = store.atomicI64("b");
  let broken = 0;
  for (let i = 0; i < rounds; i++) {
    await using _held = await m.lockAsync();
    const [x, y] = [await a.load(), await b.load()];
    if (x + y !== 2000n) broken++;
    const amount = BigInt(1 + (i % 7));
    await a.store(x - amount);
    await b.store(y + amount);
  }
  print({ broken });
} else if (mode === "semaphore") {
  // ROUNDS acquire/hold/release on a semaphore of MAX; "inside" counts holders, "most" their peak
  const [max, rounds] = [Number(rest[0]), Number(rest[1])];
  const s = store.semaphore("slots", { max });
  const inside = store.atomicI64("inside"), most = store.atomicI64("most");
  for (let i = 0; i < rounds; i++) {
    await s.acquireAsync();
    await most.fetchMax(await inside.addFetch(1));
    await sleep(1);
    await inside.subFetch(1);
    await s.release();
  }
  print({ done: rounds });
} else if (mode === "hold") {
  // takes the lock and never lets go: the parent SIGKILLs this process
  const g = await store.mutex("held", { leaseMs: Number(rest[0]) }).lockAsync();
  await store.atomicI64("fence").store(g.fencingToken);
  await sleep(1e9);
} else if (mode === "send") {
  // COUNT messages "TAG:i" on the channel
  const [tag, count] = [rest[0], Number(rest[1])];
  const c = store.channel("jobs", { claimAfterMs: 1000 });
  for (let i = 0; i < count; i++) await c.sendAsync(`${tag}:${i}`);
  print("sent");
} else if (mode === "recv") {
  // every message until the channel is closed and drained, one line each
  const c = store.channel("jobs", { claimAfterMs: 1000 });
  for await (const m of c) print(new TextDecoder().decode(m));
  print("end");
} else if (mode === "take-one") {
  // receives one message and hangs without acknowledging it: the parent SIGKILLs this process
  const c = store.channel("jobs", { claimAfterMs: 1000 });
  print(await c.recvText());
  await sleep(1e9);
} else throw new Error(`unknown mode ${mode}`);
store.close();
