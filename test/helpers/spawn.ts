// Child processes of the runtime running the tests: Bun.spawn in Bun,
// Deno.Command in Deno, child_process in Node. Children run
// test/children/child.ts (or any command).
import { fileURLToPath } from "node:url";
import { spawn } from "node:child_process";
import { command, hostLibrary, isBun, isNode, type Runtime, runtime } from "./runtime.ts";
import { libraryPath } from "../../src/native/locate.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

export interface Child {
  readonly pid: number;
  kill(signal: "SIGKILL" | "SIGTERM"): void;
  /** Resolves with the exit code (null if killed by a signal) and the output. */
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

const decoder = new TextDecoder();

/** Starts `cmd` with piped output. */
export function start(cmd: string[], env?: Record<string, string>): Child {
  if (isBun) {
    const p = g.Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", env: { ...g.process.env, ...env } });
    const done = (async () => {
      const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
      await p.exited;
      return { code: p.signalCode ? null : p.exitCode, stdout, stderr };
    })();
    return { pid: p.pid, kill: (s) => p.kill(s), done };
  }
  if (isNode) return nodeStart(cmd, env);
  const p = new g.Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped", env }).spawn();
  const done = (async () => {
    const out = await p.output();
    return {
      code: out.signal ? null : out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  })();
  return { pid: p.pid, kill: (s) => p.kill(s), done };
}

function nodeStart(cmd: string[], env?: Record<string, string>): Child {
  const p = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: { ...g.process.env, ...env } });
  const out: Uint8Array[] = [], err: Uint8Array[] = [];
  p.stdout!.on("data", (c: Uint8Array) => out.push(c));
  p.stderr!.on("data", (c: Uint8Array) => err.push(c));
  const text = (parts: Uint8Array[]) => decoder.decode(g.Buffer.concat(parts));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    p.on("error", reject);
    p.on("close", (code, signal) => resolve({ code: signal ? null : code, stdout: text(out), stderr: text(err) }));
  });
  return { pid: p.pid!, kill: (s) => p.kill(s), done };
}

/**
 * The library for processes of the host's own runtimes (another runtime,
 * Python) when this runtime is not one of them: SHARED_ATOMIC_TEST_HOST_LIB,
 * set by the emulated suites (an x86-64 glibc Deno or Python cannot load an
 * aarch64 or musl library; they join the segment with the x86-64 glibc one).
 */
export { hostLibrary } from "./runtime.ts";

/** The path of a child script (relative to test/children/). */
const childPath = (name: string) => fileURLToPath(new URL(name, new URL("../children/", import.meta.url)));

/** The command that runs test/child.ts in this runtime. */
export function self(...args: string[]): string[] {
  return selfScript("./child.ts", ...args);
}

/** The command that runs a child script (relative to test/children/) in this runtime. */
export function selfScript(name: string, ...args: string[]): string[] {
  return scriptIn(runtime, name, ...args);
}

/**
 * The command that runs a child script (relative to test/children/) in
 * runtime `r`, started as {@linkcode command} says (under the emulated
 * suites: this runtime as it was started, another one with the host's library).
 */
export function scriptIn(r: Runtime, name: string, ...args: string[]): string[] {
  return command(r, childPath(name), args);
}

/** The command that runs test/children/child.ts in runtime `r`. */
export function childIn(r: Runtime, ...args: string[]): string[] {
  return scriptIn(r, "./child.ts", ...args);
}

/**
 * The command that runs a Python child (relative to test/children/; its
 * first argument is the library to load): the host's python3 with the
 * host's library under the emulated suites, else the library this runtime loaded.
 */
export function python(name: string, ...args: string[]): string[] {
  return ["python3", childPath(name), hostLibrary() ?? libraryPath(), ...args];
}

/** The command that runs test/children/child.ts in another runtime (Bun runs Deno's, the others Bun's). */
export function other(...args: string[]): string[] {
  return childIn(isBun ? "deno" : "bun", ...args);
}

/** Runs `cmd`, throwing with its stderr if it fails; returns its stdout. */
export function run(cmd: string[], env?: Record<string, string>): Promise<string> {
  return succeeded(start(cmd, env), cmd);
}

/** `c`'s stdout once it has exited with 0; else throws with its stderr. */
async function succeeded(c: Child, cmd: string[]): Promise<string> {
  const { code, stdout, stderr } = await c.done;
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited with ${code}:\n${stderr}`);
  return stdout;
}

/**
 * The children a test starts, killed (SIGKILL) and waited for when its scope
 * ends (`await using kids = new Children()`), so a failed test leaves none
 * running and none of their results reaches a later test.
 */
export class Children {
  #all: Child[] = [];
  /** Starts `cmd` (see {@linkcode start}). */
  start(cmd: string[], env?: Record<string, string>): Child {
    const c = start(cmd, env);
    this.#all.push(c);
    return c;
  }
  /** Starts `cmd`; its stdout once it has exited with 0 (see {@linkcode run}). */
  run(cmd: string[], env?: Record<string, string>): Promise<string> {
    return succeeded(this.start(cmd, env), cmd);
  }
  async [Symbol.asyncDispose](): Promise<void> {
    for (const c of this.#all) {
      try {
        c.kill("SIGKILL");
      } catch { /* it has exited */ }
    }
    await Promise.allSettled(this.#all.map((c) => c.done));
  }
}

/**
 * Waits until `ready()` (children counted in at a gate), throwing at once the
 * error of the first of `jobs` that fails (a child that could not start) and
 * after `ms` without it.
 */
export async function arrived(ready: () => boolean, jobs: readonly Promise<unknown>[], ms = 120_000): Promise<void> {
  let failure: { error: unknown } | undefined;
  for (const j of jobs) j.catch((error) => (failure ??= { error }));
  const t = performance.now();
  while (!ready()) {
    if (failure) throw failure.error;
    if (performance.now() - t > ms) throw new Error(`the children did not all arrive within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs `commands` with at most `width` at a time; returns their stdouts in order. */
export async function runAll(commands: string[][], width = 16): Promise<string[]> {
  const out: string[] = new Array(commands.length);
  let next = 0;
  const lane = async () => {
    while (next < commands.length) {
      const i = next++;
      out[i] = await run(commands[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, commands.length) }, lane));
  return out;
}
