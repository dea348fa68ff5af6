/**
 * The package version: `build.zig.zon`'s, which `zig build gen` writes into
 * `abi_generated.ts`; `test/symbols.test.ts` checks it equals package.json's
 * and deno.json's, and the native library's `sa_version()`.
 *
 * @module
 */

export { VERSION } from "./abi_generated.ts";
