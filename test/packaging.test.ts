// Release packaging, end to end: `zig build dist` makes a correct library for
// every platform; `node scripts/pack.mjs` packs the npm packages; a fresh
// project installs them from a loopback registry (as from npmjs.org) with no
// Zig on PATH and this source tree hidden, and runs a program with a Worker
// and a child process: in Bun under `bun test`, in Deno (through `npm:`) under
// `deno test`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isBun, isDeno, type Runtime, runtime } from "./helpers/runtime.ts";
import { inspectLibrary, type LibraryInfo } from "./helpers/binfmt.ts";
import {
  BUN,
  canHide,
  DENO,
  exec,
  hiddenTree,
  NODE,
  npmRegistry,
  ok,
  type Published,
  repo,
} from "./helpers/packaging_util.ts";
import { exportTable, EXTRA_SYMBOLS, ROBUST_SYMBOLS, SHM_SYMBOLS, WAIT_SYMBOLS } from "../src/native/abi.ts";
import { WIDE_EXTRA_SYMBOLS, wideExportTable } from "../src/wide/table.ts";
import { VERSION } from "../src/native/version.ts";

interface Platform {
  key: string;
  os: string;
  cpu: string;
  libc?: string;
  zigTarget: string;
  file: string;
}
const PLATFORMS: Platform[] = JSON.parse(readFileSync(join(repo, "npm", "platforms.json"), "utf8")).platforms;

interface Packed {
  version: string;
  main: string;
  platforms: Record<string, string>;
  release: string;
  sha256: Record<string, string>;
}

