// Randomized model test of the SharedMap and the Channel: valid and invalid
// calls, mixed, against a pure-JS model (a Map of byte keys to byte values; a
// bounded FIFO of byte messages), over a SharedArrayBuffer and over a
// SharedMemory.
//
// Each step picks a method and its arguments: keys, values and messages of
// every length around the configured sizes (empty, multi-byte UTF-8, lone
// surrogates, exact fits, one byte over), counters and deltas at the 64-bit
// edges, options that are valid, out of range, of the wrong kind or hostile
// (throwing getters, revoked Proxies), receive targets too small. The model
// says what every accepted call returns; a refused call must throw a
// TypeError or RangeError (or the named MapFullError, ChannelClosedError)
// whose message starts with the method's name, and leave every byte of the
// structure's memory as it was. After every step the model and the structure
// agree on the size/length; every 50 steps on the whole contents.
//
// Deterministic: SHARED_ATOMIC_SEED=<n> runs seed n; SHARED_ATOMIC_STEPS=<n>
// sets the steps per run (default 3000). Every failure names its seed, step
// and call.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, runtime } from "./helpers/api.ts";
import { uniqueName } from "./helpers/names.ts";
import { hex, HOSTILE, isRealU8, modelRuns, oddValue, REVOKED, Rng, show } from "./helpers/model_values.ts";

const { Channel, ChannelClosedError, MapFullError, SharedMap, SharedMemory } = api;
type Channel = InstanceType<typeof Channel>;
type SharedMap = InstanceType<typeof SharedMap>;
type Memory = SharedArrayBuffer | ReturnType<typeof SharedMemory.create>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const utf8 = (s: string) => encoder.encode(s);
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** What a call must do: return `value` (compared by `same`), or throw an error of `error`'s class. */
type Expect = { value: unknown } | { error: abstract new (...args: never[]) => Error };

/** How the library classifies an argument: accepted (its bytes), or refused with a TypeError / RangeError. */
type Arg = { ok: Uint8Array } | { error: typeof TypeError | typeof RangeError };

/** A key, value or message for a structure of `max` bytes, and how the library must classify it. */
function bytesArg(rng: Rng, max: number, pool: readonly string[]): [unknown, Arg] {
  const r = rng.int(20);
  if (r < 8) {
    const s = rng.pick(pool);
    const b = utf8(s);
    return [s, b.length <= max ? { ok: b } : { error: RangeError }];
  }
  if (r < 14) {
    const s = rng.pick(pool);
    const b = utf8(s);
    return [b, b.length <= max ? { ok: b } : { error: RangeError }];
  }
  if (r < 16) {
    const n = rng.int(max + 3);
    const b = rng.bytes(n);
    // a subarray of a larger buffer, or a view of shared memory: any Uint8Array
    const view = rng.chance(0.5) ? b : new Uint8Array(new SharedArrayBuffer(n + 4), 2, n);
    view.set(b);
    return [view, n <= max ? { ok: b } : { error: RangeError }];
  }
  if (r < 17) return [new Int8Array(2), { error: TypeError }];
  const odd = oddValue(rng);
  return typeof odd === "string" ? [odd, utf8(odd).length <= max ? { ok: utf8(odd) } : { error: RangeError }] : [
    odd,
    { error: TypeError },
  ];
}

/** The first refused argument decides the error; else undefined. */
function firstError(...args: Arg[]): Expect | undefined {
  for (const a of args) if ("error" in a) return { error: a.error };
  return undefined;
}

const KEYS = ["", "a", "k1", "k2", "k3", "k4", "ключ", "😀", "\ud800", "12345678", "123456789", "ключи", "x".repeat(7)];
const VALUES = ["", "v", "value", "héllo", "😀😀😀😀", "0123456789abcdef", "0123456789abcdefg", "\udc00x"];

