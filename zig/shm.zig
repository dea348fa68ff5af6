//! Named shared memory for other processes: POSIX `shm_open` segments and
//! files on a path, mapped `MAP_SHARED`. Small C-ABI steps that the
//! TypeScript side composes (open → size/truncate → map → close the fd), each
//! returning a value ≥ 0 or a negative errno, so JavaScript can name the
//! error. Created with `O_CREAT | O_EXCL`, mode 0600, never following links.

const std = @import("std");
const builtin = @import("builtin");
const abi = @import("abi.zig");

const c = struct {
    extern "c" fn shm_open(name: [*:0]const u8, oflag: c_int, mode: c_uint) c_int;
    extern "c" fn shm_unlink(name: [*:0]const u8) c_int;
    extern "c" fn openat(dirfd: c_int, path: [*:0]const u8, oflag: c_int, ...) c_int;
    extern "c" fn readlinkat(dirfd: c_int, noalias path: [*:0]const u8, noalias buf: [*]u8, len: usize) isize;
    extern "c" fn unlink(path: [*:0]const u8) c_int;
    extern "c" fn close(fd: c_int) c_int;
    extern "c" fn fchmod(fd: c_int, mode: c_uint) c_int;
    extern "c" fn ftruncate(fd: c_int, len: i64) c_int;
    extern "c" fn lseek(fd: c_int, offset: i64, whence: c_int) i64;
    extern "c" fn mmap(addr: ?*anyopaque, len: usize, prot: c_int, flags: c_int, fd: c_int, offset: i64) ?*anyopaque;
    extern "c" fn munmap(addr: *anyopaque, len: usize) c_int;
};

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const SEEK_END = 2;
const MAP_FAILED: usize = std.math.maxInt(usize);

fn errno() c_int {
    return @intCast(std.c._errno().*);
}

fn flags(comptime create: bool, comptime file: bool) c_int {
    var o: std.c.O = .{ .ACCMODE = .RDWR, .CLOEXEC = true };
    if (create) {
        o.CREAT = true;
        o.EXCL = true;
    }
    if (file) o.NOFOLLOW = true;
    return @bitCast(@as(u32, @bitCast(o)));
}

fn openFd(name: [*:0]const u8, create: c_int, file: c_int) callconv(.c) c_int {
    const fd = switch ((@as(u2, @intFromBool(create != 0)) << 1) | @intFromBool(file != 0)) {
        0 => c.shm_open(name, flags(false, false), 0),
        1 => openPath(name, flags(false, true), 0),
        2 => c.shm_open(name, flags(true, false), 0o600),
        3 => openPath(name, flags(true, true), 0o600),
    };
    if (fd < 0) return if (file != 0) fd else -errno();
    // The umask can only remove bits; make 0600 exact all the same. (macOS
    // POSIX shm: fchmod is EINVAL on such a descriptor, and shm_open applies
    // no umask there; sa_shm_fd_check still verifies the mode.)
    if (create != 0 and c.fchmod(fd, 0o600) != 0) {
        const e = errno();
        if (is_darwin and file == 0 and e == @backingInt(std.c.E.INVAL)) return fd;
        _ = c.close(fd);
        return -e;
    }
    return fd;
}

fn neg(e: std.c.E) c_int {
    return -@as(c_int, @backingInt(e));
}

