//! The Win32 functions the Windows half of the library calls (kernel32,
//! advapi32, ntdll: all present on every Windows), and the owner-only
//! security descriptor that every object it creates gets.

const std = @import("std");

pub const HANDLE = *anyopaque;
pub const BOOL = c_int;
pub const INVALID_HANDLE: usize = std.math.maxInt(usize);
pub const INFINITE: u32 = 0xffffffff;
pub const WAIT_OBJECT_0: u32 = 0;
pub const WAIT_TIMEOUT: u32 = 258;

pub const SECURITY_ATTRIBUTES = extern struct {
    nLength: u32 = @sizeOf(SECURITY_ATTRIBUTES),
    lpSecurityDescriptor: ?*anyopaque = null,
    bInheritHandle: BOOL = 0,
};

pub const BY_HANDLE_FILE_INFORMATION = extern struct {
    dwFileAttributes: u32,
    ftCreationTime: u64 align(4),
    ftLastAccessTime: u64 align(4),
    ftLastWriteTime: u64 align(4),
    dwVolumeSerialNumber: u32,
    nFileSizeHigh: u32,
    nFileSizeLow: u32,
    nNumberOfLinks: u32,
    nFileIndexHigh: u32,
    nFileIndexLow: u32,
};

pub const SRWLOCK = extern struct { ptr: ?*anyopaque = null };

// errors (winerror.h)
pub const ERROR_FILE_NOT_FOUND = 2;
pub const ERROR_PATH_NOT_FOUND = 3;
pub const ERROR_TOO_MANY_OPEN_FILES = 4;
pub const ERROR_ACCESS_DENIED = 5;
pub const ERROR_INVALID_HANDLE = 6;
pub const ERROR_NOT_ENOUGH_MEMORY = 8;
pub const ERROR_OUTOFMEMORY = 14;
pub const ERROR_SHARING_VIOLATION = 32;
pub const ERROR_HANDLE_DISK_FULL = 39;
pub const ERROR_NOT_SUPPORTED = 50;
pub const ERROR_FILE_EXISTS = 80;
pub const ERROR_INVALID_PARAMETER = 87;
pub const ERROR_DISK_FULL = 112;
pub const ERROR_INVALID_NAME = 123;
pub const ERROR_ALREADY_EXISTS = 183;
pub const ERROR_FILENAME_EXCED_RANGE = 206;
pub const ERROR_COMMITMENT_LIMIT = 1455;
pub const ERROR_CANT_RESOLVE_FILENAME = 1921;

// access and flags
pub const GENERIC_READ: u32 = 0x80000000;
pub const GENERIC_WRITE: u32 = 0x40000000;
pub const GENERIC_ALL: u32 = 0x10000000;
pub const FILE_SHARE_ALL: u32 = 1 | 2 | 4;
pub const CREATE_NEW: u32 = 1;
pub const OPEN_EXISTING: u32 = 3;
pub const FILE_ATTRIBUTE_NORMAL: u32 = 0x80;
pub const FILE_ATTRIBUTE_REPARSE_POINT: u32 = 0x400;
pub const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x00200000;
pub const FILE_TYPE_DISK: u32 = 1;
pub const PAGE_READWRITE: u32 = 0x04;
pub const SEC_COMMIT: u32 = 0x08000000;
pub const FILE_MAP_READ_WRITE: u32 = 0x0004 | 0x0002;
pub const SECTION_QUERY: u32 = 0x0001;
pub const MEM_COMMIT: u32 = 0x1000;
pub const MEM_RESERVE: u32 = 0x2000;
pub const MEM_RELEASE: u32 = 0x8000;
pub const SYNCHRONIZE: u32 = 0x00100000;
pub const SEMAPHORE_MODIFY_STATE: u32 = 0x0002;
pub const THREAD_QUERY_LIMITED_INFORMATION: u32 = 0x0800;
pub const TOKEN_QUERY: u32 = 0x0008;