const work = mkdtempSync(join(tmpdir(), "sa-packaging-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

let packing: Promise<Packed> | undefined;
/** `zig build dist` + `node scripts/pack.mjs`, once per test run, into a private directory. */
function packed(): Promise<Packed> {
  packing ??= (async () => {
    const r = ok(
      await exec("node", ["scripts/pack.mjs", "--out", join(work, "npm")], { cwd: repo, env: process.env }),
      "node scripts/pack.mjs",
    );
    return JSON.parse(r.stdout) as Packed;
  })();
  return packing;
}

const hostKey = (): string => {
  if (process.platform !== "linux") return `${process.platform}-${process.arch}`;
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  const libc = !isDeno
    ? (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime
      ? "gnu"
      : "musl"
    : g.Deno.build.env;
  return `linux-${process.arch}-${libc}`;
};

// ---------------------------------------------------------------------------
// Every platform's library

const FORMAT: Record<string, LibraryInfo["format"]> = { linux: "elf", darwin: "macho", win32: "pe" };
const ARCH: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };

const CORE = [
  ...exportTable().keys(),
  ...Object.keys(EXTRA_SYMBOLS),
  ...wideExportTable().keys(),
  ...Object.keys(WIDE_EXTRA_SYMBOLS),
];
const POSIX = [...Object.keys(SHM_SYMBOLS), ...Object.keys(WAIT_SYMBOLS), ...Object.keys(ROBUST_SYMBOLS)];

let reference: Set<string> | undefined;
/** The `sa_*` exports of this host's own build (zig-out/lib), which every other build must match. */
function referenceExports(): Set<string> {
  const lib = join(repo, "zig-out", "lib", "libshared_atomic.so");
  reference ??= new Set([...inspectLibrary(readFileSync(lib)).exports].filter((s) => s.startsWith("sa_")));
  return reference;
}

for (const p of PLATFORMS.filter((p) => p.os !== "win32")) {
  test(`zig build dist: ${p.key}: the Node-API addon, ${FORMAT[p.os]} ${ARCH[p.cpu]}: a module entry, Node-API imports, no lock helpers`, async () => {
    await packed();
    const info = inspectLibrary(readFileSync(join(repo, "zig-out", "dist", p.key, "shared_atomic.node")));
    assert.equal(info.format, FORMAT[p.os], "file format");
    assert.equal(info.arch, ARCH[p.cpu], "architecture");
    assert.ok(info.shared, "a shared library");
    assert.ok(info.exports.has("napi_register_module_v1") && info.exports.has("node_api_module_get_api_version_v1"));
    assert.deepEqual(
      [...info.exports].filter((s) => s.startsWith("sa_")),
      [],
      "the C ABI is the library's, not the addon's",
    );
    const helpers = [...info.imports].filter((s) => /__atomic_|__sync_/.test(s));
    assert.deepEqual(helpers, [], "calls no lock-based atomic helper");
    assert.ok(info.imports.has("napi_create_threadsafe_function"), "Node-API, resolved from the node executable");
  });
}

for (const p of PLATFORMS) {
  test(`zig build dist: ${p.key}: a ${FORMAT[p.os]} ${ARCH[p.cpu]} shared library with every export, no lock helpers`, async () => {
    await packed();
    const path = join(repo, "zig-out", "dist", p.key, p.file);
    const info = inspectLibrary(readFileSync(path));
    assert.equal(info.format, FORMAT[p.os], "file format");
    assert.equal(info.arch, ARCH[p.cpu], "architecture");
    assert.ok(info.shared, "a shared library");

    const missing = [...CORE, ...(p.os === "win32" ? [] : POSIX)].filter((s) => !info.exports.has(s));
    assert.deepEqual(missing, [], "every symbol of the TypeScript tables is exported");
    // the 16-byte exports exist only where they are lock-free (cmpxchg16b / ldxp+stxp)
    assert.ok(info.exports.has("sa_wide_lock_free") && info.exports.has("sa_u128_fetch_add"), "16-byte atomics");
    const ours = [...info.exports].filter((s) => s.startsWith("sa_")).sort();
    const ref = [...referenceExports()].sort();
    if (p.os === "win32") {
      assert.deepEqual(ours.filter((s) => !referenceExports().has(s)), [], "no export the host lacks");
    } else assert.deepEqual(ours, ref, "the same sa_* exports as this host's build");
    // the seed ABI (no sa_ prefix) too
    for (const s of ["int_fetch_and_add", "bool_compare_and_set", "byte_load"]) assert.ok(info.exports.has(s), s);

    const helpers = [...info.imports].filter((s) => /__atomic_|__sync_/.test(s));
    assert.deepEqual(helpers, [], "calls no lock-based atomic helper");

    if (p.os === "linux" && p.libc === "glibc") {
      const floor = p.zigTarget.split(".").slice(1).join(".");
      assert.ok(info.glibc !== "" && compare(info.glibc, floor) <= 0, `needs glibc ${info.glibc} <= ${floor}`);
      assert.ok(info.needed.includes("libc.so.6"), info.needed.join());
    }
    if (p.os === "linux" && p.libc === "musl") assert.deepEqual(info.needed, ["libc.so"], "links musl's libc.so only");
    if (p.os === "darwin") {
      assert.equal(info.minOs, "11.0", "runs on macOS 11 and later");
      assert.deepEqual(info.needed, ["/usr/lib/libSystem.B.dylib"]);
    }
    if (p.os === "win32") {
      // no C runtime (build.zig links none on Windows): at most system DLLs every Windows has (ADVAPI32: the
      // owner-only security descriptors; the synch API set: WaitOnAddress; zig/windows/api.zig)
      const other = info.needed.filter((d) =>
        !/^(KERNEL32|ntdll|ADVAPI32|api-ms-win-core-synch-l1-2-0)\.dll$/i.test(d)
      );
      assert.deepEqual(other, [], "links no C runtime");
    }
  });
}

function compare(a: string, b: string): number {
  const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
  return (x[0] - y[0]) || ((x[1] ?? 0) - (y[1] ?? 0));
}

// ---------------------------------------------------------------------------
// The npm packages

function tarList(tgz: string): string[] {
  const r = spawnSync("tar", ["-tzf", tgz], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean).map((f) => f.replace(/^package\//, "")).sort();
}

function manifestOf(tgz: string): Published["manifest"] {
  const r = spawnSync("tar", ["-xzOf", tgz, "package/package.json"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("npm packages: one version everywhere; each platform package holds only its library, with os/cpu/libc", async () => {
  const pk = await packed();
  assert.equal(pk.version, VERSION);
  const main = manifestOf(pk.main);
  assert.equal(main.name, "shared-atomic");
  assert.equal(main.version, VERSION);
  assert.deepEqual(
    main.optionalDependencies,
    Object.fromEntries(PLATFORMS.map((p) => [`@shared-atomic/${p.key}`, VERSION])),
    "every platform package, pinned to this version",
  );
  const exp = (main.exports as Record<string, Record<string, string>>)["."];
  assert.equal(exp.bun, "./bun.ts");
  assert.equal(exp.deno, "./dist/mod.js");
  assert.equal(exp.types, "./dist/mod.d.ts");
  assert.deepEqual(Object.keys(exp), ["types", "bun", "deno", "node", "default"], "condition order");
  // the Valkey backend: a subpath of its own, its client an optional peer (no native library needed)
  const valkey = (main.exports as Record<string, Record<string, string>>)["./valkey"];
  assert.deepEqual(valkey, { types: "./dist/valkey.d.ts", bun: "./valkey.ts", default: "./dist/valkey.js" });
  assert.deepEqual(main.peerDependenciesMeta, { ioredis: { optional: true } });

  const files = tarList(pk.main);
  for (
    const f of [
      "bun.ts",
      "src/native/locate.ts",
      "src/native/checksums.ts",
      "dist/mod.js",
      "dist/mod.d.ts",
      "dist/node.js",
      "valkey.ts",
      "dist/valkey.js",
      "dist/valkey.d.ts",
    ]
  ) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }
  assert.deepEqual(files.filter((f) => /^(test|zig|bench|demo|scripts|npm|examples)\//.test(f)), []);
  assert.deepEqual(files.filter((f) => /\.(so|dylib|dll)$/.test(f)), [], "no native library in the main package");
  // the user README (npm/README.md), not the repository's; the command; the Python module
  const readme = spawnSync("tar", ["-xzOf", pk.main, "package/README.md"], { encoding: "utf8" }).stdout;
  assert.equal(readme, readFileSync(join(repo, "npm", "README.md"), "utf8"), "the package's README is npm/README.md");
  assert.doesNotMatch(readme, /npm run demo|\.ci\/run/, "nothing about developing the repository");
  assert.deepEqual(main.bin, { "shared-atomic": "./dist/bin/shared-atomic.js" });
  for (const f of ["dist/bin/shared-atomic.js", "dist/bin/segments.js", "python/shared_atomic_js/__init__.py"]) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }

  for (const p of PLATFORMS) {
    const m = manifestOf(pk.platforms[p.key]);
    assert.equal(m.name, `@shared-atomic/${p.key}`);
    assert.equal(m.version, VERSION);
    assert.deepEqual(m.os, [p.os]);
    assert.deepEqual(m.cpu, [p.cpu]);
    assert.deepEqual(m.libc, p.libc ? [p.libc] : undefined);
    // and, but on Windows, the Node-API addon beside the library; and the C header
    const addon = p.os === "win32" ? [] : ["shared_atomic.node"];
    assert.deepEqual(
      tarList(pk.platforms[p.key]),
      [p.file, ...addon, "README.md", "package.json", "shared_atomic.h"].sort(),
    );
    const header = spawnSync("tar", ["-xzOf", pk.platforms[p.key], "package/shared_atomic.h"], { encoding: "utf8" });
    assert.equal(
      header.stdout,
      readFileSync(join(repo, "zig", "shared_atomic.h"), "utf8"),
      `${p.key} ships the header`,
    );
  }

  // The release assets and the checksums the package ships for them
  const sums = readFileSync(join(pk.release, "SHA256SUMS"), "utf8");
  const shipped = spawnSync("tar", ["-xzOf", pk.main, "package/src/native/checksums.ts"], { encoding: "utf8" }).stdout;
  assert.match(shipped, new RegExp(`CHECKSUMS_VERSION: string = "${VERSION.replaceAll(".", "\\.")}"`));
  for (const p of PLATFORMS) {
    assert.ok(sums.includes(`${pk.sha256[p.key]}  shared_atomic-${p.key}`), `SHA256SUMS lists ${p.key}`);
    assert.ok(shipped.includes(`"${p.key}": "${pk.sha256[p.key]}"`), `the package ships ${p.key}'s checksum`);
  }
});

test("npm package: the compiled JavaScript refers to no .ts file", async () => {
  const pk = await packed();
  const dist = join(work, "npm", "stage", "shared-atomic", "dist");
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]);
  const bad: string[] = [];
  for (const f of walk(dist)) {
    const text = readFileSync(f, "utf8");
    for (const m of text.matchAll(/["'](\.{1,2}\/[^"']+\.ts)["']/g)) bad.push(`${f.slice(dist.length + 1)}: ${m[1]}`);
  }
  assert.deepEqual(bad, []);
  assert.ok(pk.main.endsWith(".tgz"));
});

// ---------------------------------------------------------------------------
// Install and run, as a user would

/** How the program's Worker counts to 1000 and answers with its library path: a web Worker, or Node's worker_threads. */
const WORKERS = {
  web: {
    imports: "",
    start: `const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
const reply = new Promise<string>((resolve, reject) => {
  worker.onmessage = (e) => resolve(e.data);
  worker.onerror = (e) => reject(new Error(String(e.message)));
});
worker.postMessage(counter.descriptor());
const workerLib = await reply;
worker.terminate();`,
    script: (spec: string) =>
      `import { type AtomicU64, fromDescriptor, libraryPath } from "${spec}";
self.onmessage = (e: MessageEvent) => {
  const counter = fromDescriptor<AtomicU64>(e.data);
  for (let i = 0; i < 1000; i++) counter.fetchAdd(1n);
  self.postMessage(libraryPath());
};
`,
  },
  node: {
    imports: `import { Worker } from "node:worker_threads";\n`,
    start: `const worker = new Worker(new URL("./worker.ts", import.meta.url), { workerData: counter.descriptor() });
const workerLib = await new Promise<string>((resolve, reject) => {
  worker.once("message", resolve);
  worker.once("error", reject);
});
await worker.terminate();`,
    script: (spec: string) =>
      `import { type AtomicU64, fromDescriptor, libraryPath } from "${spec}";
import { parentPort, workerData } from "node:worker_threads";
const counter = fromDescriptor<AtomicU64>(workerData);
for (let i = 0; i < 1000; i++) counter.fetchAdd(1n);
parentPort!.postMessage(libraryPath());
`,
  },
};

/**
 * A program with a Worker and a child process; `spec` is how it imports the
 * package, `childArgs` what the runtime takes before the child's script.
 */
function writeProgram(dir: string, spec: string, worker: keyof typeof WORKERS, childArgs: string[]): void {
  writeFileSync(
    join(dir, "main.ts"),
    `import { AtomicU64, libraryPath, SharedMemory, VERSION } from "${spec}";
import { execFileSync } from "node:child_process";
${WORKERS[worker].imports}import process from "node:process";

console.log(\`version \${VERSION}\`);
console.log(\`library \${libraryPath()}\`);
const counter = AtomicU64.create(0n);
${WORKERS[worker].start}
console.log(\`worker \${counter.load()} \${workerLib}\`);

const name = \`/sa-pack-\${process.pid}\`;
const seg = SharedMemory.create(name, 64);
try {
  const total = new AtomicU64(seg, 8);
  const child = new URL("./child.ts", import.meta.url).pathname;
  const out = execFileSync(process.execPath, [...${
      JSON.stringify(childArgs)
    }, child, total.handle()], { encoding: "utf8" });
  console.log(\`child \${total.load()} \${out.trim()}\`);
} finally {
  seg.close();
  SharedMemory.unlink(name);
}
`,
  );
  writeFileSync(join(dir, "worker.ts"), WORKERS[worker].script(spec));
  writeFileSync(
    join(dir, "child.ts"),
    `import { type AtomicU64, fromHandle, libraryPath } from "${spec}";
import process from "node:process";
const total = fromHandle<AtomicU64>(process.argv[process.argv.length - 1]);
for (let i = 0; i < 1000; i++) total.fetchAdd(1n);
console.log(libraryPath());
`,
  );
  // what a type checker sees: the .d.ts files of the package
  writeFileSync(
    join(dir, "types.ts"),
    `import { AtomicF64, AtomicU64, type AtomicDescriptor, libraryPath, SharedMemory, setLibraryPath, VERSION } from "${spec}";
const counter: AtomicU64 = AtomicU64.create(1n);
const big: bigint = counter.fetchAdd(1n);
const small: number = counter.fetchAdd(1);
const f: number = AtomicF64.create(0).fetchAdd(0.5);
const d: AtomicDescriptor = counter.descriptor();
const where: string = libraryPath();
const v: string = VERSION;
const seg: SharedMemory | undefined = undefined;
// @ts-expect-error: a string is not a value
counter.store("1");
export { big, d, f, seg, setLibraryPath, small, v, where };
`,
  );
}

/** Every package of the packed release, as the loopback registry publishes them. */
async function publishedPackages(): Promise<Published[]> {
  const pk = await packed();
  const stage = join(work, "npm", "stage");
  const manifest = (name: string) => JSON.parse(readFileSync(join(stage, name, "package.json"), "utf8"));
  return [
    { manifest: manifest("shared-atomic"), tarball: pk.main },
    ...PLATFORMS.map((p) => ({ manifest: manifest(p.key), tarball: pk.platforms[p.key] })),
  ];
}

/** An installed project: where it is, the PATH directory of its runtimes, and the environment it runs in. */
type Project = { dir: string; bin: string; env: Record<string, string> };

/** A fresh project outside the source tree, with shared-atomic installed from a loopback registry. */
async function installedProject(label: string, installer: "npm" | "bun" = "npm"): Promise<Project> {
  const registry = await npmRegistry(await publishedPackages());
  const root = join(work, label);
  const dir = join(root, "project");
  const bin = join(root, "bin");
  mkdirSync(dir, { recursive: true });
  mkdirSync(bin, { recursive: true });
  mkdirSync(join(root, "home"), { recursive: true });
  writeFileSync(join(root, "npmrc"), "update-notifier=false\nfund=false\naudit=false\n");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  const env: Record<string, string> = {
    PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
    HOME: join(root, "home"),
    NO_COLOR: "1",
    DENO_DIR: join(root, "deno-dir"),
    NPM_CONFIG_REGISTRY: registry.url,
  };
  try {
    const spec = `shared-atomic@${VERSION}`;
    const r = installer === "npm"
      ? await exec("npm", [
        "install",
        spec,
        "--registry",
        registry.url,
        "--cache",
        join(root, "npm-cache"),
        "--userconfig",
        join(root, "npmrc"),
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
      ], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } })
      : await exec(BUN, ["add", spec, "--registry", registry.url], {
        cwd: dir,
        env: { ...env, PATH: process.env.PATH, BUN_INSTALL_CACHE_DIR: join(root, "bun-cache") },
      });
    ok(r, `${installer} install`);
  } finally {
    await registry.close();
  }
  const tarballs = registry.hits.filter((h) => h.startsWith("-/")).sort();
  assert.deepEqual(
    tarballs,
    [`-/shared-atomic-${VERSION}.tgz`, `-/shared-atomic-${hostKey()}-${VERSION}.tgz`].sort(),
    `${installer} downloaded the main package and this platform's, no other`,
  );
  const installed = readdirSync(join(dir, "node_modules", "@shared-atomic")).sort();
  assert.deepEqual(installed, [hostKey()], `${installer} installed exactly this platform's package`);
  // the runtimes, and nothing else of this checkout, on PATH (bind-mounted over these when the tree is hidden)
  for (const [name, real] of [["bun", BUN], ["deno", DENO], ["node", NODE]]) {
    if (hide) writeFileSync(join(bin, name), "");
    else spawnSync("ln", ["-s", real, join(bin, name)]);
    chmodSync(join(bin, name), 0o755);
  }
  const zig = spawnSync("sh", ["-c", "command -v zig"], { env });
  assert.notEqual(zig.status, 0, "no zig on the PATH the program runs with");
  if (hide) {
    const probe = await runHidden(bin, ["sh", "-c", `test ! -e '${repo}/build.zig' && ls '${repo}' | wc -l`], dir, env);
    assert.equal(probe.stdout.trim(), "0", `the source tree is hidden from the program: ${probe.stderr}`);
  }
  return { dir, bin, env };
}

const hide = canHide();
if (!hide) console.error("packaging.test: cannot unshare a mount namespace here; the source tree stays visible");

/** Runs argv in `dir` with the source tree hidden (when this machine allows it). */
function runHidden(bin: string, argv: string[], dir: string, env: Record<string, string>) {
  const [cmd, ...args] = hide ? hiddenTree(bin, argv) : argv;
  return exec(cmd, args, { cwd: dir, env });
}

function checkOutput(stdout: string, dir: string): void {
  const lib = join(dir, "node_modules", "@shared-atomic", hostKey(), "libshared_atomic.so");
  assert.match(stdout, new RegExp(`^version ${VERSION.replaceAll(".", "\\.")}$`, "m"));
  assert.match(stdout, new RegExp(`^library ${lib}$`, "m"), "the main thread uses the platform package");
  assert.match(stdout, new RegExp(`^worker 1000 ${lib}$`, "m"), "a Worker: exact count, same library");
  assert.match(stdout, new RegExp(`^child 1000 ${lib}$`, "m"), "a child process: exact count, same library");
}

/** How each runtime runs the program: its import of the package, its Worker, its arguments before a script. */
const PROGRAMS: Record<Runtime, { spec: string; worker: keyof typeof WORKERS; args: string[] }> = {
  bun: { spec: "shared-atomic", worker: "web", args: [] },
  deno: { spec: "npm:shared-atomic", worker: "web", args: ["run", "-A"] },
  node: { spec: "shared-atomic", worker: "node", args: [] },
};

/**
 * The ways a user installs the package and runs the program, in each
 * runtime: the test's name, the project's folder, who installs (default
 * npm), and what else the installed project must pass.
 */
const INSTALL_RUNS: Record<Runtime, { title: string; label: string; installer?: "bun"; after?: Check }[]> = {
  bun: [{
    title: "npm install from a loopback registry, then Bun runs it (Worker, child process): no Zig, source tree hidden",
    label: "bun",
    after: tscChecks,
  }, {
    title: "bun add from the loopback registry picks the same one platform package, and runs",
    label: "bun-add",
    installer: "bun",
  }],
  deno: [{
    title:
      "npm install from a loopback registry, then Deno runs it through npm: (Worker, child process): no Zig, source tree hidden",
    label: "deno",
    after: denoChecks,
  }],
  node: [{
    title:
      "npm install from a loopback registry, then Node runs it (worker_threads Worker, child process): no Zig, source tree hidden",
    label: "node",
    after: oldNodeRefused,
  }],
};

for (const run of INSTALL_RUNS[runtime]) {
  test(run.title, async () => {
    const project = await installedProject(run.label, run.installer);
    const { dir, bin, env } = project;
    const { spec, worker, args } = PROGRAMS[runtime];
    writeProgram(dir, spec, worker, args);
    const r = ok(await runHidden(bin, [join(bin, runtime), ...args, "main.ts"], dir, env), `${runtime} main.ts`);
    checkOutput(r.stdout, dir);
    await run.after?.(project);
  });
}

/** A further check of an installed project. */
type Check = (p: Project) => Promise<void>;

/** `deno check` resolves the package's declarations. */
async function denoChecks({ dir, bin, env }: Project): Promise<void> {
  ok(await runHidden(bin, [join(bin, "deno"), "check", "types.ts"], dir, env), "deno check on the installed package");
}

/** The machine's own Node, where it is older than 22: the error names the supported versions. */
async function oldNodeRefused({ dir, bin, env }: Project): Promise<void> {
  writeFileSync(
    join(dir, "old.mjs"),
    `import("shared-atomic").then(() => console.log("loaded"), (e) => console.log(e.message));\n`,
  );
  const old = spawnSync("/usr/bin/node", ["--version"], { encoding: "utf8" });
  const major = Number(old.stdout?.trim().slice(1).split(".")[0]);
  if (old.status === 0 && major < 22) {
    const o = ok(await runHidden(bin, ["/usr/bin/node", "old.mjs"], dir, env), "an old node on old.mjs");
    assert.match(o.stdout, /is not supported; the supported versions are Node 22, 24 and 26/);
  }
}

/** TypeScript resolves the package's declarations (the "types" condition), with library checks on. */
async function tscChecks({ dir }: Project): Promise<void> {
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "bundler",
        lib: ["ES2022", "ESNext.Disposable", "DOM"],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: [],
      },
      files: ["types.ts"],
    }),
  );
  ok(
    await exec("node", [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", "."], {
      cwd: dir,
      env: process.env,
    }),
    "tsc on the installed package",
  );
}

