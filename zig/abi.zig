//! The C ABI as data. Every export of the library is one `Export`: its name,
//! its function (whose C signature `@typeInfo` gives), its parameters' names,
//! a doc line, the systems it exists on and the CPU capability it needs.
//! Exports come in `Group`s: one per type of each types × operations table
//! (`exports.zig`, `wide.zig`, `seed.zig`, walked by `walk`), and one per file
//! for the hand-written functions (`root.zig`'s `functions`). `root.zig`
//! exports every group through `exportAll`; `zig build gen` (`gen.zig`)
//! writes the C header and the TypeScript ABI module from the same groups.

const std = @import("std");
const builtin = @import("builtin");

/// The systems an export exists on.
pub const Platform = enum {
    all,
    /// Every POSIX system (not Windows).
    posix,
    /// Linux and macOS.
    linux_macos,
    /// Linux, macOS and Windows (zig/windows/ has the Windows half).
    linux_macos_windows,

    pub fn has(p: Platform, os: std.Target.Os.Tag) bool {
        return switch (p) {
            .all => true,
            .posix => os != .windows,
            .linux_macos => os == .linux or os.isDarwin(),
            .linux_macos_windows => os == .linux or os.isDarwin() or os == .windows,
        };
    }

    /// The C preprocessor test that holds on these systems (null: always).
    pub fn cTest(p: Platform) ?[]const u8 {
        return switch (p) {
            .all => null,
            .posix => "!defined(_WIN32)",
            .linux_macos => "defined(__linux__) || defined(__APPLE__)",
            .linux_macos_windows => "defined(__linux__) || defined(__APPLE__) || defined(_WIN32)",
        };
    }
};

/// A CPU capability some exports need: a build whose target lacks it leaves
/// them out (never a lock in their place). The header declares them all the
/// same, marked optional; the TypeScript module names the capability.
pub const Capability = struct {
    /// Its name in the TypeScript module (`needs`).
    name: []const u8,
    /// What a build without it lacks, for the header.
    doc: []const u8,
    /// Whether this build's target has it.
    met: bool,
};

/// The C name of a Zig type that one table names its own way (`usize` is
/// `uintptr_t` in the sa_ table, `size_t` in the seed's).
pub const CName = struct { T: type, name: []const u8 };

/// One exported C function.
pub const Export = struct {
    name: [:0]const u8,
    /// A struct whose `f` is the function. Held in a type, not as a
    /// pointer, so that a function is compiled only where it is exported.
    holder: type,
    /// The parameters' names, for the header.
    params: []const []const u8,
    doc: []const u8 = "",
    platform: Platform = .all,
    needs: ?Capability = null,
    c_names: []const CName = &.{},

    /// The function's type: its C signature.
    pub fn Fn(comptime e: Export) type {
        return @TypeOf(e.holder.f);
    }

    /// Whether this build exports it.
    pub fn built(comptime e: Export) bool {
        return e.platform.has(builtin.os.tag) and (if (e.needs) |n| n.met else true);
    }
};

/// The export `name` of the C function `f`, whose parameters are `params`.
pub fn func(comptime name: [:0]const u8, comptime function: anytype, comptime params: []const []const u8, comptime doc: []const u8) Export {
    const info = @typeInfo(@TypeOf(function)).@"fn";
    if (!info.attrs.@"callconv".eql(std.builtin.CallingConvention.c))
        @compileError(name ++ ": not callconv(.c)");
    if (info.param_types.len != params.len)
        @compileError(std.fmt.comptimePrint("{s}: {d} parameter names for {d} parameters", .{ name, params.len, info.param_types.len }));
    return .{ .name = name, .holder = struct {
        pub const f = function;
    }, .params = params, .doc = doc };
}

/// What a group's exports share.
pub const Options = struct {
    platform: Platform = .all,
    needs: ?Capability = null,
    c_names: []const CName = &.{},
};

/// Exports that belong together: one type of a table, or one file's
/// hand-written functions.
pub const Group = struct {
    /// A short name (the TypeScript module groups the hand-written
    /// functions by it).
    key: []const u8,
    /// What the header says above the group.
    doc: []const u8,
    exports: []const Export,
    /// The group's `Options.platform`, which every export carries.
    platform: Platform = .all,
};

/// A group of `exports`, each given `options`.
pub fn group(comptime key: []const u8, comptime doc: []const u8, comptime options: Options, comptime exports: []const Export) Group {
    var list: [exports.len]Export = undefined;
    for (exports, 0..) |e, i| {
        list[i] = e;
        list[i].platform = options.platform;
        list[i].needs = options.needs;
        list[i].c_names = options.c_names;
    }
    const final = list;
    return .{ .key = key, .doc = doc, .exports = &final, .platform = options.platform };
}

/// The generator walk of a types × operations table, shared by every table:
/// one group per type of `types`, `spec.group(t, exports)`, holding for each
/// operation of `ops` that `spec.supports(t, op)` the exports
/// `spec.exports(t, op)`, in table order.
pub fn walk(comptime types: anytype, comptime ops: anytype, comptime spec: type) []const Group {
    @setEvalBranchQuota(1_000_000);
    var groups: []const Group = &.{};
    for (types) |t| {
        var list: []const Export = &.{};
        for (ops) |op| {
            if (spec.supports(t, op)) list = list ++ spec.exports(t, op);
        }
        groups = groups ++ .{spec.group(t, list)};
    }
    return groups;
}

