// Every operation of every type at its edges, against a reference model
// computed in BigInt (integers) or in plain doubles (floats).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { uniqueName } from "./helpers/names.ts";
import { INT_OPS } from "./helpers/int_ops.ts";

const { AtomicI8, AtomicU8, AtomicI16, AtomicU16, AtomicI32, AtomicU32, AtomicI64, AtomicU64 } = api;
const { AtomicF32, AtomicF64, AtomicBool } = api;
const ORDERS = [undefined, "relaxed", "acquire", "release", "acq_rel", "seq_cst"] as const;
const LOAD_ORDERS = [undefined, "relaxed", "acquire", "seq_cst"] as const;
const STORE_ORDERS = [undefined, "relaxed", "release", "seq_cst"] as const;

// deno-lint-ignore no-explicit-any
type Any = any;

const INTS = [
  { cls: AtomicI8, bits: 8, signed: true },
  { cls: AtomicU8, bits: 8, signed: false },
  { cls: AtomicI16, bits: 16, signed: true },
  { cls: AtomicU16, bits: 16, signed: false },
  { cls: AtomicI32, bits: 32, signed: true },
  { cls: AtomicU32, bits: 32, signed: false },
  { cls: AtomicI64, bits: 64, signed: true },
  { cls: AtomicU64, bits: 64, signed: false },
];

const lower = (s: string) => s[0].toLowerCase() + s.slice(1);

// Every integer test runs over a SharedArrayBuffer and over a SharedMemory
// segment: in Bun, seq_cst ops on small integers in a SharedArrayBuffer take
// the built-in Atomics path, everything else the FFI path.
const seg = api.SharedMemory.create(uniqueName(), 64);
after(() => {
  seg.close();
  seg.unlink();
});
const MEMORIES = [
  { label: "SharedArrayBuffer", make: (cls: Any): Any => cls.create() },
  { label: "SharedMemory", make: (cls: Any): Any => new cls(seg, 8) },
];

for (const { cls, bits, signed } of INTS) {
  for (const { label, make } of MEMORIES) {
    const B = BigInt(bits);
    const wrap = (x: bigint) => (signed ? BigInt.asIntN(bits, x) : BigInt.asUintN(bits, x));
    const min = signed ? -(1n << (B - 1n)) : 0n;
    const max = signed ? (1n << (B - 1n)) - 1n : (1n << B) - 1n;
    const edges = [...new Set([min, min + 1n, -1n, 0n, 1n, 5n, max - 1n, max].filter((x) => x >= min && x <= max))];
    const big = bits === 64;
    const js = (x: bigint): Any => (big ? x : Number(x));

    test(`${cls.name} in a ${label}: load/store/exchange/compareExchange/compareAndSet at the edges`, () => {
      const a: Any = make(cls);
      a.store(js(0n));
      assert.equal(a.load(), js(0n));
      for (const x of edges) {
        for (const o of STORE_ORDERS) {
          a.store(js(x), o);
          for (const lo of LOAD_ORDERS) assert.equal(a.load(lo), js(x));
        }
        for (const y of edges) {
          for (const o of ORDERS) {
            a.store(js(x));
            assert.equal(a.exchange(js(y), o), js(x));
            assert.equal(a.load(), js(y));
            a.store(js(x));
            assert.equal(a.compareExchange(js(x), js(y), o), js(x));
            assert.equal(a.load(), js(y));
            if (x !== y) {
              a.store(js(x));
              assert.equal(a.compareExchange(js(y), js(y), o), js(x), "failed CAS returns the current value");
              assert.equal(a.load(), js(x));
              assert.equal(a.compareAndSet(js(y), js(x), o), false);
            }
            a.store(js(x));
            assert.equal(a.compareAndSet(js(x), js(y), o), true);
            assert.equal(a.load(), js(y));
          }
        }
      }
    });

    test(`${cls.name} in a ${label}: every read-modify-write at the edges, both return forms, every order`, () => {
      const a: Any = make(cls);
      for (const [name, f] of Object.entries(INT_OPS)) {
        for (const x of edges) {
          for (const y of edges) {
            const next = wrap(f(x, y));
            for (const o of ORDERS) {
              a.store(js(x));
              assert.equal(a[`fetch${name}`](js(y), o), js(x), `fetch${name}(${x}, ${y})`);
              assert.equal(a.load(), js(next), `fetch${name}(${x}, ${y}) stored`);
              a.store(js(x));
              assert.equal(a[`${lower(name)}Fetch`](js(y), o), js(next), `${lower(name)}Fetch(${x}, ${y})`);
              assert.equal(a.load(), js(next));
            }
          }
        }
      }
      a.store(js(max));
      assert.equal(a.addFetch(js(1n)), js(min), "max + 1 wraps to min");
      assert.equal(a.subFetch(js(1n)), js(max), "min - 1 wraps to max");
      assert.equal(a.update((v: Any) => v - js(1n)), js(max - 1n));
      assert.equal(a.load(), js(max - 1n));
    });

    if (big) {
      test(`${cls.name} in a ${label}: the number path agrees with the bigint path`, () => {
        const a: Any = make(cls);
        const safe = [0n, 1n, 5n, 2n ** 53n - 1n, ...(signed ? [-1n, -(2n ** 53n) + 1n] : [])];
        for (const [name, f] of Object.entries(INT_OPS)) {
          for (const x of safe) {
            for (const y of safe) {
              const next = wrap(f(x, y));
              for (const o of [undefined, "relaxed", "acq_rel"]) {
                a.store(x);
                assert.equal(a[`fetch${name}`](Number(y), o), Number(x));
                assert.equal(a.load(), next);
                a.store(x);
                assert.equal(a[`${lower(name)}Fetch`](Number(y), o), Number(next));
                assert.equal(a.loadNumber(o === "acq_rel" ? "acquire" : o), Number(next));
              }
            }
          }
        }
        a.store(7);
        assert.equal(a.load(), 7n);
        assert.equal(a.exchange(8), 7);
        assert.equal(a.compareExchange(8, 9), 8);
        assert.equal(a.compareExchange(8, 10), 9);
        assert.equal(a.compareAndSet(9, 10), true);
        assert.equal(a.compareAndSet(9, 11), false);
        // beyond ±2^53 the memory stays exact and the number result is rounded
        a.store(max);
        assert.equal(a.loadNumber(), Number(max));
        assert.equal(a.fetchSub(1), Number(max));
        assert.equal(a.load(), max - 1n);
      });
    }
  }
}

