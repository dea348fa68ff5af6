//! The seed package's C ABI (../shared/SEED-ABI.md): the flat functions of
//! Python's `shared_atomic` 2.1.6, under their old names and C signatures, so
//! programs written against it keep working with this library. Generated at
//! comptime from one table (C types × operation groups); every function is
//! sequentially consistent.
//!
//! The functions that take values through pointers (`store`, `shift`,
//! `compare_and_set`) copy and compare the object representation, as C's
//! generic `__atomic_store`/`__atomic_exchange`/`__atomic_compare_exchange`
//! do; by-value booleans are 0 or 1, returned booleans are `byte != 0`.
//!
//! `longdouble_store` is exported only where `long double` can be stored
//! lock-free. On x86_64 `long double` is the 80-bit x87 format padded to 16
//! bytes (Linux, macOS, MinGW): its store is a `lock cmpxchg16b` loop, which
//! needs `cx16` (x86_64-v2 has it: build.zig's default for native builds;
//! a cross build must ask for it, e.g. `-Dcpu=x86_64_v2`). On aarch64 Linux
//! it is IEEE binary128, stored by an `ldxp`/`stxp` (or `casp`) loop; with
//! MSVC and on Apple aarch64 it is a `double`. Where none of this holds
//! (x86_64 without `cx16`, a 32-bit target whose `long double` is wider than
//! a word) the function is left out rather than fall back to compiler_rt's
//! `__atomic_store_16`, whose lock is private to one process and so silently
//! wrong across processes. The store writes all `sizeof(long double)` bytes
//! of `*n`, padding included, as C's `__atomic_store` does.

const std = @import("std");
const builtin = @import("builtin");
const abi = @import("abi.zig");
const ops = @import("ops.zig");
const table = @import("table.zig");

/// C's `wchar_t`: 16-bit unsigned on Windows; 32-bit elsewhere, unsigned on
/// Arm outside Apple's platforms (AAPCS), signed everywhere else.
pub const c_wchar = if (builtin.os.tag == .windows)
    u16
else if (builtin.os.tag.isDarwin())
    i32
else switch (builtin.cpu.arch) {
    .aarch64, .aarch64_be, .arm, .armeb, .thumb, .thumbeb => u32,
    else => i32,
};

/// Whether a `long double` fits in one lock-free atomic store on this target.
pub const longdouble_lock_free = @sizeOf(c_longdouble) <= @sizeOf(usize) or switch (builtin.cpu.arch) {
    .x86_64 => @sizeOf(c_longdouble) == 16 and builtin.cpu.has(.x86, .cx16),
    .aarch64, .aarch64_be => @sizeOf(c_longdouble) == 16,
    else => false,
};

/// Which operations a type has, in groups.
pub const Group = enum {
    /// `store`
    store,
    /// `load`, `get_and_set`, `shift`, `compare_and_set`
    basic,
    /// `add` and `sub`, as `fetch_and_*` and `*_and_fetch`
    arith,
    /// `and`, `or`, `xor`, `nand`, as `fetch_and_*` and `*_and_fetch`
    bits,
};

pub const Type = struct {
    /// The name prefix: `<name>_<op>`.
    name: []const u8,
    T: type,
    /// Its C type, as the seed's header spells it.
    c_name: []const u8,
    groups: []const Group,
    /// What the header says of it, after its C type (default: nothing).
    note: []const u8 = "",
    needs: ?abi.Capability = null,

    pub fn has(comptime t: Type, comptime g: Group) bool {
        for (t.groups) |x| if (x == g) return true;
        return false;
    }
};

const integer = &[_]Group{ .store, .basic, .arith, .bits };

/// A lock-free store of a `long double`: what `longdouble_store` needs.
pub const lock_free_long_double: abi.Capability = .{
    .name = "lock_free_long_double",
    .doc = "only where it can be stored lock-free: x86_64 with cmpxchg16b (the default build; 80-bit x87 in " ++
        "16 bytes), aarch64, and where long double is a double. A library built for x86_64 without cx16 " ++
        "leaves it out rather than take a lock.",
    .met = longdouble_lock_free,
};

const arm_linux = "signed on x86_64, Apple and Windows; unsigned on Arm and most other Linux targets";
const lp64 = "64-bit on Linux and macOS, 32-bit on Windows";