/// `sa_<base>` (seq_cst) and `sa_<base>_explicit` (a trailing C11
/// `memory_order` code) from `F.seq_cst`, `F.explicit` and `F.params`.
pub fn ordered(comptime base: [:0]const u8, comptime F: type) [2]Export {
    return .{
        func(base, F.seq_cst, F.params, ""),
        func(base ++ "_explicit", F.explicit, F.params ++ .{"order"}, ""),
    };
}

/// The names this build exports, in order.
pub fn names(comptime groups: []const Group) []const []const u8 {
    @setEvalBranchQuota(1_000_000);
    var list: []const []const u8 = &.{};
    for (groups) |g| for (g.exports) |e| {
        if (e.built()) list = list ++ .{e.name};
    };
    return list;
}

/// `names(groups)`, comma separated (`sa_manifest()`, `sa_wide_manifest()`).
pub fn manifest(comptime groups: []const Group) [:0]const u8 {
    @setEvalBranchQuota(1_000_000);
    var s: []const u8 = "";
    for (names(groups), 0..) |n, i| s = s ++ (if (i == 0) "" else ",") ++ n;
    return s ++ "";
}

/// Exports every export of `groups` this build has.
pub fn exportAll(comptime groups: []const Group) void {
    @setEvalBranchQuota(1_000_000);
    for (groups) |g| for (g.exports) |e| {
        if (e.built()) @export(&e.holder.f, .{ .name = e.name });
    };
}

/// The C name of Zig type `T` (a value or pointee type) in a declaration.
pub fn cName(comptime T: type, comptime c_names: []const CName) []const u8 {
    for (c_names) |c| if (c.T == T) return c.name;
    return switch (T) {
        void, anyopaque => "void",
        bool => "bool",
        c_char => "char",
        c_short => "short",
        c_ushort => "unsigned short",
        c_int => "int",
        c_uint => "unsigned int",
        c_long => "long",
        c_ulong => "unsigned long",
        c_longlong => "long long",
        c_ulonglong => "unsigned long long",
        c_longdouble => "long double",
        f32 => "float",
        f64 => "double",
        i8, i16, i32, i64 => std.fmt.comptimePrint("int{d}_t", .{@bitSizeOf(T)}),
        u8, u16, u32, u64 => std.fmt.comptimePrint("uint{d}_t", .{@bitSizeOf(T)}),
        i128 => "sa_int128_t",
        u128 => "sa_uint128_t",
        else => @compileError("no C name for " ++ @typeName(T) ++ ": give the group a c_names entry"),
    };
}

/// The C type of a parameter or result of Zig type `T`: `int`,
/// `const char *`, `uint32_t *`.
pub fn cType(comptime T: type, comptime c_names: []const CName) []const u8 {
    switch (@typeInfo(T)) {
        .optional => |o| return cType(o.child, c_names),
        .pointer => |p| {
            if (p.size == .slice) @compileError("a slice has no C type");
            const is_string = p.child == u8 and p.sentinel() != null and p.sentinel().? == 0;
            const child = if (is_string) "char" else cType(p.child, c_names);
            const sep = if (std.mem.endsWith(u8, child, "*")) "" else " ";
            return (if (p.attrs.@"const") "const " else "") ++ child ++ sep ++ "*";
        },
        else => return cName(T, c_names),
    }
}

/// The FFI type (as Bun's and Deno's FFIs name them, `src/native/abi.ts`) of
/// a parameter (or, `result`, the result) of Zig type `T`; null if the
/// TypeScript side cannot call it (a type whose width depends on the C ABI).
pub fn ffiType(comptime T: type, comptime result: bool) ?[]const u8 {
    return switch (@typeInfo(T)) {
        .optional => |o| ffiType(o.child, result),
        .pointer => |p| if (result and p.child == u8 and p.sentinel() != null) "cstring" else "ptr",
        else => switch (T) {
            void => "void",
            bool => "bool",
            i8, u8, i16, u16, i32, u32, i64, u64, f32, f64 => @typeName(T),
            c_int => "i32",
            c_uint => "u32",
            // every platform in npm/platforms.json is 64-bit
            isize => "i64",
            usize => "u64",
            else => null,
        },
    };
}

test "C types of parameters and results" {
    const expect = std.testing.expect;
    const eql = std.mem.eql;
    try expect(eql(u8, comptime cType([*:0]const u8, &.{}), "const char *"));
    try expect(eql(u8, comptime cType(?*anyopaque, &.{}), "void *"));
    try expect(eql(u8, comptime cType(*const u32, &.{}), "const uint32_t *"));
    try expect(eql(u8, comptime cType(*align(1) const u16, &.{.{ .T = u16, .name = "uint8_t" }}), "const uint8_t *"));
    try expect(eql(u8, comptime cType(usize, &.{.{ .T = usize, .name = "size_t" }}), "size_t"));
    try expect(eql(u8, comptime ffiType([*:0]const u8, true).?, "cstring"));
    try expect(eql(u8, comptime ffiType([*:0]const u8, false).?, "ptr"));
    try expect(eql(u8, comptime ffiType(c_int, false).?, "i32"));
    try expect(comptime ffiType(c_long, false) == null);
}
