// The ```ts code blocks of the JSDoc comments (the @example blocks) of mod.ts,
// bun.ts and src/**, as Blocks (./blocks.ts) that test/jsdoc.test.ts runs and
// type-checks. A block imports the package as JSR documentation shows it,
// `from "./mod.ts"` (or `from "shared-atomic"`); the test points that at the
// repository entry. What CI does with a block is said by its first line:
//
//   (no marker)                     run in Bun and in Deno, and type-checked
//   // check-only: <reason>         type-checked only: it needs what a standalone
//                                   run lacks (a Worker script, a second process, …)
//   // bun-only: <reason>           (or deno-only) runs and is checked in that runtime only
//
// A reason is required, so that a reader of the docs sees why.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Block } from "./blocks.ts";

/** The markers a block's first line may carry, and the flag (of ./blocks.ts) each one sets. */
const MARKERS: Record<string, string> = { "check-only": "check", "bun-only": "bun", "deno-only": "deno" };

/** The source files whose JSDoc blocks CI runs: mod.ts, bun.ts and src/**\/*.ts, relative to `repo`. */
export function sourceFiles(repo: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(repo, dir)).sort().flatMap((name) => {
      const rel = `${dir}/${name}`;
      if (statSync(join(repo, rel)).isDirectory()) return walk(rel);
      return name.endsWith(".ts") ? [rel] : [];
    });
  return ["mod.ts", "bun.ts", ...walk("src")];
}

/** Every fenced block inside the `/** … *\/` comments of `text` (the contents of `file`). */
export function parseJsdocBlocks(file: string, text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let inComment = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!inComment) {
      if (/^\s*\/\*\*(?!\/)/.test(line) && !line.includes("*/")) inComment = true;
      continue;
    }
    if (line.includes("*/")) {
      inComment = false;
      continue;
    }
    const open = /^\s*\*\s*(`{3,})\s*(\S*)\s*(.*)$/.exec(line);
    if (!open) continue;
    const [, fence, lang, rest] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !lines[j].includes("*/"); j++) {
      const stripped = lines[j].replace(/^\s*\* ?/, "");
      if (/^\s*`{3,}\s*$/.test(stripped) && stripped.trim().length >= fence.length) break;
      body.push(stripped);
    }
    blocks.push(makeBlock(file, i + 1, lang, rest, body));
    i = j;
    if (j < lines.length && lines[j].includes("*/")) inComment = false;
  }
  return blocks;
}

function makeBlock(file: string, line: number, lang: string, info: string, body: string[]): Block {
  const flags = new Set(info.split(/\s+/).filter(Boolean));
  const marker = /^\s*\/\/\s*([\w-]+):\s*(.*)$/.exec(body[0] ?? "");
  if (marker && marker[1] in MARKERS) flags.add(MARKERS[marker[1]]);
  return { doc: file, line, lang, flags, code: body.join("\n") + "\n", companions: [] };
}

/** What is wrong with the marks of JSDoc `blocks` (not ts, a marker without a reason, …). */
export function jsdocMarkProblems(blocks: readonly Block[]): string[] {
  const problems: string[] = [];
  for (const b of blocks) {
    const at = `${b.doc}:${b.line}`;
    if (b.lang !== "ts") problems.push(`${at}: a JSDoc code block must be \`\`\`ts (got "${b.lang}")`);
    if (b.flags.has("bun") && b.flags.has("deno")) problems.push(`${at}: both bun and deno: say neither`);
    const first = b.code.split("\n")[0];
    const marker = /^\s*\/\/\s*([\w-]+):\s*(.*)$/.exec(first);
    if (marker && marker[1] in MARKERS && marker[2].trim() === "") {
      problems.push(`${at}: "// ${marker[1]}:" needs a reason after the colon`);
    }
    for (const f of b.flags) {
      if (!Object.values(MARKERS).includes(f)) problems.push(`${at}: unknown flag "${f}" (use a first-line marker)`);
    }
  }
  return problems;
}

/** Each `@example` of `text` (the contents of `file`) that no ```ts block follows before the next tag or the comment's end. */
export function examplesWithoutBlock(file: string, text: string): string[] {
  const lines = text.split("\n");
  const problems: string[] = [];
  lines.forEach((line, i) => {
    if (!/^\s*\*\s*@example\b/.test(line)) return;
    for (let j = i + 1; j < lines.length && !lines[j].includes("*/"); j++) {
      if (/^\s*\*\s*`{3,}ts\b/.test(lines[j])) return;
      if (/^\s*\*\s*@\w/.test(lines[j])) break;
    }
    problems.push(`${file}:${i + 1}: @example without a \`\`\`ts block`);
  });
  return problems;
}

/** The `@example`s under `repo` without a ```ts block (see examplesWithoutBlock). */
export function allExamplesWithoutBlock(repo: string): string[] {
  return sourceFiles(repo).flatMap((f) => examplesWithoutBlock(f, readFileSync(join(repo, f), "utf8")));
}

/** Reads and parses every source file under `repo`. */
export function allJsdocBlocks(repo: string): Block[] {
  return sourceFiles(repo).flatMap((f) => parseJsdocBlocks(f, readFileSync(join(repo, f), "utf8")));
}

/**
 * `code` with its imports pointing into the repository at `repo`: a relative
 * specifier is relative to the package root, as JSR shows it ("./src/errors.ts"),
 * and the package itself ("./mod.ts", "shared-atomic") is `entry`.
 */
export function rewritePackageImports(code: string, repo: string, entry: string): string {
  return code.replace(
    /(\bfrom\s+|\bimport\s*\(\s*)(["'])(\.\/[^"']+|shared-atomic)\2/g,
    (_, head, q, spec: string) => {
      const target = spec === "./mod.ts" || spec === "shared-atomic" ? entry : join(repo, spec);
      return `${head}${q}${target}${q}`;
    },
  );
}
