/**
 * The TypeScript half of the one table (`zig/table.zig` is the other): the
 * value types, the operations each kind supports, and the C signatures that
 * follow. `test/symbols.test.ts` checks this against the library's
 * `sa_manifest()`, so the two cannot drift.
 *
 * @module
 */

/** The kind of a value type: which operations it has. */
export type Kind = "int" | "float" | "bool";

/** Names of the value types, as they appear in export symbols. */
export type TypeName =
  | "i8"
  | "u8"
  | "i16"
  | "u16"
  | "i32"
  | "u32"
  | "i64"
  | "u64"
  | "isize"
  | "usize"
  | "f32"
  | "f64"
  | "bool";

/** One value type of the table. */
export interface TypeInfo {
  readonly name: TypeName;
  readonly kind: Kind;
  /** Width and natural alignment in bytes. */
  readonly bytes: number;
  readonly signed: boolean;
  /** 64-bit integers: `_f64` variants exist for the number path. */
  readonly numberPath: boolean;
  /** Whether the TypeScript API has a class for it. */
  readonly bound: boolean;
}

function type(
  name: TypeName,
  kind: Kind,
  bytes: number,
  signed: boolean,
  bound = true,
): TypeInfo {
  return { name, kind, bytes, signed, numberPath: kind === "int" && bytes === 8 && bound, bound };
}

/** Every value type, in the Zig table's order. */
export const TYPES: readonly TypeInfo[] = [
  type("i8", "int", 1, true),
  type("u8", "int", 1, false),
  type("i16", "int", 2, true),
  type("u16", "int", 2, false),
  type("i32", "int", 4, true),
  type("u32", "int", 4, false),
  type("i64", "int", 8, true),
  type("u64", "int", 8, false),
  // pointer-sized: exported for C callers; JavaScript uses i64/u64 (or i32/u32)
  type("isize", "int", 8, true, false),
  type("usize", "int", 8, false, false),
  type("f32", "float", 4, true),
  type("f64", "float", 8, true),
  type("bool", "bool", 1, false),
];

/** The shape of an operation's C signature. */
export type Shape = "load" | "store" | "rmw" | "cmpxchg" | "cas" | "cas_weak";

/** One operation of the table. */
export interface OpInfo {
  /** Name in export symbols, e.g. `fetch_add`. */
  readonly name: string;
  /** Method name in TypeScript, e.g. `fetchAdd` (empty: C only). */
  readonly method: string;
  readonly shape: Shape;
  readonly kinds: readonly Kind[];
}

const ALL: readonly Kind[] = ["int", "float", "bool"];
const ARITH: readonly Kind[] = ["int", "float"];
const BITS: readonly Kind[] = ["int", "bool"];

function rmwPair(name: string, kinds: readonly Kind[]): OpInfo[] {
  const cap = name[0].toUpperCase() + name.slice(1);
  return [
    { name: `fetch_${name}`, method: `fetch${cap}`, shape: "rmw", kinds },
    { name: `${name}_fetch`, method: `${name}Fetch`, shape: "rmw", kinds },
  ];
}

/** Every operation, in the Zig table's order. */
export const OPS: readonly OpInfo[] = [
  { name: "load", method: "load", shape: "load", kinds: ALL },
  { name: "store", method: "store", shape: "store", kinds: ALL },
  { name: "exchange", method: "exchange", shape: "rmw", kinds: ALL },
  { name: "compare_exchange", method: "compareExchange", shape: "cmpxchg", kinds: ALL },
  { name: "compare_and_set", method: "compareAndSet", shape: "cas", kinds: ALL },
  // C11-style weak CAS (bool result, expected by pointer): for C callers
  { name: "compare_exchange_weak", method: "", shape: "cas_weak", kinds: ALL },
  ...rmwPair("add", ARITH),
  ...rmwPair("sub", ARITH),
  ...rmwPair("and", BITS),
  ...rmwPair("or", BITS),
  ...rmwPair("xor", BITS),
  ...rmwPair("nand", BITS),
  ...rmwPair("max", ARITH),
  ...rmwPair("min", ARITH),
];

/** A C type as the FFI layers see it. */
export type FfiType =
  | "ptr"
  | "i8"
  | "u8"
  | "i16"
  | "u16"
  | "i32"
  | "u32"
  | "i64"
  | "u64"
  | "f32"
  | "f64"
  | "bool"
  | "void"
  | "cstring";

/** The C signature of one export. */
export interface Signature {
  readonly args: readonly FfiType[];
  readonly returns: FfiType;
  /** The export's name, when the key differs (e.g. a nonblocking binding of the same function). */
  readonly name?: string;
  /** Deno: run on a separate thread and return a Promise. */
  readonly nonblocking?: boolean;
}

/** The C type a value of `t` crosses the FFI as (pointer-sized as 64-bit). */
export function ffiValue(t: TypeInfo): FfiType {
  if (t.name === "isize") return "i64";
  if (t.name === "usize") return "u64";
  return t.name as FfiType;
}

