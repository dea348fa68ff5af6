/**
 * Where the native library is. In order:
 *
 * 1. an explicit path: {@linkcode setLibraryPath}, else the `SHARED_ATOMIC_LIB`
 *    environment variable;
 * 2. the installed npm platform package (`@shared-atomic/linux-x64-gnu`, …) in a
 *    `node_modules` above this package or the working directory, or beside it
 *    in Deno's npm cache;
 * 3. a local build: `zig-out/` of this checkout;
 * 4. (Deno entry only) the release library of this platform and version,
 *    downloaded once into a per-version cache and checked against the SHA-256
 *    shipped in `src/checksums.ts`.
 *
 * The runtime entry supplies a {@linkcode LibraryHost} (how to test for a file,
 * read one, write one) so this module stays runtime-neutral and imports nothing.
 *
 * @module
 */

import { CHECKSUMS, CHECKSUMS_VERSION } from "./checksums.ts";
import { VERSION } from "./version.ts";

/** What locating the library needs from the runtime. */
export interface LibraryHost {
  /** `"linux"`, `"darwin"`, `"win32"`, … (Node's `process.platform` names). */
  readonly platform: string;
  /** `"x64"`, `"arm64"`, … (Node's `process.arch` names). */
  readonly arch: string;
  /** Linux: the C library this runtime runs on, `"gnu"` or `"musl"`. */
  libc(): string | undefined;
  /** An environment variable, or undefined (also when not permitted). */
  env(name: string): string | undefined;
  /** The working directory, or undefined (also when not permitted). */
  cwd(): string | undefined;
  /** Whether a regular file exists at `path` (false when not permitted). */
  isFile(path: string): boolean;
  /** The file system operations the download cache needs; without them nothing is downloaded. */
  readonly files?: CacheFiles;
  /** What the runtime did not let the lookup see (Deno's permissions), for the error message. */
  denied?(): string | undefined;
  /** Whether the runtime's permissions keep `path` from being read (Deno without `--allow-read`). */
  readDenied?(path: string): boolean;
}

/** File operations for the download cache (the Deno entry's `Deno.*` calls). */
export interface CacheFiles {
  readFile(path: string): Uint8Array;
  /** Creates `dir` and its parents. */
  mkdir(dir: string): void;
  writeFile(path: string, data: Uint8Array): void;
  rename(from: string, to: string): void;
  remove(path: string): void;
}

/** The release platforms: `<platform>-<arch>[-<libc>]`, as the npm packages are named. */
export const PLATFORMS: readonly string[] = [
  "linux-x64-gnu",
  "linux-arm64-gnu",
  "linux-x64-musl",
  "linux-arm64-musl",
  "darwin-x64",
  "darwin-arm64",
  "win32-x64",
];

/** The npm scope of the platform packages. */
export const PACKAGE_SCOPE = "@shared-atomic";

/** Where the release libraries are downloaded from, unless `SHARED_ATOMIC_DOWNLOAD_URL` says otherwise. */
export const DOWNLOAD_URL: string = `https://github.com/shared-atomic/shared-atomic/releases/download/v${VERSION}/`;

/** Largest download accepted (the libraries are ~250 KB). */
const MAX_DOWNLOAD = 64 * 1024 * 1024;

/** The platform key for a host (`linux-x64-gnu`), whether or not it is a release platform. */
export function platformKey(host: Pick<LibraryHost, "platform" | "arch" | "libc">): string {
  const base = `${host.platform}-${host.arch}`;
  return host.platform === "linux" ? `${base}-${host.libc() ?? "gnu"}` : base;
}

/** The library's file name on a platform (`linux` → `libshared_atomic.so`). */
export function libraryFile(platform: string): string {
  if (platform === "win32") return "shared_atomic.dll";
  return platform === "darwin" ? "libshared_atomic.dylib" : "libshared_atomic.so";
}

/** The name of a platform's release asset, e.g. `shared_atomic-linux-x64-gnu.so`. */
export function assetName(key: string): string {
  const file = libraryFile(key.split("-")[0]);
  return `shared_atomic-${key}${file.slice(file.lastIndexOf("."))}`;
}

