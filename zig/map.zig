//! SharedMap: a hash map in shared memory that Workers, processes and other
//! languages read and write at once (`sa_map_*`).
//!
//! The algorithm: open addressing with linear probing over a power-of-two
//! table, **double-buffered slots read through per-slot version counters**
//! (a seqlock whose writer never makes the visible copy invalid), writers
//! serialised by one robust lock, deletion by backward shift (no tombstones)
//! under a journal. Why:
//!
//! - Readers take no lock. A slot holds two copies of its record (hash, key,
//!   value, expiry) and a version word whose low bit names the visible copy.
//!   A writer fills the other copy and then publishes it with one store of
//!   the version (+1). A reader reads the version, copies the record, and
//!   keeps the copy if the version did not move. The writer never writes the
//!   visible copy, so a writer that dies mid-write leaves the old record
//!   visible and whole, and no reader ever waits on a writer (a plain seqlock
//!   leaves an odd counter behind when its writer dies).
//! - Writers take one robust lock word (zig/robust.zig): the kernel marks it
//!   OWNER_DIED when its holder dies, so the next writer takes it at once and
//!   repairs what the dead one left (below). Critical sections are short
//!   (a probe and a record copy), so one lock serialises writers at a few
//!   million writes a second; striping it would need a probe sequence that
//!   never crosses stripes.
//! - Deletion moves later entries of the cluster back (backward-shift
//!   deletion), so the table never fills with tombstones, however much churn.
//!   A move can make a lock-free reader miss a key that is present, so moves
//!   happen inside an odd `epoch` and a reader that found nothing retries
//!   when the epoch moved (a hit is always right: a moved record is copied
//!   whole before its old slot is emptied). A writer that dies mid-delete
//!   leaves a journal (hole, source) that the next lock holder replays.
//! - Entries past their TTL (CLOCK_MONOTONIC milliseconds, system-wide on
//!   Linux and macOS, so processes agree) are invisible; their slot is reused
//!   by an insert that probes past it, and a full map purges them before it
//!   reports MAP_FULL.
//!
//! Layout (8-aligned; `Header` below, then `buckets` slots):
//!
//!     0 tag "SMAP", 4 capacity, 8 key size, 12 value size,
//!     16 count, 20 epoch, 24 earliest expiry (u64), 32 journal op,
//!     36 journal hole, 40 the writers' robust lock (40 bytes),
//!     80 journal source, 84 seal (a check of the configuration), 88 reserved
//!     128 + stride * i: slot i = version (u32), 4 spare, then two copies of
//!         24 bytes (hash, LIVE | key length, value length, spare, expiry u64),
//!         key bytes, value bytes, each copy rounded up to 8 bytes.
//!
//! The table has the smallest power of two ≥ 1.5 × capacity slots (load ≤ 2/3).

const std = @import("std");
const builtin = @import("builtin");
const abi = @import("abi.zig");
const robust = @import("robust.zig");
const wait = @import("wait.zig");

/// The tag word of an initialised map ("SMAP").
pub const TAG: u32 = 0x534d4150;
/// The tag word while the creator writes the configuration.
const INITIALISING: u32 = 1;
pub const HEADER_BYTES: usize = 128;
pub const MAX_CAPACITY: u32 = 1 << 26;
pub const MAX_KEY: u32 = 4096;
pub const MAX_VALUE: u32 = 1 << 20;

/// Results besides a length or a boolean.
pub const ABSENT: c_int = -1;
pub const FULL: c_int = -2;
pub const NOT_COUNTER: c_int = -3;
pub const CORRUPT: c_int = -4;
pub const TOO_LONG: c_int = -5;
pub const MISMATCH: c_int = -6;
pub const TOO_SMALL: c_int = -7;
pub const STUCK: c_int = -8;

/// How long one live owner may hold the writers' lock, never letting go,
/// before a writer gives up with STUCK (a holder takes it for microseconds).
const STUCK_MS: u64 = 2000;

const LIVE: u32 = 0x80000000;
const KLEN: u32 = 0xffff;
const NONE: u32 = 0xffffffff;
const OP_SHIFT: u32 = 1;
const OP_CLEAR: u32 = 2;
/// Lock-free attempts before a reader takes the writers' lock instead.
const READ_ATTEMPTS = 64;

pub const Header = extern struct {
    tag: u32,
    capacity: u32,
    key_size: u32,
    value_size: u32,
    count: u32,
    epoch: u32,
    min_expires: u64,
    j_op: u32,
    j_hole: u32,
    lock: [10]u32 align(8),
    j_from: u32,
    seal: u32,
    reserved: [10]u32,
};

comptime {
    std.debug.assert(@sizeOf(Header) == HEADER_BYTES);
    std.debug.assert(@offsetOf(Header, "lock") == 40);
    std.debug.assert(@offsetOf(Header, "j_from") == 80);
}

/// A record's fixed part, at the start of each copy.
const Rec = extern struct {
    hash: u32,
    meta: u32,
    vlen: u32,
    spare: u32,
    expires: u64,
};
const REC = @sizeOf(Rec);

fn align8(n: usize) usize {
    return (n + 7) & ~@as(usize, 7);
}

/// Slots of a map of `capacity` entries: the smallest power of two ≥ 1.5 × capacity (at least 2).
pub fn bucketsFor(capacity: u32) u32 {
    const want: u64 = @max(2, @as(u64, capacity) + (@as(u64, capacity) + 1) / 2);
    return @intCast(std.math.ceilPowerOfTwoAssert(u64, want));
}

fn copyBytes(key_size: u32, value_size: u32) usize {
    return align8(REC + key_size + value_size);
}

fn strideOf(key_size: u32, value_size: u32) usize {
    return 8 + 2 * copyBytes(key_size, value_size);
}

fn valid(capacity: u32, key_size: u32, value_size: u32) bool {
    return capacity >= 1 and capacity <= MAX_CAPACITY and key_size >= 1 and key_size <= MAX_KEY and
        value_size >= 1 and value_size <= MAX_VALUE;
}

/// The bytes a map of this configuration needs; 0 if the configuration is out of range.
pub fn mapBytes(capacity: u32, key_size: u32, value_size: u32) callconv(.c) u64 {
    if (!valid(capacity, key_size, value_size)) return 0;
    return HEADER_BYTES + @as(u64, bucketsFor(capacity)) * strideOf(key_size, value_size);
}

/// The check word of a configuration (so a header overwritten by something else is refused).
pub fn mapSeal(capacity: u32, key_size: u32, value_size: u32) callconv(.c) u32 {
    var h: u64 = TAG;
    for ([_]u32{ capacity, key_size, value_size }) |v| h = (h ^ v) *% 0x9E3779B97F4A7C15;
    return @truncate((h >> 29) | 1);
}

// ---- memory ordering -------------------------------------------------------------

/// Orders the loads before it before the loads after it (a seqlock's read side).
inline fn loadFence() void {
    switch (builtin.cpu.arch) {
        .x86_64, .x86 => asm volatile ("" ::: .{ .memory = true }),
        .aarch64 => asm volatile ("dmb ishld" ::: .{ .memory = true }),
        else => {
            var x: u32 = 0;
            _ = @atomicRmw(u32, &x, .Add, 0, .seq_cst);
        },
    }
}

/// Orders the stores before it before the stores after it.
inline fn storeFence() void {
    switch (builtin.cpu.arch) {
        .x86_64, .x86 => asm volatile ("" ::: .{ .memory = true }),
        .aarch64 => asm volatile ("dmb ishst" ::: .{ .memory = true }),
        else => {
            var x: u32 = 0;
            _ = @atomicRmw(u32, &x, .Add, 0, .seq_cst);
        },
    }
}

