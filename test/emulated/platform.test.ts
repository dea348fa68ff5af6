// The runtime running the tests loaded a library built for it: the library's
// architecture is the runtime's, and under scripts/emulation/run.mjs (which
// sets SHARED_ATOMIC_TEST_PLATFORM) the runtime is the platform it claims and
// the library is that platform's release build (zig-out/dist/<key>).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import process from "node:process";
import { api, isBun } from "../helpers/api.ts";
import { inspectLibrary } from "../helpers/binfmt.ts";
import { libraryPath } from "../../src/native/library.ts";

const ZIG_ARCH: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };
const claimed = process.env.SHARED_ATOMIC_TEST_PLATFORM;

test("the loaded library is built for this runtime's architecture (and, under emulation, is the claimed platform's release build)", () => {
  const lib = inspectLibrary(readFileSync(libraryPath()));
  assert.equal(lib.arch, ZIG_ARCH[process.arch], `${libraryPath()} is ${lib.arch}, the runtime is ${process.arch}`);
  const a = api.AtomicU64.create(2n ** 64n - 1n);
  assert.equal(a.fetchAdd(1n), 2n ** 64n - 1n);
  assert.equal(a.load(), 0n);
  if (claimed === undefined) return; // not run by scripts/emulation/run.mjs
  const [os, arch, libc] = claimed.split("-");
  assert.equal(process.platform, os);
  assert.equal(process.arch, arch);
  assert.ok(isBun, "the emulated suites run in Bun");
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
    ?.glibcVersionRuntime;
  assert.equal(glibc === undefined ? "musl" : "gnu", libc, `glibc runtime version: ${glibc}`);
  assert.ok(libraryPath().endsWith(`/zig-out/dist/${claimed}/libshared_atomic.so`), libraryPath());
  if (libc === "musl") assert.equal(lib.glibc, "", "a musl library requires no GLIBC_ symbol version");
  else assert.notEqual(lib.glibc, "", "a glibc library requires GLIBC_ symbol versions");
});