pub extern "kernel32" fn GetLastError() callconv(.winapi) u32;
pub extern "kernel32" fn CloseHandle(h: HANDLE) callconv(.winapi) BOOL;
pub extern "kernel32" fn CreateFileMappingW(file: ?HANDLE, sa: ?*const SECURITY_ATTRIBUTES, protect: u32, size_hi: u32, size_lo: u32, name: ?[*:0]const u16) callconv(.winapi) ?HANDLE;
pub extern "kernel32" fn OpenFileMappingW(access: u32, inherit: BOOL, name: [*:0]const u16) callconv(.winapi) ?HANDLE;
pub extern "kernel32" fn MapViewOfFile(h: HANDLE, access: u32, off_hi: u32, off_lo: u32, bytes: usize) callconv(.winapi) ?*anyopaque;
pub extern "kernel32" fn UnmapViewOfFile(p: *const anyopaque) callconv(.winapi) BOOL;
pub extern "kernel32" fn VirtualAlloc(addr: ?*anyopaque, size: usize, kind: u32, protect: u32) callconv(.winapi) ?*anyopaque;
pub extern "kernel32" fn VirtualFree(addr: *anyopaque, size: usize, kind: u32) callconv(.winapi) BOOL;
pub extern "kernel32" fn CreateFileW(name: [*:0]const u16, access: u32, share: u32, sa: ?*const SECURITY_ATTRIBUTES, disposition: u32, flags: u32, template: ?HANDLE) callconv(.winapi) usize;
pub extern "kernel32" fn GetFileSizeEx(h: HANDLE, size: *i64) callconv(.winapi) BOOL;
pub extern "kernel32" fn SetFilePointerEx(h: HANDLE, distance: i64, new: ?*i64, method: u32) callconv(.winapi) BOOL;
pub extern "kernel32" fn SetEndOfFile(h: HANDLE) callconv(.winapi) BOOL;
pub extern "kernel32" fn DeleteFileW(name: [*:0]const u16) callconv(.winapi) BOOL;
pub extern "kernel32" fn GetFileType(h: HANDLE) callconv(.winapi) u32;
pub extern "kernel32" fn GetFileInformationByHandle(h: HANDLE, info: *BY_HANDLE_FILE_INFORMATION) callconv(.winapi) BOOL;
pub extern "kernel32" fn CreateSemaphoreW(sa: ?*const SECURITY_ATTRIBUTES, initial: i32, max: i32, name: ?[*:0]const u16) callconv(.winapi) ?HANDLE;
pub extern "kernel32" fn OpenSemaphoreW(access: u32, inherit: BOOL, name: [*:0]const u16) callconv(.winapi) ?HANDLE;
pub extern "kernel32" fn ReleaseSemaphore(h: HANDLE, n: i32, prev: ?*i32) callconv(.winapi) BOOL;
pub extern "kernel32" fn WaitForSingleObject(h: HANDLE, ms: u32) callconv(.winapi) u32;
pub extern "kernel32" fn GetCurrentThreadId() callconv(.winapi) u32;
pub extern "kernel32" fn GetCurrentProcess() callconv(.winapi) HANDLE;
pub extern "kernel32" fn DuplicateHandle(from: HANDLE, h: HANDLE, to: HANDLE, out: *HANDLE, access: u32, inherit: BOOL, options: u32) callconv(.winapi) BOOL;
pub extern "kernel32" fn OpenThread(access: u32, inherit: BOOL, id: u32) callconv(.winapi) ?HANDLE;
pub extern "kernel32" fn QueryPerformanceCounter(c: *i64) callconv(.winapi) BOOL;
pub extern "kernel32" fn QueryPerformanceFrequency(f: *i64) callconv(.winapi) BOOL;
pub extern "kernel32" fn Sleep(ms: u32) callconv(.winapi) void;
pub extern "kernel32" fn MultiByteToWideChar(cp: u32, flags: u32, s: [*]const u8, len: c_int, w: ?[*]u16, wlen: c_int) callconv(.winapi) c_int;
pub extern "kernel32" fn AcquireSRWLockExclusive(l: *SRWLOCK) callconv(.winapi) void;
pub extern "kernel32" fn ReleaseSRWLockExclusive(l: *SRWLOCK) callconv(.winapi) void;
pub extern "kernel32" fn AcquireSRWLockShared(l: *SRWLOCK) callconv(.winapi) void;
pub extern "kernel32" fn ReleaseSRWLockShared(l: *SRWLOCK) callconv(.winapi) void;
pub extern "kernel32" fn LocalFree(p: ?*anyopaque) callconv(.winapi) ?*anyopaque;
pub extern "api-ms-win-core-synch-l1-2-0" fn WaitOnAddress(addr: *const anyopaque, compare: *const anyopaque, size: usize, ms: u32) callconv(.winapi) BOOL;
pub extern "api-ms-win-core-synch-l1-2-0" fn WakeByAddressSingle(addr: *const anyopaque) callconv(.winapi) void;
pub extern "api-ms-win-core-synch-l1-2-0" fn WakeByAddressAll(addr: *const anyopaque) callconv(.winapi) void;

