// SharedMemory: lifecycle, bad input and security, and that tests leak no
// segment.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api } from "./helpers/api.ts";
import { PREFIX, uniqueName } from "./helpers/names.ts";
import { onWorkers } from "./helpers/workers.ts";

const { AtomicI32, AtomicU64, AtomicF64, SharedMemory, SharedMemoryError } = api;
const { SharedMemoryClosedError, SharedMemoryExistsError, SharedMemoryNotFoundError } = api;
// deno-lint-ignore no-explicit-any
type Any = any;

const dir = mkdtempSync(join(tmpdir(), "sa-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

type ErrorClass = abstract new (...args: never[]) => Error;

function throwsLike(fn: () => unknown, cls: ErrorClass, ...parts: string[]) {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e?.constructor?.name}: ${e?.message}`);
    for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" lacks "${p}"`);
    return true;
  });
}

test("create, open elsewhere, share values, close, unlink", () => {
  const name = uniqueName();
  const seg = SharedMemory.create(name, 4096);
  assert.equal(seg.name, name);
  assert.equal(seg.kind, "shm");
  assert.equal(seg.byteLength, 4096);
  assert.ok(seg.bytes.every((b) => b === 0), "zeroed");
  const a = new AtomicU64(seg, 4088);
  a.store(2n ** 64n - 1n);
  const other = SharedMemory.open(name);
  assert.equal(other.byteLength, 4096);
  assert.equal(new AtomicU64(other, 4088).fetchAdd(1n), 2n ** 64n - 1n);
  assert.equal(a.load(), 0n);
  seg.bytes[0] = 42;
  assert.equal(other.bytes[0], 42);
  assert.equal(SharedMemory.open(name, 100).byteLength, 100);
  seg.close();
  assert.equal(seg.closed, true);
  seg.close(); // idempotent
  assert.equal(new AtomicU64(other, 4088).load(), 0n, "the other mapping lives on");
  other.close();
  seg.unlink();
  throwsLike(() => SharedMemory.open(name), SharedMemoryNotFoundError, "SharedMemory.open", "does not exist");
});

test("using closes the segment at the end of the block", () => {
  const name = uniqueName();
  let kept: { closed: boolean };
  {
    using seg = SharedMemory.create(name, 64);
    kept = seg;
    assert.equal(seg.closed, false);
  }
  assert.equal(kept.closed, true);
  SharedMemory.unlink(name);
});

test("file-backed segments on a path: create, open, handle, unlink; links never followed", () => {
  const path = join(dir, "counters.bin");
  const seg = SharedMemory.create({ path }, 128);
  assert.equal(seg.kind, "file");
  assert.equal(seg.handle().replace(/\?id=\d+\.\d+$/, ""), `sa1:file:${path}`);
  new AtomicF64(seg, 8).store(1.5);
  assert.equal(statSync(path).size, 128);
  const again = SharedMemory.open({ path });
  assert.equal(new AtomicF64(again, 8).load(), 1.5);
  again.close();
  seg.close();
  throwsLike(() => SharedMemory.create({ path }, 8), SharedMemoryExistsError, "already exists");
  const link = join(dir, "link.bin");
  symlinkSync(path, link);
  throwsLike(() => SharedMemory.open({ path: link }), SharedMemoryError, "symbolic link", "never followed");
  throwsLike(() => SharedMemory.create({ path: link }, 8), SharedMemoryExistsError);
  assert.ok(lstatSync(link).isSymbolicLink() && statSync(path).size === 128, "neither file was touched");
  seg.unlink();
  assert.equal(existsSync(path), false);
  SharedMemory.unlink({ path: link });
});

test("created owner-only (0600), whatever the umask", () => {
  const name = uniqueName();
  const seg = SharedMemory.create(name, 64);
  assert.equal(statSync(`/dev/shm${name}`).mode & 0o777, 0o600);
  const path = join(dir, "private.bin");
  const f = SharedMemory.create({ path }, 64);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  f.close();
  f.unlink();
  seg.close();
  seg.unlink();
});

test("bad names", () => {
  const cases: [unknown, ErrorClass, ...string[]][] = [
    ["", RangeError, "SharedMemory.create", "name", "non-empty"],
    ["/", RangeError, "non-empty"],
    ["a/b", RangeError, 'no "/" after an optional leading one'],
    ["/a/b", RangeError, 'no "/"'],
    ["a\0b", RangeError, "NUL"],
    ["x".repeat(256), RangeError, "at most 255 bytes", "this one has 256"],
    ["é".repeat(128), RangeError, "this one has 256"],
    [42, TypeError, "name must be a string"],
    [undefined, TypeError, "name"],
    [{ path: 5 }, TypeError, "path must be a string"],
    [{ path: "" }, RangeError, "path"],
  ];
  for (const [name, cls, ...parts] of cases) throwsLike(() => SharedMemory.create(name as Any, 64), cls, ...parts);
  throwsLike(() => SharedMemory.open("a/b"), RangeError, "SharedMemory.open", "name");
  throwsLike(() => SharedMemory.unlink(""), RangeError, "SharedMemory.unlink", "name");
  throwsLike(() => SharedMemory.unlink(uniqueName()), SharedMemoryNotFoundError, "does not exist");
});

