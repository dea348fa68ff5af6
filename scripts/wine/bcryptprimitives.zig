//! A stand-in for Windows' bcryptprimitives.dll, which Wine 8.0 lacks: its
//! one function that Bun for Windows imports, `ProcessPrng`, on top of
//! advapi32's `RtlGenRandom` (SystemFunction036), which Wine has. Built and
//! put in the Wine prefix's system32 by scripts/setup_wine.mjs; used only to
//! run the test suites under Wine, never shipped.

extern "advapi32" fn SystemFunction036(buf: [*]u8, len: u32) callconv(.winapi) u8;

export fn ProcessPrng(buf: [*]u8, len: usize) callconv(.winapi) c_int {
    var p = buf;
    var left = len;
    while (left > 0) {
        const n: u32 = @intCast(@min(left, 1 << 30));
        if (SystemFunction036(p, n) == 0) return 0;
        p += n;
        left -= n;
    }
    return 1;
}
