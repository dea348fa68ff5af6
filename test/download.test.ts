// Where the library comes from (src/native/locate.ts): the lookup order, and the
// download of a release library against an HTTP server on loopback: verified
// against the shipped SHA-256, cached per version, a corrupted download
// rejected with nothing cached, no network reported with the variable to set.
// In-process in both runtimes; end to end through mod.ts in a Deno child.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { dirname, join } from "node:path";
import { command, ENTRIES, isDeno, runtime } from "./helpers/runtime.ts";
import { DENO, exec, listen, repo } from "./helpers/packaging_util.ts";
import {
  assetName,
  type CacheFiles,
  cacheRoot,
  downloadLibrary,
  type DownloadOptions,
  findLocal,
  libraryFile,
  type LibraryHost,
  platformKey,
  PLATFORMS,
  sha256,
} from "../src/native/locate.ts";
import { VERSION } from "../src/native/version.ts";

const work = mkdtempSync(join(tmpdir(), "sa-download-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

/** A host that sees only the files in `files` and the variables in `env`. */
function fakeHost(over: Partial<LibraryHost> & { files?: CacheFiles } = {}, seen: string[] = []): LibraryHost {
  return {
    platform: "linux",
    arch: "x64",
    libc: () => "gnu",
    env: () => undefined,
    cwd: () => undefined,
    isFile: (p) => seen.includes(p),
    ...over,
  };
}

const nodeFiles: CacheFiles = {
  readFile: (p) => new Uint8Array(readFileSync(p)),
  mkdir: (d) => mkdirSync(d, { recursive: true }),
  writeFile: (p, data) => writeFileSync(p, data),
  rename: (a, b) => renameSync(a, b),
  remove: (p) => rmSync(p),
};

const realHost: LibraryHost = fakeHost({
  isFile: (p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  },
  files: nodeFiles,
});

test("platform keys, file names and asset names agree with npm/platforms.json", () => {
  const listed = JSON.parse(readFileSync(join(repo, "npm", "platforms.json"), "utf8")).platforms as {
    key: string;
    os: string;
    cpu: string;
    libc?: string;
    file: string;
  }[];
  assert.deepEqual([...PLATFORMS].sort(), listed.map((p) => p.key).sort());
  for (const p of listed) {
    const key = platformKey({ platform: p.os, arch: p.cpu, libc: () => p.libc === "musl" ? "musl" : "gnu" });
    assert.equal(key, p.key);
    assert.equal(libraryFile(p.os), p.file);
    assert.equal(assetName(p.key), `shared_atomic-${p.key}${p.file.slice(p.file.lastIndexOf("."))}`);
  }
});

test("lookup order: option, SHARED_ATOMIC_LIB, npm platform package (above the package, then the cwd), zig-out", () => {
  const packageRoot = new URL("file:///home/u/app/node_modules/shared-atomic/dist/");
  const npm = "/home/u/app/node_modules/@shared-atomic/linux-x64-gnu/libshared_atomic.so";
  const nested = "/home/u/app/node_modules/shared-atomic/node_modules/@shared-atomic/linux-x64-gnu/libshared_atomic.so";
  const env = (name: string) => (name === "SHARED_ATOMIC_LIB" ? "/opt/lib.so" : undefined);
  const files = [npm, nested];

  assert.deepEqual(findLocal({ host: fakeHost({ env }, files), packageRoot, explicit: "/x.so" }), {
    path: "/x.so",
    source: "option",
  });
  assert.deepEqual(findLocal({ host: fakeHost({ env }, files), packageRoot }), {
    path: "/opt/lib.so",
    source: "SHARED_ATOMIC_LIB",
  });
  // the nearest node_modules wins (nested before hoisted), like Node's resolution
  assert.deepEqual(findLocal({ host: fakeHost({}, files), packageRoot }), { path: nested, source: "npm" });
  assert.deepEqual(findLocal({ host: fakeHost({}, [npm]), packageRoot }), { path: npm, source: "npm" });
  // musl picks the musl package
  const musl = npm.replace("-gnu", "-musl");
  assert.deepEqual(findLocal({ host: fakeHost({ libc: () => "musl" }, [npm, musl]), packageRoot }), {
    path: musl,
    source: "npm",
  });
  // a JSR (https:) copy: the working directory's node_modules
  const cwdNpm = "/work/proj/node_modules/@shared-atomic/linux-x64-gnu/libshared_atomic.so";
  assert.deepEqual(
    findLocal({
      host: fakeHost({ cwd: () => "/work/proj/sub" }, [cwdNpm]),
      packageRoot: new URL("https://jsr.io/@shared-atomic/shared-atomic/0.1.0/"),
    }),
    { path: cwdNpm, source: "npm" },
  );
  // Deno's global npm cache: <registry>/shared-atomic/<v>/ beside <registry>/@shared-atomic/<key>/<v>/
  const reg = "/home/u/.cache/deno/npm/registry.npmjs.org";
  const denoCached = `${reg}/@shared-atomic/linux-x64-gnu/${VERSION}/libshared_atomic.so`;
  assert.deepEqual(
    findLocal({
      host: fakeHost({}, [denoCached]),
      packageRoot: new URL(`file://${reg}/shared-atomic/${VERSION}/dist/`),
    }),
    { path: denoCached, source: "npm" },
  );
  // a checkout: zig-out (Windows: bin/shared_atomic.dll)
  const checkout = new URL("file:///src/shared-atomic/");
  assert.deepEqual(
    findLocal({ host: fakeHost({}, ["/src/shared-atomic/zig-out/lib/libshared_atomic.so"]), packageRoot: checkout }),
    {
      path: "/src/shared-atomic/zig-out/lib/libshared_atomic.so",
      source: "zig-out",
    },
  );
  assert.deepEqual(
    findLocal({
      host: fakeHost({ platform: "win32" }, ["C:\\src\\sa\\zig-out\\bin\\shared_atomic.dll"]),
      packageRoot: new URL("file:///C:/src/sa/"),
    }),
    { path: "C:\\src\\sa\\zig-out\\bin\\shared_atomic.dll", source: "zig-out" },
  );
  // an npm package beats a zig-out build; nothing found is undefined
  assert.equal(findLocal({ host: fakeHost({}, []), packageRoot: checkout }), undefined);
});

test("cache directory: SHARED_ATOMIC_CACHE, else XDG_CACHE_HOME or ~/.cache, ~/Library/Caches, %LOCALAPPDATA%", () => {
  const envOf = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(cacheRoot(fakeHost({ env: envOf({ SHARED_ATOMIC_CACHE: "/c", HOME: "/h" }) })), "/c");
  assert.equal(cacheRoot(fakeHost({ env: envOf({ XDG_CACHE_HOME: "/x", HOME: "/h" }) })), "/x/shared-atomic");
  assert.equal(cacheRoot(fakeHost({ env: envOf({ HOME: "/h" }) })), "/h/.cache/shared-atomic");
  assert.equal(
    cacheRoot(fakeHost({ platform: "darwin", env: envOf({ HOME: "/Users/u" }) })),
    "/Users/u/Library/Caches/shared-atomic",
  );
  assert.equal(
    cacheRoot(fakeHost({ platform: "win32", env: envOf({ LOCALAPPDATA: "C:\\Users\\u\\AppData\\Local" }) })),
    "C:\\Users\\u\\AppData\\Local\\shared-atomic",
  );
  assert.equal(cacheRoot(fakeHost({})), undefined);
});

// ---------------------------------------------------------------------------
// Download against a loopback server

const LIB = join(repo, "zig-out", "lib", "libshared_atomic.so");
const KEY = "linux-x64-gnu";

/** A loopback server that serves `body()` for the asset and counts requests. */
async function assetServer(body: () => Uint8Array | null) {
  let requests = 0;
  const srv = await listen((req, res) => {
    requests++;
    const b = body();
    if (b === null || !req.url?.endsWith(`/${assetName(KEY)}`)) {
      res.writeHead(404);
      res.end("not found");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(b.length) });
    res.end(b);
  });
  return { ...srv, requests: () => requests };
}

async function options(over: Partial<DownloadOptions> = {}): Promise<DownloadOptions> {
  const bytes = new Uint8Array(readFileSync(LIB));
  return {
    host: realHost,
    files: nodeFiles,
    baseUrl: "http://127.0.0.1:9/",
    cacheDir: mkdtempSync(join(work, "cache-")),
    checksums: { [KEY]: await sha256(bytes) },
    checksumsVersion: VERSION,
    version: VERSION,
    timeoutMs: 20_000,
    ...over,
  };
}

const cachedFiles = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name)
    : [];

