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
//   python_peer.ts chan-produce <segment handle> <offset> <n>  makes a Channel (capacity 8, messageSize 32) there,
//       prints its handle, sends "bun:0" … (send, then sendMany in batches of 10), then closes it
//   python_peer.ts chan-consume <channel handle>                receives until closed; prints {count, last, disorder}
//   python_peer.ts map-add <map handle> <n> <keys>             n × fetchAdd(`k${i % keys}`, 1)
//   python_peer.ts rw <rwlock handle> <u32 a> <u32 b> <n>      n rounds: every 4th writes (a += 1, b += 1 under the write
//       lock), the others read (a === b under the read lock); prints how many reads saw a !== b
//   python_peer.ts rw-hold <rwlock handle>                     takes the write lock, prints "locked", spins until killed
import { api, isBun } from "../helpers/api.ts";
type U32 = InstanceType<typeof api.AtomicU32>;
type U64 = InstanceType<typeof api.AtomicU64>;

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const [mode, ...args] = isBun ? g.process.argv.slice(2) : g.Deno.args;
const nap = new Int32Array(new SharedArrayBuffer(4));
const runtimeName = isBun ? "bun" : "deno";

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
  case "chan-produce": {
    const seg = api.SharedMemory.fromHandle(args[0]);
    const ch = new api.Channel(seg, Number(args[1]), { capacity: 8, messageSize: 32 });
    console.log(ch.handle());
    const n = Number(args[2]);
    let i = 0;
    for (; i < n / 2; i++) ch.send(`${runtimeName}:${i}`);
    while (i < n) {
      const batch = [];
      for (let k = 0; k < 10 && i < n; k++, i++) batch.push(`${runtimeName}:${i}`);
      if (ch.sendMany(batch) !== batch.length) throw new Error("sendMany sent fewer");
    }
    ch.close();
    break;
  }
  case "chan-consume": {
    const ch = api.Channel.fromHandle(args[0]);
    let count = 0, disorder = 0, last = "";
    for (;;) {
      let m: string | undefined;
      try {
        m = ch.recvText();
      } catch (e) {
        if (e instanceof api.ChannelClosedError) break;
        throw e;
      }
      if (m === undefined) continue;
      if (m !== `py:${count}`) disorder++;
      count++;
      last = m;
    }
    console.log(JSON.stringify({ count, last, disorder }));
    break;
  }
  case "map-add": {
    const m = api.SharedMap.fromHandle(args[0]);
    const keys = Number(args[2]);
    for (let i = 0, n = Number(args[1]); i < n; i++) m.fetchAdd(`k${i % keys}`, 1);
    break;
  }
  case "rw": {
    const rw = api.RwLock.fromHandle(args[0]);
    const a = api.fromHandle(args[1], api.AtomicU32);
    const b = api.fromHandle(args[2], api.AtomicU32);
    let torn = 0;
    for (let i = 0, n = Number(args[3]); i < n; i++) {
      if (i % 4 === 0) {
        using _w = rw.write();
        a.store(a.load() + 1);
        Atomics.wait(nap, 0, 0, 0.2); // a write that takes a while: a reader let in would see a !== b
        b.store(b.load() + 1);
      } else {
        using _r = rw.read();
        const seen = a.load();
        Atomics.wait(nap, 0, 0, 0.1); // a read that takes a while: a writer let in would change b meanwhile
        if (seen !== b.load()) torn++;
      }
    }
    console.log(String(torn));
    break;
  }
  case "rw-hold": {
    api.RwLock.fromHandle(args[0]).write();
    console.log("locked");
    for (;;) Atomics.wait(nap, 0, 0, 1000);
  }
  case "hold": {
    api.Mutex.fromHandle(args[0]).lock();
    console.log("locked");
    for (;;) Atomics.wait(nap, 0, 0, 1000);
  }
}
