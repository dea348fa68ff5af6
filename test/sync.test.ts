// Waiting and locks, between Workers and between processes, in both
// runtimes: exact counts, owner death, timeouts, async forms, bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { newWorker } from "./helpers/worker.ts";
import { uniqueName } from "./helpers/names.ts";
import { onWorkers } from "./helpers/workers.ts";
import { run, selfScript, start } from "./helpers/spawn.ts";

const { AtomicI32, AtomicU32, Mutex, RwLock, Semaphore, Barrier, Once, WaitGroup, SharedMemory } = api;
const { MutexOwnerDiedError, LockNotHeldError } = api;
import type { MutexGuard, RwLockGuard } from "../src/index.ts";
// deno-lint-ignore no-explicit-any
type Any = any;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("wait/notify between Workers: notify wakes a blocked wait; not-equal; timed-out on time", async () => {
  const a = AtomicI32.create(0);
  assert.equal(a.wait(1), "not-equal");
  let t = performance.now();
  assert.equal(a.wait(0, 50), "timed-out");
  const took = performance.now() - t;
  assert.ok(took >= 45 && took < 1000, `timed out after ${took} ms`);
  assert.equal(a.notify(), 0, "nobody waits");
  // a Worker stores and notifies while this thread waits asynchronously
  t = performance.now();
  const waiting = a.waitAsync(0, 5000);
  const w = newWorker(new URL("./workers/sync_notify_worker.ts", import.meta.url).href);
  await new Promise((r) => (w.onmessage = r));
  w.postMessage(a.descriptor());
  assert.equal(await waiting, "ok");
  w.terminate();
  assert.equal(a.load(), 1);
});

test("waitAsync leaves the event loop running: a timer set before the wait fires while it is pending", async () => {
  const a = AtomicU32.create(0);
  const fired: number[] = [];
  setTimeout(() => fired.push(1), 10);
  setTimeout(() => {
    fired.push(2);
    a.store(7);
    a.notify(1);
  }, 60);
  assert.equal(await a.waitAsync(0), "ok");
  assert.deepEqual(fired, [1, 2]);
  assert.equal(await a.waitAsync(7, 30), "timed-out");
  assert.equal(await a.waitAsync(8, 30), "not-equal");
});

test("waitAsync and lockAsync are cancelled by an AbortSignal", async () => {
  const a = AtomicI32.create(0);
  const ac = new AbortController();
  const t = performance.now();
  setTimeout(() => ac.abort(new Error("stop")), 30);
  await assert.rejects(a.waitAsync(0, undefined, ac.signal), /stop/);
  assert.ok(performance.now() - t < 1000);
  await assert.rejects(a.waitAsync(0, undefined, AbortSignal.abort(new Error("already"))), /already/);
  const m = Mutex.create();
  const held = m.lock();
  const ac2 = new AbortController();
  setTimeout(() => ac2.abort(new Error("gave up")), 30);
  await assert.rejects(m.lockAsync(undefined, ac2.signal), /gave up/);
  held.unlock();
  assert.equal(m.locked, false);
});