/** A file path from a `file:` URL (`undefined` for any other URL). */
export function fromFileUrl(url: URL, windows: boolean): string | undefined {
  if (url.protocol !== "file:") return undefined;
  const path = decodeURIComponent(url.pathname);
  return windows ? path.replace(/^\/([A-Za-z]:)/, "$1").replaceAll("/", "\\") : path;
}

function join(windows: boolean, ...parts: string[]): string {
  const sep = windows ? "\\" : "/";
  return parts.map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, "") : p.replace(/^[\\/]+|[\\/]+$/g, ""))).join(sep);
}

function parent(path: string): string | undefined {
  const trimmed = path.replace(/[\\/]+$/, "");
  const i = Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\"));
  if (i < 0) return undefined;
  const up = trimmed.slice(0, i);
  // "/" and "C:\" are roots; stop there
  return up === "" || /^[A-Za-z]:$/.test(up) ? (up === "" ? "/" : `${up}\\`) : up;
}

function basename(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  return trimmed.slice(Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\")) + 1);
}

/** The directories from `start` up to the root. */
function ancestors(start: string): string[] {
  const out: string[] = [];
  for (let dir: string | undefined = start; dir !== undefined && !out.includes(dir); dir = parent(dir)) out.push(dir);
  return out;
}

/** Where to look, and what was found (`source` says which step found it). */
export interface Found {
  readonly path: string;
  readonly source: "option" | "SHARED_ATOMIC_LIB" | "npm" | "zig-out" | "cache" | "download";
}

/** Inputs of the lookup that does not download: steps 1–3. */
export interface LocalLookup {
  readonly host: LibraryHost;
  /** The root of this package (the directory above `src/`), as a URL. */
  readonly packageRoot: URL;
  /** An explicit path ({@linkcode setLibraryPath}). */
  readonly explicit?: string;
}

/** Steps 1–3 of the lookup (explicit path, npm platform package, zig-out); never touches the network. */
export function findLocal({ host, packageRoot, explicit }: LocalLookup): Found | undefined {
  if (explicit) return { path: explicit, source: "option" };
  const env = host.env("SHARED_ATOMIC_LIB");
  if (env) return { path: env, source: "SHARED_ATOMIC_LIB" };
  return candidates(host, packageRoot).find((c) => host.isFile(c.path));
}

/** Where steps 2 and 3 look, in order: the npm platform package in every node_modules above, then zig-out. */
function candidates(host: LibraryHost, packageRoot: URL): Found[] {
  const windows = host.platform === "win32";
  const key = platformKey(host);
  const file = libraryFile(host.platform);
  const root = fromFileUrl(packageRoot, windows);
  const starts = [root, host.cwd()].filter((d): d is string => d !== undefined);
  const seen = new Set<string>();
  const out: Found[] = [];
  for (const start of starts) {
    for (const dir of ancestors(start)) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      // npm, Bun, Deno with a node_modules directory
      out.push({ path: join(windows, dir, "node_modules", PACKAGE_SCOPE, key, file), source: "npm" });
      // Deno's global npm cache: <registry>/shared-atomic/<version>/ beside <registry>/@shared-atomic/<key>/<version>/
      const up = parent(dir);
      if (basename(dir) === VERSION && up !== undefined && basename(up) === "shared-atomic") {
        const registry = parent(up);
        if (registry !== undefined) {
          out.push({ path: join(windows, registry, PACKAGE_SCOPE, key, VERSION, file), source: "npm" });
        }
      }
    }
  }
  if (root !== undefined) {
    const built = windows ? join(true, root, "zig-out", "bin", file) : join(false, root, "zig-out", "lib", file);
    out.push({ path: built, source: "zig-out" });
  }
  return out;
}

/**
 * The directory of `node_modules` this package is installed in, if it is
 * (`.../node_modules/shared-atomic`; the Deno build runs from its `dist/`).
 */
function installedIn(host: LibraryHost, packageRoot: URL): string | undefined {
  const root = fromFileUrl(packageRoot, host.platform === "win32");
  for (const dir of root === undefined ? [] : ancestors(root).slice(0, 3)) {
    const up = parent(dir);
    if (basename(dir) === "shared-atomic" && up !== undefined && basename(up) === "node_modules") return up;
  }
  return undefined;
}