/** A write's options: [the object, undefined or the refusal]. */
function ttlArg(rng: Rng): [unknown, Arg] {
  const ok: Arg = { ok: new Uint8Array() };
  switch (rng.int(14)) {
    case 0:
      return [{ ttlMs: 1e9 }, ok]; // eleven days: never expires during the test
    case 1:
      return [{}, ok];
    case 2:
      return [{ ttlMs: 0 }, { error: RangeError }];
    case 3:
      return [{ ttlMs: 1.5 }, { error: RangeError }];
    case 4:
      return [{ ttlMs: 2 ** 41 }, { error: RangeError }];
    case 5:
      return [{ ttlMs: "5" }, { error: TypeError }];
    case 6:
      return [null, { error: TypeError }];
    case 7:
      return [rng.pick([HOSTILE, REVOKED]), { error: TypeError }];
    case 8:
      return [{
        get ttlMs() {
          throw new Error("a hostile getter");
        },
      }, { error: TypeError }];
    default:
      return [undefined, ok];
  }
}

const I64 = (x: bigint) => BigInt.asIntN(64, x);

/** A counter's delta: [the delta, its classification, its value as a bigint]. */
function deltaArg(rng: Rng): [unknown, Arg, bigint] {
  const ok = { ok: new Uint8Array() };
  const r = rng.int(12);
  if (r < 4) {
    const d = rng.pick([0, 1, -1, 7, 1000, 2 ** 53 - 1, -(2 ** 53 - 1)]);
    return [d, ok, BigInt(d)];
  }
  if (r < 8) {
    const d = rng.pick([0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 62n]);
    return [d, ok, d];
  }
  return rng.pick<[unknown, Arg, bigint]>([
    [1.5, { error: RangeError }, 0n],
    [NaN, { error: RangeError }, 0n],
    [2 ** 53, { error: RangeError }, 0n],
    [2n ** 63n, { error: RangeError }, 0n],
    [-(2n ** 63n) - 1n, { error: RangeError }, 0n],
    ["1", { error: TypeError }, 0n],
    [null, { error: TypeError }, 0n],
    [HOSTILE, { error: TypeError }, 0n],
  ]);
}

const counter = (v: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, v, true);
  return b;
};
const counterOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true);

// ---- the map --------------------------------------------------------------------------------

const MAP = { capacity: 12, keySize: 8, valueSize: 16 };

