//! Wide values, lock-free: 128-bit integers (`i128`, `u128`) and fixed-width
//! byte strings (`bytes1`, `bytes2`, `bytes4`, `bytes8`, `bytes16`).
//!
//! No C type carries 128 bits through every FFI (Bun's and Deno's have none,
//! nor has ctypes), so every value crosses the ABI by pointer:
//!
//!     void sa_<t>_load(T *p, T *out)
//!     void sa_<t>_store(T *p, const T *value)
//!     void sa_<t>_<rmw>(T *p, T *io)           operand in *io; old (fetch_x) or new (x_fetch) value out
//!     bool sa_<t>_compare_exchange(T *p, T *expected, const T *desired)   C11: on failure *expected = current
//!     bool sa_<t>_compare_exchange_weak(...)    the same, may fail spuriously
//!
//! plus `_explicit` forms with a trailing C11 `memory_order` code (orders an
//! operation does not allow fall back to seq_cst, as in `exports.zig`). `p` is
//! naturally aligned (16 for 128-bit); the value pointers need no alignment.
//! A byte string's value is its bytes in memory order, so `bytes<N>` means the
//! same thing on every CPU.
//!
//! Every 16-byte operation is a compare-exchange (`lock cmpxchg16b` on
//! x86_64, LDAXP/STLXP on aarch64), loads included: LLVM lowers some 128-bit
//! atomics to `__atomic_*_16` library calls, which are lock tables private
//! to one process. Where the target has no 16-byte compare-exchange
//! (x86_64 without cx16, 32-bit CPUs) the 16-byte exports do not exist and
//! `sa_wide_lock_free()` returns 0: never a lock.

const std = @import("std");
const builtin = @import("builtin");
/// The ABI helpers (a build of this file alone exports through them: test/wide_native.test.ts).
pub const abi = @import("abi.zig");
const table = @import("table.zig");
const ops = @import("ops.zig");
const AtomicOrder = std.builtin.AtomicOrder;

/// Whether `cpu` has a lock-free 16-byte compare-exchange.
pub fn lockFree128(cpu: std.Target.Cpu) bool {
    return switch (cpu.arch) {
        .x86_64 => cpu.has(.x86, .cx16),
        .aarch64, .aarch64_be => true,
        else => false,
    };
}

/// Whether this build has the 16-byte exports (`i128`, `u128`, `bytes16`).
pub const lock_free: bool = lockFree128(builtin.cpu);

pub const Kind = enum {
    /// Integers: bitwise and arithmetic operations, max/min signed or not.
    int,
    /// Byte strings: bitwise operations only.
    bytes,
};

pub const Type = struct {
    /// Name used in export symbols: `sa_<name>_<op>`.
    name: []const u8,
    /// The integer the bits are handled as.
    T: type,
    kind: Kind,
};

pub const types = [_]Type{
    .{ .name = "i128", .T = i128, .kind = .int },
    .{ .name = "u128", .T = u128, .kind = .int },
    .{ .name = "bytes1", .T = u8, .kind = .bytes },
    .{ .name = "bytes2", .T = u16, .kind = .bytes },
    .{ .name = "bytes4", .T = u32, .kind = .bytes },
    .{ .name = "bytes8", .T = u64, .kind = .bytes },
    .{ .name = "bytes16", .T = u128, .kind = .bytes },
};

/// Whether type `t` is exported by this build.
pub fn available(comptime t: Type) bool {
    return @bitSizeOf(t.T) <= 64 or lock_free;
}

/// The shape of a wide operation's C signature (`T` is the value's integer).
pub const Shape = enum {
    /// `void f(T *p, T *out)`
    load,
    /// `void f(T *p, const T *value)`
    store,
    /// `void f(T *p, T *io)`: operand in, old (or new) value out
    rmw,
    /// `bool f(T *p, T *expected, const T *desired)`: C11 strong compare-exchange
    cmpxchg,
    /// the same, weak (may fail spuriously)
    cmpxchg_weak,
};

/// A wide operation; `new`: write the new value to `*io`, not the old one.
pub const Op = table.OpOf(Kind, Shape);

const all = &[_]Kind{ .int, .bytes };
/// Integers only (add, sub, max, min).
const ints = &[_]Kind{.int};

