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

import { dlopen, type FFIFunction, ptr } from "bun:ffi";
import { setBackend } from "./src/backend.ts";
import type { FfiType } from "./src/table.ts";

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
  cstring: (value) => String(value),
  env: (name) => process.env[name],
  libSuffix: process.platform === "darwin" ? "dylib" : process.platform === "win32" ? "dll" : "so",
});

export * from "./src/index.ts";
