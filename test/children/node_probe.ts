// A child for test/node.test.ts, run by each pinned Node (22, 24, 26) from
// any runtime: what only Node does, checked from inside Node.
//   node_probe.ts exports     every export of the generated ABI binds through the addon; prints the count
//   node_probe.ts smoke       atomics, a worker_threads Worker on a posted descriptor, waitAsync with the
//                             event loop running, a lock; prints JSON
//   node_probe.ts terminate   Workers terminated while their waitAsync is pending on a pool thread; prints "ok"
import { Worker } from "node:worker_threads";
import { api } from "../helpers/api.ts";
import { scriptArgs } from "../helpers/runtime.ts";
import { loadedAddon } from "../../src/native/node_addon.ts";
import { FUNCTIONS, TABLE_EXPORTS, WIDE_EXPORTS } from "../../src/native/abi_generated.ts";

const [mode] = scriptArgs();
// a probe that hangs fails instead
setTimeout(() => {
  console.error(`node_probe ${mode}: no result within 180 s`);
  process.exit(2);
}, 180_000).unref();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A worker_threads Worker running `code` (an ES module) with `data`. */
function worker(code: string, data: unknown): Worker {
  const entry = new URL("../../node.ts", import.meta.url).href;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code.replaceAll("ENTRY", entry))}`), {
    workerData: data,
  });
}

switch (mode) {
  case "exports": {
    api.AtomicU8.create(0); // opens the library through the addon (the version check)
    const addon = loadedAddon()!;
    const names = [
      ...Object.keys(TABLE_EXPORTS),
      ...Object.keys(WIDE_EXPORTS),
      ...Object.values(FUNCTIONS).flatMap((g) =>
        g.platform === "all" || process.platform !== "win32" ? Object.keys(g.exports) : []
      ),
    ];
    for (const name of names) {
      const f = addon.symbol(name, false);
      if (typeof f !== "function" || f.name !== name) throw new Error(`${name}: ${f}`);
    }
    for (const name of Object.keys(FUNCTIONS.wait.exports)) {
      if (typeof addon.symbol(name, true) !== "function") throw new Error(`${name}: no nonblocking form`);
    }
    let refused = "";
    try {
      addon.symbol("sa_u8_load", true);
    } catch (e) {
      refused = (e as Error).message;
    }
    console.log(JSON.stringify({ count: names.length, refused }));
    break;
  }
  case "smoke": {
    const counter = api.AtomicU64.create(0n);
    const flag = api.AtomicI32.create(0);
    const code = `
      import { workerData, parentPort } from "node:worker_threads";
      const { fromDescriptor } = await import("ENTRY");
      const c = fromDescriptor(workerData.counter), f = fromDescriptor(workerData.flag);
      parentPort.once("message", () => {
        for (let i = 0; i < 10000; i++) c.fetchAdd(1n);
        f.store(1);
        f.notify();
        parentPort.postMessage("done");
      });
    `;
    const w = worker(code, { counter: counter.descriptor(), flag: flag.descriptor() });
    // the event loop keeps running while the wait is pending on a pool thread
    let ticks = 0;
    const tick = setInterval(() => ticks++, 5);
    // listen before the Worker can answer: a Node Worker's message with no listener is dropped
    const answered = new Promise((resolve, reject) => (w.once("message", resolve), w.once("error", reject)));
    const pending = flag.waitAsync(0, 60_000); // 0 now: it waits
    w.postMessage("go");
    const woken = await pending;
    const done = await answered;
    clearInterval(tick);
    await w.terminate();
    const timedOut = await api.AtomicI32.create(0).waitAsync(0, 50);
    const m = api.Mutex.create();
    const g = await m.lockAsync();
    const locked = m.tryLock() === null;
    g.unlock();
    console.log(JSON.stringify({ count: counter.load().toString(), woken, done, ticks: ticks > 0, timedOut, locked }));
    break;
  }
  case "terminate": {
    const flag = api.AtomicI32.create(0);
    const code = `
      import { workerData, parentPort } from "node:worker_threads";
      const { fromDescriptor } = await import("ENTRY");
      const f = fromDescriptor(workerData.flag);
      f.waitAsync(0).then(() => parentPort.postMessage("woken"));
      parentPort.postMessage("waiting");
    `;
    for (let i = 0; i < 8; i++) {
      const w = worker(code, { flag: flag.descriptor() });
      await new Promise((resolve, reject) => (w.once("message", resolve), w.once("error", reject)));
      await sleep(i * 3);
      await w.terminate();
    }
    flag.store(1);
    flag.notify();
    await sleep(50);
    console.log("ok");
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
