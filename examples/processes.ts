// Four processes add to one counter in a named shared-memory segment. Each
// child gets the counter as a string handle on its command line.
//
//   bun examples/processes.ts        deno run -A examples/processes.ts
import { execFile } from "node:child_process";
import process from "node:process";
import { AtomicU64, SharedMemory } from "shared-atomic";

const CHILDREN = 4;
const name = `/sa-example-${process.pid}`;

using segment = SharedMemory.create(name, 64); // zero-filled, mode 0600; closed at the end of scope
try {
  const total = new AtomicU64(segment, 0);
  const handle = total.handle(); // "sa1:u64@0:shm:/sa-example-…"

  // the same runtime runs the children: Deno needs `run -A`, Bun nothing
  const runtime = "Deno" in globalThis ? ["run", "-A"] : [];
  const child = new URL("./processes.child.ts", import.meta.url).pathname;
  const outputs = await Promise.all(
    Array.from(
      { length: CHILDREN },
      () =>
        new Promise<string>((resolve, reject) =>
          execFile(
            process.execPath,
            [...runtime, child, handle, "1000"],
            (err, stdout) => err ? reject(err) : resolve(stdout),
          )
        ),
    ),
  );

  console.log(outputs.map((o) => o.trim()).sort().join("\n"));
  console.log(`total: ${total.load()}`);
} finally {
  SharedMemory.unlink(name); // remove the name; our mapping stays valid until closed
}
