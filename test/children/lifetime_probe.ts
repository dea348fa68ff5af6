// A child process for test/lifetime.test.ts: runs one hostile scenario against
// SharedMemory lifetimes and prints "survived <details>" if the process lives
// through it. A crash (SIGSEGV, SIGBUS) shows as a signal exit in the parent.
//   lifetime_probe.ts <scenario> <segment name prefix>
import { api } from "../helpers/api.ts";
import { exit, gc, isDeno, scriptArgs } from "../helpers/runtime.ts";
const { SharedMemory, SharedMemoryClosedError, AtomicBytes, AtomicString, AtomicI32, AtomicU64, Mutex } = api;
const { Once, Semaphore, RwLock } = api;

const [scenario, prefix] = scriptArgs();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const notes: string[] = [];
let n = 0;
const fresh = (bytes = 4096) => SharedMemory.create(`${prefix}-${n++}`, bytes);

/** After `seg` closed: new segments must not see any write a stale pointer made. */
function checkOthersUntouched(): void {
  const segs = Array.from({ length: 4 }, () => fresh());
  for (const s of segs) {
    if (s.bytes.some((b) => b !== 0)) throw new Error("a new segment was written through a stale pointer");
  }
  for (const s of segs) {
    s.close();
    s.unlink();
  }
}

type Segment = import("../../src/index.ts").SharedMemory;

async function closes(fn: (seg: Segment) => unknown | Promise<unknown>): Promise<void> {
  const seg = fresh();
  seg.unlink();
  try {
    const r = await fn(seg);
    notes.push(`returned ${r instanceof Uint8Array ? `bytes` : String(r)}`);
  } catch (e) {
    notes.push(e instanceof SharedMemoryClosedError ? "closed-error" : `other-error ${(e as Error).message}`);
  }
  if (!seg.closed) {
    notes.push("(not closed)");
    seg.close();
  }
}

const scenarios: Record<string, () => Promise<void> | void> = {
  async "bytes-update"() {
    await closes((seg) =>
      new AtomicBytes(seg, 0, 8).update(() => {
        seg.close();
        return new Uint8Array(8).fill(7);
      })
    );
    checkOthersUntouched();
  },
  async "string-update"() {
    await closes((seg) =>
      new AtomicString(seg, 0, 16).update(() => {
        seg.close();
        return "written";
      })
    );
    checkOthersUntouched();
  },
  async "once-run"() {
    await closes((seg) => new Once(seg, 0).run(() => seg.close()));
    checkOthersUntouched();
  },
  async "bound-method"() {
    await closes((seg) => {
      const c = new AtomicU64(seg, 8);
      const inc = c.fetchAdd.bind(c);
      const load = c.load.bind(c);
      seg.close();
      for (let i = 0; i < 1000; i++) inc(1);
      return load();
    });
    checkOthersUntouched();
  },
  async "proxy-argument"() {
    await closes((seg) => {
      const b = new AtomicBytes(seg, 0, 8);
      const hostile = new Proxy(new Uint8Array(8).fill(9), {
        get(t, k) {
          seg.close();
          const v = Reflect.get(t, k, t);
          return typeof v === "function" ? v.bind(t) : v;
        },
      });
      return b.store(hostile);
    });
    await closes((seg) => {
      const a = new AtomicI32(seg, 0);
      return a.store({ valueOf: () => (seg.close(), 5) } as unknown as number);
    });
    await closes((seg) => {
      const hostile = new Proxy({}, {
        get() {
          seg.close();
          return 1;
        },
      });
      return new Semaphore(seg, 0, hostile as never).tryAcquire(1);
    });
    checkOthersUntouched();
  },
  async "pending-waits"() {
    // every asynchronous wait pending when the segment closes rejects; nothing is left waiting
    const seg = fresh(1 << 16);
    seg.unlink();
    const m = new Mutex(seg, 0);
    const held = m.lock();
    const sem = new Semaphore(seg, 8192, { max: 1, initial: 0 });
    const rw = new RwLock(seg, 16384);
    const w = rw.write();
    const once = new Once(seg, 24576);
    let release!: () => void;
    const running = once.runAsync(() => new Promise<void>((r) => (release = r)));
    const a = new AtomicI32(seg, 32768);
    const pending = [
      m.lockAsync(),
      sem.acquireAsync(1),
      rw.readAsync(),
      a.waitAsync(0),
      once.runAsync(() => {}),
    ];
    await sleep(60);
    seg.close();
    const results = await Promise.allSettled(pending);
    for (const r of results) {
      const ok = r.status === "rejected" && r.reason instanceof SharedMemoryClosedError;
      notes.push(ok ? "closed-error" : `${r.status} ${r.status === "rejected" ? r.reason : r.value}`);
    }
    release();
    await running.catch(() => {});
    void held, w;
    checkOthersUntouched();
  },
  async "using-while-locking"() {
    // a `using` block that ends while a lock is still awaited
    const p = await (async () => {
      using seg = fresh();
      seg.unlink();
      const m = new Mutex(seg, 0);
      m.lock();
      const pending = m.lockAsync();
      await sleep(30);
      return pending;
    })().catch((e) => e);
    const r = await Promise.resolve(p).then((v) => v, (e) => e);
    notes.push(r instanceof SharedMemoryClosedError ? "closed-error" : `got ${r}`);
    checkOthersUntouched();
  },
  async "transfer"() {
    // an ArrayBuffer transferred out of seg.bytes stays harmless after close and after collection
    const seg = fresh();
    seg.unlink();
    seg.bytes[0] = 1;
    const moved = (seg.bytes.buffer as ArrayBuffer & { transfer(): ArrayBuffer }).transfer();
    seg.close();
    notes.push(`closed=${seg.closed}`);
    let other = fresh(1 << 20);
    other.unlink();
    const keep = (other.bytes.buffer as ArrayBuffer & { transfer(): ArrayBuffer }).transfer();
    other = undefined as never;
    for (let i = 0; i < 5; i++) {
      gc();
      await sleep(20);
    }
    const view = new Uint8Array(moved);
    view.fill(0x55);
    const kept = new Uint8Array(keep);
    kept.fill(0x66);
    notes.push(`read ${view[0]} ${kept[kept.length - 1]}`);
    checkOthersUntouched();
  },
  "fake-buffer"() {
    const fake = { [Symbol.toStringTag]: "SharedArrayBuffer", byteLength: 4096 };
    for (const make of [() => new AtomicI32(fake as never, 0), () => new Mutex(fake as never, 0)]) {
      try {
        make();
        notes.push("accepted");
      } catch (e) {
        notes.push(e instanceof TypeError ? "TypeError" : `other ${e}`);
      }
    }
  },
};

const run = scenarios[scenario];
if (!run) throw new Error(`unknown scenario ${scenario}`);
await run();
console.log(`survived ${notes.join(", ")}`);
if (!isDeno) exit(0);
export {};
