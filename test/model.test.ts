// Randomized model test (issue 9): valid and invalid calls on every atomic
// class, mixed, against a pure-JS model of the memory's bytes.
//
// Each step picks a class (AtomicI8 … AtomicU64 on both the bigint and the
// number path, AtomicF32/F64, AtomicBool, AtomicI128/U128, AtomicBytes and
// AtomicString of every width), an atomic over a 256-byte shared memory
// (made this step, with a valid or invalid memory, offset and width, or one
// made earlier), a method and its arguments: edge values or nonsense (wrong
// kinds, out of range, hostile objects, bad memory orders). Atomics of
// different types overlap in the first 64 bytes, so each reads what the
// others wrote. The model computes every accepted call's result and bytes
// (little-endian, wrap-around, IEEE floats with the documented NaN/-0 rules);
// a call that must be refused must throw a TypeError or RangeError naming the
// method (and, when one argument is wrong, that parameter), and change no
// byte. After every step the whole memory is compared with the model.
//
// A second test calls every memory-touching method on a `this` that is not an
// atomic of its class (another atomic, a plain object, undefined, …) in a
// child process (model_this.ts), since a native call through a wrong pointer
// would take the test process down: each must be a TypeError naming the
// method, with the memory untouched.
//
// Deterministic: SHARED_ATOMIC_SEED=<n> runs seed n (over a SharedArrayBuffer
// and over a SharedMemory); SHARED_ATOMIC_STEPS=<n> sets the steps per run
// (default 5000); SHARED_ATOMIC_MODEL_COVERAGE=1 prints how many accepted and
// refused calls each type and method got. Every failure names its seed and
// step, the call, and the bytes the atomic held before it.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { api, runtime } from "./helpers/api.ts";
import { uniqueName } from "./helpers/names.ts";
import { selfScript, start } from "./helpers/spawn.ts";
import {
  boolDomain,
  bytesDomain,
  type Domain,
  floatDomain,
  type How,
  intDomain,
  type Path,
  stringDomain,
} from "./helpers/model_domains.ts";
import {
  type Cls,
  hex,
  HOSTILE,
  isRealU8,
  modelRuns,
  named,
  oddValue,
  REVOKED,
  Rng,
  show,
} from "./helpers/model_values.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const SIZE = 256;
/** Most atomics live in the first HOT bytes, so that atomics of different types overlap. */
const HOT = 64;

const LOAD = ["relaxed", "acquire", "seq_cst"];
const STORE = ["relaxed", "release", "seq_cst"];
const RMW = ["relaxed", "acquire", "release", "acq_rel", "seq_cst"];
const BAD_ORDERS: readonly unknown[] = [
  "consume",
  "SeqCst",
  "",
  "seq_cst ",
  "RELAXED",
  5,
  0,
  null,
  true,
  2n,
  named('new String("relaxed")', new String("relaxed")),
  Symbol("order"),
];

const WIDTHS = [1, 2, 4, 8, 16];

// ---- classes under test -------------------------------------------------------------

interface Spec {
  readonly d: Domain;
  readonly cls: Any;
  /** AtomicBytes / AtomicString: the width argument. */
  readonly width?: number;
  readonly weight: number;
  readonly ops: readonly Op[];
}

interface Op {
  readonly name: string;
  readonly weight: number;
  run(s: Step): void | Promise<void>;
}

function specs(): Spec[] {
  const out: Spec[] = [];
  const add = (d: Domain, cls: Any, weight: number, width?: number) =>
    out.push({ d, cls, width, weight, ops: opsOf(d) });
  add(intDomain("AtomicI8", "i8", 8, true), api.AtomicI8, 1);
  add(intDomain("AtomicU8", "u8", 8, false), api.AtomicU8, 1);
  add(intDomain("AtomicI16", "i16", 16, true), api.AtomicI16, 1);
  add(intDomain("AtomicU16", "u16", 16, false), api.AtomicU16, 1);
  add(intDomain("AtomicI32", "i32", 32, true), api.AtomicI32, 1.2);
  add(intDomain("AtomicU32", "u32", 32, false), api.AtomicU32, 1.2);
  add(intDomain("AtomicI64", "i64", 64, true), api.AtomicI64, 1.5);
  add(intDomain("AtomicU64", "u64", 64, false), api.AtomicU64, 1.5);
  add(floatDomain("AtomicF32", "f32", 32), api.AtomicF32, 1.3);
  add(floatDomain("AtomicF64", "f64", 64), api.AtomicF64, 1.3);
  add(boolDomain(), api.AtomicBool, 1);
  add(intDomain("AtomicI128", "i128", 128, true), api.AtomicI128, 1);
  add(intDomain("AtomicU128", "u128", 128, false), api.AtomicU128, 1);
  for (const w of WIDTHS) add(bytesDomain(w), api.AtomicBytes, 0.3, w);
  for (const w of WIDTHS) add(stringDomain(w), api.AtomicString, 0.3, w);
  return out;
}

// ---- one run ------------------------------------------------------------------------------

interface Write {
  readonly at: number;
  readonly bytes: Uint8Array;
  readonly how: How;
  readonly d: Domain;
}

/** What an accepted call must do. */
interface Expect {
  /** The return value (compared with `same`, by default the domain's). */
  readonly ret?: unknown;
  readonly same?: (got: unknown, want: unknown) => boolean;
  /** More checks of the result: a problem, or undefined. */
  readonly check?: (got: unknown) => string | undefined;
  /** The bytes it writes. */
  readonly writes?: readonly Write[];
}

/** One call: its arguments as the library checks them, and what it must do if all are accepted. */
interface Plan {
  readonly method: string;
  /** How the call is shown in a failure (default: the atomic, the method and the arguments). */
  readonly desc?: string;
  /** What an error message must name: "AtomicI32.fetchAdd", "new AtomicBytes". */
  readonly where: string;
  readonly args: readonly unknown[];
  readonly params: readonly (readonly [string, Cls])[];
  readonly invoke: () => unknown;
  /** Computed before the call, only when every parameter is accepted. */
  readonly expect: () => Expect;
}

const MAX_FAILURES = 30;

