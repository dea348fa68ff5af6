//! Unit tests over every export of the table: each type × operation, through
//! the exact C functions the library exports, seq_cst and every order code,
//! at the edges of each type.

const std = @import("std");
const table = @import("table.zig");
const ops = @import("ops.zig");
const exports = @import("exports.zig");
const expect = std.testing.expect;

fn edges(comptime T: type) []const T {
    return switch (@typeInfo(T)) {
        .int => if (@typeInfo(T).int.signedness == .signed)
            &[_]T{ std.math.minInt(T), -1, 0, 1, 5, std.math.maxInt(T) }
        else
            &[_]T{ 0, 1, 5, std.math.maxInt(T) - 1, std.math.maxInt(T) },
        .float => &[_]T{ 0.0, -0.0, 1.5, -2.25, std.math.inf(T), -std.math.inf(T), std.math.nan(T), std.math.floatMax(T), std.math.floatTrueMin(T) },
        .bool => &[_]T{ false, true },
        else => unreachable,
    };
}

/// Bit-for-bit equality (NaN equals NaN; -0 differs from +0).
fn same(comptime T: type, a: T, b: T) bool {
    if (@typeInfo(T) == .float) {
        const B = @Int(.unsigned, @bitSizeOf(T));
        return @as(B, @bitCast(a)) == @as(B, @bitCast(b));
    }
    return a == b;
}

fn mem(comptime T: type, v: T) ops.Ops(T).S {
    return if (T == bool) @intFromBool(v) else v;
}

fn checkOp(comptime T: type, comptime op: table.Op) !void {
    const F = exports.Fns(T, op, T);
    const O = ops.Ops(T);
    const codes = [_]c_int{ 0, 1, 2, 3, 4, 5, 99 };
    for (edges(T)) |a| for (edges(T)) |b| for (codes ++ [_]c_int{-1}) |code| {
        var m: O.S = mem(T, a);
        const explicit = code != -1;
        switch (op.shape) {
            .load => {
                const r = if (explicit) F.explicit(&m, code) else F.seq_cst(&m);
                try expect(same(T, r, a));
            },
            .store => {
                if (explicit) F.explicit(&m, b, code) else F.seq_cst(&m, b);
                try expect(same(O.S, m, mem(T, b)));
            },
            .rmw => {
                const r = if (explicit) F.explicit(&m, b, code) else F.seq_cst(&m, b);
                const new = O.apply(op.rmw, a, b);
                try expect(same(T, r, if (op.new) new else a));
                try expect(same(O.S, m, mem(T, new)));
            },
            .cmpxchg => {
                const r = if (explicit) F.explicit(&m, a, b, code) else F.seq_cst(&m, a, b);
                try expect(same(T, r, a) and same(O.S, m, mem(T, b)));
                m = mem(T, a);
                if (!same(T, a, b)) {
                    const r2 = if (explicit) F.explicit(&m, b, b, code) else F.seq_cst(&m, b, b);
                    try expect(same(T, r2, a) and same(O.S, m, mem(T, a)));
                }
            },
            .cas => {
                const r = if (explicit) F.explicit(&m, a, b, code) else F.seq_cst(&m, a, b);
                try expect(r and same(O.S, m, mem(T, b)));
                m = mem(T, a);
                if (!same(T, a, b)) {
                    const r2 = if (explicit) F.explicit(&m, b, b, code) else F.seq_cst(&m, b, b);
                    try expect(!r2 and same(O.S, m, mem(T, a)));
                }
            },
            .cas_weak => {
                var e = a;
                while (!(if (explicit) F.explicit(&m, &e, b, code) else F.seq_cst(&m, &e, b))) {}
                try expect(same(O.S, m, mem(T, b)));
                if (!same(T, a, b)) {
                    m = mem(T, a);
                    e = b;
                    try expect(!(if (explicit) F.explicit(&m, &e, b, code) else F.seq_cst(&m, &e, b)));
                    try expect(same(T, e, a) and same(O.S, m, mem(T, a)));
                }
            },
        }
    };
}