pub const types = [_]Type{
    .{ .name = "bool", .T = bool, .c_name = "bool", .groups = &.{ .store, .basic }, .note = " (_Bool): one byte; returned booleans are byte != 0" },
    .{ .name = "byte", .T = c_char, .c_name = "char", .groups = integer, .note = ": " ++ arm_linux },
    .{ .name = "ubyte", .T = u8, .c_name = "unsigned char", .groups = integer },
    .{ .name = "short", .T = c_short, .c_name = "short", .groups = integer },
    .{ .name = "ushort", .T = c_ushort, .c_name = "unsigned short", .groups = integer },
    .{ .name = "int", .T = c_int, .c_name = "int", .groups = integer },
    .{ .name = "uint", .T = c_uint, .c_name = "unsigned int", .groups = integer },
    .{ .name = "long", .T = c_long, .c_name = "long", .groups = integer, .note = ": " ++ lp64 },
    .{ .name = "ulong", .T = c_ulong, .c_name = "unsigned long", .groups = integer, .note = ": " ++ lp64 },
    .{ .name = "longlong", .T = c_longlong, .c_name = "long long", .groups = integer },
    .{ .name = "ulonglong", .T = c_ulonglong, .c_name = "unsigned long long", .groups = integer },
    .{ .name = "size_t", .T = usize, .c_name = "size_t", .groups = integer },
    .{ .name = "ssize_t", .T = isize, .c_name = "ssize_t", .groups = integer },
    .{ .name = "wchar", .T = c_wchar, .c_name = "wchar_t", .groups = &.{ .store, .basic, .arith }, .note = ": 32-bit, signed except on Arm Linux (unsigned); 16-bit unsigned on Windows" },
    .{ .name = "float", .T = f32, .c_name = "float", .groups = &.{.store} },
    .{ .name = "double", .T = f64, .c_name = "double", .groups = &.{.store} },
    .{ .name = "longdouble", .T = c_longdouble, .c_name = "long double", .groups = &.{.store}, .note = ": store only", .needs = lock_free_long_double },
};

/// Whether this build exports type `t`'s functions.
pub fn available(comptime t: Type) bool {
    return if (t.needs) |n| n.met else true;
}

/// The shape of an operation's C signature (`T` is the C type).
pub const Shape = enum {
    /// `T f(T *v)`
    load,
    /// `void f(T *v, T *n)`
    store,
    /// `void f(T *v, T *n, T *r)`: exchange through pointers
    shift,
    /// `_Bool f(T *v, T *e, T n)`: strong; on failure `*e` = current value
    cas,
    /// `T f(T *v, T i)`: read-modify-write, returns the old or the new value
    rmw,
};

pub const Op = struct {
    name: []const u8,
    group: Group,
    shape: Shape,
    rmw: table.Rmw = .xchg,
    /// For rmw: return the new value instead of the old one.
    new: bool = false,
};

pub const op_list = [_]Op{
    .{ .name = "load", .group = .basic, .shape = .load },
    .{ .name = "store", .group = .store, .shape = .store },
    .{ .name = "get_and_set", .group = .basic, .shape = .rmw, .rmw = .xchg },
    .{ .name = "shift", .group = .basic, .shape = .shift },
    .{ .name = "compare_and_set", .group = .basic, .shape = .cas },
} ++ rmwPair("add", .add, .arith) ++ rmwPair("sub", .sub, .arith) ++
    rmwPair("and", .@"and", .bits) ++ rmwPair("or", .@"or", .bits) ++
    rmwPair("xor", .xor, .bits) ++ rmwPair("nand", .nand, .bits);

fn rmwPair(comptime name: []const u8, comptime r: table.Rmw, comptime g: Group) [2]Op {
    return .{
        .{ .name = name ++ "_and_fetch", .group = g, .shape = .rmw, .rmw = r, .new = true },
        .{ .name = "fetch_and_" ++ name, .group = g, .shape = .rmw, .rmw = r },
    };
}

