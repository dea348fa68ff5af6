/**
 * shared-atomic for Deno: real atomic operations on memory shared between
 * Workers, through `Deno.dlopen` (run with `--allow-ffi`). Same API as
 * `bun.ts` (the Bun entry).
 *
 * @example
 * ```ts
 * import { AtomicU64 } from "./mod.ts";
 * const counter = AtomicU64.create(2n ** 63n - 1n);
 * counter.subFetch(100n); // 9223372036854775707n
 * ```
 *
 * @module
 */

import { setBackend } from "./src/native/backend.ts";
import { prepareLibrary } from "./src/native/locate.ts";
import type { FfiType } from "./src/native/abi.ts";

const denoType = (t: FfiType): Deno.NativeResultType =>
  t === "ptr" || t === "cstring" ? "pointer" : t as Deno.NativeResultType;

setBackend({
  runtime: "deno",
  open(path, symbols) {
    const defs: Record<string, Deno.ForeignFunction> = {};
    for (const [name, s] of Object.entries(symbols)) {
      defs[name] = {
        name: s.name,
        parameters: s.args.map(denoType) as Deno.NativeType[],
        result: denoType(s.returns),
        nonblocking: s.nonblocking,
      };
    }
    return Deno.dlopen(path, defs).symbols as Record<string, (...a: unknown[]) => unknown>;
  },
  pointer: (view) => Deno.UnsafePointer.of(view),
  pointerAt: (base, offset) => Deno.UnsafePointer.offset(base as Deno.PointerObject, offset),
  isNull: (p) => p === null,
  arrayBuffer: (base, length) => Deno.UnsafePointerView.getArrayBuffer(base as Deno.PointerObject, length),
  cstring: (value) => Deno.UnsafePointerView.getCString(value as Deno.PointerObject),
  env(name) {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined;
    }
  },
  os: Deno.build.os,
  nonblocking: true,
});

// Where the library is (src/locate.ts): SHARED_ATOMIC_LIB, the npm platform package, zig-out, else a
// verified download into a per-version cache. Looking never prompts: only what is already permitted is read.
const granted = (d: Deno.PermissionDescriptor): boolean => {
  try {
    return Deno.permissions.querySync(d).state === "granted";
  } catch {
    return false;
  }
};
await prepareLibrary({
  platform: Deno.build.os === "windows" ? "win32" : Deno.build.os,
  arch: Deno.build.arch === "x86_64" ? "x64" : Deno.build.arch === "aarch64" ? "arm64" : Deno.build.arch,
  libc: () => Deno.build.env,
  env: (name) => (granted({ name: "env", variable: name }) ? Deno.env.get(name) : undefined),
  cwd: () => (granted({ name: "read" }) ? Deno.cwd() : undefined),
  isFile(path) {
    try {
      return granted({ name: "read", path }) && Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  },
  files: {
    readFile: (path) => Deno.readFileSync(path),
    mkdir: (dir) => Deno.mkdirSync(dir, { recursive: true }),
    writeFile: (path, data) => Deno.writeFileSync(path, data, { mode: 0o644 }),
    rename: (from, to) => Deno.renameSync(from, to),
    remove: (path) => Deno.removeSync(path),
  },
  denied: () =>
    granted({ name: "env", variable: "SHARED_ATOMIC_LIB" })
      ? undefined
      : "without --allow-env=SHARED_ATOMIC_LIB, Deno did not let it read that variable",
  readDenied: (path) => !granted({ name: "read", path }),
});

export * from "./src/index.ts";
export { libraryPath, setLibraryPath } from "./src/native/locate.ts";
