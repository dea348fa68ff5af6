//! Node-API, as much of it as the addon uses, declared in Zig from Node's
//! `js_native_api.h` and `node_api.h` (Node-API version 8, which every
//! maintained Node line has). Node-API is an ABI that Node keeps stable
//! across releases, so declaring the few functions used here is the whole
//! dependency: no header package, no C translation step at build time. The
//! functions are resolved from the `node` executable when the addon is
//! loaded (the addon links with undefined symbols allowed).

/// The Node-API version the addon asks for (`node_api_module_get_api_version_v1`).
pub const version: i32 = 8;

pub const Env = ?*opaque {};
pub const Value = ?*opaque {};
pub const CallbackInfo = ?*opaque {};
pub const Deferred = ?*opaque {};
pub const ThreadsafeFunction = ?*opaque {};

/// `napi_status`: 0 is `napi_ok`.
pub const Status = c_int;
pub const ok: Status = 0;
pub const number_expected: Status = 6;
pub const bigint_expected: Status = 17;

/// `napi_valuetype`.
pub const ValueType = enum(c_int) { undefined, null, boolean, number, string, symbol, object, function, external, bigint, _ };

pub const Callback = *const fn (Env, CallbackInfo) callconv(.c) Value;
pub const Finalize = *const fn (Env, ?*anyopaque, ?*anyopaque) callconv(.c) void;
pub const CallJs = *const fn (Env, Value, ?*anyopaque, ?*anyopaque) callconv(.c) void;
pub const CleanupHook = *const fn (?*anyopaque) callconv(.c) void;

/// `napi_threadsafe_function_call_mode`.
pub const tsfn_nonblocking: c_int = 0;

/// `NAPI_AUTO_LENGTH`: the string is NUL-terminated.
pub const auto_length: usize = ~@as(usize, 0);

pub extern fn napi_get_cb_info(Env, CallbackInfo, argc: *usize, argv: [*]Value, this: ?*Value, data: ?*?*anyopaque) Status;
pub extern fn napi_typeof(Env, Value, *ValueType) Status;
pub extern fn napi_get_value_double(Env, Value, *f64) Status;
pub extern fn napi_get_value_int32(Env, Value, *i32) Status;
pub extern fn napi_get_value_uint32(Env, Value, *u32) Status;
pub extern fn napi_get_value_int64(Env, Value, *i64) Status;
pub extern fn napi_get_value_bool(Env, Value, *bool) Status;
pub extern fn napi_get_value_bigint_int64(Env, Value, *i64, lossless: *bool) Status;
pub extern fn napi_get_value_bigint_uint64(Env, Value, *u64, lossless: *bool) Status;
pub extern fn napi_get_value_string_utf8(Env, Value, buf: ?[*]u8, bufsize: usize, result: ?*usize) Status;
pub extern fn napi_create_double(Env, f64, *Value) Status;
pub extern fn napi_create_int32(Env, i32, *Value) Status;
pub extern fn napi_create_uint32(Env, u32, *Value) Status;
pub extern fn napi_create_bigint_int64(Env, i64, *Value) Status;
pub extern fn napi_create_bigint_uint64(Env, u64, *Value) Status;
pub extern fn napi_get_boolean(Env, bool, *Value) Status;
pub extern fn napi_get_undefined(Env, *Value) Status;
pub extern fn napi_get_null(Env, *Value) Status;
pub extern fn napi_create_string_utf8(Env, [*]const u8, usize, *Value) Status;
pub extern fn napi_create_object(Env, *Value) Status;
pub extern fn napi_create_function(Env, name: [*]const u8, len: usize, Callback, data: ?*anyopaque, *Value) Status;
pub extern fn napi_set_named_property(Env, object: Value, name: [*:0]const u8, Value) Status;
pub extern fn napi_throw_type_error(Env, code: ?[*:0]const u8, msg: [*:0]const u8) Status;
pub extern fn napi_throw_range_error(Env, code: ?[*:0]const u8, msg: [*:0]const u8) Status;
pub extern fn napi_get_typedarray_info(Env, Value, kind: ?*c_int, length: ?*usize, data: ?*?*anyopaque, buffer: ?*Value, offset: ?*usize) Status;
pub extern fn napi_is_typedarray(Env, Value, *bool) Status;
pub extern fn napi_create_external_arraybuffer(Env, data: ?*anyopaque, len: usize, Finalize, hint: ?*anyopaque, *Value) Status;
pub extern fn napi_create_promise(Env, *Deferred, *Value) Status;
pub extern fn napi_resolve_deferred(Env, Deferred, Value) Status;
pub extern fn napi_set_instance_data(Env, data: ?*anyopaque, ?Finalize, hint: ?*anyopaque) Status;
pub extern fn napi_get_instance_data(Env, *?*anyopaque) Status;
pub extern fn napi_add_env_cleanup_hook(Env, CleanupHook, arg: ?*anyopaque) Status;
pub extern fn napi_create_threadsafe_function(
    Env,
    func: Value,
    resource: Value,
    resource_name: Value,
    max_queue: usize,
    threads: usize,
    finalize_data: ?*anyopaque,
    finalize: ?Finalize,
    context: ?*anyopaque,
    call_js: CallJs,
    result: *ThreadsafeFunction,
) Status;
pub extern fn napi_call_threadsafe_function(ThreadsafeFunction, data: ?*anyopaque, mode: c_int) Status;
pub extern fn napi_ref_threadsafe_function(Env, ThreadsafeFunction) Status;
pub extern fn napi_unref_threadsafe_function(Env, ThreadsafeFunction) Status;

/// Throws a TypeError (unless one is pending) and returns null, the value
/// a callback returns after throwing.
pub fn throwType(env: Env, msg: [*:0]const u8) Value {
    _ = napi_throw_type_error(env, null, msg);
    return null;
}

/// `undefined`.
pub fn undef(env: Env) Value {
    var v: Value = null;
    _ = napi_get_undefined(env, &v);
    return v;
}