fn vload(comptime T: type, p: *const T) T {
    return @as(*const volatile T, p).*;
}

// ---- the clock ----------------------------------------------------------------------

/// CLOCK_MONOTONIC in milliseconds: one clock for every process of the system.
fn clockMs() u64 {
    var ts: std.c.timespec = undefined;
    _ = std.c.clock_gettime(.MONOTONIC, &ts);
    return @as(u64, @intCast(ts.sec)) * 1000 + @as(u64, @intCast(ts.nsec)) / 1_000_000;
}

/// The clock, read once per call and only if an entry has an expiry.
const Clock = struct {
    ms: u64 = 0,
    fn now(c: *Clock) u64 {
        if (c.ms == 0) c.ms = clockMs();
        return c.ms;
    }
    fn expired(c: *Clock, expires: u64) bool {
        return expires != 0 and c.now() >= expires;
    }
};

/// The expiry of an entry written now with `ttl_ms` (not > 0, or NaN: none).
fn expiryOf(c: *Clock, ttl_ms: f64) u64 {
    if (!(ttl_ms > 0)) return 0;
    const ttl: u64 = @intFromFloat(@min(@ceil(ttl_ms), 4.0e15));
    return c.now() + ttl;
}

// ---- hashing --------------------------------------------------------------------------

/// The hash of a key: the same in every process and language (the library computes it).
pub fn hashKey(key: []const u8) u32 {
    const h = std.hash.Wyhash.hash(0x5348415245444d41, key);
    return @truncate(h ^ (h >> 32));
}

// ---- the map --------------------------------------------------------------------------

