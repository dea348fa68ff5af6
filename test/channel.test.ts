// Channel in one thread and with a helper Worker, in both runtimes: the API,
// FIFO order, batches, close, the async forms with the event loop running,
// AbortSignal, and every bad input (which leaves the channel unchanged).
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { uniqueName } from "./helpers/names.ts";

const { Channel, ChannelClosedError, SharedMemory, SharedMemoryClosedError, Mutex } = api;
// deno-lint-ignore no-explicit-any
type Any = any;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (m: Uint8Array | undefined) => m === undefined ? undefined : new TextDecoder().decode(m);

test("send and receive: FIFO, bytes and text, copies the caller owns, length, try forms", () => {
  const ch = Channel.create({ capacity: 3, messageSize: 8 });
  assert.equal(ch.capacity, 3);
  assert.equal(ch.messageSize, 8);
  assert.equal(ch.length, 0);
  assert.equal(ch.tryRecv(), undefined);
  const src = new Uint8Array([9, 8, 7, 6]);
  assert.equal(ch.send(src.subarray(1, 3)), true); // any view
  assert.equal(ch.trySend("héllo"), true); // UTF-8: 6 bytes
  assert.equal(ch.send(new Uint8Array(0)), true); // empty messages are messages
  assert.equal(ch.length, 3);
  assert.equal(ch.trySend("x"), false, "full");
  assert.equal(ch.send("x", 20), false, "full until the timeout");
  const first = ch.recv()!;
  assert.deepEqual([...first], [8, 7]);
  assert.ok(!(first.buffer instanceof SharedArrayBuffer), "a copy, not a view of shared memory");
  assert.equal(ch.recvText(), "héllo");
  assert.equal(ch.recv(0)!.length, 0);
  assert.equal(ch.recv(20), undefined, "empty until the timeout");
  assert.equal(ch.recvText(0), undefined);
  // wraps around the ring many times, in order
  for (let i = 0; i < 100; i++) {
    assert.equal(ch.trySend(`m${i}`), true);
    if (i % 2) {
      assert.equal(ch.recvText(), `m${i - 1}`);
      assert.equal(ch.recvText(), `m${i}`);
    }
  }
  assert.equal(ch.length, 0);
});

test("recvInto: straight into a SharedArrayBuffer view, through staging into any other; too small leaves it", () => {
  const ch = Channel.create({ capacity: 4, messageSize: 16 });
  ch.send("abcdef");
  ch.send("xyz");
  ch.send("0123456789");
  const shared = new Uint8Array(new SharedArrayBuffer(32), 4, 8);
  assert.equal(ch.recvInto(shared), 6);
  assert.equal(new TextDecoder().decode(shared.slice(0, 6)), "abcdef");
  const plain = new Uint8Array(4);
  assert.equal(ch.recvInto(plain), 3);
  assert.deepEqual([...plain.subarray(0, 3)], [120, 121, 122]);
  assert.throws(() => ch.recvInto(plain), (e: Error) => e instanceof RangeError && /10 bytes/.test(e.message));
  assert.throws(() => ch.recvInto(shared), RangeError);
  assert.equal(ch.length, 1, "the message stays");
  assert.equal(ch.recvInto(new Uint8Array(10)), 10);
  assert.equal(ch.recvInto(new Uint8Array(10), 10), undefined, "timed out");
});

test("recvInto: a shared buffer with another prototype, or a plain one claiming SharedArrayBuffer's, is staged (no user code runs)", () => {
  const ch = Channel.create({ capacity: 4, messageSize: 16 });
  const odd = new SharedArrayBuffer(16);
  Object.setPrototypeOf(odd, ArrayBuffer.prototype);
  const liar = new ArrayBuffer(16);
  Object.setPrototypeOf(liar, SharedArrayBuffer.prototype);
  const hasInstance = Object.getOwnPropertyDescriptor(SharedArrayBuffer, Symbol.hasInstance);
  let ran = 0;
  Object.defineProperty(SharedArrayBuffer, Symbol.hasInstance, { configurable: true, value: () => ++ran > 0 });
  try {
    for (const target of [new Uint8Array(odd), new Uint8Array(liar), new Uint8Array(16)]) {
      ch.send("hello");
      assert.equal(ch.recvInto(target), 5);
      assert.equal(new TextDecoder().decode(target.slice(0, 5)), "hello");
    }
  } finally {
    if (hasInstance) Object.defineProperty(SharedArrayBuffer, Symbol.hasInstance, hasInstance);
    else delete (SharedArrayBuffer as unknown as Record<symbol, unknown>)[Symbol.hasInstance];
  }
  assert.equal(ran, 0, "Symbol.hasInstance was never called");
});

