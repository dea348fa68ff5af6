//! The Windows files' tests, through the exported C functions (run under
//! Wine on Linux: `zig build test -Dtarget=x86_64-windows-gnu -fwine`, .ci/run).

const std = @import("std");
const api = @import("api.zig");
const views = @import("views.zig");
const robust = @import("../robust.zig");
const wait = @import("wait.zig");
const testing = std.testing;
const neg = api.neg;

const S = struct {
    extern fn sa_shm_open_fd(name: [*:0]const u8, create: c_int, file: c_int) c_int;
    extern fn sa_shm_fd_size(fd: c_int) f64;
    extern fn sa_shm_fd_truncate(fd: c_int, len: f64) c_int;
    extern fn sa_shm_fd_reserve(fd: c_int, len: f64) c_int;
    extern fn sa_shm_map(fd: c_int, len: f64) ?*anyopaque;
    extern fn sa_shm_map_error() c_int;
    extern fn sa_shm_unmap(p: ?*anyopaque, len: f64) c_int;
    extern fn sa_shm_fd_check(fd: c_int) c_int;
    extern fn sa_shm_fd_identity(fd: c_int, out: ?[*]u8) c_int;
    extern fn sa_shm_retire(base: ?*anyopaque, len: f64) c_int;
    extern fn sa_shm_close_fd(fd: c_int) c_int;
    extern fn sa_shm_remove(name: [*:0]const u8, file: c_int) c_int;
};

fn unique(buf: []u8, comptime fmt: []const u8) [:0]const u8 {
    return std.fmt.bufPrintSentinel(buf, fmt, .{api.GetCurrentThreadId()}, 0) catch unreachable;
}

/// Creates a segment as SharedMemory.create does: open, size, reserve, map, close.
fn create(name: [*:0]const u8, file: c_int, len: f64) !*anyopaque {
    const fd = S.sa_shm_open_fd(name, 1, file);
    try testing.expect(fd >= 0);
    defer _ = S.sa_shm_close_fd(fd);
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_fd_truncate(fd, len));
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_fd_reserve(fd, len));
    return S.sa_shm_map(fd, len) orelse error.MapFailed;
}

/// Opens and maps all of a segment, as SharedMemory.open does.
fn open(name: [*:0]const u8, file: c_int, len: f64) !*anyopaque {
    const fd = S.sa_shm_open_fd(name, 0, file);
    try testing.expect(fd >= 0);
    defer _ = S.sa_shm_close_fd(fd);
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_fd_check(fd));
    try testing.expectEqual(len, S.sa_shm_fd_size(fd));
    return S.sa_shm_map(fd, len) orelse error.MapFailed;
}

test "a named mapping: created owner-only, opened by name, shared between views, exclusive, gone with its last view" {
    var b: [64]u8 = undefined;
    const name = unique(&b, "/sa-zig-win-{d}");
    try testing.expectEqual(neg(.NOENT), S.sa_shm_open_fd(name, 0, 0));
    const p: *u64 = @ptrCast(@alignCast(try create(name, 0, 100)));
    const q: *u64 = @ptrCast(@alignCast(try open(name, 0, 100)));
    try testing.expect(p != q);
    _ = @atomicRmw(u64, p, .Add, 41, .seq_cst);
    _ = @atomicRmw(u64, q, .Add, 1, .seq_cst);
    try testing.expectEqual(@as(u64, 42), @atomicLoad(u64, p, .seq_cst));
    // exclusive creation, in either step
    try testing.expectEqual(neg(.EXIST), S.sa_shm_open_fd(name, 1, 0));
    // a named mapping has no identity to give
    const fd = S.sa_shm_open_fd(name, 0, 0);
    var id: [16]u8 = undefined;
    try testing.expectEqual(@as(c_int, 1), S.sa_shm_fd_identity(fd, &id));
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_fd_truncate(fd, 100)); // its own size: nothing to do
    try testing.expectEqual(neg(.INVAL), S.sa_shm_fd_truncate(fd, 200));
    _ = S.sa_shm_close_fd(fd);
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_remove(name, 0)); // no name to remove: it stays while mapped
    const r = try open(name, 0, 100);
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_unmap(r, 100));
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_unmap(p, 100));
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_unmap(q, 100));
    // the last view gone, so is the name
    try testing.expectEqual(neg(.NOENT), S.sa_shm_open_fd(name, 0, 0));
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_remove(name, 0));
    try testing.expectEqual(neg(.BADF), S.sa_shm_close_fd(fd));
    try testing.expect(S.sa_shm_map(-1, 8) == null and S.sa_shm_map_error() == @backingInt(std.os.linux.E.BADF));
}

