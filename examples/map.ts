// A rate limiter shared by three processes: a SharedMap in a named segment
// counts requests per client in fixed one-minute windows (fetchAdd with a
// ttlMs creates the window's counter on the first request). Each child sends
// 50 requests from the same client at the same time; exactly 100 of the 150
// get through, whichever process sends them.
//
//   bun examples/map.ts        deno run -A examples/map.ts
import { execFile } from "node:child_process";
import process from "node:process";
import { SharedMap, SharedMemory } from "shared-atomic";

const options = { capacity: 10_000, keySize: 40, valueSize: 8 };
const name = `/sa-example-map-${process.pid}`;

using segment = SharedMemory.create(name, SharedMap.byteLength(options));
try {
  const limits = new SharedMap(segment, 0, options);
  const runtime = "Deno" in globalThis ? ["run", "-A"] : [];
  const child = new URL("./map.child.ts", import.meta.url).pathname;
  const outputs = await Promise.all(
    [1, 2, 3].map(() =>
      new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [...runtime, child, limits.handle(), "50"],
          (err, out) => err ? reject(err) : resolve(out),
        )
      )
    ),
  );
  const allowed = outputs.reduce((sum, o) => sum + Number(o.trim()), 0);
  console.log(`requests: 150, allowed: ${allowed}, refused: ${150 - allowed}`);
  console.log(`the window's counter: ${limits.fetchAdd("203.0.113.7", 0)}`);
  console.log(`clients in the map: ${limits.size}`);
} finally {
  SharedMemory.unlink(name);
}
