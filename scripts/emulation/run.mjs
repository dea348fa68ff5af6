// Runs a subset of the Bun suite (test/emulated/subsets.mjs) in another
// platform's Bun against that platform's release library (zig-out/dist/<key>):
// aarch64 glibc and musl under qemu-user, x64 musl through musl's loader.
// Prints Bun's own output (its "N pass" / "N fail" lines are what .ci/run
// counts) and exits with Bun's exit code.
//
// Usage: node scripts/emulation/run.mjs <platform key> [test files...]
//   (no files: the subset of that key)
// Needs scripts/emulation/setup.mjs first (.ci/run runs it).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { distLibrary, targets } from "./setup.mjs";
import { SUBSETS, TIMEOUT_MS } from "../../test/emulated/subsets.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const [key, ...files] = process.argv.slice(2);
const target = targets()[key];
if (target === undefined) {
  console.error(`usage: run.mjs <${Object.keys(targets()).join("|")}> [test files...]`);
  process.exit(2);
}
const lib = distLibrary(key);
for (const need of [target.bun, lib, distLibrary("linux-x64-gnu")]) {
  if (!existsSync(need)) {
    console.error(`${need} is missing: run node scripts/emulation/setup.mjs first`);
    process.exit(2);
  }
}
const runtime = [...target.prefix, target.bun];
const env = {
  ...process.env,
  ...target.env,
  NO_COLOR: "1",
  // this runtime loads the library under test; its children inherit that
  SHARED_ATOMIC_LIB: lib,
  // children of this runtime start the same way it was started (test/helpers/spawn.ts)
  SHARED_ATOMIC_TEST_RUNTIME: JSON.stringify(runtime),
  // what test/emulated/platform.test.ts checks
  SHARED_ATOMIC_TEST_PLATFORM: key,
  // the host's Deno and Python children load the x86-64 glibc library
  SHARED_ATOMIC_TEST_HOST_LIB: distLibrary("linux-x64-gnu"),
};
const subset = SUBSETS[key];
const chosen = files.length > 0 ? files : subset.files;
// every name left out must still exist, or the list is stale
const sources = chosen.map((f) => readFileSync(join(root, f), "utf8")).join("\n");
const stale = subset.exclude.filter((name) => files.length === 0 && !sources.includes(name));
if (stale.length > 0) {
  console.error(`test/emulated/subsets.mjs names tests that no chosen file has:\n  ${stale.join("\n  ")}`);
  process.exit(1);
}
const args = ["test", "--timeout", String(TIMEOUT_MS)];
if (subset.exclude.length > 0) {
  const escape = (t) => t.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
  args.push("--test-name-pattern", `^(?!(?:${subset.exclude.map(escape).join("|")})$)`);
  console.log(`${key}: ${subset.exclude.length} tests left out (test/emulated/subsets.mjs says why)`);
}
console.log(`${key}: ${runtime.join(" ")} ${args.join(" ").slice(0, 200)}… ${chosen.join(" ")}`);
const r = spawnSync(runtime[0], [...runtime.slice(1), ...args, ...chosen], { cwd: root, env, stdio: "inherit" });
process.exit(r.status ?? 1);