test "the two steps of creating a named mapping: a name taken in between is EEXIST" {
    var b: [64]u8 = undefined;
    const name = unique(&b, "/sa-zig-win-race-{d}");
    const fd = S.sa_shm_open_fd(name, 1, 0);
    try testing.expect(fd >= 0);
    const other = try create(name, 0, 64);
    try testing.expectEqual(neg(.EXIST), S.sa_shm_fd_truncate(fd, 64));
    _ = S.sa_shm_close_fd(fd);
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_unmap(other, 64));
}

test "a file: created exclusively, sized, mapped twice, identified; '..' and a trailing separator refused" {
    var b: [64]u8 = undefined;
    const path = unique(&b, "sa-zig-win-{d}.bin");
    _ = S.sa_shm_remove(path, 1);
    defer _ = S.sa_shm_remove(path, 1);
    const p: *u32 = @ptrCast(@alignCast(try create(path, 1, 8192)));
    try testing.expectEqual(neg(.EXIST), S.sa_shm_open_fd(path, 1, 1));
    const q: *u32 = @ptrCast(@alignCast(try open(path, 1, 8192)));
    @atomicStore(u32, p, 7, .seq_cst);
    try testing.expectEqual(@as(u32, 7), @atomicLoad(u32, q, .seq_cst));
    var a: [16]u8 = undefined;
    var c: [16]u8 = undefined;
    const f1 = S.sa_shm_open_fd(path, 0, 1);
    const f2 = S.sa_shm_open_fd(path, 0, 1);
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_fd_identity(f1, &a));
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_fd_identity(f2, &c));
    try testing.expectEqualSlices(u8, &a, &c);
    try testing.expectEqual(neg(.INVAL), S.sa_shm_fd_identity(f1, null));
    _ = S.sa_shm_close_fd(f1);
    _ = S.sa_shm_close_fd(f2);
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_unmap(p, 8192));
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_unmap(q, 8192));
    try testing.expectEqual(neg(.INVAL), S.sa_shm_open_fd("a/../b", 1, 1));
    try testing.expectEqual(neg(.ISDIR), S.sa_shm_open_fd("a\\", 1, 1));
    try testing.expectEqual(neg(.NOENT), S.sa_shm_open_fd("", 0, 1));
    try testing.expectEqual(neg(.NOENT), S.sa_shm_open_fd("sa-zig-win-missing\\x.bin", 0, 1));
}

test "retire replaces a view with zero pages at the same address" {
    var b: [64]u8 = undefined;
    const name = unique(&b, "/sa-zig-win-retire-{d}");
    const len = 3 * 4096;
    const base = try create(name, 0, len);
    const keep = try open(name, 0, len);
    const p: [*]u8 = @ptrCast(base);
    @memset(p[0..len], 0xab);
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_retire(base, len));
    for (p[0..len]) |x| try testing.expectEqual(@as(u8, 0), x);
    @memset(p[0..len], 0xcd); // private now
    const k: [*]u8 = @ptrCast(keep);
    for (k[0..len]) |x| try testing.expectEqual(@as(u8, 0xab), x);
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_unmap(base, len));
    try testing.expectEqual(@as(c_int, 0), S.sa_shm_unmap(keep, len));
    try testing.expectEqual(neg(.INVAL), S.sa_shm_retire(null, len));
}

// ---- waits -------------------------------------------------------------------------------

