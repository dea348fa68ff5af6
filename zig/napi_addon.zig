//! `shared_atomic.node`: the Node-API addon, the Node entry's way to the
//! library (Node has no FFI without a flag). It holds the whole library
//! (`root.zig`, its C symbols not exported) and binds its exports to
//! JavaScript by name, with wrappers generated at comptime from the same
//! `abi.Group` tables as the C exports (`napi_wrap.zig`), so an export added
//! to a table is callable from Node with no further line.
//!
//! What JavaScript gets (`node.ts` is its only user):
//!
//!     bind(name, nonblocking)   the export `name` as a function, or undefined
//!                               if this build has no such export; with
//!                               `nonblocking` (hand-written exports only) it
//!                               returns a Promise and runs on a pool thread
//!     address(view)             the address of a typed array's first byte
//!     arrayBuffer(addr, len)    an ArrayBuffer over native memory (not owned)

const std = @import("std");
const abi = @import("abi.zig");
const napi = @import("napi.zig");
const wrap = @import("napi_wrap.zig");
const nb = @import("napi_async.zig");
const lib = @import("root.zig");

const Entry = struct {
    name: [:0]const u8,
    sync: napi.Callback,
    nonblocking: ?napi.Callback,
};

fn entries(comptime groups: []const abi.Group, comptime nonblocking: bool) []const Entry {
    @setEvalBranchQuota(10_000_000);
    var list: []const Entry = &.{};
    for (groups) |g| for (g.exports) |e| {
        if (!e.built() or !wrap.callable(e)) continue;
        list = list ++ .{Entry{ .name = e.name, .sync = wrap.sync(e), .nonblocking = if (nonblocking) nb.nonblocking(e) else null }};
    };
    return list;
}

/// Every export this build has: the hand-written functions (which may also
/// be bound nonblocking), then the tables.
const table: []const Entry = entries(&lib.functions, true) ++ entries(lib.all[lib.functions.len..], false);

fn find(name: []const u8) ?*const Entry {
    for (table) |*e| if (std.mem.eql(u8, e.name, name)) return e;
    return null;
}

fn bind(env: napi.Env, info: napi.CallbackInfo) callconv(.c) napi.Value {
    var argc: usize = 2;
    var argv: [2]napi.Value = undefined;
    var data: ?*anyopaque = null;
    if (napi.napi_get_cb_info(env, info, &argc, &argv, null, &data) != napi.ok) return null;
    var buf: [128]u8 = undefined;
    var len: usize = 0;
    if (napi.napi_get_value_string_utf8(env, argv[0], &buf, buf.len, &len) != napi.ok)
        return napi.throwType(env, "shared-atomic (Node-API): bind: name must be a string");
    var want_nb = false;
    if (argc > 1) _ = napi.napi_get_value_bool(env, argv[1], &want_nb);
    const e = find(buf[0..len]) orelse return napi.undef(env);
    const cb = if (want_nb) e.nonblocking orelse
        return napi.throwType(env, "shared-atomic (Node-API): bind: only the hand-written exports can be nonblocking") else e.sync;
    var f: napi.Value = null;
    if (napi.napi_create_function(env, e.name.ptr, e.name.len, cb, data, &f) != napi.ok) return null;
    return f;
}

fn address(env: napi.Env, info: napi.CallbackInfo) callconv(.c) napi.Value {
    var argc: usize = 1;
    var argv: [1]napi.Value = undefined;
    if (napi.napi_get_cb_info(env, info, &argc, &argv, null, null) != napi.ok) return null;
    var is = false;
    if (napi.napi_is_typedarray(env, argv[0], &is) != napi.ok or !is)
        return napi.throwType(env, "shared-atomic (Node-API): address: view must be a typed array");
    var data: ?*anyopaque = null;
    if (napi.napi_get_typedarray_info(env, argv[0], null, null, &data, null, null) != napi.ok) return null;
    return wrap.to(f64, env, @floatFromInt(@intFromPtr(data)));
}

fn arrayBuffer(env: napi.Env, info: napi.CallbackInfo) callconv(.c) napi.Value {
    var argc: usize = 2;
    var argv: [2]napi.Value = undefined;
    if (napi.napi_get_cb_info(env, info, &argc, &argv, null, null) != napi.ok) return null;
    const p = wrap.from(?*anyopaque, env, argv[0]) orelse
        return napi.throwType(env, "shared-atomic (Node-API): arrayBuffer: address must be a number");
    const len = wrap.from(u64, env, argv[1]) orelse
        return napi.throwType(env, "shared-atomic (Node-API): arrayBuffer: length must be a number");
    var out: napi.Value = null;
    if (napi.napi_create_external_arraybuffer(env, p, @intCast(len), noFinalize, null, &out) != napi.ok)
        return napi.throwType(env, "shared-atomic (Node-API): arrayBuffer: this Node does not allow external buffers");
    return out;
}

fn noFinalize(_: napi.Env, _: ?*anyopaque, _: ?*anyopaque) callconv(.c) void {}

fn set(env: napi.Env, exports: napi.Value, comptime name: [:0]const u8, cb: napi.Callback, data: ?*anyopaque) bool {
    var f: napi.Value = null;
    if (napi.napi_create_function(env, name.ptr, name.len, cb, data, &f) != napi.ok) return false;
    return napi.napi_set_named_property(env, exports, name, f) == napi.ok;
}

export fn napi_register_module_v1(env: napi.Env, exports: napi.Value) napi.Value {
    const host = nb.Host.create(env) orelse return null;
    if (!set(env, exports, "bind", bind, host) or !set(env, exports, "address", address, null) or
        !set(env, exports, "arrayBuffer", arrayBuffer, null)) return null;
    var v: napi.Value = null;
    _ = napi.napi_create_string_utf8(env, lib.version.ptr, lib.version.len, &v);
    _ = napi.napi_set_named_property(env, exports, "version", v);
    return exports;
}

export fn node_api_module_get_api_version_v1() i32 {
    return napi.version;
}
