// Across processes, for real: children of this runtime (Bun.spawn /
// Deno.Command / child_process), of the other runtimes and Python on one segment at once,
// and a child killed with SIGKILL mid-loop. Every result is exact.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { arrived, childIn, Children, python, run, runAll, self, start } from "./helpers/spawn.ts";
import { RUNTIMES } from "./helpers/runtime.ts";
import { uniqueName } from "./helpers/names.ts";

const { AtomicU32, AtomicU64, SharedMemory } = api;

test("the seed's scenario on 100 processes: 10,000 subFetch(100n) from 2^63-1 end at exactly 2^63-1-1,000,000", async () => {
  using seg = SharedMemory.create(uniqueName(), 64);
  try {
    const a = new AtomicU64(seg, 8);
    a.store(2n ** 63n - 1n);
    await runAll(Array.from({ length: 100 }, () => self("sub", a.handle(), "100")));
    assert.equal(a.load(), 2n ** 63n - 1n - 1_000_000n);
  } finally {
    seg.unlink();
  }
});

test("a 10,000-attempt compareAndSet race across 20 processes has exactly one winner", async () => {
  using seg = SharedMemory.create(uniqueName(), 64);
  try {
    const gate = new AtomicU32(seg, 0);
    const a = new AtomicU32(seg, 4);
    a.store(0xA);
    const children = Array.from({ length: 20 }, () => run(self("cas", gate.handle(), a.handle(), "500")));
    while ((gate.load() & 0xffff) < 20) await new Promise((r) => setTimeout(r, 5));
    gate.fetchAdd(0x10000); // go
    const outputs = await Promise.all(children);
    const wins = outputs.map((o) => Number(o.trim()));
    assert.ok(wins.every(Number.isInteger), `children printed ${JSON.stringify(outputs)}`);
    assert.equal(wins.reduce((x, y) => x + y), 1);
    assert.equal(a.load(), 0xB);
  } finally {
    seg.unlink();
  }
});

test("Bun, Deno, Node and Python processes on one segment at the same time: every increment counted", async () => {
  using seg = SharedMemory.create(uniqueName(), 4096);
  try {
    const a = new AtomicU64(seg, 2048);
    const gate = new AtomicU32(seg, 0);
    const N = "100000";
    await using kids = new Children();
    // two children of each runtime (this one first), and Python
    const jobs = [
      ...RUNTIMES.flatMap((r) => [0, 1].map(() => kids.run(childIn(r, "add", a.handle(), N, gate.handle())))),
      kids.run(python("./child.py", seg.name, "2048", N, "0")),
    ];
    await arrived(() => (gate.load() & 0xffff) >= jobs.length, jobs);
    gate.fetchAdd(0x10000); // all of them start at once
    for (let i = 0; i < 100000; i++) a.fetchAdd(1); // and this process too
    await Promise.all(jobs);
    assert.equal(a.loadNumber(), (jobs.length + 1) * 100000);
  } finally {
    seg.unlink();
  }
});

test("a child killed with SIGKILL mid-loop leaves the segment usable and its completed operations counted", async () => {
  using seg = SharedMemory.create(uniqueName(), 64);
  try {
    const total = new AtomicU64(seg, 0);
    const slots = [new AtomicU64(seg, 8), new AtomicU64(seg, 16)];
    const victim = start(self("loop", total.handle(), slots[0].handle()));
    const survivor = run(self("add", slots[1].handle(), "50000"));
    while (slots[0].loadNumber() < 20000) await new Promise((r) => setTimeout(r, 5));
    victim.kill("SIGKILL");
    const { code } = await victim.done;
    assert.equal(code, null, "killed by a signal");
    await survivor;
    const mine = slots[0].loadNumber();
    // the victim adds to total, then to its own slot: a kill between the two
    // leaves total one ahead; never behind, never more
    const t = total.loadNumber();
    assert.ok(t === mine || t === mine + 1, `total ${t}, victim's count ${mine}`);
    assert.equal(slots[1].loadNumber(), 50000);
    // still usable, from this process and from a new one
    total.store(0);
    await run(self("add", total.handle(), "1000"));
    assert.equal(total.loadNumber(), 1000);
  } finally {
    seg.unlink();
  }
});
