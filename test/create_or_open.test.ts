// Create-or-open without a race (SharedMemory.openOrCreate, and open waiting
// for a creator to size the segment), and the removal of names at exit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { api } from "./helpers/api.ts";
import { uniqueName } from "./helpers/names.ts";
import { run, selfScript, start } from "./helpers/spawn.ts";

const { AtomicU32, AtomicU64, SharedMemory, SharedMemoryError } = api;
// deno-lint-ignore no-explicit-any
type Any = any;

test("openOrCreate: the first call creates, the next ones open the same segment", () => {
  const name = uniqueName();
  const a = SharedMemory.openOrCreate(name, 64);
  assert.equal(a.created, true);
  new AtomicU64(a, 8).store(41n);
  const b = SharedMemory.openOrCreate(name, 64);
  assert.equal(b.created, false);
  assert.equal(new AtomicU64(b, 8).addFetch(1n), 42n);
  const smaller = SharedMemory.openOrCreate(name, 16);
  assert.equal(smaller.byteLength, 16, "a larger segment is mapped to byteLength");
  assert.throws(
    () => SharedMemory.openOrCreate(name, 128),
    /SharedMemory.openOrCreate: byteLength .*at most the segment's size, 64/,
  );
  assert.equal(SharedMemory.open(name).created, false);
  for (const s of [a, b, smaller]) s.close();
  a.unlink();
});

test("openOrCreate: bad input names the method and the parameter", () => {
  assert.throws(() => SharedMemory.openOrCreate(uniqueName(), 0), /SharedMemory.openOrCreate: byteLength/);
  assert.throws(() => SharedMemory.openOrCreate("a/b", 8), /SharedMemory.openOrCreate: name/);
  assert.throws(
    () => SharedMemory.openOrCreate(uniqueName(), 8, { unlinkOnExit: 1 } as Any),
    /SharedMemory.openOrCreate: options.unlinkOnExit must be a boolean; got 1/,
  );
  assert.throws(
    () => SharedMemory.create(uniqueName(), 8, null as Any),
    /SharedMemory.create: options must be an object/,
  );
});

test("open waits for a creator that has not sized the segment yet; a creator that never does is EAGAIN", async () => {
  // an empty object under the name: what an opener sees between a creator's shm_open and its sizing
  const name = uniqueName();
  const path = `/dev/shm${name}`;
  const { openSync, closeSync, ftruncateSync, unlinkSync } = await import("node:fs");
  const fd = openSync(path, "wx", 0o600);
  try {
    // open blocks this thread while it waits: another process sizes the object
    const sizer = start(["sh", "-c", `sleep 0.2; truncate -s 256 ${path}`]);
    const t0 = Date.now();
    const seg = SharedMemory.open(name);
    assert.equal(seg.byteLength, 256, "the opener waited for the size");
    assert.ok(Date.now() - t0 < 2000);
    seg.close();
    await sizer.done;
    ftruncateSync(fd, 0);
    assert.throws(() => SharedMemory.open(name), (e: Error) => {
      assert.ok(e instanceof SharedMemoryError);
      assert.equal((e as InstanceType<typeof SharedMemoryError>).code, "EAGAIN");
      assert.match(e.message, /still empty after 2000 ms: its creator did not size it/);
      assert.ok(e.message.includes(`SharedMemory.unlink("${name}")`), e.message);
      return true;
    });
  } finally {
    closeSync(fd);
    unlinkSync(path);
  }
});

test("create-or-open races between two processes: 10,000 rounds, no failure, exactly one creator each", async () => {
  const control = SharedMemory.create(uniqueName(), 64);
  const prefix = `${uniqueName()}-race-`;
  const rounds = 10_000;
  try {
    const kids = [0, 1].map((me) =>
      run(selfScript("./create_race.ts", control.handle(), String(me), String(rounds), prefix))
    );
    const outs = (await Promise.all(kids)).map((o) => JSON.parse(o.trim()) as { created: number; errors: string[] });
    assert.deepEqual(outs.flatMap((o) => o.errors), []);
    assert.equal(outs[0].created + outs[1].created, rounds, "each segment created exactly once");
    assert.equal(new AtomicU32(control, 0).load(), 0x7fffffff);
  } finally {
    control.close();
    control.unlink();
  }
  const bare = prefix.slice(1);
  assert.deepEqual(readdirSync("/dev/shm").filter((f) => f.startsWith(bare)), [], "the second of each pair removed it");
});

for (const how of ["exit", "SIGINT", "SIGTERM"] as const) {
  test(`unlinkOnExit: the name is removed at ${how === "exit" ? "a normal exit" : how}`, async () => {
    const kept = uniqueName();
    const removed = uniqueName();
    const child = start(selfScript("./exit_cleanup_child.ts", removed, kept, how));
    const { code, stdout } = await child.done;
    try {
      assert.match(stdout, /ready/);
      if (how === "exit") assert.equal(code, 0);
      else assert.equal(code, how === "SIGINT" ? 130 : 143, "exits as the signal would have (128 + its number)");
      assert.equal(existsSync(`/dev/shm${removed}`), false, "the unlinkOnExit segment is gone");
      assert.equal(existsSync(`/dev/shm${kept}`), true, "a segment without the option stays");
    } finally {
      SharedMemory.unlink(kept);
    }
  });
}

test("unlinkOnExit leaves a name alone that was re-created since (another segment now)", async () => {
  const name = uniqueName();
  const { code, stdout } = await start(selfScript("./exit_cleanup_child.ts", name, "", "recreate")).done;
  assert.equal(code, 0, stdout);
  assert.equal(existsSync(`/dev/shm${name}`), true, "the re-created segment stays");
  SharedMemory.unlink(name);
});