/** The library where it most likely is: beside this package in node_modules or Deno's npm cache, else zig-out. */
function likely(host: LibraryHost, packageRoot: URL): Found | undefined {
  const windows = host.platform === "win32";
  const modules = installedIn(host, packageRoot);
  if (modules !== undefined) {
    return {
      path: join(windows, modules, PACKAGE_SCOPE, platformKey(host), libraryFile(host.platform)),
      source: "npm",
    };
  }
  const all = candidates(host, packageRoot);
  // Deno's npm cache: <registry>/@shared-atomic/<key>/<version>/<file>
  return all.find((c) => c.source === "npm" && basename(parent(c.path) ?? "") === VERSION) ?? all.at(-1);
}

/** The per-user cache directory of downloaded libraries: `SHARED_ATOMIC_CACHE`, else the OS's cache directory. */
export function cacheRoot(host: LibraryHost): string | undefined {
  const explicit = host.env("SHARED_ATOMIC_CACHE");
  if (explicit) return explicit;
  const windows = host.platform === "win32";
  const home = host.env(windows ? "USERPROFILE" : "HOME");
  let base: string | undefined;
  if (windows) base = host.env("LOCALAPPDATA") ?? (home && join(true, home, "AppData", "Local"));
  else if (host.platform === "darwin") base = home && join(false, home, "Library", "Caches");
  else base = host.env("XDG_CACHE_HOME") || (home && join(false, home, ".cache"));
  return base ? join(windows, base, "shared-atomic") : undefined;
}

/** Inputs of the download step. */
export interface DownloadOptions {
  readonly host: LibraryHost;
  readonly files: CacheFiles;
  /** The directory the asset name is appended to. */
  readonly baseUrl: string;
  /** The cache root; the library goes to `<root>/<version>/<key>/<file>`. */
  readonly cacheDir: string;
  /** SHA-256 by platform key, for `version`. */
  readonly checksums: Readonly<Record<string, string>>;
  readonly checksumsVersion: string;
  readonly version: string;
  /** `fetch` (a test may pass its own). */
  readonly fetch?: typeof fetch;
  /** Milliseconds before the download is abandoned (default 60 s). */
  readonly timeoutMs?: number;
}

