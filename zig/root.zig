//! libshared_atomic: lock-free atomic operations with a C ABI, for Bun and
//! Deno through their FFIs, and for C, Python (ctypes) or anything else.
//!
//! Every export is an entry of one of the lists below (`abi.Export`); this
//! file exports them all, and `zig build gen` writes the C header and the
//! TypeScript ABI module from the same lists.

const std = @import("std");
const windows = @import("builtin").os.tag == .windows;
/// The C ABI as data: exports, groups, the table walk, C and FFI types.
pub const abi = @import("abi.zig");
pub const table = @import("table.zig");
pub const ops = @import("ops.zig");
pub const exports = @import("exports.zig");
/// The seed package's C functions under their old names (SEED-ABI.md).
pub const seed = @import("seed.zig");
/// Named shared memory (POSIX shm and files; Windows: named file mappings) for other processes.
pub const shm = if (windows) @import("windows/shm.zig") else @import("shm.zig");
/// 128-bit integers and fixed-width byte strings.
pub const wide = @import("wide.zig");
/// Waiting on an address across processes, for the locks.
pub const wait = if (windows) @import("windows/wait.zig") else @import("wait.zig");
/// Robust lock words: the kernel marks a dead owner (robust-futex list).
pub const robust = @import("robust.zig");
/// A bounded MPMC queue of byte messages in shared memory.
pub const channel = if (windows) void else @import("channel.zig");
/// SharedMap: a hash map in shared memory (sa_map_*).
pub const map = if (windows) void else @import("map.zig");
const options = @import("options");

/// The library's version (build.zig.zon).
pub const version: [:0]const u8 = options.version;

fn manifestC() callconv(.c) [*:0]const u8 {
    return exports.manifest.ptr;
}

fn versionC() callconv(.c) [*:0]const u8 {
    return version;
}

/// The hand-written C functions, one group per file, in the header's order.
pub const functions = [_]abi.Group{
    abi.group("library", "root.zig: libshared_atomic: lock-free atomic operations with a C ABI, for Bun and " ++
        "Deno through their FFIs, and for C, Python (ctypes) or anything else.", .{}, &.{
        abi.func("sa_manifest", manifestC, &.{}, "Comma-separated names of every `sa_*` atomic export."),
        abi.func("sa_version", versionC, &.{}, "The library's version, e.g. \"0.1.0\"; the TypeScript side checks it."),
    }),
    robust.c_exports,
    shm.c_exports,
    wait.c_exports,
    wide.c_exports,
} ++ posix_only;

/// The channel and map wait through the POSIX wait.zig: Linux and macOS only (not imported on
/// Windows, so neither their exports nor their tests are compiled there).
const posix_only = if (windows) [_]abi.Group{} else [_]abi.Group{ channel.c_exports, map.c_exports };

/// Every export: the hand-written functions, then the tables.
pub const all: []const abi.Group = &functions ++ exports.groups ++ wide.groups ++ seed.groups;

comptime {
    // `zig build gen` reads the lists without compiling the functions
    if (options.exports) abi.exportAll(all);
}

test {
    _ = @import("tests.zig");
    _ = abi;
    _ = wide;
    _ = seed;
    // the POSIX files' tests call the C library; Windows has its own (the channel and map
    // are exported on Linux and macOS only: they wait through the POSIX wait.zig)
    if (windows) {
        _ = @import("windows/tests.zig");
    } else {
        _ = channel;
        _ = map;
        _ = shm;
        _ = wait;
        _ = robust;
        _ = @import("windows/same_abi.zig");
    }
}
