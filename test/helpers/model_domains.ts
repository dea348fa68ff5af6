// The pure-JS model of each atomic's value type (test/model.test.ts): how a
// value is read from and written to little-endian bytes, which arguments the
// library must accept (and which error it must throw for the others), what
// every read-modify-write computes, and the argument generators.
import {
  badBytes,
  type Cls,
  goodBytes,
  hasLoneSurrogate,
  hex,
  isRealU8,
  oddValue,
  type Rng,
  someString,
  u8Length,
  utf8,
} from "./model_values.ts";
import { INT_OPS } from "./int_ops.ts";

/**
 * Which path a call takes: "" (one path), or for 64-bit integers "big"
 * (bigint arguments and results) or "num" (safe-integer numbers).
 */
export type Path = "" | "big" | "num";

/** What an op wrote to the slot: a plain write (store, exchange, CAS) or a read-modify-write. */
export type How = "write" | "rmw";

/** The model of one value type. */
export interface Domain {
  /** The class name, as error messages and toString() show it. */
  readonly label: string;
  /** The type in descriptors and handles ("u64", "bytes8", "str16"). */
  readonly type: string;
  /** Width and alignment in bytes. */
  readonly size: number;
  readonly kind: "int" | "float" | "bool" | "bytes" | "string";
  /** The paths value-taking methods have; the first is load's and update's. */
  readonly paths: readonly Path[];
  /** The value the library returns for these bytes. */
  read(b: Uint8Array, p: Path): unknown;
  /** How the library must treat `v` as a value argument on path `p`. */
  classify(v: unknown, p: Path): Cls;
  /** The bytes an accepted value argument is stored as. */
  write(v: unknown, p: Path): Uint8Array;
  /** Whether a compare-exchange with `e` (accepted) matches these bytes. */
  matches(b: Uint8Array, e: unknown, p: Path): boolean;
  /** Read-modify-writes by name ("Add", "Nand", …): the new bytes. */
  readonly rmw: Readonly<Record<string, (b: Uint8Array, v: unknown, p: Path) => Uint8Array>>;
  /** A value argument: mostly accepted (edge values, the current value), sometimes not. */
  gen(rng: Rng, b: Uint8Array, p: Path, view: (at: number, w: number) => Uint8Array): unknown;
  /** Whether a returned value is the expected one. */
  same(got: unknown, want: unknown): boolean;
  /** Whether the slot may hold `got` where the model computed `want` (NaN payloads; bool as 0/1). */
  slotOk(old: Uint8Array, want: Uint8Array, got: Uint8Array, how: How): boolean;
  /** An accepted value whose bytes differ from `b` (update's re-entrant write). */
  other(b: Uint8Array): unknown;
  /** What a typical update callback makes of the current value (not always acceptable). */
  derive(cur: unknown): unknown;
  /** What update returns for an accepted callback result: the value as written. */
  written(v: unknown): unknown;
  /** What toString() shows inside the parentheses. */
  display(b: Uint8Array): string;
}

const eqBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

function le(x: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = BigInt.asUintN(size * 8, x);
  for (let i = 0; i < size; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function fromLe(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]);
  return x;
}

const ALWAYS_BAD_FOR_NUMBERS: readonly unknown[] = [1n, "1", null, undefined, true];

// ---- integers -----------------------------------------------------------------

