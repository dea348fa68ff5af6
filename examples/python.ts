// Python on the same memory, through the C ABI: this program makes a segment
// and an AtomicU64 in it; a Python process maps the segment (/dev/shm) and
// calls the library's sa_u64_fetch_add through ctypes while this one adds too.
// Linux (POSIX shm names live in /dev/shm).
//
//   bun examples/python.ts           deno run -A examples/python.ts
import { execFile } from "node:child_process";
import process from "node:process";
import { AtomicU64, libraryPath, SharedMemory } from "shared-atomic";

const name = `/sa-example-py-${process.pid}`;
using segment = SharedMemory.create(name, 4096);
try {
  const counter = new AtomicU64(segment, 0);
  const script = new URL("./python.child.py", import.meta.url).pathname;
  const python = new Promise<string>((resolve, reject) =>
    execFile("python3", [script, name, libraryPath(), "5000"], (err, out) => err ? reject(err) : resolve(out))
  );
  for (let i = 0; i < 5000; i++) counter.fetchAdd(1);
  console.log((await python).trim());
  console.log(`total: ${counter.load()}`);
} finally {
  SharedMemory.unlink(name);
}