test("every async wait checks its timeout and signal alike: named errors, an aborted signal's reason, nothing taken", async () => {
  const m = Mutex.create();
  const rw = RwLock.create();
  const s = Semaphore.create({ max: 2 });
  const b = Barrier.create({ parties: 2 });
  const wg = WaitGroup.create();
  wg.add(1);
  const waits: [string, (t: unknown, signal: unknown) => Promise<unknown>][] = [
    ["Mutex.lockAsync", (t, sig) => m.lockAsync(t as number, sig as AbortSignal)],
    ["RwLock.readAsync", (t, sig) => rw.readAsync(t as number, sig as AbortSignal)],
    ["RwLock.writeAsync", (t, sig) => rw.writeAsync(t as number, sig as AbortSignal)],
    ["Semaphore.acquireAsync", (t, sig) => s.acquireAsync(1, t as number, sig as AbortSignal)],
    ["Barrier.waitAsync", (t, sig) => b.waitAsync(t as number, sig as AbortSignal)],
    ["WaitGroup.waitAsync", (t, sig) => wg.waitAsync(t as number, sig as AbortSignal)],
  ];
  const reason = new Error("already aborted");
  const forged = Object.create(AbortSignal.prototype);
  for (const [where, wait] of waits) {
    const named = (kind: ErrorConstructor, param: string) => (e: Error) =>
      e instanceof kind && e.message.startsWith(`${where}: ${param} must be`);
    await assert.rejects(wait(-1, undefined), named(RangeError, "timeoutMs"), where);
    await assert.rejects(wait(NaN, undefined), named(RangeError, "timeoutMs"), where);
    await assert.rejects(wait("1", undefined), named(TypeError, "timeoutMs"), where);
    await assert.rejects(wait(1, forged), named(TypeError, "signal"), where);
    await assert.rejects(wait(1, {}), named(TypeError, "signal"), where);
    await assert.rejects(wait(1, AbortSignal.abort(reason)), (e) => e === reason, where);
  }
  // none of them took or joined anything
  assert.equal(m.locked, false);
  assert.notEqual(rw.tryWrite(), null);
  assert.equal(s.available, 2);
  assert.equal(b.generation, 0);
  const round = await Promise.all([b.waitAsync(5000), b.waitAsync(5000)]);
  assert.ok(round.every((r) => r !== null), "the barrier's two real parties meet: no refused call arrived");
  assert.equal(b.generation, 1);
  wg.done();
  assert.equal(await wg.waitAsync(1000), true);
});

test("terminating a Worker whose waitAsync and lockAsync are pending, then waking them, crashes nothing", async () => {
  const a = AtomicI32.create(0);
  const m = Mutex.create();
  const held = m.lock();
  const w = newWorker(new URL("./workers/sync_pending_worker.ts", import.meta.url).href);
  await new Promise((r) => (w.onmessage = r));
  w.postMessage({ atomic: a.descriptor(), mutex: m.descriptor() });
  await new Promise((r) => (w.onmessage = r));
  await sleep(30);
  w.terminate();
  await sleep(30);
  a.store(1);
  a.notify();
  held.unlock();
  await sleep(100);
  assert.equal(a.load(), 1, "this process is alive and well");
});

test("wait/notify between processes: a child stores and notifies, this process's blocking wait wakes", async () => {
  const seg = SharedMemory.create(uniqueName(), 64);
  try {
    const a = new AtomicI32(seg, 4);
    const child = run(selfScript("./sync_child.ts", "notify", a.handle(), "300"));
    assert.equal(await a.waitAsync(0, 10_000), "ok");
    assert.equal(a.load(), 1);
    await child;
    // and blocking, in this thread: the child is started first, then we block
    a.store(0);
    const c2 = start(selfScript("./sync_child.ts", "notify", a.handle(), "500"));
    assert.equal(a.wait(0, 10_000), "ok");
    await c2.done;
  } finally {
    seg.close();
    seg.unlink();
  }
});

test("Mutex across 4 Workers: 100,000 plain increments each end exact", async () => {
  const m = Mutex.create();
  const cell = new SharedArrayBuffer(4);
  await onWorkers(4, { job: "mutex", lock: m.descriptor(), cell, count: 100_000 }, undefined, "./sync_worker.ts");
  assert.equal(new Int32Array(cell)[0], 400_000);
  assert.equal(m.locked, false);
});

test("Mutex across 4 processes: 100,000 plain increments each end exact", async () => {
  const seg = SharedMemory.create(uniqueName(), 64);
  try {
    const m = new Mutex(seg, 0);
    const kids = Array.from(
      { length: 4 },
      () => run(selfScript("./sync_child.ts", "mutex", m.handle(), seg.handle(), "48", "100000")),
    );
    await Promise.all(kids);
    assert.equal(new DataView(seg.bytes.buffer).getInt32(48, true), 400_000);
  } finally {
    seg.close();
    seg.unlink();
  }
});

