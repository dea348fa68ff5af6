// A child process for the lock tests; runs in Bun or Deno.
//   sync_child.ts mutex <mutex handle> <segment handle> <cell offset> <count>
//   sync_child.ts hold <mutex handle>          lock, print "locked", then spin forever
//   sync_child.ts once <once handle> <counter handle>
//   sync_child.ts notify <i32 handle> <delay ms>
import { api } from "../helpers/api.ts";
import { scriptArgs } from "../helpers/runtime.ts";

const [mode, ...args] = scriptArgs();
const nap = new Int32Array(new SharedArrayBuffer(4));

switch (mode) {
  case "mutex": {
    const m = api.Mutex.fromHandle(args[0]);
    const seg = api.SharedMemory.fromHandle(args[1]);
    const cell = new DataView(seg.bytes.buffer, Number(args[2]), 4);
    for (let i = 0, n = Number(args[3]); i < n; i++) {
      const guard = m.lock();
      cell.setInt32(0, cell.getInt32(0, true) + 1, true); // plain, non-atomic
      guard.unlock();
    }
    break;
  }
  case "hold": {
    api.Mutex.fromHandle(args[0]).lock();
    console.log("locked");
    for (;;) Atomics.wait(nap, 0, 0, 1000);
  }
  case "once": {
    const o = api.Once.fromHandle(args[0]);
    const counter = api.AtomicU32.fromHandle(args[1]);
    const ran = o.run(() => {
      counter.fetchAdd(1);
      Atomics.wait(nap, 0, 0, 50);
    });
    console.log(ran ? "ran" : "waited");
    break;
  }
  case "notify": {
    const a = api.AtomicI32.fromHandle(args[0]);
    Atomics.wait(nap, 0, 0, Number(args[1]));
    a.store(1);
    console.log(a.notify());
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}

export {};
