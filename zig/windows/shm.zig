//! Named shared memory on Windows, behind the same C functions as the POSIX
//! zig/shm.zig (same names, same signatures, so the TypeScript side composes
//! them the same way): a name "/x" is the pagefile-backed file mapping
//! "Local\x" (CreateFileMappingW/OpenFileMappingW), a path is a file mapped
//! through an unnamed mapping of it. Every object created gets a DACL that
//! grants the current user everything and nobody else anything.
//!
//! What a POSIX descriptor is here: a small index into a table of this
//! library ("slots"), each holding a file handle or a mapping handle. A
//! named mapping needs its size when it is created, so creating one takes
//! two steps, as on POSIX: `sa_shm_open_fd(create)` checks the name is free
//! and reserves a slot; `sa_shm_fd_truncate` creates the mapping, failing
//! with -EEXIST if the name was taken in between. Errors are Linux errno
//! numbers (what the TypeScript side names), mapped from the Win32 errors.

const std = @import("std");
const abi = @import("../abi.zig");
const api = @import("api.zig");
const views = @import("views.zig");
const E = std.os.linux.E;
const neg = api.neg;

const Slot = struct {
    used: bool = false,
    file: bool = false,
    /// The file or mapping handle; null for a named mapping not sized yet.
    handle: ?api.HANDLE = null,
    /// The mapping's name "Local\<name>" (named mappings).
    name: [272]u16 = undefined,
    /// See views.View.key.
    key: u64 = 0,
    /// The companion mapping's handle, from sizing a named mapping to closing the descriptor.
    meta: ?api.HANDLE = null,
};

const SLOTS = 64;
var slots: [SLOTS]Slot = @splat(.{});
var slots_lock: api.SRWLOCK = .{};

fn claim() ?c_int {
    api.AcquireSRWLockExclusive(&slots_lock);
    defer api.ReleaseSRWLockExclusive(&slots_lock);
    for (&slots, 0..) |*s, i| if (!s.used) {
        s.* = .{ .used = true };
        return @intCast(i);
    };
    return null;
}

fn slotOf(fd: c_int) ?*Slot {
    if (fd < 0 or fd >= SLOTS) return null;
    const s = &slots[@intCast(fd)];
    return if (s.used) s else null;
}

/// A path: refused if empty, ending in a separator, or holding a ".." component (as on POSIX).
fn pathError(s: []const u8) ?c_int {
    if (s.len == 0) return neg(.NOENT);
    if (s[s.len - 1] == '/' or s[s.len - 1] == '\\') return neg(.ISDIR);
    var it = std.mem.splitAny(u8, s, "/\\");
    while (it.next()) |comp| if (std.mem.eql(u8, comp, "..")) return neg(.INVAL);
    return null;
}

/// The mapping name of "/x": "Local\x".
fn sectionName(buf: []u16, name: [*:0]const u8) ?[*:0]const u16 {
    const n = if (name[0] == '/') name + 1 else name;
    return api.wide(buf, "Local\\", n);
}

fn openFile(s: *Slot, name: [*:0]const u8, create: bool) c_int {
    if (pathError(std.mem.span(name))) |e| return e;
    var buf: [4096]u16 = undefined;
    const path = api.wide(&buf, "", name) orelse return neg(.NAMETOOLONG);
    const sa = if (create) (api.ownerOnly() orelse return neg(.ACCES)) else null;
    const h = api.handleOf(api.CreateFileW(
        path,
        api.GENERIC_READ | api.GENERIC_WRITE,
        api.FILE_SHARE_ALL,
        sa,
        if (create) api.CREATE_NEW else api.OPEN_EXISTING,
        api.FILE_ATTRIBUTE_NORMAL | api.FILE_FLAG_OPEN_REPARSE_POINT,
        null,
    )) orelse return api.lastErrno();
    var info: api.BY_HANDLE_FILE_INFORMATION = undefined;
    if (api.GetFileInformationByHandle(h, &info) == 0) {
        const e = api.lastErrno();
        _ = api.CloseHandle(h);
        return e;
    }
    // a symbolic link or junction as the last component: opened as itself, and refused
    if (info.dwFileAttributes & api.FILE_ATTRIBUTE_REPARSE_POINT != 0) {
        _ = api.CloseHandle(h);
        return neg(.LOOP);
    }
    s.file = true;
    s.handle = h;
    s.key = views.hash(std.mem.asBytes(&[3]u32{ info.dwVolumeSerialNumber, info.nFileIndexHigh, info.nFileIndexLow }), views.fnv_offset);
    return 0;
}