test("Mutex: SIGKILL of the holder process: the next locker gets the lock and the owner-died signal within a second", async () => {
  const seg = SharedMemory.create(uniqueName(), 64);
  try {
    const m = new Mutex(seg, 8);
    const holder = start(selfScript("./sync_child.ts", "hold", m.handle()));
    while (!m.locked) await sleep(5);
    assert.equal(m.tryLock(), null);
    holder.kill("SIGKILL");
    await holder.done;
    const t = performance.now();
    const e = await m.lockAsync(5000).then(() => null, (e) => e);
    assert.ok(e instanceof MutexOwnerDiedError, `expected MutexOwnerDiedError, got ${e}`);
    assert.ok(performance.now() - t < 1000, `took ${performance.now() - t} ms`);
    assert.ok(e.previousOwner > 0);
    assert.equal(m.locked, true, "the lock is held by us now");
    e.guard.unlock();
    assert.equal(m.locked, false);
    // the blocking form reports it too
    const h2 = start(selfScript("./sync_child.ts", "hold", m.handle()));
    while (!m.locked) await sleep(5);
    h2.kill("SIGKILL");
    await h2.done;
    assert.throws(() => m.lock(), MutexOwnerDiedError);
    m.unlock();
  } finally {
    seg.close();
    seg.unlink();
  }
});

test("Mutex: guards, using, tryLock timeouts on time, unlocking what you do not hold throws", async () => {
  const m = Mutex.create();
  {
    using _g = m.lock();
    assert.equal(m.locked, true);
    assert.equal(m.tryLock(), null, "not re-entrant: tryLock by the holder fails");
    assert.throws(() => m.lock(), /not re-entrant/);
  }
  assert.equal(m.locked, false);
  assert.throws(() => m.unlock(), LockNotHeldError);
  const g = m.lock();
  const t = performance.now();
  const other = onWorkers(
    1,
    { job: "mutex", lock: m.descriptor(), cell: new SharedArrayBuffer(4), count: 1 },
    undefined,
    "./sync_worker.ts",
  );
  await sleep(50);
  g.unlock(); // the Worker gets it now
  await other;
  assert.ok(performance.now() - t >= 45);
  // a Worker holds it: tryLock with a timeout returns null on time
  const held = Mutex.create();
  const hg = held.lock();
  const t2 = performance.now();
  assert.equal(await held.lockAsync(50), null, "async: from this thread's other task, times out");
  assert.ok(performance.now() - t2 >= 45 && performance.now() - t2 < 2000);
  hg.unlock();
});

test("two async tasks of one thread take turns on a Mutex", async () => {
  const m = Mutex.create();
  const order: string[] = [];
  const task = async (name: string) => {
    const g = (await m.lockAsync())!;
    order.push(`${name}+`);
    await sleep(20);
    order.push(`${name}-`);
    g.unlock();
  };
  await Promise.all([task("a"), task("b")]);
  assert.deepEqual(order, ["a+", "a-", "b+", "b-"]);
});

test("RwLock across 4 Workers: a writer never overlaps a reader or a writer", async () => {
  const rw = RwLock.create();
  const cell = new SharedArrayBuffer(16);
  await onWorkers(4, { job: "rwlock", lock: rw.descriptor(), cell, count: 20_000 }, undefined, "./sync_worker.ts");
  const st = new Int32Array(cell);
  assert.equal(st[2], 0, "violations");
  assert.equal(st[3], 4 * 20_000 / 8, "writes");
  assert.equal(rw.readers, 0);
});

