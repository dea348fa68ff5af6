// Hardening of the atomics (issue 9): float compare-exchange on NaNs the
// library itself stores, update loops that end and return what is stored,
// bool bytes other than 0/1, -0 for integer types, zero and huge wait
// timeouts, buffers whose length is not a multiple of the width, and hostile
// arguments (throwing getters and conversions, Proxies, revoked Proxies):
// every bad call throws an error naming the method and the parameter, and
// leaves memory untouched. What could hang or crash runs in a child process
// (test/children/hardening_child.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { selfScript, start } from "./helpers/spawn.ts";

const {
  AtomicI8,
  AtomicU8,
  AtomicI16,
  AtomicU16,
  AtomicI32,
  AtomicU32,
  AtomicI64,
  AtomicU64,
  AtomicF32,
  AtomicF64,
  AtomicBool,
  AtomicI128,
  AtomicU128,
  AtomicBytes,
  AtomicString,
} = api;
// deno-lint-ignore no-explicit-any
type Any = any;

const ORDERS = [undefined, "relaxed", "acquire", "release", "acq_rel", "seq_cst"] as const;
const SMALL = [AtomicI8, AtomicU8, AtomicI16, AtomicU16, AtomicI32, AtomicU32] as Any[];
const NUMERIC = [...SMALL, AtomicF32, AtomicF64] as Any[];

/** Asserts `fn` throws `cls` with a message containing every part. */
function throwsLike(fn: () => unknown, cls: ErrorConstructor, ...parts: string[]): Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `expected a ${cls.name} naming ${parts.join(", ")}; nothing was thrown`);
  const e = caught as Error;
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${e?.constructor?.name}: ${e?.message}`);
  for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" lacks "${p}"`);
  return e;
}

/** Runs `fn` and checks the memory's bytes did not change. */
function untouched(memory: SharedArrayBuffer, fn: () => void): void {
  const before = new Uint8Array(memory).slice();
  fn();
  assert.deepEqual(new Uint8Array(memory), before, "memory changed after a throw");
}

/** Runs a child (test/children/hardening_child.ts) with a deadline; kills it if it has not finished. */
async function child(args: string[], ms: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = start(selfScript("./hardening_child.ts", ...args));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ms)));
  const r = await Promise.race([c.done, late]);
  clearTimeout(timer);
  if (r === "late") {
    c.kill("SIGKILL");
    const out = await c.done;
    assert.fail(`hardening_child.ts ${args.join(" ")} did not finish in ${ms} ms:\n${out.stdout}\n${out.stderr}`);
  }
  return r;
}

// ---- 5: float compare-exchange and NaN ------------------------------------------

/** NaNs of other bit patterns than JavaScript's: negative (x86's default), signalling, with a payload, all ones. */
const NANS: Record<string, (dv: DataView, at: number) => void>[] = [
  {
    f64: (dv, at) => dv.setBigUint64(at, 0xfff8000000000000n, true),
    f32: (dv, at) => dv.setUint32(at, 0xffc00000, true),
  },
  {
    f64: (dv, at) => dv.setBigUint64(at, 0x7ff0000000000001n, true),
    f32: (dv, at) => dv.setUint32(at, 0x7f800001, true),
  },
  {
    f64: (dv, at) => dv.setBigUint64(at, 0x7ff8000000000005n, true),
    f32: (dv, at) => dv.setUint32(at, 0x7fc00005, true),
  },
  {
    f64: (dv, at) => dv.setBigUint64(at, 0xffffffffffffffffn, true),
    f32: (dv, at) => dv.setUint32(at, 0xffffffff, true),
  },
];

