// SharedMap in one thread: every operation against a JS Map model, full maps,
// churn far beyond capacity, TTLs, counters on both paths, iteration,
// descriptors and handles, and every bad input (the map unchanged after
// each). In Bun and in Deno.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { uniqueName } from "./helpers/names.ts";

const { SharedMap, MapFullError, SharedMemory, SharedMemoryClosedError, Mutex } = api;
type SharedMapT = import("../src/index.ts").SharedMap;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : new TextDecoder().decode(v));

/** Every entry as key -> value text, sorted: to show a map is unchanged. */
function contents(m: SharedMapT): string {
  return JSON.stringify([...m.entries()].map(([k, v]) => [k, Array.from(v)]).sort());
}

test("set, get, getText, has, getInto, delete, with string and byte keys and values", () => {
  const m = SharedMap.create({ capacity: 16, keySize: 16, valueSize: 32 });
  assert.equal(m.get("a"), undefined);
  m.set("a", "hello");
  assert.deepEqual(m.get("a"), new TextEncoder().encode("hello"));
  assert.equal(m.getText("a"), "hello");
  assert.ok(m.has("a") && !m.has("b"));
  m.set(new Uint8Array([1, 2, 3]), new Uint8Array([9, 8]));
  assert.deepEqual(m.get(new Uint8Array([1, 2, 3])), new Uint8Array([9, 8]));
  m.set("é€😀", "ünïcode");
  assert.equal(m.getText("é€😀"), "ünïcode");
  assert.equal(m.getText(new TextEncoder().encode("é€😀")), "ünïcode");
  m.set("", "empty key"); // empty keys are allowed
  assert.equal(m.getText(""), "empty key");
  m.set("z", ""); // and empty values
  assert.deepEqual(m.get("z"), new Uint8Array(0));
  const target = new Uint8Array(32);
  assert.equal(m.getInto("a", target), 5);
  assert.equal(text(target.subarray(0, 5)), "hello");
  assert.equal(m.getInto("nope", target), undefined);
  assert.throws(() => m.getInto("a", new Uint8Array(2)), RangeError);
  assert.equal(m.size, 5);
  assert.equal(m.delete("a"), true);
  assert.equal(m.delete("a"), false);
  assert.equal(m.size, 4);
  // a value returned is a copy: later writes do not change it
  const before = m.get("z")!;
  m.set("z", "changed");
  assert.equal(before.length, 0);
  const v = m.get("é€😀")!;
  v.fill(0);
  assert.equal(m.getText("é€😀"), "ünïcode");
});

test("a random sequence of operations agrees with a JS Map", () => {
  const m = SharedMap.create({ capacity: 64, keySize: 8, valueSize: 8 });
  const model = new Map<string, string>();
  let seed = 12345;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  for (let i = 0; i < 20_000; i++) {
    const k = `k${rand(80)}`;
    const v = `v${rand(1000)}`;
    switch (rand(5)) {
      case 0:
        if (!model.has(k) && model.size >= 64) {
          assert.throws(() => m.set(k, v), MapFullError);
        } else {
          m.set(k, v);
          model.set(k, v);
        }
        break;
      case 1:
        assert.equal(m.delete(k), model.delete(k));
        break;
      case 2:
        if (model.has(k) || model.size < 64) {
          assert.equal(m.setIfAbsent(k, v), !model.has(k));
          if (!model.has(k)) model.set(k, v);
        }
        break;
      case 3: {
        const cur = model.get(k);
        const swapped = m.compareAndSet(k, cur ?? "x", v);
        assert.equal(swapped, cur !== undefined);
        if (swapped) model.set(k, v);
        break;
      }
      default:
        assert.equal(m.getText(k), model.get(k));
    }
    if (i % 1000 === 0) assert.equal(m.size, model.size);
  }
  assert.deepEqual([...m.keys()].sort(), [...model.keys()].sort());
  for (const [k, v] of m.entries()) assert.equal(text(v), model.get(k as string));
});

