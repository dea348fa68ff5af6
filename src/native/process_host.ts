/**
 * The {@linkcode LibraryHost} of the runtimes with Node's `process` and
 * `node:fs` (Bun, Node): where to look for the library comes from
 * `process.platform`, `process.arch`, the C library the runtime runs on,
 * the environment and the working directory.
 *
 * @module
 */

import { statSync } from "node:fs";
import type { LibraryHost } from "./locate.ts";

/** The host of a runtime with Node's `process` and `node:fs` (Bun, Node). */
export function processHost(): LibraryHost {
  return {
    platform: process.platform,
    arch: process.arch,
    libc: () => ((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header
        ?.glibcVersionRuntime
      ? "gnu"
      : "musl"),
    env: (name) => process.env[name],
    cwd: () => process.cwd(),
    isFile(path) {
      try {
        return statSync(path).isFile();
      } catch {
        return false;
      }
    },
  };
}