/** One random call on `m` and what the model `model` says it must do (applying it to the model). */
function mapStep(rng: Rng, m: SharedMap, model: Map<string, Uint8Array>): [string, () => unknown, Expect] {
  const [k, ka] = bytesArg(rng, MAP.keySize, KEYS);
  const key = "ok" in ka ? hex(ka.ok) : "";
  const has = "ok" in ka && model.has(key);
  const full = model.size >= MAP.capacity;
  switch (rng.int(13)) {
    case 0:
      return [
        `get(${show(k)})`,
        () => m.get(k as never),
        firstError(ka) ?? { value: has ? model.get(key) : undefined },
      ];
    case 1: {
      const want = has ? decoder.decode(model.get(key)) : undefined;
      return [`getText(${show(k)})`, () => m.getText(k as never), firstError(ka) ?? { value: want }];
    }
    case 2:
      return [`has(${show(k)})`, () => m.has(k as never), firstError(ka) ?? { value: has }];
    case 3: {
      const n = rng.int(MAP.valueSize + 2);
      const target = rng.chance(0.9) ? new Uint8Array(n) : oddValue(rng);
      const targetArg: Arg = isRealU8(target) ? { ok: target } : { error: TypeError };
      const err = firstError(targetArg, ka);
      const v = model.get(key);
      const expect: Expect = err ?? (!has ? { value: undefined } : v!.length > n ? { error: RangeError } : {
        value: v!.length,
      });
      return [`getInto(${show(k)}, Uint8Array(${n}))`, () => m.getInto(k as never, target as never), expect];
    }
    case 4:
    case 5: {
      const [v, va] = bytesArg(rng, MAP.valueSize, VALUES);
      const [o, oa] = ttlArg(rng);
      const ifAbsent = rng.chance(0.3);
      const err = firstError(oa, ka, va) ?? (!has && full ? { error: MapFullError } : undefined);
      const call = ifAbsent ? "setIfAbsent" : "set";
      const expect = err ?? { value: ifAbsent ? !has : undefined };
      if (!err && (!ifAbsent || !has)) model.set(key, (va as { ok: Uint8Array }).ok);
      return [
        `${call}(${show(k)}, ${show(v)}, ${show(o)})`,
        () => (m as never as Record<string, (...a: unknown[]) => unknown>)[call](k, v, o),
        expect,
      ];
    }
    case 6: {
      const cur = model.get(key);
      const useCurrent = cur !== undefined && rng.chance(0.6);
      const [e, ea] = useCurrent ? [cur.slice(), { ok: cur }] as [unknown, Arg] : bytesArg(rng, MAP.valueSize, VALUES);
      const [d, da] = bytesArg(rng, MAP.valueSize, VALUES);
      const err = firstError(ka, ea, da);
      const hit = !err && cur !== undefined && equal(cur, (ea as { ok: Uint8Array }).ok);
      if (hit) model.set(key, (da as { ok: Uint8Array }).ok);
      return [
        `compareAndSet(${show(k)}, ${show(e)}, ${show(d)})`,
        () => m.compareAndSet(k as never, e as never, d as never),
        err ?? { value: hit },
      ];
    }
    case 7: {
      if (!firstError(ka)) model.delete(key);
      return [`delete(${show(k)})`, () => m.delete(k as never), firstError(ka) ?? { value: has }];
    }
    case 8: {
      const [next, na] = rng.chance(0.3)
        ? [undefined, { ok: new Uint8Array() } as Arg]
        : bytesArg(rng, MAP.valueSize, VALUES);
      let err = firstError(ka);
      if (!err && next !== undefined) err = firstError(na) ?? (!has && full ? { error: MapFullError } : undefined);
      if (!err) {
        if (next === undefined) model.delete(key);
        else model.set(key, (na as { ok: Uint8Array }).ok);
      }
      return [
        `update(${show(k)}, () => ${show(next)})`,
        () => m.update(k as never, () => next as never),
        err ?? { value: next },
      ];
    }
    case 9:
    case 10: {
      const [d, da, big] = deltaArg(rng);
      const [o, oa] = ttlArg(rng);
      const after = rng.chance(0.5);
      const call = after ? "addFetch" : "fetchAdd";
      const cur = model.get(key);
      let err = firstError(oa, da, ka);
      if (!err && cur !== undefined && cur.length !== 8) err = { error: TypeError };
      if (!err && cur === undefined && full) err = { error: MapFullError };
      let expect: Expect | undefined = err;
      if (!err) {
        const old = cur === undefined ? 0n : counterOf(cur);
        model.set(key, counter(I64(old + big)));
        expect = typeof d === "bigint"
          ? { value: after ? I64(old + big) : old }
          : { value: after ? Number(old) + (d as number) : Number(old) };
      }
      return [
        `${call}(${show(k)}, ${show(d)}, ${show(o)})`,
        () => (m as never as Record<string, (...a: unknown[]) => unknown>)[call](k, d, o),
        expect!,
      ];
    }
    case 11:
      if (rng.chance(0.2)) {
        model.clear();
        return ["clear()", () => m.clear(), { value: undefined }];
      }
      return ["size", () => m.size, { value: model.size }];
    default: {
      const o = rng.pick<unknown>([undefined, { binary: true }, {}, null, 5, REVOKED]);
      const err: Expect | undefined = o === null || o === 5 || o === REVOKED ? { error: TypeError } : undefined;
      const binary = o !== REVOKED && (o as { binary?: boolean } | undefined)?.binary === true;
      const want = [...model.keys()].sort();
      return [
        `keys(${show(o)})`,
        () => [...m.keys(o as never)].map((k) => hex(binary ? k as Uint8Array : utf8(k as string))).sort(),
        err ?? {
          value: binary ? want : want.map((h) => hex(utf8(decoder.decode(fromHex(h))))).sort(),
        },
      ];
    }
  }
}

