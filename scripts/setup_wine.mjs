// Wine for running the Windows x64 build's tests on a Linux x64 host, installed
// project-locally without root: Debian's own packages (`apt-get download`,
// which needs no root, then `dpkg -x` into a folder), never `apt-get install`.
//
//   node scripts/setup_wine.mjs [--quiet]
//
// Also Bun for Windows (npm's @oven/bun-windows-x64, the version package.json
// pins for Bun) as <dir>/bun-windows/bun.exe, with a stand-in for the one
// system DLL function it needs that Wine 8.0 lacks (scripts/wine/).
//
// Writes <dir>/bin/wine, a wrapper that runs Wine with a prefix of its own
// (<dir>/prefix), no debug output and no Mono/Gecko installers; `zig build
// test -Dtarget=x86_64-windows-gnu -fwine` finds it when <dir>/bin is first on
// PATH. <dir> is .tools/wine (SHARED_ATOMIC_WINE_DIR overrides it). Needs
// apt-get, dpkg-deb and the Debian bookworm (or later) package lists; on any
// other host it does nothing and says why.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { zig } from "./setup.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const wineDir = process.env.SHARED_ATOMIC_WINE_DIR ?? join(root, ".tools", "wine");
/** The directory to put first on PATH for `zig build ... -fwine`. */
export const wineBin = join(wineDir, "bin");
const done = join(wineDir, ".complete");

// wine64 (the loader) and libwine (the DLLs) are all Wine needs to run console
// programs; zlib1.dll (libz-mingw-w64), which Debian's user32 imports, lives
// outside Wine's DLL folder in Debian, so it is copied in. The graphics, sound
// and device libraries libwine names are loaded only by modules a console test
// never touches.
const PACKAGES = ["wine64", "libwine", "libz-mingw-w64", "libunwind8"];

const WRAPPER = `#!/bin/sh
# Wine from Debian's packages, extracted by scripts/setup_wine.mjs.
here=$(cd "$(dirname "$0")/.." && pwd)
export WINEPREFIX="\${WINEPREFIX:-$here/prefix}"
export WINEDEBUG="\${WINEDEBUG:--all}"
export WINEDLLOVERRIDES="\${WINEDLLOVERRIDES:-mscoree,mshtml=}"
export LD_LIBRARY_PATH="$here/root/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$here/root/usr/lib/wine/\${WINE_TOOL:-wine64}" "$@"
`;

// Debian's wineserver is a script naming /usr/lib/wine/wineserver64; Wine runs
// the wineserver next to its loader, so point it at the extracted one.
const WINESERVER = `#!/bin/sh
exec "$(dirname "$0")/wineserver64" -p0 "$@"
`;

/** Why Wine cannot be set up on this host, or null if it can. */
export function unsupported() {
  if (process.platform !== "linux" || process.arch !== "x64") {
    return "Wine runs the Windows x64 tests on Linux x64 hosts only";
  }
  for (const tool of ["apt-get", "dpkg-deb"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      return `${tool} not found (Wine comes from Debian packages)`;
    }
  }
  return null;
}

