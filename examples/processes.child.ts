// A child of processes.ts: opens the segment named in the handle and adds.
import process from "node:process";
import { type AtomicU64, fromHandle } from "shared-atomic";

const [handle, times] = process.argv.slice(-2);
const total = fromHandle<AtomicU64>(handle); // checks type, offset and alignment
for (let i = 0; i < Number(times); i++) total.fetchAdd(1);
console.log(`child added ${times}`);