const Map = struct {
    h: *Header,
    slots: [*]u8,
    mask: u32,
    key_size: u32,
    value_size: u32,
    capacity: u32,
    copy: usize,
    stride: usize,

    /// The map at `p`, if its header is an initialised map's with the
    /// configuration the caller opened it with: memory overwritten since (by
    /// hand, or by another process) is refused, never read or written beyond
    /// what the caller mapped, whatever its header says now.
    fn of(p: ?*anyopaque, capacity: u32, key_size: u32, value_size: u32) ?Map {
        const h: *Header = @ptrCast(@alignCast(p orelse return null));
        if (@atomicLoad(u32, &h.tag, .acquire) != TAG) return null;
        const cap = vload(u32, &h.capacity);
        const ks = vload(u32, &h.key_size);
        const vs = vload(u32, &h.value_size);
        if (cap != capacity or ks != key_size or vs != value_size) return null;
        if (!valid(cap, ks, vs) or vload(u32, &h.seal) != mapSeal(cap, ks, vs)) return null;
        return .{
            .h = h,
            .slots = @as([*]u8, @ptrCast(h)) + HEADER_BYTES,
            .mask = bucketsFor(cap) - 1,
            .key_size = ks,
            .value_size = vs,
            .capacity = cap,
            .copy = copyBytes(ks, vs),
            .stride = strideOf(ks, vs),
        };
    }

    fn buckets(m: Map) u32 {
        return m.mask + 1;
    }
    fn ver(m: Map, i: u32) *u32 {
        return @ptrCast(@alignCast(m.slots + m.stride * i));
    }
    fn copyAt(m: Map, i: u32, c: u32) [*]u8 {
        return m.slots + m.stride * i + 8 + m.copy * c;
    }
    fn rec(p: [*]u8) *Rec {
        return @ptrCast(@alignCast(p));
    }
    fn keyOf(m: Map, p: [*]u8) [*]u8 {
        _ = m;
        return p + REC;
    }
    fn valueOf(m: Map, p: [*]u8) [*]u8 {
        return p + REC + m.key_size;
    }
    /// The visible copy of slot i (writers only: no other writer moves it).
    fn cur(m: Map, i: u32) [*]u8 {
        return m.copyAt(i, @atomicLoad(u32, m.ver(i), .monotonic) & 1);
    }
    fn live(m: Map, i: u32) bool {
        return rec(m.cur(i)).meta & LIVE != 0;
    }

    // ---- the writers' lock ----

    /// Takes the writers' lock: 0, or CORRUPT if the word names this very
    /// thread (it never holds the lock between calls: the word was
    /// overwritten), or STUCK if one owner, alive as far as the kernel tells,
    /// held it without ever letting go for STUCK_MS (a stopped process, or a
    /// word overwritten with some other thread's id): an error, never a
    /// wait without end. The lock is never taken from a live owner.
    fn lock(m: Map) c_int {
        const w = &m.h.lock[0];
        // uncontended: one compare-and-set 0 -> our id (the word was free, so nobody died holding it)
        if (robust.robustLockAt(robust.robustContext(), w) == 1) return 0;
        const tid: u32 = @intCast(robust.robustTid());
        var waited = false;
        var spins: u32 = 0;
        var holder: u32 = 0;
        var since: u64 = 0;
        while (true) {
            const v = @atomicLoad(u32, w, .seq_cst);
            if (takeable(v)) {
                const keep = if (waited) robust.WAITERS else v & robust.WAITERS;
                if (robust.robustCas(w, v, tid | keep) == 1) {
                    if (died(v)) m.repair();
                    return 0;
                }
                continue;
            }
            if (v & robust.TID == tid) return CORRUPT;
            if (spins < 100) {
                spins += 1;
                std.atomic.spinLoopHint();
                continue;
            }
            if (v & robust.WAITERS == 0 and @cmpxchgStrong(u32, w, v, v | robust.WAITERS, .seq_cst, .seq_cst) != null) continue;
            waited = true;
            if (holder != v & robust.TID) {
                holder = v & robust.TID;
                since = clockMs();
            } else if (clockMs() - since >= STUCK_MS) return STUCK;
            // bounded: without a robust list (macOS) a dead owner is noticed by polling
            if (wait.wait32(w, v | robust.WAITERS, 100) != wait.timed_out) since = clockMs(); // woken: it moves
        }
    }

    fn unlock(m: Map) void {
        const w = &m.h.lock[0];
        // nobody waits: our id -> 0
        if (robust.robustUnlockAt(robust.robustContext(), w) == 1) return;
        while (true) {
            const v = @atomicLoad(u32, w, .seq_cst);
            const r = robust.robustCas(w, v, 0);
            if (r == 1) {
                if (v & robust.WAITERS != 0) _ = wait.wake32(w, 1);
                return;
            }
            if (r < 0) return; // not ours (cannot happen): never spin on it
        }
    }

    // ---- writing records (lock held) ----

    /// Writes the spare copy of slot i and makes it the visible one.
    fn publish(m: Map, i: u32, hash: u32, meta: u32, key: []const u8, value: []const u8, expires: u64) void {
        const v = @atomicLoad(u32, m.ver(i), .monotonic);
        const p = m.copyAt(i, (v & 1) ^ 1);
        storeFence();
        rec(p).* = .{ .hash = hash, .meta = meta, .vlen = @intCast(value.len), .spare = 0, .expires = expires };
        if (key.len > 0) @memcpy(m.keyOf(p)[0..key.len], key);
        if (value.len > 0) @memcpy(m.valueOf(p)[0..value.len], value);
        @atomicStore(u32, m.ver(i), v +% 1, .release);
    }

    fn writeEntry(m: Map, i: u32, hash: u32, key: []const u8, value: []const u8, expires: u64) void {
        m.publish(i, hash, LIVE | @as(u32, @intCast(key.len)), key, value, expires);
    }

    fn writeEmpty(m: Map, i: u32) void {
        m.publish(i, 0, 0, &.{}, &.{}, 0);
    }

    /// Copies the visible record of slot `from` into slot `to`.
    fn copySlot(m: Map, from: u32, to: u32) void {
        const p = m.cur(from);
        const r = rec(p);
        const klen = @min(r.meta & KLEN, m.key_size);
        const vlen = @min(r.vlen, m.value_size);
        m.publish(to, r.hash, LIVE | klen, m.keyOf(p)[0..klen], m.valueOf(p)[0..vlen], r.expires);
    }

    fn keyEql(m: Map, p: [*]u8, hash: u32, key: []const u8) bool {
        const r = rec(p);
        return r.hash == hash and (r.meta & KLEN) == key.len and std.mem.eql(u8, m.keyOf(p)[0..key.len], key);
    }

    fn setEpoch(m: Map, v: u32) void {
        @atomicStore(u32, &m.h.epoch, v, .seq_cst);
        storeFence();
    }

    fn setJournal(m: Map, field: *u32, v: u32) void {
        _ = m;
        storeFence();
        @atomicStore(u32, field, v, .release);
        storeFence();
    }

    // ---- probing (lock held) ----

    const Probe = struct {
        /// The slot holding the key (visible: not expired).
        at: ?u32 = null,
        /// Where to insert it: the key's own expired slot, the first expired slot of the cluster, or the empty slot.
        free: ?u32 = null,
        /// Whether `free` holds an expired entry (so the count does not grow).
        reuse: bool = false,
    };

    fn probe(m: Map, key: []const u8, hash: u32, clock: *Clock) Probe {
        var i = hash & m.mask;
        var first_expired: ?u32 = null;
        var n: u32 = 0;
        while (n <= m.mask) : (n += 1) {
            const p = m.cur(i);
            const r = rec(p);
            if (r.meta & LIVE == 0) return .{ .free = first_expired orelse i, .reuse = first_expired != null };
            if (m.keyEql(p, hash, key)) {
                if (clock.expired(r.expires)) return .{ .free = i, .reuse = true };
                return .{ .at = i };
            }
            if (first_expired == null and clock.expired(r.expires)) first_expired = i;
            i = (i + 1) & m.mask;
        }
        return .{ .free = first_expired, .reuse = first_expired != null };
    }

    /// Inserts an absent key; false if the map is full (after purging expired entries).
    fn insert(m: Map, key: []const u8, hash: u32, value: []const u8, expires: u64, clock: *Clock, p0: Probe) bool {
        var p = p0;
        if (!p.reuse and @atomicLoad(u32, &m.h.count, .monotonic) >= m.capacity) {
            if (m.purge(clock) == 0) return false;
            p = m.probe(key, hash, clock);
            if (!p.reuse and @atomicLoad(u32, &m.h.count, .monotonic) >= m.capacity) return false;
        }
        const at = p.free orelse return false;
        m.writeEntry(at, hash, key, value, expires);
        if (!p.reuse) @atomicStore(u32, &m.h.count, @atomicLoad(u32, &m.h.count, .monotonic) + 1, .monotonic);
        m.noteExpiry(expires);
        return true;
    }

    fn noteExpiry(m: Map, expires: u64) void {
        if (expires == 0) return;
        const e = @atomicLoad(u64, &m.h.min_expires, .monotonic);
        if (e == 0 or expires < e) @atomicStore(u64, &m.h.min_expires, expires, .monotonic);
    }

    // ---- deleting (lock held): backward shift under a journal ----

    fn deleteAt(m: Map, i: u32) void {
        const e = @atomicLoad(u32, &m.h.epoch, .monotonic);
        m.setEpoch(e | 1);
        m.setJournal(&m.h.j_hole, i);
        m.setJournal(&m.h.j_from, NONE);
        m.setJournal(&m.h.j_op, OP_SHIFT);
        m.writeEmpty(i);
        m.shiftFrom(i);
        m.setJournal(&m.h.j_op, 0);
        const c = @atomicLoad(u32, &m.h.count, .monotonic);
        @atomicStore(u32, &m.h.count, c -| 1, .monotonic);
        m.setEpoch((e | 1) +% 1);
    }

    /// Moves the entries after the empty slot `start` that may live there back into it, and so on.
    fn shiftFrom(m: Map, start: u32) void {
        var hole = start;
        var j = start;
        var n: u32 = 0;
        while (n < m.mask) : (n += 1) {
            j = (j + 1) & m.mask;
            const r = rec(m.cur(j));
            if (r.meta & LIVE == 0) return;
            const home = r.hash & m.mask;
            if (((j -% home) & m.mask) < ((j -% hole) & m.mask)) continue;
            m.setJournal(&m.h.j_from, j);
            m.copySlot(j, hole);
            m.setJournal(&m.h.j_hole, j);
            m.writeEmpty(j);
            m.setJournal(&m.h.j_from, NONE);
            hole = j;
        }
    }

    /// Removes every expired entry; returns how many.
    fn purge(m: Map, clock: *Clock) u32 {
        var removed: u32 = 0;
        var pass: u32 = 0;
        while (pass < 4) : (pass += 1) {
            var this_pass: u32 = 0;
            var i: u32 = 0;
            while (i <= m.mask) : (i += 1) {
                var guard: u32 = 0;
                while (guard <= m.mask and m.live(i) and clock.expired(rec(m.cur(i)).expires)) : (guard += 1) {
                    m.deleteAt(i);
                    this_pass += 1;
                }
            }
            removed += this_pass;
            if (this_pass == 0) break;
        }
        m.recountExpiry();
        return removed;
    }

    fn recountExpiry(m: Map) void {
        var min: u64 = 0;
        var i: u32 = 0;
        while (i <= m.mask) : (i += 1) {
            const r = rec(m.cur(i));
            if (r.meta & LIVE != 0 and r.expires != 0 and (min == 0 or r.expires < min)) min = r.expires;
        }
        @atomicStore(u64, &m.h.min_expires, min, .monotonic);
    }

    fn clearAll(m: Map) void {
        const e = @atomicLoad(u32, &m.h.epoch, .monotonic);
        m.setEpoch(e | 1);
        m.setJournal(&m.h.j_op, OP_CLEAR);
        var i: u32 = 0;
        while (i <= m.mask) : (i += 1) {
            if (m.live(i)) m.writeEmpty(i);
        }
        @atomicStore(u32, &m.h.count, 0, .monotonic);
        @atomicStore(u64, &m.h.min_expires, 0, .monotonic);
        m.setJournal(&m.h.j_op, 0);
        m.setEpoch((e | 1) +% 1);
    }

    // ---- repair: the lock's last holder died holding it ----

    fn repair(m: Map) void {
        const op = @atomicLoad(u32, &m.h.j_op, .monotonic);
        if (op == OP_SHIFT) {
            m.replayShift();
        } else if (op == OP_CLEAR) {
            m.clearAll();
        }
        m.setJournal(&m.h.j_op, 0);
        var count: u32 = 0;
        var i: u32 = 0;
        while (i <= m.mask) : (i += 1) count += @intFromBool(m.live(i));
        @atomicStore(u32, &m.h.count, count, .monotonic);
        m.recountExpiry();
        const e = @atomicLoad(u32, &m.h.epoch, .monotonic);
        if (e & 1 != 0) m.setEpoch(e +% 1);
    }

    fn replayShift(m: Map) void {
        var hole = @atomicLoad(u32, &m.h.j_hole, .monotonic);
        const from = @atomicLoad(u32, &m.h.j_from, .monotonic);
        if (hole > m.mask) return;
        if (from != NONE and from <= m.mask) {
            if (hole != from) {
                const p = m.cur(from);
                const copied = m.live(hole) and m.live(from) and
                    m.keyEql(m.cur(hole), rec(p).hash, m.keyOf(p)[0..@min(rec(p).meta & KLEN, m.key_size)]);
                if (copied) {
                    m.setJournal(&m.h.j_hole, from);
                    hole = from;
                }
            }
            if (hole == from) m.writeEmpty(hole);
            m.setJournal(&m.h.j_from, NONE);
        } else if (m.live(hole)) {
            m.writeEmpty(hole);
        }
        m.shiftFrom(hole);
    }

    // ---- lock-free reading ----

    const Read = union(enum) { found: u32, absent, retry };

    /// One lock-free attempt to find `key` and copy its value into `out` (if not null).
    fn tryRead(m: Map, key: []const u8, hash: u32, out: ?[*]u8, clock: *Clock) Read {
        const e1 = @atomicLoad(u32, &m.h.epoch, .acquire);
        if (e1 & 1 != 0) return .retry;
        var i = hash & m.mask;
        var n: u32 = 0;
        while (n <= m.mask) : (n += 1) {
            const v1 = @atomicLoad(u32, m.ver(i), .acquire);
            const p = m.copyAt(i, v1 & 1);
            const r = rec(p);
            const meta = vload(u32, &r.meta);
            const h = vload(u32, &r.hash);
            if (meta & LIVE == 0) {
                loadFence();
                if (@atomicLoad(u32, m.ver(i), .acquire) != v1) return .retry;
                break;
            }
            if (h == hash and (meta & KLEN) == key.len and std.mem.eql(u8, m.keyOf(p)[0..key.len], key)) {
                const vlen = vload(u32, &r.vlen);
                const expires = vload(u64, &r.expires);
                if (vlen > m.value_size) return .retry;
                if (out) |o| @memcpy(o[0..vlen], m.valueOf(p)[0..vlen]);
                loadFence();
                if (@atomicLoad(u32, m.ver(i), .acquire) != v1) return .retry;
                if (clock.expired(expires)) return .absent;
                return .{ .found = vlen };
            }
            loadFence();
            if (@atomicLoad(u32, m.ver(i), .acquire) != v1) return .retry;
            i = (i + 1) & m.mask;
        }
        loadFence();
        return if (@atomicLoad(u32, &m.h.epoch, .acquire) == e1) .absent else .retry;
    }

    /// The value's length (copied to `out`), or ABSENT.
    fn read(m: Map, key: []const u8, out: ?[*]u8) c_int {
        const hash = hashKey(key);
        var clock = Clock{};
        var attempt: u32 = 0;
        while (attempt < READ_ATTEMPTS) : (attempt += 1) {
            switch (m.tryRead(key, hash, out, &clock)) {
                .found => |n| return @intCast(n),
                .absent => return ABSENT,
                .retry => std.atomic.spinLoopHint(),
            }
        }
        // writers keep moving it (or one died mid-move): read under their lock, which repairs
        const l = m.lock();
        if (l != 0) return l;
        defer m.unlock();
        const p = m.probe(key, hash, &clock);
        const at = p.at orelse return ABSENT;
        const c = m.cur(at);
        const vlen = rec(c).vlen;
        if (vlen > m.value_size) return CORRUPT; // a length no writer wrote: the slot was overwritten
        if (out) |o| @memcpy(o[0..vlen], m.valueOf(c)[0..vlen]);
        return @intCast(vlen);
    }
};

