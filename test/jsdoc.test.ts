// Every ```ts block of the JSDoc comments of mod.ts, bun.ts and src/** (the
// @example blocks JSR and `deno doc` show) works as written, in the runtime
// running this suite (Bun under `bun test`, Deno under `deno test`):
//
// - each block runs in a child process of this runtime, its import of
//   "./mod.ts" (or "shared-atomic") pointing at the repository entry (bun.ts in
//   Bun, mod.ts in Deno) and other "./…" imports at the repository root, as
//   JSR resolves them; a result written in a comment (`a.load(); // 1`) is
//   asserted (test/docs/results.ts says which comments count);
// - every block, also those marked `// check-only: <reason>` on their first
//   line (they need a Worker script or a second process), is type-checked: by
//   tsc with Bun's types in Bun, by `deno check` in Deno.
//
// The markers are described in test/docs/jsdoc.ts. A failure names the source
// file and line.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { command as runCommand, ENTRIES, runtime } from "./helpers/runtime.ts";
import { type Block, checked, runs, where } from "./docs/blocks.ts";
import { allExamplesWithoutBlock, allJsdocBlocks, jsdocMarkProblems, rewritePackageImports } from "./docs/jsdoc.ts";
import { commentValue, expectComments } from "./docs/results.ts";
import { checkCommand, exec, failure, mapLines, type Result, writeBlock } from "./docs/run.ts";

const repo = decodeURIComponent(new URL("../", import.meta.url).pathname).replace(/\/$/, "");
const entry = join(repo, ENTRIES[runtime]);
/** A block that has not finished by then hangs: it is killed and fails. */
const TIMEOUT_MS = 20_000;
/** Children running at once. */
const WIDTH = Math.min(4, Math.max(2, availableParallelism()));
const blocks = allJsdocBlocks(repo);
const root = mkdtempSync(join(tmpdir(), "sa-jsdoc-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** This runtime's command for a TypeScript file. */
const command = (file: string): string[] =>
  runtime === "deno"
    ? [process.execPath, "run", "-A", "--no-check", "--config", join(repo, "deno.json"), file] // its imports (ioredis)
    : runCommand(runtime, file);

/** A block's code as it runs: imports into the repository, results in comments asserted. */
const runnable = (code: string, entry: string, b: Block): string =>
  expectComments(rewritePackageImports(code, repo, entry), b.doc, b.line).code;

/** A block's code as it is type-checked: as written, imports into the repository. */
const checkable = (code: string, entry: string): string => rewritePackageImports(code, repo, entry);

test("every JSDoc code block of mod.ts, bun.ts and src/ says how CI treats it", () => {
  assert.ok(blocks.length > 0, "no JSDoc code blocks found");
  assert.deepEqual([...jsdocMarkProblems(blocks), ...allExamplesWithoutBlock(repo)], []);
});

test("a comment that starts with a value is checked, prose is not", () => {
  const values: [string, string | undefined][] = [
    [" -128: wraps", "-128"],
    [" 12, now 100", "12"],
    [" 0x00ff", "0x00ff"],
    [" 9223372036854775707n", "9223372036854775707n"],
    [' "running" (6 bytes of UTF-8)', '"running"'],
    [" Uint8Array [1, 2, 3, 4]", "new Uint8Array([1, 2, 3, 4])"],
    [" NaN: it matched, 1 is stored", "NaN"],
    [" Infinity; now the NaN the hardware made", "Infinity"],
    [" 16 zero bytes", undefined],
    [" 2^127-1, now -1n", undefined],
    [' e.g. ".../libshared_atomic.so"', undefined],
    [' "sa1:str8@0:shm:/s-…?id=…"', undefined],
  ];
  for (const [comment, value] of values) assert.equal(commentValue(comment), value, comment);
  const { code, count } = expectComments('const h = a.handle(); // "x"\nif (x) f(); // 1\n', "f.ts", 9);
  assert.equal(count, 1);
  assert.match(code, /^const h = a\.handle\(\); __expect\(h, "x", "f\.ts:10"\); \/\/ "x"\nif \(x\) f\(\); \/\/ 1\n/);
});

// The children run WIDTH at a time, ahead of the tests that wait for them:
// a test starts its own block and the next ones.
const toRun = blocks.filter((b) => runs(b, runtime));
const started = new Map<Block, Promise<{ result: Result; failure: string }>>();
const runBlock = (b: Block) => {
  let p = started.get(b);
  if (p === undefined) {
    const w = writeBlock(b, join(root, "run"), entry, runnable);
    p = exec(command(w.main), w.dir, TIMEOUT_MS).then((result) => ({
      result,
      failure: failure(w, "the example", result, TIMEOUT_MS),
    }));
    started.set(b, p);
  }
  return p;
};

toRun.forEach((block, i) => {
  test(`${where(block)} runs in ${runtime}`, async () => {
    for (const next of toRun.slice(i, i + WIDTH)) runBlock(next);
    const { result, failure } = await runBlock(block);
    assert.ok(result.code === 0 && !result.timedOut, failure);
  });
});

test(`every JSDoc ts block type-checks (${runtime === "deno" ? "deno check" : "tsc, Bun's types"})`, async () => {
  const written = blocks.filter((b) => checked(b, runtime)).map((b) =>
    writeBlock(b, join(root, "check"), entry, checkable)
  );
  assert.ok(written.length > 0, "no ts blocks to check");
  const r = await exec(checkCommand(written.map((w) => w.main), root, repo), root, 120_000);
  assert.ok(r.code === 0 && !r.timedOut, `type check failed (exit ${r.code}):\n${mapLines(r.output, written)}`);
});
