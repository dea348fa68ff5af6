//! libshared_atomic: lock-free atomic operations with a C ABI, for Bun and
//! Deno through their FFIs, and for C, Python (ctypes) or anything else.

const std = @import("std");
pub const table = @import("table.zig");
pub const ops = @import("ops.zig");
pub const exports = @import("exports.zig");
/// The seed package's C functions under their old names (SEED-ABI.md).
pub const seed = @import("seed.zig");
/// Named shared memory (POSIX shm and files) for other processes.
pub const shm = @import("shm.zig");
/// 128-bit integers and fixed-width byte strings.
pub const wide = @import("wide.zig");
/// Waiting on an address across processes, for the locks.
pub const wait = @import("wait.zig");
/// Robust lock words: the kernel marks a dead owner (robust-futex list).
pub const robust = @import("robust.zig");
const options = @import("options");

/// Comma-separated names of every `sa_*` atomic export.
fn manifest() callconv(.c) [*:0]const u8 {
    return exports.manifest.ptr;
}

/// The library's version, e.g. "0.1.0"; the TypeScript side checks it.
fn version() callconv(.c) [*:0]const u8 {
    return options.version;
}

comptime {
    @export(&manifest, .{ .name = "sa_manifest" });
    @export(&version, .{ .name = "sa_version" });
    _ = exports;
    _ = seed;
    _ = shm;
    _ = wide;
    _ = wait;
    _ = robust;
}

test {
    _ = @import("tests.zig");
    _ = shm;
    _ = wide;
    _ = wait;
    _ = robust;
}