fn takeable(v: u32) bool {
    return (v & robust.TID) == 0 or robust.robustGone(v) == 1;
}

fn died(v: u32) bool {
    return ((v & robust.TID) == 0 and (v & robust.OWNER_DIED) != 0) or robust.robustGone(v) == 1;
}

fn bytesOf(p: ?[*]const u8, len: u32) []const u8 {
    return if (p) |q| q[0..len] else &.{};
}

// ---- exports ----------------------------------------------------------------------------

pub fn mapInit(map: ?*anyopaque, capacity: u32, key_size: u32, value_size: u32) callconv(.c) c_int {
    const h: *Header = @ptrCast(@alignCast(map orelse return CORRUPT));
    if (!valid(capacity, key_size, value_size)) return MISMATCH;
    var spins: u32 = 0;
    while (true) {
        const t = @atomicLoad(u32, &h.tag, .acquire);
        if (t == TAG) {
            if (vload(u32, &h.capacity) != capacity or vload(u32, &h.key_size) != key_size or
                vload(u32, &h.value_size) != value_size) return MISMATCH;
            return 1;
        }
        if (t == 0) {
            if (@cmpxchgStrong(u32, &h.tag, 0, INITIALISING, .seq_cst, .seq_cst) != null) continue;
            @atomicStore(u32, &h.capacity, capacity, .seq_cst);
            @atomicStore(u32, &h.key_size, key_size, .seq_cst);
            @atomicStore(u32, &h.value_size, value_size, .seq_cst);
            @atomicStore(u32, &h.seal, mapSeal(capacity, key_size, value_size), .seq_cst);
            @atomicStore(u32, &h.tag, TAG, .seq_cst);
            return 0;
        }
        if (t != INITIALISING or spins > 5000) return CORRUPT;
        spins += 1;
        var nap: u32 = 0;
        _ = wait.wait32(&nap, 0, 1);
    }
}

pub fn mapGet(map: ?*anyopaque, capacity: u32, key_size: u32, value_size: u32, key: ?[*]const u8, key_len: u32, out: ?[*]u8) callconv(.c) c_int {
    const m = Map.of(map, capacity, key_size, value_size) orelse return CORRUPT;
    if (key_len > m.key_size) return TOO_LONG;
    return m.read(bytesOf(key, key_len), out);
}

pub fn mapGetAt(map: ?*anyopaque, capacity: u32, key_size: u32, value_size: u32, key: ?[*]const u8, key_len: u32, out: ?[*]u8, out_offset: u32) callconv(.c) c_int {
    return mapGet(map, capacity, key_size, value_size, key, key_len, if (out) |o| o + out_offset else null);
}

pub fn mapSet(map: ?*anyopaque, capacity: u32, key_size: u32, value_size: u32, key: ?[*]const u8, key_len: u32, value: ?[*]const u8, value_len: u32, ttl_ms: f64, only_if_absent: u32) callconv(.c) c_int {
    const m = Map.of(map, capacity, key_size, value_size) orelse return CORRUPT;
    if (key_len > m.key_size or value_len > m.value_size) return TOO_LONG;
    const k = bytesOf(key, key_len);
    const v = bytesOf(value, value_len);
    const hash = hashKey(k);
    var clock = Clock{};
    const expires = expiryOf(&clock, ttl_ms);
    const locked = m.lock();
    if (locked != 0) return locked;
    defer m.unlock();
    const p = m.probe(k, hash, &clock);
    if (p.at) |at| {
        if (only_if_absent != 0) return 0;
        m.writeEntry(at, hash, k, v, expires);
        m.noteExpiry(expires);
        return 1;
    }
    return if (m.insert(k, hash, v, expires, &clock, p)) 1 else FULL;
}

