// Wide values: AtomicI128/AtomicU128, AtomicBytes, AtomicString. Every
// operation at its edges against a BigInt/byte model; bad input; descriptors,
// handles and closed segments; races on Workers with exact results; torn
// reads never seen; the library calls no lock-based helper; and where 16-byte
// atomics are not lock-free, the classes refuse to exist.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { api, runtime } from "./helpers/api.ts";
import { backend } from "../src/native/backend.ts";
import { libraryPath, openGroup } from "../src/native/library.ts";
import { WIDE_EXTRA_SYMBOLS, wideExportTable } from "../src/wide/table.ts";
import { uniqueName } from "./helpers/names.ts";
import { run as runCommand, self } from "./helpers/spawn.ts";
import type { ReadResult, WideJob } from "./workers/wide_worker.ts";

const { AtomicI128, AtomicU128, AtomicBytes, AtomicString } = api;
const { SharedMemory, SharedMemoryClosedError } = api;
// deno-lint-ignore no-explicit-any
type Any = any;

const ORDERS = [undefined, "relaxed", "acquire", "release", "acq_rel", "seq_cst"] as const;
const LOAD_ORDERS = [undefined, "relaxed", "acquire", "seq_cst"] as const;
const STORE_ORDERS = [undefined, "relaxed", "release", "seq_cst"] as const;
const U128_MAX = (1n << 128n) - 1n;
const I128_MIN = -(1n << 127n);
const I128_MAX = (1n << 127n) - 1n;

type ErrorClass = abstract new (...args: never[]) => Error;