test("float compare-exchange: a NaN expected matches any NaN stored, every order; +0 and -0 stay distinct", () => {
  for (const cls of [AtomicF64, AtomicF32] as Any[]) {
    const sab = new SharedArrayBuffer(16);
    const dv = new DataView(sab);
    const a = new cls(sab, 8);
    for (const nan of NANS) {
      const put = () => nan[cls.type](dv, 8);
      for (const order of ORDERS) {
        put();
        assert.ok(Number.isNaN(a.load()));
        assert.equal(a.compareAndSet(a.load(), 1.5, order), true, `${cls.name} ${order}`);
        assert.equal(a.load(), 1.5);
        put();
        const prev = a.compareExchange(NaN, 2.5, order);
        assert.ok(Number.isNaN(prev) && a.load() === 2.5, `${cls.name}.compareExchange ${order}`);
        // a NaN does not match a number, nor a number a NaN; the stored NaN's bits survive a failed attempt
        put();
        untouched(sab, () => {
          assert.equal(a.compareAndSet(1.5, 2, order), false);
          assert.equal(a.compareAndSet(0, 2, order), false);
          assert.ok(Number.isNaN(a.compareExchange(-0, 2, order)));
        });
        a.store(1.5);
        assert.equal(a.compareAndSet(NaN, 2, order), false);
        assert.equal(a.compareExchange(NaN, 2, order), 1.5);
        a.store(0);
        assert.equal(a.compareAndSet(-0, 1, order), false);
        assert.ok(Object.is(a.compareExchange(-0, 1, order), 0));
        a.store(-0);
        assert.equal(a.compareAndSet(0, 1, order), false);
        assert.equal(a.compareAndSet(-0, 1, order), true);
      }
    }
  }
  // the example in the documentation
  const a = AtomicF64.create(Infinity);
  assert.equal(a.fetchAdd(-Infinity), Infinity);
  assert.ok(Number.isNaN(a.compareExchange(NaN, 1)));
  assert.equal(a.compareExchange(-0, 2), 1);
});

test("update ends on a NaN the library stored (Infinity - Infinity), every order, and returns what is stored", async () => {
  const r = await child(["update-nan"], 20_000);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { cls: string; r: number; load: number; calls: number }[];
  assert.equal(rows.length, 12);
  for (const row of rows) {
    const want = row.cls === "AtomicF32" ? Math.fround(0.1) : 0.1;
    assert.deepEqual([row.r, row.load, row.calls], [want, want, 1], JSON.stringify(row));
  }
});

test("update of every other class ends whatever its memory holds (bool bytes, raw bytes, invalid UTF-8)", async () => {
  const r = await child(["update-bool"], 20_000);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { r: boolean; stored: number; calls: number }[];
  assert.equal(rows.length, 18);
  for (const row of rows) assert.deepEqual([row.r, row.stored, row.calls], [false, 0, 1], JSON.stringify(row));
  // the wide classes compare the raw bytes they read, so these end in-process
  const s = new SharedArrayBuffer(16);
  new Uint8Array(s).set([0xff, 0xfe, 0x80]);
  const str = new AtomicString(s, 0, 4);
  assert.equal(str.update((x) => (x.includes("\uFFFD") ? "ok" : x)), "ok");
  assert.equal(str.load(), "ok");
  const bytes = new AtomicBytes(s, 8, 8);
  new Uint8Array(s, 8).fill(0xff);
  assert.deepEqual(bytes.update(() => new Uint8Array(8)), new Uint8Array(8));
  const big = AtomicU128.create(2n ** 128n - 1n);
  assert.equal(big.update((x) => x - 1n), 2n ** 128n - 2n);
  const i64 = AtomicI64.create(-(2n ** 63n));
  assert.equal(i64.update((x) => x + 1n), -(2n ** 63n) + 1n);
});

test("AtomicString keeps a leading U+FEFF (EF BB BF) whether or not the rest is valid UTF-8", () => {
  const sab = new SharedArrayBuffer(16);
  const bytes = new Uint8Array(sab);
  const s = new AtomicString(sab, 0, 16);
  bytes.set([0xef, 0xbb, 0xbf, 0x61]);
  assert.equal(s.load(), "\uFEFFa");
  bytes.set([0xef, 0xbb, 0xbf, 0xbf]); // then a byte that is not UTF-8: the slow decoder
  assert.equal(s.load(), "\uFEFF\uFFFD");
  assert.equal(s.compareExchange("", "x"), "\uFEFF\uFFFD");
});

