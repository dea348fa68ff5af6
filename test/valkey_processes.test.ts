// The Valkey backend across processes, Bun and Deno at once, on one server:
// counters exact, a mutex-guarded transfer conserving its total, a semaphore
// never above max, a SIGKILLed lock holder's lease expiring (the next holder
// gets a larger fencing token), and the channel's at-least-once delivery with
// a receiver SIGKILLed while holding a message.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { ValkeyStore } from "../valkey.ts";
import { ValkeyServer } from "./helpers/valkey_server.ts";
import { isBun } from "./helpers/api.ts";
import { Children, run, scriptIn } from "./helpers/spawn.ts";

const server = await ValkeyServer.start();
after(() => server.stop());

// every child through the test seam (helpers/spawn.ts): under the emulated suites the Bun children are the Bun
// under test, the Deno ones the host's
const bunCmd = (...a: string[]) => scriptIn("bun", "./valkey_child.ts", ...a);
const denoCmd = (...a: string[]) => scriptIn("deno", "./valkey_child.ts", ...a);
/** N commands of each runtime (this one first). */
const both = (n: number, ...a: string[]) => {
  const [mine, theirs] = isBun ? [bunCmd, denoCmd] : [denoCmd, bunCmd];
  return [...Array.from({ length: n }, () => mine(...a)), ...Array.from({ length: n }, () => theirs(...a))];
};
let k = 0;
const prefix = () => `p${k++}:`;
const json = (out: string) => JSON.parse(out.trim().split("\n").at(-1)!);

test("4 Bun + 4 Deno processes × 10,000 fetchAdd on one counter: exact, every old value seen once", async () => {
  const p = prefix();
  const outs = await Promise.all(both(4, "add", server.url, p, "hits", "10000").map((c) => run(c)));
  const total = 80_000;
  const sum = outs.reduce((s, o) => s + json(o).sum, 0);
  await using store = await ValkeyStore.connect(server.url, { prefix: p });
  assert.equal(await store.atomicI64("hits").load(), BigInt(total));
  assert.equal(sum, (total * (total - 1)) / 2, "the old values are 0 … 79,999, each once");
});

test("map counters with a TTL across processes: 2 Bun + 2 Deno × 2,000 addFetch on 10 keys: every total exact", async () => {
  const p = prefix();
  const outs = await Promise.all(both(2, "map-add", server.url, p, "2000", "10").map((c) => run(c)));
  assert.equal(outs.length, 4);
  await using store = await ValkeyStore.connect(server.url, { prefix: p });
  const m = store.map("counters");
  for (let k = 0; k < 10; k++) assert.equal(await m.fetchAdd(`k${k}`, 0), 800, `k${k}`);
  const raw = server.client();
  const ttls = await raw.call(
    "HPTTL",
    m.key,
    "FIELDS",
    10,
    ...Array.from({ length: 10 }, (_, k) => `k${k}`),
  ) as number[];
  raw.disconnect();
  for (const t of ttls) assert.ok(t > 0 && t <= 60_000, `each counter expires within its window (${t} ms left)`);
});

test("mutex across processes: 2 Bun + 2 Deno transfer between two balances; the total is always 2000", async () => {
  const p = prefix();
  await using store = await ValkeyStore.connect(server.url, { prefix: p });
  await store.atomicI64("a").store(1000n);
  await store.atomicI64("b").store(1000n);
  const outs = await Promise.all(both(2, "transfer", server.url, p, "150").map((c) => run(c)));
  for (const o of outs) assert.equal(json(o).broken, 0, "never saw a half-done transfer");
  const [a, b] = [await store.atomicI64("a").load(), await store.atomicI64("b").load()];
  assert.equal(a + b, 2000n);
  // each process moves 1+(i%7) for i < 150: 21 full weeks of 28 plus 1+2+3
  assert.equal(a, 1000n - 4n * (21n * 28n + 6n));
  assert.equal(String(await store.mutex("bank").lockAsync(0).then((g) => g!.unlock())), "undefined", "released");
});