test("sendMany/recvMany: several per call, in order, split into chunks when large", () => {
  const ch = Channel.create({ capacity: 1000, messageSize: 300 });
  const msgs: (string | Uint8Array)[] = [];
  for (let i = 0; i < 900; i++) msgs.push(i % 3 ? `n${i}` : new Uint8Array(300).fill(i & 255));
  assert.equal(ch.sendMany(msgs), 900);
  assert.equal(ch.length, 900);
  const got: Uint8Array[] = [];
  while (got.length < 900) {
    const batch = ch.recvMany(128);
    assert.ok(batch.length >= 1 && batch.length <= 128);
    got.push(...batch);
  }
  got.forEach((m, i) => {
    if (i % 3) assert.equal(text(m), `n${i}`);
    else assert.ok(m.length === 300 && m.every((b) => b === (i & 255)));
  });
  assert.deepEqual(ch.recvMany(5, 10), [], "empty: nothing after the timeout");
  // a full channel: as many as fit before the timeout
  const small = Channel.create({ capacity: 2, messageSize: 4 });
  assert.equal(small.sendMany(["a", "b", "c"], 20), 2);
  assert.equal(small.sendMany([]), 0);
  assert.deepEqual(small.recvMany(10).map(text), ["a", "b"]);
});

test("close: later sends throw, receivers drain what is left then throw; the iterator ends", async () => {
  const ch = Channel.create({ capacity: 4, messageSize: 8 });
  ch.sendMany(["a", "b", "c"]);
  assert.equal(ch.closed, false);
  assert.equal(ch.close(), true);
  assert.equal(ch.close(), false, "already closed");
  assert.equal(ch.closed, true);
  assert.throws(() => ch.send("x"), ChannelClosedError);
  assert.throws(() => ch.trySend("x"), ChannelClosedError);
  assert.throws(() => ch.sendMany(["x"]), ChannelClosedError);
  await assert.rejects(ch.sendAsync("x"), ChannelClosedError);
  assert.equal(ch.recvText(), "a");
  const rest: string[] = [];
  for await (const m of ch) rest.push(text(m)!);
  assert.deepEqual(rest, ["b", "c"]);
  assert.throws(() => ch.recv(), ChannelClosedError);
  assert.throws(() => ch.tryRecv(), ChannelClosedError);
  assert.throws(() => ch.recvMany(3), ChannelClosedError);
  assert.throws(() => ch.recvInto(new Uint8Array(8)), ChannelClosedError);
  await assert.rejects(ch.recvAsync(), ChannelClosedError);
});

test("async forms keep the event loop running (a timer fires while they wait); timeouts", async () => {
  const ch = Channel.create({ capacity: 1, messageSize: 16 });
  const fired: string[] = [];
  setTimeout(() => fired.push("timer"), 10);
  setTimeout(() => ch.trySend("late"), 60);
  assert.equal(text(await ch.recvAsync()), "late");
  assert.deepEqual(fired, ["timer"]);
  assert.equal(await ch.recvAsync({ timeoutMs: 20 }), undefined);
  assert.equal(await ch.recvTextAsync({ timeoutMs: 0 }), undefined);
  assert.equal(await ch.sendAsync("one"), true);
  assert.equal(await ch.sendAsync("two", { timeoutMs: 20 }), false, "full");
  setTimeout(() => ch.recv(), 40);
  const t = performance.now();
  assert.equal(await ch.sendAsync("two"), true, "sent once there was room");
  assert.ok(performance.now() - t >= 30);
  assert.equal(await ch.recvTextAsync(), "two");
});

test("AbortSignal cancels sendAsync and recvAsync, leaving the channel unchanged", async () => {
  const ch = Channel.create({ capacity: 1, messageSize: 8 });
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error("stop")), 30);
  await assert.rejects(ch.recvAsync({ signal: ac.signal }), /stop/);
  await assert.rejects(ch.recvAsync({ signal: AbortSignal.abort(new Error("already")) }), /already/);
  ch.send("full");
  const ac2 = new AbortController();
  setTimeout(() => ac2.abort(new Error("stop2")), 30);
  await assert.rejects(ch.sendAsync("no", { signal: ac2.signal }), /stop2/);
  assert.equal(ch.length, 1);
  assert.equal(ch.recvText(), "full");
  assert.equal(ch.tryRecv(), undefined);
});