// ---- 16: narrowing types return what they store ----------------------------------

test("AtomicF32 returns what it stores: update, exchange, the fetch forms, compare-exchange", () => {
  for (const v of [0.1, 1 / 3, 1e40, -1e-50, 16777217, -0, 2 ** -149 / 3]) {
    const f = Math.fround(v);
    for (const order of ORDERS) {
      const a = AtomicF32.create();
      assert.ok(Object.is(a.update(() => v, order), f), `update(() => ${v}) ${order}`);
      assert.ok(Object.is(a.load(), f));
      assert.ok(Object.is(a.exchange(0.5, order), f));
      a.store(v);
      assert.ok(Object.is(a.compareExchange(1, 2, order), f));
      assert.equal(a.compareAndSet(f, 0.25, order), true);
      assert.equal(a.addFetch(v, order), a.load());
      assert.equal(a.subFetch(v, order), a.load());
      assert.equal(a.maxFetch(v, order), a.load());
      assert.equal(a.minFetch(v, order), a.load());
    }
  }
  // the other types store exactly what they accept: update returns it unchanged
  assert.ok(Object.is(AtomicF64.create().update(() => -0), -0));
  assert.equal(AtomicU8.create().update(() => 255), 255);
  assert.equal(AtomicU64.create().update(() => 2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.equal(AtomicBool.create().update(() => true), true);
});

// ---- 14: bool bytes other than 0 and 1 --------------------------------------------

test("AtomicBool over a byte holding 2, 0x80 or 0xff: it is true, and every op stores 0 or 1, every order", () => {
  const ops: [string, (a: boolean, b: boolean) => boolean][] = [
    ["And", (a, b) => a && b],
    ["Or", (a, b) => a || b],
    ["Xor", (a, b) => a !== b],
    ["Nand", (a, b) => !(a && b)],
  ];
  for (const byte of [2, 0x80, 0xff]) {
    const sab = new SharedArrayBuffer(4);
    const bytes = new Uint8Array(sab);
    const b = new AtomicBool(sab, 1);
    const u8 = new AtomicU8(sab, 1);
    const put = () => u8.store(byte); // as another 8-bit atomic would
    for (const order of ORDERS) {
      put();
      assert.equal(b.load(order === "release" || order === "acq_rel" ? undefined : order), true);
      assert.equal(b.toString(), "AtomicBool(true)");
      // compare-exchange: true matches any non-zero byte; what it writes is 0 or 1
      assert.equal(b.compareExchange(true, false, order), true);
      assert.equal(bytes[1], 0, `compareExchange(true, false) on ${byte} ${order}`);
      put();
      assert.equal(b.compareAndSet(true, true, order), true);
      assert.equal(bytes[1], 1);
      put();
      untouched(sab, () => {
        assert.equal(b.compareAndSet(false, true, order), false);
        assert.equal(b.compareExchange(false, false, order), true);
      });
      put();
      assert.equal(b.exchange(false, order), true);
      assert.equal(bytes[1], 0);
      for (const [name, f] of ops) {
        for (const v of [false, true]) {
          put();
          assert.equal((b as Any)[`fetch${name}`](v, order), true, `fetch${name}(${v}) on ${byte} ${order}`);
          assert.equal(bytes[1], +f(true, v), `fetch${name}(${v}) on ${byte} ${order} stores ${+f(true, v)}`);
          put();
          assert.equal((b as Any)[`${name.toLowerCase()}Fetch`](v, order), f(true, v));
          assert.equal(bytes[1], +f(true, v));
        }
      }
      assert.deepEqual([bytes[0], bytes[2], bytes[3]], [0, 0, 0], "neighbours untouched");
    }
  }
});

// ---- 12: -0 for integer types --------------------------------------------------------

test("-0 is 0 for every integer type and method (Deno's FFI refused it), and stays -0 for floats", () => {
  const sab = new SharedArrayBuffer(64);
  const at = new Map<Any, number>([[AtomicI8, 0], [AtomicU8, 1], [AtomicI16, 2], [AtomicU16, 4], [AtomicI32, 8]]);
  at.set(AtomicU32, 12);
  for (const cls of SMALL) {
    const a = new cls(sab, at.get(cls));
    for (const order of ORDERS) {
      a.store(5);
      a.store(-0, order === "acquire" || order === "acq_rel" ? undefined : order);
      assert.ok(Object.is(a.load(), 0), `${cls.name}.store(-0) ${order}`);
      assert.ok(Object.is(a.exchange(-0, order), 0));
      assert.equal(a.compareExchange(-0, 3, order), 0);
      assert.equal(a.compareExchange(3, -0, order), 3);
      assert.equal(a.compareAndSet(-0, -0, order), true);
      for (const m of ["fetchAdd", "fetchSub", "fetchOr", "fetchXor", "fetchMax", "addFetch", "orFetch", "minFetch"]) {
        assert.ok(Object.is(a[m](-0, order), 0), `${cls.name}.${m}(-0) ${order}`);
      }
      a.store(7);
      assert.equal(a.fetchAnd(-0, order), 7);
      assert.equal(a.fetchNand(-0, order), 0);
      assert.equal(a.load(), cls.type[0] === "u" ? 2 ** (cls.BYTES * 8) - 1 : -1);
      assert.equal(a.update(() => -0, order), 0);
      a.store(0);
    }
  }
  for (const cls of [AtomicI64, AtomicU64] as Any[]) {
    const a = new cls(sab, 16);
    a.store(-0);
    assert.equal(a.load(), 0n);
    assert.ok(Object.is(a.fetchAdd(-0), 0));
    assert.equal(a.compareAndSet(-0, 2), true);
    assert.equal(a.loadNumber(), 2);
  }
  for (const cls of [AtomicF32, AtomicF64] as Any[]) {
    const a = new cls(sab, 24);
    a.store(-0);
    assert.ok(Object.is(a.load(), -0), `${cls.name} keeps -0`);
  }
  const w = new AtomicI32(sab, -0);
  assert.ok(Object.is(w.byteOffset, 0));
  assert.equal(w.wait(-0, 0), "timed-out");
  assert.equal(w.wait(1, -0), "not-equal");
  assert.equal(new AtomicU32(sab, 12).wait(-0, -0), "timed-out");
  assert.equal(w.notify(-0), 0);
});

// ---- 13 and 6: zero and huge wait timeouts ---------------------------------------

test("wait and waitAsync with a zero (or tiny) timeout check the value first: not-equal, else timed-out", async () => {
  for (const cls of [AtomicI32, AtomicU32] as Any[]) {
    const a = cls.create(5);
    for (const ms of [0, -0, 1e-9, Number.MIN_VALUE]) {
      assert.equal(a.wait(4, ms), "not-equal", `${cls.name}.wait(4, ${ms})`);
      assert.equal(a.wait(5, ms), "timed-out", `${cls.name}.wait(5, ${ms})`);
      assert.equal(await a.waitAsync(4, ms), "not-equal", `${cls.name}.waitAsync(4, ${ms})`);
      assert.equal(await a.waitAsync(5, ms), "timed-out", `${cls.name}.waitAsync(5, ${ms})`);
    }
    const t0 = performance.now();
    assert.equal(await a.waitAsync(4, 10_000), "not-equal");
    assert.equal(await a.waitAsync(4), "not-equal");
    assert.ok(performance.now() - t0 < 2_000, "not-equal at once");
  }
});

test("wait with a huge finite timeout blocks (it never returns at once); a differing value is still not-equal", async () => {
  const timeouts = ["1e22", String(2 ** 53), String(Number.MAX_VALUE), String(86_400_000 * 3 + 0.5), "2147483648000"];
  const children = timeouts.map((ms) => ({ ms, c: start(selfScript("./hardening_child.ts", "wait", ms)) }));
  try {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const { ms, c } of children) {
      const settled = await Promise.race([c.done.then(() => true), new Promise((r) => setTimeout(() => r(false), 10))]);
      if (settled) {
        const out = await c.done;
        assert.fail(`wait(0, ${ms}) returned: ${out.stdout} ${out.stderr}`);
      }
    }
  } finally {
    for (const { c } of children) c.kill("SIGKILL");
    for (const { c } of children) await c.done;
  }
  const r = await child(["wait-sliced"], 30_000);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).r, ["not-equal", "not-equal", "not-equal"]);
});

