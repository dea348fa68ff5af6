// Helpers of the randomized model test (test/model.test.ts): the PRNG,
// argument pools (edge values and hostile objects), and descriptions of
// values that never run user code (no getters, no Proxy traps).
import { Buffer } from "node:buffer";
import process from "node:process";

/** How the library must classify an argument: accepted, or a TypeError / RangeError. */
export type Cls = "ok" | "type" | "range";

/** mulberry32: a small, fast, deterministic PRNG (32-bit state). */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  /** A random unsigned bigint of `bits` bits. */
  bits(bits: number): bigint {
    let x = 0n;
    for (let i = 0; i < bits; i += 32) x = (x << 32n) | BigInt((this.next() * 4294967296) >>> 0);
    return BigInt.asUintN(bits, x);
  }
  /** `n` random bytes, biased towards 0x00, 0xff and ASCII. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const r = this.next();
      out[i] = r < 0.2 ? 0 : r < 0.3 ? 0xff : r < 0.6 ? 0x61 + this.int(26) : this.int(256);
    }
    return out;
  }
}

// ---- descriptions -------------------------------------------------------------

const labels = new WeakMap<object, string>();

/** Registers a description for an object made here (so describing it runs none of its code). */
export function named<T extends object>(label: string, o: T): T {
  labels.set(o, label);
  return o;
}

const u8Tag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)!
  .get!;
const taLength = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), "length")!.get!;

/** Whether `v` really is a Uint8Array (a brand check: no Proxy, no fake prototype, no getter runs). */
export function isRealU8(v: unknown): v is Uint8Array {
  return u8Tag.call(v) === "Uint8Array";
}

/** The real length of a Uint8Array (0 once detached). */
export function u8Length(v: Uint8Array): number {
  return taLength.call(v) as number;
}

export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

/** A short description of any value, as an argument in a reproduction line. */
export function show(v: unknown): string {
  switch (typeof v) {
    case "bigint":
      return `${v}n`;
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "string":
      return JSON.stringify(v);
    case "symbol":
      return "Symbol()";
    case "undefined":
    case "boolean":
      return String(v);
  }
  if (v === null) return "null";
  const l = labels.get(v as object);
  if (l !== undefined) return l;
  if (isRealU8(v)) return `Uint8Array[${hex(v)}]`;
  return typeof v === "function" ? "a function" : "an object";
}

// ---- hostile and odd values -------------------------------------------------

class Boom extends Error {}

/** A Proxy whose every trap throws. */
function hostileProxy(target: object): object {
  const fail = () => {
    throw new Boom("hostile trap");
  };
  const traps = [
    "get",
    "set",
    "has",
    "getPrototypeOf",
    "setPrototypeOf",
    "ownKeys",
    "getOwnPropertyDescriptor",
    "defineProperty",
    "deleteProperty",
    "isExtensible",
    "preventExtensions",
    "apply",
    "construct",
  ];
  return new Proxy(target, Object.fromEntries(traps.map((t) => [t, fail])));
}

function revoked(): object {
  const r = Proxy.revocable({}, {});
  r.revoke();
  return r.proxy;
}

/** A Proxy whose every trap throws, and a revoked Proxy (any use of it throws). */
export const HOSTILE: object = named("new Proxy({}, throwing traps)", hostileProxy({}));
export const REVOKED: object = named("a revoked Proxy", revoked());

/**
 * Non-primitive values that are never a number, bigint, boolean, string or
 * Uint8Array: every parameter of every method refuses them with a TypeError
 * (they are made once; none of their code may run while the library checks them).
 */
