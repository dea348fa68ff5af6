// Wide values, operation by operation: AtomicI128/AtomicU128, AtomicBytes and
// AtomicString at their edges against a BigInt/byte model, every order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import {
  bytes,
  filled,
  I128_MAX,
  I128_MIN,
  LOAD_ORDERS,
  lower,
  ORDERS,
  STORE_ORDERS,
  throwsLike,
  U128_MAX,
  untouched,
} from "./helpers/wide.ts";
import { INT_OPS } from "./helpers/int_ops.ts";

const { AtomicI128, AtomicU128, AtomicBytes, AtomicString } = api;
// deno-lint-ignore no-explicit-any
type Any = any;

// ---- 128-bit integers ------------------------------------------------------------

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
