// Which Bun test files run on the emulated platforms (scripts/emulation/run.mjs),
// and which tests in them do not, with the reason. .ci/run runs these on every
// commit; the time budget is in docs/platforms.md.
//
// TO ADD A SUITE: put its test file in AARCH64_GNU (and AARCH64_MUSL if it is
// cheap under qemu); X64_MUSL takes every library suite already (only the
// files in NOT_ON_MUSL_HOSTS stay out). Anything in it that takes a lock needs
// its test name in NEEDS_ROBUST_LIST. The channel and map suites (channel*,
// map*) stay out of the aarch64 lists: every Channel and SharedMap is built on
// a robust lock word, so under qemu-user each of their tests fails with
// "set_robust_list: errno 38" (tried on linux-arm64-gnu: 29 of 29 failed).

/** Per-test timeout under emulation: a guard against hangs (qemu-user is 5-30x slower than native, more on a loaded machine). */
export const TIMEOUT_MS = 600_000;

/**
 * Tests that cannot run under qemu-user: the locks (Mutex, RwLock, Semaphore,
 * Once and what is built on them) register the thread's robust futex list to
 * notice a holder that dies, and qemu-user does not implement
 * set_robust_list (it returns ENOSYS, as its source says: the guest's list is
 * not a list the host kernel can walk), so the locks refuse to start, by
 * design. They run natively on linux-arm64 hosted runners
 * (.github/workflows/ci.yml) and on linux-x64-musl here.
 */
export const NEEDS_ROBUST_LIST = [
  "waitAsync and lockAsync are cancelled by an AbortSignal",
  "terminating a Worker whose waitAsync and lockAsync are pending, then waking them, crashes nothing",
  "Mutex across 4 Workers: 100,000 plain increments each end exact",
  "Mutex across 4 processes: 100,000 plain increments each end exact",
  "Mutex: SIGKILL of the holder process: the next locker gets the lock and the owner-died signal within a second",
  "Mutex: guards, using, tryLock timeouts on time, unlocking what you do not hold throws",
  "two async tasks of one thread take turns on a Mutex",
  "RwLock across 4 Workers: a writer never overlaps a reader or a writer",
  "RwLock: readers share, a writer excludes, a waiting writer holds off new readers",
  "Semaphore under 8 Workers never lets more than its count in",
  "Semaphore: counts, timeouts, never above max",
  "Once with 8 Workers and 4 processes runs its initialiser exactly once",
  "Once: a throwing initialiser lets the next caller run it",
  "primitives in a SharedMemory: handles, and every use after close() throws",
  "bad input: offsets, alignment, sizes, counts, timeouts, kinds",
  "async lock forms without a timeout are typed non-null; timed ones may be null (checked by deno check and tsc)",
  "every async wait checks its timeout and signal alike: named errors, an aborted signal's reason, nothing taken",
];

/**
 * Tests too slow under qemu-user for every commit: 100 emulated Bun processes
 * take 130-300 s (the same subFetch path runs in the 20-process race, in
 * ops.test.ts and in the Zig seed tests).
 */
export const TOO_SLOW_UNDER_QEMU = [
  "the seed's scenario on 100 processes: 10,000 subFetch(100n) from 2^63-1 end at exactly 2^63-1-1,000,000",
];

/** aarch64 glibc under qemu: atomics at their edges, wide values, Workers, wait/notify, processes. */
export const AARCH64_GNU = [
  "./test/emulated/platform.test.ts",
  "./test/ops.test.ts",
  "./test/wide_ops.test.ts",
  "./test/wide_native.test.ts",
  "./test/wide_concurrency.test.ts",
  "./test/workers.test.ts",
  "./test/sync.test.ts",
  "./test/processes.test.ts",
  "./test/shared_memory.test.ts",
];

/** aarch64 musl under qemu: a smaller set (what differs from glibc is libc: shm, threads, dlopen). */
export const AARCH64_MUSL = [
  "./test/emulated/platform.test.ts",
  "./test/ops.test.ts",
  "./test/wide_ops.test.ts",
  "./test/sync.test.ts",
  "./test/processes.test.ts",
  "./test/shared_memory.test.ts",
  "./test/errors.test.ts",
];

/**
 * Test files that check this checkout's documentation, packaging and download
 * machinery with the host's own tools (tsc, zig, npm, a loopback registry) and
 * start `process.execPath` directly: they are not about the platform.
 */
export const NOT_ON_MUSL_HOSTS = [
  "./test/docs.test.ts",
  "./test/jsdoc.test.ts",
  "./test/examples.test.ts",
  "./test/download.test.ts",
  "./test/packaging.test.ts",
];

/** The test files under test/ (top level), as `./test/<name>.test.ts`. */
async function allTestFiles() {
  const { readdirSync } = await import("node:fs");
  const dir = new URL("..", import.meta.url);
  return readdirSync(dir).filter((f) => f.endsWith(".test.ts")).sort().map((f) => `./test/${f}`);
}

/** x64 musl (native speed, musl's loader): every library suite, every test. */
export const X64_MUSL = [
  "./test/emulated/platform.test.ts",
  ...(await allTestFiles()).filter((f) => !NOT_ON_MUSL_HOSTS.includes(f)),
];

/** Per platform key: the files, and the test names left out (with the lists above as the reasons). */
export const SUBSETS = {
  "linux-arm64-gnu": { files: AARCH64_GNU, exclude: [...NEEDS_ROBUST_LIST, ...TOO_SLOW_UNDER_QEMU] },
  "linux-arm64-musl": { files: AARCH64_MUSL, exclude: [...NEEDS_ROBUST_LIST, ...TOO_SLOW_UNDER_QEMU] },
  "linux-x64-musl": { files: X64_MUSL, exclude: [] },
};
