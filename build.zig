const std = @import("std");
const zon = @import("build.zig.zon");

pub fn build(b: *std.Build) void {
    // Build for a CPU level whose atomic instructions the library uses, never
    // the host's own (x86_64-v2 has cmpxchg16b; aarch64's baseline is enough).
    const target = b.standardTargetOptions(.{ .default_target = defaultQuery(b) });
    const optimize = b.standardOptimizeOption(.{});

    const options = b.addOptions();
    options.addOption([:0]const u8, "version", zon.version);
    options.addOption(bool, "exports", true);

    const mod = libraryModule(b, options, target, optimize, null);
    const lib = b.addLibrary(.{ .linkage = .dynamic, .name = "shared_atomic", .root_module = mod });
    b.installArtifact(lib);

    // The Node-API addon (zig/napi_addon.zig): the whole library plus wrappers
    // generated from the same tables, installed beside the library as
    // lib/shared_atomic.node (what node.ts loads). Not on Windows: there an
    // addon links against node.exe's import library.
    if (target.result.os.tag != .windows) {
        const addon = nodeAddon(b, target, optimize, null);
        b.getInstallStep().dependOn(&b.addInstallFileWithDir(addon.getEmittedBin(), .lib, addon_file).step);
    }

    const tests = b.addTest(.{ .root_module = mod });
    const run_tests = b.addRunArtifact(tests);
    run_tests.has_side_effects = true; // always run (and report counts), never "cached"
    b.step("test", "Run the Zig unit tests").dependOn(&run_tests.step);

    // `zig build aarch64-tests`: the unit-test binaries of the aarch64 Linux
    // builds, installed into zig-out/aarch64-tests/ for
    // scripts/emulation/zig.mjs to run under qemu-user: musl at the release
    // CPU level (ARMv8-A: LL/SC, LDXP/STXP for 128-bit; run on a Cortex-A53
    // too, where an LSE instruction would trap) and glibc with LSE
    // (LDADD/CAS/CASP). The robust-list tests are left out: qemu-user does not
    // implement set_robust_list (ENOSYS).
    const aarch64_step = b.step("aarch64-tests", "Build the aarch64 Linux unit-test binaries (scripts/emulation/zig.mjs runs them under qemu)");
    for (aarch64_variants) |v| {
        const query = std.Target.Query.parse(.{ .arch_os_abi = v.triple, .cpu_features = v.cpu }) catch unreachable;
        const v_mod = libraryModule(b, options, b.resolveTargetQuery(query), optimize, null);
        const v_tests = b.addTest(.{ .name = v.name, .root_module = v_mod, .filters = &aarch64_test_filters });
        const install = b.addInstallArtifact(v_tests, .{ .dest_dir = .{ .override = .{ .custom = "aarch64-tests" } } });
        aarch64_step.dependOn(&install.step);
    }

    // `zig build gen`: the C header and the TypeScript ABI module, written
    // from the library's own tables (zig/gen.zig); `-Dcheck`: only fail if
    // either file is stale (CI).
    const gen_step = b.step("gen", "Write zig/shared_atomic.h and src/native/abi_generated.ts from the Zig tables (-Dcheck: fail if stale)");
    const check = b.option(bool, "check", "zig build gen: fail if a generated file is stale, write nothing") orelse false;
    const gen_options = b.addOptions();
    gen_options.addOption([:0]const u8, "version", zon.version);
    gen_options.addOption(bool, "exports", false); // the lists only: no function is compiled
    const gen_mod = b.createModule(.{ .root_source_file = b.path("zig/gen.zig"), .target = b.graph.host, .optimize = .Debug });
    gen_mod.addImport("shared_atomic", libraryModule(b, gen_options, b.graph.host, .Debug, null));
    const gen = b.addRunArtifact(b.addExecutable(.{ .name = "gen", .root_module = gen_mod }));
    const generated = [_][]const u8{ "zig/shared_atomic.h", "src/native/abi_generated.ts" };
    if (check) {
        gen.addArg("check");
        for (generated) |f| gen.addFileArg(b.path(f));
        gen.has_side_effects = true;
        gen_step.dependOn(&gen.step);
    } else {
        gen.addArg("write");
        const update = b.addUpdateSourceFiles();
        for (generated) |f| update.addCopyFileToSource(gen.addOutputFileArg(std.fs.path.basename(f)), f);
        gen_step.dependOn(&update.step);
    }

    // `zig build dist`: the release library of every platform in
    // npm/platforms.json, stripped, ReleaseFast unless -Doptimize says
    // otherwise, into zig-out/dist/<key>/<file> (what scripts/pack.mjs packs).
    const dist = b.step("dist", "Cross-compile the release library for every platform in npm/platforms.json");
    const dist_optimize: std.builtin.OptimizeMode = if (b.user_input_options.contains("optimize")) optimize else .ReleaseFast;
    const only = b.option([]const []const u8, "platform", "zig build dist: only these platform keys (default: all)");
    for (platforms(b)) |p| {
        if (only) |keys| {
            for (keys) |k| {
                if (std.mem.eql(u8, k, p.key)) break;
            } else continue;
        }
        const query = std.Target.Query.parse(.{ .arch_os_abi = p.zigTarget, .cpu_features = p.zigCpu }) catch |err|
            std.debug.panic("npm/platforms.json: {s}: bad zigTarget/zigCpu ({s})", .{ p.key, @errorName(err) });
        const dist_mod = libraryModule(b, options, b.resolveTargetQuery(query), dist_optimize, true);
        const dist_lib = b.addLibrary(.{ .linkage = .dynamic, .name = "shared_atomic", .root_module = dist_mod });
        const install = b.addInstallArtifact(dist_lib, .{
            .dest_dir = .{ .override = .{ .custom = b.fmt("dist/{s}", .{p.key}) } },
            .implib_dir = .disabled,
            .pdb_dir = .disabled,
            .dylib_symlinks = false,
        });
        dist.dependOn(&install.step);
        if (!std.mem.startsWith(u8, p.key, "win32")) {
            const addon = nodeAddon(b, b.resolveTargetQuery(query), dist_optimize, true);
            dist.dependOn(&b.addInstallFileWithDir(addon.getEmittedBin(), .{ .custom = b.fmt("dist/{s}", .{p.key}) }, addon_file).step);
        }
    }
}