/** Installs Wine into wineDir if it is not there yet; returns the wrapper's path, or null (and why) if it cannot. */
export function setupWine(log = () => {}) {
  const wrapper = join(wineBin, "wine");
  if (existsSync(done)) return { wine: wrapper };
  const why = unsupported();
  if (why) return { wine: null, why };
  log(`downloading ${PACKAGES.join(", ")} (Debian, apt-get download) into ${wineDir}`);
  rmSync(wineDir, { recursive: true, force: true });
  const debs = join(wineDir, "debs");
  const tree = join(wineDir, "root");
  mkdirSync(debs, { recursive: true });
  chmodSync(debs, 0o777); // apt-get downloads as its own user when it can
  try {
    execFileSync("apt-get", ["download", ...PACKAGES], { cwd: debs, stdio: ["ignore", "ignore", "inherit"] });
  } catch (e) {
    throw new Error(
      `apt-get download ${PACKAGES.join(" ")} failed (no package lists? run apt-get update): ${e.message}`,
    );
  }
  for (const deb of readdirSync(debs).filter((f) => f.endsWith(".deb"))) {
    execFileSync("dpkg-deb", ["-x", join(debs, deb), tree]);
  }
  rmSync(debs, { recursive: true });
  const dlls = join(tree, "usr/lib/x86_64-linux-gnu/wine/x86_64-windows");
  copyFileSync(join(tree, "usr/x86_64-w64-mingw32/lib/zlib1.dll"), join(dlls, "zlib1.dll"));
  writeFileSync(join(tree, "usr/lib/wine/wineserver"), WINESERVER);
  chmodSync(join(tree, "usr/lib/wine/wineserver"), 0o755);
  mkdirSync(wineBin, { recursive: true });
  writeFileSync(wrapper, WRAPPER);
  chmodSync(wrapper, 0o755);
  // Create the prefix now (≈10 s), not in the first test run.
  log("wineboot --init");
  // (it exits non-zero having made a 64-bit-only prefix: no syswow64 programs)
  try {
    execFileSync(wrapper, ["wineboot", "--init"], { stdio: "ignore" });
  } catch { /* checked below */ }
  // the wineserver writes the registry when it exits: wait for that
  execFileSync(wrapper, ["-w"], { stdio: "ignore", env: { ...process.env, WINE_TOOL: "wineserver" } });
  if (!existsSync(join(wineDir, "prefix", "system.reg"))) throw new Error("wineboot did not create the Wine prefix");
  // (a plain mingw DLL is not found in Wine's own DLL folder by programs: give the prefix a copy too)
  copyFileSync(join(dlls, "zlib1.dll"), join(wineDir, "prefix", "drive_c", "windows", "system32", "zlib1.dll"));
  writeFileSync(done, `${PACKAGES.join(" ")}\n`);
  return { wine: wrapper };
}

const bunVersion = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).devDependencies.bun;
/** Bun for Windows, to run under Wine. */
export const bunExe = join(wineDir, "bun-windows", "bun.exe");

/**
 * Bun for Windows from npm (`npm pack`: the registry's own client) into
 * wineDir/bun-windows, and the `ProcessPrng` stand-in it needs into the
 * prefix's system32. Needs setupWine first.
 */
export function setupBunWindows(log = () => {}) {
  const dir = dirname(bunExe);
  const marker = join(dir, `.bun-${bunVersion}`);
  if (existsSync(marker)) return bunExe;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`npm pack @oven/bun-windows-x64@${bunVersion} into ${dir}`);
  const tgz = execFileSync("npm", ["pack", "--silent", `@oven/bun-windows-x64@${bunVersion}`], {
    cwd: dir,
    encoding: "utf8",
  })
    .trim().split("\n").pop();
  execFileSync("tar", ["xzf", tgz, "-C", dir, "--strip-components=2", "package/bin/bun.exe"], { cwd: dir });
  rmSync(join(dir, tgz));
  log("building the ProcessPrng stand-in (scripts/wine/bcryptprimitives.zig)");
  const system32 = join(wineDir, "prefix", "drive_c", "windows", "system32");
  execFileSync(zig, [
    "build-lib",
    "-dynamic",
    "-target",
    "x86_64-windows-gnu",
    "-O",
    "ReleaseSmall",
    "--name",
    "bcryptprimitives",
    `-femit-bin=${join(system32, "bcryptprimitives.dll")}`,
    "-fno-emit-implib",
    join(root, "scripts", "wine", "bcryptprimitives.zig"),
  ], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  writeFileSync(marker, "");
  return bunExe;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quiet = process.argv.includes("--quiet");
  const log = (m) => quiet || console.error(`[setup] ${m}`);
  const r = setupWine(log);
  if (r.wine) console.log(r.wine, setupBunWindows(log));
  else console.error(`[setup] no Wine: ${r.why}`);
}
