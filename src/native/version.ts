/**
 * The package version; `test/version.test.ts` checks it equals package.json,
 * deno.json and build.zig.zon, and the native library's `sa_version()`.
 *
 * @module
 */

/** This package's version; the native library must report the same. */
export const VERSION = "0.1.0";
