/**
 * SHA-256 checksums of the release libraries, which the Deno entry checks a
 * downloaded library against (`src/locate.ts`). Written by
 * `node scripts/release.mjs` from the `zig build dist` artefacts it uploads;
 * empty in an unreleased checkout, where nothing is downloaded.
 *
 * @module
 */

/** The version these checksums belong to ("" when there are none). */
export const CHECKSUMS_VERSION: string = "";

/** SHA-256 (lowercase hex) of each platform's release library, by platform key (`linux-x64-gnu`, …). */
export const CHECKSUMS: Readonly<Record<string, string>> = {};