pub fn mapCas(map: ?*anyopaque, capacity: u32, key_size: u32, value_size: u32, key: ?[*]const u8, key_len: u32, expected: ?[*]const u8, expected_len: u32, desired: ?[*]const u8, desired_len: i32) callconv(.c) c_int {
    const m = Map.of(map, capacity, key_size, value_size) orelse return CORRUPT;
    if (key_len > m.key_size or desired_len > @as(i64, m.value_size)) return TOO_LONG;
    const k = bytesOf(key, key_len);
    const hash = hashKey(k);
    var clock = Clock{};
    const locked = m.lock();
    if (locked != 0) return locked;
    defer m.unlock();
    const at = m.probe(k, hash, &clock).at orelse return 0;
    const p = m.cur(at);
    const r = Map.rec(p);
    if (r.vlen > m.value_size) return CORRUPT; // a length no writer wrote: the slot was overwritten
    if (expected_len > m.value_size or r.vlen != expected_len or !std.mem.eql(u8, m.valueOf(p)[0..expected_len], bytesOf(expected, expected_len))) return 0;
    if (desired_len < 0) {
        m.deleteAt(at);
    } else {
        m.writeEntry(at, hash, k, bytesOf(desired, @intCast(desired_len)), r.expires);
    }
    return 1;
}

pub fn mapDelete(map: ?*anyopaque, capacity: u32, key_size: u32, value_size: u32, key: ?[*]const u8, key_len: u32) callconv(.c) c_int {
    const m = Map.of(map, capacity, key_size, value_size) orelse return CORRUPT;
    if (key_len > m.key_size) return TOO_LONG;
    const k = bytesOf(key, key_len);
    const hash = hashKey(k);
    var clock = Clock{};
    const locked = m.lock();
    if (locked != 0) return locked;
    defer m.unlock();
    const at = m.probe(k, hash, &clock).at orelse return 0;
    m.deleteAt(at);
    return 1;
}

/// fetch-add on the 8-byte little-endian value of `key` (absent: 0, created with `ttl_ms`); old value in `old`.
fn add(map: ?*anyopaque, capacity: u32, key_size: u32, value_size: u32, key: ?[*]const u8, key_len: u32, delta: i64, ttl_ms: f64, old: *i64) c_int {
    const m = Map.of(map, capacity, key_size, value_size) orelse return CORRUPT;
    if (key_len > m.key_size) return TOO_LONG;
    if (m.value_size < 8) return NOT_COUNTER;
    const k = bytesOf(key, key_len);
    const hash = hashKey(k);
    var clock = Clock{};
    const locked = m.lock();
    if (locked != 0) return locked;
    defer m.unlock();
    const p = m.probe(k, hash, &clock);
    if (p.at) |at| {
        const c = m.cur(at);
        if (Map.rec(c).vlen != 8) return NOT_COUNTER;
        const was = std.mem.readInt(i64, m.valueOf(c)[0..8], .little);
        var buf: [8]u8 = undefined;
        std.mem.writeInt(i64, &buf, was +% delta, .little);
        m.writeEntry(at, hash, k, &buf, Map.rec(c).expires);
        old.* = was;
        return 0;
    }
    var buf: [8]u8 = undefined;
    std.mem.writeInt(i64, &buf, delta, .little);
    if (!m.insert(k, hash, &buf, expiryOf(&clock, ttl_ms), &clock, p)) return FULL;
    old.* = 0;
    return 0;
}

pub fn mapAdd(map: ?*anyopaque, capacity: u32, key_size: u32, value_size: u32, key: ?[*]const u8, key_len: u32, delta: i64, ttl_ms: f64, old: *i64) callconv(.c) c_int {
    return add(map, capacity, key_size, value_size, key, key_len, delta, ttl_ms, old);
}

pub fn mapAddF64(map: ?*anyopaque, capacity: u32, key_size: u32, value_size: u32, key: ?[*]const u8, key_len: u32, delta: f64, ttl_ms: f64, old: *f64) callconv(.c) c_int {
    const d: i64 = if (delta != delta) 0 else @intFromFloat(@max(@min(delta, 9.2e18), -9.2e18));
    var was: i64 = 0;
    const r = add(map, capacity, key_size, value_size, key, key_len, d, ttl_ms, &was);
    old.* = @floatFromInt(was);
    return r;
}

pub fn mapClear(map: ?*anyopaque, capacity: u32, key_size: u32, value_size: u32) callconv(.c) c_int {
    const m = Map.of(map, capacity, key_size, value_size) orelse return CORRUPT;
    const locked = m.lock();
    if (locked != 0) return locked;
    defer m.unlock();
    m.clearAll();
    return 0;
}

pub fn mapSize(map: ?*anyopaque, capacity: u32, key_size: u32, value_size: u32) callconv(.c) c_int {
    const m = Map.of(map, capacity, key_size, value_size) orelse return CORRUPT;
    const e = @atomicLoad(u64, &m.h.min_expires, .monotonic);
    if (e != 0 and clockMs() >= e) {
        var clock = Clock{};
        const locked = m.lock();
        if (locked != 0) return locked;
        defer m.unlock();
        _ = m.purge(&clock);
    }
    return @intCast(@min(@atomicLoad(u32, &m.h.count, .monotonic), m.capacity));
}

/// Writes every visible entry as (u32 key length, u32 value length, key, value) into `out`.
fn snapshotPass(m: Map, out: [*]u8, out_len: usize, with_values: bool, clock: *Clock, locked: bool) ?c_int {
    var at: usize = 0;
    var n: c_int = 0;
    var i: u32 = 0;
    while (i <= m.mask) : (i += 1) {
        var tries: u32 = 0;
        while (true) : (tries += 1) {
            if (tries > 1000) return null;
            const v1 = @atomicLoad(u32, m.ver(i), .acquire);
            const p = m.copyAt(i, v1 & 1);
            const r = Map.rec(p);
            const meta = vload(u32, &r.meta);
            const klen = meta & KLEN;
            const vlen = if (with_values) vload(u32, &r.vlen) else 0;
            const expires = vload(u64, &r.expires);
            if (meta & LIVE == 0 or clock.expired(expires)) break;
            if (klen > m.key_size or vlen > m.value_size) continue;
            const need = 8 + klen + vlen;
            if (at + need > out_len) return if (locked) TOO_SMALL else null;
            std.mem.writeInt(u32, out[at..][0..4], klen, .little);
            std.mem.writeInt(u32, out[at + 4 ..][0..4], vlen, .little);
            @memcpy(out[at + 8 ..][0..klen], m.keyOf(p)[0..klen]);
            @memcpy(out[at + 8 + klen ..][0..vlen], m.valueOf(p)[0..vlen]);
            loadFence();
            if (@atomicLoad(u32, m.ver(i), .acquire) != v1) continue;
            at += need;
            n += 1;
            break;
        }
    }
    return n;
}

pub fn mapSnapshot(map: ?*anyopaque, capacity: u32, key_size: u32, value_size: u32, out: ?[*]u8, out_len: u64, with_values: u32) callconv(.c) c_int {
    const m = Map.of(map, capacity, key_size, value_size) orelse return CORRUPT;
    const o = out orelse return TOO_SMALL;
    var clock = Clock{};
    var attempt: u32 = 0;
    while (attempt < 8) : (attempt += 1) {
        const e1 = @atomicLoad(u32, &m.h.epoch, .acquire);
        if (e1 & 1 != 0) {
            std.atomic.spinLoopHint();
            continue;
        }
        const n = snapshotPass(m, o, @intCast(out_len), with_values != 0, &clock, false) orelse continue;
        loadFence();
        if (@atomicLoad(u32, &m.h.epoch, .acquire) == e1) return n;
    }
    // entries keep moving: take the writers' lock for one pass
    const locked = m.lock();
    if (locked != 0) return locked;
    defer m.unlock();
    return snapshotPass(m, o, @intCast(out_len), with_values != 0, &clock, true) orelse TOO_SMALL;
}

