//! Waiting on a 32-bit word on Windows, behind zig/wait.zig's C functions.
//! Windows has no cross-process WaitOnAddress, so (docs/windows.md):
//!
//! - a word inside a view of shared memory this library mapped
//!   (zig/windows/views.zig) is keyed by (object, offset), the same in every
//!   process: its offset hashes to one of 1024 buckets of the object, each a
//!   waiter counter in a named 4 KiB mapping of the object's
//!   ("Local\shared-atomic-waits-<key>") and a named semaphore
//!   ("Local\shared-atomic-wait-<key>-<bucket>"). A waiter adds itself to the
//!   counter, then checks the word, then waits on the semaphore; a waker
//!   swaps the counter to 0 and releases the semaphore that many times. A
//!   semaphore keeps its count, so a wake between the check and the wait is
//!   not lost; words of one bucket share it, so a wake may wake waiters of
//!   another word of the bucket (spuriously, which every caller allows);
//! - any other word (a SharedArrayBuffer, memory of this process only) uses
//!   WaitOnAddress / WakeByAddress*, which work between threads of a process.

const std = @import("std");
const abi = @import("../abi.zig");
const api = @import("api.zig");
const views = @import("views.zig");

pub const Result = enum(c_int) { ok = 0, not_equal = 1, timed_out = 2 };
pub const ok = @backingInt(Result.ok);
pub const not_equal = @backingInt(Result.not_equal);
pub const timed_out = @backingInt(Result.timed_out);

/// The longest single wait: a day, as on POSIX.
const max_slice_ms: f64 = 86_400_000;

fn load(addr: *const u32) u32 {
    return @atomicLoad(u32, addr, .seq_cst);
}

/// Waits in slices until woken or the deadline; `once(ms)` is one wait of at
/// most `ms` (true: woken).
fn sliced(timeout_ms: f64, context: anytype, comptime once: fn (@TypeOf(context), u32) bool) c_int {
    const forever = !(timeout_ms >= 0) or timeout_ms == std.math.inf(f64);
    const deadline = if (forever) std.math.inf(f64) else api.nowMs() + timeout_ms;
    while (true) {
        const left = if (forever) max_slice_ms else @min(deadline - api.nowMs(), max_slice_ms);
        if (left <= 0) return timed_out;
        // round up: a wait never ends before its timeout
        if (once(context, @intFromFloat(@ceil(left)))) return ok;
    }
}

// ---- words of this process only: WaitOnAddress -----------------------------------------

/// Waiters per hashed address, so a wake can say how many it may have woken.
var local_waiters: [256]std.atomic.Value(u32) = @splat(.init(0));

fn localBucket(addr: *const u32) *std.atomic.Value(u32) {
    return &local_waiters[(@intFromPtr(addr) >> 2) % local_waiters.len];
}

const Local = struct { addr: *const u32, expected: u32 };

fn localOnce(l: Local, ms: u32) bool {
    if (load(l.addr) != l.expected) return true;
    return api.WaitOnAddress(l.addr, &l.expected, 4, ms) != 0;
}

fn localWait(addr: *const u32, expected: u32, timeout_ms: f64) c_int {
    const b = localBucket(addr);
    _ = b.fetchAdd(1, .seq_cst);
    defer _ = b.fetchSub(1, .seq_cst);
    if (load(addr) != expected) return not_equal;
    if (timeout_ms == 0) return timed_out;
    return sliced(timeout_ms, Local{ .addr = addr, .expected = expected }, localOnce);
}

fn localWake(addr: *const u32, count: c_int) c_int {
    const n: c_int = @intCast(@min(localBucket(addr).load(.seq_cst), std.math.maxInt(i32)));
    if (count == 1) api.WakeByAddressSingle(addr) else api.WakeByAddressAll(addr);
    return if (count <= 0) n else @min(n, count);
}

// ---- words in shared memory: counters and named semaphores -----------------------------

fn bucketOf(p: views.Place) u32 {
    return @intCast((p.offset >> 2) % views.COUNTERS);
}

fn semOnce(sem: api.HANDLE, ms: u32) bool {
    return api.WaitForSingleObject(sem, ms) == api.WAIT_OBJECT_0;
}

