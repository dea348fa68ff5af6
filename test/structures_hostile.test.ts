// The Channel and SharedMap attacked from JavaScript as a hostile but ordinary
// program would: memory overwritten by hand, methods kept past a segment's
// close, getters and Proxies that run code in the middle of a call, lying
// typed arrays, receive targets over the channel's own bytes, sizes no
// buffer can have. Scenarios that could crash or hang run in a child process
// (test/children/structures_probe.ts). Each finding of the attack is a test here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, runtime } from "./helpers/api.ts";
import { command } from "./helpers/runtime.ts";
import { uniqueName } from "./helpers/names.ts";
import { start } from "./helpers/spawn.ts";
import { newWorker } from "./helpers/worker.ts";

const { Channel, SharedMap, SharedMemory, SharedMemoryClosedError, MapFullError, Mutex } = api;
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

async function probe(scenario: string, seed = ""): Promise<string> {
  const script = new URL("./children/structures_probe.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await start(command(runtime, script, [scenario, seed])).done;
  assert.equal(code, 0, `${scenario}: the probe died (exit ${code}):\n${stdout}\n${stderr}`);
  const line = stdout.trim().split("\n").pop() ?? "";
  assert.match(line, /^survived/, `${scenario}: ${stdout}\n${stderr}`);
  return line.slice("survived ".length);
}

test("a channel header overwritten with another configuration: every call refuses it, no crash", async () => {
  // was: a larger messageSize or capacity in the header segfaulted Bun (slots followed past the buffer)
  const out = (await probe("channel-config")).split(", ");
  for (let i = 0; i < out.length; i += 2) {
    assert.match(out[i], /^Error(\/ok)?$/, out.join(", ")); // close/trySend... all refuse (ok: none, at most)
    assert.equal(out[i + 1], "hello", "restored, the channel is whole");
  }
});

test("a map header copied from a larger map (a valid check word): every call refuses it, no crash", async () => {
  // was: reads and writes past the SharedArrayBuffer (a segfault, or silent corruption of other memory)
  assert.equal(await probe("map-config"), "Error, v0, Error, v0, Error, v0");
});

test("random bytes over a channel's or map's memory: every call returns or throws a named error, in bounded time", async () => {
  // was: a message length overwritten beyond messageSize wedged the channel ("unexpected result -5" forever);
  // a value length overwritten made update() loop forever; a writers' lock word overwritten hung every writer
  const runs = await Promise.all([
    probe("channel-fuzz", "1"),
    probe("channel-fuzz", "2"),
    probe("map-fuzz", "1"),
    probe("map-fuzz", "2"),
  ]);
  for (const r of runs) assert.match(r, /^[A-Za-z/]+$/, r);
  assert.match(runs.join("/"), /Error/, "the corruption was noticed somewhere");
});

test("a word naming this very thread, or a live-looking owner that never lets go: an error, never a hang", async () => {
  assert.equal(await probe("held-words"), "Error, ok, b, at once, Error, Error, Error");
});

test("methods kept from before the segment closed throw SharedMemoryClosedError, even while a wait is pending", async () => {
  // was: with a recvAsync pending (which keeps the mapping until it ends), a bound send or set wrote into the
  // segment after close(), where other processes saw it
  const name = uniqueName();
  const seg = SharedMemory.create(name, 1 << 16);
  const witness = SharedMemory.open(name); // another mapping of the same segment: sees every write
  seg.unlink();
  const ch = new Channel(seg, 0, { capacity: 4, messageSize: 16 });
  const m = new SharedMap(seg, 8192, { capacity: 8 });
  const calls: [string, () => unknown][] = [
    ["send", ch.send.bind(ch, "x")],
    ["trySend", ch.trySend.bind(ch, "x")],
    ["sendMany", ch.sendMany.bind(ch, ["x"])],
    ["recv", ch.recv.bind(ch, 0)],
    ["recvInto", ch.recvInto.bind(ch, new Uint8Array(16), 0)],
    ["recvMany", ch.recvMany.bind(ch, 4, 0)],
    ["close", ch.close.bind(ch)],
    ["length", () => Object.getOwnPropertyDescriptor(Channel.prototype, "length")!.get!.call(ch)],
    ["get", m.get.bind(m, "a")],
    ["set", m.set.bind(m, "a", "b")],
    ["fetchAdd", m.fetchAdd.bind(m, "n", 1)],
    ["delete", m.delete.bind(m, "a")],
    ["clear", m.clear.bind(m)],
    ["keys", m.keys.bind(m)],
    ["size", () => Object.getOwnPropertyDescriptor(SharedMap.prototype, "size")!.get!.call(m)],
  ];
  const pending = ch.recvAsync();
  seg.close();
  for (const [what, call] of calls) assert.throws(call, SharedMemoryClosedError, what);
  await assert.rejects(pending, SharedMemoryClosedError);
  const seen = new Channel(witness, 0);
  assert.equal(seen.length, 0, "nothing was sent through the closed segment");
  assert.equal(new SharedMap(witness, 8192).size, 0, "nothing was set through it");
  witness.close();
});

test("closing the segment from inside a call (update, an iterator, a getter) ends it with SharedMemoryClosedError", async () => {
  const fresh = () => {
    const s = SharedMemory.create(uniqueName(), 1 << 16);
    s.unlink();
    return s;
  };
  let seg = fresh();
  const m = new SharedMap(seg, 0, { capacity: 8 });
  const closing = seg;
  assert.throws(() => m.update("k", () => (closing.close(), "v")), SharedMemoryClosedError);
  seg = fresh();
  const m2 = new SharedMap(seg, 0, { capacity: 8 });
  const s2 = seg;
  assert.throws(() =>
    m2.set("a", "b", {
      get ttlMs() {
        s2.close();
        return 5;
      },
    }), SharedMemoryClosedError);
  seg = fresh();
  const ch = new Channel(seg, 0, { capacity: 4, messageSize: 16 });
  ch.send("a");
  ch.send("b");
  const s3 = seg;
  await assert.rejects(async () => {
    for await (const _ of ch) s3.close();
  }, SharedMemoryClosedError);
  seg = fresh();
  const ch2 = new Channel(seg, 0, { capacity: 4, messageSize: 16 });
  const s4 = seg;
  const messages = ["a", "b"];
  Object.defineProperty(messages, 1, { get: () => (s4.close(), "b") });
  assert.throws(() => ch2.sendMany(messages), SharedMemoryClosedError);
  seg = fresh();
  const ch3 = new Channel(seg, 0, { capacity: 4, messageSize: 16 });
  const s5 = seg;
  const opts = {
    get timeoutMs() {
      s5.close();
      return 5;
    },
  };
  await assert.rejects(ch3.sendAsync("x", opts), SharedMemoryClosedError);
});

test("a getter that calls the same map in the middle of a write does not change which key is written", () => {
  // was: set("a", "1", { get ttlMs() { m.set("bb", "22") } }) stored key "b" (the inner call overwrote the staged key)
  const m = SharedMap.create({ capacity: 8 });
  m.set("a", "1", {
    get ttlMs() {
      m.set("bb", "22");
      return undefined as never;
    },
  });
  m.fetchAdd("n", 5, {
    get ttlMs() {
      m.set("cc", "33");
      return 1000;
    },
  });
  assert.deepEqual([...m.keys()].sort(), ["a", "bb", "cc", "n"]);
  assert.equal(m.getText("a"), "1");
  assert.equal(m.getText("bb"), "22");
  assert.equal(m.getText("cc"), "33");
  assert.equal(m.fetchAdd("n", 0), 5);
});

test("a Proxy in a key's prototype chain never runs in the middle of a call; a lying length is not believed", () => {
  // was: `instanceof` ran the Proxy's getPrototypeOf trap while the map's scratch was half staged
  const m = SharedMap.create({ capacity: 8, keySize: 8, valueSize: 8 });
  let traps = 0;
  const trap = new Proxy(Uint8Array.prototype, { getPrototypeOf: (t) => (traps++, Reflect.getPrototypeOf(t)) });
  const key = Object.setPrototypeOf(new Uint8Array([107]), trap) as Uint8Array;
  m.set(key, "v");
  assert.equal(m.compareAndSet("k", Object.setPrototypeOf(new TextEncoder().encode("v"), trap), "w"), true);
  const ch = Channel.create({ capacity: 2, messageSize: 8 });
  ch.send(Object.setPrototypeOf(new Uint8Array([1, 2]), trap) as Uint8Array);
  assert.equal(traps, 0);
  assert.equal(m.getText("k"), "w");
  assert.deepEqual([...ch.recv()!], [1, 2]);
  // own `length` properties that lie: the engine's length is what is stored (was: -1 became key length 2^32 - 1)
  const lying = new Uint8Array([1, 2]);
  Object.defineProperty(lying, "length", { value: -1 });
  m.set(lying, "x");
  assert.equal(m.getText(new Uint8Array([1, 2])), "x");
  const long = new Uint8Array(100);
  Object.defineProperty(long, "length", { value: 2 });
  assert.throws(
    () => m.set("y", long),
    (e: Error) => e instanceof RangeError && /SharedMap\.set: value/.test(e.message),
  );
  assert.throws(() => ch.send(long), (e: Error) => e instanceof RangeError && /Channel\.send: data/.test(e.message));
});

test("recvInto a view over the channel's own bytes is refused, and the channel stays whole", () => {
  // was: the message was copied over the channel's header (its tag and configuration): the channel was lost
  const ch = Channel.create({ capacity: 4, messageSize: 16 });
  const sab = ch.memory as SharedArrayBuffer;
  ch.send(new Uint8Array(16).fill(0xff));
  for (const at of [0, 64, 192, sab.byteLength - 16]) {
    assert.throws(
      () => ch.recvInto(new Uint8Array(sab, at, 16)),
      (e: Error) => e instanceof RangeError && /Channel\.recvInto: target must be memory outside/.test(e.message),
    );
  }
  assert.equal(ch.length, 1);
  const outside = new SharedArrayBuffer(sab.byteLength + 64);
  const ch2 = new Channel(outside, 0, { capacity: 4, messageSize: 16 });
  ch2.send("hi");
  assert.equal(
    ch2.recvInto(new Uint8Array(outside, sab.byteLength, 16)),
    2,
    "the same buffer past the channel is fine",
  );
});

test("public fields reassigned by a program change nothing the native side trusts", () => {
  // was: ch.messageSize = 2 ** 30 let a 100-byte message through to a 16-byte staging buffer (an engine RangeError)
  const ch = Channel.create({ capacity: 2, messageSize: 16 });
  Object.assign(ch, { messageSize: 2 ** 30, capacity: 7 });
  assert.throws(
    () => ch.send("x".repeat(100)),
    (e: Error) => /Channel\.send: data must be at most messageSize \(16\)/.test(e.message),
  );
  assert.equal(ch.send("ok"), true);
  assert.equal(ch.recvText(), "ok");
  const m = SharedMap.create({ capacity: 2, keySize: 8, valueSize: 8 });
  (m as unknown as { config: number[] }).config[0] = 1_000_000;
  m.set("a", "1");
  m.set("b", "2");
  assert.throws(() => m.set("c", "3"), MapFullError);
  assert.deepEqual([...m.keys()].sort(), ["a", "b"]);
});

test("hostile options: getters that throw and revoked Proxies are named; sizes no buffer can have are RangeErrors", () => {
  const boom = {
    get capacity(): number {
      throw new Error("boom");
    },
  };
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const named = (where: string) => (e: Error) => e instanceof TypeError && e.message.startsWith(`${where}: options`);
  assert.throws(() => SharedMap.create(boom), named("SharedMap.create"));
  assert.throws(() => SharedMap.byteLength(revoked.proxy as never), named("SharedMap.byteLength"));
  assert.throws(() => Channel.create(boom as never), named("Channel.create"));
  const m = SharedMap.create({ capacity: 2 });
  assert.throws(() =>
    m.set("a", "b", {
      get ttlMs(): number {
        throw new Error("ttl");
      },
    }), named("SharedMap.set"));
  assert.throws(() =>
    m.keys({
      get binary(): boolean {
        throw new Error("bin");
      },
    }), named("SharedMap.keys"));
  assert.equal(m.size, 0, "nothing was written");
  // 2^24 messages of 2^30 bytes: more than 2^53 bytes (was: an inexact number from byteLength, then the engine's error)
  const huge = { capacity: 2 ** 24, messageSize: 2 ** 30 };
  assert.throws(
    () => Channel.byteLength(huge),
    (e: Error) => e instanceof RangeError && /Channel\.byteLength: .*2\^53/.test(e.message),
  );
  assert.throws(
    () => Channel.create(huge),
    (e: Error) => e instanceof RangeError && /^Channel\.create: /.test(e.message),
  );
  // a terabyte: no engine allocates it (was: the engine's "Out of memory" / "Array buffer allocation failed", unnamed)
  const tera = { capacity: 2 ** 20, messageSize: 2 ** 20 };
  assert.equal(Channel.byteLength(tera) > 2 ** 40, true);
  assert.throws(
    () => Channel.create(tera),
    (e: Error) => e instanceof RangeError && /^Channel\.create: cannot allocate/.test(e.message),
  );
  const big = { capacity: 2 ** 26, keySize: 4096, valueSize: 2 ** 20 };
  assert.throws(
    () => SharedMap.create(big),
    (e: Error) => e instanceof RangeError && /^SharedMap\.create: cannot allocate/.test(e.message),
  );
});

test("descriptors and handles of another primitive, and memory holding another primitive, are refused", () => {
  const mutex = Mutex.create();
  assert.throws(() => Channel.from(mutex.descriptor()), TypeError);
  assert.throws(() => SharedMap.from(mutex.descriptor()), TypeError);
  assert.throws(() => SharedMap.fromHandle("sa1:channel@0:shm:/x"), TypeError);
  const ch = Channel.create({ capacity: 2, messageSize: 8 });
  const m = SharedMap.create({ capacity: 2 });
  assert.throws(() => new SharedMap(ch.memory as SharedArrayBuffer, 0, { capacity: 2 }), /holds a Channel/);
  assert.throws(
    () => new Channel(m.memory as SharedArrayBuffer, 0, { capacity: 2, messageSize: 8 }),
    /holds a SharedMap/,
  );
  assert.throws(() => Channel.from({ ...ch.descriptor(), byteOffset: 4 }), RangeError);
  assert.throws(() => Channel.from({ ...ch.descriptor(), byteOffset: 2 ** 40 }), RangeError);
  assert.equal(text(ch.tryRecv()), undefined);
});

test("the SharedMemory closed under Workers blocked in recv, recvAsync, send, sendAsync: they are unharmed", async () => {
  // each Worker maps the segment itself (from the descriptor): this thread's close() retires only its own mapping, and
  // the blocked Workers wake when the channel (not the segment) closes, through a mapping opened again by handle
  const name = uniqueName();
  const seg = SharedMemory.create(name, 1 << 16);
  const empty = new Channel(seg, 0, { capacity: 2, messageSize: 8 });
  const full = new Channel(seg, 4096, { capacity: 1, messageSize: 8 });
  full.send("x");
  const handles = [empty.handle(), full.handle()];
  const modes: [typeof empty, string][] = [[empty, "recv"], [empty, "recvAsync"], [full, "send"], [full, "sendAsync"]];
  const url = new URL("./workers/channel_worker.ts", import.meta.url).href;
  const ws = await Promise.all(modes.map(() =>
    new Promise<Worker>((resolve, reject) => {
      const w = newWorker(url);
      w.onmessage = () => resolve(w);
      w.onerror = (e) => reject(new Error(`worker failed to start: ${e.message}`));
    })
  ));
  try {
    // (a promise resolved with a promise adopts it: each result travels wrapped)
    const started = await Promise.all(
      modes.map(([ch, mode], i) =>
        new Promise<{ result: Promise<{ error: string }> }>((resolve) => {
          const result = new Promise<{ error: string }>((done) => {
            ws[i].onmessage = (e) => (e.data.blocking ? resolve({ result }) : done(e.data));
          });
          ws[i].postMessage({ job: "block", channel: ch.descriptor(), mode });
        })
      ),
    );
    const results = started.map((s) => s.result);
    await new Promise((r) => setTimeout(r, 200)); // let them all block
    seg.close();
    await new Promise((r) => setTimeout(r, 300)); // they keep waiting, on their own mappings
    const again = handles.map((h) => Channel.fromHandle(h));
    assert.equal(again[1].length, 1, "the segment is intact");
    for (const ch of again) ch.close();
    for (const r of await Promise.all(results)) assert.equal(r.error, "ChannelClosedError");
    for (const ch of again) (ch.memory as typeof seg).close();
  } finally {
    for (const w of ws) w.terminate();
    SharedMemory.unlink(name);
  }
});

test("pending sendAsync and recvAsync reject with SharedMemoryClosedError when their segment closes", async () => {
  const seg = SharedMemory.create(uniqueName(), 1 << 16);
  seg.unlink();
  const empty = new Channel(seg, 0, { capacity: 1, messageSize: 8 });
  const full = new Channel(seg, 4096, { capacity: 1, messageSize: 8 });
  full.send("x");
  const signal = new AbortController().signal;
  const pending = [
    empty.recvAsync(),
    empty.recvTextAsync({ signal }),
    full.sendAsync("y"),
    full.sendAsync("z", { timeoutMs: 60_000 }),
  ];
  await new Promise((r) => setTimeout(r, 50));
  seg.close();
  const methods = ["recvAsync", "recvTextAsync", "sendAsync", "sendAsync"];
  await Promise.all(
    pending.map((p, i) =>
      assert.rejects(
        p,
        (e: Error) => e instanceof SharedMemoryClosedError && e.message.startsWith(`Channel.${methods[i]}:`),
      )
    ),
  );
});

test("a method called on anything but its own class is a TypeError naming it (was the engine's private-field message)", () => {
  const ch = Channel.create({ capacity: 2, messageSize: 8 });
  const m = SharedMap.create({ capacity: 2 });
  const others: unknown[] = [{}, null, undefined, 5, ch, m, Mutex.create(), Object.create(Channel.prototype)];
  const methods: [string, object, string, unknown[]][] = [
    ["Channel", Channel.prototype, "send", ["x"]],
    ["Channel", Channel.prototype, "tryRecv", []],
    ["Channel", Channel.prototype, "recvInto", [new Uint8Array(8), 0]],
    ["Channel", Channel.prototype, "sendMany", [["x"], 0]],
    ["Channel", Channel.prototype, "close", []],
    ["SharedMap", SharedMap.prototype, "get", ["k"]],
    ["SharedMap", SharedMap.prototype, "set", ["k", "v"]],
    ["SharedMap", SharedMap.prototype, "fetchAdd", ["k", 1]],
    ["SharedMap", SharedMap.prototype, "update", ["k", () => "v"]],
    ["SharedMap", SharedMap.prototype, "keys", []],
  ];
  for (const [cls, proto, name, args] of methods) {
    const fn = (proto as Record<string, (...a: unknown[]) => unknown>)[name];
    for (const o of others) {
      if (o instanceof (cls === "Channel" ? Channel : SharedMap)) continue;
      assert.throws(
        () => fn.apply(o, args),
        (e: Error) => e instanceof TypeError && e.message.startsWith(`${cls}.${name}: this must be a ${cls}`),
        `${cls}.${name}`,
      );
    }
  }
  for (const [cls, name] of [["Channel", "length"], ["SharedMap", "size"]]) {
    const get = Object.getOwnPropertyDescriptor((cls === "Channel" ? Channel : SharedMap).prototype, name)!.get!;
    assert.throws(() => get.call({}), (e: Error) => e instanceof TypeError && e.message.startsWith(`${cls}.${name}:`));
  }
  assert.equal(ch.length, 0);
  assert.equal(m.size, 0);
});