const f32 = Math.fround;
const FLOAT_EDGES = [0, -0, 1.5, -2.25, 0.1, Infinity, -Infinity, NaN, Number.MAX_VALUE, Number.MIN_VALUE, 3.4e38];

// IEEE 754-2019 maximumNumber / minimumNumber
const maxNum = (a: number, b: number) =>
  Number.isNaN(a) ? b : Number.isNaN(b) ? a : a === b ? (Object.is(a, -0) ? b : a) : a > b ? a : b;
const minNum = (a: number, b: number) =>
  Number.isNaN(a) ? b : Number.isNaN(b) ? a : a === b ? (Object.is(a, -0) ? a : b) : a < b ? a : b;
const FLOAT_OPS: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Max: maxNum,
  Min: minNum,
};

for (const { cls, round } of [{ cls: AtomicF32, round: f32 }, { cls: AtomicF64, round: (x: number) => x }]) {
  test(`${cls.name}: every operation at the edges (-0, NaN, infinities), every order`, () => {
    const a: Any = cls.create();
    assert.ok(Object.is(a.load(), 0));
    const edges = FLOAT_EDGES.map(round);
    for (const x of edges) {
      for (const y of edges) {
        for (const o of ORDERS) {
          for (const [name, f] of Object.entries(FLOAT_OPS)) {
            const next = round(f(x, y));
            a.store(x);
            assert.ok(Object.is(a[`fetch${name}`](y, o), x), `fetch${name}(${x}, ${y})`);
            assert.ok(Object.is(a.load(), next), `fetch${name}(${x}, ${y}) stored ${a.load()}, want ${next}`);
            a.store(x);
            assert.ok(Object.is(a[`${lower(name)}Fetch`](y, o), next), `${lower(name)}Fetch(${x}, ${y})`);
          }
          a.store(x);
          assert.ok(Object.is(a.exchange(y, o), x));
          assert.ok(Object.is(a.load(), y));
          // compare-exchange compares bits: NaN matches NaN, -0 does not match 0
          a.store(x);
          const won = Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y));
          assert.equal(a.compareAndSet(y, 42, o), won, `compareAndSet(${y}) on ${x}`);
          assert.ok(Object.is(a.load(), won ? 42 : x));
          a.store(x);
          assert.ok(Object.is(a.compareExchange(y, 42, o), x));
        }
      }
    }
    a.store(round(0.1));
    assert.equal(a.update((v: number) => v * 2), round(round(0.1) * 2));
  });
}