test("insert until full: MapFullError from set, setIfAbsent, fetchAdd and addFetch, and nothing changes", () => {
  const m = SharedMap.create({ capacity: 100, keySize: 8, valueSize: 8 });
  for (let i = 0; i < 100; i++) m.set(`k${i}`, `v${i}`);
  assert.equal(m.size, 100);
  const before = contents(m);
  const full = (f: () => unknown) => {
    const e = assert.throws(f, MapFullError) as unknown;
    return e;
  };
  full(() => m.set("new", "x"));
  full(() => m.setIfAbsent("new", "x"));
  full(() => m.fetchAdd("new", 1));
  full(() => m.addFetch("new", 1n, { ttlMs: 100 }));
  full(() => m.update("new", () => "x"));
  try {
    m.set("new", "x");
  } catch (e) {
    assert.equal((e as InstanceType<typeof MapFullError>).capacity, 100);
    assert.match((e as Error).message, /SharedMap\.set: the map is full \(capacity 100 entries\)/);
  }
  assert.equal(contents(m), before);
  // present keys can still be written
  m.set("k5", "again");
  assert.equal(m.setIfAbsent("k6", "no"), false);
  assert.equal(m.getText("k5"), "again");
  m.delete("k7");
  m.set("new", "fits");
  assert.equal(m.size, 100);
});

test("delete and re-insert churn far beyond capacity never exhausts the table", () => {
  const cap = 200;
  const m = SharedMap.create({ capacity: cap, keySize: 16, valueSize: 16 });
  const present = new Set<number>();
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  for (let i = 0; i < cap; i++) {
    m.set(`key${i}`, `val${i}`);
    present.add(i);
  }
  // 100 x capacity deletions and insertions, the map kept nearly full
  for (let round = 0; round < 100 * cap; round++) {
    const out = [...present][rand(present.size)];
    assert.equal(m.delete(`key${out}`), true);
    present.delete(out);
    let k;
    do k = rand(cap * 10); while (present.has(k));
    m.set(`key${k}`, `val${k}`);
    present.add(k);
  }
  assert.equal(m.size, cap);
  for (const k of present) assert.equal(m.getText(`key${k}`), `val${k}`);
  assert.equal([...m.keys()].length, cap);
  m.clear();
  assert.equal(m.size, 0);
  for (let i = 0; i < cap; i++) m.set(`again${i}`, "x");
  assert.equal(m.size, cap);
});

test("TTL: an entry expires, is invisible everywhere, and its room is reused", async () => {
  const m = SharedMap.create({ capacity: 6, keySize: 8, valueSize: 8 });
  // TTLs long enough that a loaded machine runs the checks before they end; one sleep for all of them
  const TTL = 1000;
  m.set("short", "1", { ttlMs: TTL });
  m.set("long", "2", { ttlMs: 60_000 });
  m.set("never", "3");
  m.fetchAdd("window", 1, { ttlMs: TTL });
  m.set("t", "x", { ttlMs: TTL });
  m.set("t", "y"); // set without ttlMs clears the expiry
  m.set("s", "old", { ttlMs: TTL });
  assert.equal(m.fetchAdd("window", 1, { ttlMs: 60_000 }), 1); // a later ttlMs does not move the window's end
  assert.equal(m.size, 6);
  assert.throws(() => m.set("x", "x"), MapFullError);
  assert.equal(m.setIfAbsent("s", "new"), false);
  await sleep(TTL + 300);
  assert.equal(m.get("short"), undefined);
  assert.equal(m.has("window"), false);
  assert.equal(m.getInto("s", new Uint8Array(8)), undefined);
  assert.equal(m.getText("long"), "2");
  assert.equal(m.getText("never"), "3");
  assert.equal(m.getText("t"), "y");
  assert.equal(m.size, 3);
  assert.deepEqual([...m.keys()].sort(), ["long", "never", "t"]);
  // the room is reused, and an expired key counts as absent: setIfAbsent and fetchAdd start afresh
  m.set("a", "a");
  assert.equal(m.setIfAbsent("s", "new"), true);
  assert.equal(m.getText("s"), "new");
  assert.equal(m.fetchAdd("window", 1), 0); // the window ended: a new one
  assert.equal(m.size, 6);
});