pub const wide_ops = [_]Op{
    .{ .name = "load", .shape = .load, .kinds = all },
    .{ .name = "store", .shape = .store, .kinds = all },
    .{ .name = "exchange", .shape = .rmw, .rmw = .xchg, .kinds = all },
    .{ .name = "compare_exchange", .shape = .cmpxchg, .kinds = all },
    .{ .name = "compare_exchange_weak", .shape = .cmpxchg_weak, .kinds = all },
} ++ table.rmwPair(Op, "add", .add, ints) ++ table.rmwPair(Op, "sub", .sub, ints) ++
    table.rmwPair(Op, "and", .@"and", all) ++ table.rmwPair(Op, "or", .@"or", all) ++
    table.rmwPair(Op, "xor", .xor, all) ++ table.rmwPair(Op, "nand", .nand, all) ++
    table.rmwPair(Op, "max", .max, ints) ++ table.rmwPair(Op, "min", .min, ints);

/// Atomic operations on a `T` of 8 to 128 bits. Up to 64 bits they are the
/// table's own (`ops.Ops`: one instruction each); at 128 bits every one is a
/// compare-exchange or a loop of them.
pub fn Atomic(comptime T: type) type {
    return struct {
        const word = @bitSizeOf(T) <= 64;
        const O = ops.Ops(T);

        pub inline fn load(p: *T, comptime o: AtomicOrder) T {
            if (word) return O.load(p, o);
            // Compare with 0, "replace" 0 with 0: returns the value either way,
            // and writes only the 0 that is already there.
            return @cmpxchgStrong(T, p, 0, 0, o, o) orelse 0;
        }

        pub inline fn store(p: *T, v: T, comptime o: AtomicOrder) void {
            if (word) return O.store(p, v, o);
            _ = loop(p, .xchg, v, o);
        }

        /// Applies `r`; returns the old value, or the new one when `new`.
        pub inline fn rmw(p: *T, comptime r: table.Rmw, v: T, comptime new: bool, comptime o: AtomicOrder) T {
            if (word) return O.rmw(p, r, v, new, o);
            const old = loop(p, r, v, o);
            return if (new) O.apply(r, old, v) else old;
        }

        /// Strong compare-exchange: null if it stored `desired`, else the current value.
        pub inline fn cmpxchg(p: *T, expected: T, desired: T, comptime o: AtomicOrder) ?T {
            return @cmpxchgStrong(T, p, expected, desired, o, comptime ops.failureOrder(o));
        }

        /// Weak compare-exchange: may fail spuriously.
        pub inline fn cmpxchgWeak(p: *T, expected: T, desired: T, comptime o: AtomicOrder) ?T {
            return @cmpxchgWeak(T, p, expected, desired, o, comptime ops.failureOrder(o));
        }

        /// The compare-exchange loop every 16-byte read-modify-write is.
        inline fn loop(p: *T, comptime r: table.Rmw, v: T, comptime o: AtomicOrder) T {
            var cur = guess(p);
            while (true) {
                cur = @cmpxchgWeak(T, p, cur, O.apply(r, cur, v), o, .monotonic) orelse return cur;
            }
        }

        /// A first guess at the value for a compare-exchange loop: two 8-byte
        /// atomic loads, no lock. A torn guess only costs one failed round.
        inline fn guess(p: *T) T {
            const halves: *[2]u64 = @ptrCast(p);
            const a: u128 = @atomicLoad(u64, &halves[0], .monotonic);
            const b: u128 = @atomicLoad(u64, &halves[1], .monotonic);
            const lo, const hi = if (builtin.cpu.arch.endian() == .little) .{ a, b } else .{ b, a };
            return @bitCast(hi << 64 | lo);
        }
    };
}

