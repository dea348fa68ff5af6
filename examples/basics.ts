// What the built-in Atomics lacks: floats, min/max, op-then-fetch, memory
// orders, and 64-bit integers without BigInt.
//
//   bun examples/basics.ts           deno run -A examples/basics.ts
import { AtomicBool, AtomicF64, AtomicI32, AtomicU64 } from "shared-atomic";

const total = AtomicF64.create(0); // its own 8-byte SharedArrayBuffer
console.log(total.fetchAdd(0.5)); // 0: the old value
console.log(total.maxFetch(3)); // 3: the new value
console.log(total.minFetch(-1.25)); // -1.25

const left = AtomicU64.create(2n ** 63n - 1n);
console.log(left.subFetch(100n)); // bigint in, bigint out: the full 64-bit range
console.log(left.fetchAdd(1)); // number in, number out (rounded beyond 2^53, like Number(bigint))

const flags = AtomicI32.create(0b0101);
console.log(flags.fetchNand(0b0110, "acq_rel")); // 5, then ~(5 & 6) = -5
console.log(flags.load("acquire")); // -5

const ready = AtomicBool.create(false);
console.log(ready.compareAndSet(false, true)); // true: this call wrote it
console.log(ready.compareAndSet(false, true)); // false: it was already true
