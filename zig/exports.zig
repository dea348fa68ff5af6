//! Generates the C ABI from the table: for every type × operation
//! `sa_<type>_<op>` (seq_cst) and `sa_<type>_<op>_explicit` (a trailing C11
//! `memory_order` code), plus `_f64` number-path variants for 64-bit integers.
//! `groups` is the list; `root.zig` exports it.

const std = @import("std");
const abi = @import("abi.zig");
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

        /// The parameters' names, for the header.
        pub const params: []const []const u8 = switch (op.shape) {
            .load => &.{"p"},
            .store, .rmw => &.{ "p", "v" },
            .cmpxchg, .cas, .cas_weak => &.{ "p", "expected", "desired" },
        };

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

/// The table's exports, one group per type, in table order: for each
/// operation `sa_<type>_<op>` and `_explicit`, then for a 64-bit integer
/// (but for the weak compare-exchange) `_f64` and `_f64_explicit`.
pub const groups: []const abi.Group = abi.walk(table.types, table.ops, struct {
    pub fn supports(comptime t: table.Type, comptime op: table.Op) bool {
        return table.supports(op, t.kind);
    }

    pub fn exports(comptime t: table.Type, comptime op: table.Op) []const abi.Export {
        const base = "sa_" ++ t.name ++ "_" ++ op.name;
        const list = abi.ordered(base, Fns(t.T, op, t.T));
        if (!t.number_path or op.shape == .cas_weak) return &list;
        return &(list ++ abi.ordered(base ++ "_f64", Fns(t.T, op, f64)));
    }

    pub fn group(comptime t: table.Type, comptime list: []const abi.Export) abi.Group {
        const c = t.c_name orelse abi.cName(t.T, &.{});
        const number_path = " The _f64 variants take and return the value as a double (JavaScript's number " ++
            "path): doubles convert saturating, NaN to 0; results beyond 2^53 round.";
        const doc = t.name ++ ": " ++ c ++ ", " ++ t.kind.doc() ++ "." ++ (if (t.number_path) number_path else "");
        // the memory holds a `T` as C sees it (a bool in a byte)
        return abi.group(t.name, doc, .{ .c_names = &.{.{ .T = ops.Ops(t.T).S, .name = c }} }, list);
    }
});

/// Every exported name, in table order.
pub const names: []const []const u8 = abi.names(groups);

/// `sa_manifest()`: every `sa_*` atomic export, comma separated.
pub const manifest: [:0]const u8 = abi.manifest(groups);
