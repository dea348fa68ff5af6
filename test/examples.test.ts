// Every program in examples/ runs in this runtime (Bun under `bun test`, Deno
// under `deno test`, Node under `node --test`) and prints exactly its
// examples/<name>.out; in Node, but those written for web Workers (Bun's and
// Deno's `new Worker(url, { type: "module" })`), which the other two run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { command, isNode, runtime } from "./helpers/runtime.ts";
import { exec, repo } from "./helpers/packaging_util.ts";

const dir = join(repo, "examples");
// helpers (<name>.worker.ts, <name>.child.ts) are run by their example
const programs = readdirSync(dir).filter((f) => /^[^.]+\.ts$/.test(f)).sort();
const hasPython = spawnSync("python3", ["--version"]).status === 0;
/** Examples that use web Workers (not in Node: there a Worker is a worker_threads Worker). */
const webWorkers = programs.filter((p) => /\bnew Worker\(/.test(readFileSync(join(dir, p), "utf8")));

if (isNode) {
  test("in Node every example runs but the web-Worker ones (channel, mutex, workers), which Bun and Deno run", () => {
    assert.deepEqual(webWorkers, ["channel.ts", "mutex.ts", "workers.ts"]);
  });
}

test("every example has its expected output", () => {
  assert.ok(programs.length >= 5, programs.join());
  for (const p of programs) assert.ok(existsSync(join(dir, p.replace(/\.ts$/, ".out"))), `${p} has a .out file`);
});

for (const program of programs.filter((p) => !isNode || !webWorkers.includes(p))) {
  const needsPython = program === "python.ts";
  test(`examples/${program} prints examples/${program.replace(/\.ts$/, ".out")}`, {
    skip: needsPython && (!hasPython || process.platform !== "linux") ? "needs python3 on Linux" : false,
  }, async () => {
    const [bin, ...argv] = command(runtime, program);
    const r = await exec(bin, argv, {
      cwd: dir,
      env: { ...process.env, NO_COLOR: "1" },
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(join(dir, program.replace(/\.ts$/, ".out")), "utf8"));
  });
}
