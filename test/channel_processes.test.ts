// Channel between processes and languages, in both runtimes: Bun producers,
// Deno consumers and a Python consumer on one channel at once (every message
// exactly once, per-producer order kept), and a sender and a receiver
// killed with SIGKILL in the middle of a heavy run (the rest completes;
// nothing is duplicated; at most the message the receiver was taking is lost).
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { uniqueName } from "./helpers/names.ts";
import { type Child, start } from "./helpers/spawn.ts";

const { Channel, SharedMemory } = api;
/** Where the entry found the library (both entries export it; src/index.ts does not). */
const libraryPath = (api as unknown as { libraryPath(): string }).libraryPath;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const bin = new URL("../node_modules/.bin/", import.meta.url).pathname;
const child = new URL("./children/channel_child.ts", import.meta.url).pathname;
const python = new URL("./children/channel_consumer.py", import.meta.url).pathname;
const bun = (...args: string[]) => [`${bin}bun`, child, ...args];
const deno = (...args: string[]) => [`${bin}deno`, "run", "-A", "--no-check", child, ...args];
const self = "Bun" in globalThis ? bun : deno;

/** Waits for a child; throws with its stderr unless it exited with 0. */
async function output(c: Child, what: string): Promise<string> {
  const { code, stdout, stderr } = await c.done;
  if (code !== 0) throw new Error(`${what} exited with ${code}:\n${stderr}`);
  return stdout.trim();
}

/** How many times each message was received, over every consumer's region of `seen`. */
function tally(seen: Uint8Array, consumers: number, size: number): Uint8Array {
  const counts = new Uint8Array(size);
  for (let c = 0; c < consumers; c++) {
    const region = seen.subarray(c * size, (c + 1) * size);
    for (let k = 0; k < size; k++) counts[k] += region[k];
  }
  return counts;
}

test("4 Bun producers × 250,000, 3 Deno consumers and a Python consumer at once: exactly once, in order", async () => {
  const producers = 4, consumers = 4, count = 250_000, size = producers * count;
  const opts = { capacity: 4096, messageSize: 8 };
  const name = uniqueName(), seenName = uniqueName();
  const seg = SharedMemory.create(name, Channel.byteLength(opts));
  const seenSeg = SharedMemory.create(seenName, consumers * size);
  try {
    const ch = new Channel(seg, 0, opts);
    const h = ch.handle();
    const readers = [
      start(deno("consume", h, seenName, "0", String(count), "many")),
      start(deno("consume", h, seenName, String(size), String(count), "recv")),
      start(deno("consume", h, seenName, String(2 * size), String(count), "into")),
      start(["python3", python, libraryPath(), name, seenName, String(3 * size), String(count)]),
    ];
    const writers = ["many", "many", "many", "send"].map((how, id) =>
      start(bun("produce", h, String(id), String(count), how))
    );
    for (const [i, w] of writers.entries()) assert.equal(await output(w, `producer ${i}`), `sent ${count}`);
    ch.close();
    const results = await Promise.all(readers.map((r, i) => output(r, `consumer ${i}`).then((s) => JSON.parse(s))));
    assert.equal(results.reduce((a, r) => a + r.got, 0), size);
    assert.deepEqual(results.map((r) => r.disorder), [0, 0, 0, 0], "per-producer order");
    assert.ok(results[3].got > 0, "the Python consumer received some");
    const counts = tally(seenSeg.bytes, consumers, size);
    const wrong = counts.findIndex((c) => c !== 1);
    assert.equal(wrong, -1, `message ${wrong} received ${counts[wrong]} times`);
  } finally {
    seg.close();
    seenSeg.close();
    SharedMemory.unlink(name);
    SharedMemory.unlink(seenName);
  }
});

