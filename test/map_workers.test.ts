// SharedMap across Workers, exact under contention: four Workers each doing
// 100,000 fetchAdd on 1,000 shared keys; writers and readers racing on values
// that carry their own checksum (no torn read ever); iteration while Workers
// churn (every stable key exactly once, every value whole). In Bun and in Deno.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { onGatedWorkers } from "./helpers/workers.ts";
import { checkedValue, whole } from "./helpers/map_jobs.ts";

const { SharedMap } = api;

/** Runs one job per Worker (test/workers/map_worker.ts), all released at once; their results in order. */
const onMapWorkers = (jobs: Record<string, unknown>[], whileRunning?: () => void) =>
  onGatedWorkers<number>("./map_worker.ts", jobs, whileRunning);

test("4 Workers x 100,000 fetchAdd on 1,000 shared keys: every total exact (number and bigint paths)", async () => {
  const m = SharedMap.create({ capacity: 1000, keySize: 16, valueSize: 8 });
  const map = m.descriptor();
  const jobs = [0, 1, 2, 3].map((i) => ({
    job: "add",
    map,
    count: 100_000,
    keys: 1000,
    offset: 250 * i,
    bigint: i % 2 === 1,
  }));
  assert.deepEqual(await onMapWorkers(jobs), [100_000, 100_000, 100_000, 100_000]);
  assert.equal(m.size, 1000);
  for (let k = 0; k < 1000; k++) assert.equal(m.fetchAdd(`key${k}`, 0n), 400n, `key${k}`);
});

test("writers and readers race on checksummed values: no torn read, ever", async () => {
  // large values on few keys: a long copy, often overlapped by another writer's (a plain copy tears here)
  const m = SharedMap.create({ capacity: 64, keySize: 8, valueSize: 8192 });
  for (let k = 0; k < 4; k++) m.set(`v${k}`, checkedValue(8192, k + 1));
  const map = m.descriptor();
  const torn = await onMapWorkers([
    { job: "write", map, count: 10_000, keys: 4, seed: 1 },
    { job: "write", map, count: 10_000, keys: 4, seed: 2 },
    { job: "read", map, count: 20_000, keys: 4 },
    { job: "read", map, count: 20_000, keys: 4 },
  ]);
  assert.deepEqual(torn, [10_000, 10_000, 0, 0]);
  for (let k = 0; k < 4; k++) assert.ok(whole(m.get(`v${k}`)!));
});

test("iteration during concurrent inserts and deletes: every stable key exactly once, every value whole", async () => {
  // a full table (1,024 slots for 680 entries, up to 650 present): long clusters, so deletes move entries often
  const m = SharedMap.create({ capacity: 680, keySize: 16, valueSize: 32 });
  const stable = Array.from({ length: 300 }, (_, i) => `stable${i}`);
  for (const [i, k] of stable.entries()) m.set(k, checkedValue(32, i + 1));
  const stop = new Int32Array(new SharedArrayBuffer(8)); // [stop, operations done]
  const map = m.descriptor();
  let rounds = 0;
  const ops = await onMapWorkers([
    { job: "churn", map, keys: 350, stop, seed: 1 },
    { job: "churn", map, keys: 350, stop, seed: 2 },
  ], () => {
    // while the Workers insert and delete other keys (backward shifts move entries around)
    const t = performance.now();
    // at least 1.5 s, 20 rounds and 2,000 churn operations (however little CPU the Workers get)
    while (
      performance.now() - t < 1500 || rounds < 20 || (Atomics.load(stop, 1) < 2000 && performance.now() - t < 60_000)
    ) {
      const seen = new Map<string, number>();
      for (const [k, v] of m.entries()) {
        seen.set(k as string, (seen.get(k as string) ?? 0) + 1);
        assert.ok(whole(v), `a whole value for ${k}`);
      }
      for (const k of stable) assert.equal(seen.get(k), 1, `${k} seen once in round ${rounds}`);
      for (const [k, n] of seen) assert.equal(n, 1, `${k} seen ${n} times`);
      for (let again = 0; again < 20; again++) for (const k of stable) assert.equal(m.has(k), true, `has(${k})`);
      rounds++;
    }
    Atomics.store(stop, 0, 1);
  });
  assert.ok(ops[0] + ops[1] >= 2000, `churned: ${ops}`);
  assert.ok(rounds >= 20);
  assert.equal(m.size, [...m.keys()].length);
});