test("fetchAdd and addFetch: number and bigint paths, absent is 0, wrapping at 64 bits", () => {
  const m = SharedMap.create({ capacity: 8, keySize: 8, valueSize: 16 });
  assert.equal(m.fetchAdd("n", 5), 0);
  assert.equal(m.addFetch("n", -7), -2);
  assert.equal(m.fetchAdd("n", 0n), -2n);
  assert.equal(m.addFetch("b", 2n ** 62n), 2n ** 62n);
  assert.equal(m.addFetch("b", 2n ** 62n), -(2n ** 63n)); // wraps
  assert.equal(m.fetchAdd("s", Number.MAX_SAFE_INTEGER), 0);
  assert.equal(m.fetchAdd("s", 0), Number.MAX_SAFE_INTEGER);
  // the value is an 8-byte little-endian integer
  assert.deepEqual(m.get("n"), new Uint8Array([0xfe, 255, 255, 255, 255, 255, 255, 255]));
  m.set("c", new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(m.addFetch("c", 1), 2);
  m.set("text", "abc");
  assert.throws(() => m.fetchAdd("text", 1), /value of key "text" is 3 bytes, not an 8-byte little-endian counter/);
  assert.equal(m.getText("text"), "abc");
  const small = SharedMap.create({ capacity: 2, keySize: 8, valueSize: 4 });
  assert.throws(() => small.fetchAdd("x", 1), /valueSize is 4/);
  assert.equal(small.size, 0);
});

test("update is a compare-and-set loop; returning undefined deletes", () => {
  const m = SharedMap.create({ capacity: 8, keySize: 8, valueSize: 16 });
  assert.equal(m.update("k", (v) => (v === undefined ? "first" : "next")), "first");
  assert.equal(m.update("k", (v) => text(v) + "!"), "first!");
  assert.equal(m.getText("k"), "first!");
  assert.equal(m.update("k", () => undefined), undefined);
  assert.equal(m.has("k"), false);
  assert.equal(m.update("k", () => undefined), undefined);
  assert.equal(m.has("k"), false);
  // a writer between the read and the write makes fn run again
  m.set("r", "0");
  let calls = 0;
  m.update("r", (v) => {
    if (calls++ === 0) m.set("r", "interloper");
    return text(v) + "+";
  });
  assert.equal(calls, 2);
  assert.equal(m.getText("r"), "interloper+");
  assert.throws(() => m.update("r", "nope" as never), /SharedMap\.update: fn must be a function/);
});

test("keys and entries: a snapshot; binary keys on request; the map is iterable", () => {
  const m = SharedMap.create({ capacity: 8, keySize: 8, valueSize: 8 });
  m.set("a", "1");
  m.set(new Uint8Array([0xff]), "2");
  const keys = [...m.keys({ binary: true })] as Uint8Array[];
  assert.equal(keys.length, 2);
  assert.ok(keys.every((k) => k instanceof Uint8Array));
  const it = m.keys();
  m.set("later", "3"); // not in a snapshot taken before
  assert.equal([...it].length, 2);
  assert.equal([...m].length, 3);
  assert.deepEqual(new Map([...m.entries()].map(([k, v]) => [k, text(v)])).get("a"), "1");
  assert.throws(() => m.keys(5 as never), TypeError);
});

test("descriptor and from in this thread; handle and fromHandle over a SharedMemory", () => {
  const m = SharedMap.create({ capacity: 8, keySize: 8, valueSize: 8 });
  m.set("x", "1");
  const d = m.descriptor();
  assert.equal(d.type, "map");
  const again = SharedMap.from(d);
  assert.equal(again.getText("x"), "1");
  assert.equal(again.capacity, 8);
  assert.throws(() => m.handle(), /SharedArrayBuffer has no handle/);
  const name = uniqueName();
  const bytes = SharedMap.byteLength({ capacity: 10, keySize: 8, valueSize: 8 });
  const seg = SharedMemory.create(name, bytes + 64);
  try {
    const a = new SharedMap(seg, 64, { capacity: 10, keySize: 8, valueSize: 8 });
    a.set("k", "v");
    const b = SharedMap.fromHandle(a.handle());
    assert.equal(b.getText("k"), "v");
    assert.equal(api.fromHandle(a.handle()) instanceof SharedMap, true);
    assert.throws(() => a.update("k", () => (seg.close(), "w")), SharedMemoryClosedError); // closed inside fn
    assert.throws(() => a.get("k"), SharedMemoryClosedError);
    assert.throws(() => a.size, SharedMemoryClosedError);
    assert.throws(() => b.set("k", "w"), SharedMemoryClosedError);
  } finally {
    if (!seg.closed) seg.close();
    SharedMemory.unlink(name);
  }
});

test("construction: zeroed memory is initialised, a map adopted, another configuration or primitive refused", () => {
  const bytes = SharedMap.byteLength({ capacity: 4, keySize: 8, valueSize: 8 });
  const sab = new SharedArrayBuffer(bytes + 8);
  assert.throws(() => new SharedMap(sab, 0), /options/); // fresh memory needs a capacity
  const m = new SharedMap(sab, 8, { capacity: 4, keySize: 8, valueSize: 8 });
  m.set("a", "b");
  const adopted = new SharedMap(sab, 8);
  assert.deepEqual([adopted.capacity, adopted.keySize, adopted.valueSize], [4, 8, 8]);
  assert.equal(adopted.getText("a"), "b");
  assert.throws(
    () => new SharedMap(sab, 8, { capacity: 5 }),
    /options\.capacity must be what this SharedMap already has, 4/,
  );
  assert.throws(() => new SharedMap(sab, 8, { valueSize: 9 }), /options\.valueSize/);
  assert.throws(() => new Mutex(sab, 8), /this memory holds a SharedMap/);
  const other = new SharedArrayBuffer(bytes);
  new Mutex(other, 0);
  assert.throws(() => new SharedMap(other, 0, { capacity: 4, keySize: 8, valueSize: 8 }), /this memory holds a Mutex/);
  assert.throws(
    () => new SharedMap(new SharedArrayBuffer(bytes - 8), 0, { capacity: 4, keySize: 8, valueSize: 8 }),
    RangeError,
  );
  assert.equal(m.getText("a"), "b");
  // defaults
  const d = SharedMap.create({ capacity: 3 });
  assert.deepEqual([d.keySize, d.valueSize], [64, 256]);
});

test("bad input: a TypeError or RangeError naming the method and parameter, and the map unchanged", () => {
  const m = SharedMap.create({ capacity: 4, keySize: 4, valueSize: 8 });
  m.set("k", "v");
  m.fetchAdd("c", 3);
  const before = contents(m);
  const cases: [() => unknown, ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor, RegExp][] = [
    [() => m.set("toolong", "v"), RangeError, /SharedMap\.set: key must be at most 4 bytes/],
    [() => m.set("ééé", "v"), RangeError, /key must be at most 4 bytes of UTF-8/],
    [() => m.set(new Uint8Array(5), "v"), RangeError, /key must be at most 4 bytes/],
    [() => m.get("toolong"), RangeError, /SharedMap\.get: key/],
    [() => m.has(5 as never), TypeError, /SharedMap\.has: key must be a string or a Uint8Array; got 5/],
    [() => m.get(new Uint16Array(1) as never), TypeError, /key must be a string or a Uint8Array/],
    [() => m.delete(null as never), TypeError, /SharedMap\.delete: key/],
    [() => m.get(Object.create(Uint8Array.prototype)), TypeError, /key must be a string or a Uint8Array/],
    [() => m.set("k", new Proxy(new Uint8Array(2), {})), TypeError, /value must be a Uint8Array or a string/],
    [
      () =>
        m.get(
          new Proxy({}, {
            getPrototypeOf: () => {
              throw new Error("trap");
            },
          }) as never,
        ),
      TypeError,
      /key must be/,
    ],
    [() => m.set("k", "123456789"), RangeError, /value must be at most 8 bytes/],
    [() => m.set("k", new Uint8Array(9)), RangeError, /value must be at most 8 bytes/],
    [() => m.set("k", 5 as never), TypeError, /value must be a Uint8Array or a string/],
    [() => m.set("k", "v", { ttlMs: 0 }), RangeError, /options\.ttlMs must be an integer in \[1, 1099511627776\]/],
    [() => m.set("k", "v", { ttlMs: 1.5 }), RangeError, /ttlMs/],
    [() => m.set("k", "v", { ttlMs: 2 ** 41 }), RangeError, /ttlMs/],
    [() => m.set("k", "v", { ttlMs: "5" as never }), TypeError, /ttlMs/],
    [() => m.set("k", "v", 5 as never), TypeError, /SharedMap\.set: options must be \{ ttlMs\? \}/],
    [() => m.setIfAbsent("n", "v", { ttlMs: -1 }), RangeError, /setIfAbsent: options\.ttlMs/],
    [() => m.fetchAdd("c", 1.5), RangeError, /SharedMap\.fetchAdd: delta must be a safe integer/],
    [() => m.fetchAdd("c", 2 ** 53), RangeError, /delta/],
    [() => m.fetchAdd("c", 2n ** 63n), RangeError, /delta must be a bigint in/],
    [() => m.addFetch("c", -(2n ** 63n) - 1n), RangeError, /addFetch: delta/],
    [() => m.fetchAdd("c", "1" as never), TypeError, /delta must be a number/],
    [() => m.fetchAdd("c", 1, { ttlMs: NaN }), RangeError, /ttlMs/],
    [() => m.compareAndSet("k", "v", "123456789"), RangeError, /compareAndSet: desired must be at most 8 bytes/],
    [() => m.compareAndSet("k", 1 as never, "x"), TypeError, /compareAndSet: expected/],
    [() => m.getInto("k", [] as never), TypeError, /getInto: target must be a Uint8Array/],
    [() => m.entries(null as never), TypeError, /SharedMap\.entries: options/],
    [
      () => SharedMap.create({ capacity: 0 }),
      RangeError,
      /SharedMap\.create: options\.capacity must be an integer in \[1, 67108864\]/,
    ],
    [() => SharedMap.create({ capacity: 2 ** 26 + 1 }), RangeError, /capacity/],
    [() => SharedMap.create({ capacity: 1.5 }), RangeError, /capacity/],
    [() => SharedMap.create({} as never), TypeError, /options\.capacity/],
    [() => SharedMap.create(null as never), TypeError, /SharedMap\.create: options must be/],
    [() => SharedMap.create({ capacity: 1, keySize: 0 }), RangeError, /keySize must be an integer in \[1, 4096\]/],
    [() => SharedMap.create({ capacity: 1, keySize: 4097 }), RangeError, /keySize/],
    [
      () => SharedMap.create({ capacity: 1, valueSize: 2 ** 20 + 1 }),
      RangeError,
      /valueSize must be an integer in \[1, 1048576\]/,
    ],
    [() => SharedMap.byteLength({ capacity: "1" as never }), TypeError, /byteLength: options\.capacity/],
    [
      () => new SharedMap(new SharedArrayBuffer(4096), 4, { capacity: 1 }),
      RangeError,
      /byteOffset must be a multiple of 8/,
    ],
    [() => new SharedMap(new SharedArrayBuffer(4096), 8192, { capacity: 1 }), RangeError, /byteOffset/],
    [
      () => new SharedMap(new ArrayBuffer(4096) as never, 0, { capacity: 1 }),
      TypeError,
      /an ArrayBuffer is not shared/,
    ],
    [() => new SharedMap({} as never, 0, { capacity: 1 }), TypeError, /new SharedMap: memory/],
    [
      () => SharedMap.from({ kind: "shared-atomic", type: "mutex" }),
      TypeError,
      /SharedMap\.from: descriptor must be a descriptor of a SharedMap/,
    ],
    [() => SharedMap.fromHandle("nonsense"), RangeError, /SharedMap\.from: handle/],
  ];
  for (const [f, cls, message] of cases) {
    assert.throws(f, (e: unknown) => {
      assert.ok(e instanceof cls, `${f}: expected ${cls.name}, got ${e}`);
      assert.match((e as Error).message, message);
      return true;
    });
  }
  assert.equal(contents(m), before);
  // methods taken off the prototype check their receiver
  assert.throws(() => SharedMap.prototype.get.call({}, "k"), TypeError);
});

test("memory overwritten by something else is refused by every call, never read out of bounds", () => {
  const m = SharedMap.create({ capacity: 4, keySize: 8, valueSize: 8 });
  m.set("k", "v");
  const words = new Uint32Array(m.memory as SharedArrayBuffer);
  words[1] = 1_000_000; // the capacity, as if another program wrote over the header
  assert.throws(() => m.get("k"), /SharedMap\.get: the memory does not hold a SharedMap any more/);
  assert.throws(() => m.set("k", "w"), /does not hold a SharedMap/);
  assert.throws(() => m.size, /does not hold a SharedMap/);
  assert.throws(() => [...m.keys()], /does not hold a SharedMap/);
  assert.throws(() => new SharedMap(m.memory as SharedArrayBuffer), /cannot hold a 184549504-byte value/); // adopting it
  words[1] = 2 ** 30;
  assert.throws(() => new SharedMap(m.memory as SharedArrayBuffer), /a SharedMap of an impossible configuration/);
  words[1] = 4;
  assert.equal(m.getText("k"), "v");
  // random bytes in the slots: reads stay within the map, whatever they find
  const bytes = new Uint8Array(m.memory as SharedArrayBuffer);
  for (let i = 128; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
  for (let i = 0; i < 50; i++) m.get(`k${i}`);
  try {
    [...m.entries()]; // may list garbage, or find more than capacity entries
  } catch (e) {
    assert.match((e as Error).message, /SharedMap\.entries: more entries than its capacity/);
  }
});

test("values from get are never overwritten by later gets, and transferring one's buffer cannot crash the next", () => {
  const m = SharedMap.create({ capacity: 4, keySize: 8, valueSize: 1000 });
  m.set("a", new Uint8Array(1000).fill(1));
  m.set("b", new Uint8Array(999).fill(2));
  const first = m.get("a")!;
  const kept = Array.from({ length: 500 }, (_, i) => m.get(i % 2 ? "a" : "b")!);
  assert.ok(first.every((x) => x === 1));
  kept.forEach((v, i) => assert.ok(v.length === (i % 2 ? 1000 : 999) && v.every((x) => x === (i % 2 ? 1 : 2))));
  // detach the memory the values came from: the next get must not write into it
  const pool = first.buffer as ArrayBuffer;
  structuredClone(pool, { transfer: [pool] });
  assert.equal(first.length, 0);
  for (let i = 0; i < 100; i++) assert.equal(m.get("a")!.length, 1000);
  assert.equal(m.getText("b")!.length, 999);
});