/** Asserts `fn` throws `cls` with a message containing every part. */
function throwsLike(fn: () => unknown, cls: ErrorClass, ...parts: (string | RegExp)[]) {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e?.constructor?.name}: ${e?.message}`);
    for (const p of parts) {
      if (typeof p === "string") assert.ok(e.message.includes(p), `"${e.message}" lacks "${p}"`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

/** Runs `fn` expecting a throw and checks the memory's bytes did not change. */
function untouched(bytes: Uint8Array, fn: () => void) {
  const before = bytes.slice();
  fn();
  assert.deepEqual(bytes.slice(), before, "memory changed after a throw");
}

// ---- 128-bit integers ------------------------------------------------------------

const INT_OPS: Record<string, (a: bigint, b: bigint) => bigint> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  And: (a, b) => a & b,
  Or: (a, b) => a | b,
  Xor: (a, b) => a ^ b,
  Nand: (a, b) => ~(a & b),
  Max: (a, b) => (a > b ? a : b),
  Min: (a, b) => (a < b ? a : b),
};
const lower = (s: string) => s[0].toLowerCase() + s.slice(1);

for (const { cls, signed } of [{ cls: AtomicI128, signed: true }, { cls: AtomicU128, signed: false }]) {
  const wrap = (x: bigint) => (signed ? BigInt.asIntN(128, x) : BigInt.asUintN(128, x));
  const min = signed ? I128_MIN : 0n;
  const max = signed ? I128_MAX : U128_MAX;
  const M64 = (1n << 64n) - 1n;
  const edges = [
    ...new Set(
      [min, min + 1n, -(1n << 64n), -(1n << 63n) - 1n, -1n, 0n, 1n, 5n, M64, M64 + 1n, 1n << 100n, max - 1n, max]
        .filter((x) => x >= min && x <= max),
    ),
  ];

  test(`${cls.name}: load/store/exchange/compareExchange/compareAndSet at the edges, every order`, () => {
    const a = cls.create();
    assert.equal(a.load(), 0n);
    for (const x of edges) {
      for (const o of STORE_ORDERS) {
        a.store(x, o);
        for (const lo of LOAD_ORDERS) assert.equal(a.load(lo), x);
      }
      for (const y of edges) {
        for (const o of ORDERS) {
          a.store(x);
          assert.equal(a.exchange(y, o), x);
          assert.equal(a.load(), y);
          a.store(x);
          assert.equal(a.compareExchange(x, y, o), x);
          assert.equal(a.load(), y);
          if (x !== y) {
            a.store(x);
            assert.equal(a.compareExchange(y, y, o), x, "a failed compareExchange returns the current value");
            assert.equal(a.compareAndSet(y, x, o), false);
            assert.equal(a.load(), x);
          }
          a.store(x);
          assert.equal(a.compareAndSet(x, y, o), true);
          assert.equal(a.load(), y);
        }
      }
    }
  });

  test(`${cls.name}: every read-modify-write at the edges, both return forms`, () => {
    const a: Any = cls.create();
    for (const [name, f] of Object.entries(INT_OPS)) {
      for (const x of edges) {
        for (const y of edges) {
          const next = wrap(f(x, y));
          for (const o of [undefined, "relaxed", "acq_rel"]) {
            a.store(x);
            assert.equal(a[`fetch${name}`](y, o), x, `fetch${name}(${x}, ${y})`);
            assert.equal(a.load(), next, `fetch${name}(${x}, ${y}) stored`);
            a.store(x);
            assert.equal(a[`${lower(name)}Fetch`](y, o), next, `${lower(name)}Fetch(${x}, ${y})`);
          }
        }
      }
    }
    // every order on one op of each kind
    for (const o of ORDERS) {
      a.store(1n);
      assert.equal(a.fetchAdd(M64, o), 1n);
      assert.equal(a.orFetch(1n << 120n, o), (1n << 120n) + M64 + 1n);
    }
  });

  test(`${cls.name}: wrap-around at the limits, update, toString`, () => {
    const a = cls.create(max);
    assert.equal(a.addFetch(1n), min, "max + 1 wraps to min");
    assert.equal(a.subFetch(1n), max, "min - 1 wraps to max");
    assert.equal(a.fetchAdd(max), max);
    assert.equal(a.load(), wrap(2n * max));
    a.store(M64);
    assert.equal(a.addFetch(1n), M64 + 1n, "the carry crosses the 64-bit halves");
    assert.equal(a.subFetch(1n), M64, "and the borrow");
    assert.equal(a.update((v) => v * 3n), 3n * M64);
    assert.equal(a.load(), 3n * M64);
    assert.equal(String(a), `${cls.name}(${3n * M64})`);
    assert.equal(cls.BYTES, 16);
    assert.equal(cls.type, signed ? "i128" : "u128");
  });
}

test("AtomicU128 at 2^128-1 and AtomicI128 at -2^127: the issue's edges", () => {
  const u = AtomicU128.create(U128_MAX);
  assert.equal(u.fetchAdd(1n), U128_MAX);
  assert.equal(u.load(), 0n);
  assert.equal(u.fetchSub(1n), 0n);
  assert.equal(u.load(), U128_MAX);
  assert.equal(u.fetchNand(U128_MAX), U128_MAX);
  assert.equal(u.load(), 0n);
  const i = AtomicI128.create(I128_MIN);
  assert.equal(i.load(), I128_MIN);
  assert.equal(i.fetchSub(1n), I128_MIN);
  assert.equal(i.load(), I128_MAX);
  assert.equal(i.fetchMin(-1n), I128_MAX);
  assert.equal(i.minFetch(I128_MIN), I128_MIN);
  assert.equal(i.fetchMax(0n), I128_MIN, "signed max: -2^127 < 0");
  const asU = new AtomicU128(i.memory, 0);
  asU.store(1n << 127n);
  assert.equal(i.load(), I128_MIN, "the same bits: two's complement");
  assert.equal(asU.fetchMax(1n), 1n << 127n, "unsigned max: 2^127 > 1");
});

test("layout is plain: an AtomicU128 at offset 16 is the two halves a BigUint64Array sees there", () => {
  const sab = new SharedArrayBuffer(48);
  const halves = new BigUint64Array(sab);
  const a = new AtomicU128(sab, 16);
  a.store((0xdead_beefn << 64n) | 0xcafe_f00dn);
  assert.deepEqual([...halves], [0n, 0n, 0xcafe_f00dn, 0xdead_beefn, 0n, 0n]);
  halves[3] = 1n;
  assert.equal(a.load(), (1n << 64n) | 0xcafe_f00dn);
  const b = new AtomicI128(new BigInt64Array(sab, 16), 16);
  assert.equal(b.byteOffset, 32);
  b.store(-2n);
  assert.deepEqual([...new BigInt64Array(sab, 32)], [-2n, -1n]);
});

// ---- byte strings ----------------------------------------------------------------

const WIDTHS = [1, 2, 4, 8, 16] as const;
const BYTE_OPS: Record<string, (a: number, b: number) => number> = {
  And: (a, b) => a & b,
  Or: (a, b) => a | b,
  Xor: (a, b) => a ^ b,
  Nand: (a, b) => ~(a & b) & 0xff,
};
const bytes = (...xs: number[]) => new Uint8Array(xs);
const filled = (w: number, f: (i: number) => number) => Uint8Array.from({ length: w }, (_, i) => f(i));

for (const w of WIDTHS) {
  test(`AtomicBytes(${w}): every operation against a byte model, byte i at offset + i, every order`, () => {
    const sab = new SharedArrayBuffer(48);
    const mem = new Uint8Array(sab);
    const a = new AtomicBytes(sab, 16, w);
    assert.equal(a.width, w);
    assert.equal(a.type, `bytes${w}`);
    const values = [
      new Uint8Array(w),
      filled(w, () => 0xff),
      filled(w, (i) => i + 1),
      filled(w, (i) => (i * 37 + 0x5a) & 0xff),
    ];
    assert.deepEqual(a.load(), values[0]);
    for (const x of values) {
      for (const o of STORE_ORDERS) {
        a.store(x, o);
        assert.deepEqual(mem.slice(16, 16 + w), x, "byte i of the value is byte offset + i of memory");
        for (const lo of LOAD_ORDERS) assert.deepEqual(a.load(lo), x);
      }
      assert.deepEqual(mem.slice(0, 16), new Uint8Array(16), "nothing before");
      assert.deepEqual(mem.slice(16 + w), new Uint8Array(32 - w), "nothing after");
      for (const y of values) {
        for (const o of ORDERS) {
          a.store(x);
          assert.deepEqual(a.exchange(y, o), x);
          assert.deepEqual(a.load(), y);
          a.store(x);
          assert.deepEqual(a.compareExchange(x, y, o), x);
          assert.deepEqual(a.load(), y);
          const same = x.every((b, i) => b === y[i]);
          a.store(x);
          assert.equal(a.compareAndSet(y, y, o), same);
          if (!same) {
            assert.deepEqual(a.compareExchange(y, y, o), x, "a failed compareExchange returns the current bytes");
            assert.deepEqual(a.load(), x);
          }
          for (const [name, f] of Object.entries(BYTE_OPS)) {
            const next = x.map((b, i) => f(b, y[i]));
            a.store(x);
            assert.deepEqual((a as Any)[`fetch${name}`](y, o), x, `fetch${name}`);
            assert.deepEqual(a.load(), next, `fetch${name} stored`);
            a.store(x);
            assert.deepEqual((a as Any)[`${lower(name)}Fetch`](y, o), next, `${lower(name)}Fetch`);
          }
        }
      }
    }
  });
}

test("AtomicBytes: results are fresh arrays, never views of shared memory; loadInto, update, create, toString", () => {
  const a = AtomicBytes.create(4, bytes(1, 2, 3, 4));
  const r = a.load();
  assert.ok(!(r.buffer instanceof SharedArrayBuffer) && r.byteLength === 4 && r.buffer.byteLength === 4);
  r[0] = 99;
  assert.deepEqual(a.load(), bytes(1, 2, 3, 4));
  const input = bytes(5, 6, 7, 8);
  a.store(input);
  input[0] = 0;
  assert.deepEqual(a.load(), bytes(5, 6, 7, 8), "store copies its input");
  const buf = new Uint8Array(4);
  assert.equal(a.loadInto(buf), buf);
  assert.deepEqual(buf, bytes(5, 6, 7, 8));
  assert.deepEqual(a.update((b) => b.map((x) => x + 1)), bytes(6, 7, 8, 9));
  assert.deepEqual(a.load(), bytes(6, 7, 8, 9));
  assert.equal(String(a), "AtomicBytes(06 07 08 09)");
  assert.deepEqual(AtomicBytes.create(16).load(), new Uint8Array(16));
  assert.deepEqual(AtomicBytes.WIDTHS, [1, 2, 4, 8, 16]);
  // a Uint8Array over a SharedArrayBuffer, or a Node Buffer, is a Uint8Array too
  const shared = new Uint8Array(new SharedArrayBuffer(4)).fill(7);
  a.store(shared);
  assert.deepEqual(a.load(), bytes(7, 7, 7, 7));
});

// ---- strings ---------------------------------------------------------------------

const utf8 = (s: string) => new TextEncoder().encode(s);

test("AtomicString: round trips up to exactly the width, UTF-8 then zero padding", () => {
  const cases: [number, string[]][] = [
    [1, ["", "a", "~"]],
    [2, ["", "ab", "é", "a"]],
    [4, ["", "abcd", "€a", "😀", "aé"]],
    [8, ["", "ab", "idle", "naïve", "😀😀", "日本ab"]],
    [16, ["", "0123456789abcdef", "ünïcödé", "𝄞 music", "ab"]],
  ];
  for (const [w, strings] of cases) {
    const sab = new SharedArrayBuffer(32);
    const s = new AtomicString(sab, 16, w as 1);
    assert.equal(s.load(), "", "zeroed memory is the empty string");
    for (const x of strings) {
      s.store(x);
      assert.equal(s.load(), x);
      const enc = utf8(x);
      const want = new Uint8Array(w);
      want.set(enc);
      assert.deepEqual(new Uint8Array(sab, 16, w), want, `"${x}" is its UTF-8 and zero bytes`);
      assert.deepEqual(s.asBytes().load(), want);
    }
  }
});

test("AtomicString: exchange, compareExchange, compareAndSet, update, every order; exact equality", () => {
  const s = AtomicString.create(8, "ab");
  for (const o of ORDERS) {
    s.store("ab");
    assert.equal(s.compareAndSet("ab", "cd", o), true);
    assert.equal(s.compareAndSet("ab", "ef", o), false);
    assert.equal(s.compareExchange("ab", "ef", o), "cd");
    assert.equal(s.compareExchange("cd", "ünï", o), "cd");
    assert.equal(s.exchange("ab", o), "ünï");
    for (const lo of LOAD_ORDERS) assert.equal(s.load(lo), "ab");
  }
  for (const o of STORE_ORDERS) {
    s.store("x", o);
    assert.equal(s.load(), "x");
  }
  // no normalization: é precomposed and e + combining acute are different strings
  s.store("\u00e9");
  assert.equal(s.compareAndSet("e\u0301", "no"), false);
  assert.equal(s.compareAndSet("\u00e9", "yes"), true);
  assert.equal(s.update((v) => v + "!"), "yes!");
  assert.equal(s.load(), "yes!");
  assert.equal(String(s), 'AtomicString("yes!")');
  assert.equal(s.type, "str8");
  assert.deepEqual(AtomicString.WIDTHS, [1, 2, 4, 8, 16]);
});

test("AtomicString: too long is a RangeError naming both lengths, never a cut character", () => {
  const sab = new SharedArrayBuffer(16);
  const mem = new Uint8Array(sab);
  const s = new AtomicString(sab, 8, 8);
  s.store("keep");
  const cases: [string, number][] = [
    ["123456789", 9],
    ["1234567é", 9], // the é would be cut in half
    ["1234567😀", 11],
    ["日本語", 9],
    ["ünïcödé", 11],
  ];
  for (const [x, n] of cases) {
    for (
      const call of [
        () => s.store(x),
        () => s.exchange(x),
        () => s.compareAndSet("keep", x),
        () => s.compareExchange(x, "a"),
      ]
    ) {
      untouched(mem, () => throwsLike(call, RangeError, "AtomicString.", "at most 8 bytes", `got ${n} bytes`));
    }
  }
  assert.equal(s.load(), "keep");
  const one = AtomicString.create(1);
  throwsLike(() => one.store("é"), RangeError, "at most 1 bytes", "got 2 bytes");
  throwsLike(() => AtomicString.create(2, "abc"), RangeError, "AtomicString.create", "initial", "got 3 bytes");
});

test("AtomicString: lone surrogates, NUL and non-strings are refused; memory untouched", () => {
  const sab = new SharedArrayBuffer(16);
  const mem = new Uint8Array(sab);
  const s = new AtomicString(sab, 0, 16);
  s.store("keep");
  for (const x of ["\ud800", "a\udc00", "\udc00\ud800", "ab\ud83d", "\ud83d\ud83d"]) {
    untouched(mem, () => throwsLike(() => s.store(x), RangeError, "AtomicString.store", "value", "lone surrogate"));
    untouched(mem, () => throwsLike(() => s.compareAndSet(x, "a"), RangeError, "expected", "well-formed UTF-16"));
    untouched(mem, () => throwsLike(() => s.compareAndSet("keep", x), RangeError, "desired", "well-formed UTF-16"));
  }
  untouched(mem, () => throwsLike(() => s.store("a\0b"), RangeError, "AtomicString.store", "NUL"));
  untouched(mem, () => throwsLike(() => s.exchange("\0"), RangeError, "AtomicString.exchange", "NUL"));
  for (const x of [5, 5n, null, undefined, {}, ["a"], bytes(97)]) {
    untouched(mem, () => throwsLike(() => s.store(x as Any), TypeError, "AtomicString.store", "value", "a string"));
  }
  untouched(mem, () => throwsLike(() => s.update((() => 7) as Any), TypeError, "AtomicString.update", "fn's result"));
  untouched(mem, () => throwsLike(() => s.update((() => "x".repeat(17)) as Any), RangeError, "got 17 bytes"));
  assert.equal(s.load(), "keep");
});

test("AtomicString: bytes written by something else: trailing zeros are padding, invalid UTF-8 is U+FFFD", () => {
  const sab = new SharedArrayBuffer(8);
  const mem = new Uint8Array(sab);
  const s = new AtomicString(sab, 0, 8);
  mem.set([0x61, 0x62, 0xff, 0x63]);
  assert.equal(s.load(), "ab\ufffdc");
  mem.set([0x61, 0, 0x62, 0, 0, 0, 0, 0]);
  assert.equal(s.load(), "a\0b", "an interior zero is kept; only trailing zeros are padding");
  mem.set([0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0xc3]);
  assert.equal(s.load(), "abcdefg\ufffd", "a character cut by someone else is U+FFFD");
});

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

// ---- the native library --------------------------------------------------------------

test("sa_wide_manifest() lists exactly the wide exports the TypeScript table expects; lock-free here", () => {
  const syms = openGroup("wide", WIDE_EXTRA_SYMBOLS);
  assert.equal(syms.sa_wide_lock_free(), 1, "this build (x86-64-v2 or aarch64) has 16-byte atomics");
  const manifest = backend().cstring(syms.sa_wide_manifest()).split(",");
  assert.deepEqual(manifest, [...wideExportTable().keys()]);
  const defined = execFileSync("nm", ["-D", "--defined-only", libraryPath()], { encoding: "utf8" });
  for (const name of manifest) assert.match(defined, new RegExp(` T ${name}\\n`), `${name} is exported`);
});

test("the library calls no 16-byte (or any) atomic helper, and its 16-byte ops are cmpxchg16b", () => {
  const undef = execFileSync("nm", ["-D", "--undefined-only", libraryPath()], { encoding: "utf8" });
  assert.doesNotMatch(undef, /__atomic_|__sync_|atomic/, "no lock-based helper (e.g. __atomic_fetch_add_16)");
  if (process.arch !== "x64") return;
  let asm: string;
  try {
    asm = execFileSync("objdump", ["-d", "--no-show-raw-insn", libraryPath()], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
  } catch {
    return; // no objdump here: the symbol check above is the test
  }
  for (const fn of ["sa_u128_load", "sa_u128_store", "sa_u128_fetch_add", "sa_u128_compare_exchange"]) {
    const addr = execFileSync("nm", ["-D", libraryPath()], { encoding: "utf8" })
      .split("\n").find((l) => l.endsWith(` ${fn}`))!.split(" ")[0].replace(/^0+/, "");
    const body = asm.split(`\n${addr.padStart(16, "0")} <`)[1]?.split("\n\n")[0] ?? "";
    assert.match(body, /lock cmpxchg16b/, `${fn} is a lock cmpxchg16b (loop)`);
    assert.doesNotMatch(body, /call/, `${fn} calls nothing`);
  }
});

test("where 16-byte atomics are not lock-free (x86-64 without cmpxchg16b), the classes refuse to exist", {
  timeout: 120_000,
}, async (t) => {
  // Builds the wide exports for baseline x86-64 (no cmpxchg16b) into a small
  // library and runs a child against it: 16-byte classes throw
  // AtomicUnavailableError, narrower byte strings work.
  if (process.arch !== "x64") return t.skip("x86-64 only");
  const root = new URL("../", import.meta.url).pathname;
  const zigVersion = readFileSync(join(root, "build.zig.zon"), "utf8").match(/minimum_zig_version\s*=\s*"([^"]+)"/)![1];
  const zig = join(root, ".tools", `zig-${zigVersion}`, "ziglang", "zig");
  if (!existsSync(zig)) return t.skip("no zig toolchain in .tools");
  // a fixed place under the (git-ignored) Zig cache: the second run is a cache hit
  const dir = join(root, ".zig-cache", "sa-wide-baseline");
  mkdirSync(dir, { recursive: true });
  {
    const stub = join(dir, "stub.zig");
    const text = `comptime { _ = @import("wide"); }
