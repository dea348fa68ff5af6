// The shared-atomic command (bin/shared-atomic.ts): ls and rm of segments,
// run in this runtime as a user would (bunx / deno run).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { api } from "./helpers/api.ts";
import { command, pid, runtime } from "./helpers/runtime.ts";
import { uniqueName } from "./helpers/names.ts";
import { start } from "./helpers/spawn.ts";

const { SharedMemory } = api;
const script = new URL("../bin/shared-atomic.ts", import.meta.url).pathname;

/** The command as a user runs it (Deno: -A, since it requires --allow-all for anything under /dev). */
function cli(...args: string[]) {
  return start(command(runtime, script, args)).done;
}

test("ls lists this user's segments under a prefix, with their size and the processes mapping them", async () => {
  const prefix = uniqueName();
  const mapped = SharedMemory.create(`${prefix}-mapped`, 4096);
  SharedMemory.create(`${prefix}-left`, 64).close(); // closed: mapped by no one (a killed program's leftover)
  try {
    const { code, stdout, stderr } = await cli("ls", prefix);
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split("\n");
    assert.match(lines[0], /^NAME +BYTES +AGE +MAPPED BY$/);
    const row = (name: string) => lines.find((l) => l.startsWith(`${name} `))?.split(/ +/);
    assert.deepEqual(row(`${prefix}-mapped`)?.slice(1, 2), ["4096"]);
    assert.ok(row(`${prefix}-mapped`)?.[3].split(",").includes(String(pid())), stdout);
    assert.deepEqual(row(`${prefix}-left`)?.slice(1, 2), ["64"]);
    assert.equal(row(`${prefix}-left`)?.[3], "-");
    assert.equal(lines.length, 3, stdout);
  } finally {
    mapped.close();
    for (const n of ["-mapped", "-left"]) if (existsSync(`/dev/shm${prefix}${n}`)) SharedMemory.unlink(prefix + n);
  }
});

test("rm removes names; rm --unused PREFIX removes only the segments no process maps", async () => {
  const prefix = uniqueName();
  const mapped = SharedMemory.create(`${prefix}-mapped`, 64);
  SharedMemory.create(`${prefix}-left`, 64).close();
  SharedMemory.create(`${prefix}-named`, 64).close();
  try {
    let r = await cli("rm", `${prefix}-named`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `removed ${prefix}-named`);
    assert.equal(existsSync(`/dev/shm${prefix}-named`), false);
    r = await cli("rm", "--unused", prefix);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `removed ${prefix}-left`);
    assert.equal(existsSync(`/dev/shm${prefix}-left`), false);
    assert.equal(existsSync(`/dev/shm${prefix}-mapped`), true, "a mapped segment stays");
    // and the name is free again: a create that failed with "already exists" works now
    SharedMemory.create(`${prefix}-left`, 64).close();
    SharedMemory.unlink(`${prefix}-left`);
  } finally {
    mapped.close();
    mapped.unlink();
  }
});

test("bad use: a missing segment, bad names, no command, unknown commands", async () => {
  const missing = uniqueName();
  let r = await cli("rm", missing);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), `shared-atomic rm: ${missing}: no such segment`);
  r = await cli("rm", "a/b");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /"a\/b" is not a segment name/);
  r = await cli("rm", "--unused");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /rm --unused takes one non-empty PREFIX/);
  r = await cli("rm", "--unused", "/");
  assert.equal(r.code, 2);
  r = await cli();
  assert.equal(r.code, 2);
  assert.match(r.stdout, /usage: shared-atomic ls \[PREFIX\]/);
  r = await cli("frobnicate");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
  r = await cli("--help");
  assert.equal(r.code, 0);
});
