// The Valkey backend (valkey.ts) against a real valkey-server started for this
// file: each object's semantics, exact, and bad input. Cross-process runs are
// in valkey_processes.test.ts, faults in valkey_faults.test.ts.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import {
  ChannelClosedError,
  LeaseLostError,
  ValkeyConnectionError,
  ValkeyError,
  ValkeyStore,
  ValkeyWrongTypeError,
} from "../valkey.ts";
import { ValkeyServer } from "./helpers/valkey_server.ts";

const server = await ValkeyServer.start();
const raw = server.client();
let n = 0;
/** A store whose keys no other test sees. */
const fresh = () => ValkeyStore.connect(server.url, { prefix: `t${n++}:` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
after(async () => {
  raw.disconnect();
  await server.stop();
});

test("atomicI64: every operation, bigint and number paths, exact at the 64-bit edges", async () => {
  await using store = await fresh();
  const a = store.atomicI64("a");
  assert.equal(await a.load(), 0n, "absent reads 0");
  assert.equal(await a.fetchAdd(5), 0);
  assert.equal(await a.addFetch(5n), 10n);
  assert.equal(await a.fetchSub(3), 10);
  assert.equal(await a.subFetch(2n), 5n);
  assert.equal(await a.fetchMax(9n), 5n);
  assert.equal(await a.maxFetch(7), 9);
  assert.equal(await a.fetchMin(-4), 9);
  assert.equal(await a.minFetch(-3n), -4n);
  assert.equal(await a.exchange(100n), -4n);
  assert.equal(await a.compareExchange(1n, 2n), 100n, "no match");
  assert.equal(await a.compareAndSet(100, 200), true);
  assert.equal(await a.loadNumber(), 200);
  // exact beyond 2^53 (integer replies come back as numbers: the bigint path must not round)
  await a.store(2n ** 60n + 1n);
  assert.equal(await a.addFetch(2n), 2n ** 60n + 3n);
  assert.equal(await a.fetchSub(1n), 2n ** 60n + 3n);
  assert.equal(await a.fetchAdd(-(2n ** 61n)), 2n ** 60n + 2n);
  assert.equal(await a.load(), -(2n ** 60n) + 2n);
  const max = 2n ** 63n - 1n, min = -(2n ** 63n);
  await a.store(max);
  assert.equal(await a.load(), max);
  assert.equal(await a.fetchMin(min), max);
  assert.equal(await a.load(), min);
  assert.equal(await a.maxFetch(min + 1n), min + 1n);
  // large decimal strings compare by value, not as text
  await a.store(-10n);
  assert.equal(await a.fetchMax(-9n), -10n);
  assert.equal(await a.fetchMax(-100n), -9n);
  assert.equal(await a.load(), -9n);
  await a.store(max);
  await assert.rejects(a.fetchAdd(1n), (e: Error) => e instanceof RangeError && /64-bit range/.test(e.message));
  assert.equal(await a.load(), max, "refused, unchanged");
  await a.store(min);
  await assert.rejects(a.fetchSub(min), RangeError);
  assert.equal(await raw.get(a.key), String(min), "a plain decimal string other clients can read");
});

test("atomicF64: IEEE double results bit for bit, -0, NaN matching, max/min semantics", async () => {
  await using store = await fresh();
  const f = store.atomicF64("f");
  assert.equal(await f.load(), 0);
  assert.equal(await f.fetchAdd(0.1), 0);
  assert.equal(await f.addFetch(0.2), 0.1 + 0.2, "double addition, not decimal");
  assert.equal(await f.subFetch(0.3), 0.1 + 0.2 - 0.3);
  await f.store(-0);
  assert.ok(Object.is(await f.load(), -0));
  assert.equal(await f.compareAndSet(0, 1), false, "+0 does not match -0");
  assert.ok(Object.is(await f.maxFetch(0), 0), "max(-0, +0) = +0");
  assert.ok(Object.is(await f.minFetch(-0), -0), "min(+0, -0) = -0");
  assert.ok(Object.is(await f.fetchMax(NaN), -0), "a NaN operand is ignored");
  await f.store(Infinity);
  await f.fetchAdd(-Infinity);
  assert.ok(Number.isNaN(await f.load()));
  assert.ok(Number.isNaN(await f.compareExchange(NaN, 1.5)), "a NaN expected matches any NaN");
  assert.equal(await f.load(), 1.5);
  assert.equal(await f.fetchMin(NaN), 1.5);
  assert.equal(await f.exchange(2 ** -1074), 1.5);
  assert.equal(await f.load(), 2 ** -1074, "subnormals exact");
  await raw.set(f.key, "abc");
  await assert.rejects(f.fetchAdd(1), ValkeyWrongTypeError);
  await assert.rejects(f.load(), ValkeyWrongTypeError);
});

test("mutex: fencing tokens grow, timeout gives null, signal aborts, only the owner unlocks", async () => {
  await using store = await fresh();
  const m = store.mutex("m", { leaseMs: 2000 });
  const g1 = await m.lockAsync();
  assert.equal(g1.fencingToken, 1);
  assert.equal(await m.lockAsync(50), null, "held: timeout");
  const ac = new AbortController();
  const waiting = m.lockAsync(undefined, ac.signal);
  setTimeout(() => ac.abort(new Error("stop")), 30);
  await assert.rejects(waiting, /stop/);
  await g1.unlock();
  await assert.rejects(g1.unlock(), ValkeyError, "twice");
  {
    await using g2 = await m.lockAsync();
    assert.equal(g2.fencingToken, 2);
    assert.equal(g2.lost, false);
  }
  const g3 = (await m.lockAsync(1000))!;
  assert.equal(g3.fencingToken, 3, "released by await using");
  // the lease vanishes (expired, or the server lost it): the holder learns it
  await raw.del(m.key);
  await assert.rejects(g3.extend(), LeaseLostError);
  assert.equal(g3.lost, true);
  assert.ok(g3.signal.aborted && g3.signal.reason instanceof LeaseLostError);
  const g4 = await m.lockAsync();
  await assert.rejects(g3.unlock(), LeaseLostError);
  assert.equal(await raw.get(m.key), g4.token, "the lost guard did not release the new holder's lease");
  await g4.unlock();
});

test("mutex: the lease is renewed while held, and expires when its holder stops renewing", async () => {
  await using store = await fresh();
  const m = store.mutex("renewed", { leaseMs: 150 });
  const long = store.mutex("renewed-long", { leaseMs: 600 });
  const kept = await long.lockAsync();
  await sleep(2000);
  assert.equal(kept.lost, false, "renewed past 3 leases");
  assert.equal(await raw.get(long.key), kept.token);
  await kept.unlock();
  const g = await m.lockAsync();
  await g.unlock();
  // a holder that vanishes without unlocking (its store closed: no renewals)
  const other = await fresh();
  const held = await other.mutex("renewed", { leaseMs: 150 }).lockAsync();
  other.close();
  const t = performance.now();
  const next = await m.lockAsync(5000);
  assert.ok(next && next.fencingToken > held.fencingToken);
  assert.ok(performance.now() - t < 4000, "taken once the lease expired");
  await next!.unlock();
});

test("semaphore: never above max, n permits, release checks, same max required", async () => {
  await using store = await fresh();
  const s = store.semaphore("s", { max: 3 });
  assert.equal(await s.acquireAsync(2), true);
  assert.equal(await s.acquireAsync(2, 0), false, "only one left");
  assert.equal(await s.acquireAsync(1, 0), true);
  assert.equal(s.held, 3);
  await assert.rejects(s.release(4), RangeError);
  await s.release(2);
  assert.equal(await raw.zcard(s.key), 1);
  await using again = await ValkeyStore.connect(server.url, { prefix: store.prefix });
  await assert.rejects(again.semaphore("s", { max: 5 }).acquireAsync(1, 0), /made with max 3/);
  await s.release(1);
  assert.equal(s.held, 0);
  await assert.rejects(s.release(1), RangeError);
  await assert.rejects(s.acquireAsync(4), RangeError, "more than max");
  // permits of a holder that stops renewing come back after the lease
  const s2 = store.semaphore("lease", { max: 1, leaseMs: 100 });
  const gone = await fresh();
  assert.equal(await gone.semaphore("lease", { max: 1, leaseMs: 100 }).acquireAsync(), true);
  gone.close();
  assert.equal(await s2.acquireAsync(1, 3000), true, "the dead holder's permit expired");
  await s2.release();
});

test("map: get/set/setIfAbsent/compareAndSet/delete, bytes and text, TTLs, counters, iteration", async () => {
  await using store = await fresh();
  const m = store.map("m");
  assert.equal(await m.get("k"), undefined);
  await m.set("k", new Uint8Array([0, 255, 1]));
  assert.deepEqual(await m.get("k"), new Uint8Array([0, 255, 1]), "binary-safe");
  assert.equal(await m.setIfAbsent("k", "x"), false);
  assert.equal(await m.setIfAbsent("t", "é"), true);
  assert.equal(await m.getText("t"), "é");
  assert.equal(await m.compareAndSet("t", "x", "y"), false);
  assert.equal(await m.compareAndSet("t", "é", "y"), true);
  assert.equal(await m.getText("t"), "y");
  assert.equal(await m.has("t"), true);
  assert.equal(await m.delete("t"), true);
  assert.equal(await m.delete("t"), false);
  // TTLs: compareAndSet keeps an entry's TTL, set without ttlMs clears it
  await m.set("cas", "a", { ttlMs: 60_000 });
  assert.equal(await m.compareAndSet("cas", "a", "b"), true);
  assert.ok(((await raw.call("HPTTL", m.key, "FIELDS", 1, "cas")) as number[])[0] > 0, "kept");
  await m.set("cas", "c");
  assert.equal(((await raw.call("HPTTL", m.key, "FIELDS", 1, "cas")) as number[])[0], -1, "cleared");
  await m.delete("cas");
  await m.set("short", "v", { ttlMs: 60 });
  assert.equal(await m.setIfAbsent("short2", "v", { ttlMs: 60 }), true);
  await sleep(150);
  assert.equal(await m.get("short"), undefined, "expired");
  assert.equal(await m.has("short2"), false);
  // a fixed window: the TTL is set when the counter is created, not moved by later adds
  assert.equal(await m.fetchAdd("hits", 1, { ttlMs: 1500 }), 0);
  await sleep(50);
  assert.equal(await m.addFetch("hits", 1, { ttlMs: 1500 }), 2);
  await sleep(1600);
  assert.equal(await m.addFetch("hits", 1, { ttlMs: 60_000 }), 1, "a new window");
  assert.equal(await m.addFetch("big", 2n ** 62n), 2n ** 62n);
  assert.equal(await m.fetchAdd("big", 2n ** 62n - 1n), 2n ** 62n);
  assert.equal(await m.addFetch("odd", 2n ** 60n + 1n), 2n ** 60n + 1n, "exact beyond 2^53");
  assert.equal(await m.fetchAdd("odd", 2n), 2n ** 60n + 1n);
  assert.equal(await m.addFetch("odd", -3n), 2n ** 60n);
  assert.equal(await m.fetchAdd("odd", 1n, { ttlMs: 60_000 }), 2n ** 60n, "with a TTL too");
  assert.equal(await m.delete("odd"), true);
  await assert.rejects(m.fetchAdd("big", 1n), RangeError);
  await assert.rejects(m.fetchAdd("k", 1), ValkeyWrongTypeError, "not a counter");
  const keys = new Set<string>();
  for await (const k of m.keys()) keys.add(new TextDecoder().decode(k));
  assert.deepEqual([...keys].sort(), ["big", "hits", "k"]);
  assert.equal(await m.size(), 3);
  await m.clear();
  assert.equal(await m.size(), 0);
  await assert.rejects(m.set("k", "v", { ttlMs: 0 }), RangeError);
  await assert.rejects(() => m.set(1 as unknown as string, "v"), TypeError);
});

test("channel: FIFO, bytes, capacity, timeouts, close drains then ends the loop", async () => {
  await using store = await fresh();
  const c = store.channel("c", { capacity: 2 });
  assert.equal(await c.recvAsync({ timeoutMs: 50 }), undefined, "empty: timeout");
  assert.equal(await c.sendAsync("a"), true);
  assert.equal(await c.sendAsync(new Uint8Array([0, 1, 255])), true);
  assert.equal(await c.sendAsync("full", { timeoutMs: 50 }), false, "capacity 2");
  assert.equal(await c.recvText(), "a");
  assert.deepEqual(await c.recvAsync(), new Uint8Array([0, 1, 255]));
  assert.equal(await c.sendAsync("b", { timeoutMs: 1000 }), true, "room again once received and acknowledged");
  await c.close();
  await assert.rejects(c.sendAsync("late"), ChannelClosedError);
  const got: string[] = [];
  for await (const m of c) got.push(new TextDecoder().decode(m));
  assert.deepEqual(got, ["b"], "drained, then the loop ended");
  await assert.rejects(c.recvAsync(), ChannelClosedError);
  assert.equal(await c.length(), 0, "acknowledged messages are deleted");
  await c.destroy();
  assert.equal(await c.sendAsync("again"), true, "a destroyed channel starts afresh");
});

test("channel: at least once: a message a receiver took and never acknowledged goes to another", async () => {
  await using store = await fresh();
  await using other = await ValkeyStore.connect(server.url, { prefix: store.prefix });
  const a = store.channel("c", { claimAfterMs: 100 });
  const b = other.channel("c", { claimAfterMs: 100 });
  await a.sendAsync("1");
  await a.sendAsync("2");
  assert.equal(await a.recvText(), "1");
  store.close(); // a dies holding "1" unacknowledged
  const got = [await b.recvText({ timeoutMs: 3000 }), await b.recvText({ timeoutMs: 3000 })];
  assert.deepEqual(got.sort(), ["1", "2"], "1 redelivered to b after claimAfterMs");
  await b.ack();
  assert.equal(await b.length(), 0);
});

test("bad input: names, URLs, options, refused connections, wrong types", async () => {
  await assert.rejects(ValkeyStore.connect("http://x"), TypeError);
  await assert.rejects(ValkeyStore.connect("not a url"), TypeError);
  await assert.rejects(ValkeyStore.connect(42 as unknown as string), TypeError);
  await assert.rejects(ValkeyStore.connect(server.url, { prefix: "a{b" }), RangeError);
  await assert.rejects(ValkeyStore.connect(server.url, { timeoutMs: 0 }), RangeError);
  await assert.rejects(ValkeyStore.connect(server.url, 5 as unknown as object), TypeError);
  const t = performance.now();
  await assert.rejects(
    ValkeyStore.connect("redis://127.0.0.1:1", { timeoutMs: 1000 }),
    (e: Error) => e instanceof ValkeyConnectionError && /cannot connect/.test(e.message),
  );
  assert.ok(performance.now() - t < 5000);
  await using store = await fresh();
  assert.throws(() => store.atomicI64(""), RangeError);
  assert.throws(() => store.atomicI64("x".repeat(257)), RangeError);
  assert.throws(() => store.mutex("a\nb"), RangeError);
  assert.throws(() => store.map(null as unknown as string), TypeError);
  assert.throws(() => store.mutex("m", { leaseMs: 1 }), RangeError);
  assert.throws(() => store.semaphore("s", {} as { max: number }), TypeError);
  assert.throws(() => store.channel("c", { capacity: 0 }), RangeError);
  const a = store.atomicI64("a");
  await assert.rejects(a.fetchAdd(1.5), RangeError);
  await assert.rejects(a.fetchAdd(2n ** 63n), RangeError);
  await assert.rejects(a.store("1" as unknown as number), TypeError);
  await assert.rejects(a.compareAndSet(1, 2 ** 53), RangeError);
  await assert.rejects(store.mutex("m").lockAsync(-1), RangeError);
  await assert.rejects(store.mutex("m").lockAsync(1, {} as AbortSignal), TypeError);
  // a forged signal (AbortSignal's prototype, no signal inside) is refused up front, as the local objects refuse it
  const forged = Object.create(AbortSignal.prototype) as AbortSignal;
  const signalError = (e: Error) => e instanceof TypeError && /signal must be an AbortSignal/.test(e.message);
  await assert.rejects(store.mutex("m").lockAsync(1, forged), signalError);
  await assert.rejects(store.semaphore("s", { max: 1 }).acquireAsync(1, 1, forged), signalError);
  const chan = store.channel("c");
  await assert.rejects(chan.sendAsync("x", { signal: forged }), signalError);
  await assert.rejects(chan.recvAsync({ signal: forged }), signalError);
  await assert.rejects(chan.recvAsync({ timeoutMs: NaN }), RangeError);
  await assert.rejects(chan.recvAsync(5 as unknown as object), TypeError);
  assert.equal(await chan.length(), 0, "nothing was sent");
  // keys of the wrong type on the server: named errors, nothing changed
  await raw.rpush(a.key, "x");
  await assert.rejects(a.fetchAdd(1), ValkeyWrongTypeError);
  await assert.rejects(a.load(), ValkeyWrongTypeError);
  await raw.set(a.key, "12abc");
  await assert.rejects(a.fetchAdd(1), ValkeyWrongTypeError);
  await assert.rejects(a.fetchMax(1), ValkeyWrongTypeError);
  const m = store.map("m");
  await raw.set(m.key, "x");
  await assert.rejects(m.get("k"), ValkeyWrongTypeError);
  const mu = store.mutex("mu");
  await raw.set(mu.key, "forever");
  await assert.rejects(mu.lockAsync(100), ValkeyWrongTypeError);
  const ch = store.channel("ch");
  await raw.set(ch.key, "x");
  await assert.rejects(ch.sendAsync("m"), ValkeyWrongTypeError);
  await assert.rejects(ch.recvAsync({ timeoutMs: 10 }), ValkeyWrongTypeError);
  store.close();
  await assert.rejects(a.load(), ValkeyConnectionError);
});
