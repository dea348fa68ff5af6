// The Zig unit tests of the aarch64 Linux builds, under qemu-user: builds the
// test binaries (`zig build aarch64-tests`, see build.zig) and runs
//   - musl, release CPU level (ARMv8-A), on qemu's default CPU (has LSE) and
//     on a Cortex-A53 (ARMv8.0, no LSE: an LSE instruction would trap, so
//     this proves the LL/SC paths are the ones compiled in);
//   - glibc built with +lse (LDADD/CAS/CASP), through the aarch64 glibc
//     loader of the sysroot (not `qemu -L`, which maps "/" itself to the
//     sysroot and so breaks the tests that walk absolute paths).
// Ends with "N passed, M failed" over all runs; exits non-zero on any failure.
// Usage: node scripts/emulation/zig.mjs (after scripts/emulation/setup.mjs)
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { dir, qemu } from "./setup.mjs";
import { zig } from "../setup.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bins = join(root, "zig-out", "aarch64-tests");
const gnu = join(dir, "sysroot", "arm64-gnu");

const build = spawnSync(zig, ["build", "aarch64-tests"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) {
  console.log("zig build aarch64-tests failed");
  console.log("0 passed, 1 failed");
  process.exit(1);
}

const runs = [
  {
    name: "aarch64-linux-musl (ARMv8-A build) on qemu's default CPU",
    cmd: [qemu, join(bins, "test-aarch64-linux-musl")],
  },
  {
    name: "aarch64-linux-musl (ARMv8-A build) on a Cortex-A53 (no LSE)",
    cmd: [qemu, join(bins, "test-aarch64-linux-musl")],
    env: { QEMU_CPU: "cortex-a53" },
  },
  {
    name: "aarch64-linux-gnu (+lse build) on qemu's default CPU",
    cmd: [
      qemu,
      join(gnu, "usr", "lib", "ld-linux-aarch64.so.1"),
      "--library-path",
      join(gnu, "usr", "lib", "aarch64-linux-gnu"),
      join(bins, "test-aarch64-linux-gnu-lse"),
    ],
  },
];

let passed = 0;
let failed = 0;
for (const r of runs) {
  const t0 = Date.now();
  const p = spawnSync(r.cmd[0], r.cmd.slice(1), {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, ...r.env },
    maxBuffer: 1 << 26,
  });
  const out = `${p.stdout}${p.stderr}`;
  const all = out.match(/All (\d+) tests passed/);
  const counts = out.match(/(\d+) passed; (\d+) skipped; (\d+) failed/);
  let p1 = 0;
  let f1 = 0;
  if (all) p1 = Number(all[1]);
  else if (counts) [p1, f1] = [Number(counts[1]), Number(counts[3])];
  if (p.status !== 0 && f1 === 0) f1 = 1; // a crash, or a failure the runner did not count
  if (p1 === 0 && f1 === 0) f1 = 1; // nothing ran
  if (f1 > 0 || !all) process.stdout.write(out);
  console.log(`${r.name}: ${p1} passed, ${f1} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  passed += p1;
  failed += f1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