/// `open(path, oflag, mode)` that meets no symbolic link in any component
/// (O_NOFOLLOW alone covers only the last): Linux ≥ 5.6 resolves it in one
/// `openat2(RESOLVE_NO_SYMLINKS)`; older kernels, seccomp filters that
/// refuse openat2, and macOS walk it one component at a time. fd or -errno.
fn openPath(path: [*:0]const u8, oflag: c_int, mode: c_uint) c_int {
    const s = std.mem.span(path);
    if (s.len == 0) return neg(.NOENT);
    if (s[s.len - 1] == '/') return neg(.ISDIR);
    var it = std.mem.splitScalar(u8, s, '/');
    while (it.next()) |comp| if (std.mem.eql(u8, comp, "..")) return neg(.INVAL);
    if (builtin.os.tag == .linux) {
        const how: OpenHow = .{ .flags = @as(u32, @bitCast(oflag)), .mode = mode, .resolve = RESOLVE_NO_SYMLINKS };
        const rc = linux.syscall4(.openat2, @bitCast(@as(isize, std.c.AT.FDCWD)), @intFromPtr(path), @intFromPtr(&how), @sizeOf(OpenHow));
        switch (linux.errno(rc)) {
            .SUCCESS => return @intCast(rc),
            .NOSYS, .PERM => {}, // no openat2 here (or a filter says EPERM): walk
            else => |e| return -@as(c_int, @backingInt(e)),
        }
    }
    return walkOpen(s, oflag, mode);
}

const linux = std.os.linux;
/// `struct open_how` of openat2(2).
const OpenHow = extern struct { flags: u64, mode: u64, resolve: u64 };
const RESOLVE_NO_SYMLINKS: u64 = 0x04;

/// The component walk: each directory opened from the one before with
/// O_NOFOLLOW | O_DIRECTORY (O_PATH on Linux, so a search-only directory
/// will do; O_RDONLY on macOS), the last component with the caller's flags
/// (which carry O_NOFOLLOW). A symbolic link met on the way is -ELOOP.
/// `s` has no ".." component and no trailing '/'.
fn walkOpen(s: []const u8, oflag: c_int, mode: c_uint) c_int {
    var dir_o: std.c.O = .{ .ACCMODE = .RDONLY, .DIRECTORY = true, .NOFOLLOW = true, .CLOEXEC = true };
    if (@hasField(std.c.O, "PATH")) dir_o.PATH = true;
    const dir_flags: c_int = @bitCast(@as(u32, @bitCast(dir_o)));

    var dir: c_int = std.c.AT.FDCWD;
    defer if (dir >= 0) {
        _ = c.close(dir);
    };
    if (s[0] == '/') {
        dir = c.openat(std.c.AT.FDCWD, "/", dir_flags);
        if (dir < 0) return -errno();
    }
    var it = std.mem.tokenizeScalar(u8, s, '/');
    var comp = it.next() orelse return neg(.ISDIR); // "/" itself
    var buf: [256]u8 = undefined; // NAME_MAX + 1
    while (true) {
        if (comp.len >= buf.len) return neg(.NAMETOOLONG);
        @memcpy(buf[0..comp.len], comp);
        buf[comp.len] = 0;
        const z: [*:0]const u8 = buf[0..comp.len :0];
        const next = it.next() orelse {
            const fd = c.openat(dir, z, oflag, mode);
            if (fd >= 0) return fd;
            return -errno();
        };
        const sub = c.openat(dir, z, dir_flags);
        if (sub < 0) {
            const e = errno();
            // O_NOFOLLOW | O_DIRECTORY on a link is ENOTDIR on Linux:
            // readlinkat succeeds on links only.
            var one: [1]u8 = undefined;
            if (c.readlinkat(dir, z, &one, 1) >= 0) return neg(.LOOP);
            return -e;
        }
        if (dir >= 0) _ = c.close(dir);
        dir = sub;
        comp = next;
    }
}

fn fdSize(fd: c_int) callconv(.c) f64 {
    if (is_darwin) { // a macOS POSIX shm descriptor cannot lseek (ESPIPE)
        var st: Stat = undefined;
        const r = fileStat(fd, &st);
        return @floatFromInt(if (r < 0) r else @as(i64, @intCast(st.size)));
    }
    const end = c.lseek(fd, 0, SEEK_END);
    if (end < 0) return @floatFromInt(-errno());
    return @floatFromInt(end);
}

fn fdTruncate(fd: c_int, len: f64) callconv(.c) c_int {
    if (!(len >= 0 and len <= 9007199254740991)) return -@as(c_int, @backingInt(std.c.E.INVAL));
    return if (c.ftruncate(fd, @intFromFloat(len)) == 0) 0 else -errno();
}

