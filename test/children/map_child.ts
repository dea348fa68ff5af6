// A child process for test/map_processes.test.ts; runs in Bun, Deno or Node.
//   map_child.ts add <map handle> <count> <keys> <gate offset> <bigint 0|1>
//       count in at the gate (AtomicU32: +1, then wait for >= 0x10000), then count x
//       fetchAdd("key<i % keys>", 1); prints "done <count>"
//   map_child.ts victim <map handle> <progress offset> <keys>
//       forever: fetchAdd("kill<i % keys>", 1), then store i + 1 in the AtomicU64 at the progress
//       offset; every other call also sets a checksummed "v<i % 16>"; prints "running" once warm
import { api } from "../helpers/api.ts";
import { scriptArgs } from "../helpers/runtime.ts";
import { addJob, checkedValue } from "../helpers/map_jobs.ts";

const [mode, handle, ...args] = scriptArgs();
const m = api.SharedMap.fromHandle(handle);

switch (mode) {
  case "add": {
    const [count, keys, gateAt, bigint] = args.map(Number);
    const gate = new api.AtomicU32(m.memory, gateAt);
    gate.fetchAdd(1);
    while (gate.load() < 0x10000) gate.wait(gate.load(), 5);
    console.log(`done ${addJob(m, count, keys, 0, bigint === 1)}`);
    break;
  }
  case "victim": {
    const [progressAt, keys] = args.map(Number);
    const progress = new api.AtomicU64(m.memory, progressAt);
    for (let i = 0;; i++) {
      m.fetchAdd(`kill${i % keys}`, 1);
      progress.store(BigInt(i + 1));
      if (i % 2 === 0) m.set(`v${i % 16}`, checkedValue(m.valueSize, i + 1));
      if (i === 2000) console.log("running");
    }
  }
}