const fromHex = (h: string) => new Uint8Array(h === "" ? [] : h.split(" ").map((x) => parseInt(x, 16)));

// ---- the channel ----------------------------------------------------------------------------

const CHANNEL = { capacity: 5, messageSize: 12 };
const MESSAGES = ["", "m", "hello", "héllo wörld", "😀😀😀", "123456789012", "1234567890123", "\ud800\udc00x"];

interface ChannelModel {
  queue: Uint8Array[];
  closed: boolean;
}

function timeoutArg(rng: Rng): [unknown, Arg] {
  const ok: Arg = { ok: new Uint8Array() };
  const r = rng.int(10);
  if (r < 7) return [rng.pick([0, undefined]), ok];
  return rng.pick<[unknown, Arg]>([[-1, { error: RangeError }], [NaN, { error: RangeError }], ["5", {
    error: TypeError,
  }], [
    null,
    { error: TypeError },
  ]]);
}

/** A receive's outcome in the model: the next message (taken), undefined (empty), or ChannelClosedError. */
function take(c: ChannelModel): Expect {
  if (c.queue.length > 0) return { value: c.queue.shift() };
  return c.closed ? { error: ChannelClosedError } : { value: undefined };
}

function channelStep(rng: Rng, ch: Channel, c: ChannelModel): [string, () => unknown, Expect] {
  const [t, ta] = timeoutArg(rng);
  // a blocking form without a timeout only where it returns at once
  const wait = (t === undefined ? 0 : t) as number;
  const full = c.queue.length >= CHANNEL.capacity;
  switch (rng.int(9)) {
    case 0:
    case 1: {
      const [d, da] = bytesArg(rng, CHANNEL.messageSize, MESSAGES);
      const trying = rng.chance(0.5);
      const err = (trying ? undefined : firstError(ta)) ?? firstError(da) ??
        (c.closed ? { error: ChannelClosedError } : undefined);
      const blocksForever = !trying && t === undefined && full && !err;
      const expect = err ?? { value: !full };
      if (!err && !full) c.queue.push((da as { ok: Uint8Array }).ok);
      if (blocksForever) return ["length", () => ch.length, { value: c.queue.length }];
      return trying
        ? [`trySend(${show(d)})`, () => ch.trySend(d as never), expect]
        : [`send(${show(d)}, ${show(t)})`, () => ch.send(d as never, t as never), expect];
    }
    case 2:
    case 3: {
      const text = rng.chance(0.3);
      if ("error" in ta) return [`recv(${show(t)})`, () => ch.recv(t as never), { error: ta.error }];
      if (t === undefined && c.queue.length === 0 && !c.closed) {
        return ["tryRecv()", () => ch.tryRecv(), { value: undefined }];
      }
      const got = take(c);
      if (!text) return [`recv(${show(wait)})`, () => ch.recv(wait), got];
      if ("error" in got) return [`recvText(${show(wait)})`, () => ch.recvText(wait), got];
      const want = got.value === undefined ? undefined : decoder.decode(got.value as Uint8Array);
      return [`recvText(${show(wait)})`, () => ch.recvText(wait), { value: want }];
    }
    case 4: {
      const n = rng.int(CHANNEL.messageSize + 2);
      const target = rng.chance(0.9)
        ? new Uint8Array(rng.chance(0.5) ? new SharedArrayBuffer(n) : new ArrayBuffer(n))
        : oddValue(rng);
      const err = isRealU8(target) ? firstError(ta) : { error: TypeError };
      let expect: Expect | undefined = err;
      if (!err) {
        const next = c.queue[0];
        if (next !== undefined && next.length > n) expect = { error: RangeError };
        else {
          const got = take(c);
          expect = "error" in got
            ? got
            : { value: got.value === undefined ? undefined : (got.value as Uint8Array).length };
        }
      }
      return [`recvInto(Uint8Array(${n}), ${show(wait)})`, () => ch.recvInto(target as never, wait), expect!];
    }
    case 5: {
      const list: unknown[] = [];
      const args: Arg[] = [];
      for (let i = rng.int(4); i > 0; i--) {
        const [d, da] = bytesArg(rng, CHANNEL.messageSize, MESSAGES);
        list.push(d);
        args.push(da);
      }
      const messages = rng.chance(0.9) ? list : rng.pick([null, 5, "ab", {}, new Uint8Array(2), HOSTILE, REVOKED]);
      const err = firstError(ta) ?? (messages === list ? firstError(...args) : { error: TypeError }) ??
        (c.closed && list.length > 0 ? { error: ChannelClosedError } : undefined);
      let expect: Expect | undefined = err;
      if (!err) {
        const room = CHANNEL.capacity - c.queue.length;
        const sent = Math.min(room, list.length);
        for (let i = 0; i < sent; i++) c.queue.push((args[i] as { ok: Uint8Array }).ok);
        expect = { value: sent };
      }
      return [
        `sendMany([${list.map(show).join(", ")}], ${show(wait)})`,
        () => ch.sendMany(messages as never, wait),
        expect!,
      ];
    }
    case 6: {
      const max = rng.pick<unknown>([1, 2, 3, 8, 0, -1, 1.5, "2", null]);
      const maxArg: Arg = typeof max !== "number"
        ? { error: TypeError }
        : Number.isInteger(max) && max >= 1
        ? { ok: new Uint8Array() }
        : { error: RangeError };
      const err = firstError(maxArg, ta);
      let expect: Expect | undefined = err;
      if (!err) {
        if (c.queue.length === 0 && c.closed) expect = { error: ChannelClosedError };
        else expect = { value: c.queue.splice(0, max as number) };
      }
      return [`recvMany(${show(max)}, ${show(wait)})`, () => ch.recvMany(max as never, wait), expect!];
    }
    case 7:
      if (rng.chance(0.05)) {
        const first = !c.closed;
        c.closed = true;
        return ["close()", () => ch.close(), { value: first }];
      }
      return ["closed", () => ch.closed, { value: c.closed }];
    default:
      return ["length", () => ch.length, { value: c.queue.length }];
  }
}