test("bad sizes, and opening larger than the segment", () => {
  const name = uniqueName();
  for (
    const [size, cls, ...parts] of [
      [0, RangeError, "byteLength", "[1, 2^53-1]", "got 0"],
      [-1, RangeError, "got -1"],
      [1.5, RangeError, "got 1.5"],
      [NaN, RangeError, "got NaN"],
      [2 ** 53, RangeError, "got 9007199254740992"],
      ["64", TypeError, "byteLength must be a number"],
      [64n, TypeError, "byteLength must be a number"],
    ] as [unknown, ErrorClass, ...string[]][]
  ) {
    throwsLike(() => SharedMemory.create(name, size as Any), cls, ...parts);
  }
  throwsLike(() => SharedMemory.create(name, 2 ** 50), RangeError, "can back");
  assert.equal(existsSync(`/dev/shm${name}`), false, "a failed create leaves nothing behind");
  const seg = SharedMemory.create(name, 64);
  throwsLike(
    () => SharedMemory.create(name, 64),
    SharedMemoryExistsError,
    "SharedMemory.create",
    "already exists",
    `remove it first: SharedMemory.unlink(${JSON.stringify(name)}) or rm /dev/shm${name}`,
    `bunx shared-atomic rm ${name}`,
    "SharedMemory.openOrCreate",
  );
  throwsLike(() => SharedMemory.open(name, 65), RangeError, "SharedMemory.open", "at most the segment's size, 64");
  throwsLike(() => SharedMemory.open(name, 0), RangeError, "byteLength");
  seg.close();
  seg.unlink();
});

test("atomics over a SharedMemory get the same checks; every use after close() throws", () => {
  const name = uniqueName();
  const seg = SharedMemory.create(name, 64);
  throwsLike(() => new AtomicU64(seg, 4), RangeError, "new AtomicU64", "multiple of 8");
  throwsLike(() => new AtomicU64(seg, 64), RangeError, "[0, 56]");
  throwsLike(() => new AtomicI32(seg, -4), RangeError, "byteOffset");
  const a = new AtomicU64(seg, 8);
  const b = new AtomicI32(seg, 0);
  a.store(7n);
  const bytes = seg.bytes;
  seg.close();
  for (const call of [() => a.load(), () => a.fetchAdd(1), () => a.loadNumber(), () => b.compareAndSet(0, 1)]) {
    throwsLike(call, SharedMemoryClosedError, "closed");
  }
  throwsLike(() => a.update((x: bigint) => x), SharedMemoryClosedError, "AtomicU64.update");
  throwsLike(() => a.handle(), SharedMemoryClosedError);
  throwsLike(() => seg.bytes, SharedMemoryClosedError, "bytes", "closed");
  throwsLike(() => new AtomicU64(seg, 8), SharedMemoryClosedError, "new AtomicU64", "closed");
  assert.equal(bytes.length, 0, "the old bytes view is detached, not dangling");
  assert.equal(bytes[0], undefined);
  assert.ok(a instanceof AtomicU64);
  const again = SharedMemory.open(name);
  assert.equal(new AtomicU64(again, 8).load(), 7n, "closing unmapped only this mapping");
  again.close();
  seg.unlink();
});

test("handles: round trip in one call, malformed or mismatched ones throw", () => {
  const name = uniqueName();
  const seg = SharedMemory.create(name, 64);
  const a = new AtomicU64(seg, 16);
  assert.equal(a.handle().replace(/\?id=\d+\.\d+$/, ""), `sa1:u64@16:shm:${name}`);
  const b = api.fromHandle<typeof a>(a.handle());
  b.fetchAdd(5n);
  assert.equal(a.load(), 5n);
  assert.equal(AtomicU64.fromHandle(a.handle()).load(), 5n);
  throwsLike(() => AtomicI32.fromHandle(a.handle()), TypeError, "AtomicI32.fromHandle", 'type "i32"', "this is u64");
  throwsLike(() => AtomicU64.fromHandle("sa1:u64@12:shm:" + name), RangeError, "multiple of 8");
  throwsLike(() => AtomicU64.fromHandle("sa1:u64@64:shm:" + name), RangeError, "[0, 56]");
  throwsLike(() => AtomicU64.fromHandle("nonsense"), RangeError, "AtomicU64.fromHandle", "handle");
  throwsLike(() => AtomicU64.fromHandle("sa1:u64@-1:shm:/x"), RangeError, "handle");
  throwsLike(() => AtomicU64.fromHandle(5 as Any), TypeError, "handle");
  throwsLike(() => api.fromHandle("sa1:u99@0:shm:/x"), RangeError, "fromHandle");
  throwsLike(() => api.fromHandle("sa1:u64@0:shm:" + uniqueName()), SharedMemoryNotFoundError);
  throwsLike(() => SharedMemory.fromHandle("sa1:tcp:/x"), RangeError, "SharedMemory.fromHandle");
  throwsLike(() => AtomicU64.create().handle(), TypeError, "AtomicU64.handle", "SharedArrayBuffer", "SharedMemory");
  seg.close();
  seg.unlink();
});

test("an atomic in a SharedMemory reaches a Worker through its descriptor", async () => {
  const name = uniqueName();
  const seg = SharedMemory.create(name, 64);
  const a = new AtomicU64(seg, 8);
  a.store(2n ** 63n - 1n);
  const d = a.descriptor();
  assert.equal(d.segment!.replace(/\?id=\d+\.\d+$/, ""), `sa1:shm:${name}`);
  await onWorkers(4, { job: "subFetch", descriptor: d, count: 250 });
  assert.equal(a.load(), 2n ** 63n - 1n - 100_000n);
  seg.close();
  seg.unlink();
});

test("no segment of this run is left behind", () => {
  // runs last in this file; processes.test.ts unlinks in `finally` blocks
  const left = readdirSync("/dev/shm").filter((f) => f.startsWith(PREFIX));
  assert.deepEqual(left, []);
  writeFileSync(join(dir, "done"), "");
});