test("close wakes every blocked receiver and sender (async, this thread)", async () => {
  // first ten waits that time out, so that Bun's pool of waiter Workers is started before the measured ones
  const warm = Channel.create({ capacity: 1, messageSize: 8 });
  await Promise.all(Array.from({ length: 10 }, () => warm.recvAsync({ timeoutMs: 300 })));
  const empty = Channel.create({ capacity: 2, messageSize: 8 });
  const receivers = Array.from({ length: 5 }, () => empty.recvAsync());
  const full = Channel.create({ capacity: 1, messageSize: 8 });
  full.send("x");
  const senders = Array.from({ length: 5 }, () => full.sendAsync("y"));
  await sleep(100); // every wait under way
  const t = performance.now();
  empty.close();
  full.close();
  for (const r of await Promise.allSettled([...receivers, ...senders])) {
    assert.equal(r.status, "rejected");
    assert.ok((r as PromiseRejectedResult).reason instanceof ChannelClosedError);
  }
  assert.ok(performance.now() - t < 2000, `woke ${performance.now() - t} ms after close`);
});

test("placement: byteLength, ALIGN, adopting, descriptor and handle; another primitive or configuration is refused", () => {
  const opts = { capacity: 8, messageSize: 64 };
  const bytes = Channel.byteLength(opts);
  assert.ok(bytes >= 8 * 64);
  assert.equal(Channel.ALIGN, 8);
  const sab = new SharedArrayBuffer(bytes + 64);
  const ch = new Channel(sab, 8, opts);
  ch.send("kept");
  const again = new Channel(sab, 8); // adopts
  assert.equal(again.capacity, 8);
  assert.equal(again.messageSize, 64);
  assert.equal(Channel.from(ch.descriptor()).recvText(), "kept");
  assert.equal(ch.descriptor().type, "channel");
  assert.throws(() => new Channel(sab, 8, { capacity: 9, messageSize: 64 }), /capacity must be what this Channel/);
  assert.throws(() => new Channel(sab, 8, { capacity: 8, messageSize: 32 }), /messageSize must be what/);
  const m = Mutex.create();
  assert.throws(() => new Channel(m.memory, 0, opts), /holds a Mutex/);
  const chMem = Channel.create({ capacity: 1, messageSize: 8 }).memory as SharedArrayBuffer;
  assert.throws(() => new Mutex(chMem, 0), /holds a Channel/);
  assert.throws(() => new Channel(new SharedArrayBuffer(bytes)), /configuration/, "fresh memory needs options");
  const name = uniqueName();
  const seg = SharedMemory.create(name, bytes);
  try {
    const inSeg = new Channel(seg, 0, opts);
    inSeg.send("via handle");
    const h = inSeg.handle();
    assert.match(h, /^sa1:channel@0:shm:/);
    assert.equal(Channel.fromHandle(h).recvText(), "via handle");
  } finally {
    seg.close();
    SharedMemory.unlink(name);
  }
});

