// Builds the npm packages from `zig build dist`: one per platform in
// npm/platforms.json (`@shared-atomic/<key>`: the library and, but on Windows,
// the Node-API addon shared_atomic.node, with os/cpu/libc so the package
// manager installs only the matching one) and the main package
// `shared-atomic` (bun.ts + src/ for Bun, which runs TypeScript from
// node_modules; dist/ compiled JavaScript and .d.ts for Deno and Node, which do not,
// and for type checkers; every platform package in optionalDependencies; the
// SHA-256 of every platform's library in src/native/checksums.ts; the user README
// npm/README.md; the `shared-atomic` command, bin/ compiled to dist/bin/; the
// Python module python/shared_atomic_js/). Every platform package also ships the
// C header zig/shared_atomic.h. Also lays out the release assets the Deno entry
// downloads (shared_atomic-<key>.<ext>). Node, like Deno, gets dist/ (Node strips
// types, but never under node_modules).
//
//   node scripts/pack.mjs [--out DIR] [--no-build]
//
// Writes DIR (default zig-out/npm): *.tgz, release/, stage/; prints the tarballs.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const readJson = (p) => JSON.parse(readFileSync(p, "utf8"));

/** The release platforms (npm/platforms.json). */
export const platforms = () => readJson(join(root, "npm", "platforms.json")).platforms;

/** The one version, after checking every place that records it agrees. */
export function version() {
  const pkg = readJson(join(root, "package.json")).version;
  const seen = {
    "package.json": pkg,
    "deno.json": readJson(join(root, "deno.json")).version,
    "build.zig.zon": readFileSync(join(root, "build.zig.zon"), "utf8").match(/\.version\s*=\s*"([^"]+)"/)?.[1],
    // written from build.zig.zon by `zig build gen`
    "src/native/abi_generated.ts": readFileSync(join(root, "src", "native", "abi_generated.ts"), "utf8").match(
      /VERSION: string = "([^"]+)"/,
    )?.[1],
  };
  const bad = Object.entries(seen).filter(([, v]) => v !== pkg);
  if (bad.length) {
    throw new Error(`versions disagree: ${JSON.stringify(seen)} (node scripts/version.mjs X.Y.Z sets all)`);
  }
  return pkg;
}

/** Runs `zig build dist` with the pinned Zig (scripts/setup.mjs). */
export async function buildDist() {
  const { zig } = await import("./setup.mjs");
  execFileSync(zig, ["build", "dist"], { cwd: root, stdio: ["ignore", process.stderr, process.stderr] });
}

/** The Node-API addon's file name (beside the library; not on Windows). */
export const ADDON_FILE = "shared_atomic.node";

/** The built library (and Node-API addon) of each platform: [{ ...platform, path, sha256, addon? }]. */
export function artefacts() {
  return platforms().map((p) => {
    const path = join(root, "zig-out", "dist", p.key, p.file);
    if (!existsSync(path)) throw new Error(`${path} is missing: run \`zig build dist\``);
    const addon = p.os === "win32" ? undefined : join(root, "zig-out", "dist", p.key, ADDON_FILE);
    if (addon !== undefined && !existsSync(addon)) throw new Error(`${addon} is missing: run \`zig build dist\``);
    return { ...p, path, addon, sha256: createHash("sha256").update(readFileSync(path)).digest("hex") };
  });
}

/** The release asset name of a platform, as src/native/locate.ts's assetName() spells it. */
export const assetName = (p) => `shared_atomic-${p.key}${p.file.slice(p.file.lastIndexOf("."))}`;

/** src/native/checksums.ts for a version and its artefacts. */
export function checksumsSource(v, arts) {
  const old = readFileSync(join(root, "src", "native", "checksums.ts"), "utf8");
  const head = old.slice(0, old.indexOf("/** The version these checksums"));
  const rows = arts.map((a) => `  "${a.key}": "${a.sha256}",\n`).join("");
  return `${head}/** The version these checksums belong to ("" when there are none). */
export const CHECKSUMS_VERSION: string = "${v}";

/** SHA-256 (lowercase hex) of each platform's release library, by platform key (\`linux-x64-gnu\`, …). */
export const CHECKSUMS: Readonly<Record<string, string>> = {
${rows}};
`;
}