fn openSection(s: *Slot, name: [*:0]const u8, create: bool) c_int {
    const w = sectionName(&s.name, name) orelse return neg(.NAMETOOLONG);
    s.key = views.hash(std.mem.sliceAsBytes(std.mem.span(w)), views.fnv_offset);
    const access = api.FILE_MAP_READ_WRITE | api.SECTION_QUERY | 0x20000; // READ_CONTROL
    const h = api.OpenFileMappingW(access, 0, w);
    if (create) {
        if (h) |x| {
            _ = api.CloseHandle(x);
            return neg(.EXIST);
        }
        const err = api.GetLastError();
        if (err != api.ERROR_FILE_NOT_FOUND) return if (err == api.ERROR_INVALID_HANDLE) neg(.EXIST) else -api.errnoOf(err);
        return 0; // created by sa_shm_fd_truncate, which knows the size
    }
    s.handle = h orelse {
        const err = api.GetLastError();
        return if (err == api.ERROR_INVALID_HANDLE) neg(.INVAL) else -api.errnoOf(err);
    };
    return 0;
}

fn openFd(name: [*:0]const u8, create: c_int, file: c_int) callconv(.c) c_int {
    const fd = claim() orelse return neg(.MFILE);
    const s = &slots[@intCast(fd)];
    const rc = if (file != 0) openFile(s, name, create != 0) else openSection(s, name, create != 0);
    if (rc < 0) {
        s.used = false;
        return rc;
    }
    return fd;
}

const SectionBasicInformation = extern struct { base: ?*anyopaque, attributes: u32, size: i64 };
extern "ntdll" fn NtQuerySection(h: api.HANDLE, class: c_int, info: *anyopaque, len: usize, ret: ?*usize) callconv(.winapi) i32;

fn fdSize(fd: c_int) callconv(.c) f64 {
    const s = slotOf(fd) orelse return @floatFromInt(neg(.BADF));
    const h = s.handle orelse return 0;
    if (s.file) {
        var size: i64 = 0;
        if (api.GetFileSizeEx(h, &size) == 0) return @floatFromInt(api.lastErrno());
        return @floatFromInt(size);
    }
    // the size its creator wrote in the companion mapping, else the system's (whole pages)
    var mh: ?api.HANDLE = null;
    if (views.findMeta(s.key, &mh)) |meta| {
        defer views.closeMeta(meta, mh);
        const exact = @atomicLoad(u64, &meta.size, .seq_cst);
        if (exact != 0) return @floatFromInt(exact);
    }
    var info: SectionBasicInformation = undefined;
    if (NtQuerySection(h, 0, &info, @sizeOf(SectionBasicInformation), null) < 0) return @floatFromInt(neg(.IO));
    return @floatFromInt(info.size);
}

