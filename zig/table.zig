//! The one table: which value types the library has, and which operations
//! each kind of type supports. `exports.zig` walks the product of the two at
//! comptime (`abi.walk`); `zig build gen` writes it, and every export's
//! signature, into `src/native/abi_generated.ts` for the TypeScript side.

pub const Kind = enum {
    int,
    float,
    bool,

    /// What the header says of a type of this kind.
    pub fn doc(k: Kind) []const u8 {
        return switch (k) {
            .int => "wrapping arithmetic",
            .float => "add/sub/max/min by a compare-exchange loop; max/min ignore a NaN operand, -0 < +0; compares are bitwise",
            .bool => "one byte holding 0 or 1",
        };
    }
};

pub const Type = struct {
    /// Name used in export symbols: `sa_<name>_<op>`.
    name: []const u8,
    T: type,
    kind: Kind,
    /// 64-bit integers also get `_f64` variants that take and return a
    /// double, so JavaScript can stay on the FFI's fast number path.
    number_path: bool = false,
    /// Its C type, where that is not the one `abi.cName` gives.
    c_name: ?[]const u8 = null,
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
    .{ .name = "isize", .T = isize, .kind = .int, .c_name = "intptr_t" },
    .{ .name = "usize", .T = usize, .kind = .int, .c_name = "uintptr_t" },
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

/// An operation of a table whose types have kinds `K` and whose signatures
/// have shapes `S` (this one, and `wide.zig`'s).
pub fn OpOf(comptime K: type, comptime S: type) type {
    return struct {
        name: []const u8,
        shape: S,
        rmw: Rmw = .xchg,
        /// For rmw: return the new value instead of the old one.
        new: bool = false,
        /// The kinds of type it applies to.
        kinds: []const K,
    };
}

pub const Op = OpOf(Kind, Shape);

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
} ++ rmwPair(Op, "add", .add, arith) ++ rmwPair(Op, "sub", .sub, arith) ++
    rmwPair(Op, "and", .@"and", bits) ++ rmwPair(Op, "or", .@"or", bits) ++
    rmwPair(Op, "xor", .xor, bits) ++ rmwPair(Op, "nand", .nand, bits) ++
    rmwPair(Op, "max", .max, arith) ++ rmwPair(Op, "min", .min, arith);

/// `fetch_<name>` (returns the old value) and `<name>_fetch` (the new one),
/// for any table's `Op` (an `OpOf`).
pub fn rmwPair(comptime O: type, comptime name: []const u8, comptime r: Rmw, comptime kinds: anytype) [2]O {
    return .{
        .{ .name = "fetch_" ++ name, .shape = .rmw, .rmw = r, .kinds = kinds },
        .{ .name = name ++ "_fetch", .shape = .rmw, .rmw = r, .new = true, .kinds = kinds },
    };
}

/// Whether operation `op` applies to a type of kind `kind` (`op.kinds`), in
/// any table.
pub fn supports(comptime op: anytype, comptime kind: anytype) bool {
    for (op.kinds) |k| if (k == kind) return true;
    return false;
}