/// The Node-API addon's file name, beside the library.
const addon_file = "shared_atomic.node";

/// The Node-API addon for `target`: Node-API's functions are resolved from
/// the node executable at load time, so undefined symbols are allowed.
fn nodeAddon(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    strip: ?bool,
) *std.Build.Step.Compile {
    const options = b.addOptions();
    options.addOption([:0]const u8, "version", zon.version);
    options.addOption(bool, "exports", false); // the addon exports napi_register_module_v1, not the C ABI
    const mod = b.createModule(.{
        .root_source_file = b.path("zig/napi_addon.zig"),
        .target = target,
        .optimize = optimize,
        .strip = strip,
        .link_libc = true,
    });
    mod.addOptions("options", options);
    const addon = b.addLibrary(.{ .linkage = .dynamic, .name = "shared_atomic_node", .root_module = mod });
    addon.linker_allow_shlib_undefined = true;
    return addon;
}

fn libraryModule(
    b: *std.Build,
    options: *std.Build.Step.Options,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    strip: ?bool,
) *std.Build.Module {
    const mod = b.createModule(.{
        .root_source_file = b.path("zig/root.zig"),
        .target = target,
        .optimize = optimize,
        .strip = strip,
        // POSIX: shm_open, mmap (named shared memory for other processes), __ulock_*.
        // Windows: the library calls nothing from a C library, so it links none
        // (a DLL that imports nothing, and no mingw CRT to build: ~150 s cold).
        .link_libc = target.result.os.tag != .windows,
    });
    mod.addOptions("options", options);
    return mod;
}

/// The aarch64 test binaries `zig build aarch64-tests` builds.
const aarch64_variants = [_]struct { name: []const u8, triple: []const u8, cpu: []const u8 }{
    .{ .name = "test-aarch64-linux-musl", .triple = "aarch64-linux-musl", .cpu = "generic" },
    .{ .name = "test-aarch64-linux-gnu-lse", .triple = "aarch64-linux-gnu.2.17", .cpu = "generic+lse" },
};

/// Every test file's tests but zig/robust.zig's (a new test file goes here too).
const aarch64_test_filters = [_][]const u8{ "abi.test.", "seed.test.", "shm.test.", "tests.test.", "wait.test.", "wide.test." };

/// One row of npm/platforms.json (the fields the build needs).
const Platform = struct {
    key: []const u8,
    zigTarget: []const u8,
    zigCpu: []const u8,
};

fn platforms(b: *std.Build) []const Platform {
    const List = struct { platforms: []const Platform };
    const list = std.json.parseFromSliceLeaky(List, b.allocator, @embedFile("npm/platforms.json"), .{
        .ignore_unknown_fields = true,
    }) catch |err| std.debug.panic("npm/platforms.json: {s}", .{@errorName(err)});
    return list.platforms;
}

fn defaultQuery(b: *std.Build) std.Target.Query {
    _ = b;
    const builtin = @import("builtin");
    return switch (builtin.cpu.arch) {
        .x86_64 => .{ .cpu_model = .{ .explicit = &std.Target.x86.cpu.x86_64_v2 } },
        else => .{},
    };
}
