/**
 * What a runtime entry (`bun.ts`, `mod.ts`) supplies: how to open the
 * native library and how to turn memory into a pointer. Everything else is
 * runtime-neutral and lives in `src/`.
 *
 * @module
 */

import type { Signature } from "./abi.ts";

/** A native function as the runtime's FFI returns it. */
// deno-lint-ignore no-explicit-any
export type NativeFn = (...args: any[]) => any;

/** An opaque pointer value: a number in Bun, a `Deno.PointerObject` in Deno. */
export type Pointer = unknown;

/** The runtime binding of the library. */
export interface Backend {
  /** "bun" or "deno". */
  readonly runtime: string;
  /** Opens the library at `path` with the given exports. */
  open(path: string, symbols: Record<string, Signature>): Record<string, NativeFn>;
  /** The address of `view[0]` (the view must be over memory that never moves). */
  pointer(view: Uint8Array): Pointer;
  /** `base + offset`. */
  pointerAt(base: Pointer, offset: number): Pointer;
  /** Whether a pointer an export returned is null. */
  isNull(p: Pointer): boolean;
  /** A (non-shared) ArrayBuffer over `length` bytes of native memory at `base`. */
  arrayBuffer(base: Pointer, length: number): ArrayBuffer;
  /** Reads a NUL-terminated string a `cstring` export returned. */
  cstring(value: unknown): string;
  /** An environment variable, or undefined (also when not permitted). */
  env(name: string): string | undefined;
  /** "linux", "darwin", "windows", … */
  readonly os: string;
  /** Whether `open` honours `nonblocking` signatures (Deno): waits then run on the FFI's own threads. */
  readonly nonblocking: boolean;
}

let current: Backend | undefined;

/** Installs the runtime binding; called once by the entry module. */
export function setBackend(b: Backend): void {
  current = b;
}

/** The installed runtime binding. */
export function backend(): Backend {
  if (current === undefined) {
    throw new Error(
      "shared-atomic: no runtime binding; import the package entry (bun.ts in Bun, mod.ts in Deno), not src/",
    );
  }
  return current;
}