/// The C function for type `T`, operation `op`.
pub fn Fn(comptime T: type, comptime op: Op) type {
    // What sits in memory (a byte for `bool`), and the same bytes as an
    // unsigned integer for the operations through pointers.
    const S = if (T == bool) u8 else T;
    const W = @Int(.unsigned, 8 * @sizeOf(S));
    return struct {
        /// The parameters' names, for the header.
        pub const params: []const []const u8 = switch (op.shape) {
            .load => &.{"v"},
            .store => &.{ "v", "n" },
            .shift => &.{ "v", "n", "r" },
            .cas => &.{ "v", "e", "n" },
            .rmw => if (op.rmw == .xchg) &.{ "v", "n" } else &.{ "v", "i" },
        };

        pub const f = switch (op.shape) {
            .load => struct {
                fn f(v: *const S) callconv(.c) T {
                    return ops.Ops(T).load(v, .seq_cst);
                }
            },
            .store => struct {
                fn f(v: *S, n: *const S) callconv(.c) void {
                    const w: *W = @ptrCast(v);
                    const new = @as(*const W, @ptrCast(n)).*;
                    if (@sizeOf(W) <= @sizeOf(usize)) return @atomicStore(W, w, new, .seq_cst);
                    // Wider than a word (`long double`): a compare-exchange
                    // loop. LLVM emits the same `lock cmpxchg16b` loop for
                    // either, but Zig 0.17's own x86_64 backend (Debug
                    // builds) miscompiles a 16-byte `@atomicStore`.
                    var cur: W = 0;
                    while (@cmpxchgWeak(W, w, cur, new, .seq_cst, .seq_cst)) |c| cur = c;
                }
            },
            .shift => struct {
                fn f(v: *S, n: *const S, r: *S) callconv(.c) void {
                    r.* = @atomicRmw(S, v, .Xchg, n.*, .seq_cst);
                }
            },
            .cas => struct {
                fn f(v: *S, e: *S, n: T) callconv(.c) bool {
                    const new: S = if (T == bool) @intFromBool(n) else n;
                    if (@cmpxchgStrong(S, v, e.*, new, .seq_cst, .seq_cst)) |cur| {
                        e.* = cur;
                        return false;
                    }
                    return true;
                }
            },
            .rmw => struct {
                fn f(v: *S, i: T) callconv(.c) T {
                    return ops.Ops(T).rmw(v, op.rmw, i, op.new, .seq_cst);
                }
            },
        }.f;
    };
}

/// The seed's exports, one group per type, in table order.
pub const groups: []const abi.Group = abi.walk(types, op_list, struct {
    pub fn supports(comptime t: Type, comptime op: Op) bool {
        return t.has(op.group);
    }

    pub fn exports(comptime t: Type, comptime op: Op) []const abi.Export {
        const F = Fn(t.T, op);
        return &.{abi.func(t.name ++ "_" ++ op.name, F.f, F.params, "")};
    }

    pub fn group(comptime t: Type, comptime list: []const abi.Export) abi.Group {
        const S = if (t.T == bool) u8 else t.T; // what sits in memory
        const doc = t.name ++ "_*: " ++ t.c_name ++ t.note ++ ".";
        return abi.group(t.name, doc, .{ .needs = t.needs, .c_names = &.{.{ .T = S, .name = t.c_name }} }, list);
    }
});

/// Every exported name, in table order.
pub const names: []const []const u8 = abi.names(groups);

// ---------------------------------------------------------------- tests

const expect = std.testing.expect;

fn edges(comptime T: type) []const T {
    return switch (@typeInfo(T)) {
        .int => |i| if (i.signedness == .signed)
            &[_]T{ std.math.minInt(T), std.math.minInt(T) + 1, -1, 0, 1, 0x55, std.math.maxInt(T) - 1, std.math.maxInt(T) }
        else
            &[_]T{ 0, 1, 0x55, std.math.maxInt(T) / 2, std.math.maxInt(T) / 2 + 1, std.math.maxInt(T) - 1, std.math.maxInt(T) },
        .float => &[_]T{ 0.0, -0.0, 1.5, -2.25, std.math.inf(T), -std.math.inf(T), std.math.nan(T), std.math.floatMax(T), std.math.floatTrueMin(T) },
        .bool => &[_]T{ false, true },
        else => unreachable,
    };
}

/// What the operation stores, spelled out independently of ops.zig.
fn model(comptime T: type, comptime r: table.Rmw, old: T, i: T) T {
    return switch (r) {
        .xchg => i,
        .add => old +% i,
        .sub => old -% i,
        .@"and" => old & i,
        .@"or" => old | i,
        .xor => old ^ i,
        .nand => ~(old & i),
        else => unreachable,
    };
}

fn bitsEq(comptime T: type, a: T, b: T) bool {
    const W = @Int(.unsigned, 8 * @sizeOf(T));
    var x: W = 0;
    var y: W = 0;
    @memcpy(std.mem.asBytes(&x)[0..@sizeOf(T)], std.mem.asBytes(&a));
    @memcpy(std.mem.asBytes(&y)[0..@sizeOf(T)], std.mem.asBytes(&b));
    return x == y;
}