test "local words: not-equal, a timeout of at least its length, a zero timeout checks the value" {
    var word: u32 = 5;
    try testing.expectEqual(@as(c_int, wait.not_equal), wait.wait32(&word, 4, 1000));
    try testing.expectEqual(@as(c_int, wait.not_equal), wait.wait32(&word, 4, 0));
    try testing.expectEqual(@as(c_int, wait.timed_out), wait.wait32(&word, 5, 0));
    const t0 = api.nowMs();
    try testing.expectEqual(@as(c_int, wait.timed_out), wait.wait32(&word, 5, 30));
    try testing.expect(api.nowMs() - t0 >= 29);
    try testing.expectEqual(@as(c_int, 0), wait.wake32(&word, 1));
    try testing.expectEqual(@as(c_int, wait.not_equal), wait.wait32(&word, 0, std.math.floatMax(f64)));
}

const Waiter = struct {
    word: *u32,
    result: std.atomic.Value(c_int) = .init(-1),
    fn run(w: *Waiter) void {
        w.result.store(wait.wait32(w.word, 0, 20_000), .seq_cst);
    }
};

/// Starts a waiter on `wait_at`, then stores 1 and wakes through `wake_at` until it returns.
fn wakeAcross(wait_at: *u32, wake_at: *u32) !void {
    var w = Waiter{ .word = wait_at };
    const t = try std.Thread.spawn(.{}, Waiter.run, .{&w});
    api.Sleep(30);
    try testing.expectEqual(@as(c_int, -1), w.result.load(.seq_cst)); // still waiting
    @atomicStore(u32, wake_at, 1, .seq_cst);
    var woken: c_int = 0;
    while (w.result.load(.seq_cst) == -1) {
        woken += wait.wake32(wake_at, 0);
        api.Sleep(1);
    }
    t.join();
    try testing.expectEqual(@as(c_int, wait.ok), w.result.load(.seq_cst));
    try testing.expect(woken >= 1);
}

test "a local word is woken from another thread" {
    var word: u32 = 0;
    try wakeAcross(&word, &word);
}

test "a word in a named mapping is woken through another view of it (keyed by object and offset, not address)" {
    var b: [64]u8 = undefined;
    const name = unique(&b, "/sa-zig-win-wait-{d}");
    const a: [*]u32 = @ptrCast(@alignCast(try create(name, 0, 4096)));
    const c: [*]u32 = @ptrCast(@alignCast(try open(name, 0, 4096)));
    defer _ = S.sa_shm_unmap(a, 4096);
    defer _ = S.sa_shm_unmap(c, 4096);
    try testing.expect(@intFromPtr(a) != @intFromPtr(c));
    try wakeAcross(&a[10], &c[10]);
    // a timeout leaves nothing counted: the next wake wakes nobody
    try testing.expectEqual(@as(c_int, wait.timed_out), wait.wait32(&a[20], 0, 20));
    try testing.expectEqual(@as(c_int, 0), wait.wake32(&c[20], 0));
    try testing.expectEqual(@as(c_int, wait.not_equal), wait.wait32(&a[10], 0, 1000));
}

const Pong = struct {
    word: *u32,
    trips: u32,
    fn run(p: Pong) void {
        var i: u32 = 0;
        while (i < p.trips) : (i += 1) {
            while (true) {
                const v = @atomicLoad(u32, p.word, .seq_cst);
                if (v == 1) break;
                _ = wait.wait32(p.word, v, 2000);
            }
            @atomicStore(u32, p.word, 2, .seq_cst);
            _ = wait.wake32(p.word, 0);
        }
    }
};

test "ping-pong through two views, one wake per turn: no wake is lost" {
    var b: [64]u8 = undefined;
    const name = unique(&b, "/sa-zig-win-pong-{d}");
    const a: [*]u32 = @ptrCast(@alignCast(try create(name, 0, 4096)));
    const c: [*]u32 = @ptrCast(@alignCast(try open(name, 0, 4096)));
    defer _ = S.sa_shm_unmap(a, 4096);
    defer _ = S.sa_shm_unmap(c, 4096);
    const trips = 500;
    const t = try std.Thread.spawn(.{}, Pong.run, .{Pong{ .word = &c[5], .trips = trips }});
    var i: u32 = 0;
    var slow: u32 = 0;
    while (i < trips) : (i += 1) {
        @atomicStore(u32, &a[5], 1, .seq_cst);
        _ = wait.wake32(&a[5], 0);
        while (@atomicLoad(u32, &a[5], .seq_cst) != 2) {
            if (wait.wait32(&a[5], 1, 2000) == wait.timed_out) slow += 1;
        }
    }
    t.join();
    try testing.expectEqual(@as(u32, 0), slow); // a lost wake would time out
}

