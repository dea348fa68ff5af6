/**
 * A Worker of bench/map.bench.ts: says it is ready, runs the job it is
 * posted (bench/map_peer.ts `runJob`), posts `{ ok }` or `{ error }`.
 *
 * @module
 */

import { type MapJob, runJob } from "./map_peer.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
scope.onmessage = async (e: MessageEvent<MapJob>) => {
  try {
    await runJob(e.data);
    scope.postMessage({ ok: true });
  } catch (err) {
    scope.postMessage({ error: String((err as Error).stack ?? err) });
  }
};
scope.postMessage({ ready: true });
