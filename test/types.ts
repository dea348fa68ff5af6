// Type-level tests of the classes (issue 15 item 7): never run, checked by
// tsc (tsconfig.bun.json) and `deno check test` in CI. Each
// `// @ts-expect-error` line must be a type error, or the check fails; the
// other lines must type-check. test/types.test.ts checks what an editor's
// hover shows (the class name) through the TypeScript API.
import {
  type AnyAtomic,
  AtomicBytes,
  AtomicI32,
  AtomicI64,
  AtomicU128,
  AtomicU32,
  AtomicU64,
  AtomicU8,
  fromDescriptor,
  fromHandle,
  Mutex,
  Semaphore,
} from "../src/index.ts";

export function distinctClassesAreDistinctTypes(): void {
  const u8 = AtomicU8.create();
  const u32 = AtomicU32.create();
  const i32 = AtomicI32.create();
  const i64 = AtomicI64.create();
  const u64 = AtomicU64.create();
  // @ts-expect-error an AtomicU8 is not an AtomicU32
  const _a: AtomicU32 = u8;
  // @ts-expect-error an AtomicU32 is not an AtomicI32
  const _b: AtomicI32 = u32;
  // @ts-expect-error an AtomicI32 is not an AtomicU8
  const _c: AtomicU8 = i32;
  // @ts-expect-error an AtomicI64 is not an AtomicU64
  const _d: AtomicU64 = i64;
  // @ts-expect-error an AtomicU64 is not an AtomicI64
  const _e: AtomicI64 = u64;
  // @ts-expect-error an AtomicU64 is not an AtomicU128
  const _f: AtomicU128 = u64;
  const _same: AtomicU64 = u64;
  const _type: "u64" = u64.type;
}

export function fromHandleTakesTheClass(h: string): void {
  const _u64: AtomicU64 = fromHandle(h, AtomicU64);
  // @ts-expect-error the class decides the type: an AtomicU64, not an AtomicU32
  const _u32: AtomicU32 = fromHandle(h, AtomicU64);
  const _bytes: AtomicBytes = fromHandle(h, AtomicBytes);
  const _mutex: Mutex = fromHandle(h, Mutex);
  const _sem: Semaphore = fromHandle(h, Semaphore);
  // @ts-expect-error a Mutex is not a Semaphore
  const _wrong: Semaphore = fromHandle(h, Mutex);
  // the type-argument form (deprecated: unchecked at run time) accepts locks too
  const _legacy: Mutex = fromHandle<Mutex>(h);
}

export function withoutTheClassTheTypeTellsWhich(h: string): void {
  const any: AnyAtomic = fromHandle(h);
  // @ts-expect-error not known to be an AtomicU64
  const _u64: AtomicU64 = any;
  if (any.type === "u64") {
    const _narrowed: AtomicU64 = any;
    any.fetchAdd(1n);
  }
  if (any.type === "u128") {
    const _wide: AtomicU128 = any; // not AtomicBytes or AtomicString: their types are "bytesN", "strN"
  }
  if (any.type === "bytes8") {
    const _bytes: AtomicBytes = any;
  }
  const d = AtomicU64.create().descriptor();
  const _fromD: AtomicU64 = fromDescriptor(d, AtomicU64);
  // @ts-expect-error the class decides the type
  const _wrongD: AtomicI64 = fromDescriptor(d, AtomicU64);
}

export function handlesWhereverDescriptorsAre(h: string): void {
  const _a: AtomicU64 = AtomicU64.from(h);
  const _b: AtomicU128 = AtomicU128.from(h);
  const _c: AtomicBytes = AtomicBytes.from(h);
  const _m: Mutex = Mutex.from(h);
  // @ts-expect-error a number is neither a descriptor nor a handle
  AtomicU64.from(42);
}
