// The seed's scenarios on Workers, with exact results.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { onWorkers } from "./helpers/workers.ts";

const { AtomicU64, AtomicI64, AtomicF64, AtomicU32 } = api;

/** Splits `total` operations over `n` Workers. */
const split = (total: number, n: number) =>
  Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));

test("10,000 subFetch(100n) on an AtomicU64 from 2^63-1 over 8 Workers ends at exactly 2^63-1-1,000,000", async () => {
  const a = AtomicU64.create(2n ** 63n - 1n);
  const done = await onWorkers(8, { job: "subFetch", descriptor: a.descriptor(), count: 0 }, split(10_000, 8));
  assert.equal(done.reduce((x, y) => x + y), 10_000);
  assert.equal(a.load(), 2n ** 63n - 1n - 1_000_000n);
});

test("10,000 addFetch(100n) on an AtomicI64 from 0 over 8 Workers ends at exactly 1,000,000", async () => {
  const a = AtomicI64.create(0n);
  await onWorkers(8, { job: "addFetch", descriptor: a.descriptor(), count: 0 }, split(10_000, 8));
  assert.equal(a.load(), 1_000_000n);
});

test("the number path under contention: 100,000 addFetch(100) over 8 Workers ends at exactly 10,000,000", async () => {
  const a = AtomicI64.create(0);
  await onWorkers(8, { job: "addFetchNumber", descriptor: a.descriptor(), count: 12_500 });
  assert.equal(a.loadNumber(), 10_000_000);
});

test("a 10,000-attempt compareAndSet race from A to B over 8 Workers has exactly one winner", async () => {
  const a = AtomicU32.create(0xA);
  const wins = await onWorkers(8, { job: "cas", descriptor: a.descriptor(), count: 0 }, split(10_000, 8));
  assert.equal(wins.reduce((x, y) => x + y), 1);
  assert.equal(a.load(), 0xB);
});

test("1,000,000 fetchAdd(1.0) on an AtomicF64 over 4 Workers ends at exactly 1,000,000", async () => {
  const a = AtomicF64.create(0);
  await onWorkers(4, { job: "fetchAddF64", descriptor: a.descriptor(), count: 250_000 });
  assert.equal(a.load(), 1_000_000);
});

test("an atomic at an offset in a larger buffer reaches a Worker through postMessage", async () => {
  const sab = new SharedArrayBuffer(64);
  const a = new AtomicU64(sab, 40);
  a.store(2n ** 63n - 1n);
  await onWorkers(2, { job: "subFetch", descriptor: a.descriptor(), count: 5 });
  assert.equal(new BigUint64Array(sab)[5], 2n ** 63n - 1n - 1_000n);
  assert.deepEqual([...new BigUint64Array(sab)].filter((_, i) => i !== 5), [0n, 0n, 0n, 0n, 0n, 0n, 0n]);
});
