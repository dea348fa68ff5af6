// Child process of test/model.test.ts: every memory-touching method of every
// atomic class, called (with valid arguments) on a `this` that is not an
// atomic of that class: an atomic of another class (at the end of the
// memory, or misaligned for this class), a plain object, an object with the
// class's prototype, undefined, the SharedArrayBuffer. Each call must throw
// a TypeError naming the method and leave the memory alone; a crash (e.g. a
// native operation on a bogus or misaligned pointer) kills this process,
// which is why it runs apart. Usage: model_this.ts <seed> <calls> [<first>]:
// the calls are drawn from the seed, and those from number <first> on are
// made (so the parent can go on after a crash). Each call is announced
// ("call i …") with a synchronous write before it is made, so the parent can
// name the call that crashed; problems are "bad i …" lines; "done n" ends a
// complete run.
import { writeSync } from "node:fs";
import process from "node:process";
import { api } from "../helpers/api.ts";
import { hex, named, Rng, show } from "../helpers/model_values.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const args = process.argv.slice(2);
const rng = new Rng(Number(args[0] ?? 1));
const calls = Number(args[1] ?? 200);
const first = Number(args[2] ?? 0);
const say = (line: string) => writeSync(1, new TextEncoder().encode(line.replace(/\n/g, " ") + "\n"));

const sab = new SharedArrayBuffer(64);
const mem = new Uint8Array(sab);
for (let i = 0; i < 64; i++) mem[i] = (i * 37 + 11) & 0xff;

interface Cls {
  readonly name: string;
  readonly make: () => Any;
  readonly value: () => unknown;
  readonly methods: readonly string[];
}

const INT = ["load", "store", "exchange", "compareExchange", "compareAndSet", "update"];
const ARITH = ["Add", "Sub", "Max", "Min"];
const BITS = ["And", "Or", "Xor", "Nand"];
const rmw = (ops: readonly string[]) => ops.flatMap((o) => [`fetch${o}`, `${o.toLowerCase()}Fetch`]);
const WAIT = ["wait", "waitAsync", "notify"];

const classes: Cls[] = [
  {
    name: "AtomicI8",
    make: () => new api.AtomicI8(sab, 0),
    value: () => 1,
    methods: [...INT, ...rmw([...ARITH, ...BITS])],
  },
  {
    name: "AtomicU8",
    make: () => new api.AtomicU8(sab, 0),
    value: () => 1,
    methods: [...INT, ...rmw([...ARITH, ...BITS])],
  },
  {
    name: "AtomicI16",
    make: () => new api.AtomicI16(sab, 0),
    value: () => 1,
    methods: [...INT, ...rmw([...ARITH, ...BITS])],
  },
  {
    name: "AtomicU16",
    make: () => new api.AtomicU16(sab, 0),
    value: () => 1,
    methods: [...INT, ...rmw([...ARITH, ...BITS])],
  },
  {
    name: "AtomicI32",
    make: () => new api.AtomicI32(sab, 0),
    value: () => 1,
    methods: [...INT, ...rmw([...ARITH, ...BITS]), ...WAIT],
  },
  {
    name: "AtomicU32",
    make: () => new api.AtomicU32(sab, 0),
    value: () => 1,
    methods: [...INT, ...rmw([...ARITH, ...BITS]), ...WAIT],
  },
  {
    name: "AtomicI64",
    make: () => new api.AtomicI64(sab, 0),
    value: () => (rng.chance(0.5) ? 1n : 1),
    methods: [...INT, "loadNumber", ...rmw([...ARITH, ...BITS])],
  },
  {
    name: "AtomicU64",
    make: () => new api.AtomicU64(sab, 0),
    value: () => (rng.chance(0.5) ? 1n : 1),
    methods: [...INT, "loadNumber", ...rmw([...ARITH, ...BITS])],
  },
  { name: "AtomicF32", make: () => new api.AtomicF32(sab, 0), value: () => 1.5, methods: [...INT, ...rmw(ARITH)] },
  { name: "AtomicF64", make: () => new api.AtomicF64(sab, 0), value: () => 1.5, methods: [...INT, ...rmw(ARITH)] },
  { name: "AtomicBool", make: () => new api.AtomicBool(sab, 0), value: () => true, methods: [...INT, ...rmw(BITS)] },
  {
    name: "AtomicI128",
    make: () => new api.AtomicI128(sab, 0),
    value: () => 1n,
    methods: [...INT, ...rmw([...ARITH, ...BITS])],
  },
  {
    name: "AtomicU128",
    make: () => new api.AtomicU128(sab, 0),
    value: () => 1n,
    methods: [...INT, ...rmw([...ARITH, ...BITS])],
  },
  {
    name: "AtomicBytes",
    make: () => new api.AtomicBytes(sab, 0, 8),
    value: () => new Uint8Array(8),
    methods: [...INT, "loadInto", ...rmw(BITS)],
  },
  { name: "AtomicString", make: () => new api.AtomicString(sab, 0, 8), value: () => "a", methods: [...INT, "asBytes"] },
];

