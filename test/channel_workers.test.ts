// Channel between Workers, in both runtimes: 4 producer Workers × 250,000
// numbered messages and 4 consumer Workers (every message exactly once,
// per-producer order kept, with every send and receive form), and close()
// waking Workers blocked in every form at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, isBun } from "./helpers/api.ts";
import { reply, startWorker } from "./helpers/workers.ts";

const { Channel } = api;
// deno-lint-ignore no-explicit-any
type Any = any;

/** Starts a channel Worker (test/workers/channel_worker.ts) and waits until it is ready. */
const worker = () => startWorker("./channel_worker.ts");

test("4 producer Workers × 250,000 messages, 4 consumer Workers: each received exactly once, per-producer order", async () => {
  const count = 250_000;
  const ch = Channel.create({ capacity: 1024, messageSize: 8 });
  const seen = new SharedArrayBuffer(4 * count);
  const ws = await Promise.all(Array.from({ length: 8 }, worker));
  try {
    const channel = ch.descriptor();
    const consumers = ["many", "many", "recv", "iter"].map((mode, i) =>
      reply<Any>(ws[4 + i], { job: "consume", channel, seen, count, mode })
    );
    const producers = ["many", "many", "send", "async"].map((mode, id) =>
      reply<Any>(ws[id], { job: "produce", channel, id, count, mode })
    );
    assert.deepEqual(await Promise.all(producers), [count, count, count, count]);
    ch.close();
    const results = await Promise.all(consumers);
    const total = results.reduce((a, r) => a + r.got, 0);
    assert.equal(total, 4 * count);
    assert.deepEqual(results.map((r) => r.disorder), [0, 0, 0, 0], "per-producer order");
    const counts = new Uint8Array(seen);
    const wrong = counts.findIndex((c) => c !== 1);
    assert.equal(wrong, -1, `message ${wrong} received ${counts[wrong]} times`);
    assert.equal(ch.length, 0);
  } finally {
    for (const w of ws) w.terminate();
  }
});

test("close() wakes every Worker blocked in recv, recvAsync, send and sendAsync at once", async () => {
  const empty = Channel.create({ capacity: 2, messageSize: 8 });
  const full = Channel.create({ capacity: 1, messageSize: 8 });
  full.send("x");
  const modes: [Any, string][] = [
    [empty, "recv"],
    [empty, "recv"],
    [empty, "recvAsync"],
    [full, "send"],
    [full, "send"],
    [full, "sendAsync"],
  ];
  const ws = await Promise.all(modes.map(worker));
  try {
    const started = modes.map(([ch, mode], i) =>
      new Promise<{ result: Promise<Any> }>((resolve) => {
        const w = ws[i];
        const result = new Promise<Any>((done) => {
          w.onmessage = (e) => (e.data.blocking ? resolve({ result }) : done(e.data));
        });
        w.postMessage({ job: "block", channel: ch.descriptor(), mode });
      })
    );
    const results = (await Promise.all(started)).map((s) => s.result);
    await new Promise((r) => setTimeout(r, 100)); // let them all block
    const t = Date.now();
    empty.close();
    full.close();
    for (const r of await Promise.all(results)) {
      assert.equal(r.error, "ChannelClosedError");
      assert.ok(r.at - t < 1000, `woke ${r.at - t} ms after close`);
    }
  } finally {
    for (const w of ws) w.terminate();
  }
});

test("a Worker blocked in recv() with no timeout ends when terminated (Bun) or, in Deno, once the channel closes", async () => {
  const ch = Channel.create({ capacity: 2, messageSize: 8 });
  const event = new Int32Array(ch.memory as SharedArrayBuffer, 20, 1); // the receive event word: top bit while one sleeps
  const w = await worker();
  const result = new Promise<Any>((resolve) => {
    w.onmessage = (e) => e.data.blocking || resolve(e.data);
    w.postMessage({ job: "block", channel: ch.descriptor(), mode: "recv" });
  });
  const deadline = Date.now() + 10_000;
  while (Atomics.load(event, 0) >= 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.ok(Atomics.load(event, 0) < 0, "it sleeps in the native wait");
  w.terminate();
  if (isBun) {
    // a blocking call comes back to JavaScript every 200 ms at most, where the termination takes effect
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(ch.trySend("after"), true);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ch.recvText(0), "after", "the terminated Worker did not take it: it no longer waits");
  } else {
    // Deno does not stop a Worker that keeps calling into native code (an AtomicI32.wait loop neither):
    // closing the channel ends its receive
    ch.close();
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(Atomics.load(event, 0) >= 0, "its receive ended (it would have marked the word again)");
  }
  void result; // a terminated Worker's messages are dropped
});
