// Every code block of README.md and docs/*.md works as written, in the
// runtime running this suite (Bun under `bun test`, Deno under `deno test`):
// each ```ts block runs in a child process of this runtime with its
// `from "shared-atomic"` pointing at the repository entry (bun.ts, mod.ts),
// and every ts block (also `ts check` ones, which need a second process or a
// Worker script they do not run) is type-checked: by tsc with Bun's types in
// Bun, by `deno check` in Deno; ```python blocks run with python3. The
// flags are described in test/docs/blocks.ts. A failure names the Markdown
// file and line.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { command as runCommand, ENTRIES, runtime } from "./helpers/runtime.ts";
import { allBlocks, type Block, checked, markProblems, runs, where } from "./docs/blocks.ts";
import { checkCommand, exec, failure, mapLines, writeBlock, type Written } from "./docs/run.ts";

const repo = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");
const entry = join(repo, ENTRIES[runtime]);
const TIMEOUT_MS = 60_000;
const blocks = allBlocks(repo);
const root = mkdtempSync(join(tmpdir(), "sa-docs-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** This runtime's command for a TypeScript file. */
const command = (file: string): string[] =>
  runtime === "deno"
    ? [process.execPath, "run", "-A", "--no-check", "--config", join(repo, "deno.json"), file] // its imports (ioredis)
    : runCommand(runtime, file);

test("every code block of README.md and docs/ says how CI treats it", () => {
  assert.ok(blocks.length > 0, "no code blocks found");
  assert.deepEqual(markProblems(blocks), []);
});

for (const block of blocks.filter((b) => runs(b, runtime))) {
  const companions = block.companions.map((c) => ` + ${c.file}`).join("");
  test(`${where(block)} runs in ${runtime}${companions}`, async () => {
    const w = writeBlock(block, join(root, "run"), entry);
    const r = await exec(command(w.main), w.dir, TIMEOUT_MS);
    assert.ok(r.code === 0 && !r.timedOut, failure(w, "the block", r, TIMEOUT_MS));
  });
}

test(`every ts block type-checks (${runtime === "deno" ? "deno check" : "tsc, Bun's types"})`, async () => {
  const written = blocks.filter((b) => checked(b, runtime)).map((b) => writeBlock(b, join(root, "check"), entry));
  assert.ok(written.length > 0, "no ts blocks to check");
  const files = written.flatMap((w) => [w.main, ...w.block.companions.map((c) => join(w.dir, c.file!))]);
  const r = await exec(checkCommand(files, root, repo), root, 120_000);
  assert.ok(r.code === 0 && !r.timedOut, `type check failed (exit ${r.code}):\n${mapLines(r.output, written)}`);
});

const hasPython = spawnSync("python3", ["--version"]).status === 0;
for (const block of blocks.filter((b: Block) => b.lang === "python" && !b.flags.has("ignore"))) {
  test(`${where(block)} runs in python3`, { skip: hasPython ? false : "no python3" }, async () => {
    const file = join(root, `${block.doc.replace(/\W+/g, "_")}_${block.line}.py`);
    writeFileSync(file, block.code);
    const r = await exec(["python3", file], repo, TIMEOUT_MS);
    // a traceback's `File "<file>", line N` names the Markdown line instead
    const output = r.output.replace(
      /File "([^"]+)", line (\d+)/g,
      (all, f: string, n: string) => f === file ? `File "${block.doc}", line ${block.line + Number(n)}` : all,
    );
    const w: Written = { block, dir: root, main: file };
    assert.ok(r.code === 0 && !r.timedOut, failure(w, "the block", { ...r, output }, TIMEOUT_MS));
  });
}
