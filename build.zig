const std = @import("std");
const zon = @import("build.zig.zon");

pub fn build(b: *std.Build) void {
    // Build for a CPU level whose atomic instructions the library uses, never
    // the host's own (x86_64-v2 has cmpxchg16b; aarch64's baseline is enough).
    const target = b.standardTargetOptions(.{ .default_target = defaultQuery(b) });
    const optimize = b.standardOptimizeOption(.{});

    const options = b.addOptions();
    options.addOption([:0]const u8, "version", zon.version);

    const mod = b.createModule(.{
        .root_source_file = b.path("zig/root.zig"),
        .target = target,
        .optimize = optimize,
        // shm_open, mmap: named shared memory for other processes
        .link_libc = true,
    });
    mod.addOptions("options", options);

    const lib = b.addLibrary(.{ .linkage = .dynamic, .name = "shared_atomic", .root_module = mod });
    b.installArtifact(lib);

    const tests = b.addTest(.{ .root_module = mod });
    const run_tests = b.addRunArtifact(tests);
    run_tests.has_side_effects = true; // always run (and report counts), never "cached"
    b.step("test", "Run the Zig unit tests").dependOn(&run_tests.step);
}

fn defaultQuery(b: *std.Build) std.Target.Query {
    _ = b;
    const builtin = @import("builtin");
    return switch (builtin.cpu.arch) {
        .x86_64 => .{ .cpu_model = .{ .explicit = &std.Target.x86.cpu.x86_64_v2 } },
        else => .{},
    };
}