fn sharedWait(p: views.Place, addr: *const u32, expected: u32, timeout_ms: f64) c_int {
    if (load(addr) != expected) return not_equal;
    if (timeout_ms == 0) return timed_out;
    const bucket = bucketOf(p);
    var buf: [64]u16 = undefined;
    // cannot wait (no security descriptor, no semaphore): a short spurious wake, after which the caller re-checks
    const sa = api.ownerOnly() orelse return spurious();
    const sem = api.CreateSemaphoreW(sa, 0, std.math.maxInt(i32), views.name(&buf, p.key, bucket)) orelse return spurious();
    defer _ = api.CloseHandle(sem);
    const counter = &p.counters[bucket];
    _ = @atomicRmw(u32, counter, .Add, 1, .seq_cst);
    if (load(addr) != expected) {
        leave(counter);
        return not_equal;
    }
    const r = sliced(timeout_ms, sem, semOnce);
    if (r == timed_out) leave(counter);
    return r;
}

fn spurious() c_int {
    api.Sleep(1);
    return ok;
}

/// A waiter that stops waiting without a token takes itself off the
/// counter, unless a waker already took the count (then it left a token
/// behind: one later spurious wake).
fn leave(counter: *u32) void {
    var v = @atomicLoad(u32, counter, .seq_cst);
    while (v > 0) {
        v = @cmpxchgWeak(u32, counter, v, v - 1, .seq_cst, .seq_cst) orelse return;
    }
}

fn sharedWake(p: views.Place, count: c_int) c_int {
    const bucket = bucketOf(p);
    const n = @atomicRmw(u32, &p.counters[bucket], .Xchg, 0, .seq_cst);
    if (n == 0) return 0;
    var buf: [64]u16 = undefined;
    const sem = api.OpenSemaphoreW(api.SEMAPHORE_MODIFY_STATE, 0, views.name(&buf, p.key, bucket)) orelse return 0;
    defer _ = api.CloseHandle(sem);
    const k: i32 = @intCast(@min(n, std.math.maxInt(i32)));
    if (api.ReleaseSemaphore(sem, k, null) == 0) return 0;
    return if (count <= 0) k else @min(k, count);
}

pub fn wait32(addr: *const u32, expected: u32, timeout_ms: f64) callconv(.c) c_int {
    const p = views.find(@intFromPtr(addr)) orelse return localWait(addr, expected, timeout_ms);
    return sharedWait(p, addr, expected, timeout_ms);
}

pub fn wake32(addr: *const u32, count: c_int) callconv(.c) c_int {
    const p = views.find(@intFromPtr(addr)) orelse return localWake(addr, count);
    return sharedWake(p, count);
}

pub fn threadId() callconv(.c) c_int {
    return @bitCast(api.GetCurrentThreadId());
}

/// Whether thread `id` runs: 1 yes, 0 no. A thread's object is signalled
/// when it ends (its exit code could be STILL_ACTIVE's 259 by chance); an id
/// Windows has given to a new thread since counts as alive.
pub fn threadAlive(id: c_int) callconv(.c) c_int {
    if (id <= 0) return 0;
    const h = api.OpenThread(api.SYNCHRONIZE | api.THREAD_QUERY_LIMITED_INFORMATION, 0, @bitCast(id)) orelse
        return if (api.GetLastError() == api.ERROR_INVALID_PARAMETER) 0 else 1;
    defer _ = api.CloseHandle(h);
    return @intFromBool(api.WaitForSingleObject(h, 0) == api.WAIT_TIMEOUT);
}

pub const c_exports = abi.group("wait", "wait.zig: Waiting on a 32-bit word across threads AND processes: the " ++
    "process-shared futex on Linux (no FUTEX_PRIVATE_FLAG), __ulock_wait/__ulock_wake with the shared " ++
    "operation on macOS; Windows: zig/windows/wait.zig.", .{ .platform = .linux_macos_windows }, &.{
    abi.func("sa_wait32", wait32, &.{ "addr", "expected", "timeout_ms" },
        \\Windows: as on POSIX; a word in a SharedMemory waits on its object's named semaphore, any other
        \\on WaitOnAddress.
    ),
    abi.func("sa_wake32", wake32, &.{ "addr", "count" },
        \\Windows: wakes the waiters of addr's bucket (a SharedMemory) or addr (WakeByAddress*); returns how
        \\many it may have woken.
    ),
    abi.func("sa_thread_id", threadId, &.{}, "The calling thread's id (GetCurrentThreadId)."),
    abi.func("sa_thread_alive", threadAlive, &.{"id"}, "Whether thread id runs: 1 yes, 0 no."),
});
