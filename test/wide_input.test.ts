// Wide values: bad input (memory untouched), descriptors and handles, and
// closed segments.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { uniqueName } from "./helpers/names.ts";
import { bytes, type ErrorClass, filled, throwsLike, U128_MAX, untouched } from "./helpers/wide.ts";

const { AtomicI128, AtomicU128, AtomicBytes, AtomicString } = api;
const { SharedMemory, SharedMemoryClosedError } = api;
// deno-lint-ignore no-explicit-any
type Any = any;

// ---- bad input, descriptors, handles, closed segments ------------------------------

test("constructors: misalignment, bounds, widths, memory kinds; memory untouched", () => {
  const sab = new SharedArrayBuffer(64);
  for (const off of [1, 4, 8, 12]) {
    throwsLike(() => new AtomicU128(sab, off), RangeError, "new AtomicU128", "multiple of 16", `got ${off}`);
    throwsLike(() => new AtomicI128(sab, off), RangeError, "new AtomicI128", "multiple of 16");
    throwsLike(() => new AtomicBytes(sab, off, 16), RangeError, "new AtomicBytes", "multiple of 16");
    throwsLike(() => new AtomicString(sab, off, 16), RangeError, "new AtomicString", "multiple of 16");
  }
  throwsLike(() => new AtomicBytes(sab, 2, 4), RangeError, "multiple of 4");
  throwsLike(() => new AtomicString(sab, 4, 8), RangeError, "multiple of 8");
  throwsLike(() => new AtomicU128(new Uint8Array(sab, 8), 0), RangeError, "view's own offset 8");
  assert.equal(new AtomicU128(new Uint8Array(sab, 8), 8).byteOffset, 16);
  throwsLike(() => new AtomicU128(sab, 64), RangeError, "[0, 48]");
  throwsLike(() => new AtomicU128(new SharedArrayBuffer(8)), RangeError, "8 bytes cannot hold a 16-byte value");
  throwsLike(() => new AtomicU128(new ArrayBuffer(16) as Any), TypeError, "new AtomicU128", "not shared");
  throwsLike(() => new AtomicBytes(new ArrayBuffer(16) as Any, 0, 4), TypeError, "new AtomicBytes", "not shared");
  throwsLike(() => new AtomicU128(sab, "0" as Any), TypeError, "byteOffset must be a number");
  for (const w of [0, 3, 32, -1, 1.5, NaN]) {
    throwsLike(() => new AtomicBytes(sab, 0, w as Any), RangeError, "new AtomicBytes", "width", "1, 2, 4, 8, 16");
    throwsLike(() => new AtomicString(sab, 0, w as Any), RangeError, "new AtomicString", "width");
  }
  for (const w of [undefined, "8", 8n, null]) {
    throwsLike(() => new AtomicBytes(sab, 0, w as Any), TypeError, "new AtomicBytes", "width");
    throwsLike(() => AtomicString.create(w as Any), TypeError, "AtomicString.create", "width");
  }
  assert.deepEqual(new Uint8Array(sab), new Uint8Array(64));
});

