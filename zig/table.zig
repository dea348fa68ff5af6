//! The one table: which value types the library has, and which operations
//! each kind of type supports. `exports.zig` walks the product of the two at
//! comptime; `src/table.ts` mirrors it for the TypeScript side, and
//! `test/symbols.test.ts` checks the two against `sa_manifest()`.

pub const Kind = enum { int, float, bool };

pub const Type = struct {
    /// Name used in export symbols: `sa_<name>_<op>`.
    name: []const u8,
    T: type,
    kind: Kind,
    /// 64-bit integers also get `_f64` variants that take and return a
    /// double, so JavaScript can stay on the FFI's fast number path.
    number_path: bool = false,
};

pub const types = [_]Type{
    .{ .name = "i8", .T = i8, .kind = .int },
    .{ .name = "u8", .T = u8, .kind = .int },
    .{ .name = "i16", .T = i16, .kind = .int },
    .{ .name = "u16", .T = u16, .kind = .int },
    .{ .name = "i32", .T = i32, .kind = .int },
    .{ .name = "u32", .T = u32, .kind = .int },
    .{ .name = "i64", .T = i64, .kind = .int, .number_path = true },
    .{ .name = "u64", .T = u64, .kind = .int, .number_path = true },
    .{ .name = "isize", .T = isize, .kind = .int },
    .{ .name = "usize", .T = usize, .kind = .int },
    .{ .name = "f32", .T = f32, .kind = .float },
    .{ .name = "f64", .T = f64, .kind = .float },
    .{ .name = "bool", .T = bool, .kind = .bool },
};

/// The shape of an operation's C signature (`V` is the value type).
pub const Shape = enum {
    /// `V f(V *p)`
    load,
    /// `void f(V *p, V v)`
    store,
    /// `V f(V *p, V v)`: read-modify-write, returns the old or the new value
    rmw,
    /// `V f(V *p, V expected, V desired)`: strong CAS returning the previous value
    cmpxchg,
    /// `bool f(V *p, V expected, V desired)`: strong CAS returning whether it stored
    cas,
    /// `bool f(V *p, V *expected, V desired)`: weak CAS, C11 style
    cas_weak,
};

/// Read-modify-write arithmetic, as the builtin's operation.
pub const Rmw = enum { xchg, add, sub, @"and", @"or", xor, nand, max, min };

pub const Op = struct {
    name: []const u8,
    shape: Shape,
    rmw: Rmw = .xchg,
    /// For rmw: return the new value instead of the old one.
    new: bool = false,
    kinds: []const Kind,
};

const all = &[_]Kind{ .int, .float, .bool };
const arith = &[_]Kind{ .int, .float };
const bits = &[_]Kind{ .int, .bool };

pub const ops = [_]Op{
    .{ .name = "load", .shape = .load, .kinds = all },
    .{ .name = "store", .shape = .store, .kinds = all },
    .{ .name = "exchange", .shape = .rmw, .rmw = .xchg, .kinds = all },
    .{ .name = "compare_exchange", .shape = .cmpxchg, .kinds = all },
    .{ .name = "compare_and_set", .shape = .cas, .kinds = all },
    .{ .name = "compare_exchange_weak", .shape = .cas_weak, .kinds = all },
} ++ rmwPair("add", .add, arith) ++ rmwPair("sub", .sub, arith) ++
    rmwPair("and", .@"and", bits) ++ rmwPair("or", .@"or", bits) ++
    rmwPair("xor", .xor, bits) ++ rmwPair("nand", .nand, bits) ++
    rmwPair("max", .max, arith) ++ rmwPair("min", .min, arith);

fn rmwPair(comptime name: []const u8, comptime r: Rmw, comptime kinds: []const Kind) [2]Op {
    return .{
        .{ .name = "fetch_" ++ name, .shape = .rmw, .rmw = r, .kinds = kinds },
        .{ .name = name ++ "_fetch", .shape = .rmw, .rmw = r, .new = true, .kinds = kinds },
    };
}

pub fn supports(comptime op: Op, comptime kind: Kind) bool {
    for (op.kinds) |k| if (k == kind) return true;
    return false;
}
