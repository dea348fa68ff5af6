//! The views of shared memory this process has mapped (`sa_shm_map`), each
//! with the key of the object it maps, so that a wait on an address inside
//! one is keyed by (object, offset): the same in every process, whatever
//! address its view has (zig/windows/wait.zig). Each view also keeps the
//! object's companion mapping open: its exact size and its wait counters.

const std = @import("std");
const api = @import("api.zig");

/// The most views mapped at once (a SharedMemory is one view).
pub const MAX = 1024;

pub const View = struct {
    base: usize = 0,
    len: usize = 0,
    /// Identifies the mapped object across processes (a hash of its name,
    /// or of its file's volume and index).
    key: u64 = 0,
    /// A handle to a named mapping, open while the view is: a name lives
    /// while a handle to it does (a view alone does not keep it).
    handle: ?api.HANDLE = null,
    /// The object's companion mapping, and its handle (kept for the same reason).
    meta: *Meta = undefined,
    meta_handle: ?api.HANDLE = null,
};

/// Waiting words are hashed into this many counters (and semaphores) per object.
pub const COUNTERS = 1024;

/// An object's companion: a named mapping ("Local\shared-atomic-meta-<key>")
/// that every view of the object keeps open.
pub const Meta = extern struct {
    /// The exact size a named mapping was created with (the system
    /// reports it rounded up to pages); 0 until the creator wrote it.
    size: u64,
    _pad: [56]u8,
    /// Waiters per bucket of the object's words (zig/windows/wait.zig).
    counters: [COUNTERS]u32,
};

var lock: api.SRWLOCK = .{};
var views: [MAX]View = @splat(.{});

/// Opens (creating if need be) the companion of object `key`; null (and the
/// last error set) on failure.
pub fn openMeta(key: u64, handle: *?api.HANDLE) ?*Meta {
    var buf: [64]u16 = undefined;
    const sa = api.ownerOnly() orelse return null;
    const h = api.CreateFileMappingW(null, sa, api.PAGE_READWRITE | api.SEC_COMMIT, 0, @sizeOf(Meta), name(&buf, key, null)) orelse
        return null;
    const p = api.MapViewOfFile(h, api.FILE_MAP_READ_WRITE, 0, 0, @sizeOf(Meta)) orelse {
        _ = api.CloseHandle(h);
        return null;
    };
    handle.* = h;
    return @ptrCast(@alignCast(p));
}

/// The companion of object `key` if it exists, mapped until `closeMeta`.
pub fn findMeta(key: u64, handle: *?api.HANDLE) ?*Meta {
    var buf: [64]u16 = undefined;
    const h = api.OpenFileMappingW(api.FILE_MAP_READ_WRITE, 0, name(&buf, key, null)) orelse return null;
    const p = api.MapViewOfFile(h, api.FILE_MAP_READ_WRITE, 0, 0, @sizeOf(Meta)) orelse {
        _ = api.CloseHandle(h);
        return null;
    };
    handle.* = h;
    return @ptrCast(@alignCast(p));
}

pub fn closeMeta(m: *Meta, handle: ?api.HANDLE) void {
    _ = api.UnmapViewOfFile(m);
    if (handle) |h| _ = api.CloseHandle(h);
}

/// Records a view (opening its object's companion); -errno if it cannot
/// (-EMFILE: MAX views are mapped already).
pub fn add(base: usize, len: usize, key: u64, handle: ?api.HANDLE) c_int {
    var mh: ?api.HANDLE = null;
    const meta = openMeta(key, &mh) orelse return api.lastErrno();
    api.AcquireSRWLockExclusive(&lock);
    defer api.ReleaseSRWLockExclusive(&lock);
    for (&views) |*v| if (v.base == 0) {
        v.* = .{ .base = base, .len = len, .key = key, .handle = handle, .meta = meta, .meta_handle = mh };
        return 0;
    };
    closeMeta(meta, mh);
    return api.neg(.MFILE);
}

/// Forgets the view at `base` (closing what it kept open); false if there is none.
pub fn remove(base: usize) bool {
    api.AcquireSRWLockExclusive(&lock);
    defer api.ReleaseSRWLockExclusive(&lock);
    for (&views) |*v| if (v.base == base) {
        closeMeta(v.meta, v.meta_handle);
        if (v.handle) |h| _ = api.CloseHandle(h);
        v.* = .{};
        return true;
    };
    return false;
}

/// Where a waited-on word lives: its object's key, its offset in the object
/// and the object's wait counters.
pub const Place = struct { key: u64, offset: usize, counters: *[COUNTERS]u32 };

/// The place of `addr` if a view holds it; null: memory of this process only.
pub fn find(addr: usize) ?Place {
    api.AcquireSRWLockShared(&lock);
    defer api.ReleaseSRWLockShared(&lock);
    for (&views) |*v| if (v.base != 0 and addr >= v.base and addr - v.base < v.len) {
        return .{ .key = v.key, .offset = addr - v.base, .counters = &v.meta.counters };
    };
    return null;
}

/// The name of an object's companion, or of its `bucket`'s semaphore.
pub fn name(buf: []u16, key: u64, bucket: ?u32) [:0]const u16 {
    var ascii: [64]u8 = undefined;
    const s = if (bucket) |b|
        std.fmt.bufPrint(&ascii, "Local\\shared-atomic-wait-{x:0>16}-{d}", .{ key, b }) catch unreachable
    else
        std.fmt.bufPrint(&ascii, "Local\\shared-atomic-meta-{x:0>16}", .{key}) catch unreachable;
    for (s, 0..) |ch, i| buf[i] = ch;
    buf[s.len] = 0;
    return buf[0..s.len :0];
}

/// FNV-1a over bytes.
pub fn hash(bytes: []const u8, seed: u64) u64 {
    var h: u64 = seed;
    for (bytes) |b| {
        h ^= b;
        h *%= 0x100000001b3;
    }
    return h;
}

pub const fnv_offset: u64 = 0xcbf29ce484222325;