class Run {
  readonly rng: Rng;
  readonly mem: Uint8Array;
  readonly model: Uint8Array;
  readonly failures: string[] = [];
  readonly counts = { steps: 0, accepted: 0, refused: 0 };
  /** Accepted and refused calls per "type.method" (SHARED_ATOMIC_MODEL_COVERAGE=1 prints them). */
  readonly coverage = new Map<string, [number, number]>();
  /** The "type.method" of the current step. */
  key = "";
  readonly cache = new Map<Spec, Map<number, Any>>();
  step = 0;
  desc = "";
  before = "";

  readonly seed: number;
  readonly kind: "sab" | "shm";
  readonly memory: SharedArrayBuffer | Any;
  constructor(seed: number, kind: "sab" | "shm", memory: SharedArrayBuffer | Any, mem: Uint8Array) {
    this.seed = seed;
    this.kind = kind;
    this.memory = memory;
    this.rng = new Rng(seed);
    this.mem = mem;
    this.model = mem.slice();
  }

  count(accepted: boolean): void {
    if (accepted) this.counts.accepted++;
    else this.counts.refused++;
    let c = this.coverage.get(this.key);
    if (!c) this.coverage.set(this.key, c = [0, 0]);
    c[accepted ? 0 : 1]++;
  }

  get memLabel(): string {
    return this.kind === "sab" ? "sab" : "seg";
  }

  fail(problem: string): void {
    this.failures.push(
      `seed ${this.seed} (${this.kind === "sab" ? "SharedArrayBuffer" : "SharedMemory"}), step ${this.step}: ` +
        `${this.desc}\n      ${this.before}\n      ${problem}`,
    );
  }

  /**
   * Compares the whole memory with the model after `writes`, allowing what
   * the domains allow in the written slots; then makes the model the memory
   * (after a reported difference too, so one bug is reported once).
   */
  compare(writes: readonly Write[]): string | undefined {
    const want = this.model.slice();
    const problems: string[] = [];
    for (const w of writes) {
      const end = w.at + w.bytes.length;
      const got = this.mem.slice(w.at, end);
      if (w.d.slotOk(want.slice(w.at, end), w.bytes, got, w.how)) want.set(got, w.at);
      else {
        want.set(w.bytes, w.at);
      }
    }
    for (let i = 0; i < SIZE; i++) {
      if (this.mem[i] === want[i]) continue;
      let j = i;
      while (j < SIZE && this.mem[j] !== want[j]) j++;
      problems.push(`bytes [${i}, ${j}) are ${hex(this.mem.slice(i, j))}, want ${hex(want.slice(i, j))}`);
      i = j;
      if (problems.length > 3) break;
    }
    this.model.set(this.mem);
    return problems.length ? `memory: ${problems.join(", ")}` : undefined;
  }

  /** A view of the memory under test, as a value argument. */
  view = (at: number, w: number): Uint8Array => {
    const v = this.kind === "sab" ? new Uint8Array(this.memory, at, w) : this.mem.subarray(at, at + w);
    const src = this.kind === "sab" ? `new Uint8Array(sab, ${at}, ${w})` : `seg.bytes.subarray(${at}, ${at + w})`;
    return named(`${src} (= ${hex(v)})`, v);
  };
}

/** Calls `obj[method](...args)` without trailing undefined arguments. */
function call(obj: Any, method: string, args: readonly unknown[]): unknown {
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  return obj[method](...args.slice(0, n));
}

function showArgs(args: readonly unknown[]): string {
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  return args.slice(0, n).map(show).join(", ");
}

function showError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `a non-Error: ${show(e)}`;
}

/** What is wrong with error `e`, which should be a refusal of `bad` by `where`. */
function errorProblem(e: unknown, where: string, bad: readonly (readonly [string, Cls])[]): string | undefined {
  const want = [...new Set(bad.map(([, c]) => (c === "type" ? "TypeError" : "RangeError")))];
  const wantText = `${want.join(" or ")} naming ${where}${bad.length === 1 ? ` and ${bad[0][0]}` : ""}`;
  if (!(e instanceof Error)) return `threw ${showError(e)}; want a ${wantText}`;
  const ok = want.some((c) => (c === "TypeError" ? e instanceof TypeError : e instanceof RangeError));
  if (!ok) return `threw ${showError(e)}; want a ${wantText}`;
  if (!e.message.includes(where)) return `the message does not name ${where}: ${showError(e)}`;
  if (bad.length === 1 && !e.message.includes(bad[0][0])) {
    return `the message does not name the parameter ${bad[0][0]}: ${showError(e)}`;
  }
  return undefined;
}

const clsOrder = (o: unknown, allowed: readonly string[]): Cls =>
  o === undefined ? "ok" : typeof o !== "string" ? "type" : allowed.includes(o) ? "ok" : "range";

/** One step: an atomic of one class at one place, and the helpers its ops use. */
class Step {
  readonly run: Run;
  readonly spec: Spec;
  readonly a: Any;
  readonly abs: number;
  constructor(run: Run, spec: Spec, a: Any, abs: number) {
    this.run = run;
    this.spec = spec;
    this.a = a;
    this.abs = abs;
  }

  get d(): Domain {
    return this.spec.d;
  }
  get rng(): Rng {
    return this.run.rng;
  }
  get label(): string {
    return this.spec.d.label;
  }
  get who(): string {
    const w = this.spec.width === undefined ? "" : `, ${this.spec.width}`;
    return `new ${this.label}(${this.run.memLabel}, ${this.abs}${w})`;
  }
  /** The model's bytes of this atomic (a copy). */
  slot(): Uint8Array {
    return this.run.model.slice(this.abs, this.abs + this.d.size);
  }
  /** A path for a value-taking method (64-bit: bigint or number). */
  path(): Path {
    const ps = this.d.paths;
    return ps.length === 1 ? ps[0] : this.rng.chance(0.55) ? "big" : "num";
  }
  /** The path the library takes: 64-bit methods go by the first value argument's type. */
  actual(p: Path, first: unknown): Path {
    return this.d.paths.length === 1 ? p : typeof first === "bigint" ? "big" : "num";
  }
  value(p: Path): unknown {
    return this.d.gen(this.rng, this.slot(), p, this.run.view);
  }
  order(): unknown {
    const r = this.rng.next();
    if (r < 0.5) return undefined;
    if (r < 0.9) return this.rng.pick(RMW);
    return this.rng.chance(0.7) ? this.rng.pick(BAD_ORDERS) : oddValue(this.rng);
  }
  write(bytes: Uint8Array, how: How): Write {
    return { at: this.abs, bytes, how, d: this.d };
  }

