//! Nonblocking calls for Node (what Deno's `nonblocking` FFI flag does): the
//! call runs on a thread of the addon's own pool, and the Promise it returned
//! settles on the JavaScript thread through a thread-safe function, so the
//! event loop keeps running. A blocking wait of up to a slice (20 ms, see
//! `src/sync/waiting.ts`) holds a pool thread, so the pool is its own, not
//! libuv's four shared threads (file system, DNS, crypto).
//!
//! Each Node environment (the main thread, each Worker) has a `Host`: its
//! thread-safe function, referenced while calls are pending (they keep the
//! loop alive, as a pending Deno call does), and a count of calls not yet
//! handed back. When the environment ends (a Worker terminated), its cleanup
//! hook waits for that count to reach 0, so no pool thread ever runs a call
//! or touches the Host after the memory the call names may be gone.

const std = @import("std");
const c = std.c;
const abi = @import("abi.zig");
const napi = @import("napi.zig");
const wrap = @import("napi_wrap.zig");

const alloc = std.heap.c_allocator;

/// One call on its way through the pool.
const Job = struct {
    next: ?*Job = null,
    host: *Host,
    deferred: napi.Deferred = null,
    run: *const fn (*Job) void,
    settle: *const fn (napi.Env, *Job) napi.Value,
    free: *const fn (*Job) void,
};

/// A call of export `e`: its arguments and, once run, its result.
fn Call(comptime e: abi.Export) type {
    const R = @typeInfo(e.Fn()).@"fn".return_type.?;
    return struct {
        job: Job,
        args: wrap.Args(e),
        result: R = undefined,

        fn run(j: *Job) void {
            const self: *@This() = @fieldParentPtr("job", j);
            self.result = @call(.auto, e.holder.f, self.args);
        }
        fn settle(env: napi.Env, j: *Job) napi.Value {
            const self: *@This() = @fieldParentPtr("job", j);
            return wrap.to(R, env, self.result);
        }
        fn free(j: *Job) void {
            alloc.destroy(@as(*@This(), @fieldParentPtr("job", j)));
        }
    };
}

/// One Node environment's side of the pool.
pub const Host = struct {
    tsfn: napi.ThreadsafeFunction = null,
    /// Calls whose Promise has not settled (JavaScript thread only).
    pending: usize = 0,
    mutex: c.pthread_mutex_t = .{},
    cond: c.pthread_cond_t = .{},
    /// Calls not yet handed back to the thread-safe function (under `mutex`).
    inflight: usize = 0,

    /// The Host of `env`, or null after throwing.
    pub fn create(env: napi.Env) ?*Host {
        const host = alloc.create(Host) catch return fail(env, "out of memory");
        host.* = .{};
        var name: napi.Value = null;
        _ = napi.napi_create_string_utf8(env, "shared-atomic nonblocking call", napi.auto_length, &name);
        if (napi.napi_create_threadsafe_function(env, null, null, name, 0, 1, host, destroy, host, deliver, &host.tsfn) != napi.ok) {
            alloc.destroy(host);
            return fail(env, "cannot create a thread-safe function");
        }
        _ = napi.napi_unref_threadsafe_function(env, host.tsfn);
        // after the thread-safe function: cleanup hooks run last-added first
        _ = napi.napi_add_env_cleanup_hook(env, drain, host);
        return host;
    }

    fn fail(env: napi.Env, comptime msg: []const u8) ?*Host {
        _ = napi.throwType(env, "shared-atomic (Node-API): " ++ msg);
        return null;
    }

    /// The thread-safe function's finalizer: nothing refers to the Host any more.
    fn destroy(_: napi.Env, data: ?*anyopaque, _: ?*anyopaque) callconv(.c) void {
        alloc.destroy(@as(*Host, @ptrCast(@alignCast(data))));
    }

    /// The environment is ending: wait until no pool thread holds one of its calls.
    fn drain(arg: ?*anyopaque) callconv(.c) void {
        const host: *Host = @ptrCast(@alignCast(arg));
        _ = c.pthread_mutex_lock(&host.mutex);
        while (host.inflight > 0) _ = c.pthread_cond_wait(&host.cond, &host.mutex);
        _ = c.pthread_mutex_unlock(&host.mutex);
    }

    /// On the JavaScript thread: a settled call (or, with no env, one dropped at teardown).
    fn deliver(env: napi.Env, _: napi.Value, context: ?*anyopaque, data: ?*anyopaque) callconv(.c) void {
        const job: *Job = @ptrCast(@alignCast(data));
        defer job.free(job);
        if (env == null) return;
        const host: *Host = @ptrCast(@alignCast(context));
        host.pending -= 1;
        if (host.pending == 0) _ = napi.napi_unref_threadsafe_function(env, host.tsfn);
        _ = napi.napi_resolve_deferred(env, job.deferred, job.settle(env, job));
    }

    /// On a pool thread: hands a finished call back.
    fn handBack(host: *Host, job: *Job) void {
        if (napi.napi_call_threadsafe_function(host.tsfn, job, napi.tsfn_nonblocking) != napi.ok) job.free(job);
        _ = c.pthread_mutex_lock(&host.mutex);
        host.inflight -= 1;
        if (host.inflight == 0) _ = c.pthread_cond_broadcast(&host.cond);
        _ = c.pthread_mutex_unlock(&host.mutex);
    }
};

