// Memory lifetime and the segment's trust boundary (issue 9, items 1–4, 7,
// 15, 17, 18): a pointer never outlives its mapping, memory is recognised by
// what it is, a segment's backing is reserved at creation, descriptors name
// one segment, links and foreign files are refused. Scenarios that could
// crash run in a child process (test/children/lifetime_probe.ts), so the suite sees a
// crash as a signal instead of dying.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, runtime } from "./helpers/api.ts";
import { command } from "./helpers/runtime.ts";
import { uniqueName } from "./helpers/names.ts";
import { run, selfScript, start } from "./helpers/spawn.ts";

const { AtomicI32, AtomicU64, SharedMemory, SharedMemoryError, SharedMemoryNotFoundError } = api;

const dir = mkdtempSync(join(tmpdir(), "sa-life-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function probe(scenario: string): Promise<string> {
  // with a collector exposed for gc() (Deno: --v8-flags=--expose-gc, Node: --expose-gc)
  const script = new URL("./children/lifetime_probe.ts", import.meta.url).pathname;
  const cmd = command(runtime, script, [scenario, uniqueName()], { gc: true });
  const { code, stdout, stderr } = await start(cmd).done;
  assert.equal(code, 0, `${scenario}: the probe died (exit ${code}):\n${stderr}`);
  const line = stdout.trim().split("\n").pop() ?? "";
  assert.match(line, /^survived/, `${scenario}: ${stdout}\n${stderr}`);
  return line;
}

test("a segment closed inside an update callback: no write through a stale pointer", async () => {
  for (const s of ["bytes-update", "string-update"]) {
    const out = await probe(s);
    assert.match(out, /closed-error/, `${s}: update must end with SharedMemoryClosedError (${out})`);
  }
});

test("Once.run closing its own segment", async () => {
  await probe("once-run");
});

test("a method bound before close, and a Proxy argument that closes the segment", async () => {
  const bound = await probe("bound-method");
  assert.doesNotMatch(bound, /other-error/);
  // each call either ran (on the inert memory), threw SharedMemoryClosedError, or refused the argument with an
  // error naming the method and parameter
  const proxy = await probe("proxy-argument");
  assert.doesNotMatch(proxy, /other-error (?![\w ]+\.\w+: \w+)/, proxy);
});

test("every pending async wait rejects with SharedMemoryClosedError when its segment closes", async () => {
  const out = await probe("pending-waits");
  assert.equal(out, `survived ${Array(5).fill("closed-error").join(", ")}`);
});

test("a `using` block that ends while a lock is awaited", async () => {
  assert.equal(await probe("using-while-locking"), "survived closed-error");
});

test("an ArrayBuffer transferred out of seg.bytes does not outlive the mapping's safety", async () => {
  const out = await probe("transfer");
  assert.match(out, /^survived closed=true, read 85 102$/);
});

test("an object that merely claims to be a SharedArrayBuffer is refused", async () => {
  assert.equal(await probe("fake-buffer"), "survived TypeError, TypeError");
  const fake = { [Symbol.toStringTag]: "SharedArrayBuffer", byteLength: 64 };
  assert.throws(() => new AtomicI32(fake as never), (e: Error) => e instanceof TypeError && /memory/.test(e.message));
  // a real typed array whose own properties lie about its buffer
  const liar = new Int32Array(new SharedArrayBuffer(8));
  Object.defineProperty(liar, "buffer", { value: new SharedArrayBuffer(1 << 20) });
  Object.defineProperty(liar, "byteLength", { value: 1 << 20 });
  assert.throws(() => new AtomicI32(liar, 1 << 16), RangeError);
  const p = new Proxy(new SharedArrayBuffer(8), {});
  assert.throws(() => new AtomicI32(p as never), TypeError);
});

test("a segment too large for its file system is a RangeError up front, not SIGBUS later", () => {
  const name = uniqueName();
  assert.throws(
    () => SharedMemory.create(name, 2 ** 46),
    (e: Error) => e instanceof RangeError && /can back \((ENOSPC|EFBIG|ENOMEM)\)/.test(e.message),
  );
  assert.throws(() => SharedMemory.open(name), SharedMemoryNotFoundError, "nothing left behind");
});

test("16 MiB on a 1 MiB tmpfs: RangeError at create (private mount namespace)", async () => {
  const mnt = join(dir, "small");
  mkdirSync(mnt);
  const script = selfScript("./lifetime_small_fs.ts", join(mnt, "seg.bin"));
  const sh = `mount -t tmpfs -o size=1m sa-test ${mnt} && exec ${script.map((a) => `'${a}'`).join(" ")}`;
  const out = await run(["unshare", "--mount", "--propagation", "private", "sh", "-c", sh]);
  assert.equal(out.trim(), "RangeError: created nothing; 512 KiB worked");
});

test('names "." and ".." are refused', () => {
  for (const name of [".", "..", "/.", "/.."]) {
    assert.throws(() => SharedMemory.create(name, 8), (e: Error) => e instanceof RangeError && /"\."/.test(e.message));
  }
});

test("a handle or descriptor names one segment: a re-created name is refused, not silently mapped", () => {
  const name = uniqueName();
  const seg = SharedMemory.create(name, 64);
  const a = new AtomicU64(seg, 8);
  const h = a.handle();
  assert.match(h, /^sa1:u64@8:shm:\/.+\?id=\d+\.\d+$/);
  const d = a.descriptor();
  assert.equal(api.fromHandle<typeof a>(h).load(), 0n, "the same segment opens");
  seg.close();
  seg.unlink();
  const again = SharedMemory.create(name, 64);
  assert.throws(
    () => api.fromHandle(h),
    (e: Error) => e instanceof SharedMemoryNotFoundError && /created again/.test(e.message),
  );
  assert.throws(() => api.fromDescriptor(d), SharedMemoryNotFoundError);
  // a handle without the identity (written by hand, by C or Python) still opens by name
  assert.equal(api.fromHandle<typeof a>(`sa1:u64@8:shm:${name}`).load(), 0n);
  again.close();
  again.unlink();
});

test("a symbolic link in any component of a path is refused", () => {
  const real = join(dir, "real");
  mkdirSync(real);
  const link = join(dir, "link");
  symlinkSync(real, link);
  for (const path of [join(link, "seg.bin")]) {
    assert.throws(
      () => SharedMemory.create({ path }, 64),
      (e: Error) => e instanceof SharedMemoryError && /link/.test(e.message),
    );
  }
  writeFileSync(join(real, "exists.bin"), new Uint8Array(64));
  chmodSync(join(real, "exists.bin"), 0o600);
  assert.throws(() => SharedMemory.open({ path: join(link, "exists.bin") }), SharedMemoryError);
  assert.equal(SharedMemory.open({ path: join(real, "exists.bin") }).byteLength, 64, "the real path opens");
});

test("open maps only the user's own private segments unless told otherwise", () => {
  const path = join(dir, "shared.bin");
  writeFileSync(path, new Uint8Array(64));
  chmodSync(path, 0o644);
  assert.throws(
    () => SharedMemory.open({ path }),
    (e: Error) => e instanceof SharedMemoryError && /ownerOnly: false/.test(e.message) && /other users/.test(e.message),
  );
  assert.throws(() => api.fromHandle(`sa1:u8@0:file:${path}`), SharedMemoryError);
  assert.throws(() => SharedMemory.open({ path: "/etc/hostname" }), SharedMemoryError);
  assert.throws(() => api.fromHandle("sa1:u8@0:file:/etc/hostname"), SharedMemoryError);
  const relaxed = SharedMemory.open({ path }, undefined, { ownerOnly: false });
  assert.equal(relaxed.byteLength, 64);
  relaxed.close();
  assert.throws(() => SharedMemory.open({ path }, undefined, { ownerOnly: "no" as never }), TypeError);
});

test("a thousand pending async waits are all served by a bounded number of threads", async () => {
  const threads = () => Number(/Threads:\s+(\d+)/.exec(procStatus())![1]);
  const before = threads();
  const cells = Array.from({ length: 1000 }, () => AtomicI32.create(0));
  const waits = cells.map((c) => c.waitAsync(0, 60_000));
  await new Promise((r) => setTimeout(r, 300));
  const during = threads();
  for (const c of cells) {
    c.store(1);
    c.notify();
  }
  const results = await Promise.all(waits);
  assert.ok(results.every((r) => r === "ok"), "every wait was served");
  assert.ok(during - before < 120, `${during - before} threads for 1000 waits (${runtime})`);
});

function procStatus(): string {
  return readFileSync("/proc/self/status", "utf8");
}
