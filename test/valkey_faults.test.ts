// The Valkey backend when the server fails: stopped mid-run (calls reject with
// a named error within the store's timeout; nothing hangs), frozen (timeouts),
// restarted empty (the store reconnects by itself; a lease lost meanwhile is
// reported to its holder).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { LeaseLostError, ValkeyConnectionError, ValkeyError, ValkeyStore, ValkeyTimeoutError } from "../valkey.ts";
import { ValkeyServer } from "./helpers/valkey_server.ts";

const server = await ValkeyServer.start();
after(() => server.stop());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `store` is connected again (it reconnects on its own), at most 10 s. */
async function reconnected(store: ValkeyStore): Promise<void> {
  for (let i = 0; !store.connected; i++) {
    if (i > 1000) throw new Error("the store did not reconnect");
    await sleep(10);
  }
}

/** How long `p` takes to settle, and its error. */
async function failure(p: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const t = performance.now();
  try {
    await p;
  } catch (error) {
    return { ms: performance.now() - t, error };
  }
  throw new Error("it did not fail");
}

test("the server stops mid-run: calls reject with ValkeyConnectionError at once; it comes back: the store reconnects", async () => {
  await using store = await ValkeyStore.connect(server.url, { prefix: "crash:", timeoutMs: 1000 });
  const a = store.atomicI64("a");
  let done = 0;
  const loop = (async () => {
    for (;;) {
      await a.fetchAdd(1);
      done++;
    }
  })();
  const stopped = failure(loop); // handled from now on
  await sleep(100);
  await server.crash();
  const { error } = await stopped;
  assert.ok(error instanceof ValkeyConnectionError || error instanceof ValkeyTimeoutError, String(error));
  assert.ok(done > 0);
  // while it is down, every kind of call rejects promptly with a named error
  for (
    const call of [
      () => a.load(),
      () => store.atomicF64("f").fetchAdd(1),
      () => store.mutex("m").lockAsync(),
      () => store.semaphore("s", { max: 1 }).acquireAsync(),
      () => store.map("m").fetchAdd("k", 1, { ttlMs: 10 }),
      () => store.channel("c").sendAsync("x"),
      () => store.channel("c").recvAsync(),
    ]
  ) {
    const f = await failure(call());
    assert.ok(f.error instanceof ValkeyConnectionError, String(f.error));
    assert.ok(f.ms < 1500, `rejected within the timeout (${f.ms} ms)`);
  }
  await server.restart();
  await reconnected(store);
  assert.equal(await a.fetchAdd(1), 0, "a new, empty server (nothing persisted)");
  assert.equal(await a.load(), 1n);
});

test("a frozen server: calls reject with ValkeyTimeoutError within timeoutMs; thawed, they work again", async () => {
  await using store = await ValkeyStore.connect(server.url, { prefix: "pause:", timeoutMs: 300 });
  const a = store.atomicI64("a");
  const m = store.map("m"); // in Bun, on the other client (ioredis) than the integer's (Bun's RedisClient)
  await a.store(5);
  await m.set("k", "v");
  server.pause();
  try {
    // several commands in flight on each connection: each one times out, none hangs
    const fs = await Promise.all([a.fetchAdd(1), a.load(), m.fetchAdd("n", 1), m.get("k")].map(failure));
    for (const f of fs) {
      assert.ok(f.error instanceof ValkeyTimeoutError, String(f.error));
      assert.ok(f.ms >= 250 && f.ms < 3000, `${f.ms} ms`);
      assert.match((f.error as Error).message, /may or may not have run/);
    }
  } finally {
    server.resume();
  }
  await reconnected(store);
  const v = await a.load();
  assert.ok(v === 5n || v === 6n, "the timed-out add ran or not; nothing else happened");
  assert.equal(await m.getText("k"), "v");
});