/// The C functions for type `t`, operation `op`.
pub fn Fns(comptime t: Type, comptime op: Op) type {
    const T = t.T;
    const A = Atomic(T);
    // The shared value is naturally aligned; a value passed in or out need not be.
    const V = *align(1) T;
    const C = *align(1) const T;
    return struct {
        fn load(p: *T, out: V, comptime o: AtomicOrder) void {
            out.* = A.load(p, o);
        }
        fn store(p: *T, v: C, comptime o: AtomicOrder) void {
            A.store(p, v.*, o);
        }
        fn rmw(p: *T, io: V, comptime o: AtomicOrder) void {
            io.* = A.rmw(p, op.rmw, io.*, op.new, o);
        }
        fn cmpxchg(p: *T, e: V, d: C, comptime o: AtomicOrder) bool {
            const r = if (op.shape == .cmpxchg_weak) A.cmpxchgWeak(p, e.*, d.*, o) else A.cmpxchg(p, e.*, d.*, o);
            if (r) |cur| {
                e.* = cur;
                return false;
            }
            return true;
        }

        /// The parameters' names, for the header.
        pub const params: []const []const u8 = switch (op.shape) {
            .load => &.{ "p", "out" },
            .store => &.{ "p", "value" },
            .rmw => &.{ "p", "io" },
            .cmpxchg, .cmpxchg_weak => &.{ "p", "expected", "desired" },
        };

        pub const seq_cst = switch (op.shape) {
            .load => struct {
                fn f(p: *T, out: V) callconv(.c) void {
                    load(p, out, .seq_cst);
                }
            },
            .store => struct {
                fn f(p: *T, v: C) callconv(.c) void {
                    store(p, v, .seq_cst);
                }
            },
            .rmw => struct {
                fn f(p: *T, io: V) callconv(.c) void {
                    rmw(p, io, .seq_cst);
                }
            },
            .cmpxchg, .cmpxchg_weak => struct {
                fn f(p: *T, e: V, d: C) callconv(.c) bool {
                    return cmpxchg(p, e, d, .seq_cst);
                }
            },
        }.f;

        pub const explicit = switch (op.shape) {
            .load => struct {
                fn f(p: *T, out: V, code: c_int) callconv(.c) void {
                    ops.withOrder(code, ops.loadOrder, load, .{ p, out });
                }
            },
            .store => struct {
                fn f(p: *T, v: C, code: c_int) callconv(.c) void {
                    ops.withOrder(code, ops.storeOrder, store, .{ p, v });
                }
            },
            .rmw => struct {
                fn f(p: *T, io: V, code: c_int) callconv(.c) void {
                    ops.withOrder(code, ops.rmwOrder, rmw, .{ p, io });
                }
            },
            .cmpxchg, .cmpxchg_weak => struct {
                fn f(p: *T, e: V, d: C, code: c_int) callconv(.c) bool {
                    return ops.withOrder(code, ops.rmwOrder, cmpxchg, .{ p, e, d });
                }
            },
        }.f;
    };
}

/// A lock-free 16-byte compare-exchange: what the 16-byte exports need.
pub const lock_free_16: abi.Capability = .{
    .name = "lock_free_16",
    .doc = "only where a 16-byte compare-exchange is lock-free: sa_wide_lock_free() says whether this build has them.",
    .met = lock_free,
};

/// The wide exports, one group per type, in table order (types, then
/// operations, each followed by its `_explicit` form); the 16-byte ones need
/// `lock_free_16`.
pub const groups: []const abi.Group = abi.walk(types, wide_ops, struct {
    pub fn supports(comptime t: Type, comptime op: Op) bool {
        return table.supports(op, t.kind);
    }

    pub fn exports(comptime t: Type, comptime op: Op) []const abi.Export {
        return &abi.ordered("sa_" ++ t.name ++ "_" ++ op.name, Fns(t, op));
    }

    pub fn group(comptime t: Type, comptime list: []const abi.Export) abi.Group {
        const n = std.fmt.comptimePrint("{d}", .{@sizeOf(t.T)});
        const c = if (t.kind == .int) abi.cName(t.T, &.{}) else "uint8_t";
        const doc = switch (t.kind) {
            .int => t.name ++ ": " ++ c ++ ", wrapping arithmetic, by pointer.",
            .bytes => t.name ++ ": " ++ n ++ " bytes in memory order (p aligned to " ++ n ++ "); bitwise operations only.",
        };
        const needs: ?abi.Capability = if (@bitSizeOf(t.T) > 64) lock_free_16 else null;
        return abi.group(t.name, doc, .{ .needs = needs, .c_names = &.{.{ .T = t.T, .name = c }} }, list);
    }
});

/// Every wide export of this build, in table order.
pub const names: []const []const u8 = abi.names(groups);

/// `sa_wide_manifest()`: the wide exports, comma separated.
pub const manifest: [:0]const u8 = abi.manifest(groups);

fn manifestC() callconv(.c) [*:0]const u8 {
    return manifest.ptr;
}

fn lockFreeC() callconv(.c) c_int {
    return @intFromBool(lock_free);
}

/// The hand-written wide functions.
pub const c_exports = abi.group("wide", "wide.zig: Wide values, lock-free: 128-bit integers (i128, u128) and fixed-width byte strings (bytes1, bytes2, bytes4, bytes8, bytes16).", .{}, &.{
    abi.func("sa_wide_manifest", manifestC, &.{}, "The wide exports of this build, comma separated."),
    abi.func("sa_wide_lock_free", lockFreeC, &.{}, "1 if the 16-byte exports exist (lock-free), 0 if this build has none."),
});