/** Lowercase hex SHA-256 of some bytes. */
export async function sha256(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Step 4: the cached library of this version and platform if its checksum
 * still matches (a mismatching one is removed), else a download of the
 * release asset, checked, then moved into the cache in one rename. Throws an
 * Error that says what failed and that `SHARED_ATOMIC_LIB` is the way out.
 */
export async function downloadLibrary(o: DownloadOptions): Promise<Found> {
  const key = platformKey(o.host);
  const windows = o.host.platform === "win32";
  const file = libraryFile(o.host.platform);
  const url = new URL(assetName(key), o.baseUrl.endsWith("/") ? o.baseUrl : `${o.baseUrl}/`).href;
  const fail = (what: string): Error =>
    new Error(
      `shared-atomic: no native library for ${key}: ${what}. Set SHARED_ATOMIC_LIB to the path of a ` +
        `shared-atomic ${o.version} library (${file}), or install the npm package ${PACKAGE_SCOPE}/${key}@${o.version}`,
    );
  if (!PLATFORMS.includes(key)) throw fail(`${key} is not a release platform (${PLATFORMS.join(", ")})`);
  const expected = o.checksumsVersion === o.version ? o.checksums[key] : undefined;
  if (!expected) {
    throw fail(
      `this copy of shared-atomic ${o.version} ships no release checksum to verify a download against ` +
        "(an unreleased checkout: build it with `zig build`)",
    );
  }
  const dir = join(windows, o.cacheDir, o.version, key);
  const dest = join(windows, dir, file);
  if (o.host.isFile(dest)) {
    let bytes: Uint8Array | undefined;
    try {
      bytes = o.files.readFile(dest);
    } catch { /* unreadable: download again */ }
    if (bytes !== undefined && (await sha256(bytes)) === expected) return { path: dest, source: "cache" };
    try {
      o.files.remove(dest);
    } catch { /* the rename below replaces it */ }
  }
  let bytes: Uint8Array;
  try {
    const response = await (o.fetch ?? fetch)(url, {
      redirect: "follow",
      signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
    }
    bytes = await readCapped(response);
  } catch (e) {
    throw fail(`downloading ${url} failed (${(e as Error).message})`);
  }
  const got = await sha256(bytes);
  if (got !== expected) {
    throw fail(
      `the download of ${url} does not match the SHA-256 this package ships ` +
        `(expected ${expected}, got ${got}); it was discarded and nothing was cached`,
    );
  }
  const tmp = `${dest}.${crypto.randomUUID()}.tmp`;
  try {
    o.files.mkdir(dir);
    o.files.writeFile(tmp, bytes);
    o.files.rename(tmp, dest);
  } catch (e) {
    try {
      o.files.remove(tmp);
    } catch { /* never written */ }
    throw fail(`caching the verified download in ${dir} failed (${(e as Error).message}); set SHARED_ATOMIC_CACHE`);
  }
  return { path: dest, source: "download" };
}

async function readCapped(response: Response): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? 0);
  if (declared > MAX_DOWNLOAD) {
    await response.body?.cancel();
    throw new Error(`the response is ${declared} bytes, more than a library can be`);
  }
  if (response.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > MAX_DOWNLOAD) {
      await reader.cancel();
      throw new Error(`the response is more than ${MAX_DOWNLOAD} bytes, more than a library can be`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

// The state of this module instance (one per thread: each Worker looks again).
let explicitPath: string | undefined;
let found: Found | undefined;
let failure: Error | undefined;
let opened = false;

const PACKAGE_ROOT = new URL("../../", import.meta.url);

function notFound(h: LibraryHost, why = ""): Error {
  const key = platformKey(h);
  const file = libraryFile(h.platform);
  const blocked = readBlocked(h);
  if (blocked !== undefined) return blocked;
  const modules = installedIn(h, PACKAGE_ROOT);
  if (modules !== undefined && why === "") {
    // the main package without its platform package: say exactly what to add
    const pkg = `${PACKAGE_SCOPE}/${key}`;
    return new Error(
      `shared-atomic: no native library for ${key}: shared-atomic is installed (in ${modules}) but its platform ` +
        `package ${pkg} is not (its library would be ${likely(h, PACKAGE_ROOT)?.path}). Add it to the same ` +
        `install: from npm, \`npm install ${pkg}@${VERSION}\` (or \`bun add\`, \`deno add npm:${pkg}@${VERSION}\`; ` +
        "package managers install it with shared-atomic as an optional dependency unless told to omit those); from " +
        `tarballs, install shared-atomic-${key}-${VERSION}.tgz together with shared-atomic-${VERSION}.tgz ` +
        "(`npm run packages` in a clone of shared-atomic builds both into zig-out/npm/). Or set SHARED_ATOMIC_LIB " +
        `to the path of a shared-atomic ${VERSION} library (${file})`,
    );
  }
  const denied = h.denied?.();
  return new Error(
    `shared-atomic: no native library for ${key}: SHARED_ATOMIC_LIB is not set, the npm package ` +
      `${PACKAGE_SCOPE}/${key} is not installed, and there is no zig-out build here${why}. Set SHARED_ATOMIC_LIB ` +
      `to the path of a shared-atomic ${VERSION} library (${file}), install shared-atomic from ` +
      "npm (which brings the platform package), or build one with `zig build`" +
      (denied ? ` (${denied})` : ""),
  );
}

/**
 * When the runtime's permissions kept the lookup from reading where the
 * library would be (Deno without --allow-read): an error naming exactly the
 * permission and the file it lets shared-atomic read. Else undefined.
 */
function readBlocked(h: LibraryHost): Error | undefined {
  if (h.readDenied === undefined) return undefined;
  const blocked = candidates(h, PACKAGE_ROOT).filter((c) => h.readDenied!(c.path));
  if (blocked.length === 0) return undefined;
  const where = likely(h, PACKAGE_ROOT) ?? blocked[0];
  // readable where it most likely is, and not there: a missing file, not a missing permission
  if (!h.readDenied(where.path)) return undefined;
  const dir = parent(where.path) ?? where.path;
  const what = where.source === "npm"
    ? `the library file of the platform package ${PACKAGE_SCOPE}/${platformKey(h)}`
    : "the library file of this checkout's zig-out build";
  return new Error(
    `shared-atomic: no native library for ${platformKey(h)}: Deno's permissions do not let shared-atomic read ` +
      `where the library is (it looked for ${where.path}, and ${blocked.length - 1} more places). Run with ` +
      `--allow-read=${dir} (or --allow-read): it lets shared-atomic see ${what}, which --allow-ffi then loads; ` +
      "nothing else is read. (--allow-env=SHARED_ATOMIC_LIB is needed only if you point SHARED_ATOMIC_LIB at a library.)",
  );
}

/** Steps 1–3, synchronously (the Bun entry): records what was found, or why nothing was. */
export function configureLibrary(h: LibraryHost): void {
  found = findLocal({ host: h, packageRoot: PACKAGE_ROOT, explicit: explicitPath });
  failure = found === undefined ? notFound(h) : undefined;
}

/** Steps 1–4 (the Deno entry): never throws; a failure is reported when the library is first needed. */
export async function prepareLibrary(h: LibraryHost): Promise<void> {
  configureLibrary(h);
  if (found !== undefined || h.files === undefined) return;
  // nothing readable: a download could not be checked against the cache either; say which permission is missing
  if (readBlocked(h) !== undefined) return;
  const cacheDir = cacheRoot(h);
  if (cacheDir === undefined) {
    failure = notFound(h, "; nor is there a cache directory to download one into (set SHARED_ATOMIC_CACHE)");
    return;
  }
  try {
    found = await downloadLibrary({
      host: h,
      files: h.files,
      baseUrl: h.env("SHARED_ATOMIC_DOWNLOAD_URL") || DOWNLOAD_URL,
      cacheDir,
      checksums: CHECKSUMS,
      checksumsVersion: CHECKSUMS_VERSION,
      version: VERSION,
    });
    failure = undefined;
  } catch (e) {
    failure = e as Error;
  }
}

/**
 * The path of the native library this thread opens (or would open), and how
 * it was found: see the module documentation for the order. Throws an Error
 * that says how to provide one when there is none.
 *
 * @example
 * ```ts
 * import { libraryPath } from "./mod.ts";
 * console.log(libraryPath()); // e.g. ".../node_modules/@shared-atomic/linux-x64-gnu/libshared_atomic.so"
 * ```
 */
export function libraryPath(): string {
  return locate().path;
}

/** {@linkcode libraryPath} and the step that found it. */
export function locate(): Found {
  if (explicitPath !== undefined) return { path: explicitPath, source: "option" };
  if (found !== undefined) return found;
  if (failure !== undefined) throw failure;
  // no runtime entry ran the lookup (src/ imported directly): this checkout's build
  return {
    path: decodeURIComponent(new URL("zig-out/lib/libshared_atomic.so", PACKAGE_ROOT).pathname),
    source: "zig-out",
  };
}

/** Called by the loader when it opens the library: after that the path is fixed. */
export function markOpened(): void {
  opened = true;
}

/**
 * Uses the library at `path` in this thread (each Worker makes its own
 * choice: set `SHARED_ATOMIC_LIB` to choose for all). Call it before the first
 * atomic is made; afterwards the library is open and this throws.
 *
 * @example
 * ```ts
 * import { setLibraryPath } from "./mod.ts";
 * setLibraryPath("/opt/shared-atomic/libshared_atomic.so");
 * ```
 */
export function setLibraryPath(path: string): void {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`setLibraryPath: path must be a non-empty string; got ${JSON.stringify(path)}`);
  }
  if (opened) {
    throw new Error(`setLibraryPath: the native library is already open (${locate().path}); call it before first use`);
  }
  explicitPath = path;
  failure = undefined;
}
