// Every program in examples/ runs in this runtime (Bun under `bun test`, Deno
// under `deno test`) and prints exactly its examples/<name>.out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { isBun } from "./helpers/api.ts";
import { exec, repo } from "./helpers/packaging_util.ts";

const dir = join(repo, "examples");
// helpers (<name>.worker.ts, <name>.child.ts) are run by their example
const programs = readdirSync(dir).filter((f) => /^[^.]+\.ts$/.test(f)).sort();
const hasPython = spawnSync("python3", ["--version"]).status === 0;

test("every example has its expected output", () => {
  assert.ok(programs.length >= 5, programs.join());
  for (const p of programs) assert.ok(existsSync(join(dir, p.replace(/\.ts$/, ".out"))), `${p} has a .out file`);
});

for (const program of programs) {
  const needsPython = program === "python.ts";
  test(`examples/${program} prints examples/${program.replace(/\.ts$/, ".out")}`, {
    skip: needsPython && (!hasPython || process.platform !== "linux") ? "needs python3 on Linux" : false,
  }, async () => {
    const argv = isBun ? [program] : ["run", "-A", "--no-check", program];
    const r = await exec(process.execPath, argv, {
      cwd: dir,
      env: { ...process.env, NO_COLOR: "1" },
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(join(dir, program.replace(/\.ts$/, ".out")), "utf8"));
  });
}