fn fdTruncate(fd: c_int, len: f64) callconv(.c) c_int {
    const s = slotOf(fd) orelse return neg(.BADF);
    if (!(len >= 0 and len <= 9007199254740991)) return neg(.INVAL);
    const n: u64 = @intFromFloat(len);
    if (s.file) {
        if (api.SetFilePointerEx(s.handle.?, @intCast(n), null, 0) == 0 or api.SetEndOfFile(s.handle.?) == 0) return api.lastErrno();
        return 0;
    }
    // a named mapping has its size for life: it is given here, once
    if (s.handle != null) return if (fdSize(fd) == len) 0 else neg(.INVAL);
    if (n == 0) return neg(.INVAL);
    const sa = api.ownerOnly() orelse return neg(.ACCES);
    const name: [*:0]const u16 = @ptrCast(&s.name);
    const h = api.CreateFileMappingW(null, sa, api.PAGE_READWRITE | api.SEC_COMMIT, @intCast(n >> 32), @truncate(n), name) orelse {
        const err = api.GetLastError();
        return if (err == api.ERROR_INVALID_HANDLE) neg(.EXIST) else -api.errnoOf(err);
    };
    if (api.GetLastError() == api.ERROR_ALREADY_EXISTS) { // created by another process since sa_shm_open_fd
        _ = api.CloseHandle(h);
        return neg(.EXIST);
    }
    // the exact size, for those who open it (the system rounds it up to pages)
    const meta = views.openMeta(s.key, &s.meta) orelse {
        const e = api.lastErrno();
        _ = api.CloseHandle(h);
        return e;
    };
    @atomicStore(u64, &meta.size, n, .seq_cst);
    _ = api.UnmapViewOfFile(meta);
    s.handle = h;
    return 0;
}

fn fdReserve(fd: c_int, len: f64) callconv(.c) c_int {
    _ = slotOf(fd) orelse return neg(.BADF);
    if (!(len >= 0 and len <= 9007199254740991)) return neg(.INVAL);
    // SEC_COMMIT charges a named mapping's pages against the commit limit
    // when it is created, and SetEndOfFile allocates a file's clusters
    // (NTFS files are not sparse unless asked): nothing is left to reserve.
    return 0;
}

threadlocal var map_error: c_int = 0;

fn fdMap(fd: c_int, len: f64) callconv(.c) ?*anyopaque {
    const s = slotOf(fd) orelse {
        map_error = @backingInt(E.BADF);
        return null;
    };
    if (!(len > 0 and len <= 9007199254740991) or s.handle == null) {
        map_error = @backingInt(E.INVAL);
        return null;
    }
    const n: usize = @intFromFloat(len);
    var section = s.handle.?;
    if (s.file) {
        section = api.CreateFileMappingW(s.handle.?, null, api.PAGE_READWRITE, 0, 0, null) orelse {
            map_error = api.errnoOf(api.GetLastError());
            return null;
        };
    }
    defer if (s.file) {
        _ = api.CloseHandle(section); // the view keeps the mapping alive
    };
    const p = api.MapViewOfFile(section, api.FILE_MAP_READ_WRITE, 0, 0, n) orelse {
        map_error = api.errnoOf(api.GetLastError());
        return null;
    };
    // A named mapping's name lives while a handle to it is open (not a
    // view): the view keeps one, so the name lives while any process maps it.
    var keep: ?api.HANDLE = null;
    if (!s.file) {
        var dup: api.HANDLE = undefined;
        if (api.DuplicateHandle(api.GetCurrentProcess(), section, api.GetCurrentProcess(), &dup, 0, 0, 2) == 0) { // DUPLICATE_SAME_ACCESS
            map_error = api.errnoOf(api.GetLastError());
            _ = api.UnmapViewOfFile(p);
            return null;
        }
        keep = dup;
    }
    const rc = views.add(@intFromPtr(p), n, s.key, keep);
    if (rc < 0) {
        _ = api.UnmapViewOfFile(p);
        if (keep) |k| _ = api.CloseHandle(k);
        map_error = -rc;
        return null;
    }
    return p;
}

fn mapError() callconv(.c) c_int {
    return map_error;
}

fn unmap(p: ?*anyopaque, len: f64) callconv(.c) c_int {
    _ = len;
    const addr = p orelse return neg(.INVAL);
    _ = views.remove(@intFromPtr(addr));
    if (api.UnmapViewOfFile(addr) != 0) return 0;
    // a retired view is private memory now
    return if (api.VirtualFree(addr, 0, api.MEM_RELEASE) != 0) 0 else api.lastErrno();
}

