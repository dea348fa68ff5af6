// Wide values in the native library: the manifest matches the TypeScript
// table, no lock-based helper is called, 16-byte ops are cmpxchg16b, and where
// 16-byte atomics are not lock-free the classes refuse to exist.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { api, runtime } from "./helpers/api.ts";
import { backend } from "../src/native/backend.ts";
import { libraryPath, openGroup } from "../src/native/library.ts";
import { WIDE_EXTRA_SYMBOLS, wideExportTable } from "../src/wide/table.ts";
import { run as runCommand, self } from "./helpers/spawn.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/**
 * What the child of this runtime opens for the baseline library `lib`: the
 * library itself, or in Node the Node-API addon of a whole baseline build
 * (`zig build -Dcpu=x86_64`; the addon holds the library, so it is built the same way).
 */
async function forRuntime(lib: string): Promise<string> {
  if (runtime !== "node") return lib;
  const root = new URL("../", import.meta.url).pathname;
  const zigVersion = readFileSync(join(root, "build.zig.zon"), "utf8").match(/minimum_zig_version\s*=\s*"([^"]+)"/)![1];
  const prefix = join(root, ".zig-cache", "sa-wide-baseline", "node");
  await promisify(execFile)(join(root, ".tools", `zig-${zigVersion}`, "ziglang", "zig"), [
    "build",
    "-Doptimize=ReleaseSmall",
    "-Dtarget=x86_64-linux-gnu",
    "-Dcpu=x86_64",
    "--prefix",
    prefix,
  ], { cwd: root });
  const addon = join(prefix, "lib", "shared_atomic.node");
  assert.doesNotMatch(execFileSync("nm", ["-D", "--undefined-only", addon], { encoding: "utf8" }), /atomic/);
  return addon;
}

// ---- the native library --------------------------------------------------------------

test("sa_wide_manifest() lists exactly the wide exports the TypeScript table expects; lock-free here", () => {
  const syms = openGroup("wide", WIDE_EXTRA_SYMBOLS);
  assert.equal(syms.sa_wide_lock_free(), 1, "this build (x86-64-v2 or aarch64) has 16-byte atomics");
  const manifest = backend().cstring(syms.sa_wide_manifest()).split(",");
  assert.deepEqual(manifest, [...wideExportTable().keys()]);
  const defined = execFileSync("nm", ["-D", "--defined-only", libraryPath()], { encoding: "utf8" });
  for (const name of manifest) assert.match(defined, new RegExp(` T ${name}\\n`), `${name} is exported`);
});

test("the library calls no 16-byte (or any) atomic helper, and its 16-byte ops are cmpxchg16b", () => {
  const undef = execFileSync("nm", ["-D", "--undefined-only", libraryPath()], { encoding: "utf8" });
  assert.doesNotMatch(undef, /__atomic_|__sync_|atomic/, "no lock-based helper (e.g. __atomic_fetch_add_16)");
  if (process.arch !== "x64") return;
  let asm: string;
  try {
    asm = execFileSync("objdump", ["-d", "--no-show-raw-insn", libraryPath()], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
  } catch {
    return; // no objdump here: the symbol check above is the test
  }
  for (const fn of ["sa_u128_load", "sa_u128_store", "sa_u128_fetch_add", "sa_u128_compare_exchange"]) {
    const addr = execFileSync("nm", ["-D", libraryPath()], { encoding: "utf8" })
      .split("\n").find((l) => l.endsWith(` ${fn}`))!.split(" ")[0].replace(/^0+/, "");
    const body = asm.split(`\n${addr.padStart(16, "0")} <`)[1]?.split("\n\n")[0] ?? "";
    assert.match(body, /lock cmpxchg16b/, `${fn} is a lock cmpxchg16b (loop)`);
    assert.doesNotMatch(body, /call/, `${fn} calls nothing`);
  }
});

test("where 16-byte atomics are not lock-free (x86-64 without cmpxchg16b), the classes refuse to exist", {
  timeout: 900_000, // Node: the baseline build includes the Node-API addon (~1-3 min cold, a cache hit after)
}, async (t) => {
  // Builds the wide exports for baseline x86-64 (no cmpxchg16b) into a small
  // library and runs a child against it: 16-byte classes throw
  // AtomicUnavailableError, narrower byte strings work.
  if (process.arch !== "x64") return t.skip("x86-64 only");
  const root = new URL("../", import.meta.url).pathname;
  const zigVersion = readFileSync(join(root, "build.zig.zon"), "utf8").match(/minimum_zig_version\s*=\s*"([^"]+)"/)![1];
  const zig = join(root, ".tools", `zig-${zigVersion}`, "ziglang", "zig");
  if (!existsSync(zig)) return t.skip("no zig toolchain in .tools");
  // a fixed place under the (git-ignored) Zig cache: the second run is a cache hit
  const dir = join(root, ".zig-cache", "sa-wide-baseline");
  mkdirSync(dir, { recursive: true });
  {
    const stub = join(dir, "stub.zig");
    const text = `const wide = @import("wide");
comptime { wide.abi.exportAll(wide.groups ++ .{wide.c_exports}); }
export fn sa_version() [*:0]const u8 { return "${api.VERSION}"; }
export fn sa_manifest() [*:0]const u8 { return ""; }
`;
    if (!existsSync(stub) || readFileSync(stub, "utf8") !== text) writeFileSync(stub, text);
    const lib = join(dir, `libbase-${runtime}.so`);
    await promisify(execFile)(zig, [
      "build-lib",
      "-dynamic",
      "-O",
      "ReleaseSmall",
      "-fstrip",
      "-target",
      "x86_64-linux-gnu",
      "-mcpu",
      "x86_64",
      "--cache-dir",
      join(root, ".zig-cache"),
      "--dep",
      "wide",
      `-Mroot=${stub}`,
      `-Mwide=${join(root, "zig", "wide.zig")}`,
      `-femit-bin=${lib}`,
    ], { cwd: dir });
    const syms = execFileSync("nm", ["-D", lib], { encoding: "utf8" });
    assert.doesNotMatch(syms, /sa_u128_|sa_i128_|sa_bytes16_/, "no 16-byte exports");
    assert.match(syms, / T sa_bytes8_compare_exchange\n/);
    assert.doesNotMatch(syms, / U .*atomic/);
    const out = await runCommand(self("wide-unavailable"), { SHARED_ATOMIC_LIB: await forRuntime(lib) });
    const { message, ...classes } = JSON.parse(out);
    assert.deepEqual(classes, {
      u128: "AtomicUnavailableError",
      i128: "AtomicUnavailableError",
      bytes16: "AtomicUnavailableError",
      str16: "AtomicUnavailableError",
      str8: "works",
      bytes4: "works",
    });
    assert.match(
      message,
      /new AtomicU128: 16-byte atomics are not lock-free .*cmpxchg16b.*never emulates them with a lock/,
    );
  }
});