/// What the checks below need of fstat(2).
const Stat = struct { dev: u64, ino: u64, mode: u32, uid: u32, size: u64 };

const is_darwin = builtin.os.tag.isDarwin();

/// fstat(2) of `fd` into `st`; 0 or -errno. Linux: statx (kernel ≥ 4.11),
/// else the fstat syscall (glibc 2.17 exports no `fstat` symbol, and
/// Zig 0.17's std.c has none for Linux); `dev` is encoded as glibc's
/// makedev does, which is what fstat's st_dev holds.
fn fileStat(fd: c_int, st: *Stat) c_int {
    if (builtin.os.tag == .linux) {
        var x: linux.Statx = undefined;
        const rc = linux.statx(fd, "", linux.AT.EMPTY_PATH, .{ .TYPE = true, .MODE = true, .UID = true, .INO = true, .SIZE = true }, &x);
        switch (linux.errno(rc)) {
            .SUCCESS => {
                const major: u64 = x.dev_major;
                const minor: u64 = x.dev_minor;
                st.* = .{
                    .dev = ((major & 0xfff) << 8) | ((major & ~@as(u64, 0xfff)) << 32) | (minor & 0xff) | ((minor & ~@as(u64, 0xff)) << 12),
                    .ino = x.ino,
                    .mode = x.mode,
                    .uid = x.uid,
                    .size = x.size,
                };
                return 0;
            },
            .NOSYS, .PERM => return linuxFstat(fd, st), // no statx (or a filter refuses it)
            else => |e| return -@as(c_int, @backingInt(e)),
        }
    } else {
        var s: std.c.Stat = undefined;
        if (std.c.fstat(fd, &s) != 0) return -errno();
        st.* = .{
            .dev = @as(u32, @bitCast(s.dev)),
            .ino = s.ino,
            .mode = s.mode,
            .uid = s.uid,
            .size = @intCast(s.size),
        };
        return 0;
    }
}

/// The fstat syscall, reading the kernel's `struct stat` of x86_64 or of
/// the generic layout (aarch64) by offset.
fn linuxFstat(fd: c_int, st: *Stat) c_int {
    const Off = struct { mode: usize, uid: usize, size: usize };
    const off: Off = switch (builtin.cpu.arch) {
        .x86_64 => .{ .mode = 24, .uid = 28, .size = 48 },
        .aarch64, .riscv64, .loongarch64 => .{ .mode = 16, .uid = 24, .size = 48 },
        else => return neg(.NOSYS),
    };
    var buf: [256]u8 align(8) = undefined;
    const rc = linux.syscall2(.fstat, @as(u32, @bitCast(fd)), @intFromPtr(&buf));
    if (linux.errno(rc) != .SUCCESS) return -@as(c_int, @backingInt(linux.errno(rc)));
    st.* = .{
        .dev = std.mem.readInt(u64, buf[0..8], .little),
        .ino = std.mem.readInt(u64, buf[8..16], .little),
        .mode = std.mem.readInt(u32, buf[off.mode..][0..4], .little),
        .uid = std.mem.readInt(u32, buf[off.uid..][0..4], .little),
        .size = std.mem.readInt(u64, buf[off.size..][0..8], .little),
    };
    return 0;
}

fn fdCheck(fd: c_int) callconv(.c) c_int {
    var st: Stat = undefined;
    const r = fileStat(fd, &st);
    if (r < 0) return r;
    const kind = st.mode & 0o170000;
    if (kind != 0o100000 and !(is_darwin and kind == 0)) return 3;
    if (st.uid != std.c.geteuid()) return 1;
    if (st.mode & 0o077 != 0) return 2;
    return 0;
}

fn fdReserve(fd: c_int, len: f64) callconv(.c) c_int {
    if (!(len >= 0 and len <= 9007199254740991)) return neg(.INVAL);
    if (builtin.os.tag != .linux or len == 0) return 0;
    while (true) {
        const rc = linux.fallocate(fd, 0, 0, @intFromFloat(len));
        switch (linux.errno(rc)) {
            .SUCCESS => return 0,
            .INTR => continue,
            else => |e| return -@as(c_int, @backingInt(e)),
        }
    }
}