// ---- the runner ---------------------------------------------------------------------------

function same(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return equal(a, b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  return Object.is(a, b);
}

/** Checks one call against its expectation; a refusal must leave `bytes` as they were. */
function check(
  where: string,
  what: string,
  call: () => unknown,
  expect: Expect,
  bytes: () => Uint8Array,
): string | undefined {
  const before = bytes().slice();
  let got: unknown;
  try {
    got = call();
  } catch (e) {
    if (!("error" in expect)) return `${what}: threw ${e}; expected ${show(expect.value)}`;
    if (!(e instanceof expect.error)) return `${what}: threw ${e}; expected a ${expect.error.name}`;
    if (!(e as Error).message.startsWith(`${where}.`)) return `${what}: the error does not name the method: ${e}`;
    if (!equal(before, bytes())) return `${what}: threw ${e} but changed the memory`;
    return undefined;
  }
  if ("error" in expect) return `${what}: returned ${show(got)}; expected a ${expect.error.name}`;
  if (!same(got, expect.value)) return `${what}: returned ${show(got)}; expected ${show(expect.value)}`;
  return undefined;
}

interface Run {
  failures: string[];
  refused: number;
}

function place(kind: "sab" | "shm", bytes: number): [Memory, () => void] {
  if (kind === "sab") return [new SharedArrayBuffer(bytes), () => {}];
  const seg = SharedMemory.create(uniqueName(), bytes);
  seg.unlink();
  return [seg, () => seg.close()];
}

function view(memory: Memory, at: number, n: number): () => Uint8Array {
  const buffer = memory instanceof SharedArrayBuffer ? memory : memory.bytes.buffer;
  return () => new Uint8Array(buffer, at, n);
}

function runMap(seed: number, kind: "sab" | "shm", steps: number): Run {
  const rng = new Rng(seed);
  const size = SharedMap.byteLength(MAP);
  const [memory, done] = place(kind, size + 64);
  const m = new SharedMap(memory as never, 64, MAP);
  const bytes = view(memory, 64, size);
  const model = new Map<string, Uint8Array>();
  const run: Run = { failures: [], refused: 0 };
  for (let step = 0; step < steps && run.failures.length < 20; step++) {
    const [what, call, expect] = mapStep(rng, m, model);
    if ("error" in expect) run.refused++;
    const f = check("SharedMap", what, call, expect, bytes);
    if (f) run.failures.push(`step ${step}: ${f}`);
    if (m.size !== model.size) run.failures.push(`step ${step}: after ${what}: size ${m.size}, model ${model.size}`);
    if (step % 50 === 49) {
      const have = new Map([...m.entries({ binary: true })].map(([k, v]) => [hex(k as Uint8Array), hex(v)]));
      for (const [k, v] of model) {
        if (have.get(k) !== hex(v)) {
          run.failures.push(`step ${step}: key [${k}] holds [${have.get(k)}]; model [${hex(v)}]`);
        }
      }
    }
  }
  done();
  return run;
}

function runChannel(seed: number, kind: "sab" | "shm", steps: number): Run {
  const rng = new Rng(seed);
  const size = Channel.byteLength(CHANNEL);
  const [memory, done] = place(kind, size);
  const run: Run = { failures: [], refused: 0 };
  let ch = new Channel(memory as never, 0, CHANNEL);
  let model: ChannelModel = { queue: [], closed: false };
  for (let step = 0; step < steps && run.failures.length < 20; step++) {
    if (model.closed && model.queue.length === 0 && rng.chance(0.2)) {
      // a fresh channel in the same memory, zeroed (a closed one stays closed)
      view(memory, 0, size)().fill(0);
      ch = new Channel(memory as never, 0, CHANNEL);
      model = { queue: [], closed: false };
    }
    const [what, call, expect] = channelStep(rng, ch, model);
    if ("error" in expect) run.refused++;
    const f = check("Channel", what, call, expect, view(memory, 0, size));
    if (f) run.failures.push(`step ${step}: ${f}`);
    if (ch.length !== model.queue.length) {
      run.failures.push(`step ${step}: after ${what}: length ${ch.length}, model ${model.queue.length}`);
    }
  }
  done();
  return run;
}

const { steps: STEPS, runs: RUNS } = modelRuns(0x5eed0012, 3000, 2);

for (const [name, runOne] of [["SharedMap", runMap], ["Channel", runChannel]] as const) {
  for (const [seed, kind] of RUNS) {
    const where = kind === "sab" ? "a SharedArrayBuffer" : "a SharedMemory";
    test(`${name} model: seed ${seed}, ${STEPS} random valid and invalid calls over ${where} (${runtime})`, () => {
      const t0 = performance.now();
      const run = runOne(seed, kind, STEPS);
      console.log(
        `${name} model ${runtime} seed ${seed} ${kind}: ${STEPS} steps, ${run.refused} refused, ` +
          `${Math.round(performance.now() - t0)} ms`,
      );
      assert.ok(
        run.failures.length === 0,
        `${run.failures.length} failures (reproduce with SHARED_ATOMIC_SEED=${seed}):\n  ${run.failures.join("\n  ")}`,
      );
    });
  }
}