test "every export at the edges of its type, seq_cst and every order code" {
    inline for (table.types) |t| inline for (table.ops) |op| {
        if (comptime table.supports(op, t.kind)) try checkOp(t.T, op);
    };
}

test "integer wrap-around and nand, spelled out" {
    var x: u64 = std.math.maxInt(u64);
    try expect(exports.Fns(u64, table.ops[6], u64).seq_cst(&x, 1) == std.math.maxInt(u64)); // fetch_add
    try expect(x == 0);
    var y: i8 = -128;
    try expect(ops.Ops(i8).rmw(&y, .sub, 1, true, .seq_cst) == 127);
    var z: u8 = 0b1100;
    try expect(ops.Ops(u8).rmw(&z, .nand, 0b1010, false, .seq_cst) == 0b1100);
    try expect(z == 0b1111_0111);
    var b: u8 = 1;
    try expect(ops.Ops(bool).rmw(&b, .nand, true, true, .seq_cst) == false and b == 0);
    try expect(ops.Ops(bool).rmw(&b, .nand, true, true, .seq_cst) == true and b == 1);
}

test "float max/min: NaN operand ignored, -0 below +0" {
    const O = ops.Ops(f64);
    var m: f64 = 1.0;
    try expect(O.rmw(&m, .max, std.math.nan(f64), true, .seq_cst) == 1.0);
    m = std.math.nan(f64);
    try expect(O.rmw(&m, .min, 2.0, true, .seq_cst) == 2.0);
    m = -0.0;
    try expect(!std.math.signbit(O.rmw(&m, .max, 0.0, true, .seq_cst)));
    m = 0.0;
    try expect(std.math.signbit(O.rmw(&m, .min, -0.0, true, .seq_cst)));
}

test "number path: f64 in and out, saturating conversion" {
    inline for (.{ i64, u64 }) |T| inline for (table.ops) |op| {
        if (comptime op.shape == .rmw and table.supports(op, .int)) {
            const N = exports.Fns(T, op, f64);
            var m: T = 40;
            const r = N.seq_cst(&m, 2);
            const new = ops.Ops(T).apply(op.rmw, 40, 2);
            try expect(r == @as(f64, @floatFromInt(if (op.new) new else 40)));
            try expect(m == new);
        }
    };
    try expect(exports.intFromF64(i64, std.math.nan(f64)) == 0);
    try expect(exports.intFromF64(i64, 1e300) == std.math.maxInt(i64));
    try expect(exports.intFromF64(u64, -5) == 0);
    try expect(exports.intFromF64(u64, 9007199254740991) == 9007199254740991);
}

/// NaNs of other bit patterns: what hardware arithmetic produces (x86's
/// default NaN is negative), a signalling one, one with a payload.
fn otherNans(comptime T: type) [3]T {
    const B = @Int(.unsigned, @bitSizeOf(T));
    const q: B = @bitCast(std.math.nan(T));
    const sign: B = @as(B, 1) << (@bitSizeOf(T) - 1);
    return .{ @bitCast(q | sign), std.math.snan(T), @bitCast(q | 5) };
}

