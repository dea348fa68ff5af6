// scripts/setup.mjs (what `npm run demo` and `npm test` run first): a step
// with work to do shows progress even under --quiet (what, how long it
// usually takes, still running, how long it took); with everything in place
// it prints nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

const repo = decodeURIComponent(new URL("../", import.meta.url).pathname);

test("a step says what it does, how long it usually takes, that it still runs, and how long it took", () => {
  const script = `
    process.argv.push("--quiet");
    const { step } = await import(${JSON.stringify(`${repo}scripts/setup.mjs`)});
    await step("Installing something big", "about a second", () => new Promise((r) => setTimeout(r, 700)), 200);
  `;
  const r = spawnSync("node", ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines[0], "[setup] Installing something big (usually about a second)…");
  assert.ok(lines.slice(1, -1).length >= 1, r.stderr);
  for (const l of lines.slice(1, -1)) assert.match(l, /^\[setup\] {3}still installing something big: \d+ s$/);
  assert.match(lines.at(-1)!, /^\[setup\] {3}done in \d+ s$/);
});

test("with everything installed and built, setup --quiet prints nothing", () => {
  const r = spawnSync("node", [`${repo}scripts/setup.mjs`, "--quiet"], { encoding: "utf8", cwd: repo });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.equal(r.stdout, "");
});