test("RwLock: readers share, a writer excludes, a waiting writer holds off new readers", async () => {
  const rw = RwLock.create();
  const r1 = rw.read();
  assert.ok(rw.tryRead(), "readers share");
  rw.readUnlock();
  assert.equal(rw.tryWrite(), null);
  const writer = rw.writeAsync(5000);
  await sleep(30);
  assert.equal(rw.tryRead(), null, "a writer waits: new readers are held off");
  r1.unlock();
  const w = (await writer)!;
  assert.equal(rw.readers, -1);
  assert.equal(rw.tryRead(10), null);
  assert.throws(() => rw.readUnlock(), LockNotHeldError);
  w.unlock();
  assert.throws(() => rw.writeUnlock(), LockNotHeldError);
  assert.ok(rw.tryRead());
});

test("Semaphore under 8 Workers never lets more than its count in", async () => {
  const s = Semaphore.create({ max: 3 });
  const cell = new SharedArrayBuffer(8);
  await onWorkers(8, { job: "semaphore", lock: s.descriptor(), cell, count: 5_000 }, undefined, "./sync_worker.ts");
  const st = new Int32Array(cell);
  assert.ok(st[1] <= 3 && st[1] >= 1, `most inside at once: ${st[1]}`);
  assert.equal(s.available, 3);
});

