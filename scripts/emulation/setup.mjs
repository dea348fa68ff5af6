// Set-up for the emulated suites (scripts/emulation/run.mjs): installs, into
// .emulation/ of this checkout and from the registries only, what runs the
// Linux aarch64 (glibc, musl) and x64-musl builds on an x86-64 Linux host:
//
// - Debian packages (`apt-get download` with a project-local apt
//   configuration, then `dpkg -x`: nothing is installed into the system):
//   qemu-user (its static qemu-aarch64), libc6:arm64 (the aarch64 glibc
//   sysroot), musl:amd64 and musl:arm64 (musl >= 1.2.4, which Bun's musl builds
//   need: DT_RELR);
// - npm: Bun's linux-aarch64, linux-aarch64-musl and linux-x64-musl builds, the
//   version pinned for `bun` in package.json;
// - PyPI: a musllinux wheel that bundles a musl libstdc++/libgcc_s (Bun's musl
//   builds link libstdc++.so.6; Debian has no musl libstdc++);
// - the release libraries under test: `zig build dist` for the four Linux keys.
//
// Idempotent: a stamp (.emulation/ready.json) records what was installed;
// nothing is fetched again while it matches the pins below.
// Usage: node scripts/emulation/setup.mjs [--quiet]
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Everything this set-up installs lives here (ignored by git). */
export const dir = join(root, ".emulation");
const bunVersion = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).devDependencies.bun;

/**
 * What is installed. Debian: the suite, and for each package the version
 * prefix accepted (the suite's current point release of it is taken, so a
 * security update does not break the set-up; the exact versions used are
 * written to the stamp and printed).
 */
export const PINS = {
  debianSuite: "trixie",
  debs: {
    "qemu-user:amd64": "1:10.0.",
    "libc6:arm64": "2.41-",
    "musl:amd64": "1.2.5-",
    "musl:arm64": "1.2.5-",
  },
  npm: {
    "@oven/bun-linux-aarch64": bunVersion,
    "@oven/bun-linux-aarch64-musl": bunVersion,
    "@oven/bun-linux-x64-musl": bunVersion,
  },
  // numpy's musllinux wheels bundle libstdc++.so.6.0.32 and libgcc_s (GCC 13)
  musllinuxWheel: "numpy==2.2.6",
};

/** `zig build --libc-runtimes` (the aarch64 glibc sysroot as <dir>/aarch64-linux-gnu). */
export const libcRuntimes = join(dir, "libc-runtimes");

/** The qemu-user binary for aarch64. */
export const qemu = join(dir, "qemu", "qemu-aarch64");

/**
 * The targets: the release library (npm/platforms.json key) each one tests,
 * the Bun binary, and how to start it (`prefix` before the binary, `env` for
 * it and its children).
 */
export function targets() {
  const bun = (name) => join(dir, "bun", name, "bin", "bun");
  const sysrootGnu = join(dir, "sysroot", "arm64-gnu");
  const sysrootMusl = join(dir, "sysroot", "arm64-musl");
  const muslX64 = join(dir, "sysroot", "x64-musl");
  return {
    "linux-arm64-gnu": {
      bun: bun("bun-linux-aarch64"),
      prefix: [qemu],
      env: { QEMU_LD_PREFIX: sysrootGnu },
      emulated: true,
    },
    "linux-arm64-musl": {
      bun: bun("bun-linux-aarch64-musl"),
      prefix: [qemu],
      env: { QEMU_LD_PREFIX: sysrootMusl },
      emulated: true,
    },
    "linux-x64-musl": {
      bun: bun("bun-linux-x64-musl"),
      // musl's loader run as a command: no /lib/ld-musl-x86_64.so.1 needed
      prefix: [
        join(muslX64, "usr", "lib", "ld-musl-x86_64.so.1"),
        "--library-path",
        join(muslX64, "usr", "lib", "x86_64-linux-musl"),
      ],
      env: {},
      emulated: false,
    },
  };
}

/** The release library of a platform key, as `zig build dist` writes it. */
export const distLibrary = (key) => join(root, "zig-out", "dist", key, "libshared_atomic.so");

/** Why the emulated suites cannot run on this host, or undefined if they can. */
export function unsupported() {
  if (process.platform !== "linux" || process.arch !== "x64") {
    return `the host is ${process.platform}-${process.arch}, not linux-x64`;
  }
  if (!existsSync("/usr/bin/apt-get") || !existsSync("/usr/bin/dpkg-deb")) {
    return "no apt-get/dpkg-deb (not a Debian host)";
  }
  const osRelease = existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "";
  if (!/^ID=debian$/m.test(osRelease) || !existsSync("/usr/share/keyrings/debian-archive-keyring.gpg")) {
    return "not a Debian host (the set-up fetches Debian packages through the host's Debian mirror and keyring)";
  }
  return undefined;
}