test("semaphore across processes: 3 Bun + 3 Deno on max 2: never more than 2 holders", async () => {
  const p = prefix();
  const outs = await Promise.all(both(3, "semaphore", server.url, p, "2", "40").map((c) => run(c)));
  assert.equal(outs.length, 6);
  await using store = await ValkeyStore.connect(server.url, { prefix: p });
  const most = await store.atomicI64("most").load();
  assert.ok(most >= 1n && most <= 2n, `at most 2 inside at once; saw ${most}`);
  assert.equal(await store.atomicI64("inside").load(), 0n);
});

test("a lock holder SIGKILLed: its lease expires, the next holder gets a larger fencing token", async () => {
  const p = prefix();
  const [cmd] = isBun ? [denoCmd("hold", server.url, p, "600")] : [bunCmd("hold", server.url, p, "600")];
  await using kids = new Children(); // killed and waited for, whatever happens
  const holder = kids.start(cmd);
  await using store = await ValkeyStore.connect(server.url, { prefix: p });
  const m = store.mutex("held", { leaseMs: 600 });
  // wait until the child holds it (it publishes its fencing token)
  const fence = store.atomicI64("fence");
  let childFence = 0;
  for (let i = 0; (childFence = await fence.loadNumber()) === 0; i++) {
    if (i > 3000) throw new Error("the child never took the lock");
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(await m.lockAsync(0), null, "the child holds it");
  holder.kill("SIGKILL");
  await holder.done;
  const g = await m.lockAsync(10_000);
  assert.ok(g, "taken once the dead holder's lease expired");
  assert.ok(g.fencingToken > childFence, `fence ${g.fencingToken} > ${childFence}`);
  await g.unlock();
});

test("channel across processes: every message delivered at least once, a killed receiver's message redelivered", async () => {
  const p = prefix();
  await using store = await ValkeyStore.connect(server.url, { prefix: p });
  const jobs = store.channel("jobs", { claimAfterMs: 1000 });
  // a receiver (of the other runtime) takes one message and is SIGKILLed before acknowledging it
  await jobs.sendAsync("first");
  await using kids = new Children(); // killed and waited for, whatever happens
  const taker = kids.start(isBun ? denoCmd("take-one", server.url, p) : bunCmd("take-one", server.url, p));
  const raw = server.client();
  const pending = () =>
    raw.call("XPENDING", jobs.key, "shared-atomic").then((r) => String((r as unknown[])[0]), () => "0");
  for (let i = 0; (await pending()) !== "1"; i++) {
    if (i > 3000) throw new Error("the child never took the message");
    await new Promise((r) => setTimeout(r, 10));
  }
  raw.disconnect();
  taker.kill("SIGKILL");
  await taker.done;
  const consumers = both(1, "recv", server.url, p).map((c) => kids.start(c));
  const [mine, theirs] = isBun ? [bunCmd, denoCmd] : [denoCmd, bunCmd];
  await Promise.all([
    kids.run(mine("send", server.url, p, "a", "300")),
    kids.run(theirs("send", server.url, p, "b", "300")),
  ]);
  await jobs.close();
  const outs = await Promise.all(consumers.map((c) => c.done));
  const got: string[] = [];
  for (const o of outs) {
    assert.equal(o.code, 0, o.stderr);
    const lines = o.stdout.trim().split("\n");
    assert.equal(lines.at(-1), "end", "the loop ended once the channel was closed and drained");
    got.push(...lines.slice(0, -1));
  }
  const expected = ["first", ...["a", "b"].flatMap((t) => Array.from({ length: 300 }, (_, i) => `${t}:${i}`))];
  const seen = new Set(got);
  for (const m of expected) assert.ok(seen.has(m), `${m} was delivered`);
  assert.equal(seen.size, expected.length, "nothing else");
  assert.ok(got.length >= expected.length);
  assert.equal(await jobs.length(), 0, "every message acknowledged");
});
