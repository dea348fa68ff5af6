//! Waiting on a 32-bit word across threads AND processes: the process-shared
//! futex on Linux (no FUTEX_PRIVATE_FLAG), `__ulock_wait`/`__ulock_wake` with
//! the shared operation on macOS. (Zig's std.Thread.Futex uses the private
//! forms, which do not work across processes.) Also: the calling thread's
//! id and whether a thread id is still alive, for robust locks. (Asynchronous
//! waits are the runtimes' business: Deno calls `sa_wait32` nonblocking, Bun
//! from an internal Worker; a native thread calling back into JavaScript
//! would crash the process if the waiting Worker were terminated first.)

const std = @import("std");
const builtin = @import("builtin");
const abi = @import("abi.zig");
const linux = std.os.linux;
const is_linux = builtin.os.tag == .linux;
const is_darwin = builtin.os.tag.isDarwin();

/// What `sa_wait32` returns. `zig build gen` writes them into the header
/// (`SA_WAIT_*`) and the TypeScript module (`WAIT_RESULTS`, `_` as `-`).
pub const Result = enum(c_int) {
    /// Woken (or spuriously, as with any futex).
    ok = 0,
    /// The value differed at the start.
    not_equal = 1,
    timed_out = 2,
};
pub const ok = @backingInt(Result.ok);
pub const not_equal = @backingInt(Result.not_equal);
pub const timed_out = @backingInt(Result.timed_out);

const darwin = struct {
    const UL_COMPARE_AND_WAIT_SHARED: u32 = 3;
    const ULF_WAKE_ALL: u32 = 0x100;
    const ULF_NO_ERRNO: u32 = 0x01000000;
    extern "c" fn __ulock_wait(op: u32, addr: ?*anyopaque, value: u64, timeout_us: u32) c_int;
    extern "c" fn __ulock_wake(op: u32, addr: ?*anyopaque, wake_value: u64) c_int;
};

extern "c" fn kill(pid: c_int, sig: c_int) c_int;
extern "c" fn getpid() c_int;
extern "c" fn usleep(us: c_uint) c_int;

fn nowMs() f64 {
    var ts: std.c.timespec = undefined;
    _ = std.c.clock_gettime(.MONOTONIC, &ts);
    return @as(f64, @floatFromInt(ts.sec)) * 1000 + @as(f64, @floatFromInt(ts.nsec)) / 1e6;
}

/// One kernel wait of at most `ms` milliseconds (0 < ms <= max_slice_ms).
/// Returns ok (woken, or spuriously), not_equal or timed_out.
fn waitOnce(addr: *const u32, expected: u32, ms: f64) c_int {
    if (is_linux) {
        const whole = @floor(ms / 1000);
        const ts: linux.timespec = .{
            .sec = @intFromFloat(whole),
            .nsec = @intFromFloat(@min(@max((ms - whole * 1000) * 1e6, 0), 999_999_999)),
        };
        const rc = linux.futex_4arg(addr, .{ .cmd = .WAIT, .private = false }, expected, &ts);
        return switch (linux.errno(rc)) {
            .SUCCESS, .INTR => ok,
            .AGAIN => not_equal,
            .TIMEDOUT => timed_out,
            else => ok,
        };
    } else if (is_darwin) {
        // timeout 0 means forever for __ulock_wait: clamp to >= 1 us (and to u32)
        const us: u32 = @intFromFloat(@max(1, @min(ms * 1000, 4e9)));
        if (@atomicLoad(u32, addr, .seq_cst) != expected) return not_equal;
        const rc = darwin.__ulock_wait(darwin.UL_COMPARE_AND_WAIT_SHARED | darwin.ULF_NO_ERRNO, @constCast(addr), expected, us);
        if (rc >= 0) return ok;
        return if (-rc == @backingInt(std.c.E.TIMEDOUT)) timed_out else ok;
    } else @compileError("waiting is not supported on this OS");
}

/// The longest single kernel wait, in milliseconds (a day): a longer finite
/// timeout waits in slices of this until its deadline, so no conversion to
/// the kernel's integer timeouts can overflow.
const max_slice_ms: f64 = 86_400_000;

pub fn wait32(addr: *const u32, expected: u32, timeout_ms: f64) callconv(.c) c_int {
    const forever = !(timeout_ms >= 0) or timeout_ms == std.math.inf(f64);
    const deadline = if (forever) std.math.inf(f64) else nowMs() + timeout_ms;
    var first = true;
    while (true) : (first = false) {
        const left = if (forever) std.math.inf(f64) else deadline - nowMs();
        if (left <= 0) {
            if (first and @atomicLoad(u32, addr, .seq_cst) != expected) return not_equal;
            return timed_out;
        }
        const r = waitOnce(addr, expected, @min(left, max_slice_ms));
        // a value that changed between slices means we were (about to be) woken
        if (r == not_equal) return if (first) not_equal else ok;
        if (r == ok) return ok;
        if (!forever and nowMs() >= deadline) return timed_out;
    }
}