// ---- the pool: threads started on demand, at most `max_threads`, kept --------

const max_threads = 64;
const stack_size = 512 * 1024;
var pool_mutex: c.pthread_mutex_t = .{};
var pool_cond: c.pthread_cond_t = .{};
var head: ?*Job = null;
var tail: ?*Job = null;
var idle: usize = 0;
var threads: usize = 0;

fn poolThread(_: ?*anyopaque) callconv(.c) ?*anyopaque {
    _ = c.pthread_mutex_lock(&pool_mutex);
    while (true) {
        while (head == null) {
            idle += 1;
            _ = c.pthread_cond_wait(&pool_cond, &pool_mutex);
            idle -= 1;
        }
        const job = head.?;
        head = job.next;
        if (head == null) tail = null;
        _ = c.pthread_mutex_unlock(&pool_mutex);
        job.run(job);
        job.host.handBack(job);
        _ = c.pthread_mutex_lock(&pool_mutex);
    }
}

/// Starts a pool thread (with the pool locked); false if the system refused.
fn spawn() bool {
    var attr: c.pthread_attr_t = undefined;
    if (c.pthread_attr_init(&attr) != .SUCCESS) return false;
    defer _ = c.pthread_attr_destroy(&attr);
    _ = c.pthread_attr_setstacksize(&attr, stack_size);
    var t: c.pthread_t = undefined;
    if (c.pthread_create(&t, &attr, poolThread, null) != .SUCCESS) return false;
    _ = c.pthread_detach(t);
    threads += 1;
    return true;
}

/// Queues a job; false if there is no thread to run it.
fn enqueue(job: *Job) bool {
    _ = c.pthread_mutex_lock(&pool_mutex);
    defer _ = c.pthread_mutex_unlock(&pool_mutex);
    if (idle == 0 and threads < max_threads and !spawn() and threads == 0) return false;
    if (tail) |t| t.next = job else head = job;
    tail = job;
    _ = c.pthread_cond_signal(&pool_cond);
    return true;
}

/// The nonblocking `napi_callback` of export `e`: returns a Promise of its
/// result; the function's data is the environment's Host.
pub fn nonblocking(comptime e: abi.Export) napi.Callback {
    return struct {
        fn call(env: napi.Env, info: napi.CallbackInfo) callconv(.c) napi.Value {
            var none: usize = 0;
            var unused: [1]napi.Value = undefined;
            var data: ?*anyopaque = null;
            if (napi.napi_get_cb_info(env, info, &none, &unused, null, &data) != napi.ok) return napi.throwType(env, "shared-atomic (Node-API): " ++ e.name ++ ": cannot read the call");
            const host: *Host = @ptrCast(@alignCast(data));
            const args = wrap.arguments(e, env, info) orelse return null;
            const self = alloc.create(Call(e)) catch return napi.throwType(env, "shared-atomic (Node-API): out of memory");
            self.* = .{ .job = .{ .host = host, .run = Call(e).run, .settle = Call(e).settle, .free = Call(e).free }, .args = args };
            var promise: napi.Value = null;
            if (napi.napi_create_promise(env, &self.job.deferred, &promise) != napi.ok) {
                alloc.destroy(self);
                return napi.throwType(env, "shared-atomic (Node-API): cannot create a Promise");
            }
            host.pending += 1;
            if (host.pending == 1) _ = napi.napi_ref_threadsafe_function(env, host.tsfn);
            _ = c.pthread_mutex_lock(&host.mutex);
            host.inflight += 1;
            _ = c.pthread_mutex_unlock(&host.mutex);
            if (!enqueue(&self.job)) {
                // no thread at all (the system refused one): run it here (a wait slice is at most 20 ms)
                self.job.run(&self.job);
                host.handBack(&self.job);
            }
            return promise;
        }
    }.call;
}