export const OBJECTS: readonly unknown[] = [
  named("{}", {}),
  named("[]", []),
  named("[1]", [1]),
  named("Object.create(null)", Object.create(null)),
  named("{ valueOf() { throw } }", {
    valueOf() {
      throw new Boom("valueOf");
    },
  }),
  named("{ [Symbol.toPrimitive]() { throw } }", {
    [Symbol.toPrimitive]() {
      throw new Boom("toPrimitive");
    },
  }),
  named("{ get constructor() { throw } }", {
    get constructor() {
      throw new Boom("constructor getter");
    },
  }),
  named("new Number(1)", new Number(1)),
  named('new String("a")', new String("a")),
  named("new Boolean(true)", new Boolean(true)),
  named("Object(1n)", Object(1n)),
  named("new Date(0)", new Date(0)),
  named("new Proxy({}, {})", new Proxy({}, {})),
  HOSTILE,
  REVOKED,
  named("new Proxy(new Number(1), throwing traps)", hostileProxy(new Number(1))),
];

/** Primitives of every kind, some valid for some parameters (each domain classifies them). */
export const PRIMITIVES: readonly unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -0,
  1,
  -1,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  0n,
  1n,
  -1n,
  "",
  "1",
  "relaxed",
  Symbol("s"),
];

/** Any value of the pools above, mostly ones no parameter accepts. */
export function oddValue(rng: Rng): unknown {
  return rng.chance(0.5) ? rng.pick(OBJECTS) : rng.pick(PRIMITIVES);
}

// ---- byte strings -----------------------------------------------------------

class U8Sub extends Uint8Array {}

/** Byte-string arguments for a width-`w` AtomicBytes that are not acceptable, with their class. */
export function badBytes(rng: Rng, w: number): unknown {
  const src = rng.bytes(w);
  switch (rng.int(12)) {
    case 0:
      return new Uint8Array(w + 1 + rng.int(3));
    case 1:
      return w > 1 ? src.subarray(0, w - 1) : new Uint8Array(0);
    case 2: {
      const ab = new ArrayBuffer(w);
      const v = new Uint8Array(ab);
      structuredClone(ab, { transfer: [ab] });
      return named("a detached Uint8Array", v);
    }
    case 3:
      return named(`Uint8ClampedArray[${hex(src)}]`, new Uint8ClampedArray(src));
    case 4:
      return named(`Int8Array(${w})`, new Int8Array(w));
    case 5:
      return named(`[${Array.from(src).join(", ")}]`, Array.from(src));
    case 6:
      return named(`DataView(${w})`, new DataView(new ArrayBuffer(w)));
    case 7:
      return named(`ArrayBuffer(${w})`, new ArrayBuffer(w));
    case 8:
      return named(`new Proxy(Uint8Array[${hex(src)}], {})`, new Proxy(src, {}));
    case 9:
      return named("Object.create(Uint8Array.prototype)", Object.create(Uint8Array.prototype));
    case 10:
      return named(`new Proxy(Uint8Array(${w}), throwing traps)`, hostileProxy(new Uint8Array(w)));
    default:
      return oddValue(rng);
  }
}

// Pieces of UTF-8, well-formed or not, for bytes that an AtomicString over the same memory then reads:
// a BOM, 2-, 3- and 4-byte characters, overlong forms, encoded surrogates, beyond U+10FFFF, truncated
// sequences, stray continuation bytes, bytes never in UTF-8, and interior zeros.
const UTF8_PIECES: readonly number[][] = [
  [0xef, 0xbb, 0xbf],
  [0x61],
  [0x7f],
  [0xc3, 0xa9],
  [0xe6, 0x97, 0xa5],
  [0xf0, 0x9f, 0x98, 0x80],
  [0xf4, 0x8f, 0xbf, 0xbf],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf5, 0x80, 0x80, 0x80],
  [0xe6, 0x97],
  [0xf0, 0x9f],
  [0x80],
  [0xbf],
  [0xff],
  [0xfe],
  [0x00],
];

/** `w` bytes of UTF-8, well-formed or not, zero-padded (what an AtomicString may find in memory). */
export function utf8ish(rng: Rng, w: number): Uint8Array {
  const out: number[] = [];
  const n = 1 + rng.int(w);
  while (out.length < n) out.push(...rng.pick(UTF8_PIECES));
  const b = new Uint8Array(w);
  b.set(out.slice(0, rng.chance(0.3) ? w : n));
  return b;
}

