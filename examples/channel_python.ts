// A channel from this program to a Python process: Python opens the channel's handle with the
// shared_atomic_js module (python/) and receives until the channel is closed and drained.
//
//   bun examples/channel_python.ts   deno run -A examples/channel_python.ts
import { execFile } from "node:child_process";
import process from "node:process";
import { Channel, libraryPath, SharedMemory } from "shared-atomic";

const name = `/channel-doc-${process.pid}`;
const options = { capacity: 8, messageSize: 64 };
using segment = SharedMemory.create(name, Channel.byteLength(options));
try {
  const ch = new Channel(segment, 0, options);
  const consumer = new URL("./channel_python.child.py", import.meta.url).pathname;
  const python = new Promise<string>((resolve, reject) =>
    execFile(
      "python3",
      [consumer, ch.handle()],
      { env: { ...process.env, SHARED_ATOMIC_LIB: libraryPath() } }, // the library this program uses
      (err, out) => err ? reject(err) : resolve(out),
    )
  );
  for (let i = 1; i <= 100; i++) await ch.sendAsync(`reading ${i}`); // 8 slots: waits for Python to keep up
  ch.close();
  console.log((await python).trim()); // "python received 100, the last: reading 100"
} finally {
  SharedMemory.unlink(name);
}
