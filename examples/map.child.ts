// A child of map.ts: opens the map from its handle and sends requests
// through the limiter; prints how many were allowed.
import process from "node:process";
import { SharedMap } from "shared-atomic";

const [handle, requests] = process.argv.slice(-2);
const limits = SharedMap.fromHandle(handle);

/** At most 100 requests a minute per client, across every process. */
function allow(client: string): boolean {
  return limits.fetchAdd(client, 1, { ttlMs: 60_000 }) < 100;
}

let allowed = 0;
for (let i = 0; i < Number(requests); i++) if (allow("203.0.113.7")) allowed++;
console.log(allowed);
