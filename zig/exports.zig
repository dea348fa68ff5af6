//! Generates the C ABI from the table: for every type × operation
//! `sa_<type>_<op>` (seq_cst) and `sa_<type>_<op>_explicit` (a trailing C11
//! `memory_order` code), plus `_f64` number-path variants for 64-bit integers.

const std = @import("std");
const table = @import("table.zig");
const ops = @import("ops.zig");
const AtomicOrder = std.builtin.AtomicOrder;

/// Converts a double to an integer type, saturating, NaN to 0: the number
/// path never hits undefined behaviour, whatever a C caller passes.
pub fn intFromF64(comptime T: type, v: f64) T {
    if (v != v) return 0;
    const lo: f64 = @floatFromInt(std.math.minInt(T));
    const hi: f64 = @floatFromInt(std.math.maxInt(T)); // rounds up to 2^bits
    if (v <= lo) return std.math.minInt(T);
    if (v >= hi) return std.math.maxInt(T);
    return @intFromFloat(v);
}

/// The C functions for type `T`, operation `op`, seen through value type
/// `V` (`T` itself, or `f64` for the number path).
pub fn Fns(comptime T: type, comptime op: table.Op, comptime V: type) type {
    const O = ops.Ops(T);
    const S = O.S;
    return struct {
        inline fn in(v: V) T {
            return if (V == T) v else intFromF64(T, v);
        }
        inline fn out(t: T) V {
            return if (V == T) t else @floatFromInt(t);
        }

        fn load(p: *const S, comptime o: AtomicOrder) V {
            return out(O.load(p, o));
        }
        fn store(p: *S, v: V, comptime o: AtomicOrder) void {
            O.store(p, in(v), o);
        }
        fn rmw(p: *S, v: V, comptime o: AtomicOrder) V {
            return out(O.rmw(p, op.rmw, in(v), op.new, o));
        }
        fn cmpxchg(p: *S, e: V, d: V, comptime o: AtomicOrder) V {
            return out(O.cmpxchg(p, in(e), in(d), o));
        }
        fn cas(p: *S, e: V, d: V, comptime o: AtomicOrder) bool {
            return O.cas(p, in(e), in(d), o);
        }
        fn casWeak(p: *S, e: *V, d: V, comptime o: AtomicOrder) bool {
            return O.casWeak(p, e, d, o);
        }

        pub const seq_cst = switch (op.shape) {
            .load => struct {
                fn f(p: *const S) callconv(.c) V {
                    return load(p, .seq_cst);
                }
            },
            .store => struct {
                fn f(p: *S, v: V) callconv(.c) void {
                    store(p, v, .seq_cst);
                }
            },
            .rmw => struct {
                fn f(p: *S, v: V) callconv(.c) V {
                    return rmw(p, v, .seq_cst);
                }
            },
            .cmpxchg => struct {
                fn f(p: *S, e: V, d: V) callconv(.c) V {
                    return cmpxchg(p, e, d, .seq_cst);
                }
            },
            .cas => struct {
                fn f(p: *S, e: V, d: V) callconv(.c) bool {
                    return cas(p, e, d, .seq_cst);
                }
            },
            .cas_weak => struct {
                fn f(p: *S, e: *V, d: V) callconv(.c) bool {
                    return casWeak(p, e, d, .seq_cst);
                }
            },
        }.f;

        pub const explicit = switch (op.shape) {
            .load => struct {
                fn f(p: *const S, code: c_int) callconv(.c) V {
                    return ops.withOrder(code, ops.loadOrder, load, .{p});
                }
            },
            .store => struct {
                fn f(p: *S, v: V, code: c_int) callconv(.c) void {
                    ops.withOrder(code, ops.storeOrder, store, .{ p, v });
                }
            },
            .rmw => struct {
                fn f(p: *S, v: V, code: c_int) callconv(.c) V {
                    return ops.withOrder(code, ops.rmwOrder, rmw, .{ p, v });
                }
            },
            .cmpxchg => struct {
                fn f(p: *S, e: V, d: V, code: c_int) callconv(.c) V {
                    return ops.withOrder(code, ops.rmwOrder, cmpxchg, .{ p, e, d });
                }
            },
            .cas => struct {
                fn f(p: *S, e: V, d: V, code: c_int) callconv(.c) bool {
                    return ops.withOrder(code, ops.rmwOrder, cas, .{ p, e, d });
                }
            },
            .cas_weak => struct {
                fn f(p: *S, e: *V, d: V, code: c_int) callconv(.c) bool {
                    return ops.withOrder(code, ops.rmwOrder, casWeak, .{ p, e, d });
                }
            },
        }.f;
    };
}

/// Every exported name, in table order.
pub const names: []const []const u8 = blk: {
    @setEvalBranchQuota(100_000);
    var list: []const []const u8 = &.{};
    for (table.types) |t| for (table.ops) |op| {
        if (!table.supports(op, t.kind)) continue;
        const base = "sa_" ++ t.name ++ "_" ++ op.name;
        list = list ++ .{ base, base ++ "_explicit" };
        if (t.number_path and op.shape != .cas_weak) list = list ++ .{ base ++ "_f64", base ++ "_f64_explicit" };
    };
    break :blk list;
};

/// `sa_manifest()`: every `sa_*` atomic export, comma separated.
pub const manifest: [:0]const u8 = blk: {
    @setEvalBranchQuota(100_000);
    var s: []const u8 = "";
    for (names, 0..) |n, i| s = s ++ (if (i == 0) "" else ",") ++ n;
    break :blk s ++ "";
};

comptime {
    @setEvalBranchQuota(100_000);
    for (table.types) |t| for (table.ops) |op| {
        if (!table.supports(op, t.kind)) continue;
        const base = "sa_" ++ t.name ++ "_" ++ op.name;
        const F = Fns(t.T, op, t.T);
        @export(&F.seq_cst, .{ .name = base });
        @export(&F.explicit, .{ .name = base ++ "_explicit" });
        if (t.number_path and op.shape != .cas_weak) {
            const N = Fns(t.T, op, f64);
            @export(&N.seq_cst, .{ .name = base ++ "_f64" });
            @export(&N.explicit, .{ .name = base ++ "_f64_explicit" });
        }
    };
}
