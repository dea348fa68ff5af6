//! Lock-free atomic operations on one value type, with comptime memory
//! orders. Booleans live in a byte: this library writes 0 or 1, and reads
//! any non-zero byte (written by C, or by an 8-bit atomic) as true, like C's
//! conversion to `_Bool`. Floats compare by bit pattern, except that any NaN
//! matches any NaN (see `cmpxchg`).

const std = @import("std");
const table = @import("table.zig");
const AtomicOrder = std.builtin.AtomicOrder;

/// C11 `memory_order` codes, as passed to the `_explicit` exports (the
/// values of `memory_order_*` in <stdatomic.h> and of `__ATOMIC_*`).
/// `zig build gen` writes them into the header (`SA_MEMORY_ORDER_*`) and the
/// TypeScript module (`MEMORY_ORDER`).
pub const MemoryOrder = enum(c_int) {
    relaxed = 0,
    consume = 1,
    acquire = 2,
    release = 3,
    acq_rel = 4,
    seq_cst = 5,

    /// The order a code names; null outside 0...5.
    pub fn of(comptime code: c_int) ?MemoryOrder {
        return std.enums.fromInt(MemoryOrder, code);
    }
};

/// The order a code means for a read-modify-write. Codes outside 0...5 and
/// orders an operation does not allow fall back to seq_cst (never weaker).
pub fn rmwOrder(comptime code: c_int) AtomicOrder {
    return switch (MemoryOrder.of(code) orelse .seq_cst) {
        .relaxed => .monotonic,
        .consume, .acquire => .acquire,
        .release => .release,
        .acq_rel => .acq_rel,
        .seq_cst => .seq_cst,
    };
}

pub fn loadOrder(comptime code: c_int) AtomicOrder {
    return switch (MemoryOrder.of(code) orelse .seq_cst) {
        .relaxed => .monotonic,
        .consume, .acquire => .acquire,
        .release, .acq_rel, .seq_cst => .seq_cst,
    };
}

pub fn storeOrder(comptime code: c_int) AtomicOrder {
    return switch (MemoryOrder.of(code) orelse .seq_cst) {
        .relaxed => .monotonic,
        .release => .release,
        .consume, .acquire, .acq_rel, .seq_cst => .seq_cst,
    };
}

/// Calls `f(args..., order)` with the comptime order that the runtime C11
/// `code` means under `map` (loadOrder, storeOrder or rmwOrder); codes
/// outside 0...5 mean seq_cst. This is how every `_explicit` export turns
/// its runtime order argument into the comptime order the builtins need.
pub inline fn withOrder(
    code: c_int,
    comptime map: fn (comptime c_int) AtomicOrder,
    comptime f: anytype,
    args: anytype,
) @typeInfo(@TypeOf(f)).@"fn".return_type.? {
    return switch (code) {
        inline @backingInt(MemoryOrder.relaxed)...@backingInt(MemoryOrder.seq_cst) => |c| @call(.auto, f, args ++ .{comptime map(c)}),
        else => @call(.auto, f, args ++ .{AtomicOrder.seq_cst}),
    };
}

/// The failure order for a compare-exchange whose success order is `s`
/// (C++'s rule: drop the release part).
pub fn failureOrder(comptime s: AtomicOrder) AtomicOrder {
    return switch (s) {
        .release, .monotonic, .unordered => .monotonic,
        .acq_rel, .acquire => .acquire,
        .seq_cst => .seq_cst,
    };
}