pub extern "advapi32" fn OpenProcessToken(process: HANDLE, access: u32, token: *HANDLE) callconv(.winapi) BOOL;
pub extern "advapi32" fn GetTokenInformation(token: HANDLE, class: c_int, info: ?*anyopaque, len: u32, needed: *u32) callconv(.winapi) BOOL;
pub extern "advapi32" fn InitializeSecurityDescriptor(sd: *anyopaque, revision: u32) callconv(.winapi) BOOL;
pub extern "advapi32" fn SetSecurityDescriptorDacl(sd: *anyopaque, present: BOOL, acl: ?*anyopaque, defaulted: BOOL) callconv(.winapi) BOOL;
pub extern "advapi32" fn SetSecurityDescriptorOwner(sd: *anyopaque, owner: ?*anyopaque, defaulted: BOOL) callconv(.winapi) BOOL;
pub extern "advapi32" fn InitializeAcl(acl: *anyopaque, len: u32, revision: u32) callconv(.winapi) BOOL;
pub extern "advapi32" fn AddAccessAllowedAce(acl: *anyopaque, revision: u32, mask: u32, sid: *anyopaque) callconv(.winapi) BOOL;
pub extern "advapi32" fn EqualSid(a: *anyopaque, b: *anyopaque) callconv(.winapi) BOOL;
pub extern "advapi32" fn GetAce(acl: *anyopaque, index: u32, ace: *?*anyopaque) callconv(.winapi) BOOL;
pub extern "advapi32" fn GetSecurityInfo(h: HANDLE, kind: c_int, info: u32, owner: ?*?*anyopaque, group: ?*?*anyopaque, dacl: ?*?*anyopaque, sacl: ?*?*anyopaque, sd: *?*anyopaque) callconv(.winapi) u32;

pub const SE_FILE_OBJECT: c_int = 1;
pub const SE_KERNEL_OBJECT: c_int = 6;
pub const OWNER_SECURITY_INFORMATION: u32 = 1;
pub const DACL_SECURITY_INFORMATION: u32 = 4;

pub fn handleOf(v: usize) ?HANDLE {
    return if (v == 0 or v == INVALID_HANDLE) null else @ptrFromInt(v);
}

/// Linux errno numbers (what the TypeScript side names) for Win32 errors.
pub fn errnoOf(err: u32) c_int {
    const E = std.os.linux.E;
    const e: E = switch (err) {
        ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND => .NOENT,
        ERROR_TOO_MANY_OPEN_FILES => .MFILE,
        ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION => .ACCES,
        ERROR_INVALID_HANDLE => .BADF,
        ERROR_NOT_ENOUGH_MEMORY, ERROR_OUTOFMEMORY, ERROR_COMMITMENT_LIMIT => .NOMEM,
        ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL => .NOSPC,
        ERROR_NOT_SUPPORTED => .OPNOTSUPP,
        ERROR_FILE_EXISTS, ERROR_ALREADY_EXISTS => .EXIST,
        ERROR_INVALID_NAME, ERROR_INVALID_PARAMETER => .INVAL,
        ERROR_FILENAME_EXCED_RANGE => .NAMETOOLONG,
        ERROR_CANT_RESOLVE_FILENAME => .LOOP,
        else => .IO,
    };
    return @intCast(@backingInt(e));
}

