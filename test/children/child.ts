// A child process for the cross-process tests; runs in Bun or Deno.
//   child.ts sub <handle> <count>            count × subFetch(100n)
//   child.ts add <handle> <count> [gate]     (wait for the gate), count × fetchAdd(1)
//   child.ts cas <gate> <handle> <count>     wait for the gate, count × compareAndSet(0xA, 0xB); prints wins
//   child.ts loop <total> <slot>             forever: total.fetchAdd(1), then slot.fetchAdd(1)
//   child.ts wide <gate> <u128> <str> <count>  wait for the gate, then count × (u128.fetchAdd(1n),
//                                            str.compareAndSet("ab", "cd")); prints wins
//   child.ts wide-unavailable                prints which wide classes construct (JSON)
import { api } from "../helpers/api.ts";
import { scriptArgs } from "../helpers/runtime.ts";
type U64 = InstanceType<typeof api.AtomicU64>;
type U32 = InstanceType<typeof api.AtomicU32>;

const [mode, ...args] = scriptArgs();
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
  case "wide": {
    const a = api.AtomicU128.fromHandle(args[1]);
    const s = api.AtomicString.fromHandle(args[2]);
    waitAtGate(api.fromHandle<U32>(args[0]));
    let wins = 0;
    for (let i = 0, n = Number(args[3]); i < n; i++) {
      a.fetchAdd(1n);
      if (s.compareAndSet("ab", "cd")) wins++;
    }
    console.log(wins);
    break;
  }
  case "wide-unavailable": {
    const out: Record<string, unknown> = {};
    const sab = new SharedArrayBuffer(16);
    const tries: [string, () => { load(): unknown }][] = [
      ["u128", () => new api.AtomicU128(sab)],
      ["i128", () => api.AtomicI128.create()],
      ["bytes16", () => new api.AtomicBytes(sab, 0, 16)],
      ["str16", () => api.AtomicString.create(16)],
      ["str8", () => api.AtomicString.create(8, "ok")],
      ["bytes4", () => api.AtomicBytes.create(4)],
    ];
    let message = "";
    for (const [name, make] of tries) {
      try {
        make().load();
        out[name] = "works";
      } catch (e) {
        out[name] = (e as Error).name;
        message += (e as Error).message;
      }
    }
    out.message = message;
    console.log(JSON.stringify(out));
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}

export {};