test("AtomicF32 rounds to float32 on store", () => {
  const a = AtomicF32.create(0.1);
  assert.equal(a.load(), Math.fround(0.1));
  a.store(1e40);
  assert.equal(a.load(), Infinity);
});

test("AtomicBool: every operation, every order", () => {
  const a = AtomicBool.create();
  assert.equal(a.load(), false);
  const table: Record<string, (x: boolean, y: boolean) => boolean> = {
    And: (x, y) => x && y,
    Or: (x, y) => x || y,
    Xor: (x, y) => x !== y,
    Nand: (x, y) => !(x && y),
  };
  for (const x of [false, true]) {
    for (const y of [false, true]) {
      for (const o of ORDERS) {
        for (const [name, f] of Object.entries(table)) {
          a.store(x);
          assert.equal((a as Any)[`fetch${name}`](y, o), x);
          assert.equal(a.load(), f(x, y));
          a.store(x);
          assert.equal((a as Any)[`${lower(name)}Fetch`](y, o), f(x, y));
        }
        a.store(x);
        assert.equal(a.exchange(y, o), x);
        a.store(x);
        assert.equal(a.compareExchange(x, y, o), x);
        assert.equal(a.load(), y);
        a.store(x);
        assert.equal(a.compareAndSet(!x, y, o), false);
        assert.equal(a.load(), x);
      }
    }
  }
  // stored as a single byte 0/1
  const sab = new SharedArrayBuffer(4);
  new AtomicBool(sab, 3).store(true);
  assert.deepEqual([...new Uint8Array(sab)], [0, 0, 0, 1]);
});

test("layout is plain: an AtomicU64 at offset 8 is the bytes a BigUint64Array sees", () => {
  const sab = new SharedArrayBuffer(32);
  const view = new BigUint64Array(sab);
  const a = new AtomicU64(sab, 8);
  a.store(0xdead_beef_cafe_f00dn);
  assert.equal(view[1], 0xdead_beef_cafe_f00dn);
  view[1] = 5n;
  assert.equal(a.load(), 5n);
  // and through a view with its own offset: byteOffset is relative to the view
  const b = new AtomicI32(new Int32Array(sab, 16), 4);
  assert.equal(b.byteOffset, 20);
  b.store(-3);
  assert.equal(new Int32Array(sab)[5], -3);
  assert.equal(new AtomicI32(new DataView(sab), 20).load(), -3);
});

test("create() with and without an initial value; BYTES and type", () => {
  assert.equal(AtomicU16.create(7).load(), 7);
  assert.equal(AtomicI64.create().load(), 0n);
  assert.equal(AtomicI64.create(-5).load(), -5n);
  assert.equal((AtomicF64.create(2.5).memory as SharedArrayBuffer).byteLength, 8);
  const expected: [{ BYTES: number; type: string }, number, string][] = [
    [AtomicI8, 1, "i8"],
    [AtomicU8, 1, "u8"],
    [AtomicI16, 2, "i16"],
    [AtomicU16, 2, "u16"],
    [AtomicI32, 4, "i32"],
    [AtomicU32, 4, "u32"],
    [AtomicI64, 8, "i64"],
    [AtomicU64, 8, "u64"],
    [AtomicF32, 4, "f32"],
    [AtomicF64, 8, "f64"],
    [AtomicBool, 1, "bool"],
  ];
  for (const [cls, bytes, type] of expected) {
    assert.equal(cls.BYTES, bytes);
    assert.equal(cls.type, type);
  }
});

test("descriptors rebuild the same atomic, by class or by fromDescriptor", () => {
  const sab = new SharedArrayBuffer(16);
  const a = new AtomicU32(sab, 12);
  const d = a.descriptor();
  assert.deepEqual(Object.keys(d).sort(), ["buffer", "byteOffset", "kind", "type"]);
  const b = AtomicU32.from(structuredClone(d));
  b.store(99);
  assert.equal(a.load(), 99);
  const c = api.fromDescriptor<typeof a>(d);
  assert.equal(c.fetchAdd(1), 99);
  assert.equal(a.load(), 100);
});
