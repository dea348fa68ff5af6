// One idempotent set-up step for a fresh clone: npm devDependencies (Bun,
// Deno, TypeScript, pinned exactly in package.json), Zig from PyPI's
// `ziglang` (the version is `minimum_zig_version` in build.zig.zon, the one
// place it is recorded) into .tools/, then the native library.
// Usage: node scripts/setup.mjs [--quiet]
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
const log = (msg) => quiet || console.error(`[setup] ${msg}`);
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { cwd: root, stdio: quiet ? ["ignore", "ignore", "inherit"] : "inherit", ...opts });

export const zigVersion = readFileSync(join(root, "build.zig.zon"), "utf8")
  .match(/minimum_zig_version\s*=\s*"([^"]+)"/)[1];
export const zigDir = join(root, ".tools", `zig-${zigVersion}`);
export const zig = join(zigDir, "ziglang", process.platform === "win32" ? "zig.exe" : "zig");

function npmDeps() {
  const marker = join(root, "node_modules", ".package-lock.json");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const have = existsSync(marker) ? JSON.parse(readFileSync(marker, "utf8")).packages ?? {} : {};
  const missing = Object.entries(pkg.devDependencies)
    .filter(([name, v]) => have[`node_modules/${name}`]?.version !== v);
  if (missing.length === 0) return;
  log(`npm install (${missing.map(([n, v]) => `${n}@${v}`).join(", ")})`);
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { shell: process.platform === "win32" });
}

function zigToolchain() {
  if (existsSync(zig)) return;
  log(`installing zig ${zigVersion} from PyPI (ziglang) into ${zigDir}`);
  const py = process.platform === "win32" ? "python" : "python3";
  run(py, [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
    "--no-warn-script-location",
    "--target",
    zigDir,
    `ziglang==${zigVersion}`,
  ]);
}

function buildLibrary() {
  log("zig build -Doptimize=ReleaseFast");
  run(zig, ["build", "-Doptimize=ReleaseFast"]);
}

/** Wine for the Windows build's tests (Linux x64 hosts only; scripts/setup_wine.mjs). */
async function wine() {
  const { setupBunWindows, setupWine } = await import("./setup_wine.mjs");
  try {
    const r = setupWine(log);
    if (!r.wine) log(`no Wine (the Windows tests will not run): ${r.why}`);
    else setupBunWindows(log);
  } catch (e) {
    // not fatal here: .ci/run then counts the Windows tests as failed
    console.error(`[setup] installing Wine failed: ${e.message}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  npmDeps();
  zigToolchain();
  buildLibrary();
  await wine();
}
