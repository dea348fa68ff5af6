// The test seam for child processes (helpers/runtime.ts, helpers/spawn.ts):
// under the emulated suites (SHARED_ATOMIC_TEST_HOST_LIB set) another
// runtime's child and a Python child get the host's library, this runtime's
// child none; a pinned Node line is the one started; a child that cannot
// start fails its test at once (not after a timeout, not in a later test);
// a test's children are killed and waited for when its scope ends.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { command, NODE_VERSIONS, nodeBinary, runtime, RUNTIMES } from "./helpers/runtime.ts";
import { arrived, Children, python, scriptIn } from "./helpers/spawn.ts";
import { libraryPath } from "../src/native/locate.ts";

/** Runs `fn` with SHARED_ATOMIC_TEST_HOST_LIB set to `value` (or unset), then restores it. */
function withHostLib(value: string | undefined, fn: () => void): void {
  const before = process.env.SHARED_ATOMIC_TEST_HOST_LIB;
  const set = (v: string | undefined) => {
    if (v === undefined) delete process.env.SHARED_ATOMIC_TEST_HOST_LIB;
    else process.env.SHARED_ATOMIC_TEST_HOST_LIB = v;
  };
  set(value);
  try {
    fn();
  } finally {
    set(before);
  }
}

test("with a host library given, other runtimes' and Python children load it; this runtime's do not", () => {
  withHostLib("/host/libshared_atomic.so", () => {
    for (const r of RUNTIMES.slice(1)) {
      assert.deepEqual(scriptIn(r, "./child.ts").slice(0, 2), ["env", "SHARED_ATOMIC_LIB=/host/libshared_atomic.so"]);
    }
    assert.ok(!scriptIn(runtime, "./child.ts").some((a) => a.startsWith("SHARED_ATOMIC_LIB=")));
    assert.equal(python("./child.py", "x")[2], "/host/libshared_atomic.so");
    assert.deepEqual(python("./child.py", "x").slice(3), ["x"]);
  });
  withHostLib(undefined, () => {
    for (const r of RUNTIMES) assert.ok(!scriptIn(r, "./child.ts").includes("env"));
    assert.equal(python("./child.py")[2], libraryPath(), "on the host: the library this runtime loaded");
  });
});

test("a pinned Node line is the binary started, with or without a host library", () => {
  for (const v of NODE_VERSIONS) {
    assert.ok(command("node", "probe.ts", ["a"], { node: v }).includes(nodeBinary(v)));
    withHostLib("/host/lib.so", () => {
      const cmd = command("node", "probe.ts", ["a"], { node: v });
      assert.deepEqual(cmd, ["env", "SHARED_ATOMIC_LIB=/host/lib.so", nodeBinary(v), "probe.ts", "a"]);
    });
  }
});

test("a child that cannot start fails arrived() at once with its stderr, not after the timeout", async () => {
  await using kids = new Children();
  const jobs = [kids.run(["sh", "-c", "echo cannot load >&2; exit 3"]), kids.run(["sleep", "600"])];
  const t = performance.now();
  await assert.rejects(arrived(() => false, jobs, 300_000), /exited with 3:\ncannot load/);
  assert.ok(performance.now() - t < 60_000, "long before the timeout");
});

test("children are killed and waited for when their scope ends", async () => {
  let child;
  {
    await using kids = new Children();
    child = kids.start(["sleep", "600"]);
  }
  const t = performance.now();
  assert.equal((await child.done).code, null, "killed by a signal");
  assert.ok(performance.now() - t < 1000, "already waited for");
});
