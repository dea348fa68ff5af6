/**
 * shared-atomic for Bun: real atomic operations on memory shared between
 * Workers, through `bun:ffi`. Same API as `mod.ts` (the Deno entry).
 *
 * @example
 * ```ts
 * import { AtomicU64 } from "shared-atomic";
 * const counter = AtomicU64.create(2n ** 63n - 1n);
 * counter.subFetch(100n); // 9223372036854775707n
 * ```
 *
 * @module
 */

import { dlopen, type FFIFunction, ptr, toArrayBuffer } from "bun:ffi";
import { setBackend } from "./src/native/backend.ts";
import { configureLibrary } from "./src/native/locate.ts";
import { processHost } from "./src/native/process_host.ts";
import type { FfiType } from "./src/native/abi.ts";

const bunType = (t: FfiType): string => t;

setBackend({
  runtime: "bun",
  open(path, symbols) {
    const defs: Record<string, FFIFunction> = {};
    for (const [name, s] of Object.entries(symbols)) {
      defs[name] = { args: s.args.map(bunType), returns: bunType(s.returns) } as FFIFunction;
    }
    return dlopen(path, defs).symbols;
  },
  pointer: (view) => ptr(view),
  pointerAt: (base, offset) => (base as number) + offset,
  isNull: (p) => p === null || p === 0,
  arrayBuffer: (base, length) => toArrayBuffer(base as Parameters<typeof toArrayBuffer>[0], 0, length),
  cstring: (value) => String(value),
  env: (name) => process.env[name],
  os: process.platform === "win32" ? "windows" : process.platform,
  nonblocking: false,
});

// Where the library is (src/locate.ts): SHARED_ATOMIC_LIB, the npm platform package, zig-out.
configureLibrary(processHost());

export * from "./src/index.ts";
export { libraryPath, setLibraryPath } from "./src/native/locate.ts";