fn fdIdentity(fd: c_int, out: ?[*]u8) callconv(.c) c_int {
    const o = out orelse return neg(.INVAL);
    var st: Stat = undefined;
    const r = fileStat(fd, &st);
    if (r < 0) return r;
    std.mem.writeInt(u64, o[0..8], st.dev, .little);
    std.mem.writeInt(u64, o[8..16], st.ino, .little);
    return @intFromBool(st.dev == 0 and st.ino == 0);
}

threadlocal var map_error: c_int = 0;

fn fdMap(fd: c_int, len: f64) callconv(.c) ?*anyopaque {
    if (!(len > 0 and len <= 9007199254740991)) {
        map_error = @backingInt(std.c.E.INVAL);
        return null;
    }
    const p = c.mmap(null, @intFromFloat(len), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == null or @intFromPtr(p) == MAP_FAILED) {
        map_error = errno();
        return null;
    }
    return p;
}

fn mapError() callconv(.c) c_int {
    return map_error;
}

fn unmap(p: ?*anyopaque, len: f64) callconv(.c) c_int {
    const addr = p orelse return -@as(c_int, @backingInt(std.c.E.INVAL));
    return if (c.munmap(addr, @intFromFloat(len)) == 0) 0 else -errno();
}

fn retire(base: ?*anyopaque, len: f64) callconv(.c) c_int {
    const addr = base orelse return -@as(c_int, @backingInt(std.c.E.INVAL));
    if (!(len > 0 and len <= 9007199254740991)) return -@as(c_int, @backingInt(std.c.E.INVAL));
    const map: std.c.MAP = .{ .TYPE = .PRIVATE, .FIXED = true, .ANONYMOUS = true, .NORESERVE = true };
    const p = c.mmap(addr, @intFromFloat(len), PROT_READ | PROT_WRITE, @bitCast(map), -1, 0);
    if (p == null or @intFromPtr(p) == MAP_FAILED) return -errno();
    return 0;
}

fn closeFd(fd: c_int) callconv(.c) c_int {
    return if (c.close(fd) == 0) 0 else -errno();
}

fn remove(name: [*:0]const u8, file: c_int) callconv(.c) c_int {
    const rc = if (file != 0) c.unlink(name) else c.shm_unlink(name);
    return if (rc == 0) 0 else -errno();
}