pub const c_exports = abi.group("map", "map.zig: SharedMap, a hash map in shared memory: open addressing with " ++
    "double-buffered slots read lock-free through per-slot versions, writers serialised by a robust lock, " ++
    "backward-shift deletion under a journal, TTLs on CLOCK_MONOTONIC. Results: >= 0 as documented, " ++
    "-1 absent, -2 full, -3 not an 8-byte counter, -4 not a map, -5 key or value too long, " ++
    "-6 another configuration, -7 output too small, -8 the writers' lock held by one live owner for over 2 s " ++
    "(a stopped process, or its word overwritten). Every function after sa_map_init takes the configuration " ++
    "the caller opened the map with (capacity, key_size, value_size): memory whose header says otherwise now " ++
    "(overwritten by hand or by another process) is refused with -4, never read or written beyond what the " ++
    "caller mapped.", .{ .platform = .linux_macos }, &.{
    abi.func("sa_map_bytes", mapBytes, &.{ "capacity", "key_size", "value_size" },
        \\The bytes a map needs (8-aligned): 0 if capacity is not in [1, 2^26], key_size in [1, 4096] or
        \\value_size in [1, 2^20].
    ),
    abi.func("sa_map_seal", mapSeal, &.{ "capacity", "key_size", "value_size" },
        \\The check word a map of this configuration keeps at byte 84 (written by whoever initialises it).
    ),
    abi.func("sa_map_init", mapInit, &.{ "map", "capacity", "key_size", "value_size" },
        \\Initialises zeroed memory as a map (0), or adopts the map already there (1); -6 if it has another
        \\configuration (or this one is out of range), -4 if the memory holds something else.
    ),
    abi.func("sa_map_get", mapGet, &.{ "map", "capacity", "key_size", "value_size", "key", "key_len", "out" },
        \\Copies the value of `key` into `out` (value_size bytes; NULL: only look) and returns its length,
        \\or -1 if absent or expired. Lock-free: never a half-written value.
    ),
    abi.func("sa_map_get_at", mapGetAt, &.{ "map", "capacity", "key_size", "value_size", "key", "key_len", "out", "out_offset" },
        \\sa_map_get into out + out_offset (for FFIs where pointer arithmetic costs a call).
    ),
    abi.func("sa_map_set", mapSet, &.{ "map", "capacity", "key_size", "value_size", "key", "key_len", "value", "value_len", "ttl_ms", "only_if_absent" },
        \\Stores `value` under `key`, expiring ttl_ms from now (ttl_ms <= 0 or NaN: never). Returns 1, 0 if
        \\only_if_absent and the key is present (nothing changed), or -2 if the map is full.
    ),
    abi.func("sa_map_cas", mapCas, &.{ "map", "capacity", "key_size", "value_size", "key", "key_len", "expected", "expected_len", "desired", "desired_len" },
        \\If `key` holds exactly `expected`, stores `desired` (keeping its expiry) or, with desired_len < 0,
        \\deletes it: 1, else 0.
    ),
    abi.func("sa_map_delete", mapDelete, &.{ "map", "capacity", "key_size", "value_size", "key", "key_len" }, "Deletes `key`: 1 if it was present, else 0."),
    abi.func("sa_map_add", mapAdd, &.{ "map", "capacity", "key_size", "value_size", "key", "key_len", "delta", "ttl_ms", "old" },
        \\Adds `delta` (wrapping) to the little-endian 64-bit value of `key`, which an absent key starts at 0
        \\and is created with ttl_ms; the value before in *old. 0, -2 (full) or -3 (its value is not 8 bytes).
    ),
    abi.func("sa_map_add_f64", mapAddF64, &.{ "map", "capacity", "key_size", "value_size", "key", "key_len", "delta", "ttl_ms", "old" },
        \\sa_map_add with a double delta (an integer) and a double result, for callers without 64-bit integers.
    ),
    abi.func("sa_map_clear", mapClear, &.{ "map", "capacity", "key_size", "value_size" }, "Deletes every entry: 0."),
    abi.func("sa_map_size", mapSize, &.{ "map", "capacity", "key_size", "value_size" }, "How many entries are visible (removing expired ones first when some are due)."),
    abi.func("sa_map_snapshot", mapSnapshot, &.{ "map", "capacity", "key_size", "value_size", "out", "out_len", "with_values" },
        \\Writes every visible entry into `out` as (uint32 key length, uint32 value length, key, value;
        \\little-endian; value length 0 without values) and returns how many; every key present for the whole
        \\call appears exactly once. -7 if out_len is too small (capacity * (8 + key_size + value_size) is enough).
    ),
});

// ---- tests -----------------------------------------------------------------------------

const testing = std.testing;

const exports = @This();

/// A map in test memory and the configuration it was opened with; its
/// methods are the exports with that configuration filled in.
const TestMap = struct {
    mem: []align(8) u8,
    cap: u32,
    ks: u32,
    vs: u32,

    /// Zeroed memory made a map (and adopted again, and refused with another configuration).
    fn init(capacity: u32, ks: u32, vs: u32) !TestMap {
        const n: usize = @intCast(mapBytes(capacity, ks, vs));
        const mem = try testing.allocator.alignedAlloc(u8, .@"8", n);
        @memset(mem, 0);
        try testing.expectEqual(@as(c_int, 0), mapInit(mem.ptr, capacity, ks, vs));
        try testing.expectEqual(@as(c_int, 1), mapInit(mem.ptr, capacity, ks, vs));
        try testing.expectEqual(MISMATCH, mapInit(mem.ptr, capacity + 1, ks, vs));
        return .{ .mem = mem, .cap = capacity, .ks = ks, .vs = vs };
    }
    fn deinit(t: TestMap) void {
        testing.allocator.free(t.mem);
    }
    fn p(t: TestMap) *anyopaque {
        return t.mem.ptr;
    }
    /// Sets keys 0 … n - 1 (8-byte little-endian integers), each its own value.
    fn fill(t: TestMap, n: usize) !void {
        var key: [8]u8 = undefined;
        for (0..n) |i| {
            std.mem.writeInt(u64, &key, i, .little);
            try testing.expectEqual(@as(c_int, 1), t.set(&key, &key));
        }
    }
    fn get(t: TestMap, key: []const u8, out: []u8) c_int {
        return t.mapGet(key.ptr, @intCast(key.len), out.ptr);
    }
    fn set(t: TestMap, key: []const u8, value: []const u8) c_int {
        return t.mapSet(key.ptr, @intCast(key.len), value.ptr, @intCast(value.len), 0, 0);
    }
    fn mapGet(t: TestMap, key: ?[*]const u8, key_len: u32, out: ?[*]u8) c_int {
        return exports.mapGet(t.p(), t.cap, t.ks, t.vs, key, key_len, out);
    }
    fn mapSet(t: TestMap, key: ?[*]const u8, key_len: u32, value: ?[*]const u8, value_len: u32, ttl_ms: f64, only_if_absent: u32) c_int {
        return exports.mapSet(t.p(), t.cap, t.ks, t.vs, key, key_len, value, value_len, ttl_ms, only_if_absent);
    }
    fn mapCas(t: TestMap, key: ?[*]const u8, key_len: u32, expected: ?[*]const u8, expected_len: u32, desired: ?[*]const u8, desired_len: i32) c_int {
        return exports.mapCas(t.p(), t.cap, t.ks, t.vs, key, key_len, expected, expected_len, desired, desired_len);
    }
    fn mapDelete(t: TestMap, key: ?[*]const u8, key_len: u32) c_int {
        return exports.mapDelete(t.p(), t.cap, t.ks, t.vs, key, key_len);
    }
    fn mapAdd(t: TestMap, key: ?[*]const u8, key_len: u32, delta: i64, ttl_ms: f64, old: *i64) c_int {
        return exports.mapAdd(t.p(), t.cap, t.ks, t.vs, key, key_len, delta, ttl_ms, old);
    }
    fn mapAddF64(t: TestMap, key: ?[*]const u8, key_len: u32, delta: f64, ttl_ms: f64, old: *f64) c_int {
        return exports.mapAddF64(t.p(), t.cap, t.ks, t.vs, key, key_len, delta, ttl_ms, old);
    }
    fn mapClear(t: TestMap) c_int {
        return exports.mapClear(t.p(), t.cap, t.ks, t.vs);
    }
    fn mapSize(t: TestMap) c_int {
        return exports.mapSize(t.p(), t.cap, t.ks, t.vs);
    }
    fn mapSnapshot(t: TestMap, out: ?[*]u8, out_len: u64, with_values: u32) c_int {
        return exports.mapSnapshot(t.p(), t.cap, t.ks, t.vs, out, out_len, with_values);
    }
    fn map(t: TestMap) Map {
        return Map.of(t.p(), t.cap, t.ks, t.vs).?;
    }
};