test("download: verified, cached per version; the next lookup uses the cache; a tampered cache is replaced", async () => {
  const good = new Uint8Array(readFileSync(LIB));
  const srv = await assetServer(() => good);
  try {
    const o = await options({ baseUrl: `${srv.url}v${VERSION}/` });
    const first = await downloadLibrary(o);
    const expected = join(o.cacheDir, VERSION, KEY, "libshared_atomic.so");
    assert.deepEqual(first, { path: expected, source: "download" });
    assert.deepEqual(new Uint8Array(readFileSync(expected)), good);
    assert.equal(srv.requests(), 1);

    assert.deepEqual(await downloadLibrary(o), { path: expected, source: "cache" });
    assert.equal(srv.requests(), 1, "no second request");

    writeFileSync(expected, "tampered");
    assert.deepEqual(await downloadLibrary(o), { path: expected, source: "download" });
    assert.equal(srv.requests(), 2);
    assert.deepEqual(new Uint8Array(readFileSync(expected)), good);
    assert.deepEqual(cachedFiles(o.cacheDir), ["libshared_atomic.so"], "no temporary files left");
  } finally {
    await srv.close();
  }
});

test("download: a corrupted library is rejected with a clear error and nothing is cached", async () => {
  const bad = new Uint8Array(readFileSync(LIB));
  bad[bad.length >> 1] ^= 0xff;
  const srv = await assetServer(() => bad);
  try {
    const o = await options({ baseUrl: srv.url });
    await assert.rejects(downloadLibrary(o), (e: Error) => {
      assert.match(e.message, /does not match the SHA-256 this package ships/);
      assert.match(e.message, new RegExp(`expected ${o.checksums[KEY]}, got [0-9a-f]{64}`));
      assert.match(e.message, /nothing was cached/);
      assert.match(e.message, /SHARED_ATOMIC_LIB/);
      return true;
    });
    assert.deepEqual(cachedFiles(o.cacheDir), [], "nothing cached, no temporary file");
  } finally {
    await srv.close();
  }
});

