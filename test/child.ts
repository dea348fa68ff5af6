// A child process for the cross-process tests; runs in Bun or Deno.
//   child.ts sub <handle> <count>            count × subFetch(100n)
//   child.ts add <handle> <count> [gate]     (wait for the gate), count × fetchAdd(1)
//   child.ts cas <gate> <handle> <count>     wait for the gate, count × compareAndSet(0xA, 0xB); prints wins
//   child.ts loop <total> <slot>             forever: total.fetchAdd(1), then slot.fetchAdd(1)
const isBun = "Bun" in globalThis;
const entry = isBun ? "../bun.ts" : "../mod.ts";
const api: typeof import("../src/index.ts") = await import(entry);
type U64 = InstanceType<typeof api.AtomicU64>;
type U32 = InstanceType<typeof api.AtomicU32>;

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const [mode, ...args] = isBun ? g.process.argv.slice(2) : g.Deno.args;
const nap = new Int32Array(new SharedArrayBuffer(4));

/** Counts this process in (low 16 bits), then waits until the parent adds 0x10000. */
function waitAtGate(gate: U32): void {
  gate.fetchAdd(1, "acq_rel");
  while (gate.load() < 0x10000) Atomics.wait(nap, 0, 0, 1);
}

switch (mode) {
  case "sub": {
    const a = api.fromHandle<U64>(args[0]);
    for (let i = 0, n = Number(args[1]); i < n; i++) a.subFetch(100n);
    break;
  }
  case "add": {
    const a = api.fromHandle<U64>(args[0]);
    if (args[2]) waitAtGate(api.fromHandle<U32>(args[2]));
    for (let i = 0, n = Number(args[1]); i < n; i++) a.fetchAdd(1);
    break;
  }
  case "cas": {
    const a = api.fromHandle<U32>(args[1]);
    waitAtGate(api.fromHandle<U32>(args[0]));
    let wins = 0;
    for (let i = 0, n = Number(args[2]); i < n; i++) if (a.compareAndSet(0xA, 0xB)) wins++;
    console.log(String(wins));
    break;
  }
  case "loop": {
    const total = api.fromHandle<U64>(args[0]);
    const mine = api.fromHandle<U64>(args[1]);
    for (;;) {
      total.fetchAdd(1);
      mine.fetchAdd(1);
    }
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}

export {};