const describe = (p) => {
  const os = { linux: "Linux", darwin: "macOS", win32: "Windows" }[p.os] ?? p.os;
  return `${os} ${p.cpu}${p.libc ? ` (${p.libc})` : ""}`;
};

function listFiles(dir, ext) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), ext) : e.name.endsWith(ext) ? [join(dir, e.name)] : []
  );
}

const listTs = (dir) => listFiles(dir, ".ts");

// Relative "./x.ts" specifiers -> "./x.js": import/export ... from, import(), new URL(..., import.meta.url).
const toJs = (code) =>
  code
    .replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']*?)\.ts\2/g, "$1$2$3.js$2")
    .replace(/(new URL\(\s*)(["'])(\.{1,2}\/[^"']*?)\.ts\2(\s*,\s*import\.meta\.url)/g, "$1$2$3.js$2$4");

/**
 * Compiles mod.ts, node.ts and src/ of `dir` into `dir`/dist: JavaScript for Deno
 * and Node (one file at a time: types stripped, specifiers rewritten) and declarations for
 * type checkers (one program, emitted without type checking: the runtime types
 * of the entries need not resolve here).
 */
export async function compile(dir) {
  const { default: ts } = await import(join(root, "node_modules", "typescript", "lib", "typescript.js"));
  const files = [
    join(dir, "mod.ts"),
    join(dir, "node.ts"),
    ...(existsSync(join(dir, "valkey.ts")) ? [join(dir, "valkey.ts")] : []),
    ...listTs(join(dir, "src")),
  ];
  const out = (file, ext) => join(dir, "dist", relative(dir, file)).replace(/\.ts$/, ext);
  for (const file of files) {
    const js = ts.transpileModule(readFileSync(file, "utf8"), {
      fileName: file,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        rewriteRelativeImportExtensions: true,
      },
    });
    mkdirSync(dirname(out(file, ".js")), { recursive: true });
    writeFileSync(out(file, ".js"), toJs(js.outputText));
  }
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.esnext.disposable.d.ts", "lib.dom.d.ts"],
    types: [],
    allowImportingTsExtensions: true,
    declaration: true,
    emitDeclarationOnly: true,
    noCheck: true,
    skipLibCheck: true,
    rootDir: dir,
    outDir: join(dir, "dist"),
  });
  const emitted = program.emit(undefined, (name, text) => {
    mkdirSync(dirname(name), { recursive: true });
    writeFileSync(name, toJs(text));
  });
  const problems = emitted.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  if (problems.length) throw new Error(`declarations for dist/:\n${problems.join("\n")}`);
}

/**
 * The `shared-atomic` command: bin/*.ts of the repository compiled to
 * `dir`/dist/bin/*.js (it needs only node:fs, so the package manager's shim
 * may run it with Node, Bun or Deno alike).
 */
export async function compileBin(dir) {
  const { default: ts } = await import(join(root, "node_modules", "typescript", "lib", "typescript.js"));
  for (const file of listTs(join(root, "bin"))) {
    const js = ts.transpileModule(readFileSync(file, "utf8"), {
      fileName: file,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    });
    const to = join(dir, "dist", "bin", relative(join(root, "bin"), file)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(to), { recursive: true });
    const body = toJs(js.outputText).replace(/^#!.*\n/, "");
    writeFileSync(to, `#!/usr/bin/env node\n${body}`, { mode: 0o755 });
  }
}

/** Stages and packs every package; returns { main, platforms: {key: tgz}, release }. */
export async function pack({ out = join(root, "zig-out", "npm"), build = true } = {}) {
  if (build) await buildDist();
  const v = version();
  const arts = artefacts();
  const pkg = readJson(join(root, "package.json"));
  rmSync(out, { recursive: true, force: true });
  const stage = join(out, "stage");
  const release = join(out, "release");
  mkdirSync(release, { recursive: true });

  const dirs = [];
  for (const a of arts) {
    const name = `@shared-atomic/${a.key}`;
    const d = join(stage, a.key);
    mkdirSync(d, { recursive: true });
    copyFileSync(a.path, join(d, a.file));
    copyFileSync(join(root, "zig", "shared_atomic.h"), join(d, "shared_atomic.h"));
    if (a.addon) copyFileSync(a.addon, join(d, ADDON_FILE));
    writeFileSync(
      join(d, "package.json"),
      JSON.stringify(
        {
          name,
          version: v,
          description: `The native library of shared-atomic for ${describe(a)}`,
          license: pkg.license,
          os: [a.os],
          cpu: [a.cpu],
          ...(a.libc ? { libc: [a.libc] } : {}),
          files: [a.file, "shared_atomic.h", ...(a.addon ? [ADDON_FILE] : [])],
          preferUnplugged: true,
        },
        null,
        2,
      ) + "\n",
    );
    writeFileSync(
      join(d, "README.md"),
      `# ${name}\n\nThe native library of [shared-atomic](https://www.npmjs.com/package/shared-atomic) ${v} ` +
        `for ${describe(a)}: \`${a.file}\`, SHA-256 \`${a.sha256}\`, and its C header \`shared_atomic.h\`.\n\n` +
        "Install `shared-atomic`, not this: it depends on the package of every platform, and the package manager " +
        "installs only the one that matches.\n",
    );
    copyFileSync(a.path, join(release, assetName(a)));
    dirs.push(d);
  }
  writeFileSync(join(release, "SHA256SUMS"), arts.map((a) => `${a.sha256}  ${assetName(a)}\n`).join(""));

  const main = join(stage, "shared-atomic");
  mkdirSync(join(main, "src"), { recursive: true });
  for (const f of ["bun.ts", "mod.ts", "node.ts", "valkey.ts", "LICENSE"]) {
    if (existsSync(join(root, f))) copyFileSync(join(root, f), join(main, f));
  }
  // the user README (the repository's README is about the repository: building, testing, layout)
  copyFileSync(join(root, "npm", "README.md"), join(main, "README.md"));
  for (const f of listFiles(join(root, "python", "shared_atomic_js"), ".py")) {
    const to = join(main, relative(root, f));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(f, to);
  }
  for (const f of listTs(join(root, "src"))) {
    const to = join(main, relative(root, f));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(f, to);
  }
  writeFileSync(join(main, "src", "native", "checksums.ts"), checksumsSource(v, arts));
  await compile(main);
  await compileBin(main);
  rmSync(join(main, "mod.ts")); // compiled to dist/mod.js; Bun uses bun.ts + src/
  rmSync(join(main, "node.ts")); // compiled to dist/node.js
  const manifest = {
    name: pkg.name,
    version: v,
    description: pkg.description,
    license: pkg.license,
    keywords: pkg.keywords,
    type: "module",
    exports: {
      ".": {
        types: "./dist/mod.d.ts",
        bun: "./bun.ts",
        deno: "./dist/mod.js",
        node: "./dist/node.js",
        default: "./dist/mod.js",
      },
      // the Valkey backend (docs/valkey.md): needs the ioredis peer dependency, not the native library
      "./valkey": { types: "./dist/valkey.d.ts", bun: "./valkey.ts", default: "./dist/valkey.js" },
      "./package.json": "./package.json",
    },
    types: "./dist/mod.d.ts",
    bin: { "shared-atomic": "./dist/bin/shared-atomic.js" },
    files: [
      "bun.ts",
      "valkey.ts",
      "src/",
      "dist/",
      "python/",
      "README.md",
      ...(existsSync(join(root, "LICENSE")) ? ["LICENSE"] : []),
    ],
    engines: { node: ">=22" },
    optionalDependencies: Object.fromEntries(arts.map((a) => [`@shared-atomic/${a.key}`, v])),
    peerDependencies: { ioredis: `^${pkg.devDependencies.ioredis}` },
    peerDependenciesMeta: { ioredis: { optional: true } },
  };
  writeFileSync(join(main, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
  dirs.push(main);

  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--pack-destination", out, ...dirs], {
      cwd: out,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }),
  );
  const result = { version: v, main: "", platforms: {}, release, sha256: {} };
  packed.forEach((p, i) => {
    const tgz = join(out, p.filename);
    if (dirs[i] === main) result.main = tgz;
    else {
      result.platforms[arts[i].key] = tgz;
      result.sha256[arts[i].key] = arts[i].sha256;
    }
  });
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--out");
  const result = await pack({ out: at >= 0 ? resolve(args[at + 1]) : undefined, build: !args.includes("--no-build") });
  console.log(JSON.stringify(result, null, 2));
}