if (isBun) {
  test("the tarballs before a release: the main one alone installs, then the error names the package and tarball to add; both work; the command runs", async () => {
    const pk = await packed();
    const root = join(work, "tarballs");
    const dir = join(root, "project");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    writeFileSync(
      join(dir, "main.ts"),
      'import { AtomicU64 } from "shared-atomic";\nconsole.log(AtomicU64.create(41n).addFetch(1n));\n',
    );
    // a registry that has nothing: the optional platform packages cannot come from it
    const empty = await npmRegistry([]);
    const env = { ...process.env, NO_COLOR: "1", BUN_INSTALL_CACHE_DIR: join(root, "bun-cache") } as Record<
      string,
      string
    >;
    try {
      ok(await exec(BUN, ["add", pk.main, "--registry", empty.url], { cwd: dir, env }), "bun add <main tarball>");
    } finally {
      await empty.close();
    }
    const key = hostKey();
    const alone = await exec(BUN, ["main.ts"], { cwd: dir, env: { ...env, SHARED_ATOMIC_LIB: "" } });
    assert.notEqual(alone.code, 0);
    assert.match(
      alone.stderr,
      new RegExp(
        `shared-atomic is installed \\(in ${
          join(dir, "node_modules")
        }\\) but its platform package @shared-atomic/${key} is not`,
      ),
    );
    assert.ok(alone.stderr.includes(`shared-atomic-${key}-${VERSION}.tgz`), alone.stderr);
    assert.ok(alone.stderr.includes(`npm install @shared-atomic/${key}@${VERSION}`), alone.stderr);
    // what the README says: both tarballs in one command
    ok(await exec(BUN, ["add", pk.main, pk.platforms[key]], { cwd: dir, env }), "bun add <both tarballs>");
    const both = ok(await exec(BUN, ["main.ts"], { cwd: dir, env }), "bun main.ts");
    assert.equal(both.stdout.trim(), "42n");
    // the package's command, as bunx runs it
    const ls = ok(
      await exec(BUN, ["x", "shared-atomic", "ls", "/sa-none-"], { cwd: dir, env }),
      "bunx shared-atomic ls",
    );
    assert.match(ls.stdout, /^NAME +BYTES +AGE +MAPPED BY$/m);
    // the Python module the package ships finds the platform package's library by itself
    const py = spawnSync("python3", ["-c", "import shared_atomic_js as s; print(s.library_path())"], {
      cwd: dir,
      encoding: "utf8",
      env: { PATH: process.env.PATH!, PYTHONPATH: join(dir, "node_modules", "shared-atomic", "python") },
    });
    assert.equal(py.status, 0, py.stderr);
    assert.equal(py.stdout.trim(), join(dir, "node_modules", "@shared-atomic", key, "libshared_atomic.so"));
  });
} else if (isDeno) {
  test("Deno permissions: with --allow-ffi alone the error names the --allow-read it needs; with just that it runs", async () => {
    const { dir, env } = await installedProject("deno-permissions");
    writeFileSync(
      join(dir, "main.ts"),
      'import { AtomicU64 } from "npm:shared-atomic";\nconsole.log(AtomicU64.create(41n).addFetch(1n));\n',
    );
    const pkgDir = join(dir, "node_modules", "@shared-atomic", hostKey());
    const denied = await exec(DENO, ["run", "--allow-ffi", "main.ts"], { cwd: dir, env });
    assert.notEqual(denied.code, 0);
    assert.ok(denied.stderr.includes(`Run with --allow-read=${pkgDir} (or --allow-read)`), denied.stderr);
    assert.ok(
      denied.stderr.includes(`the library file of the platform package @shared-atomic/${hostKey()}`),
      denied.stderr,
    );
    assert.doesNotMatch(denied.stderr, /download|not installed/, "no download attempt, no wrong diagnosis");
    const withEnv = await exec(DENO, ["run", "--allow-ffi", "--allow-env", "main.ts"], { cwd: dir, env });
    assert.ok(withEnv.stderr.includes(`--allow-read=${pkgDir}`), "--allow-env changes nothing: still read");
    const r = ok(
      await exec(DENO, ["run", "--allow-ffi", `--allow-read=${pkgDir}`, "main.ts"], { cwd: dir, env }),
      "deno run with the permission the error named",
    );
    assert.equal(r.stdout.trim(), "42n");
    // the package's command, as Deno runs an npm package's bin
    const ls = ok(
      await exec(DENO, ["run", "-A", "npm:shared-atomic", "ls", "/sa-none-"], { cwd: dir, env }),
      "deno run npm:shared-atomic ls",
    );
    assert.match(ls.stdout, /^NAME +BYTES +AGE +MAPPED BY$/m);
  });

  test("Deno with no node_modules: npm:shared-atomic from the registry into Deno's cache finds its platform package", async () => {
    const registry = await npmRegistry(await publishedPackages());
    try {
      const root = join(work, "deno-global");
      const dir = join(root, "project");
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, "main.ts"),
        `import { AtomicU64, libraryPath } from "npm:shared-atomic@${VERSION}";
const a = AtomicU64.create(41n);
console.log(\`\${a.addFetch(1n)} \${libraryPath()}\`);
`,
      );
      const env = {
        PATH: "/usr/local/bin:/usr/bin:/bin",
        HOME: root,
        NO_COLOR: "1",
        DENO_DIR: join(root, "deno-dir"),
        NPM_CONFIG_REGISTRY: registry.url,
      };
      const r = ok(
        await exec(DENO, ["run", "-A", "--node-modules-dir=none", "--no-lock", "main.ts"], { cwd: dir, env }),
        "deno run (global npm cache)",
      );
      const [value, lib] = r.stdout.trim().split(" ");
      assert.equal(value, "42");
      assert.ok(lib.startsWith(join(root, "deno-dir", "npm")), `the library comes from Deno's npm cache: ${lib}`);
      assert.ok(lib.includes(`@shared-atomic/${hostKey()}/${VERSION}/`), lib);
      assert.ok(existsSync(lib));
    } finally {
      await registry.close();
    }
  });
}