test "float compare-exchange: any NaN matches any NaN, +0 and -0 stay distinct, every order" {
    inline for (.{ f32, f64 }) |T| {
        const O = ops.Ops(T);
        const CX = exports.Fns(T, table.ops[3], T);
        const CAS = exports.Fns(T, table.ops[4], T);
        const WEAK = exports.Fns(T, table.ops[5], T);
        const codes = [_]c_int{ 0, 1, 2, 3, 4, 5, 99 };
        for (otherNans(T)) |stored| for (otherNans(T) ++ [_]T{std.math.nan(T)}) |expected| for (codes) |code| {
            var m: T = stored;
            try expect(CAS.explicit(&m, expected, 1.5, code) and m == 1.5);
            m = stored;
            try expect(CAS.seq_cst(&m, expected, 2.5) and m == 2.5);
            m = stored;
            const prev = CX.explicit(&m, expected, 3.5, code);
            try expect(std.math.isNan(prev) and same(T, prev, stored) and m == 3.5);
            m = stored;
            var e = expected;
            while (!WEAK.explicit(&m, &e, 4.5, code)) try expect(std.math.isNan(e));
            try expect(m == 4.5);
            // a NaN does not match a number, nor a number a NaN
            m = 1.0;
            try expect(!CAS.explicit(&m, expected, 2.0, code) and m == 1.0);
            m = stored;
            try expect(!CAS.explicit(&m, 1.0, 2.0, code) and same(T, m, stored));
            try expect(same(T, CX.explicit(&m, 0.0, 2.0, code), stored) and same(T, m, stored));
        };
        var z: T = -0.0;
        try expect(!O.cas(&z, 0.0, 1.0, .seq_cst) and std.math.signbit(z));
        try expect(O.cas(&z, -0.0, 1.0, .seq_cst) and z == 1.0);
        z = 0.0;
        try expect(!O.cas(&z, -0.0, 1.0, .seq_cst) and !std.math.signbit(z));
        // the update loop a JavaScript caller runs: load, then compare-and-set what it loaded
        var m: T = std.math.inf(T);
        _ = O.rmw(&m, .add, -std.math.inf(T), false, .seq_cst); // stores the hardware's NaN
        try expect(std.math.isNan(m));
        try expect(O.cas(&m, std.math.nan(T), 7.0, .seq_cst) and m == 7.0);
    }
}

test "bool: any non-zero byte is true; every op stores 0 or 1; every order" {
    const O = ops.Ops(bool);
    const codes = [_]c_int{ 0, 1, 2, 3, 4, 5, 99 };
    for ([_]u8{ 2, 0x80, 0xff }) |odd| for (codes ++ [_]c_int{-1}) |code| {
        inline for (table.ops) |op| {
            if (comptime !table.supports(op, .bool)) continue;
            const F = exports.Fns(bool, op, bool);
            const explicit = code != -1;
            for ([_]bool{ false, true }) |b| {
                var m: u8 = odd;
                switch (op.shape) {
                    .load => try expect((if (explicit) F.explicit(&m, code) else F.seq_cst(&m)) == true),
                    .store => {},
                    .rmw => {
                        const r = if (explicit) F.explicit(&m, b, code) else F.seq_cst(&m, b);
                        const new = O.apply(op.rmw, true, b);
                        try expect(r == (if (op.new) new else true));
                        try expect(m == @intFromBool(new));
                    },
                    .cmpxchg => {
                        const r = if (explicit) F.explicit(&m, true, b, code) else F.seq_cst(&m, true, b);
                        try expect(r == true and m == @intFromBool(b));
                        m = odd;
                        const r2 = if (explicit) F.explicit(&m, false, b, code) else F.seq_cst(&m, false, b);
                        try expect(r2 == true and m == odd);
                    },
                    .cas => {
                        try expect(if (explicit) F.explicit(&m, true, b, code) else F.seq_cst(&m, true, b));
                        try expect(m == @intFromBool(b));
                        m = odd;
                        try expect(!(if (explicit) F.explicit(&m, false, b, code) else F.seq_cst(&m, false, b)));
                        try expect(m == odd);
                    },
                    .cas_weak => {
                        var e = true;
                        while (!(if (explicit) F.explicit(&m, &e, b, code) else F.seq_cst(&m, &e, b))) try expect(e);
                        try expect(m == @intFromBool(b));
                        m = odd;
                        e = false;
                        try expect(!(if (explicit) F.explicit(&m, &e, b, code) else F.seq_cst(&m, &e, b)));
                        try expect(e == true and m == odd);
                    },
                }
            }
        }
    };
}

test "manifest lists every export once" {
    var count: usize = 0;
    var it = std.mem.splitScalar(u8, exports.manifest, ',');
    while (it.next()) |_| count += 1;
    try expect(count == exports.names.len);
}
