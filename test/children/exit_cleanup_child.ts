// A child process for the unlinkOnExit tests; runs in Bun or Deno.
//   exit_cleanup_child.ts <name> <kept name or ""> exit|SIGINT|SIGTERM|recreate
// Creates <name> with { unlinkOnExit: true } (and <kept> without), prints
// "ready", then ends: normally, by sending itself the signal, or (recreate)
// after removing <name> behind the library's back and creating it again
// without the option.
import { unlinkSync } from "node:fs";
import process from "node:process";
import { api } from "../helpers/api.ts";
import { scriptArgs } from "../helpers/runtime.ts";

const [name, kept, how] = scriptArgs();
const { SharedMemory } = api;

SharedMemory.openOrCreate(name, 64, { unlinkOnExit: true });
if (kept) SharedMemory.create(kept, 64);
console.log("ready");
if (how === "recreate") {
  unlinkSync(`/dev/shm${name}`);
  SharedMemory.create(name, 64);
} else if (how !== "exit") {
  setInterval(() => {}, 1000); // stays alive until the signal ends it
  process.kill(process.pid, how);
}