export fn sa_version() [*:0]const u8 { return "${api.VERSION}"; }
export fn sa_manifest() [*:0]const u8 { return ""; }
`;
    if (!existsSync(stub) || readFileSync(stub, "utf8") !== text) writeFileSync(stub, text);
    const lib = join(dir, `libbase-${runtime}.so`);
    await promisify(execFile)(zig, [
      "build-lib",
      "-dynamic",
      "-O",
      "ReleaseSmall",
      "-fstrip",
      "-target",
      "x86_64-linux-gnu",
      "-mcpu",
      "x86_64",
      "--cache-dir",
      join(root, ".zig-cache"),
      "--dep",
      "wide",
      `-Mroot=${stub}`,
      `-Mwide=${join(root, "zig", "wide.zig")}`,
      `-femit-bin=${lib}`,
    ], { cwd: dir });
    const syms = execFileSync("nm", ["-D", lib], { encoding: "utf8" });
    assert.doesNotMatch(syms, /sa_u128_|sa_i128_|sa_bytes16_/, "no 16-byte exports");
    assert.match(syms, / T sa_bytes8_compare_exchange\n/);
    assert.doesNotMatch(syms, / U .*atomic/);
    const out = await runCommand(self("wide-unavailable"), { SHARED_ATOMIC_LIB: lib });
    const { message, ...classes } = JSON.parse(out);
    assert.deepEqual(classes, {
      u128: "AtomicUnavailableError",
      i128: "AtomicUnavailableError",
      bytes16: "AtomicUnavailableError",
      str16: "AtomicUnavailableError",
      str8: "works",
      bytes4: "works",
    });
    assert.match(
      message,
      /new AtomicU128: 16-byte atomics are not lock-free .*cmpxchg16b.*never emulates them with a lock/,
    );
  }
});

// ---- Workers ---------------------------------------------------------------------------

/** Splits `total` operations over `n` Workers. */
const split = (total: number, n: number) =>
  Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));

/** Runs a job on one Worker per entry of `jobs`, all released at once; their results in order. */
async function onWorkers<R>(jobs: Omit<WideJob, "gate">[]): Promise<R[]> {
  const gate = new Int32Array(new SharedArrayBuffer(16));
  const url = new URL("./workers/wide_worker.ts", import.meta.url).href;
  const workers = jobs.map(() => new Worker(url, { type: "module" }));
  try {
    await Promise.all(workers.map((w) =>
      new Promise<void>((resolve, reject) => {
        w.onmessage = () => resolve();
        w.onerror = (e) => reject(new Error(`worker failed to start: ${e.message}`));
      })
    ));
    const results = workers.map((w, i) =>
      new Promise<R>((resolve, reject) => {
        w.onmessage = (e) => resolve(e.data);
        w.onerror = (e) => reject(new Error(`worker failed: ${e.message}`));
        w.postMessage({ ...jobs[i], gate });
      })
    );
    while (Atomics.load(gate, 1) < jobs.length) await new Promise((r) => setTimeout(r, 1));
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    return await Promise.all(results);
  } finally {
    for (const w of workers) w.terminate();
  }
}

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
