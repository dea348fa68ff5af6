// One idempotent set-up step for a fresh clone: npm devDependencies (Bun,
// Deno, TypeScript, pinned exactly in package.json), Zig from PyPI's
// `ziglang` (the version is `minimum_zig_version` in build.zig.zon, the one
// place it is recorded) into .tools/, exact-pinned Node binaries from npm
// (`node-<platform>-<arch>`, the lines in NODE_VERSIONS) into
// .tools/node-<version>/, then the native library and its Node-API addon.
// Usage: node scripts/setup.mjs [--quiet]
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
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

/** The Node lines the suites run on, pinned exactly (npm's `node-<platform>-<arch>` binaries); the first runs the full suite. */
export const NODE_VERSIONS = JSON.parse(readFileSync(join(root, "scripts", "node-versions.json"), "utf8")).versions;

/** Where setup puts Node `version`: .tools/node-<version>/. */
export const nodeDir = (version) => join(root, ".tools", `node-${version}`);

/** The pinned Node binary of a major line (22, 24, 26), or of the full-suite line. */
export function nodeBin(major) {
  const v = major === undefined ? NODE_VERSIONS[0] : NODE_VERSIONS.find((x) => x.startsWith(`${major}.`));
  if (v === undefined) throw new Error(`no pinned Node ${major} (pinned: ${NODE_VERSIONS.join(", ")})`);
  return join(nodeDir(v), "bin", process.platform === "win32" ? "node.exe" : "node");
}

export function nodeBinaries() {
  const os = process.platform === "win32" ? "win" : process.platform;
  for (const version of NODE_VERSIONS) {
    const dir = nodeDir(version);
    if (existsSync(join(dir, "bin"))) continue;
    log(`installing node ${version} from npm (node-${os}-${process.arch}) into ${dir}`);
    mkdirSync(join(root, ".tools"), { recursive: true });
    const tmp = mkdtempSync(join(root, ".tools", ".node-")); // same file system: one rename
    try {
      run("npm", ["pack", "--silent", `node-${os}-${process.arch}@${version}`], {
        cwd: tmp,
        shell: process.platform === "win32",
      });
      const tgz = readdirSync(tmp).find((f) => f.endsWith(".tgz"));
      run("tar", ["xzf", tgz], { cwd: tmp });
      renameSync(join(tmp, "package"), dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

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

if (import.meta.url === `file://${process.argv[1]}`) {
  npmDeps();
  zigToolchain();
  nodeBinaries();
  buildLibrary();
}
