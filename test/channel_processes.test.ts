// Channel between processes and languages, in both runtimes: Bun producers,
// Deno consumers and a Python consumer on one channel at once (every message
// exactly once, per-producer order kept), and a sender and a receiver
// killed with SIGKILL in the middle of a heavy run (the rest completes;
// nothing is duplicated; at most the message the receiver was taking is lost).
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { uniqueName } from "./helpers/names.ts";
import { type Child, Children, python, scriptIn, selfScript } from "./helpers/spawn.ts";

const { Channel, SharedMemory } = api;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// every child through the test seam (helpers/spawn.ts): under the emulated suites the Bun children are the Bun
// under test, the Deno and Python ones the host's with the host's library
const bun = (...args: string[]) => scriptIn("bun", "./channel_child.ts", ...args);
const deno = (...args: string[]) => scriptIn("deno", "./channel_child.ts", ...args);
const self = (...args: string[]) => selfScript("./channel_child.ts", ...args);

/** Waits for a child; throws with its stderr unless it exited with 0. */
async function output(c: Child, what: string): Promise<string> {
  const { code, stdout, stderr } = await c.done;
  if (code !== 0) throw new Error(`${what} exited with ${code}:\n${stderr}`);
  return stdout.trim();
}

/** What a test body gets: the channel, its handle, the segments' names, the seen bytes, and a spawner. */
interface Run {
  ch: InstanceType<typeof Channel>;
  h: string;
  name: string;
  seenName: string;
  seen: Uint8Array;
  spawn(cmd: string[]): Child;
}

/**
 * Runs `body` with a channel in a fresh segment and a zeroed "seen" segment
 * of `seenBytes`; afterwards kills every child it spawned, waits for them and removes both.
 */
async function withChannel(
  opts: { capacity: number; messageSize: number },
  seenBytes: number,
  body: (r: Run) => Promise<void>,
): Promise<void> {
  const name = uniqueName(), seenName = uniqueName();
  const seg = SharedMemory.create(name, Channel.byteLength(opts));
  const seenSeg = SharedMemory.create(seenName, seenBytes);
  try {
    await using kids = new Children();
    const ch = new Channel(seg, 0, opts);
    await body({ ch, h: ch.handle(), name, seenName, seen: seenSeg.bytes, spawn: (cmd) => kids.start(cmd) });
  } finally {
    seg.close();
    seenSeg.close();
    SharedMemory.unlink(name);
    SharedMemory.unlink(seenName);
  }
}

/** How many of producer `p`'s messages were received as a prefix: up to the last one received. */
function prefixEnd(counts: Uint8Array, p: number, count: number): number {
  let end = count;
  while (end > 0 && counts[p * count + end - 1] === 0) end--;
  return end;
}
/**
 * Messages never received, each producer's counted within its received
 * prefix (a killed sender's messages are a prefix: the one it was writing
 * is dropped, never delivered).
 */
function lostIn(counts: Uint8Array, producers: number, count: number): number {
  let lost = 0;
  for (let p = 0; p < producers; p++) {
    const end = prefixEnd(counts, p, count);
    for (let k = 0; k < end; k++) if (counts[p * count + k] === 0) lost++;
  }
  return lost;
}

/** Received messages in a region of `seen`. */
const received = (seen: Uint8Array, from: number, to: number) => seen.subarray(from, to).reduce((a, b) => a + b, 0);

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
  await withChannel(
    { capacity: 4096, messageSize: 8 },
    consumers * size,
    async ({ ch, h, name, seenName, seen, spawn }) => {
      const readers = [
        spawn(deno("consume", h, seenName, "0", String(count), "many")),
        spawn(deno("consume", h, seenName, String(size), String(count), "recv")),
        spawn(deno("consume", h, seenName, String(2 * size), String(count), "into")),
        spawn(python("./channel_consumer.py", name, seenName, String(3 * size), String(count))),
      ];
      const writers = ["many", "many", "many", "send"].map((how, id) =>
        spawn(bun("produce", h, String(id), String(count), how))
      );
      for (const [i, w] of writers.entries()) assert.equal(await output(w, `producer ${i}`), `sent ${count}`);
      ch.close();
      const results = await Promise.all(readers.map((r, i) => output(r, `consumer ${i}`).then((s) => JSON.parse(s))));
      assert.equal(results.reduce((a, r) => a + r.got, 0), size);
      assert.deepEqual(results.map((r) => r.disorder), [0, 0, 0, 0], "per-producer order");
      assert.ok(results[3].got > 0, "the Python consumer received some");
      const counts = tally(seen, consumers, size);
      const wrong = counts.findIndex((c) => c !== 1);
      assert.equal(wrong, -1, `message ${wrong} received ${counts[wrong]} times`);
    },
  );
});

