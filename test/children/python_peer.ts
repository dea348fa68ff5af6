// A Bun or Deno peer of the Python module's tests (test/python/test_module.py):
//   python_peer.ts count <u64 handle> <mutex handle> <cell handle> <n>
//       n × (u64.fetchAdd(1); under the mutex: cell = cell + 1, a plain load then store)
//   python_peer.ts semaphore <segment handle> <offset> <max>   makes a Semaphore there; prints its handle
//   python_peer.ts try <semaphore handle>                      prints tryAcquire(1) (and releases it)
//   python_peer.ts notify <u32 handle> <delay ms>              after the delay, stores 1 and notifies
//   python_peer.ts hold <mutex handle>                         locks, prints "locked", then spins until killed
//   python_peer.ts done <waitgroup handle> <n>                 n × done()
//   python_peer.ts once <once handle> <u32 handle>             once.run(() => counter.fetchAdd(1)); prints whether it ran
//   python_peer.ts barrier <barrier handle> <rounds>           rounds × wait(); prints how many returned true
import { api, isBun } from "../helpers/api.ts";
type U32 = InstanceType<typeof api.AtomicU32>;
type U64 = InstanceType<typeof api.AtomicU64>;

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const [mode, ...args] = isBun ? g.process.argv.slice(2) : g.Deno.args;
const nap = new Int32Array(new SharedArrayBuffer(4));

switch (mode) {
  case "count": {
    const total = api.fromHandle<U64>(args[0]);
    const m = api.Mutex.fromHandle(args[1]);
    const cell = api.fromHandle<U32>(args[2]);
    for (let i = 0, n = Number(args[3]); i < n; i++) {
      total.fetchAdd(1);
      using _g = m.lock();
      cell.store(cell.load() + 1); // not atomic as a whole: only the mutex makes it exact
    }
    break;
  }
  case "semaphore": {
    const seg = api.SharedMemory.fromHandle(args[0]);
    console.log(new api.Semaphore(seg, Number(args[1]), { max: Number(args[2]) }).handle());
    break;
  }
  case "try": {
    const s = api.Semaphore.fromHandle(args[0]);
    const got = s.tryAcquire(1);
    if (got) s.release(1);
    console.log(String(got));
    break;
  }
  case "notify": {
    const flag = api.fromHandle<U32>(args[0]);
    Atomics.wait(nap, 0, 0, Number(args[1]));
    flag.store(1);
    flag.notify();
    break;
  }
  case "done": {
    const wg = api.WaitGroup.fromHandle(args[0]);
    for (let i = 0, n = Number(args[1]); i < n; i++) wg.done();
    break;
  }
  case "once": {
    const once = api.Once.fromHandle(args[0]);
    const counter = api.fromHandle(args[1], api.AtomicU32);
    console.log(String(once.run(() => void counter.fetchAdd(1))));
    break;
  }
  case "barrier": {
    const b = api.Barrier.fromHandle(args[0]);
    let completed = 0;
    for (let i = 0, n = Number(args[1]); i < n; i++) if (b.wait()) completed++;
    console.log(String(completed));
    break;
  }
  case "hold": {
    api.Mutex.fromHandle(args[0]).lock();
    console.log("locked");
    for (;;) Atomics.wait(nap, 0, 0, 1000);
  }
}