export function intDomain(label: string, type: string, bits: number, signed: boolean): Domain {
  const size = bits / 8;
  const B = BigInt(bits);
  const min = signed ? -(1n << (B - 1n)) : 0n;
  const max = signed ? (1n << (B - 1n)) - 1n : (1n << B) - 1n;
  const wrap = (x: bigint) => (signed ? BigInt.asIntN(bits, x) : BigInt.asUintN(bits, x));
  const isBig = (p: Path) => bits === 128 || (bits === 64 && p !== "num");
  const readBig = (b: Uint8Array) => wrap(fromLe(b));
  const out = (x: bigint, p: Path): unknown => (isBig(p) ? x : Number(x));
  const ops = INT_OPS;
  const SAFE = 2n ** 53n - 1n;
  const edges = [
    0n,
    1n,
    -1n,
    2n,
    min,
    min + 1n,
    max,
    max - 1n,
    127n,
    128n,
    255n,
    256n,
    -128n,
    -129n,
    32767n,
    32768n,
    65535n,
    65536n,
    2n ** 31n - 1n,
    2n ** 31n,
    -(2n ** 31n),
    2n ** 32n - 1n,
    2n ** 32n,
    SAFE,
    SAFE + 1n,
    SAFE + 2n,
    -SAFE,
    -SAFE - 1n,
    2n ** 63n - 1n,
    2n ** 63n,
    -(2n ** 63n),
    2n ** 64n - 1n,
    2n ** 64n,
    -(2n ** 64n),
    2n ** 100n + 12345n,
  ].filter((x) => x >= min && x <= max);
  const numEdges = edges.filter((x) => x >= -SAFE && x <= SAFE);
  return {
    label,
    type,
    size,
    kind: "int",
    paths: bits === 64 ? ["big", "num"] : [bits === 128 ? "big" : ""],
    read: (b, p) => out(readBig(b), p),
    classify(v, p) {
      if (isBig(p)) {
        if (typeof v !== "bigint") return "type";
        return v >= min && v <= max ? "ok" : "range";
      }
      if (typeof v !== "number") return "type";
      if (bits === 64) return Number.isSafeInteger(v) && (signed || v >= 0) ? "ok" : "range";
      return Number.isInteger(v) && v >= Number(min) && v <= Number(max) ? "ok" : "range";
    },
    write: (v, _p) => le(BigInt(v as number | bigint), size),
    matches: (b, e, _p) => readBig(b) === BigInt(e as number | bigint),
    rmw: Object.fromEntries(
      Object.entries(ops).map((
        [k, f],
      ) => [k, (b: Uint8Array, v: unknown) => le(wrap(f(readBig(b), BigInt(v as number | bigint))), size)]),
    ),
    gen(rng, b, p) {
      const r = rng.next();
      const big = isBig(p);
      if (r < 0.06) return oddValue(rng);
      if (r < 0.09) return rng.pick(ALWAYS_BAD_FOR_NUMBERS);
      if (r < 0.16) {
        // out of range, or not an integer, for this path
        if (big) return rng.pick([max + 1n, min - 1n, max + 2n ** 70n, min - 2n ** 70n, 2n ** 200n]);
        const bad = [Number(max) + 1, Number(min) - 1, 0.5, -1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1e300];
        return rng.pick(bad);
      }
      if (r < 0.3) return out(readBig(b), p);
      let x: bigint;
      if (r < 0.65) x = rng.pick(big ? edges : numEdges);
      else if (big) x = wrap(rng.bits(bits));
      else if (bits === 64) x = BigInt(Math.trunc((signed ? rng.next() * 2 - 1 : rng.next()) * Number(SAFE)));
      else x = wrap(rng.bits(bits));
      const v = out(x, p);
      // -0 is an accepted number (it is 0)
      return v === 0 && rng.chance(0.3) ? -0 : v;
    },
    same: (got, want) => Object.is(got, want),
    slotOk: (_old, want, got) => eqBytes(want, got),
    other: (b) => out(readBig(b) ^ 1n, bits >= 64 ? "big" : ""),
    derive: (cur) => (typeof cur === "bigint" ? cur + 1n : (cur as number) + 1),
    // the value as stored: an integer has no -0
    written: (v) => (v === 0 ? 0 : v),
    display: (b) => String(readBig(b)),
  };
}

// ---- floats -------------------------------------------------------------------

// IEEE 754-2019 maximumNumber / minimumNumber: a NaN operand is ignored, -0 < +0.
const maxNum = (a: number, b: number) =>
  Number.isNaN(a) ? b : Number.isNaN(b) ? a : a === b ? (Object.is(a, -0) ? b : a) : a > b ? a : b;
const minNum = (a: number, b: number) =>
  Number.isNaN(a) ? b : Number.isNaN(b) ? a : a === b ? (Object.is(a, -0) ? a : b) : a < b ? a : b;

