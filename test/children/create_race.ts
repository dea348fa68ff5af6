// A child process for the create-or-open race test; runs in Bun or Deno.
//   create_race.ts <control handle> <me: 0|1> <count> <name prefix>
// In lock-step with its peer (the control segment holds one progress word
// per process), iteration i makes segment <prefix><i> exist: even i by
// SharedMemory.openOrCreate, odd i by the try-create/catch/open pattern.
// The second of the two to arrive (a counter in the segment) removes it.
// Prints {"created": n, "errors": [...]}.
import { api } from "../helpers/api.ts";
import { scriptArgs } from "../helpers/runtime.ts";

const [control, me, count, prefix] = scriptArgs();
const { AtomicU32, SharedMemory, SharedMemoryExistsError } = api;

const seg = SharedMemory.fromHandle(control);
const mine = new AtomicU32(seg, 4 * Number(me));
const theirs = new AtomicU32(seg, 4 * (1 - Number(me)));

function makeExist(name: string): ReturnType<typeof SharedMemory.open> {
  try {
    return SharedMemory.create(name, 64);
  } catch (e) {
    if (!(e instanceof SharedMemoryExistsError)) throw e;
    return SharedMemory.open(name, 64);
  }
}

let created = 0;
const errors: string[] = [];
for (let i = 0, n = Number(count); i < n; i++) {
  // both processes start iteration i together
  mine.store(i + 1);
  mine.notify();
  for (let v = theirs.load(); v < i + 1; v = theirs.load()) theirs.wait(v, 100);
  const name = `${prefix}${i}`;
  try {
    const s = i % 2 === 0 ? SharedMemory.openOrCreate(name, 64) : makeExist(name);
    if (s.created) created++;
    if (new AtomicU32(s, 0).fetchAdd(1) === 1) s.unlink();
    s.close();
  } catch (e) {
    const err = e as { name?: string; code?: string; message?: string };
    errors.push(`${i}: ${err.name} ${err.code}: ${err.message}`);
    if (errors.length > 20) break;
  }
}
mine.store(0x7fffffff); // done: never hold the peer up
mine.notify();
console.log(JSON.stringify({ created, errors }));
