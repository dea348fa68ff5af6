// A Worker for the lock tests: rebuilds primitives from descriptors, waits
// at the start gate, runs one job, posts a number back.
import { api } from "../helpers/api.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
// deno-lint-ignore no-explicit-any
type Any = any;

/** Plain, non-atomic read-modify-write with a little work in between. */
function bump(cell: Int32Array): void {
  const v = cell[0];
  let spin = 0;
  for (let i = 0; i < 20; i++) spin += i;
  cell[0] = v + 1 + (spin & 0);
}

function run(d: Any): number {
  switch (d.job) {
    case "mutex": {
      const m = api.Mutex.from(d.lock);
      const cell = new Int32Array(d.cell);
      for (let i = 0; i < d.count; i++) {
        const g = m.lock();
        bump(cell);
        g.unlock();
      }
      return d.count;
    }
    case "rwlock": {
      // state: [readers inside, writers inside, violations]
      const rw = api.RwLock.from(d.lock);
      const st = new Int32Array(d.cell);
      for (let i = 0; i < d.count; i++) {
        if (i % 8 === 0) {
          using _w = rw.write();
          if (Atomics.add(st, 1, 1) !== 0 || Atomics.load(st, 0) !== 0) Atomics.add(st, 2, 1);
          bump(st.subarray(3));
          Atomics.sub(st, 1, 1);
        } else {
          using _r = rw.read();
          Atomics.add(st, 0, 1);
          if (Atomics.load(st, 1) !== 0) Atomics.add(st, 2, 1);
          Atomics.sub(st, 0, 1);
        }
      }
      return d.count;
    }
    case "semaphore": {
      // state: [inside, most seen inside]
      const s = api.Semaphore.from(d.lock);
      const st = new Int32Array(d.cell);
      for (let i = 0; i < d.count; i++) {
        s.acquire();
        const inside = Atomics.add(st, 0, 1) + 1;
        for (let seen = Atomics.load(st, 1); inside > seen; seen = Atomics.load(st, 1)) {
          if (Atomics.compareExchange(st, 1, seen, inside) === seen) break;
        }
        Atomics.sub(st, 0, 1);
        s.release();
      }
      return d.count;
    }
    case "barrier": {
      // cell[k] = generations worker k has finished; after each wait, every worker has reached this one
      const b = api.Barrier.from(d.lock);
      const st = new Int32Array(d.cell);
      let leaders = 0;
      let stale = 0;
      for (let g = 0; g < d.count; g++) {
        Atomics.store(st, d.index, g + 1);
        if (b.wait()) leaders++;
        for (let k = 0; k < d.parties; k++) if (Atomics.load(st, k) < g + 1) stale++;
      }
      return stale === 0 ? leaders : -1;
    }
    case "once": {
      const o = api.Once.from(d.lock);
      const st = new Int32Array(d.cell);
      const ran = o.run(() => {
        Atomics.add(st, 0, 1);
        Atomics.wait(st, 1, 0, 20); // take a while: the others must wait, not run it
      });
      return (ran ? 1 : 0) + (o.done ? 0 : 100);
    }
  }
  throw new Error(`unknown job ${d.job}`);
}

scope.onmessage = (e: MessageEvent) => {
  const { gate } = e.data;
  Atomics.add(gate, 1, 1);
  Atomics.wait(gate, 0, 0);
  scope.postMessage(run(e.data));
};
scope.postMessage("ready");