// ---- tests -------------------------------------------------------------------

const expect = std.testing.expect;

test "16-byte exports exactly where a lock-free 16-byte compare-exchange exists" {
    const x86 = std.Target.x86.cpu;
    try expect(!lockFree128(x86.x86_64.toCpu(.x86_64))); // no cmpxchg16b
    try expect(lockFree128(x86.x86_64_v2.toCpu(.x86_64)));
    try expect(lockFree128(std.Target.aarch64.cpu.generic.toCpu(.aarch64)));
    try expect(!lockFree128(std.Target.riscv.cpu.generic_rv64.toCpu(.riscv64)));
    try expect(!lockFree128(std.Target.x86.cpu.i686.toCpu(.x86)));
    try expect(lockFreeC() == @intFromBool(lock_free));
}

fn edges(comptime T: type) []const T {
    const max = std.math.maxInt(T);
    const min = std.math.minInt(T);
    return switch (T) {
        u128 => &[_]T{ 0, 1, 5, max >> 64, (max >> 64) + 1, 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210, max - 1, max },
        i128 => &[_]T{ min, min + 1, -(1 << 64), -1, 0, 1, (1 << 64) - 1, 1 << 64, max - 1, max },
        else => &[_]T{ 0, 1, 0x5a, max >> 1, (max >> 1) + 1, max - 1, max },
    };
}

fn checkOp(comptime t: Type, comptime op: Op) !void {
    const T = t.T;
    const F = Fns(t, op);
    const codes = [_]c_int{ 0, 1, 2, 3, 4, 5, 99, -1 };
    for (edges(T)) |a| for (edges(T)) |b| for (codes) |code| {
        var m: T align(@alignOf(T)) = a;
        const explicit = code != -1;
        switch (op.shape) {
            .load => {
                var out: T = b;
                if (explicit) F.explicit(&m, &out, code) else F.seq_cst(&m, &out);
                try expect(out == a and m == a);
            },
            .store => {
                if (explicit) F.explicit(&m, &b, code) else F.seq_cst(&m, &b);
                try expect(m == b);
            },
            .rmw => {
                var io: T = b;
                if (explicit) F.explicit(&m, &io, code) else F.seq_cst(&m, &io);
                const new = ops.Ops(T).apply(op.rmw, a, b);
                try expect(io == if (op.new) new else a);
                try expect(m == new);
            },
            .cmpxchg, .cmpxchg_weak => {
                var e: T = a;
                while (!(if (explicit) F.explicit(&m, &e, &b, code) else F.seq_cst(&m, &e, &b))) {
                    try expect(op.shape == .cmpxchg_weak and e == a); // only a weak one fails here, spuriously
                }
                try expect(m == b and e == a);
                if (a != b) {
                    m = a;
                    e = b;
                    try expect(!(if (explicit) F.explicit(&m, &e, &b, code) else F.seq_cst(&m, &e, &b)));
                    try expect(e == a and m == a);
                }
            },
        }
    };
}

test "every wide export at the edges of its type, seq_cst and every order code" {
    inline for (types) |t| {
        if (comptime available(t)) inline for (wide_ops) |op| {
            if (comptime table.supports(op, t.kind)) try checkOp(t, op);
        };
    }
}

fn find(comptime name: []const u8, comptime op: []const u8) type {
    inline for (types) |t| {
        if (comptime std.mem.eql(u8, t.name, name)) inline for (wide_ops) |o| {
            if (comptime std.mem.eql(u8, o.name, op)) return Fns(t, o);
        };
    }
    @compileError("no such export");
}