pub fn wake32(addr: *const u32, count: c_int) callconv(.c) c_int {
    if (is_linux) {
        const n: u32 = if (count <= 0) std.math.maxInt(i32) else @intCast(count);
        const rc = linux.futex_3arg(addr, .{ .cmd = .WAKE, .private = false }, n);
        return if (linux.errno(rc) == .SUCCESS) @intCast(rc) else 0;
    } else if (is_darwin) {
        var woken: c_int = 0;
        const all = count <= 0 or count > 1;
        const op = darwin.UL_COMPARE_AND_WAIT_SHARED | darwin.ULF_NO_ERRNO | (if (all) darwin.ULF_WAKE_ALL else 0);
        if (darwin.__ulock_wake(op, @constCast(addr), 0) >= 0) woken = 1;
        return woken;
    } else @compileError("waking is not supported on this OS");
}

pub fn threadId() callconv(.c) c_int {
    return if (is_linux) linux.gettid() else getpid();
}

pub fn threadAlive(id: c_int) callconv(.c) c_int {
    if (id <= 0) return 0;
    if (kill(id, 0) == 0) return 1;
    return if (std.c._errno().* == @backingInt(std.c.E.SRCH)) 0 else 1;
}

/// Sleeps for `ms` milliseconds (tests).
fn sleepMs(ms: f64) void {
    _ = usleep(@intFromFloat(@max(0, @min(ms * 1000, 4e9))));
}

/// The C functions (Linux and macOS).
pub const c_exports = abi.group("wait", "wait.zig: Waiting on a 32-bit word across threads AND processes: the " ++
    "process-shared futex on Linux (no FUTEX_PRIVATE_FLAG), __ulock_wait/__ulock_wake with the shared " ++
    "operation on macOS; Windows: zig/windows/wait.zig.", .{ .platform = .linux_macos_windows }, &.{
    abi.func("sa_wait32", wait32, &.{ "addr", "expected", "timeout_ms" },
        \\Waits while *addr == expected, up to timeout_ms (negative, NaN or infinite: forever): SA_WAIT_OK
        \\(woken; may be spurious, as with any futex), SA_WAIT_NOT_EQUAL (the value differed at the start) or
        \\SA_WAIT_TIMED_OUT. The value is checked first, also with a zero timeout. Any finite timeout means at
        \\least that long: a huge one (up to the largest double) waits in slices of a day until its deadline,
        \\never returning early.
    ),
    abi.func("sa_wake32", wake32, &.{ "addr", "count" },
        \\Wakes up to count waiters on addr (count <= 0: all); returns how many were woken (Linux; on macOS 1
        \\if any, since __ulock_wake does not count).
    ),
    abi.func("sa_thread_id", threadId, &.{},
        \\The calling thread's id: unique across the system while it lives (Linux tid); the process id
        \\elsewhere.
    ),
    abi.func("sa_thread_alive", threadAlive, &.{"id"}, "Whether thread (or process) id is alive: 1 yes, 0 no."),
});

test "wait returns not-equal, times out, and is woken across threads" {
    var word: u32 = 5;
    try std.testing.expectEqual(@as(c_int, not_equal), wait32(&word, 4, 1000));
    const t0 = nowMs();
    try std.testing.expectEqual(@as(c_int, timed_out), wait32(&word, 5, 30));
    try std.testing.expect(nowMs() - t0 >= 29);
    try std.testing.expectEqual(@as(c_int, 0), wake32(&word, 1));
    try std.testing.expect(threadAlive(threadId()) == 1);
    try std.testing.expect(threadAlive(0) == 0);
}

var woke = std.atomic.Value(c_int).init(-1);

fn waiter(word: *u32) void {
    woke.store(wait32(word, 0, -1), .seq_cst);
}

test "a zero timeout checks the value first" {
    var word: u32 = 5;
    try std.testing.expectEqual(@as(c_int, not_equal), wait32(&word, 4, 0));
    try std.testing.expectEqual(@as(c_int, timed_out), wait32(&word, 5, 0));
    try std.testing.expectEqual(@as(c_int, timed_out), wait32(&word, 5, 1e-9));
}

var huge_woke = std.atomic.Value(c_int).init(-1);

fn hugeWaiter(word: *u32) void {
    huge_woke.store(wait32(word, 0, 1e22), .seq_cst);
}

test "a huge finite timeout waits (it does not return at once), and is woken" {
    var word: u32 = 0;
    const t = try std.Thread.spawn(.{}, hugeWaiter, .{&word});
    sleepMs(50);
    try std.testing.expectEqual(@as(c_int, -1), huge_woke.load(.seq_cst));
    @atomicStore(u32, &word, 1, .seq_cst);
    while (wake32(&word, 0) == 0 and huge_woke.load(.seq_cst) == -1) sleepMs(1);
    t.join();
    try std.testing.expectEqual(@as(c_int, ok), huge_woke.load(.seq_cst));
    // and every timeout size converts safely: the largest double, and just above a slice
    try std.testing.expectEqual(@as(c_int, not_equal), wait32(&word, 0, std.math.floatMax(f64)));
    try std.testing.expectEqual(@as(c_int, not_equal), wait32(&word, 0, max_slice_ms * 3));
}

test "wait is woken by wake from another thread" {
    var word: u32 = 0;
    const t = try std.Thread.spawn(.{}, waiter, .{&word});
    sleepMs(30);
    @atomicStore(u32, &word, 1, .seq_cst);
    while (wake32(&word, 0) == 0 and woke.load(.seq_cst) == -1) sleepMs(1);
    t.join();
    try std.testing.expectEqual(@as(c_int, ok), woke.load(.seq_cst));
}