  /** Runs a planned call and checks it against the model. */
  exec(p: Plan): void {
    const run = this.run;
    run.desc = p.desc ?? `${this.who}.${p.method}(${showArgs(p.args)})`;
    run.before = `bytes [${this.abs}, ${this.abs + this.d.size}) before: ${hex(this.slot())}`;
    const bad = p.params.filter(([, c]) => c !== "ok");
    if (bad.length > 0) {
      run.count(false);
      let threw = false, err: unknown, got: unknown;
      try {
        got = p.invoke();
      } catch (e) {
        threw = true;
        err = e;
      }
      const problems = [
        threw
          ? errorProblem(err, p.where, bad)
          : `returned ${show(got)}; want a refusal of ${
            bad.map(([n, c]) => `${n} (${c === "type" ? "TypeError" : "RangeError"})`).join(", ")
          }`,
        this.run.compare([]),
      ].filter((x) => x !== undefined);
      if (problems.length) run.fail(problems.join("; "));
      return;
    }
    run.count(true);
    const exp = p.expect();
    let got: unknown;
    try {
      got = p.invoke();
    } catch (e) {
      const m = run.compare([]);
      run.fail(`threw ${showError(e)}; want it accepted${m ? `; ${m}` : ""}`);
      return;
    }
    this.verify(exp, got);
  }

  verify(exp: Expect, got: unknown): void {
    const problems: string[] = [];
    if ("ret" in exp && !(exp.same ?? this.d.same)(got, exp.ret)) {
      problems.push(`returned ${show(got)}, want ${show(exp.ret)}`);
    }
    const c = exp.check?.(got);
    if (c) problems.push(c);
    const m = this.run.compare(exp.writes ?? []);
    if (m) problems.push(m);
    if (problems.length) this.run.fail(problems.join("; "));
  }
}

// ---- construction ---------------------------------------------------------------------------

const BAD_WIDTHS: readonly unknown[] = [0, 3, 32, 1.5, NaN, -4, "8", 8n, null, undefined, HOSTILE];
const clsWidth = (v: unknown): Cls => (typeof v !== "number" ? "type" : WIDTHS.includes(v) ? "ok" : "range");

/** The model of `offset` for a `size`-byte value in `length` bytes starting at `base`. */
function clsOffset(off: unknown, base: number, length: number, size: number): Cls {
  if (off === undefined) off = 0;
  if (typeof off !== "number") return "type";
  if (!Number.isInteger(off) || off < 0 || off > length - size) return "range";
  return (base + off) % size === 0 ? "ok" : "range";
}

/** Memory that no constructor accepts (each a TypeError). */
function badMemory(run: Run): unknown {
  const r = run.rng.int(9);
  switch (r) {
    case 0:
      return named("new ArrayBuffer(256)", new ArrayBuffer(SIZE));
    case 1:
      return named("new Uint8Array(256)", new Uint8Array(SIZE));
    case 2:
      return named("new Proxy(sab, {})", new Proxy(run.kind === "sab" ? run.memory : new SharedArrayBuffer(8), {}));
    case 3:
      return named(
        '{ [Symbol.toStringTag]: "SharedArrayBuffer", byteLength: 256 }',
        { [Symbol.toStringTag]: "SharedArrayBuffer", byteLength: SIZE },
      );
    case 4:
      return named("Object.create(SharedArrayBuffer.prototype)", Object.create(SharedArrayBuffer.prototype));
    case 5:
      return named("seg.bytes (not shared)", run.kind === "shm" ? run.mem : new Uint8Array(8));
    default:
      return oddValue(run.rng);
  }
}

type Place = { memory: unknown; label: string; base: number; length: number; ok: boolean };

function pickMemory(run: Run): Place {
  const r = run.rng.next();
  if (run.kind === "shm" || r < 0.8 || r >= 0.92) {
    if (r < 0.92) return { memory: run.memory, label: run.memLabel, base: 0, length: SIZE, ok: true };
    return { memory: badMemory(run), label: "", base: 0, length: 0, ok: false };
  }
  // a view over the SharedArrayBuffer: offsets are relative to it, alignment counts its own offset
  const kinds = [
    [Uint8Array, 1],
    [Int16Array, 2],
    [Int32Array, 4],
    [Float64Array, 8],
    [BigUint64Array, 8],
    [DataView, 1],
  ] as const;
  const [Ctor, e] = run.rng.pick(kinds);
  const base = e * run.rng.int(HOT / e + 1);
  const room = (SIZE - base) / e;
  const n = run.rng.chance(0.5) ? room : run.rng.int(room + 1);
  const memory = Ctor === DataView
    ? new DataView(run.memory, base, n)
    : new (Ctor as unknown as new (b: SharedArrayBuffer, o: number, n: number) => unknown)(run.memory, base, n);
  const label = `new ${Ctor.name}(sab, ${base}, ${n})`;
  return { memory: named(label, memory as object), label, base, length: n * e, ok: true };
}

