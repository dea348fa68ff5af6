// Locks that stay correct when participants die: holders and waiters
// SIGKILLed (at chosen and at random points), Workers terminated, holders in
// other PID namespaces (unshare --pid: alive, they are never robbed; dead,
// they are recovered), a dead holder's pid reused by an unrelated process,
// SharedMemory.close() while holding; plus the input checks that must come
// before any write, and waits that never spin. In Bun and in Deno.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import process from "node:process";
import { api } from "./helpers/api.ts";
import { newWorker } from "./helpers/worker.ts";
import { uniqueName } from "./helpers/names.ts";
import { type Child, selfScript, start } from "./helpers/spawn.ts";
import { COUNTS, J, JOURNAL_BYTES, sum } from "./helpers/robust_journal.ts";

const { AtomicI32, Mutex, RwLock, Semaphore, Once, SharedMemory } = api;
const { MutexOwnerDiedError, RwLockOwnerDiedError, SemaphoreOwnerDiedError, LockNotHeldError } = api;
type Seg = import("../src/index.ts").SharedMemory;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OWNER_DIED = 0x40000000;

// PID namespaces (unshare --pid) and handing out a chosen pid (ns_last_pid) need root
const canUnshare = (() => {
  try {
    execFileSync("unshare", ["--pid", "--fork", "--mount-proc", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const NEEDS_NS = canUnshare ? {} : { skip: "needs unshare --pid (root)" };
const NEEDS_ROOT = process.getuid?.() === 0 ? {} : { skip: "needs root (writes /proc/sys/kernel/ns_last_pid)" };

/** A fresh segment for one test, closed and unlinked afterwards. */
async function withSegment(bytes: number, fn: (seg: Seg) => Promise<void>): Promise<void> {
  const seg = SharedMemory.create(uniqueName(), bytes);
  try {
    await fn(seg);
  } finally {
    seg.close();
    seg.unlink();
  }
}

/** Runs test/children/robust_child.ts, in a new PID namespace (and mount namespace, for its /proc) if asked. */
function child(args: string[], ns = false): Child {
  const cmd = selfScript("./robust_child.ts", ...args);
  return start(ns ? ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", ...cmd] : cmd);
}

/** Waits until `ready()` (polling), failing with the child's output if it ends first or takes too long. */
async function until(ready: () => boolean, c?: Child, ms = 30_000): Promise<void> {
  let ended = false;
  c?.done.then(() => (ended = true));
  const t = performance.now();
  while (!ready()) {
    if (ended) throw new Error(`the child ended first: ${JSON.stringify(await c!.done)}`);
    if (performance.now() - t > ms) throw new Error("timed out waiting for the child");
    await sleep(5);
  }
}

/** Kills a child with SIGKILL and waits for it to be gone. */
async function kill(c: Child): Promise<void> {
  c.kill("SIGKILL");
  await c.done;
}

/** `fn` must throw (or reject with) an instance of `cls`; returns the error. */
async function caught<E>(fn: () => unknown, cls: new (...a: never[]) => E): Promise<E> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof cls, `expected ${cls.name}, got ${err}`);
  return err as E;
}

// ---- processes killed holding or waiting ----------------------------------------------

test("Mutex: a SIGKILLed holder is recovered at once: the next locker gets MutexOwnerDiedError naming it", async () => {
  await withSegment(4096, async (seg) => {
    const m = new Mutex(seg, 0);
    const word = new DataView(seg.bytes.buffer, 8, 4);
    const holder = child(["hold", "mutex", m.handle()]);
    await until(() => m.locked, holder);
    const owner = word.getUint32(0, true) & 0x3fffffff;
    assert.equal(owner, holder.pid, "the word holds the holder's thread id (its main thread: the pid)");
    assert.equal(m.tryLock(100), null, "held by a live process: not taken");
    await kill(holder);
    // (tryLock set the waiters bit, which the kernel keeps)
    assert.equal(word.getUint32(0, true) & 0x7fffffff, OWNER_DIED, "the kernel marked the word when the holder died");
    const t = performance.now();
    const e = await caught(() => m.lockAsync(5000), MutexOwnerDiedError);
    assert.ok(performance.now() - t < 1000);
    assert.equal(e.previousOwner, holder.pid);
    assert.equal(m.locked, true);
    e.guard.unlock();
    assert.ok(m.tryLock(), "unlocked and plain again");
    m.unlock();
  });
});

test("Mutex: a waiter asleep on the word of a holder that dies is woken by the kernel itself", async () => {
  await withSegment(4096, async (seg) => {
    const m = new Mutex(seg, 0);
    const state = new api.AtomicU32(seg, 8);
    const w = newWorker(new URL("./workers/robust_worker.ts", import.meta.url).href);
    await new Promise((r) => (w.onmessage = r));
    try {
      // A Worker that had not gone to sleep yet when the holder died finds the word changed ("not-equal"):
      // that round proves nothing, so it is run again with the Worker given longer to fall asleep.
      for (let round = 0, settle = 100;; round++, settle *= 2) {
        const holder = child(["hold", "mutex", m.handle()]);
        await until(() => m.locked, holder);
        // the waiters bit, then a Worker asleep in one wait with no timeout: only a wake can end it
        const v = (state.fetchOr(0x80000000) | 0x80000000) >>> 0;
        const woken = new Promise((r) => (w.onmessage = (e) => r(e.data)));
        w.postMessage({ kind: "wait", lock: state.descriptor(), expected: v });
        await sleep(settle);
        await kill(holder);
        const result = await woken;
        if (result === "not-equal" && round < 5) {
          (await caught(() => m.lock(), MutexOwnerDiedError)).guard.unlock();
          continue;
        }
        assert.equal(result, "ok");
        assert.equal(state.load(), (0x80000000 | OWNER_DIED) >>> 0);
        break;
      }
    } finally {
      w.terminate();
    }
    (await caught(() => m.lock(), MutexOwnerDiedError)).guard.unlock();
  });
});

test(
  "Mutex: holders in other PID namespaces (the same thread ids) are never robbed: an exact count",
  NEEDS_NS,
  async () => {
    await withSegment(4096, async (seg) => {
      const m = new Mutex(seg, 0);
      const n = 20_000;
      // two children in two new PID namespaces: both are pid 1 there, so both hold the lock as thread 1
      const kids = [
        child(["count", m.handle(), seg.handle(), "64", String(n)], true),
        child(["count", m.handle(), seg.handle(), "64", String(n)], true),
        child(["count", m.handle(), seg.handle(), "64", String(n)]),
      ];
      const outs = await Promise.all(kids.map((k) => k.done));
      for (const o of outs) assert.equal(o.code, 0, o.stderr);
      assert.equal(new DataView(seg.bytes.buffer).getInt32(64, true), 3 * n);
      assert.equal(m.locked, false);
    });
  },
);

test(
  "Mutex: a holder in another PID namespace is not robbed while alive, and is recovered when it dies",
  NEEDS_NS,
  async () => {
    await withSegment(4096, async (seg) => {
      const m = new Mutex(seg, 0);
      const holder = child(["hold", "mutex", m.handle()], true);
      await until(() => m.locked, holder);
      const owner = new DataView(seg.bytes.buffer, 8, 4).getUint32(0, true) & 0x3fffffff;
      assert.equal(owner, 1, "it holds the lock as thread 1 of its namespace");
      // thread 1 of ours is init, thread 1 of its namespace is alive: nobody here can tell, and nobody asks
      assert.equal(m.tryLock(300), null);
      assert.equal(await m.lockAsync(300), null);
      await kill(holder); // unshare --kill-child: the namespace's pid 1 goes with it
      const e = await caught(() => m.lockAsync(5000), MutexOwnerDiedError);
      assert.equal(e.previousOwner, 1, "its id in its own namespace");
      e.guard.unlock();
    });
  },
);

test(
  "Mutex: a dead holder is recovered even when its pid now belongs to an unrelated live process",
  NEEDS_ROOT,
  async () => {
    await withSegment(4096, async (seg) => {
      const m = new Mutex(seg, 0);
      const holder = child(["hold", "mutex", m.handle()]);
      await until(() => m.locked, holder);
      const pid = holder.pid;
      await kill(holder);
      // hand its pid to a fresh `sleep` (as root: the kernel's next pid is ns_last_pid + 1)
      let other: Child | undefined;
      for (let i = 0; i < 200 && other === undefined; i++) {
        writeFileSync("/proc/sys/kernel/ns_last_pid", String(pid - 1));
        const c = start(["sleep", "30"]);
        if (c.pid === pid) other = c;
        else await kill(c);
      }
      assert.ok(other, `could not get pid ${pid} again`);
      try {
        assert.ok(existsSync(`/proc/${pid}`), "the dead holder's pid is a live process now");
        // a liveness probe (kill(pid, 0)) would say "alive" forever; the kernel marked the word at the death
        const e = await caught(() => m.lockAsync(1000), MutexOwnerDiedError);
        assert.equal(e.previousOwner, pid);
        e.guard.unlock();
      } finally {
        await kill(other!);
      }
    });
  },
);

test("Mutex: a word naming a thread that never took it through a robust list is not taken by probing (nor recovered)", async () => {
  await withSegment(4096, async (seg) => {
    const m = new Mutex(seg, 0);
    const word = new DataView(seg.bytes.buffer, 8, 4);
    const other = start(["sleep", "30"]);
    // forged: a live process's id written by hand, as foreign code (or another namespace) might
    word.setUint32(0, other.pid, true);
    assert.equal(m.tryLock(100), null);
    await kill(other);
    // the kernel only marks words a dying thread linked: an id is never judged dead by looking it up
    assert.equal(m.tryLock(300), null);
    assert.throws(() => m.unlock(), LockNotHeldError);
    word.setUint32(0, 0, true);
    assert.ok(m.tryLock());
    m.unlock();
  });
});

test("RwLock: a killed reader is recovered: the writer gets the lock, with no report", async () => {
  await withSegment(4096, async (seg) => {
    const rw = new RwLock(seg, 0, { readers: 4 });
    const reader = child(["hold", "read", rw.handle()]);
    await until(() => rw.readers === 1, reader);
    assert.equal(rw.tryWrite(100), null);
    await kill(reader);
    assert.equal(rw.readers, 0, "the dead reader's slot counts as free");
    const w = await rw.writeAsync(1000);
    assert.ok(w, "the writer gets it");
    assert.equal(rw.readers, -1);
    w!.unlock();
  });
});

test("RwLock: a writer killed while waiting for readers does not wedge the lock", async () => {
  await withSegment(4096, async (seg) => {
    const rw = new RwLock(seg, 0, { readers: 4 });
    const r = rw.read();
    const writer = child(["wait-write", rw.handle()]);
    // once the writer waits, new readers are held off
    await until(() => {
      const extra = rw.tryRead();
      extra?.unlock();
      return extra === null;
    }, writer);
    await kill(writer);
    const r2 = rw.tryRead(1000);
    assert.ok(r2, "readers go on");
    r2!.unlock();
    r.unlock();
    const w = rw.tryWrite(1000);
    assert.ok(w, "and writers, with no report (it never wrote)");
    w!.unlock();
  });
});

test("RwLock: a writer killed while writing: the next taker, reader or writer, gets the write lock and RwLockOwnerDiedError", async () => {
  await withSegment(4096, async (seg) => {
    const rw = new RwLock(seg, 0, { readers: 4 });
    for (const next of ["read", "write"] as const) {
      const writer = child(["hold", "write", rw.handle()]);
      await until(() => rw.readers === -1, writer);
      assert.equal(rw.tryRead(100), null);
      await kill(writer);
      const e = await caught(() => (next === "read" ? rw.readAsync(2000) : rw.writeAsync(2000)), RwLockOwnerDiedError);
      assert.equal(e.previousOwner, writer.pid);
      assert.equal(rw.readers, -1, "the caller holds the write lock, to repair the data");
      e.guard.unlock();
      const r = rw.tryRead();
      assert.ok(r, "and after that all is plain");
      r!.unlock();
    }
  });
});

test("Semaphore: the permits of a killed holder come back, once, with SemaphoreOwnerDiedError", async () => {
  await withSegment(4096, async (seg) => {
    const s = new Semaphore(seg, 0, { max: 3 });
    const holder = child(["hold", "sem", s.handle(), "2"]);
    await until(() => s.available === 1, holder);
    assert.equal(s.tryAcquire(2, 100), false);
    await kill(holder);
    const e = await caught(() => s.acquireAsync(3, 2000), SemaphoreOwnerDiedError);
    assert.equal(e.recovered, 2);
    assert.equal(e.previousOwner, holder.pid);
    assert.equal(s.held, 3, "the call did take its permits");
    assert.equal(s.tryAcquire(), false, "never above max");
    s.release(3);
    assert.equal(s.available, 3);
    assert.throws(() => s.release(1), RangeError);
    assert.equal(s.tryAcquire(3), true, "reported once: plain again");
    s.release(3);
  });
});

test("Once: a killed runner lets the next caller run the initialiser", async () => {
  await withSegment(4096, async (seg) => {
    const o = new Once(seg, 0);
    const flag = new AtomicI32(seg, 64);
    const runner = child(["hold", "once", o.handle()]);
    // the runner is inside fn: a waiter would wait; it is killed there
    await until(() => new DataView(seg.bytes.buffer, 8, 4).getUint32(0, true) !== 0, runner);
    await sleep(50);
    const waiter = o.runAsync(() => flag.store(1));
    await sleep(50);
    assert.equal(o.done, false);
    await kill(runner);
    assert.equal(await waiter, true, "the waiter ran it");
    assert.equal(flag.load(), 1);
    assert.equal(o.done, true);
    assert.equal(o.run(() => flag.store(2)), false);
  });
});

// ---- Workers terminated holding --------------------------------------------------------

async function workerHolds(job: Record<string, unknown>): Promise<Worker> {
  const w = newWorker(new URL("./workers/robust_worker.ts", import.meta.url).href);
  await new Promise((r) => (w.onmessage = r));
  const held = new Promise((r) => (w.onmessage = r));
  w.postMessage(job);
  await held;
  return w;
}

test("Workers terminated while holding: every primitive recovers (their thread's end marks the words)", async () => {
  const m = Mutex.create();
  let w = await workerHolds({ kind: "mutex", lock: m.descriptor() });
  assert.equal(m.tryLock(50), null);
  w.terminate();
  (await caught(() => m.lockAsync(5000), MutexOwnerDiedError)).guard.unlock();

  const rw = RwLock.create({ readers: 2 });
  w = await workerHolds({ kind: "write", lock: rw.descriptor() });
  w.terminate();
  (await caught(() => rw.readAsync(5000), RwLockOwnerDiedError)).guard.unlock();
  w = await workerHolds({ kind: "read", lock: rw.descriptor() });
  assert.equal(rw.readers, 1);
  w.terminate();
  const wl = await rw.writeAsync(5000);
  assert.ok(wl, "a terminated reader's slot frees");
  wl!.unlock();

  const s = Semaphore.create({ max: 2 });
  w = await workerHolds({ kind: "sem", lock: s.descriptor(), n: 2 });
  assert.equal(s.available, 0);
  w.terminate();
  assert.equal((await caught(() => s.acquireAsync(2, 5000), SemaphoreOwnerDiedError)).recovered, 2);
  s.release(2);

  const o = Once.create();
  w = await workerHolds({ kind: "once", lock: o.descriptor() });
  w.terminate();
  assert.equal(await o.runAsync(() => {}), true, "the next caller runs it");
});

// ---- SharedMemory.close() while holding --------------------------------------------------

test("SharedMemory.close() while this thread holds locks in it: the next owner is told, as if the holder had died", async () => {
  const name = uniqueName();
  const a = SharedMemory.create(name, 4096);
  try {
    const m = new Mutex(a, 0);
    const rw = new RwLock(a, 64, { readers: 2 });
    const s = new Semaphore(a, 256, { max: 2 });
    m.lock();
    rw.write();
    s.acquire();
    // another mapping of the same segment (as another process would have)
    const b = SharedMemory.open(name);
    try {
      const m2 = new Mutex(b, 0);
      const rw2 = new RwLock(b, 64);
      const s2 = new Semaphore(b, 256);
      assert.equal(m2.tryLock(), null);
      a.close();
      assert.throws(() => m.unlock(), api.SharedMemoryClosedError);
      (await caught(() => m2.lock(), MutexOwnerDiedError)).guard.unlock();
      (await caught(() => rw2.write(), RwLockOwnerDiedError)).guard.unlock();
      assert.equal((await caught(() => s2.acquire(2), SemaphoreOwnerDiedError)).recovered, 1);
      s2.release(2);
    } finally {
      b.close();
    }
  } finally {
    a.close();
    SharedMemory.unlink(name);
  }
});

// ---- random SIGKILLs under contention ------------------------------------------------------

/**
 * Runs `width` children of `mode` at once for about `ms`, SIGKILLing one at
 * random every 100-300 ms and starting another in its place (each child has
 * its own index, < 32); returns how many were killed.
 */
async function chaos(mode: string, handle: string, seg: Seg, width: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  const running = new Map<number, Child>();
  let next = 0;
  let killed = 0;
  const spawn = () => {
    const i = next++;
    // the deadline leaves time for the start-up of late children
    running.set(i, child([`stress-${mode}`, handle, seg.handle(), "1024", String(i), String(end + 1500)]));
  };
  for (let i = 0; i < width; i++) spawn();
  while (Date.now() < end && next < 32) {
    await sleep(100 + Math.random() * 200);
    const keys = [...running.keys()];
    const victim = keys[Math.floor(Math.random() * keys.length)];
    const c = running.get(victim)!;
    running.delete(victim);
    await kill(c);
    killed++;
    if (next < 32) spawn();
  }
  const outs = await Promise.all([...running.values()].map((c) => c.done));
  for (const o of outs) assert.equal(o.code, 0, o.stderr);
  return killed;
}

function journal(seg: Seg): Int32Array {
  return new Int32Array(seg.bytes.buffer, 1024, JOURNAL_BYTES / 4);
}

test("Mutex: 3 processes and random SIGKILLs: no lost or doubled update, never two inside", async () => {
  await withSegment(4096, async (seg) => {
    const m = new Mutex(seg, 0);
    const killed = await chaos("mutex", m.handle(), seg, 3, 3000);
    const w = journal(seg);
    let g;
    try {
      g = m.lock();
    } catch (e) {
      if (!(e instanceof MutexOwnerDiedError)) throw e;
      g = e.guard; // the last victim died holding it
      assert.ok(Atomics.load(w, J.pending) === 0 || Atomics.load(w, J.pending) === 1);
      if (Atomics.load(w, J.pending)) {
        Atomics.store(w, J.total, Atomics.load(w, J.newTotal));
        Atomics.store(w, COUNTS + Atomics.load(w, J.proc), Atomics.load(w, J.newCount));
        Atomics.store(w, J.pending, 0);
      }
    }
    assert.ok(killed > 0);
    assert.equal(Atomics.load(w, J.violations), 0, "never two holders at once");
    assert.ok(Atomics.load(w, J.total) > 0);
    assert.equal(Atomics.load(w, J.total), sum(w), "every finished update counted once");
    g.unlock();
  });
});

test("RwLock: 3 processes, readers and writers, random SIGKILLs: readers never see a write in flight", async () => {
  await withSegment(8192, async (seg) => {
    const rw = new RwLock(seg, 0, { readers: 8 });
    const killed = await chaos("rwlock", rw.handle(), seg, 3, 3000);
    const w = journal(seg);
    let g;
    try {
      g = rw.write();
    } catch (e) {
      if (!(e instanceof RwLockOwnerDiedError)) throw e;
      g = e.guard;
      if (Atomics.load(w, J.pending)) {
        Atomics.store(w, J.total, Atomics.load(w, J.newTotal));
        Atomics.store(w, COUNTS + Atomics.load(w, J.proc), Atomics.load(w, J.newCount));
        Atomics.store(w, J.pending, 0);
      }
    }
    assert.ok(killed > 0);
    assert.equal(Atomics.load(w, J.violations), 0, "no reader saw a write in flight, no two writers");
    assert.ok(Atomics.load(w, J.total) > 0);
    assert.equal(Atomics.load(w, J.total), sum(w));
    g.unlock();
    assert.equal(rw.readers, 0);
  });
});

test("Semaphore: 4 processes and random SIGKILLs: every permit comes back exactly once", async () => {
  await withSegment(8192, async (seg) => {
    const s = new Semaphore(seg, 0, { max: 2, holders: 6 });
    const killed = await chaos("sem", s.handle(), seg, 4, 3000);
    assert.ok(killed > 0);
    assert.ok(sum(journal(seg)) > 0);
    // all of them back: exactly max, no more
    try {
      s.acquire(2);
    } catch (e) {
      if (!(e instanceof SemaphoreOwnerDiedError)) throw e;
    }
    assert.equal(s.tryAcquire(1, 50), false);
    s.release(2);
    assert.equal(s.available, 2);
    assert.throws(() => s.release(1), RangeError);
  });
});

// ---- checks before writes; waits that never spin; messages -----------------------------------------

test("bad input is refused before anything is written, the tag included", () => {
  // a SharedArrayBuffer whose length is not a multiple of 4 is fine when the lock fits
  const odd = new SharedArrayBuffer(50);
  const m = new Mutex(odd, 0);
  m.lock();
  m.unlock();
  const b = (n: number) => new SharedArrayBuffer(n);
  const cases: [SharedArrayBuffer, (mem: SharedArrayBuffer) => unknown, RegExp][] = [
    [b(47), (mem) => new Mutex(mem, 0), /new Mutex: byteOffset .*47 bytes cannot hold a 48-byte value/],
    [b(4096), (mem) => new Mutex(mem, 4), /new Mutex: byteOffset must be a multiple of 8/],
    [b(100), (mem) => new RwLock(mem, 0), /100 bytes cannot hold a 688-byte value/],
    [b(4096), (mem) => new RwLock(mem, 0, { readers: 0 }), /readers must be an integer in \[1, 1024\]/],
    [b(4096), (mem) => new Semaphore(mem, 0, { max: 2, initial: 3 }), /initial must be an integer in \[0, 2\]/],
    [b(200), (mem) => new Semaphore(mem, 0, { max: 4 }), /200 bytes cannot hold a 240-byte value/],
    [b(4096), (mem) => new Semaphore(mem, 0, { max: 4, holders: 2000 }), /holders must be an integer/],
    [b(4096), (mem) => new Semaphore(mem, 0), /options must be the Semaphore's configuration/],
  ];
  for (const [mem, fn, re] of cases) {
    assert.throws(() => fn(mem), (e: Error) => re.test(e.message) || assert.fail(`${e}`));
    assert.ok(new Uint8Array(mem).every((x) => x === 0), `memory untouched: ${re}`);
  }
  // a different configuration of an existing one is refused, and changes nothing
  const rw = RwLock.create({ readers: 2 });
  assert.throws(
    () => new RwLock(rw.memory as SharedArrayBuffer, 0, { readers: 3 }),
    /options\.readers must be what this RwLock already has, 2/,
  );
  assert.equal(new RwLock(rw.memory as SharedArrayBuffer, 0).readerSlots, 2, "adopted");
  assert.equal(RwLock.bytes({ readers: 2 }), 128);
  assert.equal(Semaphore.bytes({ max: 2 }), 160);
});

test("re-entrant Once.run: a clear error, and the Once stays usable", () => {
  const o = Once.create();
  assert.throws(
    () => o.run(() => o.run(() => {})),
    (e: Error) => /already/.test(e.message) && !/0x|got \d/.test(e.message),
  );
  assert.equal(o.done, false, "the outer run threw, so it did not finish");
  assert.equal(o.run(() => {}), true);
});

test("re-entry that would deadlock: clear errors (Mutex, RwLock), and unlocking what is not held", async () => {
  const m = Mutex.create();
  const g = m.lock();
  assert.throws(() => m.lock(), /already holds the lock/);
  assert.equal(m.tryLock(50), null);
  // another instance over the same memory, same thread: still this thread's lock
  const same = new Mutex(m.memory as SharedArrayBuffer, 0);
  assert.throws(() => same.lock(), /already holds the lock/);
  g.unlock();
  assert.throws(() => m.unlock(), /it is unlocked/);
  const rw = RwLock.create({ readers: 2 });
  const r = rw.read();
  assert.throws(() => rw.write(), /holds a read lock/);
  // a writer (a Worker) waits for that read lock: reading again would wait for it forever
  const worker = newWorker(new URL("./workers/robust_worker.ts", import.meta.url).href);
  await new Promise((r) => (worker.onmessage = r));
  const held = new Promise((r) => (worker.onmessage = r));
  worker.postMessage({ kind: "write", lock: rw.descriptor() });
  await until(() => {
    const extra = rw.tryRead();
    extra?.unlock();
    return extra === null;
  });
  assert.throws(() => rw.read(), /reading again would deadlock/);
  assert.equal(rw.tryRead(20), null, "with a timeout: just times out");
  r.unlock();
  await held;
  worker.terminate();
  (await caught(() => rw.writeAsync(5000), RwLockOwnerDiedError)).guard.unlock();
  const r1 = rw.read();
  assert.equal(rw.tryWrite(30), null);
  r1.unlock();
  const w = rw.write();
  assert.throws(() => rw.read(), /write lock/);
  w.unlock();
  assert.throws(() => rw.writeUnlock(), LockNotHeldError);
});

test("huge timeouts wait, never spin (Semaphore.tryAcquire(1, 1e300) and friends)", async () => {
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const s = Semaphore.create({ max: 1, initial: 0 });
  const ac = new AbortController();
  // Node's timers count from the loop's cached time, which a busy machine leaves stale: refresh it first
  await new Promise((r) => setImmediate(r));
  setTimeout(() => ac.abort(new Error("enough")), 400);
  const c0 = cpu();
  const t0 = performance.now();
  await assert.rejects(s.acquireAsync(1, 1e300, ac.signal), /enough/);
  assert.ok(performance.now() - t0 >= 390);
  const m = Mutex.create();
  const g = m.lock();
  const ac2 = new AbortController();
  setTimeout(() => ac2.abort(new Error("enough")), 300);
  await assert.rejects(m.lockAsync(1e300, ac2.signal), /enough/);
  g.unlock();
  const used = cpu() - c0;
  assert.ok(used < 300, `${used.toFixed(0)} ms of CPU in 700 ms of waiting`);
  // the blocking form: a Worker releases after 300 ms
  const w = newWorker(new URL("./workers/robust_worker.ts", import.meta.url).href);
  await new Promise((r) => (w.onmessage = r));
  const c1 = cpu();
  const t1 = performance.now();
  w.postMessage({ kind: "release-later", lock: s.descriptor(), n: 1, ms: 300 });
  assert.equal(s.tryAcquire(1, 1e300), true);
  const took = performance.now() - t1;
  assert.ok(took >= 250, `${took} ms`);
  assert.ok(cpu() - c1 < took * 0.5 + 50, `${(cpu() - c1).toFixed(0)} ms of CPU in ${took.toFixed(0)} ms`);
  w.terminate();
  s.release(1);
});
