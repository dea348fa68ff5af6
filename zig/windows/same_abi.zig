//! The Windows files export exactly zig/shm.zig's and zig/wait.zig's C
//! functions: the same names, parameters and C signatures, so the header and
//! the TypeScript module (written from the POSIX groups) hold on Windows too.
//! Checked at compile time on the build host; no Windows function is compiled.

const std = @import("std");
const abi = @import("../abi.zig");

fn same(comptime posix: abi.Group, comptime windows: abi.Group) !void {
    try std.testing.expectEqualStrings(posix.key, windows.key);
    try std.testing.expectEqual(posix.exports.len, windows.exports.len);
    inline for (posix.exports, windows.exports) |p, w| {
        try std.testing.expectEqualStrings(p.name, w.name);
        try std.testing.expect(p.Fn() == w.Fn());
        try std.testing.expectEqual(p.params.len, w.params.len);
        for (p.params, w.params) |a, b| try std.testing.expectEqualStrings(a, b);
        try std.testing.expect(p.platform.has(.windows));
    }
}

test "the Windows shm and wait groups are the POSIX ones" {
    try same(@import("../shm.zig").c_exports, @import("shm.zig").c_exports);
    try same(@import("../wait.zig").c_exports, @import("wait.zig").c_exports);
}
