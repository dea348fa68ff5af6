// A child process for test/robust.test.ts; runs in Bun or Deno, also as
// PID 1 of a new PID namespace (unshare --pid --fork).
//   robust_child.ts hold <mutex|read|write|sem|once> <handle> [n]
//       take it, print "held <tid>", then block until killed (once: block inside fn)
//   robust_child.ts wait-write <rwlock handle>
//       print "waiting", then block in write() (the test holds a read lock) until killed
//   robust_child.ts count <mutex handle> <segment handle> <offset> <n>
//       n plain increments of the i32 at offset, each under the lock; prints "done"
//   robust_child.ts stress-<mutex|rwlock|sem> <handle> <segment handle> <base> <index> <until (epoch ms)>
//       journaled updates under the lock until the deadline (and at least MIN_UPDATES), repairing after a dead holder
import { check, COUNTS, J, JOURNAL_BYTES, repair, update } from "../helpers/robust_journal.ts";

import { api } from "../helpers/api.ts";
import { pid, scriptArgs } from "../helpers/runtime.ts";

const [mode, ...args] = scriptArgs();
/** A stress child started late on a loaded machine still does this many updates after its deadline. */
const MIN_UPDATES = 100;
const nap = new Int32Array(new SharedArrayBuffer(4));
const forever = (): never => {
  for (;;) Atomics.wait(nap, 0, 0, 1000);
};
const words = (segHandle: string, base: number): Int32Array =>
  new Int32Array(api.SharedMemory.fromHandle(segHandle).bytes.buffer, base, JOURNAL_BYTES / 4);
const tid = (): number => {
  // the Linux tid of this (main) thread is the pid
  return pid();
};

switch (mode) {
  case "hold": {
    const [kind, handle, n] = args;
    if (kind === "mutex") api.Mutex.fromHandle(handle).lock();
    else if (kind === "read") api.RwLock.fromHandle(handle).read();
    else if (kind === "write") api.RwLock.fromHandle(handle).write();
    else if (kind === "sem") api.Semaphore.fromHandle(handle).acquire(Number(n ?? 1));
    else if (kind === "once") {
      api.Once.fromHandle(handle).run(() => {
        console.log(`held ${tid()}`);
        forever();
      });
    } else throw new Error(`unknown kind ${kind}`);
    console.log(`held ${tid()}`);
    forever();
    break;
  }
  case "wait-write": {
    const rw = api.RwLock.fromHandle(args[0]);
    console.log("waiting");
    rw.write();
    console.log("wrote");
    forever();
    break;
  }
  case "count": {
    const m = api.Mutex.fromHandle(args[0]);
    const seg = api.SharedMemory.fromHandle(args[1]);
    const cell = new DataView(seg.bytes.buffer, Number(args[2]), 4);
    for (let i = 0, n = Number(args[3]); i < n; i++) {
      const guard = m.lock();
      cell.setInt32(0, cell.getInt32(0, true) + 1, true); // plain, non-atomic
      guard.unlock();
    }
    console.log("done");
    break;
  }
  case "stress-mutex": {
    const m = api.Mutex.fromHandle(args[0]);
    const w = words(args[1], Number(args[2]));
    const index = Number(args[3]);
    const until = Number(args[4]);
    for (let done = 0; Date.now() < until || done < MIN_UPDATES; done++) {
      let guard;
      try {
        guard = m.lock();
      } catch (e) {
        if (!(e instanceof api.MutexOwnerDiedError)) throw e;
        guard = e.guard;
        repair(w);
      }
      update(w, index);
      guard.unlock();
    }
    console.log("done");
    break;
  }
  case "stress-rwlock": {
    const rw = api.RwLock.fromHandle(args[0]);
    const w = words(args[1], Number(args[2]));
    const index = Number(args[3]);
    const until = Number(args[4]);
    for (let i = 0; Date.now() < until || i < 4 * MIN_UPDATES; i++) {
      let guard;
      const write = i % 4 === 0;
      try {
        guard = write ? rw.write() : rw.read();
      } catch (e) {
        if (!(e instanceof api.RwLockOwnerDiedError)) throw e;
        guard = e.guard; // the write lock, whatever was asked
        repair(w);
        update(w, index);
        guard.unlock();
        continue;
      }
      if (write) update(w, index);
      else check(w);
      guard.unlock();
    }
    console.log("done");
    break;
  }
  case "stress-sem": {
    const s = api.Semaphore.fromHandle(args[0]);
    const w = words(args[1], Number(args[2]));
    const index = Number(args[3]);
    const until = Number(args[4]);
    for (let done = 0; Date.now() < until || done < MIN_UPDATES; done++) {
      try {
        s.acquire();
      } catch (e) {
        if (!(e instanceof api.SemaphoreOwnerDiedError)) throw e;
        Atomics.add(w, J.repairs, e.recovered);
      }
      Atomics.add(w, COUNTS + index, 1);
      for (let i = 0, x = 0; i < 2000; i++) x += i; // hold it a little: kills land inside too
      s.release();
    }
    console.log("done");
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