/// -errno of the calling thread's last Win32 error.
pub fn lastErrno() c_int {
    return -errnoOf(GetLastError());
}

pub fn neg(e: std.os.linux.E) c_int {
    return -@as(c_int, @intCast(@backingInt(e)));
}

// ---- the current user, and objects only it can open --------------------------------

var user_lock: SRWLOCK = .{};
var user_ready = false;
/// TOKEN_USER of this process: a SID pointer, then the SID.
var user_buf: [128]u8 align(8) = undefined;
var sd_buf: [64]u8 align(8) = undefined;
var acl_buf: [128]u8 align(8) = undefined;
var user_sa: SECURITY_ATTRIBUTES = .{};

/// The current user's SID, or null if the token cannot be read.
pub fn userSid() ?*anyopaque {
    return if (ownerOnly() != null) @as(*const ?*anyopaque, @ptrCast(&user_buf)).* else null;
}

/// Security attributes whose DACL grants everything to the current user and
/// nothing to anybody else (and whose owner is that user); null if the
/// process token cannot be read (then the object is not created at all).
pub fn ownerOnly() ?*const SECURITY_ATTRIBUTES {
    AcquireSRWLockExclusive(&user_lock);
    defer ReleaseSRWLockExclusive(&user_lock);
    if (user_ready) return &user_sa;
    var token: HANDLE = undefined;
    if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token) == 0) return null;
    defer _ = CloseHandle(token);
    var needed: u32 = 0;
    if (GetTokenInformation(token, 1, &user_buf, user_buf.len, &needed) == 0) return null; // TokenUser
    const sid = @as(*const ?*anyopaque, @ptrCast(&user_buf)).* orelse return null;
    if (InitializeAcl(&acl_buf, acl_buf.len, 2) == 0) return null;
    if (AddAccessAllowedAce(&acl_buf, 2, GENERIC_ALL, sid) == 0) return null;
    if (InitializeSecurityDescriptor(&sd_buf, 1) == 0) return null;
    if (SetSecurityDescriptorDacl(&sd_buf, 1, &acl_buf, 0) == 0) return null;
    if (SetSecurityDescriptorOwner(&sd_buf, sid, 0) == 0) return null;
    user_sa = .{ .lpSecurityDescriptor = &sd_buf };
    user_ready = true;
    return &user_sa;
}

/// `s` (UTF-8, NUL-terminated) as UTF-16 after `prefix`, into `buf`; null if it does not fit or is not UTF-8.
pub fn wide(buf: []u16, comptime prefix: []const u8, s: [*:0]const u8) ?[*:0]const u16 {
    inline for (prefix, 0..) |ch, i| buf[i] = ch;
    const bytes = std.mem.span(s);
    if (bytes.len == 0) {
        buf[prefix.len] = 0;
        return buf[0..prefix.len :0];
    }
    const room: c_int = @intCast(buf.len - prefix.len - 1);
    const n = MultiByteToWideChar(65001, 8, bytes.ptr, @intCast(bytes.len), buf[prefix.len..].ptr, room); // CP_UTF8, MB_ERR_INVALID_CHARS
    if (n <= 0) return null;
    const end = prefix.len + @as(usize, @intCast(n));
    buf[end] = 0;
    return buf[0..end :0];
}

/// Milliseconds on a monotonic clock.
pub fn nowMs() f64 {
    var c: i64 = 0;
    var f: i64 = 0;
    _ = QueryPerformanceCounter(&c);
    _ = QueryPerformanceFrequency(&f);
    return @as(f64, @floatFromInt(c)) * 1000 / @as(f64, @floatFromInt(f));
}