test("waitAsync with a huge finite timeout stays pending until notified", async () => {
  const a = AtomicI32.create(0);
  let done = false;
  const p = a.waitAsync(0, 1e22).then((r) => ((done = true), r));
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(done, false);
  a.store(1);
  a.notify();
  assert.equal(await p, "ok");
});

// ---- 11: buffers whose length is not a multiple of the width ------------------------

test("16- and 32-bit atomics in a SharedArrayBuffer whose length is not a multiple of their width", () => {
  const cases: [Any, number, number][] = [
    [AtomicI16, 3, 0],
    [AtomicU16, 5, 2],
    [AtomicI32, 6, 0],
    [AtomicU32, 7, 0],
    [AtomicI32, 13, 8],
    [AtomicI8, 3, 2],
  ];
  for (const [cls, length, offset] of cases) {
    for (const sab of [new SharedArrayBuffer(length), new (SharedArrayBuffer as Any)(length, { maxByteLength: 64 })]) {
      const a = new cls(sab, offset);
      const max = cls.type[0] === "u" ? 2 ** (cls.BYTES * 8) - 1 : 2 ** (cls.BYTES * 8 - 1) - 1;
      a.store(max);
      assert.equal(a.load(), max, `${cls.name} in ${length} bytes at ${offset}`);
      assert.equal(a.fetchAdd(1), max);
      assert.equal(a.compareExchange(a.load(), 3), cls.type[0] === "u" ? 0 : -max - 1);
      assert.equal(a.compareAndSet(3, 4), true);
      assert.equal(a.exchange(5), 4);
      const bytes = new Uint8Array(sab);
      const view = new DataView(sab);
      const seen = cls.BYTES === 1
        ? bytes[offset]
        : cls.BYTES === 2
        ? view.getUint16(offset, true)
        : view.getUint32(offset, true);
      assert.equal(seen, 5, "the value is where it should be");
      for (let i = 0; i < bytes.length; i++) {
        if (i < offset || i >= offset + cls.BYTES) assert.equal(bytes[i], 0, `byte ${i} untouched`);
      }
      // through a view of the buffer too
      const v = new cls(new Uint8Array(sab, offset), 0);
      assert.equal(v.load(), 5);
    }
  }
});

