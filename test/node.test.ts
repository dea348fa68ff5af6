// Node as a runtime, from any runtime: each pinned Node line (22, 24, 26;
// scripts/node-versions.json, installed by scripts/setup.mjs) runs the
// package through its Node-API addon; an older Node gets an error naming the
// supported versions; the addon is generated for every export and resolves
// nothing but Node-API from its host.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { command, NODE_VERSIONS, nodeBinary } from "./helpers/runtime.ts";
import { run } from "./helpers/spawn.ts";
import { nodeVersionError } from "../src/native/node_version.ts";
import { FUNCTIONS, TABLE_EXPORTS, WIDE_EXPORTS } from "../src/native/abi_generated.ts";

const probe = new URL("./children/node_probe.ts", import.meta.url).pathname;
const addon = new URL("../zig-out/lib/shared_atomic.node", import.meta.url).pathname;

for (const version of NODE_VERSIONS) {
  const node = nodeBinary(version);
  const inNode = (...args: string[]) => run(command("node", probe, args, { node: version }));

  test(`Node ${version}: atomics, a worker_threads Worker on a posted descriptor, waitAsync with the loop running, a lock`, async () => {
    assert.equal(execFileSync(node, ["--version"], { encoding: "utf8" }).trim(), `v${version}`);
    assert.deepEqual(JSON.parse(await inNode("smoke")), {
      count: "10000",
      woken: "ok",
      done: "done",
      ticks: true,
      timedOut: "timed-out",
      locked: true,
    });
  });

  test(`Node ${version}: Workers terminated while a waitAsync is pending on the addon's pool end cleanly`, async () => {
    assert.equal((await inNode("terminate")).trim(), "ok");
  });
}

test("the addon binds every export of the generated ABI by name, and only hand-written ones nonblocking", async () => {
  const expected = Object.keys(TABLE_EXPORTS).length + Object.keys(WIDE_EXPORTS).length +
    Object.values(FUNCTIONS).reduce((n, g) => n + Object.keys(g.exports).length, 0);
  const out = JSON.parse(await run(command("node", probe, ["exports"], { node: NODE_VERSIONS[0] })));
  assert.equal(out.count, expected);
  assert.match(out.refused, /bind: only the hand-written exports can be nonblocking/);
});

test("the addon resolves nothing from its host but Node-API, and calls no atomic helper", () => {
  const undef = execFileSync("nm", ["-D", "--undefined-only", addon], { encoding: "utf8" })
    .split("\n").map((l) => l.trim().split(/\s+/).at(-1)!).filter(Boolean);
  const foreign = undef.filter((s) =>
    !/^napi_/.test(s) && !/@/.test(s) && !/^(_ITM_|__gmon_start__|__cxa_finalize)/.test(s)
  );
  assert.deepEqual(foreign, [], "only napi_* (and the C library's versioned symbols)");
  assert.ok(undef.includes("napi_create_threadsafe_function"));
  assert.ok(!undef.some((s) => /atomic|__sync_/.test(s)));
  const exported = execFileSync("nm", ["-D", "--defined-only", addon], { encoding: "utf8" });
  assert.match(exported, / T napi_register_module_v1\n/);
  assert.match(exported, / T node_api_module_get_api_version_v1\n/);
});

test("a Node older than 22 gets an error naming the supported versions", async () => {
  assert.equal(nodeVersionError("22.0.0"), undefined);
  assert.equal(nodeVersionError("26.12.1"), undefined);
  assert.equal(
    nodeVersionError("20.20.2")?.message,
    "shared-atomic: Node 20.20.2 is not supported; the supported versions are Node 22, 24 and 26 (Node 22 or newer)",
  );
  // a real old Node (the machine's own, where it is one), on the module as the npm package ships it (JavaScript)
  let old: string | undefined;
  try {
    const v = execFileSync("node", ["--version"], { encoding: "utf8" }).trim();
    if (Number(v.slice(1).split(".")[0]) < 22) old = v.slice(1);
  } catch { /* no node on PATH */ }
  if (old === undefined) return;
  const dir = mkdtempSync(join(tmpdir(), "sa-node-old-"));
  try {
    // compiled as scripts/pack.mjs compiles it for the npm package
    const { default: ts } = await import(new URL("../node_modules/typescript/lib/typescript.js", import.meta.url).href);
    const source = readFileSync(new URL("../src/native/node_version.ts", import.meta.url), "utf8");
    const js = ts.transpileModule(source, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    });
    writeFileSync(join(dir, "node_version.mjs"), js.outputText);
    let message = "";
    try {
      execFileSync("node", [join(dir, "node_version.mjs")], { encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      message = String((e as { stderr?: string }).stderr);
    }
    assert.match(
      message,
      new RegExp(`Node ${old.replaceAll(".", "\\.")} is not supported; the supported versions are Node 22, 24 and 26`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
