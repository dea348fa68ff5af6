// Shared by the wide-value suites (test/wide_*.test.ts): edge constants, and
// the assertions that a call throws what it should and leaves memory as it was.
import assert from "node:assert/strict";

export const ORDERS = [undefined, "relaxed", "acquire", "release", "acq_rel", "seq_cst"] as const;
export const LOAD_ORDERS = [undefined, "relaxed", "acquire", "seq_cst"] as const;
export const STORE_ORDERS = [undefined, "relaxed", "release", "seq_cst"] as const;
export const U128_MAX = (1n << 128n) - 1n;
export const I128_MIN = -(1n << 127n);
export const I128_MAX = (1n << 127n) - 1n;

export type ErrorClass = abstract new (...args: never[]) => Error;

/** Asserts `fn` throws `cls` with a message containing every part. */
export function throwsLike(fn: () => unknown, cls: ErrorClass, ...parts: (string | RegExp)[]): void {
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
export function untouched(bytes: Uint8Array, fn: () => void): void {
  const before = bytes.slice();
  fn();
  assert.deepEqual(bytes.slice(), before, "memory changed after a throw");
}

/** Lower-cases the first letter ("FetchAdd" -> "fetchAdd"). */
export const lower = (s: string): string => s[0].toLowerCase() + s.slice(1);

/** A Uint8Array of the given bytes. */
export const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs);

/** A Uint8Array of `w` bytes, byte i being `f(i)`. */
export const filled = (w: number, f: (i: number) => number): Uint8Array =>
  Uint8Array.from({ length: w }, (_, i) => f(i));