const quiet = process.argv.includes("--quiet");
const log = (msg) => quiet || console.error(`[emulation] ${msg}`);
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { cwd: root, stdio: ["ignore", quiet ? "ignore" : "inherit", "inherit"], ...opts });
const output = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, encoding: "utf8", ...opts });

/** The Debian mirror this host's apt uses (the entry for its own release's main suite). */
function debianMirror() {
  const codename = readFileSync("/etc/os-release", "utf8").match(/^VERSION_CODENAME=(\S+)/m)?.[1];
  const files = ["/etc/apt/sources.list"];
  for (const d of ["/etc/apt/sources.list.d"]) {
    if (existsSync(d)) files.push(...readdirSync(d).map((f) => join(d, f)));
  }
  for (const f of files.filter((f) => existsSync(f) && /\.(list|sources)$/.test(f))) {
    const text = readFileSync(f, "utf8");
    // one-line style: deb [opts] URI suite components
    for (const m of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/gm)) {
      if (m[2] === codename && /\bmain\b/.test(m[3])) return m[1];
    }
    // deb822 style
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name) => stanza.match(new RegExp(`^${name}:\\s*(.*)$`, "mi"))?.[1].trim().split(/\s+/) ?? [];
      if (
        field("Types").includes("deb") && field("Suites").includes(codename) && field("Components").includes("main")
      ) {
        return field("URIs")[0];
      }
    }
  }
  throw new Error(`no Debian mirror for ${codename} main found in the apt sources`);
}

/** `apt-get download` through a project-local apt configuration (lists, cache, sources under .emulation/apt). */
function debianPackages(into) {
  const apt = join(dir, "apt");
  for (const d of ["lists/partial", "cache/archives/partial", "etc/sources.list.d"]) {
    mkdirSync(join(apt, d), { recursive: true });
  }
  const keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
  writeFileSync(
    join(apt, "etc", "sources.list"),
    `deb [arch=amd64,arm64 signed-by=${keyring}] ${debianMirror()} ${PINS.debianSuite} main\n`,
  );
  const options = [
    `Dir::State::Lists=${join(apt, "lists")}`,
    `Dir::State::status=/dev/null`,
    `Dir::Etc::SourceList=${join(apt, "etc", "sources.list")}`,
    `Dir::Etc::SourceParts=${join(apt, "etc", "sources.list.d")}`,
    `Dir::Cache=${join(apt, "cache")}`,
    "APT::Architectures::=amd64",
    "APT::Architectures::=arm64",
    "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false",
    "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false",
    "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false",
    "Debug::NoLocking=1",
    "APT::Sandbox::User=root",
  ].flatMap((o) => ["-o", o]);
  log(`apt-get update (${PINS.debianSuite}, project-local lists)`);
  run("apt-get", [...options, "-q", "update"]);
  const versions = {};
  for (const [pkg, prefix] of Object.entries(PINS.debs)) {
    const policy = output("apt-cache", [...options, "policy", pkg]);
    const candidate = policy.match(/Candidate:\s*(\S+)/)?.[1];
    if (!candidate || !candidate.startsWith(prefix)) {
      throw new Error(`${pkg}: the ${PINS.debianSuite} candidate is ${candidate}, expected ${prefix}*`);
    }
    versions[pkg] = candidate;
  }
  mkdirSync(into, { recursive: true });
  log(`apt-get download ${Object.entries(versions).map(([p, v]) => `${p}=${v}`).join(" ")}`);
  run("apt-get", [...options, "-q", "download", ...Object.entries(versions).map(([p, v]) => `${p}=${v}`)], {
    cwd: into,
  });
  return versions;
}

/** Extracts the .deb whose file name starts with `name_` and ends with `_arch.deb` into `dest`. */
function extractDeb(debs, name, arch, dest) {
  const deb = readdirSync(debs).find((f) => f.startsWith(`${name}_`) && f.endsWith(`_${arch}.deb`));
  if (deb === undefined) throw new Error(`${name} (${arch}): no .deb downloaded`);
  mkdirSync(dest, { recursive: true });
  run("dpkg-deb", ["-x", join(debs, deb), dest]);
}

/** A merged-/usr sysroot also needs /lib (the loaders' paths): lib -> usr/lib. */
function linkLib(sysroot) {
  if (!existsSync(join(sysroot, "lib"))) symlinkSync("usr/lib", join(sysroot, "lib"));
}

/** `npm pack` the Bun builds and unpack their binaries into .emulation/bun/<name>/bin/bun. */
function bunBuilds(tmp) {
  log(`npm pack ${Object.entries(PINS.npm).map(([n, v]) => `${n}@${v}`).join(" ")}`);
  mkdirSync(tmp, { recursive: true });
  run("npm", ["pack", "--silent", "--pack-destination", tmp, ...Object.entries(PINS.npm).map(([n, v]) => `${n}@${v}`)]);
  for (const [name, version] of Object.entries(PINS.npm)) {
    const base = name.split("/")[1];
    const dest = join(dir, "bun", base);
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    run("tar", ["xzf", join(tmp, `oven-${base}-${version}.tgz`), "-C", dest, "--strip-components=1"]);
  }
}