test("download: no network, or no such asset: an error that names SHARED_ATOMIC_LIB", async () => {
  // a port that was just free: connection refused
  const gone = await listen(() => {});
  await gone.close();
  const o = await options({ baseUrl: gone.url });
  await assert.rejects(downloadLibrary(o), (e: Error) => {
    assert.match(e.message, new RegExp(`downloading ${gone.url}${assetName(KEY)} failed`));
    assert.match(e.message, /Set SHARED_ATOMIC_LIB to the path of a shared-atomic/);
    assert.match(e.message, /@shared-atomic\/linux-x64-gnu/);
    return true;
  });
  assert.deepEqual(cachedFiles(o.cacheDir), []);

  const srv = await assetServer(() => null);
  try {
    await assert.rejects(downloadLibrary(await options({ baseUrl: srv.url })), /HTTP 404.*SHARED_ATOMIC_LIB/s);
  } finally {
    await srv.close();
  }
});

test("download: refused without a shipped checksum for this version, or on a platform with no release", async () => {
  await assert.rejects(
    downloadLibrary(await options({ checksumsVersion: "" })),
    /ships no release checksum.*SHARED_ATOMIC_LIB/s,
  );
  await assert.rejects(
    downloadLibrary(await options({ checksumsVersion: "0.0.1" })),
    /ships no release checksum/,
  );
  await assert.rejects(
    downloadLibrary(await options({ host: fakeHost({ arch: "riscv64", files: nodeFiles }) })),
    /linux-riscv64-gnu is not a release platform.*SHARED_ATOMIC_LIB/s,
  );
});

