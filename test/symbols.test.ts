// The TypeScript table and the library cannot drift: every symbol the
// TypeScript side expects opens with its signature, and the library's own
// manifest lists exactly those.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { api } from "./helpers/api.ts";
import { backend } from "../src/native/backend.ts";
import { exportTable, EXTRA_SYMBOLS, ROBUST_SYMBOLS, SHM_SYMBOLS, WAIT_SYMBOLS } from "../src/native/abi.ts";
import { extraSymbols, libraryPath, typeSymbols } from "../src/native/library.ts";
import { WIDE_EXTRA_SYMBOLS, wideExportTable } from "../src/wide/table.ts";
import { FUNCTIONS } from "../src/native/abi_generated.ts";

test("sa_manifest() lists exactly the exports the TypeScript table expects, in order", () => {
  const manifest = backend().cstring(extraSymbols().sa_manifest()).split(",");
  assert.deepEqual(manifest, [...exportTable().keys()]);
});

test("every expected symbol opens with its signature, for every bound type", () => {
  let n = 0;
  for (const t of ["i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64", "bool"] as const) {
    const syms = typeSymbols(t);
    for (const [name, fn] of Object.entries(syms)) {
      assert.equal(typeof fn, "function", name);
      n++;
    }
  }
  const expected = [...exportTable().keys()].filter((k) => !k.includes("_weak") && !/_(isize|usize)_/.test(k)).length;
  assert.equal(n, expected);
});

test("the library's defined dynamic symbols are the table's plus the seed ABI, and it calls no atomic helpers", () => {
  const out = execFileSync("nm", ["-D", libraryPath()], { encoding: "utf8" });
  const undefinedSyms = out.split("\n").filter((l) => / U /.test(l)).map((l) => l.trim().split(/\s+/).pop());
  const helpers = undefinedSyms.filter((s) => /__atomic_|__sync_|atomic/.test(s ?? ""));
  assert.deepEqual(helpers, [], "lock-based atomic helpers must not be called");
  const defined = new Set(out.split("\n").filter((l) => / T /.test(l)).map((l) => l.trim().split(/\s+/).pop()!));
  for (const name of exportTable().keys()) assert.ok(defined.has(name), `${name} is exported`);
  const ours = [...defined].filter((s) => s.startsWith("sa_"));
  const expected = [
    ...exportTable().keys(),
    ...Object.keys(EXTRA_SYMBOLS),
    ...Object.keys(SHM_SYMBOLS),
    ...Object.keys(WAIT_SYMBOLS),
    ...Object.keys(ROBUST_SYMBOLS),
    ...wideExportTable().keys(),
    ...Object.keys(WIDE_EXTRA_SYMBOLS),
    ...Object.keys(FUNCTIONS.channel.exports),
    ...Object.keys(FUNCTIONS.map.exports),
  ];
  assert.deepEqual(ours.sort(), expected.sort(), "sa_* exports = the atomic table + extras + shared memory");
});

test("versions agree: package.json, deno.json, build.zig.zon, the generated ABI module and the library", () => {
  const root = new URL("../", import.meta.url);
  const read = (f: string) => readFileSync(new URL(f, root), "utf8");
  const pkg = JSON.parse(read("package.json")).version;
  const deno = JSON.parse(read("deno.json")).version;
  const zon = read("build.zig.zon").match(/\.version = "([^"]+)"/)![1];
  assert.equal(pkg, api.VERSION);
  assert.equal(deno, api.VERSION);
  assert.equal(zon, api.VERSION);
  // extraSymbols() throws if the library reports another version
  assert.ok(extraSymbols());
});