/** Makes an atomic this step (valid or not); returns it and where it is, or undefined. */
function construct(run: Run, spec: Spec): { a: Any; abs: number } | undefined {
  const rng = run.rng;
  const d = spec.d;
  const place = pickMemory(run);
  let off: unknown;
  let abs = -1;
  if (rng.chance(0.8)) {
    // a valid place within the memory (or, in a short view, possibly none)
    const lo = Math.ceil(place.base / d.size) * d.size;
    const hi = place.base + place.length - d.size;
    const top = rng.chance(0.75) ? Math.min(hi, Math.max(lo, HOT - d.size)) : hi;
    abs = top >= lo ? lo + d.size * rng.int((top - lo) / d.size + 1) : place.base;
    off = abs - place.base;
    if (off === 0 && rng.chance(0.3)) off = rng.chance(0.5) ? undefined : -0;
  } else {
    const rel = d.size * rng.int(HOT / d.size);
    off = rng.pick<unknown>([
      rel + 1,
      rel + d.size / 2,
      place.length - d.size + 1,
      place.length,
      SIZE + 16,
      1e9,
      -d.size,
      -1,
      rel + 0.5,
      NaN,
      Infinity,
      -Infinity,
      String(rel),
      BigInt(rel),
      null,
      true,
      oddValue(rng),
    ]);
  }
  const width = spec.width === undefined ? undefined : rng.chance(0.92) ? spec.width : rng.pick(BAD_WIDTHS);
  const params: [string, Cls][] = [];
  if (spec.width !== undefined) params.push(["width", clsWidth(width)]);
  params.push(["memory", place.ok ? "ok" : "type"]);
  if (place.ok) params.push(["byteOffset", clsOffset(off, place.base, place.length, d.size)]);
  if (params.every(([, c]) => c === "ok")) abs = place.base + ((off as number | undefined) ?? 0);

  const args = spec.width === undefined ? [place.memory, off] : [place.memory, off, width];
  let made: Any;
  const step = new Step(run, spec, undefined, Math.max(abs, 0));
  step.exec({
    method: `new ${d.label}`,
    desc: `new ${d.label}(${showArgs(args)})`,
    where: `new ${d.label}`,
    args,
    params,
    invoke: () => {
      let n = args.length;
      while (n > 0 && args[n - 1] === undefined && spec.width === undefined) n--;
      made = new spec.cls(...args.slice(0, n));
      return made;
    },
    expect: () => ({
      check(a: Any) {
        const memory = run.memory;
        if (a.byteOffset !== abs) return `byteOffset is ${a.byteOffset}, want ${abs}`;
        if (a.memory !== memory) return `memory is not the ${run.memLabel} it was made over`;
        if (spec.width !== undefined && a.width !== spec.width) return `width is ${a.width}, want ${spec.width}`;
        return undefined;
      },
    }),
  });
  if (made === undefined || made.byteOffset !== abs || params.some(([, c]) => c !== "ok")) return undefined;
  return { a: made, abs };
}

// ---- operations ---------------------------------------------------------------------------------

const lower = (s: string) => s[0].toLowerCase() + s.slice(1);

function opsOf(d: Domain): Op[] {
  const ops: Op[] = [
    { name: "load", weight: 6, run: opLoad },
    { name: "store", weight: 8, run: opStore },
    { name: "exchange", weight: 5, run: opExchange },
    { name: "compareExchange", weight: 6, run: (s) => opCompare(s, "compareExchange") },
    { name: "compareAndSet", weight: 6, run: (s) => opCompare(s, "compareAndSet") },
    { name: "update", weight: 5, run: opUpdate },
    { name: "toString", weight: 0.5, run: opToString },
    { name: "descriptor", weight: 0.7, run: opDescriptor },
    { name: "handle", weight: 0.5, run: opHandle },
    { name: "create", weight: 1, run: opCreate },
  ];
  for (const name of Object.keys(d.rmw)) {
    ops.push({ name: `fetch${name}`, weight: 2.5, run: (s) => opRmw(s, name, true) });
    ops.push({ name: `${lower(name)}Fetch`, weight: 2.5, run: (s) => opRmw(s, name, false) });
  }
  if (d.paths.length === 2) ops.push({ name: "loadNumber", weight: 3, run: opLoadNumber });
  if (d.kind === "bytes") ops.push({ name: "loadInto", weight: 3, run: opLoadInto });
  if (d.kind === "string") ops.push({ name: "asBytes", weight: 1, run: opAsBytes });
  if (d.type === "i32" || d.type === "u32") {
    ops.push({ name: "wait", weight: 1.5, run: opWait });
    ops.push({ name: "waitAsync", weight: 0.25, run: opWaitAsync });
    ops.push({ name: "notify", weight: 1, run: opNotify });
  }
  return ops;
}

function opLoad(s: Step): void {
  const order = s.rng.chance(0.2) ? s.rng.pick(LOAD) : s.order();
  s.exec({
    method: "load",
    where: `${s.label}.load`,
    args: [order],
    params: [["order", clsOrder(order, LOAD)]],
    invoke: () => call(s.a, "load", [order]),
    expect: () => ({ ret: s.d.read(s.slot(), s.d.paths[0]) }),
  });
}

function opLoadNumber(s: Step): void {
  const order = s.rng.chance(0.2) ? s.rng.pick(LOAD) : s.order();
  s.exec({
    method: "loadNumber",
    where: `${s.label}.loadNumber`,
    args: [order],
    params: [["order", clsOrder(order, LOAD)]],
    invoke: () => call(s.a, "loadNumber", [order]),
    expect: () => ({ ret: s.d.read(s.slot(), "num") }),
  });
}

function opStore(s: Step): void {
  const p0 = s.path();
  const v = s.value(p0);
  const p = s.actual(p0, v);
  const order = s.rng.chance(0.2) ? s.rng.pick(STORE) : s.order();
  s.exec({
    method: "store",
    where: `${s.label}.store`,
    args: [v, order],
    params: [["value", s.d.classify(v, p)], ["order", clsOrder(order, STORE)]],
    invoke: () => call(s.a, "store", [v, order]),
    expect: () => ({ ret: undefined, same: Object.is, writes: [s.write(s.d.write(v, p), "write")] }),
  });
}

function opExchange(s: Step): void {
  const p0 = s.path();
  const v = s.value(p0);
  const p = s.actual(p0, v);
  const order = s.order();
  s.exec({
    method: "exchange",
    where: `${s.label}.exchange`,
    args: [v, order],
    params: [["value", s.d.classify(v, p)], ["order", clsOrder(order, RMW)]],
    invoke: () => call(s.a, "exchange", [v, order]),
    expect: () => ({ ret: s.d.read(s.slot(), p), writes: [s.write(s.d.write(v, p), "write")] }),
  });
}

function opCompare(s: Step, method: "compareExchange" | "compareAndSet"): void {
  const p0 = s.path();
  const e = s.rng.chance(0.45) ? s.d.read(s.slot(), p0) : s.value(p0);
  const want = s.value(p0);
  const p = s.actual(p0, e);
  const order = s.order();
  s.exec({
    method,
    where: `${s.label}.${method}`,
    args: [e, want, order],
    params: [["expected", s.d.classify(e, p)], ["desired", s.d.classify(want, p)], ["order", clsOrder(order, RMW)]],
    invoke: () => call(s.a, method, [e, want, order]),
    expect: () => {
      const old = s.slot();
      const hit = s.d.matches(old, e, p);
      return {
        ret: method === "compareAndSet" ? hit : s.d.read(old, p),
        same: method === "compareAndSet" ? Object.is : undefined,
        writes: hit ? [s.write(s.d.write(want, p), "write")] : [],
      };
    },
  });
}

