// A Bun or Deno peer of the Python module's wide-value tests (test/python/test_module_wide.py):
//   python_wide_peer.ts swap <i128 handle> <u128 handle> <bytes handle> <str handle>
//       prints the four values as JSON (bigints and bytes as strings: decimal, hex), then stores
//       -(2^127) + 7, 2^128 - 2, bytes 0xa5 0x5a … and "héllo" (a str8 and wider) for Python to read
//   python_wide_peer.ts u128-add <u128 handle> <n> <step>   n × fetchAdd(step)
//   python_wide_peer.ts bytes-inc <bytes16 handle> <n>       n × (a compareAndSet loop adding 1 to the 16 bytes as a
//       little-endian integer); prints how many compareAndSet calls lost
//   python_wide_peer.ts ping <str handle> <rounds>           the Bun side of a relay: rounds × (wait until the
//       string is `py<i>`, then compareAndSet(`py<i>`, `bun<i>`)); prints how many compareAndSet calls won
import { api, isBun } from "../helpers/api.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const [mode, ...args] = isBun ? g.process.argv.slice(2) : g.Deno.args;
const nap = new Int32Array(new SharedArrayBuffer(4));
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Backs off after a run of failed tries: the other side may not be scheduled on a loaded machine. */
function backOff(tries: number): void {
  if (tries % 64 === 63) Atomics.wait(nap, 0, 0, 1);
}

switch (mode) {
  case "swap": {
    const i = api.AtomicI128.fromHandle(args[0]);
    const u = api.AtomicU128.fromHandle(args[1]);
    const b = api.AtomicBytes.fromHandle(args[2]);
    const s = api.AtomicString.fromHandle(args[3]);
    console.log(JSON.stringify({ i: String(i.load()), u: String(u.load()), b: hex(b.load()), s: s.load() }));
    i.store(-(2n ** 127n) + 7n);
    u.store(2n ** 128n - 2n);
    b.store(Uint8Array.from({ length: b.width }, (_, k) => (k % 2 ? 0x5a : 0xa5)));
    s.store("héllo");
    break;
  }
  case "u128-add": {
    const u = api.AtomicU128.fromHandle(args[0]);
    const step = BigInt(args[2]);
    for (let k = 0, n = Number(args[1]); k < n; k++) u.fetchAdd(step);
    break;
  }
  case "bytes-inc": {
    const b = api.AtomicBytes.fromHandle(args[0]);
    const cur = new Uint8Array(16);
    let lost = 0;
    for (let k = 0, n = Number(args[1]); k < n; k++) {
      for (let tries = 0;; tries++) {
        b.loadInto(cur);
        const next = cur.slice();
        for (let j = 0; j < 16; j++) { // + 1, carrying byte to byte
          next[j] = (next[j] + 1) & 0xff;
          if (next[j] !== 0) break;
        }
        if (b.compareAndSet(cur, next)) break;
        lost++;
        backOff(tries);
      }
    }
    console.log(String(lost));
    break;
  }
  case "ping": {
    const s = api.AtomicString.fromHandle(args[0]);
    let won = 0;
    for (let k = 0, n = Number(args[1]); k < n; k++) {
      for (let tries = 0; !s.compareAndSet(`py${k}`, `bun${k}`); tries++) backOff(tries);
      won++;
    }
    console.log(String(won));
    break;
  }
  default:
    throw new Error(`python_wide_peer.ts: unknown mode ${mode}`);
}
