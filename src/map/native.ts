/**
 * The SharedMap's native exports (`zig/map.zig`, `sa_map_*`), opened once
 * per thread on first use, and their result codes.
 *
 * @module
 */

import type { NativeFn } from "../native/backend.ts";
import { openGroup } from "../native/library.ts";
import { FUNCTIONS } from "../native/abi_generated.ts";

/** Result codes of the `sa_map_*` exports besides a length or a boolean (zig/map.zig). */
export const ABSENT = -1;
export const FULL = -2;
export const NOT_COUNTER = -3;
export const CORRUPT = -4;
export const TOO_SMALL = -7;
/** The writers' lock held by one live owner for over 2 s without letting go (zig/map.zig's STUCK_MS). */
export const STUCK = -8;

/** The tag word of an initialised map ("SMAP"; zig/map.zig's TAG). */
export const MAP_TAG = 0x534d4150;
/** The size of a map's header: tag, configuration, counters, journal and the writers' robust lock. */
export const HEADER_BYTES = 128;
/** Byte offset of the configuration's check word (zig/map.zig's `seal`). */
export const SEAL_OFFSET = 84;

/** The most entries, key bytes and value bytes a map can have (zig/map.zig). */
export const MAX_CAPACITY = 2 ** 26;
export const MAX_KEY = 4096;
export const MAX_VALUE = 2 ** 20;

/** The exports, keyed by their name without `sa_map_`. */
export interface MapNative {
  readonly bytes: NativeFn;
  readonly seal: NativeFn;
  readonly get: NativeFn;
  readonly get_at: NativeFn;
  readonly set: NativeFn;
  readonly cas: NativeFn;
  readonly delete: NativeFn;
  readonly add: NativeFn;
  readonly add_f64: NativeFn;
  readonly clear: NativeFn;
  readonly size: NativeFn;
  readonly snapshot: NativeFn;
}

let native: MapNative | undefined;

/** The `sa_map_*` exports (after the library's version check). */
export function mapNative(): MapNative {
  if (native !== undefined) return native;
  const s = openGroup("map", FUNCTIONS.map.exports);
  const byName: Record<string, NativeFn> = {};
  for (const [name, fn] of Object.entries(s)) byName[name.slice("sa_map_".length)] = fn;
  return (native = byName as unknown as MapNative);
}