test "a word in a file mapping is woken through another view of it" {
    var b: [64]u8 = undefined;
    const path = unique(&b, "sa-zig-win-wait-{d}.bin");
    defer _ = S.sa_shm_remove(path, 1);
    const a: [*]u32 = @ptrCast(@alignCast(try create(path, 1, 4096)));
    const c: [*]u32 = @ptrCast(@alignCast(try open(path, 1, 4096)));
    defer _ = S.sa_shm_unmap(a, 4096);
    defer _ = S.sa_shm_unmap(c, 4096);
    try wakeAcross(&c[3], &a[3]);
}

// ---- robust words ------------------------------------------------------------------------

const Block = extern struct { w: [10]u32 align(8) = @splat(0) };

fn holdAndExit(b: *Block, tid: *u32) void {
    tid.* = @intCast(robust.robustTid());
    std.debug.assert(robust.robustCas(&b.w[0], 0, tid.*) == 1);
}

test "a word whose owner thread ended is found dead and taken, flagged as such" {
    try testing.expectEqual(@as(c_int, 0), robust.robustInit()); // no robust list: owners are checked
    try testing.expectEqual(@as(c_int, @bitCast(api.GetCurrentThreadId())), robust.robustTid());
    var row: [2]Block = @splat(.{});
    var tid: u32 = 0;
    const t = try std.Thread.spawn(.{}, holdAndExit, .{ &row[0], &tid });
    t.join();
    try testing.expectEqual(tid, row[0].w[0]);
    try testing.expectEqual(@as(c_int, 0), wait.threadAlive(@intCast(tid)));
    try testing.expectEqual(@as(c_int, 1), wait.threadAlive(wait.threadId()));
    try testing.expectEqual(@as(c_int, 1), robust.robustGone(tid));
    try testing.expectEqual(@as(c_int, -1), robust.robustBusy(&row[0].w[0], 2, 40, 0));
    try testing.expectEqual(@as(c_int, 0x10000), robust.robustClaim(&row[0].w[0], 2, 40, 0));
    try testing.expectEqual(@as(c_int, 1), robust.robustOwned(&row[0].w[0]));
    try testing.expectEqual(@as(c_int, 0), robust.robustBusy(&row[0].w[0], 2, 40, 0));
    try testing.expectEqual(@as(c_int, 0), robust.robustGone(@intCast(robust.robustTid())));
    try testing.expectEqual(@as(c_int, 1), robust.robustAbandon(&row[0].w[0]));
    try testing.expectEqual(robust.OWNER_DIED, row[0].w[0]);
}

fn semTake(m: *u32, n: u32) void {
    var out = [_]u32{ 0, 0, 0 };
    std.debug.assert(robust.semAcquire(m, n, &out) >= 0);
}

test "Semaphore: the permits of a holder thread that ended come back once, counted" {
    var m: extern struct { w: [robust.SEM_SLOT0 + robust.SEM_STRIDE * 4]u32 align(8) = @splat(0) } = .{};
    m.w[robust.SEM_MAX] = 5;
    m.w[robust.SEM_SLOTS] = 4;
    m.w[robust.SEM_AVAILABLE] = 5;
    const t = try std.Thread.spawn(.{}, semTake, .{ &m.w[0], 3 });
    t.join();
    try testing.expectEqual(@as(u32, 2), m.w[robust.SEM_AVAILABLE]);
    var out = [_]u32{ 0, 0, 0 };
    try testing.expect(robust.semAcquire(&m.w[0], 3, &out) >= 0);
    try testing.expectEqual(@as(u32, 3), out[0]);
    try testing.expect(robust.semAcquire(&m.w[0], 1, &out) >= 0);
    try testing.expectEqual(@as(u32, 0), out[0]);
    try testing.expectEqual(@as(c_int, 4), robust.semHeld(&m.w[0]));
    try testing.expectEqual(@as(c_int, 1), robust.semRelease(&m.w[0], 4, &out));
    try testing.expectEqual(@as(u32, 5), m.w[robust.SEM_AVAILABLE]);
}

test {
    _ = views;
}
