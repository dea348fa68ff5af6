// One async interface, two backends: the same test functions, written against
// src/remote/interfaces.ts only, run on the local shared-memory classes and on
// the Valkey ones, with the same expected results.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import {
  type AsyncAtomicFloat,
  type AsyncAtomicInteger,
  type AsyncChannel,
  type AsyncMap,
  type AsyncMutex,
  type AsyncSemaphore,
  ValkeyStore,
} from "../valkey.ts";
import { ValkeyServer } from "./helpers/valkey_server.ts";

const server = await ValkeyServer.start();
const store = await ValkeyStore.connect(server.url, { prefix: "backends:" });
after(async () => {
  store.close();
  await server.stop();
});
const tick = () => new Promise((r) => setTimeout(r, 0));

async function counter(a: AsyncAtomicInteger): Promise<void> {
  await a.store(10n);
  assert.equal(await a.fetchAdd(5n), 10n);
  assert.equal(await a.addFetch(1), 16);
  assert.equal(await a.fetchSub(6), 16);
  assert.equal(await a.subFetch(1n), 9n);
  assert.equal(await a.fetchMax(20n), 9n);
  assert.equal(await a.minFetch(-5n), -5n);
  assert.equal(await a.exchange(7n), -5n);
  assert.equal(await a.compareExchange(1n, 2n), 7n);
  assert.equal(await a.compareAndSet(7n, 8n), true);
  assert.equal(await a.loadNumber(), 8);
  assert.equal(await a.maxFetch(2n ** 62n), 2n ** 62n);
  // 200 concurrent adds from async tasks: exact
  await Promise.all(Array.from({ length: 200 }, () => a.fetchAdd(1)));
  assert.equal(await a.load(), 2n ** 62n + 200n);
}

async function float(f: AsyncAtomicFloat): Promise<void> {
  await f.store(0.1);
  assert.equal(await f.addFetch(0.2), 0.1 + 0.2);
  assert.equal(await f.fetchMin(-0), 0.1 + 0.2);
  assert.ok(Object.is(await f.maxFetch(0), 0));
  assert.ok(Object.is(await f.exchange(NaN), 0));
  assert.equal(await f.compareAndSet(NaN, 2.5), true);
  assert.equal(await f.fetchSub(0.5), 2.5);
  assert.equal(await f.load(), 2);
}

/** 4 async tasks × 25 locked read-await-write increments of a plain variable: exact only under the lock. */
async function mutex(m: AsyncMutex): Promise<void> {
  let shared = 0;
  const task = async () => {
    for (let i = 0; i < 25; i++) {
      await using _held = await m.lockAsync();
      const v = shared;
      await tick();
      shared = v + 1;
    }
  };
  await Promise.all([task(), task(), task(), task()]);
  assert.equal(shared, 100);
  const g = await m.lockAsync();
  assert.equal(await m.lockAsync(20), null, "held: a timed lockAsync gives null");
  await g.unlock();
}

/** 6 tasks share a semaphore of max 2: never more than 2 inside, and 2 are reached. */
async function semaphore(s: AsyncSemaphore): Promise<void> {
  assert.equal(s.max, 2);
  let inside = 0, most = 0;
  const task = async () => {
    for (let i = 0; i < 5; i++) {
      assert.equal(await s.acquireAsync(1, 10_000), true);
      most = Math.max(most, ++inside);
      await tick();
      inside--;
      await s.release(1);
    }
  };
  await Promise.all(Array.from({ length: 6 }, task));
  assert.equal(most, 2);
}

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** A map: values, conditional writes, counters with a fixed-window TTL. */
async function map(m: AsyncMap): Promise<void> {
  await m.clear();
  assert.equal(await m.get("k"), undefined);
  await m.set("k", "v1");
  assert.equal(text(await m.get("k")), "v1");
  assert.equal(await m.getText(new TextEncoder().encode("k")), "v1", "bytes and string keys are the same key");
  assert.equal(await m.has("k"), true);
  assert.equal(await m.setIfAbsent("k", "x"), false);
  assert.equal(await m.compareAndSet("k", "nope", "x"), false);
  assert.equal(await m.compareAndSet("k", "v1", "v2"), true);
  assert.equal(await m.getText("k"), "v2");
  assert.equal(await m.delete("k"), true);
  assert.equal(await m.delete("k"), false);
  assert.equal(await m.fetchAdd("hits", 5), 0, "absent counts as 0");
  assert.equal(await m.addFetch("hits", 2n), 7n);
  await Promise.all(Array.from({ length: 100 }, () => m.fetchAdd("hits", 1)));
  assert.equal(await m.addFetch("hits", 0), 107);
  assert.equal(await m.addFetch("window", 1, { ttlMs: 1000 }), 1);
  assert.equal(await m.addFetch("window", 1, { ttlMs: 1000 }), 2, "a later add keeps the window");
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(await m.addFetch("window", 1, { ttlMs: 1000 }), 1, "a new window after the TTL");
  await m.set("gone", "x", { ttlMs: 50 });
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(await m.has("gone"), false);
  await m.clear();
  assert.equal(await m.has("hits"), false);
}

/** A channel with one receiver: FIFO, timeouts, close drains then ends the loop, later sends refused. */
async function channel(c: AsyncChannel): Promise<void> {
  assert.equal(await c.recvAsync({ timeoutMs: 20 }), undefined, "empty: undefined after the timeout");
  for (let i = 0; i < 20; i++) assert.equal(await c.sendAsync(`m${i}`), true);
  assert.equal(text(await c.recvAsync()), "m0");
  await c.close();
  await assert.rejects(c.sendAsync("late"), api.ChannelClosedError);
  const rest: string[] = [];
  for await (const m of c) rest.push(text(m)!);
  assert.deepEqual(rest, Array.from({ length: 19 }, (_, i) => `m${i + 1}`));
}

test("atomic integer: the same function on AtomicI64 and on Valkey's atomicI64", async () => {
  await counter(api.AtomicI64.create());
  await counter(store.atomicI64("counter"));
});

test("atomic float: the same function on AtomicF64 and on Valkey's atomicF64", async () => {
  await float(api.AtomicF64.create());
  await float(store.atomicF64("float"));
});

test("mutex: the same function on Mutex and on Valkey's mutex", async () => {
  await mutex(api.Mutex.create());
  await mutex(store.mutex("mutex"));
});

test("semaphore: the same function on Semaphore and on Valkey's semaphore", async () => {
  await semaphore(api.Semaphore.create({ max: 2 }));
  await semaphore(store.semaphore("semaphore", { max: 2 }));
});

test("map: the same function on SharedMap and on Valkey's map", async () => {
  await map(api.SharedMap.create({ capacity: 64, keySize: 16, valueSize: 16 }));
  await map(store.map("map"));
});

test("channel: the same function on Channel and on Valkey's channel", async () => {
  await channel(api.Channel.create({ capacity: 32, messageSize: 16 }));
  await channel(store.channel("channel"));
});
