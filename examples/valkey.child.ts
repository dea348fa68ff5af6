// One of examples/valkey.ts's two processes: argv is the server's URL and the key prefix.
import process from "node:process";
import { ValkeyStore } from "shared-atomic/valkey";

const [url, prefix] = "Deno" in globalThis ? Deno.args : process.argv.slice(2);
await using store = await ValkeyStore.connect(url, { prefix });
const counter = store.atomicI64("counter");
const lock = store.mutex("transfer", { leaseMs: 5000 });
const [a, b] = [store.atomicI64("a"), store.atomicI64("b")];

for (let i = 0; i < 100; i++) await counter.fetchAdd(1); // one atomic INCRBY each
for (let i = 0; i < 100; i++) {
  await using _held = await lock.lockAsync(); // one holder at a time, on any machine
  await a.store((await a.load()) - 1n); // two keys updated together: only safe under the lock
  await b.store((await b.load()) + 1n);
}
console.log("child done: 100 adds, 100 locked transfers");