function opRmw(s: Step, name: string, fetchFirst: boolean): void {
  const method = fetchFirst ? `fetch${name}` : `${lower(name)}Fetch`;
  const p0 = s.path();
  const v = s.value(p0);
  const p = s.actual(p0, v);
  const order = s.order();
  s.exec({
    method,
    where: `${s.label}.${method}`,
    args: [v, order],
    params: [["value", s.d.classify(v, p)], ["order", clsOrder(order, RMW)]],
    invoke: () => call(s.a, method, [v, order]),
    expect: () => {
      const old = s.slot();
      const next = s.d.rmw[name](old, v, p);
      return { ret: s.d.read(fetchFirst ? old : next, p), writes: [s.write(next, "rmw")] };
    },
  });
}

class LoopGuard extends Error {}
const FN_CALLS_MAX = 6;

function opUpdate(s: Step): void {
  const d = s.d, rng = s.rng, run = s.run;
  const p = d.paths[0];
  const { mode } = pickWeighted(
    rng,
    [
      { mode: "const", weight: 0.25 },
      { mode: "identity", weight: 0.15 },
      { mode: "derive", weight: 0.25 },
      { mode: "reenter", weight: 0.15 },
      { mode: "throws", weight: 0.05 },
      { mode: "notfn", weight: 0.15 },
    ] as const,
  );
  const order = s.order();
  const old = s.slot();
  const constant = mode === "const" ? s.value(p) : undefined;
  const other = d.other(old);
  const sentinel = named("the callback's own error", new Error("thrown by the callback"));
  const calls: unknown[] = [];
  // a second atomic at the same place: the re-entrant callback writes through it (a wide one uses the scratch too)
  const twin: Any = mode === "reenter"
    ? (s.spec.width === undefined ? new s.spec.cls(run.memory, s.abs) : new s.spec.cls(run.memory, s.abs, s.spec.width))
    : undefined;
  const fn = mode === "notfn"
    ? rng.pick<unknown>([5, null, "x", undefined, named("{}", {}), REVOKED])
    : (cur: unknown) => {
      calls.push(isRealU8(cur) ? cur.slice() : cur);
      if (calls.length > FN_CALLS_MAX) throw new LoopGuard();
      switch (mode) {
        case "const":
          return constant;
        case "identity":
          return cur;
        case "derive":
          return d.derive(cur);
        case "throws":
          throw sentinel;
        default:
          if (calls.length === 1) twin.store(other);
          return d.derive(cur);
      }
    };
  const where = `${s.label}.update`;
  const args = [
    mode === "notfn" ? fn : named(`(cur) => ${mode}${mode === "const" ? ` ${show(constant)}` : ""}`, fn as object),
    order,
  ];
  run.desc = `${s.who}.update(${showArgs(args)})`;
  run.before = `bytes [${s.abs}, ${s.abs + d.size}) before: ${hex(old)}`;
  const params: [string, Cls][] = [["fn", typeof fn === "function" ? "ok" : "type"], ["order", clsOrder(order, RMW)]];
  const bad = params.filter(([, c]) => c !== "ok");

  let threw = false, err: unknown, got: unknown;
  try {
    got = call(s.a, "update", [fn, order]);
  } catch (e) {
    threw = true;
    err = e;
  }
  const problems: string[] = [];
  const done = (writes: Write[]) => {
    const m = run.compare(writes);
    if (m) problems.push(m);
    if (problems.length) run.fail(problems.join("; "));
  };
  if (calls.length > FN_CALLS_MAX) {
    problems.push(
      `update loops: fn was called ${calls.length} times with ${show(calls[0])}, ${show(calls[1])}, … ` +
        "(its compare-and-set never succeeds)",
    );
    return done(mode === "reenter" ? [s.write(d.write(other, p), "write")] : []);
  }
  if (bad.length) {
    run.count(false);
    const e = threw ? errorProblem(err, where, bad) : `returned ${show(got)}; want a refusal`;
    if (e) problems.push(e);
    if (calls.length) problems.push(`fn was called (${calls.length} times) though the call is refused`);
    return done([]);
  }
  // the calls fn must see, and what it returns last: a result that is refused ends the call at once; the
  // re-entrant write makes the first compare-and-set fail, so fn runs again on the value written
  const model = (cur: unknown) =>
    mode === "const" ? constant : mode === "identity" ? cur : d.derive(isRealU8(cur) ? cur.slice() : cur);
  const seen = [d.read(old, p)];
  let result = model(seen[0]);
  if (mode === "reenter" && d.classify(result, p) === "ok") {
    seen.push(d.read(d.write(other, p), p));
    result = model(seen[1]);
  }
  if (calls.length !== seen.length || !calls.every((c, i) => d.same(c, seen[i]))) {
    problems.push(`fn was called with (${calls.map(show).join("), (")}); want (${seen.map(show).join("), (")})`);
  }
  const before = mode === "reenter" ? [s.write(d.write(other, p), "write")] : [];
  if (mode === "throws") {
    run.count(false);
    if (!threw || err !== sentinel) problems.push(`${threw ? `threw ${showError(err)}` : "returned"}; want fn's error`);
    return done(before);
  }
  const c = d.classify(result, p);
  if (c !== "ok") {
    run.count(false);
    const e = threw ? errorProblem(err, where, [["fn's result", c]]) : `returned ${show(got)}; want a refusal`;
    if (e) problems.push(e);
    return done(before);
  }
  run.count(true);
  if (threw) problems.push(`threw ${showError(err)}; want it accepted`);
  else if (!d.same(got, d.written(result))) problems.push(`returned ${show(got)}, want ${show(d.written(result))}`);
  done([s.write(d.write(result, p), "write")]);
}

function opToString(s: Step): void {
  s.exec({
    method: "toString",
    where: `${s.label}.toString`,
    args: [],
    params: [],
    invoke: () => String(s.a),
    expect: () => ({ ret: `${s.label}(${s.d.display(s.slot())})`, same: Object.is }),
  });
}