/// The C functions, in the header's order.
pub const c_exports = abi.group("shm", "shm.zig: Named shared memory for other processes: POSIX shm_open segments and files on a path, mapped MAP_SHARED; Windows: zig/windows/shm.zig.", .{ .platform = .all }, &.{
    abi.func("sa_shm_open_fd", openFd, &.{ "name", "create", "file" },
        \\Opens (or with `create`, exclusively creates, mode 0600) the segment `name` (`file` = 0: a POSIX shm
        \\name like "/x"; 1: a file path, relative to the cwd unless absolute, refused with -ELOOP if any
        \\component is a symbolic link and with -EINVAL if any component is ".."). Returns the fd, or -errno.
    ),
    abi.func("sa_shm_fd_size", fdSize, &.{"fd"},
        \\The size of what `fd` refers to, in bytes, or -errno.
    ),
    abi.func("sa_shm_fd_truncate", fdTruncate, &.{ "fd", "len" },
        \\Sets the size of `fd`'s object to `len` bytes; 0 or -errno.
    ),
    abi.func("sa_shm_map", fdMap, &.{ "fd", "len" },
        \\Maps `len` bytes of `fd` shared, read-write; null on failure (then `sa_shm_map_error()` is the
        \\errno).
    ),
    abi.func("sa_shm_map_error", mapError, &.{}, "The errno of the calling thread's last failed `sa_shm_map`."),
    abi.func("sa_shm_unmap", unmap, &.{ "p", "len" }, "Unmaps `len` bytes at `p`; 0 or -errno."),
    abi.func("sa_shm_fd_check", fdCheck, &.{"fd"},
        \\Whether a segment's descriptor is safe to map: 0 if it is a regular file (what shm objects are on
        \\Linux; on macOS a POSIX shm object reports no file type at all, which counts as one) owned by the
        \\effective user with no group or other permission bits; else, first match wins, 3 = not a regular
        \\file, 1 = owned by another user, 2 = group or other may access it; -errno if fstat fails.
    ),
    abi.func("sa_shm_fd_reserve", fdReserve, &.{ "fd", "len" },
        \\Reserves the backing store of bytes [0, len) of `fd`, so that a segment its filesystem cannot hold
        \\fails here (-ENOSPC, -EFBIG, ...) instead of with SIGBUS on first touch. Linux: fallocate(2) mode 0,
        \\which allocates (on tmpfs: commits the memory of) every page now and grows the size to `len` if it
        \\was smaller; -EOPNOTSUPP where the filesystem cannot. macOS: returns 0 and reserves nothing (no
        \\fallocate for shm objects). 0 or -errno.
    ),
    abi.func("sa_shm_fd_identity", fdIdentity, &.{ "fd", "out" },
        \\Writes what identifies the object behind `fd` (st_dev, then st_ino, each a little-endian u64: 16
        \\bytes) at `out`. Returns 0; 1 if the system gives none (macOS POSIX shm objects report st_dev =
        \\st_ino = 0, written as such, so a re-created segment cannot be told apart there); or -errno.
    ),
    abi.func("sa_shm_retire", retire, &.{ "base", "len" },
        \\Retires the mapping [base, base + len) of a closed segment: one `mmap(MAP_FIXED)` replaces it in
        \\place with private, anonymous, zero-filled pages, so a stale pointer another thread still holds
        \\reads and writes memory that belongs to nobody, never the segment nor whatever a later `mmap` puts
        \\there. The range is never unmapped in between (MAP_FIXED replaces atomically), and MAP_NORESERVE
        \\charges no swap until a page is written. The address range stays taken until `sa_shm_unmap`, which
        \\is safe only once no stale pointer can remain. 0 or -errno.
    ),
    abi.func("sa_shm_close_fd", closeFd, &.{"fd"}, "Closes `fd`; 0 or -errno."),
    abi.func("sa_shm_remove", remove, &.{ "name", "file" },
        \\Removes the name (`file` = 1: the path); 0 or -errno.
    ),
});

test "create, size, map, share, unmap, remove" {
    const name = "/sa-zig-unit-test";
    _ = remove(name, 0);
    const fd = openFd(name, 1, 0);
    try std.testing.expect(fd >= 0);
    try std.testing.expectEqual(@as(c_int, -@as(c_int, @backingInt(std.c.E.EXIST))), openFd(name, 1, 0));
    try std.testing.expectEqual(@as(c_int, 0), fdTruncate(fd, 4096));
    try std.testing.expectEqual(@as(f64, 4096), fdSize(fd));
    const p: *u64 = @ptrCast(@alignCast(fdMap(fd, 4096).?));
    try std.testing.expectEqual(@as(c_int, 0), closeFd(fd));
    const fd2 = openFd(name, 0, 0);
    const q: *u64 = @ptrCast(@alignCast(fdMap(fd2, 4096).?));
    _ = closeFd(fd2);
    _ = @atomicRmw(u64, p, .Add, 41, .seq_cst);
    _ = @atomicRmw(u64, q, .Add, 1, .seq_cst);
    try std.testing.expectEqual(@as(u64, 42), @atomicLoad(u64, p, .seq_cst));
    try std.testing.expectEqual(@as(c_int, 0), unmap(p, 4096));
    try std.testing.expectEqual(@as(c_int, 0), unmap(q, 4096));
    try std.testing.expectEqual(@as(c_int, 0), remove(name, 0));
    try std.testing.expectEqual(@as(c_int, -@as(c_int, @backingInt(std.c.E.NOENT))), openFd(name, 0, 0));
    try std.testing.expect(fdMap(-1, 4096) == null and mapError() == @backingInt(std.c.E.BADF));
}

