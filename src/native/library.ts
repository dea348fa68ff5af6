/**
 * Finds and opens the native library, once per type (so a program that uses
 * only `AtomicI32` pays for its forty exports, not six hundred), and checks
 * that its version matches this package's.
 *
 * @module
 */

import { backend, type NativeFn } from "./backend.ts";
import { exportTable, EXTRA_SYMBOLS, SHM_SYMBOLS, type Signature, type TypeName } from "./abi.ts";
import { VERSION } from "./version.ts";
import { libraryPath, locate, markOpened } from "./locate.ts";

let table: Map<string, Signature> | undefined;

export { libraryPath } from "./locate.ts";

function open(symbols: Record<string, Signature>): Record<string, NativeFn> {
  const { path: where, source } = locate();
  try {
    const syms = backend().open(where, symbols);
    markOpened();
    return syms;
  } catch (e) {
    throw new Error(
      `shared-atomic: cannot open the native library at ${where} (from ${source}; ${(e as Error).message}); ` +
        "build it with `node scripts/setup.mjs`, or set SHARED_ATOMIC_LIB to its path",
    );
  }
}

let extras: Record<string, NativeFn> | undefined;

/** `sa_version`, `sa_manifest` and friends; checks the version on first use. */
export function extraSymbols(): Record<string, NativeFn> {
  if (extras !== undefined) return extras;
  const syms = open({ ...EXTRA_SYMBOLS });
  const have = backend().cstring(syms.sa_version());
  if (have !== VERSION) {
    throw new Error(
      `shared-atomic: the native library at ${libraryPath()} (from ${locate().source}) is version ${have}, ` +
        `this package is ${VERSION}; point SHARED_ATOMIC_LIB at a ${VERSION} library, reinstall the package ` +
        "(which brings the matching platform package), or rebuild this checkout (node scripts/setup.mjs)",
    );
  }
  return (extras = syms);
}

const perType = new Map<TypeName, Record<string, NativeFn>>();

/** The exports of one value type, keyed by full symbol name. */
export function typeSymbols(type: TypeName): Record<string, NativeFn> {
  let syms = perType.get(type);
  if (syms === undefined) {
    extraSymbols();
    table ??= exportTable();
    const prefix = `sa_${type}_`;
    const wanted: Record<string, Signature> = {};
    for (const [name, sig] of table) {
      if (name.startsWith(prefix) && !name.includes("_weak")) wanted[name] = sig;
    }
    syms = open(wanted);
    perType.set(type, syms);
  }
  return syms;
}

const groups = new Map<string, Record<string, NativeFn>>();

/** A named group of exports, opened once (after the version check). */
export function openGroup(key: string, symbols: Readonly<Record<string, Signature>>): Record<string, NativeFn> {
  let syms = groups.get(key);
  if (syms === undefined) {
    extraSymbols();
    syms = open({ ...symbols });
    groups.set(key, syms);
  }
  return syms;
}

/** The shared-memory exports (POSIX only). */
export function shmSymbols(): Record<string, NativeFn> {
  return openGroup("shm", SHM_SYMBOLS);
}