fn checkOp(comptime T: type, comptime op: Op, comptime name: []const u8) !void {
    const S = if (T == bool) u8 else T;
    const F = @TypeOf(Fn(T, op).f);
    // The symbol itself, by its exported name: proves the name and the
    // signature of the export, not just of the Zig function behind it.
    const f = @extern(*const F, .{ .name = name });
    const toS = struct {
        fn g(x: T) S {
            return if (T == bool) @intFromBool(x) else x;
        }
    }.g;
    for (edges(T)) |a| for (edges(T)) |b| {
        var v: S = toS(a);
        switch (op.shape) {
            .load => try expect(f(&v) == a),
            .store => {
                const n: S = toS(b);
                f(&v, &n);
                try expect(bitsEq(S, v, n));
            },
            .shift => {
                const n: S = toS(b);
                var r: S = toS(b);
                f(&v, &n, &r);
                try expect(v == toS(b) and r == toS(a));
            },
            .cas => {
                var e: S = toS(a);
                try expect(f(&v, &e, b) and v == toS(b) and e == toS(a));
                if (a != b) {
                    v = toS(a);
                    e = toS(b);
                    try expect(!f(&v, &e, b) and v == toS(a) and e == toS(a));
                }
            },
            .rmw => {
                const new = model(T, op.rmw, a, b);
                try expect(f(&v, b) == if (op.new) new else a);
                try expect(v == toS(new));
            },
        }
    };
}

test "every seed export at the edges of its type, through its exported symbol" {
    @setEvalBranchQuota(100_000);
    inline for (types) |t| inline for (op_list) |op| {
        if (comptime available(t) and t.has(op.group)) try checkOp(t.T, op, t.name ++ "_" ++ op.name);
    };
}

test "the seed's 64-bit edges, wrap-around and nand, spelled out" {
    const max = std.math.maxInt(usize);
    var z: usize = max;
    try expect(@extern(*const fn (*usize, usize) callconv(.c) usize, .{ .name = "size_t_add_and_fetch" })(&z, 1) == 0);
    try expect(@extern(*const fn (*usize, usize) callconv(.c) usize, .{ .name = "size_t_fetch_and_sub" })(&z, 1) == 0);
    try expect(z == max);
    var s: c_longlong = std.math.maxInt(c_longlong);
    try expect(@extern(*const fn (*c_longlong, c_longlong) callconv(.c) c_longlong, .{ .name = "longlong_add_and_fetch" })(&s, 1) == std.math.minInt(c_longlong));
    try expect(@extern(*const fn (*c_longlong, c_longlong) callconv(.c) c_longlong, .{ .name = "longlong_sub_and_fetch" })(&s, 1) == std.math.maxInt(c_longlong));
    var u: c_ulonglong = 0b1100;
    try expect(@extern(*const fn (*c_ulonglong, c_ulonglong) callconv(.c) c_ulonglong, .{ .name = "ulonglong_fetch_and_nand" })(&u, 0b1010) == 0b1100);
    try expect(u == ~@as(c_ulonglong, 0b1000));
    var b: u8 = 0;
    var e: u8 = 1;
    try expect(!@extern(*const fn (*u8, *u8, bool) callconv(.c) bool, .{ .name = "bool_compare_and_set" })(&b, &e, true));
    try expect(e == 0 and b == 0);
}

test "float stores keep every bit (NaN payloads, -0)" {
    var d: f64 = 1.0;
    const n: f64 = @bitCast(@as(u64, 0x7ff8_dead_beef_0001));
    @extern(*const fn (*f64, *const f64) callconv(.c) void, .{ .name = "double_store" })(&d, &n);
    try expect(@as(u64, @bitCast(d)) == 0x7ff8_dead_beef_0001);
    if (longdouble_lock_free) {
        var l: c_longdouble = 0;
        const m: c_longdouble = -3.25;
        @extern(*const fn (*c_longdouble, *const c_longdouble) callconv(.c) void, .{ .name = "longdouble_store" })(&l, &m);
        try expect(l == -3.25);
    }
}

test "table: every name once, and the counts SEED-ABI.md implies" {
    var set = std.StringHashMap(void).init(std.testing.allocator);
    defer set.deinit();
    for (names) |n| try set.putNoClobber(n, {});
    // 12 integer types × 17 ops, bool 5, wchar 9, float and double 1 each.
    try expect(names.len == 12 * 17 + 5 + 9 + 2 + @as(usize, @intFromBool(longdouble_lock_free)));
}