test "retire replaces a mapping with inert zero pages in place" {
    const name = "/sa-zig-unit-test-retire";
    _ = remove(name, 0);
    defer _ = remove(name, 0);
    const fd = openFd(name, 1, 0);
    try std.testing.expect(fd >= 0);
    defer _ = closeFd(fd);
    const len = 3 * 4096;
    try std.testing.expectEqual(@as(c_int, 0), fdTruncate(fd, len));
    const base = fdMap(fd, len).?;
    const p: [*]u8 = @ptrCast(base);
    @memset(p[0..len], 0xab);
    try std.testing.expectEqual(@as(c_int, 0), retire(base, len));
    // Same address, still mapped, now zeros.
    for (p[0..len]) |b| try std.testing.expectEqual(@as(u8, 0), b);
    @memset(p[0..len], 0xcd);
    // The writes stayed private: the segment still holds 0xab.
    const q: [*]u8 = @ptrCast(fdMap(fd, len).?);
    try std.testing.expect(q != p);
    for (q[0..len]) |b| try std.testing.expectEqual(@as(u8, 0xab), b);
    try std.testing.expectEqual(@as(c_int, 0), unmap(q, len));
    try std.testing.expectEqual(@as(c_int, 0), unmap(base, len));
    try std.testing.expectEqual(-@as(c_int, @backingInt(std.c.E.INVAL)), retire(null, len));
    try std.testing.expectEqual(-@as(c_int, @backingInt(std.c.E.INVAL)), retire(base, 0));
}

test "a file path through a symbolic link is refused in every component" {
    const t = struct {
        extern "c" fn mkdir(path: [*:0]const u8, mode: c_uint) c_int;
        extern "c" fn symlink(target: [*:0]const u8, path: [*:0]const u8) c_int;
        extern "c" fn rmdir(path: [*:0]const u8) c_int;
    };
    var b: [7][128]u8 = undefined;
    const pid = std.c.getpid();
    const root = try std.fmt.bufPrintSentinel(&b[0], "/tmp/sa-zig-shm-{d}", .{pid}, 0);
    const real = try std.fmt.bufPrintSentinel(&b[1], "{s}/real", .{root}, 0);
    const link = try std.fmt.bufPrintSentinel(&b[2], "{s}/link", .{root}, 0);
    const seg = try std.fmt.bufPrintSentinel(&b[3], "{s}/real/seg", .{root}, 0);
    const via_link = try std.fmt.bufPrintSentinel(&b[4], "{s}/link/seg", .{root}, 0);
    const last_link = try std.fmt.bufPrintSentinel(&b[5], "{s}/real/last", .{root}, 0);
    const dotdot = try std.fmt.bufPrintSentinel(&b[6], "{s}/link/../real/seg", .{root}, 0);
    _ = t.mkdir(root, 0o700);
    _ = t.mkdir(real, 0o700);
    _ = t.symlink("real", link);
    _ = t.symlink("seg", last_link);
    defer {
        _ = remove(last_link, 1);
        _ = remove(via_link, 1);
        _ = remove(seg, 1);
        _ = remove(link, 1);
        _ = t.rmdir(real);
        _ = t.rmdir(root);
    }
    const O = flags(true, true);
    const R = flags(false, true);
    // A link in a directory component: refused, and nothing created in its target.
    try std.testing.expectEqual(neg(.LOOP), openFd(via_link, 1, 1));
    try std.testing.expectEqual(neg(.LOOP), walkOpen(via_link, O, 0o600));
    try std.testing.expectEqual(neg(.NOENT), openFd(seg, 0, 1));
    // ".." is refused before anything is opened.
    try std.testing.expectEqual(neg(.INVAL), openFd(dotdot, 1, 1));
    // The real path works (openat2 and the walk).
    const fd = openFd(seg, 1, 1);
    try std.testing.expect(fd >= 0);
    try std.testing.expectEqual(@as(c_int, 0), fdTruncate(fd, 4096));
    _ = closeFd(fd);
    const fd2 = walkOpen(seg, R, 0);
    try std.testing.expect(fd2 >= 0);
    try std.testing.expectEqual(@as(f64, 4096), fdSize(fd2));
    _ = closeFd(fd2);
    // Opening an existing file through the link: refused too.
    try std.testing.expectEqual(neg(.LOOP), openFd(via_link, 0, 1));
    try std.testing.expectEqual(neg(.LOOP), walkOpen(via_link, R, 0));
    // A link as the last component: ELOOP to open, EEXIST to create.
    try std.testing.expectEqual(neg(.LOOP), openFd(last_link, 0, 1));
    try std.testing.expectEqual(neg(.LOOP), walkOpen(last_link, R, 0));
    try std.testing.expectEqual(neg(.EXIST), openFd(last_link, 1, 1));
    try std.testing.expectEqual(neg(.EXIST), walkOpen(last_link, O, 0o600));
    // Odd shapes.
    try std.testing.expectEqual(neg(.NOENT), openFd("", 0, 1));
    try std.testing.expectEqual(neg(.ISDIR), openFd("/", 0, 1));
    try std.testing.expectEqual(neg(.ISDIR), walkOpen("/", R, 0));
    try std.testing.expectEqual(neg(.ISDIR), openFd("/tmp/", 0, 1));
    try std.testing.expectEqual(neg(.INVAL), openFd("..", 0, 1));
}

