// Bad input: each case throws a TypeError or RangeError whose message names
// the method, the parameter and what is allowed, and leaves memory untouched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";

const { AtomicI8, AtomicU8, AtomicU16, AtomicI32, AtomicU32, AtomicI64, AtomicU64, AtomicF64, AtomicBool } = api;
// deno-lint-ignore no-explicit-any
type Any = any;

/** Asserts `fn` throws `cls` with a message matching every pattern. */
function throwsLike(fn: () => unknown, cls: ErrorConstructor, ...patterns: (string | RegExp)[]) {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e?.constructor?.name}: ${e?.message}`);
    for (const p of patterns) {
      if (typeof p === "string") assert.ok(e.message.includes(p), `"${e.message}" lacks "${p}"`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

/** Runs `fn` expecting a throw and checks the memory's bytes did not change. */
function untouched(sab: SharedArrayBuffer, fn: () => void) {
  const before = new Uint8Array(sab).slice();
  fn();
  assert.deepEqual(new Uint8Array(sab), before, "memory changed after a throw");
}

test("constructor: memory that is not shared, not memory, or detached", () => {
  const cases: [unknown, RegExp][] = [
    [new ArrayBuffer(8), /an ArrayBuffer is not shared/],
    [new Int32Array(4), /an ArrayBuffer is not shared/],
    [{}, /got an Object/],
    [null, /got null/],
    [undefined, /got undefined/],
    [42, /got 42/],
    ["sab", /got "sab"/],
    [[1, 2], /got an Array/],
  ];
  for (const [memory, got] of cases) {
    throwsLike(
      () => new AtomicI32(memory as Any),
      TypeError,
      "new AtomicI32",
      "memory must be a SharedArrayBuffer",
      got,
    );
  }
  const ab = new ArrayBuffer(8);
  const view = new Uint8Array(ab);
  structuredClone(ab, { transfer: [ab] });
  throwsLike(() => new AtomicU8(view), TypeError, "new AtomicU8", "detached");
});

test("constructor: offsets out of bounds, negative, non-integer, wrong kind; buffers too small", () => {
  const sab = new SharedArrayBuffer(16);
  throwsLike(() => new AtomicI32(sab, 16), RangeError, "new AtomicI32", "byteOffset", "[0, 12]", "got 16");
  throwsLike(() => new AtomicI32(sab, 13), RangeError, "byteOffset", "[0, 12]");
  throwsLike(() => new AtomicI32(sab, -4), RangeError, "byteOffset", "got -4");
  throwsLike(() => new AtomicI32(sab, 1.5), RangeError, "byteOffset", "got 1.5");
  throwsLike(() => new AtomicI32(sab, NaN), RangeError, "byteOffset", "got NaN");
  throwsLike(() => new AtomicI32(sab, Infinity), RangeError, "byteOffset");
  throwsLike(() => new AtomicI32(sab, "4" as Any), TypeError, "byteOffset must be a number", 'got "4"');
  throwsLike(() => new AtomicI32(sab, 4n as Any), TypeError, "byteOffset must be a number", "got 4n");
  throwsLike(
    () => new AtomicU64(new SharedArrayBuffer(4)),
    RangeError,
    "new AtomicU64",
    "4 bytes cannot hold a 8-byte value",
  );
  throwsLike(() => new AtomicI32(new Uint8Array(sab, 8, 2)), RangeError, "2 bytes cannot hold a 4-byte value");
  throwsLike(() => new AtomicI32(new Uint8Array(sab, 8, 4), 4), RangeError, "[0, 0]");
});

test("constructor: misaligned offsets, also through a view's own offset", () => {
  const sab = new SharedArrayBuffer(64);
  for (const [cls, off] of [[AtomicU16, 1], [AtomicI32, 2], [AtomicI64, 4], [AtomicF64, 12]] as const) {
    throwsLike(
      () => new (cls as Any)(sab, off),
      RangeError,
      `new ${cls.name}`,
      "byteOffset",
      `multiple of ${cls.BYTES}`,
    );
  }
  throwsLike(() => new AtomicI32(new Uint8Array(sab, 1), 4), RangeError, "multiple of 4", "view's own offset 1");
  assert.equal(new AtomicI32(new Uint8Array(sab, 1), 3).byteOffset, 4);
});

test("values: wrong kinds are TypeErrors, out-of-range and non-integers RangeErrors; memory untouched", () => {
  const sab = new SharedArrayBuffer(16);
  const i8 = new AtomicI8(sab, 0);
  const u32 = new AtomicU32(sab, 4);
  const u64 = new AtomicU64(sab, 8);
  new Uint8Array(sab).fill(0x5a);
  const bad: [() => unknown, ErrorConstructor, ...string[]][] = [
    [() => i8.store(128), RangeError, "AtomicI8.store", "value", "[-128, 127]", "got 128"],
    [() => i8.fetchAdd(-129), RangeError, "AtomicI8.fetchAdd", "got -129"],
    [() => i8.fetchAdd(1.5), RangeError, "AtomicI8.fetchAdd", "integer", "got 1.5"],
    [() => i8.fetchAdd(NaN), RangeError, "got NaN"],
    [() => i8.fetchOr(1n as Any), TypeError, "AtomicI8.fetchOr", "a number", "got 1n"],
    [() => i8.exchange("1" as Any), TypeError, "AtomicI8.exchange", 'got "1"'],
    [() => i8.store(undefined as Any), TypeError, "AtomicI8.store", "got undefined"],
    [() => i8.store(true as Any), TypeError, "got true"],
    [() => u32.fetchSub(-1), RangeError, "AtomicU32.fetchSub", "[0, 4294967295]", "got -1"],
    [() => u32.store(2 ** 32), RangeError, "AtomicU32.store", "got 4294967296"],
    [() => u32.compareExchange(1, -1), RangeError, "AtomicU32.compareExchange", "desired"],
    [() => u32.compareAndSet(0.5, 1), RangeError, "AtomicU32.compareAndSet", "expected"],
    [() => u64.store(-1n), RangeError, "AtomicU64.store", "[0, 18446744073709551615]", "got -1n"],
    [() => u64.fetchAdd(2n ** 64n), RangeError, "AtomicU64.fetchAdd", "got 18446744073709551616n"],
    [() => u64.fetchAdd(2 ** 53), RangeError, "AtomicU64.fetchAdd", "safe integer", "got 9007199254740992"],
    [() => u64.fetchAdd(-1), RangeError, "AtomicU64.fetchAdd", "[0, 2^53-1]", "got -1"],
    [() => u64.fetchAdd(0.5), RangeError, "got 0.5"],
    [() => u64.fetchAdd(NaN), RangeError, "got NaN"],
    [() => u64.fetchAdd("5" as Any), TypeError, "AtomicU64.fetchAdd", 'got "5"'],
    [() => u64.compareExchange(1n, 2 as Any), TypeError, "AtomicU64.compareExchange", "desired", "bigint", "got 2"],
    [() => u64.compareExchange(1, 2n as Any), TypeError, "desired", "got 2n"],
  ];
  for (const [fn, cls, ...parts] of bad) untouched(sab, () => throwsLike(fn, cls, ...parts));
});

test("values: AtomicI64 range and AtomicBool/AtomicF64 kinds", () => {
  const sab = new SharedArrayBuffer(24);
  const i64 = new AtomicI64(sab, 0);
  const f = new AtomicF64(sab, 8);
  const b = new AtomicBool(sab, 16);
  untouched(
    sab,
    () => throwsLike(() => i64.store(2n ** 63n), RangeError, "[-9223372036854775808, 9223372036854775807]"),
  );
  untouched(sab, () => throwsLike(() => i64.store(-(2 ** 53)), RangeError, "[-(2^53-1), 2^53-1]"));
  untouched(sab, () => throwsLike(() => f.fetchAdd(1n as Any), TypeError, "AtomicF64.fetchAdd", "a number", "got 1n"));
  untouched(sab, () => throwsLike(() => f.store("0" as Any), TypeError, "AtomicF64.store"));
  untouched(sab, () => throwsLike(() => b.store(1 as Any), TypeError, "AtomicBool.store", "true or false", "got 1"));
  untouched(sab, () => throwsLike(() => b.fetchOr(null as Any), TypeError, "AtomicBool.fetchOr", "got null"));
});

test("memory orders: unknown names, wrong kinds, and orders the operation does not allow", () => {
  const sab = new SharedArrayBuffer(8);
  const a = new AtomicI32(sab, 0);
  const u = new AtomicU64(sab, 0);
  const cases: [() => unknown, ErrorConstructor, ...string[]][] = [
    [
      () => a.load("release" as Any),
      RangeError,
      "AtomicI32.load",
      "order",
      '"relaxed", "acquire", "seq_cst"',
      "not allowed",
    ],
    [() => a.load("acq_rel" as Any), RangeError, "AtomicI32.load", "not allowed"],
    [() => a.store(1, "acquire" as Any), RangeError, "AtomicI32.store", '"relaxed", "release", "seq_cst"'],
    [() => a.fetchAdd(1, "sequential" as Any), RangeError, "AtomicI32.fetchAdd", "order", 'got "sequential"'],
    [() => a.fetchAdd(1, 5 as Any), TypeError, "AtomicI32.fetchAdd", "order", "got 5"],
    [() => a.fetchAdd(1, null as Any), TypeError, "order", "got null"],
    [() => a.compareExchange(0, 1, "SeqCst" as Any), RangeError, "AtomicI32.compareExchange", "order"],
    [() => u.fetchAdd(1n, "consume" as Any), RangeError, "AtomicU64.fetchAdd", "order"],
    [() => u.fetchAdd(1, "bogus" as Any), RangeError, "AtomicU64.fetchAdd", "order"],
    [() => u.loadNumber("release" as Any), RangeError, "AtomicU64.load", "order"],
    [() => a.update((x) => x + 1, "nope" as Any), RangeError, "AtomicI32.update", "order"],
  ];
  for (const [fn, cls, ...parts] of cases) untouched(sab, () => throwsLike(fn, cls, ...parts));
});

test("update: a non-function, or a function returning a bad value, changes nothing", () => {
  const sab = new SharedArrayBuffer(8);
  const a = new AtomicU8(sab, 0);
  a.store(200);
  untouched(sab, () => throwsLike(() => a.update(5 as Any), TypeError, "AtomicU8.update", "fn", "a function"));
  untouched(
    sab,
    () => throwsLike(() => a.update((x) => x + 100), RangeError, "AtomicU8.update", "fn's result", "got 300"),
  );
  untouched(sab, () =>
    assert.throws(() =>
      a.update(() => {
        throw new Error("boom");
      }), /boom/));
  assert.equal(a.load(), 200);
});

test("descriptors: malformed or of another type", () => {
  const d = new AtomicI32(new SharedArrayBuffer(16)).descriptor();
  throwsLike(() => api.fromDescriptor({} as Any), TypeError, "fromDescriptor", "descriptor");
  throwsLike(() => api.fromDescriptor(null as Any), TypeError, "fromDescriptor", "got null");
  throwsLike(() => api.fromDescriptor({ ...d, type: "i33" } as Any), TypeError, "fromDescriptor");
  throwsLike(() => AtomicU32.from(d), TypeError, "AtomicU32.from", 'type "u32"', "this is i32");
  throwsLike(() => AtomicI32.from({ ...d, byteOffset: 2 }), RangeError, "new AtomicI32", "multiple of 4");
  throwsLike(() => AtomicI32.from({ ...d, buffer: new ArrayBuffer(4) as Any }), TypeError, "not shared");
});