// ---- 16 and 9: hostile arguments ----------------------------------------------------

let conversions = 0;

/** Values whose every use throws: getters and traps, conversions, revoked Proxies. */
function hostiles(): [string, unknown][] {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const revokedFn = Proxy.revocable(function () {}, {});
  revokedFn.revoke();
  const boom = (what: string) => () => {
    throw new Error(`hostile ${what}`);
  };
  const convert = (what: string) => () => {
    conversions++;
    throw new Error(`hostile ${what}`);
  };
  const traps = new Proxy({}, {
    get: boom("get"),
    has: boom("has"),
    getPrototypeOf: boom("getPrototypeOf"),
    ownKeys: boom("ownKeys"),
    getOwnPropertyDescriptor: boom("getOwnPropertyDescriptor"),
  });
  return [
    ["a revoked Proxy", revoked.proxy],
    ["a revoked Proxy of a function", revokedFn.proxy],
    ["a Proxy whose traps throw", traps],
    ["a throwing valueOf", { valueOf: convert("valueOf"), toString: convert("toString") }],
    ["a throwing Symbol.toPrimitive", { [Symbol.toPrimitive]: convert("toPrimitive") }],
    ["a throwing constructor getter", Object.defineProperty({}, "constructor", { get: boom("constructor") })],
    ["a Proxy of a SharedArrayBuffer", new Proxy(new SharedArrayBuffer(8), { get: boom("get") })],
    ["a Proxy of a number-like object", new Proxy(Object(5), {})],
  ];
}