test "a relative file path resolves from the cwd, walked or not" {
    var b: [64]u8 = undefined;
    const rel = try std.fmt.bufPrintSentinel(&b, "./sa-zig-shm-rel-{d}", .{std.c.getpid()}, 0);
    _ = remove(rel, 1);
    defer _ = remove(rel, 1);
    const fd = walkOpen(rel, flags(true, true), 0o600);
    try std.testing.expect(fd >= 0);
    _ = closeFd(fd);
    const fd2 = openFd(rel[2..], 0, 1);
    try std.testing.expect(fd2 >= 0);
    _ = closeFd(fd2);
}

test "fd_check: a 0600 file of ours is 0, 0644 is 2, a directory 3, another owner 1" {
    var b: [64]u8 = undefined;
    const path = try std.fmt.bufPrintSentinel(&b, "/tmp/sa-zig-shm-check-{d}", .{std.c.getpid()}, 0);
    _ = remove(path, 1);
    defer _ = remove(path, 1);
    const fd = openFd(path, 1, 1);
    try std.testing.expect(fd >= 0);
    defer _ = closeFd(fd);
    try std.testing.expectEqual(@as(c_int, 0), fdCheck(fd));
    try std.testing.expectEqual(@as(c_int, 0), c.fchmod(fd, 0o644));
    try std.testing.expectEqual(@as(c_int, 2), fdCheck(fd));
    try std.testing.expectEqual(@as(c_int, 0), c.fchmod(fd, 0o600));
    const t = struct {
        extern "c" fn fchown(fd: c_int, uid: c_uint, gid: c_uint) c_int;
    };
    if (std.c.geteuid() == 0) { // only root can give a file away
        try std.testing.expectEqual(@as(c_int, 0), t.fchown(fd, 4242, std.math.maxInt(c_uint)));
        try std.testing.expectEqual(@as(c_int, 1), fdCheck(fd));
    }
    const dir = c.openat(std.c.AT.FDCWD, "/tmp", @as(c_int, @bitCast(@as(u32, @bitCast(std.c.O{ .ACCMODE = .RDONLY, .DIRECTORY = true, .CLOEXEC = true })))));
    try std.testing.expect(dir >= 0);
    try std.testing.expectEqual(@as(c_int, 3), fdCheck(dir));
    _ = closeFd(dir);
    try std.testing.expectEqual(neg(.BADF), fdCheck(-1));
    // A POSIX shm segment we create passes.
    const name = "/sa-zig-unit-test-check";
    _ = remove(name, 0);
    defer _ = remove(name, 0);
    const sfd = openFd(name, 1, 0);
    try std.testing.expect(sfd >= 0);
    defer _ = closeFd(sfd);
    try std.testing.expectEqual(@as(c_int, 0), fdCheck(sfd));
    // The fstat syscall fallback agrees with statx.
    if (builtin.os.tag == .linux) {
        var a: Stat = undefined;
        var z: Stat = undefined;
        try std.testing.expectEqual(@as(c_int, 0), fileStat(sfd, &a));
        try std.testing.expectEqual(@as(c_int, 0), linuxFstat(sfd, &z));
        try std.testing.expectEqual(a, z);
    }
}