function opDescriptor(s: Step): void {
  const run = s.run;
  const good = s.rng.chance(0.75);
  const viaApi = s.rng.chance(0.5);
  if (good) {
    s.exec({
      method: "descriptor",
      where: `${s.label}.descriptor`,
      args: [],
      params: [],
      invoke: () => {
        const desc = s.a.descriptor();
        const again = viaApi ? api.fromDescriptor(structuredClone(desc)) : s.spec.cls.from(desc);
        return [desc, again];
      },
      expect: () => ({
        check(got) {
          const [desc, again] = got as [Any, Any];
          const want: Record<string, unknown> = { kind: "shared-atomic", type: s.d.type, byteOffset: s.abs };
          if (run.kind === "sab") want.buffer = run.memory;
          else want.segment = run.memory.handle();
          const keys = Object.keys(desc).sort().join();
          if (keys !== Object.keys(want).sort().join()) return `descriptor has keys ${keys}`;
          for (const [k, v] of Object.entries(want)) {
            if (k !== "buffer" && desc[k] !== v) return `descriptor.${k} is ${show(desc[k])}, want ${show(v)}`;
          }
          if (run.kind === "sab" && !viaApi && desc.buffer !== run.memory) return "descriptor.buffer is not the memory";
          if (!(again instanceof s.spec.cls)) return "rebuilt atomic is of another class";
          if (again.byteOffset !== s.abs) return `rebuilt atomic is at ${again.byteOffset}`;
          const v = again.load(), w = s.d.read(s.slot(), s.d.paths[0]);
          if (!s.d.same(v, w)) return `rebuilt atomic loads ${show(v)}, want ${show(w)}`;
          return undefined;
        },
      }),
    });
    return;
  }
  const desc = s.a.descriptor();
  const bad = s.rng.pick<[unknown, string, string, Cls]>([
    [null, `${s.label}.from`, "descriptor", "type"],
    [named("{}", {}), `${s.label}.from`, "descriptor", "type"],
    [named('{ ...descriptor, kind: "x" }', { ...desc, kind: "x" }), `${s.label}.from`, "descriptor", "type"],
    [named('{ ...descriptor, type: "nope" }', { ...desc, type: "nope" }), `${s.label}.from`, "descriptor", "type"],
    ...(s.d.size > 1
      ? [[
        named(`{ ...descriptor, byteOffset: ${s.abs + 1} }`, { ...desc, byteOffset: s.abs + 1 }),
        `new ${s.label}`,
        "byteOffset",
        "range",
      ] as [unknown, string, string, Cls]]
      : []),
    [REVOKED, `${s.label}.from`, "descriptor", "type"],
  ]);
  s.exec({
    method: "from",
    desc: `${s.label}.from(${show(bad[0])})`,
    where: bad[1],
    args: [bad[0]],
    params: [[bad[2], bad[3]]],
    invoke: () => s.spec.cls.from(bad[0]),
    expect: () => ({}),
  });
}

function opHandle(s: Step): void {
  const run = s.run;
  if (run.kind === "sab") {
    // an atomic in a SharedArrayBuffer has no handle: a TypeError naming the method
    s.exec({
      method: "handle",
      where: `${s.label}.handle`,
      args: [],
      params: [["SharedArrayBuffer", "type"]],
      invoke: () => s.a.handle(),
      expect: () => ({}),
    });
    return;
  }
  const viaApi = s.rng.chance(0.5);
  s.exec({
    method: "handle",
    where: `${s.label}.handle`,
    args: [],
    params: [],
    invoke: () => {
      const h = s.a.handle();
      return [h, viaApi ? api.fromHandle(h) : s.spec.cls.fromHandle(h)];
    },
    expect: () => ({
      check(got) {
        const [h, again] = got as [string, Any];
        const want = `sa1:${s.d.type}@${s.abs}:${run.memory.handle().slice(4)}`;
        if (h !== want) return `handle is ${show(h)}, want ${show(want)}`;
        if (!(again instanceof s.spec.cls) || again.byteOffset !== s.abs) return "fromHandle rebuilt another atomic";
        const v = again.load(), w = s.d.read(s.slot(), s.d.paths[0]);
        if (!s.d.same(v, w)) return `fromHandle's atomic loads ${show(v)}, want ${show(w)}`;
        return undefined;
      },
    }),
  });
}

function opCreate(s: Step): void {
  const d = s.d;
  const p0 = s.path();
  const initial = s.rng.chance(0.15) ? undefined : d.gen(s.rng, s.slot(), p0, s.run.view);
  const p = s.actual(p0, initial);
  const width = s.spec.width === undefined ? undefined : s.rng.chance(0.9) ? s.spec.width : s.rng.pick(BAD_WIDTHS);
  const params: [string, Cls][] = [];
  if (s.spec.width !== undefined) params.push(["width", clsWidth(width)]);
  params.push(["initial", initial === undefined ? "ok" : d.classify(initial, p)]);
  const args = s.spec.width === undefined ? [initial] : [width, initial];
  s.exec({
    method: "create",
    desc: `${d.label}.create(${showArgs(args)})`,
    where: `${d.label}.create`,
    args,
    params,
    invoke: () => call(s.spec.cls, "create", args),
    expect: () => {
      const want = initial === undefined ? new Uint8Array(d.size) : d.write(initial, p);
      return {
        check(a: Any) {
          const m = a.memory;
          if (!(m instanceof SharedArrayBuffer) || m.byteLength !== d.size || a.byteOffset !== 0) {
            return "create() did not make a fresh SharedArrayBuffer of the value's size";
          }
          const bytes = new Uint8Array(m).slice();
          if (!d.slotOk(new Uint8Array(d.size), want, bytes, "write")) {
            return `create() stored ${hex(bytes)}, want ${hex(want)}`;
          }
          return undefined;
        },
      };
    },
  });
}

