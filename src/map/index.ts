/**
 * SharedMap: a concurrent hash map in shared memory, across Workers,
 * processes and languages.
 *
 * @module
 */

export { type IterateOptions, SharedMap } from "./shared_map.ts";
export type { SetOptions, SharedMapOptions } from "./options.ts";
export type { MapBytes } from "./scratch.ts";
