// Wide values under contention: races on Workers and across processes with
// exact results, and torn reads never seen.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { onGatedWorkers } from "./helpers/workers.ts";
import { uniqueName } from "./helpers/names.ts";
import { run as runCommand, self } from "./helpers/spawn.ts";
import type { ReadResult, WideJob } from "./workers/wide_worker.ts";
import { U128_MAX } from "./helpers/wide.ts";

const { AtomicU128, AtomicBytes, AtomicString } = api;
const { SharedMemory } = api;
// deno-lint-ignore no-explicit-any
type Any = any;

// ---- Workers ---------------------------------------------------------------------------

/** Splits `total` operations over `n` Workers. */
const split = (total: number, n: number) =>
  Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));

/** Runs a job on one Worker per entry of `jobs` (test/workers/wide_worker.ts), all released at once; their results in order. */
const onWorkers = <R>(jobs: Omit<WideJob, "gate">[]) => onGatedWorkers<R>("./wide_worker.ts", jobs);

const job = (job: WideJob["job"], descriptor: unknown, count: number, values: [bigint, bigint] = [0n, 0n]) => ({
  job,
  descriptor,
  count,
  values,
});

test("a 10,000-attempt compareAndSet race on an AtomicU128 over 8 Workers has exactly one winner", async () => {
  const from = (1n << 100n) + 0xan, to = (1n << 64n) + 0xbn;
  const a = AtomicU128.create(from);
  const wins = await onWorkers<number>(split(10_000, 8).map((n) => job("cas128", a.descriptor(), n, [from, to])));
  assert.equal(wins.reduce((x, y) => x + y), 1);
  assert.equal(a.load(), to);
});

test('a 10,000-attempt compareAndSet("ab", "cd") race on an AtomicString over 8 Workers has exactly one winner', async () => {
  const s = AtomicString.create(16, "ab");
  const wins = await onWorkers<number>(split(10_000, 8).map((n) => job("casStr", s.descriptor(), n)));
  assert.equal(wins.reduce((x, y) => x + y), 1);
  assert.equal(s.load(), "cd");
});

test("1,000,000 fetchAdd(1n) on an AtomicU128 from 2^64-10 over 4 Workers ends exact, across the 64-bit boundary", async () => {
  const start = (1n << 64n) - 10n;
  const a = AtomicU128.create(start);
  await onWorkers<number>(split(1_000_000, 4).map((n) => job("add128", a.descriptor(), n)));
  assert.equal(a.load(), start + 1_000_000n);
  assert.deepEqual([...new BigUint64Array(a.memory as SharedArrayBuffer)], [999_990n, 1n]);
});

const PATTERN_A = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210n;
const PATTERN_B = PATTERN_A ^ U128_MAX;

test("torn reads never happen: a reader Worker sees only written values over 1,000,000 alternating 16-byte writes", async () => {
  const a = AtomicU128.create();
  const [reads] = await onWorkers<ReadResult | number>([
    job("read128", a.descriptor(), 0, [PATTERN_A, PATTERN_B]),
    job("write128", a.descriptor(), 1_000_000, [PATTERN_A, PATTERN_B]),
  ]) as [ReadResult, number];
  assert.equal(reads.torn, 0, `torn value seen: ${reads.example}`);
  assert.ok(
    reads.loads >= 10_000 && reads.a > 0 && reads.b > 0,
    `the reader saw both patterns (${JSON.stringify(reads)})`,
  );
});

test("torn reads never happen on an AtomicBytes(16) either (200,000 alternating writes)", async () => {
  const b = AtomicBytes.create(16);
  const [reads] = await onWorkers<ReadResult | number>([
    job("readBytes", b.descriptor(), 0, [PATTERN_A, PATTERN_B]),
    job("writeBytes", b.descriptor(), 200_000, [PATTERN_A, PATTERN_B]),
  ]) as [ReadResult, number];
  assert.equal(reads.torn, 0, `torn value seen: ${reads.example}`);
  assert.ok(
    reads.loads >= 10_000 && reads.a > 0 && reads.b > 0,
    `the reader saw both patterns (${JSON.stringify(reads)})`,
  );
});

test("wide atomics in a SharedMemory reach Workers through their descriptors", async () => {
  const name = uniqueName();
  const seg = SharedMemory.create(name, 64);
  try {
    const a = new AtomicU128(seg, 16);
    const s = new AtomicString(seg, 0, 8);
    a.store(U128_MAX - 1000n);
    s.store("ab");
    const [adds, , wins] = await onWorkers<number>([
      job("add128", a.descriptor(), 600),
      job("add128", a.descriptor(), 600),
      job("casStr", s.descriptor(), 100),
      job("casStr", s.descriptor(), 100),
    ]);
    assert.equal(adds, 600);
    assert.equal(a.load(), 199n, "wrapped past 2^128-1");
    assert.equal(s.load(), "cd");
    assert.ok(wins === 0 || wins === 1);
  } finally {
    seg.close();
    seg.unlink();
  }
});

// ---- processes -------------------------------------------------------------------------

test("across processes: children add to an AtomicU128 and race on an AtomicString in a SharedMemory, exact", async () => {
  using seg = SharedMemory.create(uniqueName(), 64);
  try {
    const gate = new api.AtomicU32(seg, 0);
    const s = new AtomicString(seg, 16, 16);
    const a = new AtomicU128(seg, 32);
    const start = (1n << 64n) - 5_000n;
    a.store(start);
    s.store("ab");
    const n = 3, count = 5_000;
    const children = Array.from(
      { length: n },
      () => runCommand(self("wide", gate.handle(), a.handle(), s.handle(), String(count))),
    );
    while ((gate.load() & 0xffff) < n) await new Promise((r) => setTimeout(r, 5));
    gate.fetchAdd(0x10000); // all start at once
    const wins = (await Promise.all(children)).map((o) => Number(o.trim()));
    assert.equal(wins.reduce((x, y) => x + y), 1, `one winner (${wins})`);
    assert.equal(s.load(), "cd");
    assert.equal(a.load(), start + BigInt(n * count));
  } finally {
    seg.unlink();
  }
});