test("values: non-bigint, out of range, wrong byte lengths and kinds, bad orders; memory untouched", () => {
  const sab = new SharedArrayBuffer(64);
  const mem = new Uint8Array(sab);
  const u = new AtomicU128(sab, 0);
  const i = new AtomicI128(sab, 16);
  const b = new AtomicBytes(sab, 32, 8);
  const s = new AtomicString(sab, 48, 16);
  mem.fill(0x5a);
  const U = "[0, 340282366920938463463374607431768211455]";
  const I = "[-170141183460469231731687303715884105728, 170141183460469231731687303715884105727]";
  const bad: [() => unknown, ErrorClass, ...string[]][] = [
    [() => u.store(1 as Any), TypeError, "AtomicU128.store", "value must be a bigint", U, "got 1"],
    [() => u.fetchAdd("1" as Any), TypeError, "AtomicU128.fetchAdd", 'got "1"'],
    [() => u.fetchAdd(undefined as Any), TypeError, "got undefined"],
    [() => u.store(-1n), RangeError, "AtomicU128.store", U, "got -1n"],
    [() => u.fetchAdd(1n << 128n), RangeError, "AtomicU128.fetchAdd", "got 340282366920938463463374607431768211456n"],
    [() => u.compareExchange(1n, -1n), RangeError, "AtomicU128.compareExchange", "desired"],
    [() => u.compareAndSet(1.5 as Any, 1n), TypeError, "AtomicU128.compareAndSet", "expected"],
    [() => i.store(1n << 127n), RangeError, "AtomicI128.store", I],
    [() => i.fetchMin(-(1n << 127n) - 1n), RangeError, "AtomicI128.fetchMin"],
    [() => i.exchange(true as Any), TypeError, "AtomicI128.exchange", "got true"],
    [() => u.update((() => -1n) as Any), RangeError, "AtomicU128.update", "fn's result"],
    [() => u.update(5 as Any), TypeError, "AtomicU128.update", "a function"],
    [() => u.load("release" as Any), RangeError, "AtomicU128.load", "order", "not allowed"],
    [() => u.store(1n, "acquire" as Any), RangeError, "AtomicU128.store", "order"],
    [() => u.fetchAdd(1n, "bogus" as Any), RangeError, "AtomicU128.fetchAdd", "order"],
    [() => u.compareAndSet(1n, 2n, 5 as Any), TypeError, "AtomicU128.compareAndSet", "order"],
    [() => b.store(bytes(1, 2, 3)), RangeError, "AtomicBytes.store", "a Uint8Array of 8 bytes", "got 3 bytes"],
    [() => b.store(new Uint8Array(16)), RangeError, "got 16 bytes"],
    [() => b.store([1, 2, 3, 4, 5, 6, 7, 8] as Any), TypeError, "AtomicBytes.store", "got an Array"],
    [() => b.store(new Uint16Array(4) as Any), TypeError, "Uint16Array"],
    [() => b.store("abcdefgh" as Any), TypeError, "AtomicBytes.store"],
    [() => b.fetchOr(1n as Any), TypeError, "AtomicBytes.fetchOr"],
    [() => b.compareAndSet(new Uint8Array(8), new Uint8Array(7)), RangeError, "AtomicBytes.compareAndSet", "desired"],
    [() => b.compareExchange(null as Any, new Uint8Array(8)), TypeError, "AtomicBytes.compareExchange", "expected"],
    [() => b.loadInto(new Uint8Array(4)), RangeError, "AtomicBytes.loadInto", "target"],
    [() => b.load("acq_rel" as Any), RangeError, "AtomicBytes.load", "order"],
    [() => b.store(new Uint8Array(8), "acquire" as Any), RangeError, "AtomicBytes.store", "order"],
    [() => b.update((() => new Uint8Array(2)) as Any), RangeError, "AtomicBytes.update", "fn's result"],
    [() => s.store("x", "acq_rel" as Any), RangeError, "AtomicString.store", "order"],
    [() => s.compareAndSet("a", "b", "nope" as Any), RangeError, "AtomicString.compareAndSet", "order"],
  ];
  for (const [fn, cls, ...parts] of bad) untouched(mem, () => throwsLike(fn, cls, ...parts));
  throwsLike(() => AtomicU128.create(-1n), RangeError, "AtomicU128.create", "initial");
  throwsLike(() => AtomicBytes.create(4, new Uint8Array(2)), RangeError, "AtomicBytes.create", "initial");
});

