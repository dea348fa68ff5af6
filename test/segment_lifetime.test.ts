// How long a segment's name lives, and the size it is opened with, on every
// system: POSIX keeps a name until unlink; Windows keeps a named mapping
// while some process has it open (docs/windows.md). Run natively (Linux) and
// by Bun for Windows under Wine (.ci/run).
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { uniqueName } from "./helpers/names.ts";

const { AtomicU32, SharedMemory, SharedMemoryExistsError, SharedMemoryNotFoundError } = api;
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const windows = g.Deno ? g.Deno.build.os === "windows" : g.process.platform === "win32";

test("a segment opened by name has the exact size it was created with, not whole pages", () => {
  const name = uniqueName();
  const seg = SharedMemory.create(name, 100);
  const other = SharedMemory.open(name);
  assert.equal(other.byteLength, 100);
  new AtomicU32(seg, 96).store(7);
  assert.equal(new AtomicU32(other, 96).load(), 7);
  assert.throws(() => SharedMemory.open(name, 101), RangeError);
  other.close();
  seg.close();
  SharedMemory.unlink(name);
});

test("a name is taken while its segment is open, everywhere", () => {
  const name = uniqueName();
  const seg = SharedMemory.create(name, 64);
  assert.throws(() => SharedMemory.create(name, 64), SharedMemoryExistsError);
  seg.close();
  SharedMemory.unlink(name);
});

test(`a closed segment's name: ${windows ? "gone with the last open mapping (Windows)" : "kept until unlink (POSIX)"}`, () => {
  const name = uniqueName();
  const seg = SharedMemory.create(name, 64);
  new AtomicU32(seg, 0).store(42);
  seg.close();
  if (windows) {
    assert.throws(() => SharedMemory.open(name), (e: Error) => {
      assert.ok(e instanceof SharedMemoryNotFoundError, String(e));
      assert.match(e.message, /exists only while some process has it open/);
      return true;
    });
    // free again: created anew, zeroed; unlink has nothing to remove, before or after
    SharedMemory.unlink(name);
    const again = SharedMemory.create(name, 64);
    assert.equal(new AtomicU32(again, 0).load(), 0);
    again.close();
    SharedMemory.unlink(name);
  } else {
    const reopened = SharedMemory.open(name);
    assert.equal(new AtomicU32(reopened, 0).load(), 42);
    reopened.close();
    SharedMemory.unlink(name);
    assert.throws(() => SharedMemory.open(name), SharedMemoryNotFoundError);
  }
});

test(`a "\\" in a name: ${windows ? "refused (Windows object names)" : "an ordinary character (POSIX)"}`, () => {
  const name = `${uniqueName()}\\x`;
  if (windows) {
    assert.throws(() => SharedMemory.create(name, 64), (e: Error) => {
      assert.ok(e instanceof RangeError, String(e));
      assert.match(e.message, /SharedMemory\.create: name .*without "\\" on Windows/);
      return true;
    });
  } else {
    const seg = SharedMemory.create(name, 64);
    const other = SharedMemory.open(name);
    assert.equal(other.byteLength, 64);
    other.close();
    seg.close();
    SharedMemory.unlink(name);
  }
});