/** `fn` throws an error of `cls` naming `where` and `param` (never the hostile one itself); memory untouched. */
function refused(memory: SharedArrayBuffer, what: string, fn: () => unknown, where: string, param: string): void {
  untouched(memory, () => {
    const e = throwsLike(fn, TypeError, `${where}: ${param}`);
    assert.ok(!e.message.startsWith("hostile"), `${where} ${param} with ${what}: ${e.message}`);
  });
}

test("hostile values for every parameter of every atomic method: a TypeError naming method and parameter", () => {
  const sab = new SharedArrayBuffer(64);
  new Uint8Array(sab).fill(0x11);
  conversions = 0;
  const classes: [Any, number, unknown][] = [
    ...NUMERIC.map((c): [Any, number, unknown] => [c, 8, 1]),
    [AtomicI64, 16, 1n],
    [AtomicU64, 16, 1],
    [AtomicBool, 0, true],
  ];
  for (const [cls, offset, ok] of classes) {
    const a = new cls(sab, offset);
    const n = cls.name;
    const rmw = Object.getOwnPropertyNames(cls.prototype).filter((m) => /^fetch|Fetch$/.test(m));
    assert.ok(rmw.length >= 8, `${n} has its read-modify-writes`);
    for (const [what, h] of hostiles()) {
      const no = (fn: () => unknown, method: string, param: string) => refused(sab, what, fn, `${n}.${method}`, param);
      no(() => a.store(h), "store", "value");
      no(() => a.store(ok, h), "store", "order");
      no(() => a.load(h), "load", "order");
      no(() => a.exchange(h), "exchange", "value");
      no(() => a.compareExchange(h, ok), "compareExchange", "expected");
      no(() => a.compareExchange(ok, h), "compareExchange", "desired");
      no(() => a.compareAndSet(h, ok), "compareAndSet", "expected");
      no(() => a.compareAndSet(ok, h), "compareAndSet", "desired");
      no(() => a.compareAndSet(ok, ok, h), "compareAndSet", "order");
      for (const m of rmw) {
        no(() => a[m](h), m, "value");
        no(() => a[m](ok, h), m, "order");
      }
      no(() => a.update(() => h), "update", "fn's result");
      no(() => a.update((x: unknown) => x, h), "update", "order");
      // (a function is called: what it throws propagates unchanged, as from any callback)
      if (typeof h !== "function") no(() => a.update(h), "update", "fn");
      no(() => cls.create(h), "create", "initial");
      refused(sab, what, () => new cls(h), `new ${n}`, "memory");
      refused(sab, what, () => new cls(sab, h), `new ${n}`, "byteOffset");
      refused(sab, what, () => cls.from(h), `${n}.from`, "descriptor");
      refused(sab, what, () => cls.fromHandle(h), `${n}.fromHandle`, "handle");
      if (cls === AtomicI32 || cls === AtomicU32) {
        no(() => a.wait(h), "wait", "expected");
        no(() => a.wait(0x11111111, h), "wait", "timeoutMs");
        no(() => a.notify(h), "notify", "count");
      }
    }
  }
  for (const [what, h] of hostiles()) {
    refused(sab, what, () => api.fromDescriptor(h as Any), "fromDescriptor", "descriptor");
    refused(sab, what, () => api.fromHandle(h as Any), "fromHandle", "handle");
  }
  assert.equal(conversions, 0, "no argument was ever converted (valueOf, toString, toPrimitive)");
});

