// Two processes share a counter and a lock through a Valkey server: the same
// code as with shared memory, but the processes could be on two machines.
// Each child adds to the counter 100 times, and 100 times takes the lock to
// update two keys together.
//
//   VALKEY_URL=redis://127.0.0.1:6379 bun examples/valkey.ts
//   VALKEY_URL=redis://127.0.0.1:6379 deno run -A examples/valkey.ts
// (without VALKEY_URL it starts the valkey-server that `node scripts/setup.mjs` installs)
import { execFile } from "node:child_process";
import process from "node:process";
import { ValkeyStore } from "shared-atomic/valkey";
import { valkey } from "./valkey.server.ts";

await using server = await valkey();
const prefix = `example-${process.pid}:`; // this run's own keys
await using store = await ValkeyStore.connect(server.url, { prefix });

const runtime = "Deno" in globalThis ? ["run", "-A"] : [];
const child = new URL("./valkey.child.ts", import.meta.url).pathname;
const outputs = await Promise.all(
  [1, 2].map(() =>
    new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [...runtime, child, server.url, prefix],
        (err, out) => err ? reject(err) : resolve(out),
      )
    )
  ),
);
console.log(outputs.map((o) => o.trim()).join("\n"));
console.log(`counter: ${await store.atomicI64("counter").load()}`);
const [a, b] = [await store.atomicI64("a").load(), await store.atomicI64("b").load()];
console.log(`a + b = ${a + b} (moved ${b} under the lock)`);
const guard = await store.mutex("transfer").lockAsync();
console.log(`next fencing token: ${guard.fencingToken}`); // 200 acquisitions before this one
await guard.unlock();
