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

import { setBackend } from "./src/backend.ts";
import type { FfiType } from "./src/table.ts";

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

export * from "./src/index.ts";