test "128-bit wrap-around, signed limits, max/min by signedness, spelled out" {
    if (!lock_free) return error.SkipZigTest;
    var u: u128 = std.math.maxInt(u128);
    var io: u128 = 1;
    find("u128", "fetch_add").seq_cst(&u, &io);
    try expect(io == std.math.maxInt(u128) and u == 0);
    io = 1;
    find("u128", "sub_fetch").seq_cst(&u, &io);
    try expect(io == std.math.maxInt(u128) and u == std.math.maxInt(u128));

    var s: i128 = std.math.minInt(i128);
    var j: i128 = 1;
    find("i128", "sub_fetch").seq_cst(&s, &j);
    try expect(j == std.math.maxInt(i128) and s == std.math.maxInt(i128));
    j = -1;
    find("i128", "fetch_max").seq_cst(&s, &j);
    try expect(s == std.math.maxInt(i128));
    j = -1;
    find("i128", "min_fetch").seq_cst(&s, &j);
    try expect(j == -1 and s == -1);
    // the same bits as u128: -1 is the largest
    var w: u128 = 5;
    var k: u128 = @bitCast(@as(i128, -1));
    find("u128", "max_fetch").seq_cst(&w, &k);
    try expect(w == std.math.maxInt(u128));

    // carry across the 64-bit halves
    var c: u128 = (1 << 64) - 1;
    var one: u128 = 1;
    find("u128", "add_fetch").seq_cst(&c, &one);
    try expect(c == 1 << 64 and one == 1 << 64);
    var n: u128 = 0b1100;
    var mask: u128 = 0b1010;
    find("u128", "fetch_nand").seq_cst(&n, &mask);
    try expect(mask == 0b1100 and n == ~@as(u128, 0b1000));
}

test "a byte string's value is its bytes in memory order" {
    var m: [4]u8 align(4) = .{ 'a', 'b', 0, 0 };
    var out: [4]u8 = undefined;
    find("bytes4", "load").seq_cst(@ptrCast(&m), @ptrCast(&out));
    try expect(std.mem.eql(u8, &out, "ab\x00\x00"));
    const mask: [4]u8 = .{ 0xdf, 0xdf, 0xff, 0xff }; // to upper case
    var io = mask;
    find("bytes4", "and_fetch").seq_cst(@ptrCast(&m), @ptrCast(&io));
    try expect(std.mem.eql(u8, &m, "AB\x00\x00") and std.mem.eql(u8, &io, "AB\x00\x00"));
    // value pointers need no alignment
    var buf: [33]u8 = undefined;
    const e: *align(1) u128 = @ptrCast(&buf[1]);
    const d: *align(1) u128 = @ptrCast(&buf[17]);
    if (lock_free) {
        var v: [16]u8 align(16) = "0123456789abcdef".*;
        e.* = @bitCast(v);
        d.* = @bitCast(@as([16]u8, "fedcba9876543210".*));
        try expect(find("bytes16", "compare_exchange").seq_cst(@ptrCast(&v), e, d));
        try expect(std.mem.eql(u8, &v, "fedcba9876543210"));
    }
}

test "manifest lists every export once, 16-byte ones only when lock-free" {
    var count: usize = 0;
    var it = std.mem.splitScalar(u8, manifest, ',');
    while (it.next()) |n| {
        count += 1;
        if (!lock_free) try expect(std.mem.indexOf(u8, n, "128") == null and std.mem.indexOf(u8, n, "16_") == null);
    }
    try expect(count == names.len);
    try expect(count == if (lock_free) 2 * (2 * 21 + 5 * 13) else 2 * 4 * 13);
}

const Shared = struct {
    value: u128 align(16) = 0,
    seen_torn: bool = false,
    stop: bool = false,
};

fn adder(s: *Shared, n: usize) void {
    var i: usize = 0;
    while (i < n) : (i += 1) {
        var io: u128 = 1;
        find("u128", "fetch_add").seq_cst(&s.value, &io);
    }
}

const pattern_a: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
const pattern_b: u128 = ~pattern_a;

fn writer(s: *Shared, n: usize) void {
    var i: usize = 0;
    while (i < n) : (i += 1) {
        const v = if (i & 1 == 0) pattern_a else pattern_b;
        find("u128", "store").seq_cst(&s.value, &v);
    }
    @atomicStore(bool, &s.stop, true, .seq_cst);
}

fn reader(s: *Shared) void {
    while (!@atomicLoad(bool, &s.stop, .seq_cst)) {
        var v: u128 = undefined;
        find("u128", "load").seq_cst(&s.value, &v);
        if (v != 0 and v != pattern_a and v != pattern_b) s.seen_torn = true;
    }
}

test "threads: fetch_add across the 64-bit boundary is exact; no torn reads" {
    if (!lock_free) return error.SkipZigTest;
    var s: Shared = .{ .value = (1 << 64) - 10 };
    var threads: [4]std.Thread = undefined;
    for (&threads) |*t| t.* = try std.Thread.spawn(.{}, adder, .{ &s, 50_000 });
    for (threads) |t| t.join();
    try expect(s.value == (1 << 64) - 10 + 200_000);

    s = .{};
    const r = try std.Thread.spawn(.{}, reader, .{&s});
    writer(&s, 200_000);
    r.join();
    try expect(!s.seen_torn);
}
