// The code blocks of README.md and docs/*.md, and what their info strings
// ask of CI. A block's info string is its language, then flags:
//
//   ```ts                 run in Bun, Deno and Node, and type-checked
//   ```ts check           type-checked only (it needs a second process, a Worker script, …)
//   ```ts file=child.ts   a companion of the nearest block above it that runs or is checked:
//                         written next to it under that name (a Worker script, a child process)
//   ```ts bun             (or deno, or node) runs and is checked in that runtime only
//   ```ts web-worker      uses the web Worker API (Bun, Deno): runs there; in Node (worker_threads) checked only
//   ```python             run with python3 from the repository root
//   ```sh ignore          not run: the text around it says why (and so for `ts ignore`, `python ignore`)
//   ```text               not code (a directory tree, output)
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One fenced code block. */
export interface Block {
  /** The Markdown file, relative to the repository (e.g. "docs/locks.md"). */
  readonly doc: string;
  /** The 1-based line of the opening fence; the code starts on the next line. */
  readonly line: number;
  readonly lang: string;
  readonly flags: ReadonlySet<string>;
  /** For a companion (`file=NAME`): its file name. */
  readonly file?: string;
  readonly code: string;
  /** For a block that runs or is checked: its companions, in order. */
  readonly companions: Block[];
}

const LANGS = new Set(["ts", "python", "sh", "text"]);
const FLAGS = new Set(["check", "ignore", "bun", "deno", "node", "web-worker"]);

/** Where a block is, as an editor opens it. */
export const where = (b: Block): string => `${b.doc}:${b.line}`;

/** The Markdown files whose blocks CI runs: README.md, the npm package's README and docs/*.md, relative to `repo`. */
export function docFiles(repo: string): string[] {
  const docs = readdirSync(join(repo, "docs")).filter((f) => f.endsWith(".md")).sort();
  return ["README.md", "npm/README.md", ...docs.map((f) => `docs/${f}`)];
}

/** Every fenced block of `text` (the contents of `doc`), companions attached to their block. */
export function parseBlocks(doc: string, text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[j]);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
    }
    const [lang = "", ...words] = info.trim().split(/\s+/).filter(Boolean);
    const file = words.find((w) => w.startsWith("file="))?.slice(5);
    blocks.push({
      doc,
      line: i + 1,
      lang,
      flags: new Set(words.filter((w) => !w.startsWith("file="))),
      file,
      code: body.join("\n") + "\n",
      companions: [],
    });
    i = j;
  }
  let owner: Block | undefined;
  for (const b of blocks) {
    if (b.file !== undefined && owner !== undefined) owner.companions.push(b);
    else if (b.lang === "ts" && b.file === undefined && !b.flags.has("ignore")) owner = b;
  }
  return blocks;
}

/** What is wrong with the marks of `blocks` (unknown languages or flags, orphan companions, …). */
export function markProblems(blocks: readonly Block[]): string[] {
  const problems: string[] = [];
  const owned = new Set(blocks.flatMap((b) => b.companions));
  for (const b of blocks) {
    const at = where(b);
    if (!LANGS.has(b.lang)) problems.push(`${at}: language "${b.lang}" is not one of ${[...LANGS].join(", ")}`);
    for (const f of b.flags) if (!FLAGS.has(f)) problems.push(`${at}: unknown flag "${f}"`);
    if (b.lang === "sh" && !b.flags.has("ignore")) problems.push(`${at}: a sh block must be marked ignore`);
    if (["bun", "deno", "node"].filter((r) => b.flags.has(r)).length > 1) {
      problems.push(`${at}: more than one of bun, deno and node: say the one it needs, or none`);
    }
    if (b.file !== undefined) {
      if (b.lang !== "ts") problems.push(`${at}: only ts blocks can be companions (file=)`);
      if (!/^[\w.-]+\.ts$/.test(b.file)) problems.push(`${at}: file=${b.file} must be a plain *.ts name`);
      if (!owned.has(b)) problems.push(`${at}: companion file=${b.file} follows no block that runs or is checked`);
    }
  }
  return problems;
}

/** Reads and parses every doc file under `repo`. */
export function allBlocks(repo: string): Block[] {
  return docFiles(repo).flatMap((doc) => parseBlocks(doc, readFileSync(join(repo, doc), "utf8")));
}

/** Whether a ts block runs (not only checked) in `runtime`. */
export function runs(b: Block, runtime: string): boolean {
  return b.lang === "ts" && b.file === undefined && !b.flags.has("ignore") && !b.flags.has("check") &&
    inRuntime(b, runtime) && !(b.flags.has("web-worker") && runtime === "node");
}

/** Whether a ts block (with its companions) is type-checked in `runtime`. */
export function checked(b: Block, runtime: string): boolean {
  return b.lang === "ts" && b.file === undefined && !b.flags.has("ignore") && inRuntime(b, runtime);
}

function inRuntime(b: Block, runtime: string): boolean {
  return ["bun", "deno", "node"].every((r) => !b.flags.has(r) || runtime === r);
}

/** `code` with `from "shared-atomic"` (and `import("shared-atomic")`) pointing at `entry`. */
export function rewriteImports(code: string, entry: string): string {
  const valkey = entry.replace(/[^/\\]+$/, "valkey.ts"); // shared-atomic/valkey: the entry's sibling valkey.ts
  return code
    .replace(/(\bfrom\s+|\bimport\s*\(\s*)(["'])shared-atomic\/valkey\2/g, (_, head, q) => `${head}${q}${valkey}${q}`)
    .replace(/(\bfrom\s+|\bimport\s*\(\s*)(["'])shared-atomic\2/g, (_, head, q) => `${head}${q}${entry}${q}`);
}