test "fd_identity: same object same identity, a re-created name a new one" {
    const name = "/sa-zig-unit-test-identity";
    _ = remove(name, 0);
    defer _ = remove(name, 0);
    var a: [16]u8 = undefined;
    var b: [16]u8 = undefined;
    const fd = openFd(name, 1, 0);
    try std.testing.expect(fd >= 0);
    try std.testing.expectEqual(@as(c_int, 0), fdIdentity(fd, &a));
    const fd2 = openFd(name, 0, 0);
    try std.testing.expectEqual(@as(c_int, 0), fdIdentity(fd2, &b));
    try std.testing.expectEqualSlices(u8, &a, &b);
    _ = closeFd(fd2);
    // Re-create the name while the first is still open: a different inode.
    try std.testing.expectEqual(@as(c_int, 0), remove(name, 0));
    const fd3 = openFd(name, 1, 0);
    try std.testing.expect(fd3 >= 0);
    try std.testing.expectEqual(@as(c_int, 0), fdIdentity(fd3, &b));
    try std.testing.expect(!std.mem.eql(u8, &a, &b));
    _ = closeFd(fd3);
    _ = closeFd(fd);
    try std.testing.expectEqual(neg(.BADF), fdIdentity(-1, &a));
    try std.testing.expectEqual(neg(.INVAL), fdIdentity(0, null));
}

test "fd_reserve: reserves what fits, refuses what does not" {
    const name = "/sa-zig-unit-test-reserve";
    _ = remove(name, 0);
    defer _ = remove(name, 0);
    const fd = openFd(name, 1, 0);
    try std.testing.expect(fd >= 0);
    defer _ = closeFd(fd);
    try std.testing.expectEqual(@as(c_int, 0), fdTruncate(fd, 65536));
    try std.testing.expectEqual(@as(c_int, 0), fdReserve(fd, 65536));
    try std.testing.expectEqual(@as(c_int, 0), fdReserve(fd, 0));
    try std.testing.expectEqual(neg(.INVAL), fdReserve(fd, -1));
    try std.testing.expectEqual(neg(.INVAL), fdReserve(fd, std.math.nan(f64)));
    if (builtin.os.tag != .linux) return;
    try std.testing.expectEqual(neg(.BADF), fdReserve(-1, 4096));
    // Mode 0 grows the size to what it reserved.
    try std.testing.expectEqual(@as(c_int, 0), fdReserve(fd, 131072));
    try std.testing.expectEqual(@as(f64, 131072), fdSize(fd));
    // 1 PiB on a size-limited tmpfs (the default /dev/shm: half of RAM) is
    // refused up front. On an unlimited one (size=0) the kernel would try to
    // allocate it all, so check the limit first.
    const t = struct {
        extern "c" fn fstatvfs(fd: c_int, buf: *[64]u64) c_int;
    };
    var v: [64]u64 = undefined;
    try std.testing.expectEqual(@as(c_int, 0), t.fstatvfs(fd, &v));
    const total = v[1] * v[2]; // f_frsize * f_blocks (64-bit glibc and musl)
    if (total == 0 or total >= 1 << 50) return;
    try std.testing.expectEqual(neg(.NOSPC), fdReserve(fd, 1 << 50));
    try std.testing.expectEqual(@as(f64, 131072), fdSize(fd));
}