test "set, get, overwrite, delete, setIfAbsent, compare-and-set" {
    const t = try TestMap.init(8, 16, 32);
    defer t.deinit();
    var out: [32]u8 = undefined;
    try testing.expectEqual(ABSENT, t.get("a", &out));
    try testing.expectEqual(@as(c_int, 1), t.set("a", "hello"));
    try testing.expectEqual(@as(c_int, 5), t.get("a", &out));
    try testing.expectEqualStrings("hello", out[0..5]);
    try testing.expectEqual(@as(c_int, 1), t.set("a", "hi"));
    try testing.expectEqual(@as(c_int, 2), t.get("a", &out));
    try testing.expectEqual(@as(c_int, 0), t.mapSet("a", 1, "x", 1, 0, 1));
    try testing.expectEqual(@as(c_int, 1), t.mapSet("", 0, "empty", 5, 0, 1));
    try testing.expectEqual(@as(c_int, 5), t.get("", &out));
    try testing.expectEqual(@as(c_int, 0), t.mapCas("a", 1, "no", 2, "yes", 3));
    try testing.expectEqual(@as(c_int, 1), t.mapCas("a", 1, "hi", 2, "yes", 3));
    try testing.expectEqual(@as(c_int, 3), t.get("a", &out));
    try testing.expectEqual(@as(c_int, 1), t.mapCas("a", 1, "yes", 3, null, -1));
    try testing.expectEqual(ABSENT, t.get("a", &out));
    try testing.expectEqual(@as(c_int, 1), t.mapSize());
    try testing.expectEqual(@as(c_int, 1), t.mapDelete("", 0));
    try testing.expectEqual(@as(c_int, 0), t.mapDelete("", 0));
    try testing.expectEqual(TOO_LONG, t.get("0123456789abcdefX", &out));
}

test "full, then churn far beyond capacity never exhausts the table" {
    const t = try TestMap.init(100, 8, 8);
    defer t.deinit();
    try t.fill(100);
    var key: [8]u8 = undefined;
    std.mem.writeInt(u64, &key, 1000, .little);
    try testing.expectEqual(FULL, t.set(&key, &key));
    try testing.expectEqual(@as(c_int, 100), t.mapSize());
    var prng = std.Random.DefaultPrng.init(1);
    var present: [100]bool = @splat(true);
    for (0..50_000) |_| {
        const i = prng.random().uintLessThan(u64, 100);
        std.mem.writeInt(u64, &key, i, .little);
        if (present[i]) {
            try testing.expectEqual(@as(c_int, 1), t.mapDelete(&key, 8));
        } else {
            try testing.expectEqual(@as(c_int, 1), t.set(&key, &key));
        }
        present[i] = !present[i];
    }
    var out: [8]u8 = undefined;
    var n: c_int = 0;
    for (0..100) |i| {
        std.mem.writeInt(u64, &key, i, .little);
        const r = t.get(&key, &out);
        try testing.expectEqual(present[i], r == 8);
        n += @intFromBool(present[i]);
    }
    try testing.expectEqual(n, t.mapSize());
}

test "counters: fetch-add creates at 0, wraps, refuses a value that is not 8 bytes" {
    const t = try TestMap.init(4, 8, 16);
    defer t.deinit();
    var old: i64 = -1;
    try testing.expectEqual(@as(c_int, 0), t.mapAdd("c", 1, 5, 0, &old));
    try testing.expectEqual(@as(i64, 0), old);
    try testing.expectEqual(@as(c_int, 0), t.mapAdd("c", 1, std.math.maxInt(i64), 0, &old));
    try testing.expectEqual(@as(i64, 5), old);
    try testing.expectEqual(@as(c_int, 0), t.mapAdd("c", 1, 0, 0, &old));
    try testing.expectEqual(@as(i64, std.math.minInt(i64) + 4), old);
    var f: f64 = 0;
    try testing.expectEqual(@as(c_int, 0), t.mapAddF64("d", 1, -3, 0, &f));
    try testing.expectEqual(@as(c_int, 0), t.mapAddF64("d", 1, 1, 0, &f));
    try testing.expectEqual(@as(f64, -3), f);
    _ = t.set("s", "abc");
    try testing.expectEqual(NOT_COUNTER, t.mapAdd("s", 1, 1, 0, &old));
}

test "expired entries are invisible and their room is reused" {
    const t = try TestMap.init(2, 8, 8);
    defer t.deinit();
    // long enough that a loaded machine gets to the FULL check before they expire
    try testing.expectEqual(@as(c_int, 1), t.mapSet("a", 1, "1", 1, 300, 0));
    try testing.expectEqual(@as(c_int, 1), t.mapSet("b", 1, "2", 1, 300, 0));
    try testing.expectEqual(FULL, t.set("z", "z"));
    var nap: u32 = 0;
    _ = wait.wait32(&nap, 0, 400);
    var out: [8]u8 = undefined;
    try testing.expectEqual(ABSENT, t.get("a", &out));
    try testing.expectEqual(@as(c_int, 1), t.set("c", "3"));
    try testing.expectEqual(@as(c_int, 1), t.set("d", "4"));
    try testing.expectEqual(@as(c_int, 2), t.mapSize());
}

test "a writer that died mid-delete is replayed by the next lock holder" {
    const t = try TestMap.init(16, 8, 8);
    defer t.deinit();
    const m = t.map();
    // keys that collide: build a cluster by inserting keys with the same home slot
    var keys: [6][8]u8 = undefined;
    var k: usize = 0;
    var x: u64 = 0;
    const home0 = blk: {
        std.mem.writeInt(u64, &keys[0], 0, .little);
        break :blk hashKey(&keys[0]) & m.mask;
    };
    while (k < keys.len) : (x += 1) {
        var b: [8]u8 = undefined;
        std.mem.writeInt(u64, &b, x, .little);
        if (hashKey(&b) & m.mask == home0) {
            keys[k] = b;
            k += 1;
        }
    }
    for (keys) |kk| try testing.expectEqual(@as(c_int, 1), t.set(&kk, &kk));
    // delete keys[1] "by hand" and stop after the first move's copy (a writer dying there)
    const at = m.probe(&keys[1], hashKey(&keys[1]), @constCast(&Clock{})).at.?;
    m.setEpoch(1);
    m.h.j_hole = at;
    m.h.j_from = NONE;
    m.h.j_op = OP_SHIFT;
    m.writeEmpty(at);
    const next = (at + 1) & m.mask;
    m.h.j_from = next;
    m.copySlot(next, at);
    m.h.lock[0] = robust.OWNER_DIED;
    var out: [8]u8 = undefined;
    // a reader (epoch odd for long) falls back to the lock, which repairs
    try testing.expectEqual(ABSENT, t.get(&keys[1], &out));
    for (keys, 0..) |kk, i| {
        if (i == 1) continue;
        try testing.expectEqual(@as(c_int, 8), t.get(&kk, &out));
        try testing.expectEqualSlices(u8, &kk, &out);
    }
    try testing.expectEqual(@as(c_int, 5), t.mapSize());
    try testing.expectEqual(@as(u32, 0), m.h.j_op);
    try testing.expectEqual(@as(u32, 0), m.h.epoch & 1);
    var dups: u32 = 0;
    var i: u32 = 0;
    while (i <= m.mask) : (i += 1) dups += @intFromBool(m.live(i));
    try testing.expectEqual(@as(u32, 5), dups);
}

