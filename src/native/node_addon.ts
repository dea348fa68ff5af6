/**
 * Node's way to the library: the Node-API addon `shared_atomic.node`, built
 * by `zig build` beside the library (`zig-out/lib/`, and in each npm platform
 * package) from the same tables as the C exports (`zig/napi_addon.zig`). It
 * is found beside the library the lookup found (`src/native/locate.ts`), or
 * is that path itself when it ends in `.node`.
 *
 * @module
 */

import type { NativeFn } from "./backend.ts";

/** The loaded addon, as this module sees it. */
export interface NodeAddon {
  /** Where it was loaded from. */
  readonly path: string;
  /** The export `name` (a Promise-returning form with `nonblocking`); throws if this build has none. */
  symbol(name: string, nonblocking: boolean): NativeFn;
  /** The address of `view[0]`. */
  address(view: Uint8Array): number;
  /** An ArrayBuffer over `length` bytes at `address` (not owned). */
  arrayBuffer(address: number, length: number): ArrayBuffer;
}

/** What the addon's `napi_register_module_v1` exports. */
interface Raw {
  bind(name: string, nonblocking: boolean): NativeFn | undefined;
  address(view: Uint8Array): number;
  arrayBuffer(address: number, length: number): ArrayBuffer;
  version: string;
}

/** The addon's file name. */
export const ADDON_FILE = "shared_atomic.node";

/** The addon's path for a library path: the path itself if it is an addon, else the addon beside it. */
export function addonPath(library: string): string {
  if (library.endsWith(".node")) return library;
  const cut = Math.max(library.lastIndexOf("/"), library.lastIndexOf("\\"));
  return `${library.slice(0, cut + 1)}${ADDON_FILE}`;
}

let loaded: NodeAddon | undefined;

/** The addon, if it has been loaded. */
export function loadedAddon(): NodeAddon | undefined {
  return loaded;
}

/** Loads the addon for the library at `library` (the one the lookup found), once. */
export function addonOf(library: string): NodeAddon {
  if (loaded !== undefined) return loaded;
  const path = addonPath(library);
  const module = { exports: {} as Raw };
  try {
    process.dlopen(module, path);
  } catch (e) {
    throw new Error(
      `cannot load the Node-API addon ${path} (${(e as Error).message}); it is built by \`zig build\` beside the ` +
        "library and shipped in the platform package",
    );
  }
  const raw = module.exports;
  loaded = {
    path,
    symbol(name, nonblocking) {
      const f = raw.bind(name, nonblocking);
      if (f === undefined) throw new Error(`the addon ${path} (version ${raw.version}) has no export ${name}`);
      return f;
    },
    address: (view) => raw.address(view),
    arrayBuffer: (address, length) => raw.arrayBuffer(address, length),
  };
  return loaded;
}