test("hostile descriptors: a getter or trap that throws is reported naming from() and descriptor, with the cause", () => {
  const d = AtomicI32.create(3).descriptor();
  const getterThrows = {
    ...d,
    get type(): string {
      throw new Error("hostile type");
    },
  };
  const revoked = Proxy.revocable(d, {});
  revoked.revoke();
  for (const [cls, where] of [[AtomicI32, "AtomicI32.from"], [AtomicU128, "AtomicU128.from"]] as const) {
    for (const bad of [getterThrows, revoked.proxy]) {
      const e = throwsLike(() => (cls as Any).from(bad), TypeError, `${where}: descriptor`);
      assert.ok(e.cause instanceof Error, "the original error is the cause");
    }
  }
  const e = throwsLike(() => api.fromDescriptor(getterThrows as Any), TypeError, "fromDescriptor: descriptor");
  assert.match((e.cause as Error).message, /hostile type/);
  // a Proxy that reads fine works like the object it wraps
  assert.equal(AtomicI32.from(new Proxy(d, {})).load(), 3);
  assert.equal(api.fromDescriptor<InstanceType<typeof AtomicI32>>(new Proxy(d, {})).load(), 3);
  // describing a revoked Proxy keeps what reading it threw as the cause
  const r = Proxy.revocable({}, {});
  r.revoke();
  const e2 = throwsLike(() => AtomicI32.create().store(r.proxy as Any), TypeError, "AtomicI32.store: value");
  assert.ok(e2.cause instanceof TypeError);
});