// ---------------------------------------------------------------------------
// End to end: mod.ts as JSR delivers it (no node_modules, no zig-out), in Deno

if (isDeno) {
  /** A copy of what `deno publish` ships, with the checksum of this host's library for this version. */
  const jsrCopy = async (): Promise<string> => {
    const dir = join(work, "jsr");
    if (existsSync(dir)) return dir;
    mkdirSync(dir);
    cpSync(join(repo, "mod.ts"), join(dir, "mod.ts"));
    cpSync(join(repo, "src"), join(dir, "src"), { recursive: true });
    const sum = await sha256(new Uint8Array(readFileSync(LIB)));
    writeFileSync(
      join(dir, "src", "native", "checksums.ts"),
      `export const CHECKSUMS_VERSION: string = "${VERSION}";\n` +
        `export const CHECKSUMS: Readonly<Record<string, string>> = { "${KEY}": "${sum}" };\n`,
    );
    writeFileSync(
      join(dir, "prog.ts"),
      `import { AtomicU64, libraryPath } from "./mod.ts";
try {
  const a = AtomicU64.create(1n);
  a.fetchAdd(1n);
  const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
  const lib = await new Promise((resolve) => (worker.onmessage = (e) => resolve(e.data)));
  worker.terminate();
  console.log(\`ok \${a.load()} \${libraryPath()} \${lib}\`);
} catch (e) {
  console.log(\`error \${(e as Error).message}\`);
}
`,
    );
    writeFileSync(
      join(dir, "worker.ts"),
      `import { AtomicU64, libraryPath } from "./mod.ts";
AtomicU64.create(0n);
self.postMessage(libraryPath());
`,
    );
    return dir;
  };

  const runProg = async (env: Record<string, string>, permissions = ["-A"]) => {
    const dir = await jsrCopy();
    const r = await exec(DENO, ["run", "--no-check", ...permissions, "prog.ts"], {
      cwd: dir,
      env: { PATH: "/usr/bin:/bin", HOME: join(work, "home"), NO_COLOR: "1", ...env },
    });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  test("Deno, JSR layout: downloads from the release URL once, checks it, caches it; then works offline", async () => {
    const good = new Uint8Array(readFileSync(LIB));
    const srv = await assetServer(() => good);
    const cache = join(work, "e2e-cache");
    const lib = join(cache, VERSION, KEY, "libshared_atomic.so");
    try {
      // the narrowest permissions that work: read, ffi, env, write to the cache, net to the server
      const out = await runProg(
        { SHARED_ATOMIC_DOWNLOAD_URL: srv.url, SHARED_ATOMIC_CACHE: cache },
        [
          "--allow-read",
          "--allow-ffi",
          "--allow-env",
          `--allow-write=${cache}`,
          `--allow-net=${new URL(srv.url).host}`,
        ],
      );
      assert.equal(out, `ok 2 ${lib} ${lib}`, "main thread and Worker use the downloaded library");
      assert.equal(srv.requests(), 1, "the Worker found it in the cache");
    } finally {
      await srv.close();
    }
    // the server is gone: the cache is enough
    assert.equal(
      await runProg({ SHARED_ATOMIC_DOWNLOAD_URL: srv.url, SHARED_ATOMIC_CACHE: cache }),
      `ok 2 ${lib} ${lib}`,
    );
  });

  test("Deno, JSR layout: a corrupted download fails at first use, with nothing cached", async () => {
    const bad = new Uint8Array(readFileSync(LIB));
    bad[100] ^= 1;
    const srv = await assetServer(() => bad);
    const cache = join(work, "e2e-corrupt");
    try {
      const out = await runProg({ SHARED_ATOMIC_DOWNLOAD_URL: srv.url, SHARED_ATOMIC_CACHE: cache });
      assert.match(
        out,
        /^error shared-atomic: no native library for linux-x64-gnu: the download of http:\/\/127\.0\.0\.1/,
      );
      assert.match(out, /does not match the SHA-256 this package ships/);
      assert.deepEqual(cachedFiles(cache), []);
    } finally {
      await srv.close();
    }
  });

  test("Deno, JSR layout: no network: the error names SHARED_ATOMIC_LIB, which then works", async () => {
    const gone = await listen(() => {});
    await gone.close();
    const env = { SHARED_ATOMIC_DOWNLOAD_URL: gone.url, SHARED_ATOMIC_CACHE: join(work, "e2e-offline") };
    const out = await runProg(env);
    assert.match(
      out,
      /^error shared-atomic: no native library for linux-x64-gnu: downloading http:\/\/127\.0\.0\.1:\d+\/shared_atomic-linux-x64-gnu\.so failed/,
    );
    assert.match(out, /Set SHARED_ATOMIC_LIB/);
    assert.equal(await runProg({ ...env, SHARED_ATOMIC_LIB: LIB }), `ok 2 ${LIB} ${LIB}`);
  });
}

// ---------------------------------------------------------------------------
// The explicit choices, and the version check, in a fresh process of this runtime

const entry = join(repo, ENTRIES[runtime]);
const runScript = async (name: string, code: string, env: Record<string, string> = {}) => {
  const file = join(work, name);
  writeFileSync(file, code.replaceAll("ENTRY", entry));
  const [bin, ...argv] = command(runtime, file);
  const r = await exec(bin, argv, { env: { ...process.env, NO_COLOR: "1", ...env } });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split("\n");
};

test("setLibraryPath: beats SHARED_ATOMIC_LIB before first use, refused after", async () => {
  const out = await runScript(
    "option.ts",
    `import { AtomicU64, libraryPath, setLibraryPath } from "ENTRY";
console.log(libraryPath());
setLibraryPath("/nonexistent/libshared_atomic.so");
try { AtomicU64.create(1n); } catch (e) { console.log((e as Error).message); }
setLibraryPath(${JSON.stringify(LIB)});
console.log(String(AtomicU64.create(1n).addFetch(1n)));
try { setLibraryPath("/other.so"); } catch (e) { console.log((e as Error).message); }
`,
    { SHARED_ATOMIC_LIB: "/from/env.so" },
  );
  assert.equal(out[0], "/from/env.so");
  assert.match(out[1], /cannot open the native library at \/nonexistent\/libshared_atomic\.so \(from option;/);
  assert.equal(out[2], "2");
  assert.match(out[3], /already open \(.*libshared_atomic\.so\); call it before first use/);
});

test("a library of another version is refused at first use, naming both versions", async () => {
  // this host's library (and the Node-API addon beside it, which Node opens) with its version string patched
  const other = `${VERSION.replace(/\d+$/, (n) => String((Number(n) + 1) % 10))}`;
  assert.equal(other.length, VERSION.length);
  const stale = join(work, "stale", "libshared_atomic.so");
  mkdirSync(join(work, "stale"), { recursive: true });
  for (
    const [from, to] of [[LIB, stale], [
      join(dirname(LIB), "shared_atomic.node"),
      join(work, "stale", "shared_atomic.node"),
    ]]
  ) {
    const bytes = new Uint8Array(readFileSync(from));
    const needle = new TextEncoder().encode(`${VERSION}\0`);
    let patched = 0;
    for (let i = 0; i + needle.length <= bytes.length; i++) {
      if (needle.every((b, k) => bytes[i + k] === b) && bytes[i - 1] === 0) {
        bytes.set(new TextEncoder().encode(other), i);
        patched++;
      }
    }
    assert.ok(patched >= 1, `found the version string in ${from}`);
    writeFileSync(to, bytes);
  }
  const out = await runScript(
    "stale.ts",
    `import { AtomicU64 } from "ENTRY";
try { AtomicU64.create(1n); console.log("opened"); } catch (e) { console.log((e as Error).message); }
`,
    { SHARED_ATOMIC_LIB: stale },
  );
  assert.match(
    out[0],
    new RegExp(
      `library at ${stale} \\(from SHARED_ATOMIC_LIB\\) is version ${other.replaceAll(".", "\\.")}, this package is ${
        VERSION.replaceAll(".", "\\.")
      }`,
    ),
  );
});
