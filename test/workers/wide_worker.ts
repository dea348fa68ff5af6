// A Worker for the wide-value tests: rebuilds an atomic from its descriptor,
// waits at a start gate so all Workers race at once, runs one job, posts the
// result.
import { api } from "../helpers/api.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;

export interface WideJob {
  job: "cas128" | "casStr" | "add128" | "write128" | "read128" | "writeBytes" | "readBytes";
  descriptor: unknown;
  count: number;
  /** cas128: compareAndSet(from, to); write/read: the two patterns (a torn read mixes them) */
  values: [bigint, bigint];
  /** [0]: start signal, [1]: arrivals, [2]: set when the writer is done, [3]: the reader's loads (in thousands) */
  gate: Int32Array;
}

export interface ReadResult {
  loads: number;
  torn: number;
  a: number;
  b: number;
  example?: string;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function bytesOf(v: bigint): Uint8Array {
  const out = new Uint8Array(16);
  new DataView(out.buffer).setBigUint64(0, v & ((1n << 64n) - 1n), true);
  new DataView(out.buffer).setBigUint64(8, v >> 64n, true);
  return out;
}

function run({ job, descriptor, count, values, gate }: WideJob): number | ReadResult {
  const [first, second] = values;
  // deno-lint-ignore no-explicit-any
  const a: any = api.fromDescriptor(descriptor as never);
  let wins = 0;
  switch (job) {
    case "cas128":
      for (let i = 0; i < count; i++) if (a.compareAndSet(first, second)) wins++;
      return wins;
    case "casStr":
      for (let i = 0; i < count; i++) if (a.compareAndSet("ab", "cd")) wins++;
      return wins;
    case "add128":
      for (let i = 0; i < count; i++) a.fetchAdd(1n);
      return count;
    case "write128": {
      // at least `count` writes, and on until the reader has made 10,000
      // loads while this one writes (a busy machine may start it late)
      let i = 0;
      for (; i < count || (Atomics.load(gate, 3) < 10 && i < 50 * count); i++) a.store(i & 1 ? second : first);
      Atomics.store(gate, 2, 1);
      return i;
    }
    case "writeBytes": {
      const pa = bytesOf(first), pb = bytesOf(second);
      let i = 0;
      for (; i < count || (Atomics.load(gate, 3) < 10 && i < 50 * count); i++) a.store(i & 1 ? pb : pa);
      Atomics.store(gate, 2, 1);
      return i;
    }
    case "read128": {
      const r: ReadResult = { loads: 0, torn: 0, a: 0, b: 0 };
      while (Atomics.load(gate, 2) === 0) {
        const v = a.load();
        if ((++r.loads & 1023) === 0) Atomics.add(gate, 3, 1);
        if (v === first) r.a++;
        else if (v === second) r.b++;
        else if (v !== 0n) {
          r.torn++;
          r.example ??= v.toString(16);
        }
      }
      return r;
    }
    case "readBytes": {
      const r: ReadResult = { loads: 0, torn: 0, a: 0, b: 0 };
      const pa = hex(bytesOf(first)), pb = hex(bytesOf(second)), zero = "00".repeat(16);
      const buf = new Uint8Array(16);
      while (Atomics.load(gate, 2) === 0) {
        const v = hex(a.loadInto(buf));
        if ((++r.loads & 1023) === 0) Atomics.add(gate, 3, 1);
        if (v === pa) r.a++;
        else if (v === pb) r.b++;
        else if (v !== zero) {
          r.torn++;
          r.example ??= v;
        }
      }
      return r;
    }
  }
}

scope.onmessage = (e: MessageEvent<WideJob>) => {
  const { gate } = e.data;
  Atomics.add(gate, 1, 1); // arrived
  Atomics.wait(gate, 0, 0); // wait for the start signal
  scope.postMessage(run(e.data));
};
scope.postMessage("ready");