/** The signature of an op on value type `v`, with or without an order code. */
export function signature(shape: Shape, v: FfiType, explicit: boolean): Signature {
  const order: FfiType[] = explicit ? ["i32"] : [];
  switch (shape) {
    case "load":
      return { args: ["ptr", ...order], returns: v };
    case "store":
      return { args: ["ptr", v, ...order], returns: "void" };
    case "rmw":
      return { args: ["ptr", v, ...order], returns: v };
    case "cmpxchg":
      return { args: ["ptr", v, v, ...order], returns: v };
    case "cas":
      return { args: ["ptr", v, v, ...order], returns: "bool" };
    case "cas_weak":
      return { args: ["ptr", "ptr", v, ...order], returns: "bool" };
  }
}

/** Every `sa_*` atomic export with its signature, in the library's order. */
export function exportTable(): Map<string, Signature> {
  const out = new Map<string, Signature>();
  for (const t of TYPES) {
    for (const op of OPS) {
      if (!op.kinds.includes(t.kind)) continue;
      const base = `sa_${t.name}_${op.name}`;
      out.set(base, signature(op.shape, ffiValue(t), false));
      out.set(`${base}_explicit`, signature(op.shape, ffiValue(t), true));
      if (t.numberPath && op.shape !== "cas_weak") {
        out.set(`${base}_f64`, signature(op.shape, "f64", false));
        out.set(`${base}_f64_explicit`, signature(op.shape, "f64", true));
      }
    }
  }
  return out;
}

/** Exports besides the atomic table. */
export const EXTRA_SYMBOLS: Readonly<Record<string, Signature>> = {
  sa_manifest: { args: [], returns: "cstring" },
  sa_version: { args: [], returns: "cstring" },
};

/** The shared-memory exports (`zig/shm.zig`; absent on Windows). */
export const SHM_SYMBOLS: Readonly<Record<string, Signature>> = {
  sa_shm_open_fd: { args: ["ptr", "i32", "i32"], returns: "i32" },
  sa_shm_fd_size: { args: ["i32"], returns: "f64" },
  sa_shm_fd_truncate: { args: ["i32", "f64"], returns: "i32" },
  sa_shm_map: { args: ["i32", "f64"], returns: "ptr" },
  sa_shm_map_error: { args: [], returns: "i32" },
  sa_shm_unmap: { args: ["ptr", "f64"], returns: "i32" },
  sa_shm_close_fd: { args: ["i32"], returns: "i32" },
  sa_shm_remove: { args: ["ptr", "i32"], returns: "i32" },
  sa_shm_fd_check: { args: ["i32"], returns: "i32" },
  sa_shm_fd_reserve: { args: ["i32", "f64"], returns: "i32" },
  sa_shm_fd_identity: { args: ["i32", "ptr"], returns: "i32" },
  sa_shm_retire: { args: ["ptr", "f64"], returns: "i32" },
};

/** Waiting on an address (`zig/wait.zig`; Linux and macOS). */
export const WAIT_SYMBOLS: Readonly<Record<string, Signature>> = {
  sa_wait32: { args: ["ptr", "u32", "f64"], returns: "i32" },
  sa_wake32: { args: ["ptr", "i32"], returns: "i32" },
  sa_thread_id: { args: [], returns: "i32" },
  sa_thread_alive: { args: ["i32"], returns: "i32" },
};

/** Deno's nonblocking binding of `sa_wait32` (a Promise; runs on another thread). */
export const WAIT_NONBLOCKING: Readonly<Record<string, Signature>> = {
  sa_wait32_nonblocking: { name: "sa_wait32", args: ["ptr", "u32", "f64"], returns: "i32", nonblocking: true },
};

/**
 * Robust lock words and the Semaphore's bookkeeping (`zig/robust.zig`; Linux
 * and macOS): the locks' owner words, which the kernel marks when their owner
 * dies (the robust-futex list).
 */
export const ROBUST_SYMBOLS: Readonly<Record<string, Signature>> = {
  sa_robust_init: { args: [], returns: "i32" },
  sa_robust_tid: { args: [], returns: "i32" },
  sa_robust_cas: { args: ["ptr", "u32", "u32"], returns: "i32" },
  sa_robust_context: { args: [], returns: "ptr" },
  sa_robust_cas_at: { args: ["ptr", "ptr", "u32", "u32"], returns: "i32" },
  sa_robust_lock_at: { args: ["ptr", "ptr"], returns: "i32" },
  sa_robust_unlock_at: { args: ["ptr", "ptr"], returns: "i32" },
  sa_robust_owned: { args: ["ptr"], returns: "i32" },
  sa_robust_gone: { args: ["u32"], returns: "i32" },
  sa_robust_abandon: { args: ["ptr"], returns: "i32" },
  sa_robust_claim: { args: ["ptr", "u32", "u32", "u32"], returns: "i32" },
  sa_robust_busy: { args: ["ptr", "u32", "u32", "u32"], returns: "i32" },
  sa_sem_acquire: { args: ["ptr", "u32", "ptr"], returns: "i32" },
  sa_sem_release: { args: ["ptr", "u32", "ptr"], returns: "i32" },
  sa_sem_held: { args: ["ptr"], returns: "i32" },
};
