// Run by test/lifetime.test.ts inside a private mount namespace with a 1 MiB
// tmpfs: creating a 16 MiB segment there must be a RangeError up front (the
// backing is reserved at creation), never a SIGBUS on first touch.
import { scriptArgs } from "../helpers/runtime.ts";
const { api } = await import("../helpers/api.ts");
const [path] = scriptArgs();
let result = "created";
try {
  const seg = api.SharedMemory.create({ path }, 16 << 20);
  new api.AtomicU64(seg, (16 << 20) - 8).fetchAdd(1); // SIGBUS here if the backing was not reserved
} catch (e) {
  result = (e as Error).name;
}
let exists = true;
try {
  api.SharedMemory.open({ path });
} catch {
  exists = false;
}
const small = api.SharedMemory.create({ path: `${path}.small` }, 512 << 10);
new api.AtomicU64(small, (512 << 10) - 8).fetchAdd(1);
console.log(`${result}: ${exists ? "left a file" : "created nothing"}; 512 KiB worked`);
export {};