function opLoadInto(s: Step): void {
  const w = s.d.size;
  const r = s.rng.next();
  const inMemory = r < 0.25;
  const at = inMemory ? s.rng.int(SIZE / w) * w : -1;
  const target = inMemory
    ? s.run.view(at, w)
    : r < 0.8
    ? new Uint8Array(w).fill(0xee)
    : s.d.gen(s.rng, s.slot(), "", (_at, n) => new Uint8Array(n));
  const order = s.rng.chance(0.2) ? s.rng.pick(LOAD) : s.order();
  s.exec({
    method: "loadInto",
    where: "AtomicBytes.loadInto",
    args: [target, order],
    params: [["target", s.d.classify(target, "")], ["order", clsOrder(order, LOAD)]],
    invoke: () => call(s.a, "loadInto", [target, order]),
    expect: () => {
      const slot = s.slot();
      return {
        check(got) {
          if (got !== target) return "did not return its target";
          if (!inMemory && hex(target as Uint8Array) !== hex(slot)) {
            return `target holds ${hex(target as Uint8Array)}, want ${hex(slot)}`;
          }
          return undefined;
        },
        writes: inMemory ? [{ at, bytes: slot, how: "write", d: s.d }] : [],
      };
    },
  });
}

function opAsBytes(s: Step): void {
  s.exec({
    method: "asBytes",
    where: "AtomicString.asBytes",
    args: [],
    params: [],
    invoke: () => s.a.asBytes(),
    expect: () => ({
      check(b: Any) {
        if (!(b instanceof api.AtomicBytes)) return "asBytes() is not an AtomicBytes";
        if (b.width !== s.d.size || b.byteOffset !== s.abs || b.memory !== s.a.memory) {
          return `asBytes() is at ${b.byteOffset}, width ${b.width}`;
        }
        const got = hex(b.load()), want = hex(s.slot());
        return got === want ? undefined : `asBytes().load() is ${got}, want ${want}`;
      },
    }),
  });
}

/** A timeout argument for wait/waitAsync; `forever` only where the wait cannot block. */
function timeout(s: Step, mayBlockForever: boolean): unknown {
  const r = s.rng.next();
  if (r < 0.55) return s.rng.pick([0, 0, 0, -0, 1e-7, 0.01]);
  if (r < 0.62) return 1;
  if (r < 0.8 && !mayBlockForever) return s.rng.pick([undefined, Infinity]);
  return s.rng.pick<unknown>([-1, -1e-9, NaN, -Infinity, "1", 1n, null, named("{}", {}), REVOKED]);
}

const clsTimeout = (t: unknown): Cls =>
  t === undefined ? "ok" : typeof t !== "number" ? "type" : t >= 0 ? "ok" : "range";

function waitArgs(s: Step): { expected: unknown; t: unknown; params: [string, Cls][]; equal: boolean } {
  const cur = s.d.read(s.slot(), "") as number;
  const expected = s.rng.chance(0.5) ? cur : s.value("");
  const ce = s.d.classify(expected, "");
  const equal = ce === "ok" && (expected as number) >>> 0 === cur >>> 0;
  // a wait on the current value with no timeout would block this thread forever
  const t = timeout(s, ce !== "ok" || equal);
  return { expected, t, params: [["expected", ce], ["timeoutMs", clsTimeout(t)]], equal };
}

function opWait(s: Step): void {
  const { expected, t, params, equal } = waitArgs(s);
  s.exec({
    method: "wait",
    where: `${s.label}.wait`,
    args: [expected, t],
    params,
    invoke: () => call(s.a, "wait", [expected, t]),
    expect: () => ({
      ret: equal ? "timed-out" : "not-equal",
      // a futex wait may also end spuriously ("ok")
      same: (got, want) => got === want || (equal && got === "ok"),
    }),
  });
}

async function opWaitAsync(s: Step): Promise<void> {
  const run = s.run;
  const { expected, t, params, equal } = waitArgs(s);
  const reason = named("the abort reason", new Error("aborted"));
  const r = s.rng.next();
  let signal: unknown;
  let aborted = false;
  let sigCls: Cls = "ok";
  if (r < 0.1) signal = named("a live AbortSignal", new AbortController().signal);
  else if (r < 0.15) {
    const c = new AbortController();
    c.abort(reason);
    signal = named("an aborted AbortSignal", c.signal);
    aborted = true;
  } else if (r < 0.25) {
    signal = s.rng.pick<unknown>([null, 5, named("{}", {}), named("{ aborted: false }", { aborted: false }), HOSTILE]);
    sigCls = "type";
  }
  const all: [string, Cls][] = [["signal", sigCls], ...params];
  const bad = all.filter(([, c]) => c !== "ok");
  const args = [expected, t, signal];
  run.desc = `${s.who}.waitAsync(${showArgs(args)})`;
  run.before = `bytes [${s.abs}, ${s.abs + 4}) before: ${hex(s.slot())}`;
  const problems: string[] = [];
  let promise: unknown;
  try {
    promise = call(s.a, "waitAsync", args);
  } catch (e) {
    problems.push(`threw synchronously (${showError(e)}); want a Promise`);
  }
  if (promise instanceof Promise) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settled = await Promise.race([
      promise.then((v) => ({ v, e: undefined, rejected: false }), (e) => ({ v: undefined, e, rejected: true })),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 5000))),
    ]);
    clearTimeout(timer);
    if (settled === undefined) problems.push("the Promise did not settle within 5 s");
    else if (bad.length) {
      run.count(false);
      if (!settled.rejected) problems.push(`resolved ${show(settled.v)}; want a refusal`);
      else {
        const pr = errorProblem(settled.e, `${s.label}.waitAsync`, bad);
        if (pr) problems.push(pr);
      }
    } else if (aborted) {
      run.count(false);
      if (!settled.rejected || settled.e !== reason) problems.push("did not reject with the signal's reason");
    } else {
      run.count(true);
      const want = equal ? "timed-out" : "not-equal";
      if (settled.rejected) problems.push(`rejected: ${showError(settled.e)}`);
      else if (settled.v !== want && !(equal && settled.v === "ok")) {
        problems.push(`resolved ${show(settled.v)}, want ${show(want)}`);
      }
    }
  } else if (problems.length === 0) problems.push(`returned ${show(promise)}; want a Promise`);
  const m = run.compare([]);
  if (m) problems.push(m);
  if (problems.length) run.fail(problems.join("; "));
}