fn retire(base: ?*anyopaque, len: f64) callconv(.c) c_int {
    const addr = base orelse return neg(.INVAL);
    if (!(len > 0 and len <= 9007199254740991)) return neg(.INVAL);
    _ = views.remove(@intFromPtr(addr));
    if (api.UnmapViewOfFile(addr) == 0) return api.lastErrno();
    // Not atomic, unlike POSIX mmap(MAP_FIXED): between the two calls
    // another thread's allocation could take the range (then -ENOMEM).
    const p = api.VirtualAlloc(addr, @intFromFloat(len), api.MEM_RESERVE | api.MEM_COMMIT, api.PAGE_READWRITE) orelse return neg(.NOMEM);
    return if (p == addr) 0 else neg(.NOMEM);
}

fn closeFd(fd: c_int) callconv(.c) c_int {
    const s = slotOf(fd) orelse return neg(.BADF);
    if (s.handle) |h| _ = api.CloseHandle(h);
    if (s.meta) |h| _ = api.CloseHandle(h);
    api.AcquireSRWLockExclusive(&slots_lock);
    s.used = false;
    api.ReleaseSRWLockExclusive(&slots_lock);
    return 0;
}

fn remove(name: [*:0]const u8, file: c_int) callconv(.c) c_int {
    var buf: [4096]u16 = undefined;
    if (file != 0) {
        const path = api.wide(&buf, "", name) orelse return neg(.NAMETOOLONG);
        return if (api.DeleteFileW(path) != 0) 0 else api.lastErrno();
    }
    // A named mapping lives while a process has it open or mapped, and its
    // name with it: there is no name to remove, before or after the last
    // process is done with it (so close-then-unlink works as on POSIX).
    _ = sectionName(&buf, name) orelse return neg(.NAMETOOLONG);
    return 0;
}

/// 0 if the object is the current user's and no other user may open it, 1
/// if another user owns it, 2 if its DACL grants anybody else anything (or
/// it has none; SYSTEM and Administrators do not count), 3 if a path is not
/// a disk file; -errno.
fn fdCheck(fd: c_int) callconv(.c) c_int {
    const s = slotOf(fd) orelse return neg(.BADF);
    const h = s.handle orelse return 0;
    if (s.file and api.GetFileType(h) != api.FILE_TYPE_DISK) return 3;
    const me = api.userSid() orelse return neg(.ACCES);
    var owner: ?*anyopaque = null;
    var dacl: ?*anyopaque = null;
    var sd: ?*anyopaque = null;
    const kind = if (s.file) api.SE_FILE_OBJECT else api.SE_KERNEL_OBJECT;
    const err = api.GetSecurityInfo(h, kind, api.OWNER_SECURITY_INFORMATION | api.DACL_SECURITY_INFORMATION, &owner, null, &dacl, null, &sd);
    if (err != 0) return -api.errnoOf(err);
    defer _ = api.LocalFree(sd);
    if (owner == null or api.EqualSid(owner.?, me) == 0) return 1;
    const acl = dacl orelse return 2;
    const count = std.mem.readInt(u16, @as(*const [8]u8, @ptrCast(acl))[4..6], .little);
    var i: u32 = 0;
    while (i < count) : (i += 1) {
        var ace: ?*anyopaque = null;
        if (api.GetAce(acl, i, &ace) == 0) return 2;
        const bytes: [*]u8 = @ptrCast(ace.?);
        // ACCESS_ALLOWED_ACE: header (type, flags, size), mask, then the SID
        if (bytes[0] == 0 and !trusted(@ptrCast(bytes + 8), me)) return 2;
    }
    return 0;
}

/// SYSTEM (S-1-5-18) and Administrators (S-1-5-32-544), which can take any
/// object anyway: an ACE for them does not open it to other users.
var system_sid = [12]u8{ 1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0 };
var admins_sid = [16]u8{ 1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0 };