test("a server frozen for several timeouts: every call fails within the timeout, none hangs; thawed, the store works again", async () => {
  await using store = await ValkeyStore.connect(server.url, { prefix: "pause2:", timeoutMs: 200 });
  const a = store.atomicI64("a");
  const m = store.map("m");
  await a.store(1);
  server.pause();
  try {
    // the first calls time out; later ones time out too, or fail at once while a new connection is made
    for (let i = 0; i < 6; i++) {
      const fs = await Promise.all([a.fetchAdd(1), m.fetchAdd("n", 1)].map(failure));
      for (const f of fs) {
        assert.ok(f.error instanceof ValkeyTimeoutError || f.error instanceof ValkeyConnectionError, String(f.error));
        assert.ok(f.ms < 2000, `${f.ms} ms`);
      }
      await sleep(100);
    }
  } finally {
    server.resume();
  }
  for (let i = 0; i < 500; i++) {
    try {
      await a.load();
      break;
    } catch {
      await sleep(20);
    }
  }
  await reconnected(store);
  const v = await a.load();
  assert.ok(v >= 1n && v <= 7n, `${v}: each timed-out add ran or not; nothing else happened`);
  assert.equal(await a.addFetch(1), Number(v) + 1);
});

test("the server restarts while a lock is held: the lost lease is reported to its holder", async () => {
  await using store = await ValkeyStore.connect(server.url, { prefix: "lease:", timeoutMs: 500 });
  const guard = await store.mutex("m", { leaseMs: 300 }).lockAsync();
  const permits = store.semaphore("s", { max: 1, leaseMs: 300 });
  assert.equal(await permits.acquireAsync(), true);
  await server.crash();
  await server.restart();
  await reconnected(store);
  const lost = guard.signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => guard.signal.addEventListener("abort", resolve, { once: true }));
  const t = performance.now();
  await Promise.race([lost, sleep(10_000)]);
  assert.equal(guard.lost, true, "the renewal found the lease gone");
  assert.ok(guard.signal.reason instanceof LeaseLostError);
  assert.ok(performance.now() - t < 10_000);
  await assert.rejects(guard.unlock(), LeaseLostError);
  for (let i = 0; !permits.signal?.aborted && i < 1000; i++) await sleep(10);
  assert.equal(permits.signal?.aborted, true, "the semaphore's permit lease too");
  await assert.rejects(permits.release(), LeaseLostError);
  assert.equal(await permits.acquireAsync(1, 1000), true, "a new permit after the lost one");
  assert.equal(permits.held, 1);
  assert.equal(permits.signal?.aborted, false, "a new lease");
  await permits.release();
  // and the lock works again
  const again = await store.mutex("m", { leaseMs: 300 }).lockAsync(1000);
  assert.ok(again);
  await again.unlock();
});

test("a receiver blocked on an empty channel when the server stops: it rejects, it does not hang", async () => {
  await using store = await ValkeyStore.connect(server.url, { prefix: "chan:", timeoutMs: 500 });
  const c = store.channel("c");
  const waiting = failure(c.recvAsync());
  await sleep(100);
  await server.crash();
  const f = await waiting;
  assert.ok(f.error instanceof ValkeyError, String(f.error));
  assert.ok(f.ms < 3000, `${f.ms} ms`);
  // a receiver whose first receive comes while the server is down: its connection cannot be made yet
  const late = store.channel("late");
  await assert.rejects(late.recvAsync({ timeoutMs: 100 }), ValkeyConnectionError);
  await server.restart();
  await reconnected(store);
  await c.sendAsync("after");
  assert.equal(await recvWhenBack(c), "after", "the group is made again on the new server");
  await late.sendAsync("later");
  assert.equal(await recvWhenBack(late), "later", "its connection is made on a later receive");
});

/**
 * A receive after a restart: a receiver reads on a connection of its own, which reconnects on its own, so until it
 * is back a receive rejects with ValkeyConnectionError (and takes nothing): try again for up to 5 s.
 */
async function recvWhenBack(c: { recvText(o: { timeoutMs: number }): Promise<string | undefined> }) {
  for (let i = 0;; i++) {
    try {
      return await c.recvText({ timeoutMs: 2000 });
    } catch (e) {
      if (!(e instanceof ValkeyConnectionError) || i >= 250) throw e;
      await sleep(20);
    }
  }
}