test("SIGKILL of a sender and of a receiver mid-run: the rest completes, nothing duplicated, at most one lost", async () => {
  const producers = 3, consumers = 3, count = 100_000, size = producers * count;
  const opts = { capacity: 64, messageSize: 8 };
  const name = uniqueName(), seenName = uniqueName();
  const seg = SharedMemory.create(name, Channel.byteLength(opts));
  const seenSeg = SharedMemory.create(seenName, consumers * size);
  const all: Child[] = [];
  try {
    const ch = new Channel(seg, 0, opts);
    const h = ch.handle();
    const seen = seenSeg.bytes;
    const readers = ["recv", "many", "recv"].map((how, c) =>
      start(self("consume", h, seenName, String(c * size), String(count), how))
    );
    const writers = ["send", "many", "send"].map((how, id) =>
      start(self("produce", h, String(id), String(count), how))
    );
    all.push(...readers, ...writers);
    // consumer 2 and producer 2 are the victims: killed once they are well into the run
    const progress = (from: number, to: number) => seen.subarray(from, to).reduce((a, b) => a + b, 0);
    const deadline = performance.now() + 60_000;
    while (progress(2 * size, 3 * size) < 5_000 && performance.now() < deadline) await sleep(2);
    readers[2].kill("SIGKILL");
    while (progress(2 * count, 3 * count) + progress(size + 2 * count, size + 3 * count) < 20_000) await sleep(2);
    writers[2].kill("SIGKILL");
    const t = performance.now();
    for (const i of [0, 1]) assert.equal(await output(writers[i], `producer ${i}`), `sent ${count}`);
    ch.close();
    for (const i of [0, 1]) assert.equal(JSON.parse(await output(readers[i], `consumer ${i}`)).disorder, 0);
    const after = performance.now() - t;
    assert.equal((await readers[2].done).code, null, "the receiver was killed");
    assert.equal((await writers[2].done).code, null, "the sender was killed (before it finished)");
    const counts = tally(seen, consumers, size);
    assert.equal(counts.findIndex((c) => c > 1), -1, "nothing delivered twice");
    // the killed sender's messages are a prefix (the one it was writing is dropped, never half-delivered)
    let sent2 = count;
    while (sent2 > 0 && counts[2 * count + sent2 - 1] === 0) sent2--;
    assert.ok(sent2 < count, `the killed sender finished (${sent2}) before it was killed`);
    let lost = 0;
    for (let k = 0; k < 2 * count + sent2; k++) if (counts[k] === 0) lost++;
    assert.ok(lost <= 1, `${lost} messages lost; a killed receiver may lose only the one it was taking`);
    assert.ok(after < 60_000, `the survivors took ${after} ms after the kills`);
  } finally {
    for (const c of all) {
      try {
        c.kill("SIGKILL");
      } catch { /* already exited */ }
    }
    seg.close();
    seenSeg.close();
    SharedMemory.unlink(name);
    SharedMemory.unlink(seenName);
  }
});

test("a storm of kills: senders and receivers killed at random moments, one after another; nothing duplicated", async () => {
  const rounds = 6, producers = 1 + rounds, consumers = 1 + rounds, count = 30_000, size = producers * count;
  const opts = { capacity: 4, messageSize: 8 };
  const name = uniqueName(), seenName = uniqueName();
  const seg = SharedMemory.create(name, Channel.byteLength(opts));
  const seenSeg = SharedMemory.create(seenName, consumers * size);
  const all: Child[] = [];
  try {
    const ch = new Channel(seg, 0, opts);
    const h = ch.handle();
    const seen = seenSeg.bytes;
    // the survivors: producer 0 and consumer 0; each round adds a victim pair and kills it mid-run
    const reader = start(self("consume", h, seenName, "0", String(count), "recv"));
    const writer = start(self("produce", h, "0", String(count), "send"));
    all.push(reader, writer);
    let killed = 0;
    for (let r = 1; r <= rounds; r++) {
      const victims = [
        start(self("consume", h, seenName, String(r * size), String(count), r % 2 ? "recv" : "many")),
        start(self("produce", h, String(r), String(count), r % 2 ? "many" : "send")),
      ];
      all.push(...victims);
      // well into its run: it has received some, and the victim sender has had some received
      const mine = () => seen.subarray(r * size, (r + 1) * size).reduce((a, b) => a + b, 0);
      const deadline = performance.now() + 30_000;
      while (mine() < 200 && performance.now() < deadline) await sleep(1);
      await sleep(Math.random() * 20);
      for (const v of victims) v.kill("SIGKILL");
      for (const v of victims) if ((await v.done).code === null) killed++;
    }
    assert.equal(await output(writer, "producer 0"), `sent ${count}`);
    ch.close();
    assert.equal(JSON.parse(await output(reader, "consumer 0")).disorder, 0);
    const counts = tally(seen, consumers, size);
    assert.equal(counts.findIndex((c) => c > 1), -1, "nothing delivered twice");
    let lost = 0;
    for (let p = 0; p < producers; p++) {
      let end = count; // each sender's messages are a prefix, less what killed receivers were taking
      while (end > 0 && counts[p * count + end - 1] === 0) end--;
      for (let k = 0; k < end; k++) if (counts[p * count + k] === 0) lost++;
    }
    assert.ok(killed >= rounds, `${killed} of ${2 * rounds} victims were killed (the others had finished)`);
    assert.ok(lost <= rounds, `${lost} messages lost by ${rounds} killed receivers (at most one each)`);
  } finally {
    for (const c of all) {
      try {
        c.kill("SIGKILL");
      } catch { /* already exited */ }
    }
    seg.close();
    seenSeg.close();
    SharedMemory.unlink(name);
    SharedMemory.unlink(seenName);
  }
});
