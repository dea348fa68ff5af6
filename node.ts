/**
 * shared-atomic for Node (22, 24, 26; no flags): real atomic operations on
 * memory shared between Workers (`worker_threads`) and processes, through
 * the package's Node-API addon (`shared_atomic.node`, beside the native
 * library). Same API as `bun.ts` and `mod.ts`.
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

import "./src/native/node_version.ts";
import { setBackend } from "./src/native/backend.ts";
import { configureLibrary } from "./src/native/locate.ts";
import { processHost } from "./src/native/process_host.ts";
import { extraSymbols } from "./src/native/library.ts";
import { addonOf, loadedAddon, type NodeAddon } from "./src/native/node_addon.ts";

/** The addon; the first use opens the library the usual way (the lookup, the version check, its errors). */
const addon = (): NodeAddon => loadedAddon() ?? (extraSymbols(), loadedAddon()!);

setBackend({
  runtime: "node",
  open(path, symbols) {
    const loaded = addonOf(path);
    const out: Record<string, (...args: unknown[]) => unknown> = {};
    for (const [key, s] of Object.entries(symbols)) out[key] = loaded.symbol(s.name ?? key, s.nonblocking === true);
    return out;
  },
  pointer: (view) => addon().address(view),
  pointerAt: (base, offset) => (base as number) + offset,
  isNull: (p) => p === null || p === 0,
  arrayBuffer: (base, length) => addon().arrayBuffer(base as number, length),
  cstring: (value) => String(value),
  env: (name) => process.env[name],
  os: process.platform === "win32" ? "windows" : process.platform,
  nonblocking: true,
});

// Where the library is (src/locate.ts): SHARED_ATOMIC_LIB, the npm platform package, zig-out; the addon is beside it.
configureLibrary(processHost());

export * from "./src/index.ts";
export { libraryPath, setLibraryPath } from "./src/native/locate.ts";