const F64_EDGES = [
  0,
  -0,
  1,
  -1,
  0.1,
  1.5,
  -2.25,
  2.5,
  NaN,
  Infinity,
  -Infinity,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE, // the smallest subnormal double
  -Number.MIN_VALUE,
  2.2250738585072014e-308, // the smallest normal double
  2.225073858507201e-308, // the largest subnormal double
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  Number.EPSILON,
  1e300,
  -1e-300,
  // float32 edges
  3.4028234663852886e38, // FLT_MAX
  3.4028235677973366e38, // rounds to Infinity in float32
  3.4028235e38,
  1.401298464324817e-45, // the smallest subnormal float
  7.006492321624085e-46, // half of it: rounds to 0 (ties to even)
  7.1e-46, // just above half: rounds to the smallest subnormal
  1.1754943508222875e-38, // FLT_MIN (smallest normal float)
  1.1754942106924411e-38, // the largest subnormal float
  16777217, // 2^24 + 1: not a float32
  0.30000000000000004,
  1 / 3,
];

export function floatDomain(label: string, type: string, bits: 32 | 64): Domain {
  const size = bits / 8;
  const round = bits === 32 ? Math.fround : (x: number) => x;
  const read = (b: Uint8Array): number => {
    const dv = new DataView(b.buffer, b.byteOffset, size);
    return bits === 32 ? dv.getFloat32(0, true) : dv.getFloat64(0, true);
  };
  const write = (v: unknown): Uint8Array => {
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    if (bits === 32) dv.setFloat32(0, v as number, true);
    else dv.setFloat64(0, v as number, true);
    return out;
  };
  const arith = (f: (a: number, b: number) => number) => (b: Uint8Array, v: unknown) =>
    write(round(f(read(b), round(v as number))));
  return {
    label,
    type,
    size,
    kind: "float",
    paths: [""],
    read: (b) => read(b),
    classify: (v) => (typeof v === "number" ? "ok" : "type"),
    write: (v) => write(round(v as number)),
    matches(b, e) {
      const cur = read(b), x = round(e as number);
      // compare-exchange compares bits: -0 is not 0; any NaN matches a NaN (JavaScript has only one NaN)
      if (Number.isNaN(cur) && Number.isNaN(x)) return true;
      return eqBytes(b, write(x));
    },
    rmw: {
      Add: arith((a, b) => a + b),
      Sub: arith((a, b) => a - b),
      Max: arith(maxNum),
      Min: arith(minNum),
    },
    gen(rng, b) {
      const r = rng.next();
      if (r < 0.07) return oddValue(rng);
      if (r < 0.1) return rng.pick([1n, "1.5", null, undefined, false]);
      if (r < 0.25) return read(b);
      if (r < 0.7) return rng.pick(F64_EDGES);
      if (r < 0.85) return (rng.next() - 0.5) * 10 ** (rng.int(20) - 10);
      // any bit pattern: subnormals, huge values, NaNs with payloads
      const raw = rng.bytes(8);
      return new DataView(raw.buffer).getFloat64(0, true);
    },
    same: (got, want) => Object.is(got, want),
    slotOk(_old, want, got) {
      // which NaN an operation leaves is not specified: any NaN is fine where the model has one
      if (Number.isNaN(read(want))) return Number.isNaN(read(got));
      return eqBytes(want, got);
    },
    other: (b) => (Number.isNaN(read(b)) ? 1.5 : Object.is(read(b), 1.5) ? 2.5 : 1.5),
    derive: (cur) => (cur as number) / 3,
    written: (v) => round(v as number),
    display: (b) => String(read(b)),
  };
}

// ---- bool ---------------------------------------------------------------------