test("descriptors and handles rebuild every wide class; mismatches are refused", () => {
  const sab = new SharedArrayBuffer(64);
  const u = new AtomicU128(sab, 16);
  const b = new AtomicBytes(sab, 8, 8);
  const s = new AtomicString(sab, 32, 16);
  const i = new AtomicI128(sab, 48);
  u.store(1n << 70n);
  b.store(bytes(1, 2, 3, 4, 5, 6, 7, 8));
  s.store("descriptor");
  i.store(-5n);
  const d = u.descriptor();
  assert.deepEqual(Object.keys(d).sort(), ["buffer", "byteOffset", "kind", "type"]);
  assert.deepEqual([d.type, b.descriptor().type, s.descriptor().type, i.descriptor().type], [
    "u128",
    "bytes8",
    "str16",
    "i128",
  ]);
  const rebuilt = (x: { descriptor(): unknown }) => api.fromDescriptor(structuredClone(x.descriptor()) as never) as Any;
  assert.equal(rebuilt(u).fetchAdd(1n), 1n << 70n);
  assert.equal(u.load(), (1n << 70n) + 1n);
  assert.deepEqual(rebuilt(b).load(), bytes(1, 2, 3, 4, 5, 6, 7, 8));
  assert.equal(rebuilt(s).exchange("again"), "descriptor");
  assert.equal(rebuilt(i).load(), -5n);
  assert.ok(rebuilt(b) instanceof AtomicBytes && rebuilt(s) instanceof AtomicString);
  assert.equal(AtomicU128.from(d).load(), (1n << 70n) + 1n);
  assert.equal(AtomicString.from(s.descriptor()).load(), "again");
  assert.equal(AtomicBytes.from(b.descriptor()).width, 8);
  throwsLike(() => AtomicI128.from(d), TypeError, "AtomicI128.from", 'type "i128"', "this is u128");
  throwsLike(() => AtomicBytes.from(s.descriptor()), TypeError, "AtomicBytes.from", "this is str16");
  throwsLike(() => AtomicString.from(b.descriptor()), TypeError, "AtomicString.from", "this is bytes8");
  throwsLike(() => AtomicU128.from({} as Any), TypeError, "AtomicU128.from", "descriptor");
  throwsLike(() => api.fromDescriptor({ ...d, type: "u256" } as never), TypeError, "fromDescriptor");
  throwsLike(() => u.handle(), TypeError, "AtomicU128.handle", "SharedMemory");
  throwsLike(() => s.handle(), TypeError, "AtomicString.handle", "SharedMemory");

  const name = uniqueName();
  const seg = SharedMemory.create(name, 64);
  try {
    const su = new AtomicU128(seg, 16);
    const ss = new AtomicString(seg, 0, 8);
    const sb = new AtomicBytes(seg, 32, 16);
    assert.equal(su.handle().replace(/\?id=\d+\.\d+$/, ""), `sa1:u128@16:shm:${name}`);
    assert.equal(ss.handle().replace(/\?id=\d+\.\d+$/, ""), `sa1:str8@0:shm:${name}`);
    assert.equal(sb.handle().replace(/\?id=\d+\.\d+$/, ""), `sa1:bytes16@32:shm:${name}`);
    assert.equal(su.descriptor().segment!.replace(/\?id=\d+\.\d+$/, ""), `sa1:shm:${name}`);
    (api.fromHandle(su.handle()) as Any).store(U128_MAX);
    assert.equal(su.load(), U128_MAX);
    AtomicString.fromHandle(ss.handle()).store("handle");
    assert.equal(ss.load(), "handle");
    AtomicBytes.fromHandle(sb.handle()).store(filled(16, (x) => x));
    assert.deepEqual(sb.load(), filled(16, (x) => x));
    assert.equal(AtomicU128.from(su.descriptor()).load(), U128_MAX);
    throwsLike(() => AtomicI128.fromHandle(su.handle()), TypeError, "AtomicI128.fromHandle", "this is u128");
    throwsLike(() => AtomicBytes.fromHandle(ss.handle()), TypeError, "AtomicBytes.fromHandle", "this is str8");
    throwsLike(() => AtomicString.fromHandle(`sa1:str8@4:shm:${name}`), RangeError, "multiple of 8");
    throwsLike(() => AtomicU128.fromHandle(`sa1:u128@8:shm:${name}`), RangeError, "multiple of 16");
    throwsLike(() => AtomicU128.fromHandle("nonsense"), RangeError, "AtomicU128.fromHandle", "handle");
    throwsLike(() => AtomicString.fromHandle(5 as Any), TypeError, "AtomicString.fromHandle");
  } finally {
    seg.close();
    seg.unlink();
  }
});

test("a closed SharedMemory makes every method of every wide atomic in it throw", () => {
  const name = uniqueName();
  const seg = SharedMemory.create(name, 64);
  const u = new AtomicU128(seg, 0);
  const b = new AtomicBytes(seg, 16, 8);
  const s = new AtomicString(seg, 32, 16);
  u.store(7n);
  s.store("closing");
  seg.close();
  const calls: [() => unknown, string][] = [
    [() => u.load(), "AtomicU128.load"],
    [() => u.fetchAdd(1n), "AtomicU128.fetchAdd"],
    [() => u.compareAndSet(7n, 8n), "AtomicU128.compareAndSet"],
    [() => u.update((x) => x), "AtomicU128.update"],
    [() => u.handle(), "AtomicU128.handle"],
    [() => b.load(), "AtomicBytes.load"],
    [() => b.loadInto(new Uint8Array(8)), "AtomicBytes.loadInto"],
    [() => b.fetchXor(new Uint8Array(8)), "AtomicBytes.fetchXor"],
    [() => s.load(), "AtomicString.load"],
    [() => s.compareAndSet("closing", "x"), "AtomicString.compareAndSet"],
    [() => s.asBytes(), "AtomicString.asBytes"],
    [() => new AtomicU128(seg, 0), "new AtomicU128"],
    [() => new AtomicString(seg, 0, 8), "new AtomicString"],
  ];
  for (const [call, where] of calls) throwsLike(call, SharedMemoryClosedError, where, "closed");
  assert.ok(u instanceof AtomicU128 && b instanceof AtomicBytes && s instanceof AtomicString);
  const again = SharedMemory.open(name);
  assert.equal(new AtomicU128(again, 0).load(), 7n);
  assert.equal(new AtomicString(again, 32, 16).load(), "closing");
  again.close();
  seg.unlink();
});