test("SIGKILL of a sender and of a receiver mid-run: the rest completes, nothing duplicated, at most one lost", async () => {
  const producers = 3, consumers = 3, count = 100_000, size = producers * count;
  await withChannel({ capacity: 64, messageSize: 8 }, consumers * size, async ({ ch, h, seenName, seen, spawn }) => {
    const readers = ["recv", "many", "recv"].map((how, c) =>
      spawn(self("consume", h, seenName, String(c * size), String(count), how))
    );
    const writers = ["send", "many", "send"].map((how, id) =>
      spawn(self("produce", h, String(id), String(count), how))
    );
    // consumer 2 and producer 2 are the victims: killed once they are well into the run
    const deadline = performance.now() + 60_000;
    while (received(seen, 2 * size, 3 * size) < 5_000 && performance.now() < deadline) await sleep(2);
    readers[2].kill("SIGKILL");
    const byVictim = () => received(seen, 2 * count, 3 * count) + received(seen, size + 2 * count, size + 3 * count);
    while (byVictim() < 20_000 && performance.now() < deadline) await sleep(2);
    writers[2].kill("SIGKILL");
    for (const i of [0, 1]) assert.equal(await output(writers[i], `producer ${i}`), `sent ${count}`);
    ch.close();
    for (const i of [0, 1]) assert.equal(JSON.parse(await output(readers[i], `consumer ${i}`)).disorder, 0);
    assert.equal((await readers[2].done).code, null, "the receiver was killed");
    assert.equal((await writers[2].done).code, null, "the sender was killed (before it finished)");
    const counts = tally(seen, consumers, size);
    assert.equal(counts.findIndex((c) => c > 1), -1, "nothing delivered twice");
    assert.ok(prefixEnd(counts, 2, count) < count, "the killed sender had not finished");
    const lost = lostIn(counts, producers, count);
    assert.ok(lost <= 1, `${lost} messages lost; a killed receiver may lose only the one it was taking`);
  });
});

test("a storm of kills: senders and receivers killed at random moments, one after another; nothing duplicated", async () => {
  const rounds = 6, producers = 1 + rounds, consumers = 1 + rounds, count = 30_000, size = producers * count;
  const capacity = 4;
  await withChannel({ capacity, messageSize: 8 }, consumers * size, async ({ ch, h, seenName, seen, spawn }) => {
    // the survivors: producer 0 and consumer 0; each round adds a victim pair and kills it mid-run
    const reader = spawn(self("consume", h, seenName, "0", String(count), "recv"));
    const writer = spawn(self("produce", h, "0", String(count), "send"));
    // a killed receiver loses what it had taken but not yet recorded in `seen`: one message for
    // `recv`, up to a batch (at most `capacity`) for `recvMany`; the channel itself drops at most
    // the one message the receiver was taking when it died
    let killed = 0, mayLose = 0;
    for (let r = 1; r <= rounds; r++) {
      const how = r % 2 ? "recv" : "many";
      const victims = [
        spawn(self("consume", h, seenName, String(r * size), String(count), how)),
        spawn(self("produce", h, String(r), String(count), r % 2 ? "many" : "send")),
      ];
      // well into its run: it has received some
      const deadline = performance.now() + 30_000;
      while (received(seen, r * size, (r + 1) * size) < 200 && performance.now() < deadline) await sleep(1);
      await sleep(Math.random() * 20);
      for (const v of victims) v.kill("SIGKILL");
      for (const v of victims) if ((await v.done).code === null) killed++;
      if ((await victims[0].done).code === null) mayLose += how === "recv" ? 1 : capacity;
    }
    assert.equal(await output(writer, "producer 0"), `sent ${count}`);
    ch.close();
    assert.equal(JSON.parse(await output(reader, "consumer 0")).disorder, 0);
    const counts = tally(seen, consumers, size);
    assert.equal(counts.findIndex((c) => c > 1), -1, "nothing delivered twice");
    const lost = lostIn(counts, producers, count);
    assert.ok(killed >= rounds, `${killed} of ${2 * rounds} victims were killed (the others had finished)`);
    assert.ok(lost <= mayLose, `${lost} messages lost; the killed receivers held at most ${mayLose}`);
  });
});