/** The musl libstdc++.so.6 and its libgcc_s from a musllinux wheel, into `libDir`. */
function muslLibstdcxx(tmp, pyArch, libDir) {
  const wheels = join(tmp, `wheel-${pyArch}`);
  mkdirSync(wheels, { recursive: true });
  log(`pip download ${PINS.musllinuxWheel} (musllinux_1_2_${pyArch}) for its libstdc++`);
  run("python3", [
    "-m",
    "pip",
    "download",
    "--quiet",
    "--disable-pip-version-check",
    "--no-deps",
    "--only-binary=:all:",
    "--platform",
    `musllinux_1_2_${pyArch}`,
    "--python-version",
    "3.12",
    "--dest",
    wheels,
    PINS.musllinuxWheel,
  ]);
  const wheel = join(wheels, readdirSync(wheels).find((f) => f.endsWith(".whl")));
  const script = [
    "import os, sys, zipfile",
    "z = zipfile.ZipFile(sys.argv[1])",
    "for n in z.namelist():",
    "    base = os.path.basename(n)",
    "    if base.startswith(('libstdc++', 'libgcc_s')):",
    "        open(os.path.join(sys.argv[2], base), 'wb').write(z.read(n))",
    "        if base.startswith('libstdc++'): open(os.path.join(sys.argv[2], 'libstdc++.so.6'), 'wb').write(z.read(n))",
  ].join("\n");
  mkdirSync(libDir, { recursive: true });
  run("python3", ["-c", script, wheel, libDir]);
  if (!existsSync(join(libDir, "libstdc++.so.6"))) throw new Error(`${PINS.musllinuxWheel}: no libstdc++ in ${wheel}`);
}

/** The release libraries under test (and the x64 glibc one the host's runtimes load). */
export function buildLibraries(zig) {
  const keys = [...Object.keys(targets()), "linux-x64-gnu"];
  log(`zig build dist ${keys.map((k) => `-Dplatform=${k}`).join(" ")}`);
  run(zig, ["build", "dist", ...keys.map((k) => `-Dplatform=${k}`)]);
}

/** Installs everything (unless the stamp says it is there); returns the versions used. */
export function install() {
  const stamp = join(dir, "ready.json");
  const want = JSON.stringify(PINS);
  if (existsSync(stamp)) {
    const have = JSON.parse(readFileSync(stamp, "utf8"));
    if (JSON.stringify(have.pins) === want && existsSync(qemu)) return have.versions;
  }
  for (const d of ["apt", "downloads", "qemu", "sysroot", "bun", "libc-runtimes"]) {
    rmSync(join(dir, d), { recursive: true, force: true });
  }
  const tmp = join(dir, "downloads");
  const debs = join(tmp, "debs");
  const versions = debianPackages(debs);
  const unpacked = join(tmp, "qemu-user");
  extractDeb(debs, "qemu-user", "amd64", unpacked);
  mkdirSync(dirname(qemu), { recursive: true });
  run("cp", [join(unpacked, "usr", "bin", "qemu-aarch64"), qemu]);
  const sysroot = join(dir, "sysroot");
  extractDeb(debs, "libc6", "arm64", join(sysroot, "arm64-gnu"));
  extractDeb(debs, "musl", "arm64", join(sysroot, "arm64-musl"));
  extractDeb(debs, "musl", "amd64", join(sysroot, "x64-musl"));
  for (const s of ["arm64-gnu", "arm64-musl", "x64-musl"]) linkLib(join(sysroot, s));
  // zig build -fqemu --libc-runtimes <dir> runs a dynamic glibc test binary with qemu -L <dir>/<triple>
  mkdirSync(libcRuntimes, { recursive: true });
  symlinkSync(join("..", "sysroot", "arm64-gnu"), join(libcRuntimes, "aarch64-linux-gnu"));
  bunBuilds(join(tmp, "npm"));
  // where the Debian musl's loader looks (its etc/ld-musl-<arch>.path)
  muslLibstdcxx(tmp, "aarch64", join(sysroot, "arm64-musl", "usr", "lib", "aarch64-linux-musl"));
  muslLibstdcxx(tmp, "x86_64", join(sysroot, "x64-musl", "usr", "lib", "x86_64-linux-musl"));
  rmSync(tmp, { recursive: true, force: true });
  for (const [name, version] of Object.entries(PINS.npm)) versions[name] = version;
  writeFileSync(stamp, JSON.stringify({ pins: PINS, versions }, null, 2) + "\n");
  return versions;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const why = unsupported();
  if (why) {
    console.error(`[emulation] not set up: ${why}`);
    process.exit(0);
  }
  const versions = install();
  log(`installed: ${Object.entries(versions).map(([p, v]) => `${p} ${v}`).join(", ")}`);
  const { zig } = await import("../setup.mjs");
  buildLibraries(zig);
}
