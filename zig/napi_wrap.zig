//! The Node-API wrappers of the library's exports, generated at comptime
//! from the same `abi.Group` tables that `root.zig` exports and `gen.zig`
//! writes the header from: for each export, a `napi_callback` that converts
//! each JavaScript argument by the Zig type of that parameter, calls the
//! function, and converts its result. Nothing is written per function.
//!
//! Values cross as Bun's and Deno's FFIs pass them (`src/native/abi.ts`):
//! 8- to 32-bit integers and floats as numbers, 64-bit integers as bigints
//! (a number is accepted too), bools as booleans, pointers as numbers (the
//! address; `pointer()` of the Node entry gives them), C strings returned as
//! strings. A value of the wrong kind throws a TypeError naming the export
//! and the parameter; a null or misaligned pointer throws before the call.

const std = @import("std");
const abi = @import("abi.zig");
const napi = @import("napi.zig");

const Env = napi.Env;
const Value = napi.Value;

/// Whether the addon can call an export: every parameter and the result
/// have an FFI type (`abi.ffiType`).
pub fn callable(comptime e: abi.Export) bool {
    const info = @typeInfo(e.Fn()).@"fn";
    if (abi.ffiType(info.return_type.?, true) == null) return false;
    for (info.param_types) |T| if (abi.ffiType(T.?, false) == null) return false;
    return true;
}

/// What a parameter of type `T` accepts, for errors.
fn expects(comptime T: type) []const u8 {
    return switch (@typeInfo(T)) {
        .pointer => "a number (an address, non-zero and aligned)",
        .optional => "a number (an address) or null",
        .bool => "a boolean",
        .float => "a number",
        .int => if (@bitSizeOf(T) == 64) "a bigint or a number" else "a number",
        else => @compileError("no conversion for " ++ @typeName(T)),
    };
}

/// The message thrown when parameter `i` of `e` gets a value it cannot take.
fn badArg(comptime e: abi.Export, comptime i: usize, comptime T: type) [:0]const u8 {
    return std.fmt.comptimePrint("shared-atomic (Node-API): {s}: argument {d} ({s}) must be {s}", .{ e.name, i + 1, e.params[i], expects(T) });
}

/// An address from a JavaScript number (null, undefined and 0 are 0).
fn address(env: Env, v: Value) ?usize {
    var d: f64 = 0;
    if (napi.napi_get_value_double(env, v, &d) == napi.ok) {
        if (!(d >= 0 and d < 0x1p64) or @trunc(d) != d) return null;
        return @intFromFloat(d);
    }
    var t: napi.ValueType = .undefined;
    _ = napi.napi_typeof(env, v, &t);
    return if (t == .null or t == .undefined) 0 else null;
}

fn int64(comptime T: type, env: Env, v: Value) ?T {
    var lossless: bool = false;
    if (@typeInfo(T).int.signedness == .signed) {
        var x: i64 = 0;
        if (napi.napi_get_value_bigint_int64(env, v, &x, &lossless) == napi.ok) return x;
        if (napi.napi_get_value_int64(env, v, &x) == napi.ok) return x;
    } else {
        var x: u64 = 0;
        if (napi.napi_get_value_bigint_uint64(env, v, &x, &lossless) == napi.ok) return x;
        var s: i64 = 0;
        if (napi.napi_get_value_int64(env, v, &s) == napi.ok) return @bitCast(s);
    }
    return null;
}

/// The value of JavaScript `v` as a parameter of type `T`, or null if it cannot be one.
pub fn from(comptime T: type, env: Env, v: Value) ?T {
    switch (@typeInfo(T)) {
        .optional => |o| {
            const a = address(env, v) orelse return null;
            if (a == 0) return @as(T, null);
            return from(o.child, env, v);
        },
        .pointer => |p| {
            const a = address(env, v) orelse return null;
            const alignment = p.attrs.@"align" orelse (if (p.child == anyopaque) 1 else @alignOf(p.child));
            if (a == 0 or a % alignment != 0) return null;
            return @ptrFromInt(a);
        },
        .bool => {
            var b: bool = false;
            return if (napi.napi_get_value_bool(env, v, &b) == napi.ok) b else null;
        },
        .float => {
            var d: f64 = 0;
            return if (napi.napi_get_value_double(env, v, &d) == napi.ok) @floatCast(d) else null;
        },
        .int => |i| {
            if (i.bits == 64) return int64(T, env, v);
            if (i.bits > 32) @compileError("no conversion for " ++ @typeName(T));
            if (i.signedness == .signed) {
                var x: i32 = 0;
                return if (napi.napi_get_value_int32(env, v, &x) == napi.ok) @truncate(x) else null;
            }
            var x: u32 = 0;
            return if (napi.napi_get_value_uint32(env, v, &x) == napi.ok) @truncate(x) else null;
        },
        else => @compileError("no conversion for " ++ @typeName(T)),
    }
}

/// The JavaScript value of a result `r` of type `T`.
pub fn to(comptime T: type, env: Env, r: T) Value {
    var out: Value = null;
    switch (@typeInfo(T)) {
        .void => return napi.undef(env),
        .bool => _ = napi.napi_get_boolean(env, r, &out),
        .float => _ = napi.napi_create_double(env, r, &out),
        .int => |i| {
            if (i.bits == 64) {
                _ = if (i.signedness == .signed) napi.napi_create_bigint_int64(env, r, &out) else napi.napi_create_bigint_uint64(env, r, &out);
            } else if (i.signedness == .signed) {
                _ = napi.napi_create_int32(env, r, &out);
            } else {
                _ = napi.napi_create_uint32(env, r, &out);
            }
        },
        .optional => {
            if (r) |p| return to(@TypeOf(p), env, p);
            _ = napi.napi_get_null(env, &out);
        },
        .pointer => |p| {
            if (p.child == u8 and p.sentinel() != null) {
                _ = napi.napi_create_string_utf8(env, r, napi.auto_length, &out);
            } else {
                _ = napi.napi_create_double(env, @floatFromInt(@intFromPtr(r)), &out);
            }
        },
        else => @compileError("no conversion for " ++ @typeName(T)),
    }
    return out;
}

/// The arguments of export `e` from a call, converted; null after throwing.
pub fn Args(comptime e: abi.Export) type {
    return std.meta.ArgsTuple(e.Fn());
}

pub fn arguments(comptime e: abi.Export, env: Env, info: napi.CallbackInfo) ?Args(e) {
    const params = @typeInfo(e.Fn()).@"fn".param_types;
    var argc: usize = params.len;
    var argv: [params.len + 1]Value = undefined;
    if (napi.napi_get_cb_info(env, info, &argc, &argv, null, null) != napi.ok) {
        _ = napi.throwType(env, "shared-atomic (Node-API): " ++ e.name ++ ": cannot read the arguments");
        return null;
    }
    var args: Args(e) = undefined;
    inline for (params, 0..) |T, i| {
        args[i] = from(T.?, env, argv[i]) orelse {
            _ = napi.throwType(env, comptime badArg(e, i, T.?));
            return null;
        };
    }
    return args;
}

/// The `napi_callback` of export `e`: a blocking call on the calling thread.
pub fn sync(comptime e: abi.Export) napi.Callback {
    return struct {
        fn call(env: Env, info: napi.CallbackInfo) callconv(.c) Value {
            const args = arguments(e, env, info) orelse return null;
            const R = @typeInfo(e.Fn()).@"fn".return_type.?;
            return to(R, env, @call(.auto, e.holder.f, args));
        }
    }.call;
}