/// Atomic operations on a `T` held in memory as `Storage(T)`.
pub fn Ops(comptime T: type) type {
    return struct {
        const kind: table.Kind = switch (@typeInfo(T)) {
            .int => .int,
            .float => .float,
            .bool => .bool,
            else => @compileError("unsupported type " ++ @typeName(T)),
        };
        /// What sits in memory.
        pub const S = if (kind == .bool) u8 else T;
        /// What a compare-exchange compares: the bits.
        const B = @Int(.unsigned, @bitSizeOf(S));

        inline fn toS(v: T) S {
            return if (kind == .bool) @intFromBool(v) else v;
        }
        inline fn fromS(s: S) T {
            return if (kind == .bool) s != 0 else s;
        }
        inline fn bitsOf(s: S) B {
            return @bitCast(s);
        }

        pub inline fn load(p: *const S, comptime o: AtomicOrder) T {
            return fromS(@atomicLoad(S, p, o));
        }

        pub inline fn store(p: *S, v: T, comptime o: AtomicOrder) void {
            @atomicStore(S, p, toS(v), o);
        }

        /// Whether a compare-exchange expecting `expected` matches memory
        /// holding `s`: the same bits, except that for a float any NaN
        /// matches any NaN (JavaScript cannot even see a NaN's bits, so a
        /// NaN that `load()` returned must match the NaN stored), and for a
        /// bool true matches any non-zero byte. +0 and -0 stay distinct.
        pub inline fn matches(expected: T, s: S) bool {
            return switch (kind) {
                .int => expected == s,
                .float => if (std.math.isNan(expected)) std.math.isNan(s) else bitsOf(toS(expected)) == bitsOf(s),
                .bool => expected == (s != 0),
            };
        }

        /// Whether more than one bit pattern matches `expected` (a NaN; true).
        inline fn loose(expected: T) bool {
            return switch (kind) {
                .int => false,
                .float => std.math.isNan(expected),
                .bool => expected,
            };
        }

        /// What a strong compare-exchange saw, and whether it stored.
        const Outcome = struct { prev: S, stored: bool };

        /// The strong compare-exchange under `matches`: one `cmpxchg` of
        /// `expected`'s own bits; if that fails on another pattern that also
        /// matches (another NaN; a byte other than 1), retries against the
        /// pattern seen, until it stores or sees a value that does not match.
        inline fn strong(p: *S, expected: T, desired: T, comptime o: AtomicOrder) Outcome {
            const bp: *B = @ptrCast(p);
            const want = bitsOf(toS(expected));
            const new = bitsOf(toS(desired));
            var cur = @cmpxchgStrong(B, bp, want, new, o, comptime failureOrder(o)) orelse
                return .{ .prev = @bitCast(want), .stored = true };
            if (loose(expected)) {
                while (matches(expected, @bitCast(cur))) {
                    const seen = cur;
                    cur = @cmpxchgWeak(B, bp, seen, new, o, comptime failureOrder(o)) orelse
                        return .{ .prev = @bitCast(seen), .stored = true };
                }
            }
            return .{ .prev = @bitCast(cur), .stored = false };
        }

        /// Strong compare-exchange: stores `desired` if the value `matches`
        /// `expected`; returns the previous value either way (it matches
        /// `expected` exactly when `desired` was stored).
        pub inline fn cmpxchg(p: *S, expected: T, desired: T, comptime o: AtomicOrder) T {
            return fromS(strong(p, expected, desired, o).prev);
        }

        pub inline fn cas(p: *S, expected: T, desired: T, comptime o: AtomicOrder) bool {
            return strong(p, expected, desired, o).stored;
        }

        /// Weak compare-exchange, C11 style, under `matches`: may fail
        /// spuriously; on failure writes the current value to `expected`.
        pub inline fn casWeak(p: *S, expected: *T, desired: T, comptime o: AtomicOrder) bool {
            const bp: *B = @ptrCast(p);
            const new = bitsOf(toS(desired));
            var cur = @cmpxchgWeak(B, bp, bitsOf(toS(expected.*)), new, o, comptime failureOrder(o)) orelse return true;
            if (loose(expected.*) and matches(expected.*, @bitCast(cur))) {
                // another matching pattern: one try against it (which may fail spuriously too)
                cur = @cmpxchgWeak(B, bp, cur, new, o, comptime failureOrder(o)) orelse return true;
            }
            expected.* = fromS(@bitCast(cur));
            return false;
        }

        /// Applies `r`; returns the old value, or the new one when `new`.
        pub inline fn rmw(p: *S, comptime r: table.Rmw, v: T, comptime new: bool, comptime o: AtomicOrder) T {
            const old: T = switch (r) {
                .xchg => fromS(@atomicRmw(S, p, .Xchg, toS(v), o)),
                .add => @atomicRmw(S, p, .Add, v, o),
                .sub => @atomicRmw(S, p, .Sub, v, o),
                .@"and", .@"or", .xor, .nand => if (kind == .bool) boolRmw(p, r, v, o) else @atomicRmw(S, p, switch (r) {
                    .@"and" => .And,
                    .@"or" => .Or,
                    .xor => .Xor,
                    else => .Nand,
                }, v, o),
                .max, .min => if (kind == .float) casLoop(p, r, v, o) else @atomicRmw(S, p, if (r == .max) .Max else .Min, v, o),
            };
            return if (new) apply(r, old, v) else old;
        }

        /// The value `r` stores, given the old value and the operand.
        pub fn apply(comptime r: table.Rmw, old: T, v: T) T {
            return switch (kind) {
                .int => switch (r) {
                    .xchg => v,
                    .add => old +% v,
                    .sub => old -% v,
                    .@"and" => old & v,
                    .@"or" => old | v,
                    .xor => old ^ v,
                    .nand => ~(old & v),
                    .max => @max(old, v),
                    .min => @min(old, v),
                },
                .float => switch (r) {
                    .xchg => v,
                    .add => old + v,
                    .sub => old - v,
                    .max => maxNum(old, v),
                    .min => minNum(old, v),
                    else => unreachable,
                },
                .bool => switch (r) {
                    .xchg => v,
                    .@"and" => old and v,
                    .@"or" => old or v,
                    .xor => old != v,
                    .nand => !(old and v),
                    else => unreachable,
                },
            };
        }

        /// IEEE 754-2019 maximumNumber: a NaN operand is ignored, -0 < +0.
        fn maxNum(a: T, b: T) T {
            if (std.math.isNan(a)) return b;
            if (std.math.isNan(b)) return a;
            if (a == b) return if (std.math.signbit(a)) b else a;
            return if (a > b) a else b;
        }

        /// IEEE 754-2019 minimumNumber: a NaN operand is ignored, -0 < +0.
        fn minNum(a: T, b: T) T {
            if (std.math.isNan(a)) return b;
            if (std.math.isNan(b)) return a;
            if (a == b) return if (std.math.signbit(a)) a else b;
            return if (a < b) a else b;
        }

        /// A bool and/or/xor/nand. The byte may hold any value (non-zero is
        /// true), so a bitwise instruction could get it wrong (2 & 1 is 0):
        /// a result that does not depend on the old value is one exchange,
        /// the rest a compare-exchange loop that stores 0 or 1.
        inline fn boolRmw(p: *S, comptime r: table.Rmw, v: T, comptime o: AtomicOrder) T {
            const constant: ?S = switch (r) {
                .@"and" => if (v) null else 0,
                .@"or" => if (v) 1 else null,
                .nand => if (v) null else 1,
                else => null,
            };
            if (constant) |c| return fromS(@atomicRmw(S, p, .Xchg, c, o));
            return casLoop(p, r, v, o);
        }

        /// A compare-exchange loop for what the hardware has no instruction for.
        inline fn casLoop(p: *S, comptime r: table.Rmw, v: T, comptime o: AtomicOrder) T {
            const bp: *B = @ptrCast(p);
            var cur: B = @atomicLoad(B, bp, .monotonic);
            while (true) {
                const old = fromS(@bitCast(cur));
                const next = bitsOf(toS(apply(r, old, v)));
                cur = @cmpxchgWeak(B, bp, cur, next, o, .monotonic) orelse return old;
            }
        }
    };
}
