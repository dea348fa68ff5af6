// Writing doc blocks to files and running them: each block (with its
// companions) in a directory of its own, its import of "shared-atomic"
// pointing at the repository entry; output that names those files is
// rewritten to name the Markdown file and line instead.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import process from "node:process";
import { type Block, rewriteImports, where } from "./blocks.ts";

/** A block written out: its directory and main file. */
export interface Written {
  readonly block: Block;
  readonly dir: string;
  readonly main: string;
}

/**
 * Writes `block` as `main.ts` (companions beside it) in a new directory under
 * `root`, each file's code passed through `rewrite` (by default: its import of
 * "shared-atomic" pointing at `entry`).
 */
export function writeBlock(
  block: Block,
  root: string,
  entry: string,
  rewrite: (code: string, entry: string, block: Block) => string = rewriteImports,
): Written {
  const slug = `${block.doc.replace(/\W+/g, "_")}_${block.line}`;
  const dir = join(root, slug);
  mkdirSync(dir, { recursive: true });
  const main = join(dir, "main.ts");
  writeFileSync(main, rewrite(block.code, entry, block));
  for (const c of block.companions) writeFileSync(join(dir, c.file!), rewrite(c.code, entry, c));
  return { block, dir, main };
}

/**
 * `text` with every `<dir>/<file>:line[:col]` of a written block (also tsc's
 * `<relative dir>/<file>(line,col)`) turned into `<doc>:<line>[:col]`.
 */
export function mapLines(text: string, written: readonly Written[]): string {
  let out = text;
  for (const w of written) {
    const files = new Map<string, Block>([
      ["main.ts", w.block],
      ...w.block.companions.map((c) => [c.file!, c] as const),
    ]);
    const slug = basename(w.dir).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const at = new RegExp(`(?:file://)?[^\\s:(]*\\b${slug}/([\\w.-]+)(?::(\\d+)|\\((\\d+),(\\d+)\\))`, "g");
    out = out.replace(at, (all, file: string, n?: string, tn?: string, col?: string) => {
      const b = files.get(file);
      if (b === undefined) return all;
      return `${b.doc}:${b.line + Number(n ?? tn)}${col === undefined ? "" : `:${col}`}`;
    });
  }
  return out;
}

export interface Result {
  readonly code: number | null;
  readonly output: string;
  readonly timedOut: boolean;
}

/** Runs `cmd` in `cwd` with its output collected; kills it after `timeoutMs`. */
export function exec(cmd: string[], cwd: string, timeoutMs: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd[0], cmd.slice(1), { cwd, env: { ...process.env, NO_COLOR: "1" }, stdio: "pipe" });
    let output = "";
    let timedOut = false;
    p.stdout.on("data", (d) => (output += d));
    p.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill("SIGKILL");
    }, timeoutMs);
    p.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

/** The failure message of a block that did not run: where it is, why, and its output (lines mapped). */
export function failure(w: Written, what: string, r: Result, timeoutMs: number): string {
  const why = r.timedOut ? `did not finish within ${timeoutMs / 1000} s (killed)` : `exited with ${r.code}`;
  return `${where(w.block)}: ${what} ${why}:\n${mapLines(r.output, [w])}`;
}

/**
 * The command that type-checks `files` in the runtime running it: tsc with the
 * Bun settings of the repository at `repo` (tsconfig.bun.json, Bun's types, which include Node's;
 * its config is written under `root`) in Bun and Node, `deno check` in Deno.
 */
export function checkCommand(files: readonly string[], root: string, repo: string): string[] {
  if ("Deno" in globalThis) return [process.execPath, "check", "-q", "--config", join(repo, "deno.json"), ...files]; // its imports (ioredis)
  const config = join(root, "tsconfig.json");
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(repo, "tsconfig.bun.json"),
      compilerOptions: { typeRoots: [join(repo, "node_modules/@types")] },
      include: [],
      files,
    }),
  );
  return [process.execPath, join(repo, "node_modules/typescript/lib/tsc.js"), "-p", config];
}