test("bad input: a TypeError or RangeError naming the method and what is allowed; the channel unchanged", async () => {
  const ch = Channel.create({ capacity: 2, messageSize: 4 });
  ch.send("ab");
  const unchanged = () => {
    assert.equal(ch.length, 1);
    assert.equal(ch.closed, false);
  };
  const bad: [() => unknown, RegExp, ErrorConstructor][] = [
    [
      () => Channel.create({ capacity: 0, messageSize: 4 }),
      /Channel.create: options.capacity must be an integer in \[1, 16777216\]; got 0/,
      RangeError,
    ],
    [() => Channel.create({ capacity: 2 ** 24 + 1, messageSize: 4 }), /options.capacity/, RangeError],
    [() => Channel.create({ capacity: 1.5, messageSize: 4 }), /options.capacity/, RangeError],
    [
      () => Channel.create({ capacity: 2, messageSize: 0 }),
      /options.messageSize must be an integer in \[1, 1073741824\]/,
      RangeError,
    ],
    [() => Channel.create({ capacity: 2, messageSize: 2 ** 31 }), /options.messageSize/, RangeError],
    [() => Channel.create({ capacity: "2", messageSize: 4 } as Any), /options.capacity must be an integer/, TypeError],
    [() => Channel.create({ capacity: 2 } as Any), /both given/, TypeError],
    [() => Channel.create(undefined as Any), /Channel.create: options must be an object/, TypeError],
    [() => Channel.byteLength({ capacity: -1, messageSize: 4 }), /Channel.byteLength: options.capacity/, RangeError],
    [
      () => new Channel(new SharedArrayBuffer(4096), 4, { capacity: 1, messageSize: 4 }),
      /new Channel.*(align|multiple)/i,
      RangeError,
    ],
    [() => new Channel(new SharedArrayBuffer(256), 0, { capacity: 8, messageSize: 64 }), /new Channel/, RangeError],
    [() => new Channel(new SharedArrayBuffer(4096), 4096, { capacity: 1, messageSize: 4 }), /new Channel/, RangeError],
    [() => new Channel(new ArrayBuffer(4096) as Any, 0, { capacity: 1, messageSize: 4 }), /new Channel/, TypeError],
    [() => new Channel(new SharedArrayBuffer(4096), 0, 5 as Any), /new Channel: options must be an object/, TypeError],
    [
      () => ch.send("abcde"),
      /Channel.send: data must be at most messageSize \(4\) bytes long; got 5 bytes/,
      RangeError,
    ],
    [() => ch.send("ééé"), /got 6 bytes/, RangeError],
    [() => ch.trySend(new Uint8Array(5)), /Channel.trySend: data must be at most messageSize/, RangeError],
    [() => ch.send(42 as Any), /Channel.send: data must be a Uint8Array or a string; got 42/, TypeError],
    [() => ch.send(new Uint16Array(1) as Any), /data must be a Uint8Array or a string; got a Uint16Array/, TypeError],
    [() => ch.send(Object.create(Uint8Array.prototype)), /data must be a Uint8Array/, TypeError],
    [() => ch.send("a", -1), /Channel.send: timeoutMs must be a number of milliseconds/, RangeError],
    [() => ch.send("a", "1" as Any), /timeoutMs must be a number/, TypeError],
    [() => ch.recv(NaN), /Channel.recv: timeoutMs/, RangeError],
    [() => ch.recvInto([1, 2] as Any), /Channel.recvInto: target must be a Uint8Array; got an Array/, TypeError],
    [() => ch.sendMany("ab" as Any), /Channel.sendMany: messages must be an array/, TypeError],
    [() => ch.sendMany(["a", "abcdefgh"]), /Channel.sendMany: messages\[1\] must be at most messageSize/, RangeError],
    [() => ch.sendMany(["a", 7 as Any]), /messages\[1\] must be a Uint8Array or a string/, TypeError],
    [() => ch.recvMany(0), /Channel.recvMany: max must be an integer ≥ 1; got 0/, RangeError],
    [() => ch.recvMany("3" as Any), /max must be an integer/, TypeError],
  ];
  for (const [f, re, cls] of bad) {
    assert.throws(f, (e: Error) => e instanceof cls && re.test(e.message), String(f));
    unchanged();
  }
  // a Uint8Array whose own properties lie about its length or buffer: its internal slots count
  const liar = new Uint8Array(8);
  Object.defineProperty(liar, "byteLength", { value: 2 });
  Object.defineProperty(liar, "length", { value: 2 });
  assert.throws(() => ch.send(liar), RangeError);
  const tiny = new Uint8Array(1);
  Object.defineProperty(tiny, "byteLength", { value: 4096 });
  Object.defineProperty(tiny, "buffer", { value: new SharedArrayBuffer(4096) });
  assert.throws(() => ch.recvInto(tiny), RangeError, "a 1-byte target, whatever it claims");
  unchanged();
  await assert.rejects(ch.sendAsync(5 as Any), TypeError);
  await assert.rejects(ch.recvAsync({ timeoutMs: -5 }), RangeError);
  await assert.rejects(ch.recvAsync({ signal: {} as Any }), /signal must be an AbortSignal/);
  await assert.rejects(ch.recvAsync(7 as Any), /options must be an object/);
  unchanged();
  // methods taken off the prototype are brand-checked
  assert.throws(() => Channel.prototype.send.call({} as Any, "x"), TypeError);
  assert.equal(ch.recvText(), "ab");
});

test("use after the SharedMemory is closed: SharedMemoryClosedError, also for a pending recvAsync", async () => {
  const opts = { capacity: 4, messageSize: 8 };
  const name = uniqueName();
  const seg = SharedMemory.create(name, Channel.byteLength(opts));
  try {
    const ch = new Channel(seg, 0, opts);
    const pending = ch.recvAsync();
    await sleep(20);
    seg.close();
    await assert.rejects(pending, SharedMemoryClosedError);
    assert.throws(() => ch.send("x"), SharedMemoryClosedError);
    assert.throws(() => ch.recv(), SharedMemoryClosedError);
    assert.throws(() => ch.length, SharedMemoryClosedError);
    assert.throws(() => ch.close(), SharedMemoryClosedError);
  } finally {
    SharedMemory.unlink(name);
  }
});