// one atomic of each class first: the classes bind their native functions on first construction
for (const c of classes) c.make();

/** `this` values that are not an atomic of class `c`. */
function foreign(c: Cls): unknown {
  const others: [string, () => unknown][] = [
    ["new AtomicU8(sab, 63)", () => new api.AtomicU8(sab, 63)],
    ["new AtomicBool(sab, 63)", () => new api.AtomicBool(sab, 63)],
    ["new AtomicI8(sab, 61)", () => new api.AtomicI8(sab, 61)],
    ["new AtomicU16(sab, 62)", () => new api.AtomicU16(sab, 62)],
    ["new AtomicI32(sab, 60)", () => new api.AtomicI32(sab, 60)],
    ["new AtomicF64(sab, 56)", () => new api.AtomicF64(sab, 56)],
    ["new AtomicU64(sab, 8)", () => new api.AtomicU64(sab, 8)],
    ["new AtomicU128(sab, 48)", () => new api.AtomicU128(sab, 48)],
    ["new AtomicBytes(sab, 62, 2)", () => new api.AtomicBytes(sab, 62, 2)],
    ["new AtomicString(sab, 60, 4)", () => new api.AtomicString(sab, 60, 4)],
    ["{}", () => ({})],
    [`Object.create(${c.name}.prototype)`, () => Object.create((api as Any)[c.name].prototype)],
    ["undefined", () => undefined],
    ["sab", () => sab],
  ];
  for (;;) {
    const [label, make] = rng.pick(others);
    if (label.startsWith(`new ${c.name}(`)) continue;
    const v = make();
    return v === undefined || v === sab ? v : named(label, v as object);
  }
}

function argsFor(c: Cls, m: string): unknown[] {
  const v = c.value();
  switch (m) {
    case "load":
    case "loadNumber":
    case "asBytes":
      return [];
    case "loadInto":
      return [new Uint8Array(8)];
    case "compareExchange":
    case "compareAndSet":
      return [v, v];
    case "update":
      return [named("(x) => x", (x: unknown) => x)];
    case "wait":
    case "waitAsync":
      return [1, 0];
    case "notify":
      return [0];
    default:
      return [v];
  }
}

for (let i = 0; i < calls; i++) {
  const c = rng.pick(classes);
  const m = rng.pick(c.methods);
  const self = foreign(c);
  const a = argsFor(c, m);
  if (i < first) continue;
  say(`call ${i} ${c.name}.prototype.${m}.call(${show(self)}${a.map((x) => `, ${show(x)}`).join("")})`);
  const before = mem.slice();
  let threw: unknown, returned: unknown, ok = false;
  try {
    returned = (api as Any)[c.name].prototype[m].call(self, ...a);
    if (returned instanceof Promise) returned = await returned;
    ok = true;
  } catch (e) {
    threw = e;
  }
  const where = `${c.name}.${m}`;
  const problems: string[] = [];
  if (ok) problems.push(`returned ${show(returned)}; want a TypeError naming ${where}`);
  else if (!(threw instanceof TypeError)) problems.push(`threw ${show(threw)}: ${(threw as Error)?.message}`);
  else if (!threw.message.includes(where)) problems.push(`TypeError does not name ${where}: ${threw.message}`);
  if (hex(mem) !== hex(before)) {
    let i = 0, j = mem.length;
    while (mem[i] === before[i]) i++;
    while (mem[j - 1] === before[j - 1]) j--;
    problems.push(`memory changed: bytes [${i}, ${j}) ${hex(before.slice(i, j))} -> ${hex(mem.slice(i, j))}`);
  }
  if (problems.length) say(`bad ${i} ${problems.join("; ")}`);
}
say(`done ${calls}`);