test("hostile values for the wide atomics: a TypeError naming method and parameter; memory untouched", () => {
  const sab = new SharedArrayBuffer(64);
  new Uint8Array(sab).fill(0x22);
  conversions = 0;
  const u = new AtomicU128(sab, 16);
  const i = new AtomicI128(sab, 32);
  const b = new AtomicBytes(sab, 0, 8);
  const s = new AtomicString(sab, 8, 8);
  for (const [what, h] of hostiles()) {
    for (const [a, n, ok] of [[u, "AtomicU128", 1n], [i, "AtomicI128", 1n]] as const) {
      const no = (fn: () => unknown, method: string, param: string) => refused(sab, what, fn, `${n}.${method}`, param);
      no(() => a.store(h as Any), "store", "value");
      no(() => a.fetchAdd(h as Any), "fetchAdd", "value");
      no(() => a.fetchAdd(ok, h as Any), "fetchAdd", "order");
      no(() => a.compareAndSet(ok, h as Any), "compareAndSet", "desired");
      no(() => a.update(() => h as Any), "update", "fn's result");
    }
    const no = (fn: () => unknown, n: string, param: string) => refused(sab, what, fn, n, param);
    no(() => b.store(h as Any), "AtomicBytes.store", "value");
    no(() => b.fetchOr(h as Any), "AtomicBytes.fetchOr", "value");
    no(() => b.compareExchange(new Uint8Array(8), h as Any), "AtomicBytes.compareExchange", "desired");
    no(() => b.loadInto(h as Any), "AtomicBytes.loadInto", "target");
    no(() => b.update(() => h as Any), "AtomicBytes.update", "fn's result");
    no(() => s.store(h as Any), "AtomicString.store", "value");
    no(() => s.compareAndSet("", h as Any), "AtomicString.compareAndSet", "desired");
    no(() => new AtomicBytes(h as Any, 0, 8), "new AtomicBytes", "memory");
    no(() => new AtomicBytes(sab, h as Any, 8), "new AtomicBytes", "byteOffset");
    no(() => new AtomicString(sab, 0, h as Any), "new AtomicString", "width");
    no(() => new AtomicU128(h as Any), "new AtomicU128", "memory");
    no(() => AtomicBytes.create(8, h as Any), "AtomicBytes.create", "initial");
    no(() => AtomicBytes.from(h as Any), "AtomicBytes.from", "descriptor");
    no(() => AtomicString.from(h as Any), "AtomicString.from", "descriptor");
    no(() => AtomicI128.from(h as Any), "AtomicI128.from", "descriptor");
  }
  // a Uint8Array behind a Proxy (or posing as one) is not one; a subclass with a throwing length is fine
  const proxied = new Proxy(new Uint8Array(8), {});
  const e = throwsLike(() => b.store(proxied), TypeError, "AtomicBytes.store: value", "not one");
  assert.ok(!e.message.includes("hostile"));
  const posing = Object.setPrototypeOf({ length: 8 }, Uint8Array.prototype);
  untouched(sab, () => throwsLike(() => b.store(posing), TypeError, "AtomicBytes.store: value"));
  class Sneaky extends Uint8Array {
    override get length(): number {
      throw new Error("hostile length");
    }
  }
  b.store(new Sneaky([1, 2, 3, 4, 5, 6, 7, 8]));
  assert.deepEqual(b.load(), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  assert.equal(conversions, 0);
});

test("waitAsync: a hostile signal rejects with an error naming waitAsync and signal; nothing waits", async () => {
  const a = AtomicI32.create(0);
  for (const [what, h] of hostiles()) {
    await assert.rejects(a.waitAsync(0, 10, h as Any), (e: Error) => {
      assert.ok(e instanceof TypeError, `${what}: ${e}`);
      assert.ok(e.message.includes("AtomicI32.waitAsync: signal"), `${what}: ${e.message}`);
      return true;
    });
  }
  await assert.rejects(a.waitAsync(0, 10, AbortSignal.abort(new Error("already"))), /already/);
});

// ---- 9: a `this` that is not an instance of the method's class --------------------------

test("every method on a foreign `this` (forged pointer, another class's atomic, undefined): a named TypeError", async () => {
  const r = await child(["this"], 30_000);
  assert.equal(r.code, 0, `the child crashed or failed: ${r.stderr}`);
  const { out, memory } = JSON.parse(r.stdout) as { out: [string, string, string][]; memory: string };
  assert.ok(out.length > 300, `${out.length} calls`);
  for (const [call, name, message] of out) {
    const where = call.slice(0, call.indexOf(" on "));
    assert.equal(name, "TypeError", `${call}: ${name} ${message}`);
    assert.ok(message.startsWith(`${where}: this must be`), `${call}: ${message}`);
  }
  assert.equal(memory, "untouched");
});

// ---- 9: offsets, alignment and kinds at construction ---------------------------------

test("constructors: offsets that are not integers, are out of range, misaligned or of the wrong kind; valueOf never called", () => {
  const sab = new SharedArrayBuffer(32);
  new Uint8Array(sab).fill(0x33);
  let called = 0;
  const four = { valueOf: () => (called++, 4) };
  const all = [...NUMERIC, AtomicI64, AtomicU64, AtomicBool, AtomicI128, AtomicU128] as Any[];
  for (const cls of all) {
    const w = `new ${cls.name}`;
    const bad: [unknown, ErrorConstructor, string][] = [
      [four, TypeError, "an Object"],
      ["4", TypeError, '"4"'],
      [4n, TypeError, "4n"],
      [true, TypeError, "true"],
      [null, TypeError, "null"],
      [2 ** 53, RangeError, String(2 ** 53)],
      [-1e-300, RangeError, "byteOffset"],
      [Number.MIN_VALUE, RangeError, "byteOffset"],
      [1 + Number.EPSILON, RangeError, "byteOffset"],
      [-Infinity, RangeError, "-Infinity"],
      [32, RangeError, "got 32"],
    ];
    if (cls.BYTES > 1) bad.push([cls.BYTES / 2, RangeError, `multiple of ${cls.BYTES}`]);
    for (const [off, kind, got] of bad) {
      untouched(sab, () => throwsLike(() => new cls(sab, off), kind, w, "byteOffset", got));
    }
    if (cls.BYTES > 1) {
      untouched(
        sab,
        () => throwsLike(() => new cls(new Uint8Array(sab, 1), 0), RangeError, w, "byteOffset", "view's own offset 1"),
      );
      untouched(
        sab,
        () =>
          throwsLike(() => new cls(new SharedArrayBuffer(cls.BYTES - 1)), RangeError, w, "byteOffset", "cannot hold"),
      );
    }
    untouched(sab, () => throwsLike(() => new cls(new ArrayBuffer(16)), TypeError, w, "memory", "not shared"));
    untouched(
      sab,
      () => throwsLike(() => new cls(Object.setPrototypeOf({}, SharedArrayBuffer.prototype)), TypeError, w, "memory"),
    );
  }
  assert.equal(called, 0, "valueOf of an offset is never called");
});