/** A valid byte-string argument: a Uint8Array of exactly `w` bytes, in one of several forms. */
export function goodBytes(rng: Rng, w: number, current: Uint8Array, memoryView: (at: number, w: number) => Uint8Array) {
  const src = rng.chance(0.3) ? utf8ish(rng, w) : rng.bytes(w);
  switch (rng.int(9)) {
    case 0:
      return current.slice();
    case 1:
      return new Uint8Array(w);
    case 2:
      return new Uint8Array(w).fill(0xff);
    case 3: {
      // a view of the very memory under test (the library must read it before writing)
      return memoryView(rng.int(64 / w) * w, w);
    }
    case 4:
      return named(`Buffer[${hex(src)}]`, Buffer.from(src));
    case 5:
      return named(`U8Sub[${hex(src)}]`, new U8Sub(src));
    case 6: {
      const big = new Uint8Array(w + 5);
      big.set(src, 3);
      return big.subarray(3, 3 + w);
    }
    case 7: {
      const v = new Uint8Array(new SharedArrayBuffer(w));
      v.set(src);
      return v;
    }
    default:
      return src;
  }
}

// ---- strings ------------------------------------------------------------------

const encoder = new TextEncoder();

/** Whether `s` has a lone surrogate (no UTF-8 encoding). */
export function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      else return true;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

/** The UTF-8 bytes of a well-formed string. */
export const utf8 = (s: string): Uint8Array => encoder.encode(s);

const PIECES = [
  "a",
  "b",
  "Z",
  "~",
  "\x7f",
  "\x01",
  "é",
  "\u0080",
  "\u07ff",
  "\u0800",
  "日",
  "\ufeff",
  "\ufffd",
  "\uffff",
  "😀",
  "\u{10000}",
  "\u{10ffff}",
  "e\u0301",
];
const BAD_PIECES = ["\0", "\ud800", "\udc00", "\udbff\ud800", "\udfff"];

/** A string argument for a width-`w` AtomicString: mostly fitting, sometimes too long or malformed. */
export function someString(rng: Rng, w: number, current: string): unknown {
  const r = rng.next();
  if (r < 0.1) return current;
  if (r < 0.15) return "";
  if (r < 0.2) return oddValue(rng);
  let s = "";
  const target = rng.chance(0.2) ? w + 1 + rng.int(4) : 1 + rng.int(w);
  while (utf8(s.replace(/[\ud800-\udfff]/g, "x")).length < target) {
    s += rng.chance(0.05) ? rng.pick(BAD_PIECES) : rng.chance(0.6) ? rng.pick(PIECES.slice(0, 6)) : rng.pick(PIECES);
  }
  return s;
}

/**
 * The runs of a seeded model test: SHARED_ATOMIC_SEED=<n> runs seed n once
 * over a SharedArrayBuffer and once over a SharedMemory; otherwise `sab`
 * seeds from `base` over a SharedArrayBuffer, then one over a SharedMemory.
 * SHARED_ATOMIC_STEPS=<n> sets the steps per run (default `steps`).
 */
export function modelRuns(
  base: number,
  steps: number,
  sab: number,
): { base: number; steps: number; runs: [number, "sab" | "shm"][] } {
  const env = process.env.SHARED_ATOMIC_SEED;
  const n = Number(process.env.SHARED_ATOMIC_STEPS ?? steps);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new Error(`SHARED_ATOMIC_STEPS must be a positive integer; got ${process.env.SHARED_ATOMIC_STEPS}`);
  }
  if (env === undefined || env === "") {
    const runs: [number, "sab" | "shm"][] = Array.from({ length: sab }, (_, i) => [base + i, "sab"]);
    return { base, steps: n, runs: [...runs, [base + sab, "shm"]] };
  }
  const seed = Number(env);
  if (!Number.isInteger(seed)) throw new Error(`SHARED_ATOMIC_SEED must be an integer; got ${JSON.stringify(env)}`);
  return { base: seed >>> 0, steps: n, runs: [[seed >>> 0, "sab"], [seed >>> 0, "shm"]] };
}