fn trusted(sid: *anyopaque, me: *anyopaque) bool {
    return api.EqualSid(sid, me) != 0 or api.EqualSid(sid, &system_sid) != 0 or api.EqualSid(sid, &admins_sid) != 0;
}

/// A file's volume serial number and file index (16 bytes); named mappings
/// have no identity to give (returns 1, writes zeros), as macOS shm.
fn fdIdentity(fd: c_int, out: ?[*]u8) callconv(.c) c_int {
    const o = out orelse return neg(.INVAL);
    const s = slotOf(fd) orelse return neg(.BADF);
    @memset(o[0..16], 0);
    if (!s.file) return 1;
    var info: api.BY_HANDLE_FILE_INFORMATION = undefined;
    if (api.GetFileInformationByHandle(s.handle.?, &info) == 0) return api.lastErrno();
    std.mem.writeInt(u64, o[0..8], info.dwVolumeSerialNumber, .little);
    std.mem.writeInt(u64, o[8..16], (@as(u64, info.nFileIndexHigh) << 32) | info.nFileIndexLow, .little);
    return 0;
}

/// The C functions: zig/shm.zig's, with the Windows meaning.
pub const c_exports = abi.group("shm", "shm.zig: Named shared memory for other processes: POSIX shm_open segments and files on a path, mapped MAP_SHARED; Windows: zig/windows/shm.zig.", .{ .platform = .all }, &.{
    abi.func("sa_shm_open_fd", openFd, &.{ "name", "create", "file" },
        \\Windows: opens the named mapping "Local\<name>" (without the leading "/") or the file `name` (refused
        \\if it is a symbolic link or junction, or has a ".." component); with `create`, checks the name is
        \\free (the mapping itself is created, owner-only, by `sa_shm_fd_truncate`) or creates the file
        \\exclusively with a DACL for the current user only. Returns a descriptor of this library, or -errno.
    ),
    abi.func("sa_shm_fd_size", fdSize, &.{"fd"}, "The size of the file or mapping, in bytes, or -errno."),
    abi.func("sa_shm_fd_truncate", fdTruncate, &.{ "fd", "len" },
        \\Sets a file's size; creates a named mapping of `len` bytes (-EEXIST if the name was taken since).
    ),
    abi.func("sa_shm_map", fdMap, &.{ "fd", "len" }, "Maps `len` bytes read-write; null on failure (then `sa_shm_map_error()`)."),
    abi.func("sa_shm_map_error", mapError, &.{}, "The errno of the calling thread's last failed `sa_shm_map`."),
    abi.func("sa_shm_unmap", unmap, &.{ "p", "len" }, "Unmaps the view (or retired memory) at `p`; 0 or -errno."),
    abi.func("sa_shm_fd_check", fdCheck, &.{"fd"},
        \\0 if the current user owns the object and its DACL allows nobody else; 1 another owner; 2 others
        \\allowed; 3 not a disk file; -errno.
    ),
    abi.func("sa_shm_fd_reserve", fdReserve, &.{ "fd", "len" }, "Windows: 0 (committed when created or sized)."),
    abi.func("sa_shm_fd_identity", fdIdentity, &.{ "fd", "out" },
        \\A file's volume serial number and file index (16 bytes at `out`): 0; a named mapping: 1 (none).
    ),
    abi.func("sa_shm_retire", retire, &.{ "base", "len" },
        \\Replaces the view at `base` with private zero pages at the same address (unmap, then allocate:
        \\-ENOMEM if another allocation took the range in between). 0 or -errno.
    ),
    abi.func("sa_shm_close_fd", closeFd, &.{"fd"}, "Closes the descriptor; 0 or -errno."),
    abi.func("sa_shm_remove", remove, &.{ "name", "file" },
        \\Deletes the file; a named mapping goes away with its last handle and view by itself: 0.
    ),
});