export function boolDomain(): Domain {
  const bit = (x: boolean) => new Uint8Array([x ? 1 : 0]);
  const logic = (f: (a: boolean, b: boolean) => boolean) => (b: Uint8Array, v: unknown) =>
    bit(f(b[0] !== 0, v as boolean));
  return {
    label: "AtomicBool",
    type: "bool",
    size: 1,
    kind: "bool",
    paths: [""],
    // a byte that is not 0 is true, whoever wrote it (another atomic over the same byte, C, Python)
    read: (b) => b[0] !== 0,
    classify: (v) => (typeof v === "boolean" ? "ok" : "type"),
    write: (v) => bit(v as boolean),
    matches: (b, e) => (b[0] !== 0) === e,
    rmw: {
      And: logic((a, b) => a && b),
      Or: logic((a, b) => a || b),
      Xor: logic((a, b) => a !== b),
      Nand: logic((a, b) => !(a && b)),
    },
    gen(rng, b) {
      const r = rng.next();
      if (r < 0.08) return oddValue(rng);
      if (r < 0.12) return rng.pick([0, 1, 2, "true", 1n, null, undefined]);
      if (r < 0.3) return b[0] !== 0;
      return rng.chance(0.5);
    },
    same: (got, want) => got === want,
    slotOk(old, want, got, how) {
      if (how === "write" || want[0] === 0) return got[0] === want[0];
      // a read-modify-write whose result is true leaves 1, or a true byte it did not need to change
      return got[0] === 1 || (got[0] === old[0] && old[0] !== 0);
    },
    other: (b) => b[0] === 0,
    derive: (cur) => !cur,
    written: (v) => v,
    display: (b) => String(b[0] !== 0),
  };
}

// ---- byte strings ---------------------------------------------------------------

export function bytesDomain(w: number): Domain {
  const bytewise = (f: (a: number, b: number) => number) => (b: Uint8Array, v: unknown) =>
    Uint8Array.from(b, (x, i) => f(x, (v as Uint8Array)[i]) & 0xff);
  return {
    label: "AtomicBytes",
    type: `bytes${w}`,
    size: w,
    kind: "bytes",
    paths: [""],
    read: (b) => b.slice(),
    classify: (v) => (!isRealU8(v) ? "type" : u8Length(v) === w ? "ok" : "range"),
    write: (v) => Uint8Array.from(v as Uint8Array),
    matches: (b, e) => eqBytes(b, e as Uint8Array),
    rmw: {
      And: bytewise((a, b) => a & b),
      Or: bytewise((a, b) => a | b),
      Xor: bytewise((a, b) => a ^ b),
      Nand: bytewise((a, b) => ~(a & b)),
    },
    gen: (rng, b, _p, view) => (rng.chance(0.15) ? badBytes(rng, w) : goodBytes(rng, w, b, view)),
    same: (got, want) => isRealU8(got) && eqBytes(got, want as Uint8Array),
    slotOk: (_old, want, got) => eqBytes(want, got),
    other(b) {
      const x = b.slice();
      x[0] ^= 1;
      return x;
    },
    derive(cur) {
      // the callback changes the array it was given and returns it
      (cur as Uint8Array)[0] ^= 0x80;
      return cur;
    },
    written: (v) => Uint8Array.from(v as Uint8Array),
    display: (b) => hex(b),
  };
}

// ---- strings --------------------------------------------------------------------

export function stringDomain(w: number): Domain {
  // U+FEFF at the start is a character like any other: no BOM is ever stripped
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const read = (b: Uint8Array): string => {
    let n = b.length;
    while (n > 0 && b[n - 1] === 0) n--;
    return decoder.decode(b.slice(0, n));
  };
  const write = (v: unknown): Uint8Array => {
    const out = new Uint8Array(w);
    out.set(utf8(v as string));
    return out;
  };
  return {
    label: "AtomicString",
    type: `str${w}`,
    size: w,
    kind: "string",
    paths: [""],
    read,
    classify(v) {
      if (typeof v !== "string") return "type";
      if (hasLoneSurrogate(v) || v.includes("\0")) return "range";
      return utf8(v).length <= w ? "ok" : "range";
    },
    write,
    matches: (b, e) => eqBytes(b, write(e)),
    rmw: {},
    gen: (rng, b) => someString(rng, w, read(b)),
    same: (got, want) => got === want,
    slotOk: (_old, want, got) => eqBytes(want, got),
    other: (b) => (read(b) === "a" ? "b" : "a"),
    derive: (cur) => (cur as string) + "a",
    written: (v) => v,
    display: (b) => JSON.stringify(read(b)),
  };
}
