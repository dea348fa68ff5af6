// The runtime running the tests (Bun, Deno or Node) and what differs between
// them, in one place: the script's arguments, the pid, gc, exit, the entry
// file, and how to run a script in each runtime (for child processes). It
// imports no entry, so any child script can use it.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const repo = new URL("../../", import.meta.url);

/** A runtime the package supports. */
export type Runtime = "bun" | "deno" | "node";
export const isBun = "Bun" in globalThis;
export const isDeno = "Deno" in globalThis;
export const isNode = !isBun && !isDeno;
/** The runtime running this script. */
export const runtime: Runtime = isBun ? "bun" : isDeno ? "deno" : "node";
/** Every runtime, this one first. */
export const RUNTIMES: readonly Runtime[] = [
  runtime,
  ...(["bun", "deno", "node"] as const).filter((r) => r !== runtime),
];

/** The package entry of a runtime, relative to the repository root. */
export const ENTRIES: Readonly<Record<Runtime, string>> = { bun: "bun.ts", deno: "mod.ts", node: "node.ts" };

/** The arguments after the script. */
export function scriptArgs(): string[] {
  return isDeno ? g.Deno.args : g.process.argv.slice(2);
}

/** This process's id. */
export function pid(): number {
  return isDeno ? g.Deno.pid : g.process.pid;
}

/** A full garbage collection, where the runtime offers one (Deno and Node need --expose-gc: see `command`). */
export function gc(): void {
  if (isBun) g.Bun.gc(true);
  else g.gc?.();
}

/** The pinned Node versions (scripts/setup.mjs installs them into .tools/node-<version>/); the first runs the full suite. */
export const NODE_VERSIONS: readonly string[] =
  JSON.parse(readFileSync(new URL("scripts/node-versions.json", repo), "utf8")).versions;

/** The Node binary of a pinned version (the full-suite line by default). */
export function nodeBinary(version: string = NODE_VERSIONS[0]): string {
  return fileURLToPath(new URL(`.tools/node-${version}/bin/node`, repo));
}

/** The binary of a runtime: this process's own for this runtime, else the pinned one of the checkout. */
export function binary(r: Runtime): string {
  if (r === runtime) return isDeno ? g.Deno.execPath() : g.process.execPath;
  if (r === "node") return nodeBinary();
  return fileURLToPath(new URL(`node_modules/.bin/${r}`, repo));
}

/** Whether a runtime's binary is there (Node's comes from scripts/setup.mjs). */
export function available(r: Runtime): boolean {
  return r === runtime || existsSync(binary(r));
}

function env(name: string): string | undefined {
  return (isDeno ? g.Deno.env.get(name) : g.process.env[name]) || undefined;
}

/**
 * The library for processes of the host's own runtimes when this runtime is
 * not one of them: SHARED_ATOMIC_TEST_HOST_LIB, set by the emulated suites
 * (scripts/emulation/run.mjs: an x86-64 glibc Deno or Python cannot load an
 * aarch64 or musl library; they join the segment with the x86-64 glibc one).
 */
export function hostLibrary(): string | undefined {
  return env("SHARED_ATOMIC_TEST_HOST_LIB");
}

/**
 * How to start runtime `r` (Node: the pinned `version` when given): its
 * binary, except this runtime when SHARED_ATOMIC_TEST_RUNTIME (a JSON array)
 * says otherwise (the emulated suites: an aarch64 Bun under qemu-user, a musl
 * Bun through musl's loader), and another runtime with {@linkcode hostLibrary}
 * when that is set.
 */
function launcher(r: Runtime, version?: string): string[] {
  const pinned = r === "node" && version !== undefined;
  const own = r === runtime && !pinned;
  const given = own ? env("SHARED_ATOMIC_TEST_RUNTIME") : undefined;
  if (given) return JSON.parse(given);
  const lib = own ? undefined : hostLibrary();
  return [...(lib === undefined ? [] : ["env", `SHARED_ATOMIC_LIB=${lib}`]), pinned ? nodeBinary(version) : binary(r)];
}

/**
 * The command that runs `script` (a path) in runtime `r` with `args`; `gc`
 * exposes a collector; `node` picks a pinned Node line (NODE_VERSIONS).
 */
export function command(
  r: Runtime,
  script: string,
  args: readonly string[] = [],
  opts: { gc?: boolean; node?: string } = {},
): string[] {
  const bin = launcher(r, opts.node);
  if (r === "deno") {
    return [...bin, "run", "-A", "--no-check", ...(opts.gc ? ["--v8-flags=--expose-gc"] : []), script, ...args];
  }
  if (r === "node") return [...bin, ...(opts.gc ? ["--expose-gc"] : []), script, ...args];
  return [...bin, script, ...args];
}

/** Ends this process with `code`. */
export function exit(code: number): never {
  if (isDeno) g.Deno.exit(code);
  else g.process.exit(code);
  throw new Error("unreachable");
}