test "snapshot lists every entry once" {
    const t = try TestMap.init(10, 8, 8);
    defer t.deinit();
    for (0..10) |i| {
        var b: [1]u8 = .{@intCast(i)};
        _ = t.set(&b, &b);
    }
    var out: [10 * 24]u8 = undefined;
    try testing.expectEqual(@as(c_int, 10), t.mapSnapshot(&out, out.len, 1));
    try testing.expectEqual(TOO_SMALL, t.mapSnapshot(&out, 20, 1));
    var seen: u32 = 0;
    var at: usize = 0;
    for (0..10) |_| {
        const kl = std.mem.readInt(u32, out[at..][0..4], .little);
        try testing.expectEqual(@as(u32, 1), kl);
        seen |= @as(u32, 1) << @intCast(out[at + 8]);
        at += 10;
    }
    try testing.expectEqual(@as(u32, 0x3ff), seen);
}

test "a header overwritten with another configuration is refused, never followed out of bounds" {
    const t = try TestMap.init(4, 8, 8);
    defer t.deinit();
    try testing.expectEqual(@as(c_int, 1), t.set("a", "12345678"));
    const h: *Header = @ptrCast(t.mem.ptr);
    // a larger configuration with its own (valid) seal, as a copy of another map's header would have
    for ([_][3]u32{ .{ 1 << 20, 8, 8 }, .{ 4, 8, MAX_VALUE }, .{ 4, MAX_KEY, 8 }, .{ 1, 8, 8 } }) |c| {
        h.capacity, h.key_size, h.value_size = c;
        h.seal = mapSeal(c[0], c[1], c[2]);
        var out: [8]u8 = undefined;
        var old: i64 = 0;
        try testing.expectEqual(CORRUPT, t.get("a", &out));
        try testing.expectEqual(CORRUPT, t.set("b", "x"));
        try testing.expectEqual(CORRUPT, t.mapAdd("c", 1, 1, 0, &old));
        try testing.expectEqual(CORRUPT, t.mapSize());
        try testing.expectEqual(CORRUPT, t.mapSnapshot(&out, out.len, 1));
        try testing.expectEqual(CORRUPT, t.mapClear());
    }
    h.capacity, h.key_size, h.value_size = .{ 4, 8, 8 };
    h.seal = mapSeal(4, 8, 8);
    var out: [8]u8 = undefined;
    try testing.expectEqual(@as(c_int, 8), t.get("a", &out));
}

test "a lock word naming this thread, or a slot length no writer wrote, is an error, never a wait or a loop" {
    const t = try TestMap.init(4, 8, 8);
    defer t.deinit();
    try testing.expectEqual(@as(c_int, 1), t.set("a", "12345678"));
    const h: *Header = @ptrCast(t.mem.ptr);
    h.lock[0] = @intCast(robust.robustTid()); // this thread never holds it between calls: overwritten
    try testing.expectEqual(CORRUPT, t.set("b", "x"));
    h.lock[0] = 0;
    const m = t.map();
    const at = m.probe("a", hashKey("a"), @constCast(&Clock{})).at.?;
    Map.rec(m.cur(at)).vlen = 1000; // longer than value_size
    var out: [8]u8 = undefined;
    try testing.expectEqual(CORRUPT, t.get("a", &out));
    try testing.expectEqual(CORRUPT, t.mapCas("a", 1, "12345678", 8, "x", 1));
}

fn hammer(t: TestMap, n: usize) void {
    var old: i64 = 0;
    var key: [2]u8 = undefined;
    for (0..n) |i| {
        std.mem.writeInt(u16, &key, @intCast(i % 50), .little);
        std.debug.assert(t.mapAdd(&key, 2, 1, 0, &old) == 0);
    }
}

test "fetch-add from four threads: every total exact" {
    const t = try TestMap.init(64, 8, 8);
    defer t.deinit();
    var threads: [4]std.Thread = undefined;
    for (&threads) |*th| th.* = try std.Thread.spawn(.{}, hammer, .{ t, 20_000 });
    for (threads) |th| th.join();
    var key: [2]u8 = undefined;
    var out: [8]u8 = undefined;
    for (0..50) |i| {
        std.mem.writeInt(u16, &key, @intCast(i), .little);
        try testing.expectEqual(@as(c_int, 8), t.get(&key, &out));
        try testing.expectEqual(@as(i64, 4 * 400), std.mem.readInt(i64, &out, .little));
    }
}

const Churn = struct {
    t: TestMap,
    stop: *std.atomic.Value(bool),
    misses: *std.atomic.Value(u32),
};

fn churner(c: Churn, seed: u64) void {
    var prng = std.Random.DefaultPrng.init(seed);
    var key: [8]u8 = undefined;
    while (!c.stop.load(.monotonic)) {
        const k = prng.random().uintLessThan(u64, 300);
        std.mem.writeInt(u64, &key, 1000 + k, .little);
        if (prng.random().boolean()) {
            _ = c.t.mapSet(&key, 8, &key, 8, 0, 0);
        } else {
            _ = c.t.mapDelete(&key, 8);
        }
    }
}

fn stableReader(c: Churn) void {
    var key: [8]u8 = undefined;
    var out: [8]u8 = undefined;
    for (0..200) |_| {
        for (0..300) |k| {
            std.mem.writeInt(u64, &key, k, .little);
            if (c.t.mapGet(&key, 8, &out) != 8 or !std.mem.eql(u8, &out, &key)) _ = c.misses.fetchAdd(1, .monotonic);
        }
    }
}

test "lock-free readers never miss a key present throughout while writers insert and delete around it" {
    // 680 entries in 1,024 slots, up to 600 present: long clusters, so deletes move entries often
    const t = try TestMap.init(680, 8, 8);
    defer t.deinit();
    try t.fill(300);
    var stop = std.atomic.Value(bool).init(false);
    var misses = std.atomic.Value(u32).init(0);
    const c = Churn{ .t = t, .stop = &stop, .misses = &misses };
    const w1 = try std.Thread.spawn(.{}, churner, .{ c, 1 });
    const w2 = try std.Thread.spawn(.{}, churner, .{ c, 2 });
    const r1 = try std.Thread.spawn(.{}, stableReader, .{c});
    const r2 = try std.Thread.spawn(.{}, stableReader, .{c});
    r1.join();
    r2.join();
    stop.store(true, .monotonic);
    w1.join();
    w2.join();
    try testing.expectEqual(@as(u32, 0), misses.load(.monotonic));
}