function opNotify(s: Step): void {
  const count = s.rng.pick<unknown>([
    undefined,
    Infinity,
    0,
    -0,
    1,
    5,
    2 ** 31 - 1,
    -1,
    1.5,
    NaN,
    2 ** 31,
    -Infinity,
    "1",
    1n,
    null,
    named("{}", {}),
  ]);
  const c: Cls = count === undefined
    ? "ok"
    : typeof count !== "number"
    ? "type"
    : count === Infinity || (Number.isInteger(count) && count >= 0 && count <= 2 ** 31 - 1)
    ? "ok"
    : "range";
  s.exec({
    method: "notify",
    where: `${s.label}.notify`,
    args: [count],
    params: [["count", c]],
    invoke: () => call(s.a, "notify", [count]),
    expect: () => ({ ret: 0, same: Object.is }),
  });
}

// ---- the loop -----------------------------------------------------------------------------------

function pickWeighted<T extends { weight: number }>(rng: Rng, xs: readonly T[]): T {
  let r = rng.next() * xs.reduce((a, x) => a + x.weight, 0);
  for (const x of xs) if ((r -= x.weight) < 0) return x;
  return xs[xs.length - 1];
}

async function runSeed(seed: number, kind: "sab" | "shm", steps: number): Promise<Run> {
  const all = specs();
  const seg = kind === "shm" ? api.SharedMemory.create(uniqueName(), SIZE) : undefined;
  const memory = seg ?? new SharedArrayBuffer(SIZE);
  const run = new Run(seed, kind, memory, seg ? seg.bytes : new Uint8Array(memory as SharedArrayBuffer));
  try {
    for (run.step = 0; run.step < steps && run.failures.length < MAX_FAILURES; run.step++) {
      run.counts.steps++;
      const spec = pickWeighted(run.rng, all);
      let here = run.cache.get(spec);
      if (!here) run.cache.set(spec, here = new Map());
      let a: Any, abs: number;
      if (here.size === 0 || run.rng.chance(0.25)) {
        run.key = `${spec.d.type}.new`;
        const made = construct(run, spec);
        if (!made) continue;
        ({ a, abs } = made);
        here.set(abs, a);
      } else {
        [abs, a] = run.rng.pick([...here.entries()]);
      }
      const op = pickWeighted(run.rng, spec.ops);
      run.key = `${spec.d.type}.${op.name}`;
      const r = op.run(new Step(run, spec, a, abs));
      if (r) await r;
    }
  } finally {
    if (seg) {
      seg.close();
      seg.unlink();
    }
  }
  return run;
}

const { base: BASE, steps: STEPS, runs: RUNS } = modelRuns(0x5eed0009, 5000, 3);

const coverage = new Map<string, [number, number]>();

/** The first 25 failures, and how many more. */
const shorten = (xs: string[]): string[] => xs.length <= 25 ? xs : [...xs.slice(0, 25), `… and ${xs.length - 25} more`];

// Methods called on a `this` that is not an atomic of their class run in a child process (model_this.ts):
// a wrong pointer or width in native code would crash the test process instead of failing a test. After a
// crash the child is started again from the next call, up to MAX_CRASHES times.
const THIS_CALLS = 300;
const REPRO = runtime === "bun"
  ? "node_modules/.bin/bun test/children/model_this.ts"
  : "node_modules/.bin/deno run -A test/children/model_this.ts";
const MAX_CRASHES = 8;
test(`model: methods called on a foreign this refuse it, seed ${BASE}, ${THIS_CALLS} calls (${runtime})`, async () => {
  const failures: string[] = [];
  let crashes = 0;
  for (let next = 0; next < THIS_CALLS && crashes < MAX_CRASHES;) {
    const { code, stdout, stderr } = await start(
      selfScript("./model_this.ts", String(BASE), String(THIS_CALLS), String(next)),
    )
      .done;
    const lines = stdout.split("\n").filter(Boolean);
    const call = new Map<number, string>();
    let last = -1;
    for (const line of lines) {
      const [tag, n] = line.split(" ", 2);
      const rest = line.slice(tag.length + n.length + 2);
      if (tag === "call") call.set(last = Number(n), rest);
      else if (tag === "bad") failures.push(`call ${n}: ${call.get(Number(n))}\n      ${rest}`);
    }
    if (lines.at(-1)?.startsWith("done")) break;
    crashes++;
    const why = code === null ? "killed by a signal" : `exit code ${code}`;
    const panic = stderr.split("\n").find((l) =>
      /panic\(|segmentation fault|sigsegv|sigbus|illegal instruction/i.test(l)
    ) ?? "";
    failures.push(
      `call ${last}: ${call.get(last) ?? "(before the first call)"}\n      crashed the process (${why}) ${panic}`,
    );
    if (last < next) break;
    next = last + 1;
  }
  assert.ok(
    failures.length === 0,
    `${failures.length} failures (reproduce with ${REPRO} ${BASE} ${THIS_CALLS} <call>):\n  ` +
      shorten(failures).join("\n  "),
  );
});

for (const [seed, kind] of RUNS) {
  const where = kind === "sab" ? "a SharedArrayBuffer" : "a SharedMemory";
  test(`model: seed ${seed}, ${STEPS} random valid and invalid calls over ${where} (${runtime})`, async () => {
    const t0 = performance.now();
    const run = await runSeed(seed, kind, STEPS);
    const ms = Math.round(performance.now() - t0);
    const { steps, accepted, refused } = run.counts;
    console.log(
      `model ${runtime} seed ${seed} ${kind}: ${steps} steps, ${accepted} accepted, ${refused} refused, ${ms} ms`,
    );
    for (const [k, [y, n]] of run.coverage) {
      const c = coverage.get(k) ?? [0, 0];
      coverage.set(k, [c[0] + y, c[1] + n]);
    }
    assert.ok(
      run.failures.length === 0,
      `${run.failures.length}${run.failures.length >= MAX_FAILURES ? "+" : ""} failures ` +
        `(reproduce with SHARED_ATOMIC_SEED=${seed}):\n  ${shorten(run.failures).join("\n  ")}`,
    );
  });
}

if (process.env.SHARED_ATOMIC_MODEL_COVERAGE) {
  test("model: coverage (accepted/refused calls per type and method, all runs)", () => {
    const lines: string[] = [];
    for (const spec of specs()) {
      const row = ["new", ...spec.ops.map((o) => o.name)].map((m) => {
        const [y, n] = coverage.get(`${spec.d.type}.${m}`) ?? [0, 0];
        return `${m} ${y}/${n}`;
      });
      lines.push(`${spec.d.type}: ${row.join(", ")}`);
    }
    console.log(lines.join("\n"));
  });
}