test("Semaphore: counts, timeouts, never above max", async () => {
  const s = Semaphore.create({ max: 5, initial: 2 });
  assert.equal(s.available, 2);
  assert.equal(s.tryAcquire(3), false);
  const t = performance.now();
  assert.equal(s.tryAcquire(3, 40), false);
  assert.ok(performance.now() - t >= 35);
  const later = s.acquireAsync(3);
  s.release(1);
  assert.equal(await later, true);
  assert.equal(s.available, 0);
  s.release(5);
  assert.throws(() => s.release(1), /at most 0/);
  assert.equal(s.available, 5);
  // adopting an existing semaphore
  const again = new Semaphore(s.memory as SharedArrayBuffer, 0);
  assert.equal(again.max, 5);
  assert.throws(
    () => new Semaphore(s.memory as SharedArrayBuffer, 0, { max: 4 }),
    /options\.max must be what this Semaphore already has, 5 \(or left out/,
  );
});

test("Barrier with 4 parties over 1,000 generations across 4 Workers", async () => {
  const b = Barrier.create({ parties: 4 });
  const cell = new SharedArrayBuffer(16);
  const jobs = [0, 1, 2, 3].map((index) =>
    onWorkers(
      1,
      { job: "barrier", lock: b.descriptor(), cell, count: 1000, parties: 4, index },
      undefined,
      "./sync_worker.ts",
    )
  );
  const leaders = (await Promise.all(jobs)).flat();
  assert.ok(leaders.every((x) => x >= 0), "every party saw every other reach each generation");
  assert.equal(leaders.reduce((x, y) => x + y), 1000, "one leader per generation");
  assert.equal(b.generation, 1000);
});

test("Barrier: a timed-out wait takes its arrival back", async () => {
  const b = Barrier.create({ parties: 2 });
  assert.equal(b.wait(30), null);
  assert.equal(await b.waitAsync(30), null);
  const other = b.waitAsync(5000);
  assert.equal(b.wait(5000), true, "the second arrival is the leader");
  assert.equal(await other, false);
  assert.equal(b.generation, 1);
});

test("Once with 8 Workers and 4 processes runs its initialiser exactly once", async () => {
  const seg = SharedMemory.create(uniqueName(), 64);
  try {
    const o = new Once(seg, 0);
    const counter = new AtomicU32(seg, Once.BYTES);
    const cell = new SharedArrayBuffer(8);
    const procs = Array.from(
      { length: 4 },
      () => run(selfScript("./sync_child.ts", "once", o.handle(), counter.handle())),
    );
    const workers = onWorkers(8, { job: "once", lock: o.descriptor(), cell }, undefined, "./sync_worker.ts");
    const [outs, ran] = await Promise.all([Promise.all(procs), workers]);
    const runs = outs.filter((s) => s.trim() === "ran").length + ran.filter((r) => r === 1).length;
    assert.ok(ran.every((r) => r < 100), "every Worker returned after it was done");
    assert.equal(runs, 1);
    assert.equal(counter.load() + new Int32Array(cell)[0], 1);
    assert.equal(o.done, true);
  } finally {
    seg.close();
    seg.unlink();
  }
});

test("Once: a throwing initialiser lets the next caller run it", async () => {
  const o = Once.create();
  assert.throws(() =>
    o.run(() => {
      throw new Error("first try fails");
    }), /first try/);
  assert.equal(o.done, false);
  assert.equal(await o.runAsync(async () => {}), true);
  assert.equal(o.run(() => {}), false);
});

test("WaitGroup: add, done, wait and waitAsync", async () => {
  const wg = WaitGroup.create();
  wg.add(3);
  assert.equal(wg.wait(20), false);
  setTimeout(() => {
    wg.done();
    wg.add(-2);
  }, 30);
  assert.equal(await wg.waitAsync(5000), true);
  assert.equal(wg.count, 0);
  assert.throws(() => wg.done(), /^RangeError: WaitGroup\.done: the count is 0: .*a done\(\) too many/);
  assert.equal(wg.count, 0);
  wg.add(1);
  assert.throws(() => wg.add(-2), /^RangeError: WaitGroup\.add: n must be an amount keeping the count ≥ 0 \(it is 1\)/);
  wg.done();
});

test("primitives in a SharedMemory: handles, and every use after close() throws", () => {
  const seg = SharedMemory.create(uniqueName(), 256);
  const m = new Mutex(seg, 0);
  const s = new Semaphore(seg, Mutex.BYTES, { max: 2 });
  assert.equal(Mutex.fromHandle(m.handle()).locked, false);
  assert.equal(api.fromHandle<Any>(s.handle()).max, 2);
  seg.close();
  assert.throws(() => m.lock(), api.SharedMemoryClosedError);
  assert.throws(() => m.locked, api.SharedMemoryClosedError);
  assert.throws(() => s.available, api.SharedMemoryClosedError);
  assert.throws(() => new WaitGroup(seg, 64), api.SharedMemoryClosedError);
  seg.unlink();
});

test("bad input: offsets, alignment, sizes, counts, timeouts, kinds", async () => {
  const sab = new SharedArrayBuffer(1024);
  const cases: [() => unknown, ErrorConstructor, RegExp][] = [
    [() => new Mutex(sab, 4), RangeError, /new Mutex: byteOffset must be a multiple of 8/],
    [() => new Mutex(sab, 984), RangeError, /new Mutex: byteOffset must be an integer in \[0, 976\]/],
    [() => new Mutex(new ArrayBuffer(8) as Any), TypeError, /new Mutex: memory/],
    [() => new RwLock(new SharedArrayBuffer(8)), RangeError, /8 bytes cannot hold a 688-byte value/],
    [() => new Semaphore(sab, 0, { max: 0 }), RangeError, /max must be an integer in \[1, 2147483647\]; got 0/],
    [() => new Semaphore(sab, 0, { max: -1 }), RangeError, /got -1/],
    [() => new Semaphore(sab, 0, { max: 2, initial: 3 }), RangeError, /initial must be an integer in \[0, 2\]; got 3/],
    [() => new Semaphore(sab, 0, { max: 1.5 }), RangeError, /got 1.5/],
    [() => new Semaphore(sab, 0), TypeError, /new Semaphore: options must be the Semaphore's configuration/],
    [() => new Barrier(sab, 16, { parties: 0 }), RangeError, /parties must be an integer in \[1, 65535\]/],
    [() => new Barrier(sab, 16, { parties: 70000 }), RangeError, /parties/],
    [() => Mutex.create().tryLock(NaN), RangeError, /Mutex.tryLock: timeoutMs must be a number of milliseconds ≥ 0/],
    [() => Mutex.create().tryLock(-1), RangeError, /timeoutMs/],
    [() => Mutex.create().tryLock("5" as Any), TypeError, /timeoutMs must be a number/],
    [() => AtomicI32.create().wait(0, -5), RangeError, /AtomicI32.wait: timeoutMs/],
    [() => AtomicI32.create().wait(0, NaN), RangeError, /timeoutMs/],
    [() => AtomicU32.create().wait(-1), RangeError, /AtomicU32.wait: expected must be an integer in \[0, 4294967295\]/],
    [() => AtomicI32.create().wait(1n as Any), TypeError, /expected must be a number/],
    [() => AtomicI32.create().notify(-1), RangeError, /notify: count/],
    [() => AtomicI32.create().notify(1.5), RangeError, /count/],
    [() => Semaphore.create({ max: 2 }).acquire(0), RangeError, /Semaphore.acquire: n must be an integer in \[1, 2\]/],
    [() => Semaphore.create({ max: 2 }).acquire(3), RangeError, /\[1, 2\]; got 3/],
    [() => Semaphore.create({ max: 2 }).release(-1), RangeError, /Semaphore.release: n/],
    [() => WaitGroup.create().add(0), RangeError, /WaitGroup.add: n must be a non-zero integer/],
    [() => WaitGroup.create().add(-1), RangeError, /keeping the count ≥ 0/],
    [() => WaitGroup.create().wait(NaN), RangeError, /WaitGroup.wait: timeoutMs/],
    [() => Barrier.create({ parties: 2 }).wait(-1), RangeError, /Barrier.wait: timeoutMs/],
    [() => Once.create().run(5 as Any), TypeError, /Once.run: fn must be a function/],
    [
      () => Mutex.from(AtomicI32.create().descriptor()),
      TypeError,
      /Mutex.from: descriptor must be a descriptor of a Mutex \(this is i32\)/,
    ],
    [() => Mutex.fromHandle("sa1:semaphore@0:shm:/x"), TypeError, /a handle of a Mutex \(this is semaphore\)/],
    [() => Mutex.fromHandle("garbage"), RangeError, /Mutex.from: handle/],
  ];
  for (const [fn, cls, re] of cases) {
    assert.throws(fn, (e: Error) => e instanceof cls && re.test(e.message) || assert.fail(`${e}`));
  }
  // memory holding another primitive is refused
  const sab2 = new SharedArrayBuffer(Mutex.BYTES);
  new Mutex(sab2, 0);
  assert.throws(
    () => new WaitGroup(sab2, 0),
    /new WaitGroup: memory must be free \(zeroed\) memory or a WaitGroup; this memory holds a Mutex$/,
  );
  // async bad input rejects, not throws
  await Promise.all([
    assert.rejects(AtomicI32.create().waitAsync(0, NaN), RangeError),
    assert.rejects(Mutex.create().lockAsync(-1), RangeError),
    assert.rejects(Mutex.create().lockAsync(10, "x" as Any), TypeError),
  ]);
});

test("async lock forms without a timeout are typed non-null; timed ones may be null (checked by deno check and tsc)", async () => {
  const m = Mutex.create();
  const g: MutexGuard = await m.lockAsync();
  g.unlock();
  // @ts-expect-error: a timed lockAsync may resolve to null
  const timed: MutexGuard = await m.lockAsync(1000);
  timed.unlock();
  const rw = RwLock.create();
  const r: RwLockGuard = await rw.readAsync();
  r.unlock();
  const w: RwLockGuard = await rw.writeAsync(undefined, new AbortController().signal);
  w.unlock();
  // @ts-expect-error: a timed writeAsync may resolve to null
  const tw: RwLockGuard = await rw.writeAsync(1000);
  tw.unlock();
});
