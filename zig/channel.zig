//! A bounded multi-producer multi-consumer FIFO of byte messages in shared
//! memory (a SharedArrayBuffer between Workers, a named segment between
//! processes), for JavaScript, C and Python alike: Vyukov's bounded MPMC
//! ring with a sequence number per slot, made robust to a participant that
//! dies in the middle of an operation, and sleeping on the process-shared
//! futex (`wait.zig`) only when there are sleepers to wake.
//!
//! Layout (8-aligned; fresh zeroed memory plus a tag and two configuration
//! words is an empty channel, so nothing else needs initialising):
//!
//!     +0    tag (TAG once initialised; 1 while being initialised)
//!     +4    capacity (messages)      +8  message_size (bytes)
//!     +12   closed (0 or 1)
//!     +16   reserved                 +20 receive event (a futex word)
//!     +24   reserved                 +28 send event (a futex word)
//!           (an event word: a count, and a top bit set while some
//!           thread sleeps on it)
//!     +64   enqueue position (u64, its own cache line)
//!     +128  dequeue position (u64, its own cache line)
//!     +192  capacity slots of `stride(message_size)` bytes, each:
//!           +0 sequence (u64: 2p while free for position p, 2p + 1 once
//!              p's message is in it; stored minus twice the slot's index
//!              so that zero is the initial state), +8 a robust word (40 bytes: robust.zig;
//!              its spare bytes at +16 hold the message's length),
//!           +48 the message's bytes
//!
//! Sending position p (slot i = p % capacity): the slot is free for p when
//! its sequence is 2p. The sender takes the slot's robust word, then claims p
//! (compare-and-set of the enqueue position), writes the length and bytes,
//! publishes sequence 2p + 1 and gives the word up. Receiving position p: the
//! slot holds p's message when its sequence is 2p + 1; the receiver takes the
//! word, claims p (the dequeue position), copies the message out, frees the
//! slot for round p + capacity and gives the word up.
//!
//! A participant that dies holding a slot's word (SIGKILL at any
//! instruction) leaves it marked OWNER_DIED by the kernel (robust list). A
//! survivor that finds such a slot repairs it: a sender that died after
//! claiming p but before publishing it leaves sequence 2p with the enqueue
//! position past p, and the receiver at p drops the half-written message
//! (never delivered); a receiver that died after claiming p but before
//! freeing the slot leaves sequence 2p + 1 with the dequeue position past p,
//! and the sender at p + capacity frees the slot (the message it was
//! taking is lost: at most one per dead receiver). A death before the claim
//! changes nothing but the word, which the next owner takes as usual.
//! Sleepers wait in slices (SLICE_MS) and look again, so a wake-up meant for
//! a participant that died, or a repair only a sleeper can make, costs at
//! most one slice.

const std = @import("std");
const builtin = @import("builtin");
const abi = @import("abi.zig");
const wait = @import("wait.zig");
const robust = @import("robust.zig");

/// The tag word of an initialised channel ("CHN1"); 1 while initialising.
pub const TAG: u32 = 0x43484e31;
const INITIALISING: u32 = 1;

pub const OFF_CAPACITY = 4;
pub const OFF_MESSAGE_SIZE = 8;
pub const OFF_CLOSED = 12;
/// Unused (reserved): sleepers are marked in the event words instead.
pub const OFF_RECV_WAITERS = 16;
pub const OFF_RECV_EVENT = 20;
pub const OFF_SEND_WAITERS = 24;
pub const OFF_SEND_EVENT = 28;
const OFF_ENQ = 64;
const OFF_DEQ = 128;
/// Bytes before the first slot.
pub const HEADER: usize = 192;
/// A slot's bytes before its message: sequence (8) and robust word (40).
pub const SLOT_HEADER: usize = 48;
const SLOT_WORD = 8;
const SLOT_LEN = 16;

/// The largest capacity and message size.
pub const MAX_CAPACITY: u32 = 1 << 24;
pub const MAX_MESSAGE_SIZE: u32 = 1 << 30;

/// How long a blocked side keeps looking before it sleeps (milliseconds), and
/// how many times it then yields its CPU first: a peer that is about to act
/// costs no system call on either side; an idle one costs nothing after that.
const SPIN_MS: f64 = 0.01;
const YIELDS = 4;

/// How long one sleep lasts before looking again (a repair only a sleeper
/// can make, or a wake-up that went to a participant that died).
const SLICE_MS: f64 = 100;

/// What the functions return besides a length or a count (all negative).
pub const Code = enum(c_int) {
    /// send: no free slot; receive: no message (try forms).
    would_block = -1,
    /// The channel was closed (send), or closed and empty (receive).
    closed = -2,
    /// The time ran out.
    timed_out = -3,
    /// send: a message longer than message_size.
    too_big = -4,
    /// receive: the next message is longer than the buffer (it stays).
    too_small = -5,
    /// Not a channel's memory (no tag, or a bad configuration).
    invalid = -6,
    /// init: the memory holds something else, or another configuration.
    mismatch = -7,
};
const WOULD_BLOCK = @backingInt(Code.would_block);
const CLOSED = @backingInt(Code.closed);
const TIMED_OUT = @backingInt(Code.timed_out);
const TOO_BIG = @backingInt(Code.too_big);
const TOO_SMALL = @backingInt(Code.too_small);
const INVALID = @backingInt(Code.invalid);
const MISMATCH = @backingInt(Code.mismatch);
/// The top bit of an event word: some thread sleeps (or slept) on it. A
/// waker clears it as it wakes them all, so a sleeper that died costs at
/// most one needless wake-up, never one per message (a count of sleepers
/// would stay too high forever).
const SLEEPING: u32 = 0x80000000;

/// An internal result: a live peer is in the middle of this slot (retry soon).
const BUSY: c_int = -100;
/// How many times one attempt looks again after losing a race before it
/// reports BUSY (so memory that another party corrupted cannot loop forever).
const LOOK_LIMIT = 1000;

/// Bytes a slot takes for messages of up to `message_size` bytes (cache-line multiples).
pub fn stride(message_size: u32) usize {
    return std.mem.alignForward(usize, SLOT_HEADER + @as(usize, message_size), 64);
}

/// Bytes a channel takes; 0 if capacity or message_size is out of range.
pub fn bytes(capacity: u32, message_size: u32) callconv(.c) u64 {
    if (capacity == 0 or capacity > MAX_CAPACITY or message_size == 0 or message_size > MAX_MESSAGE_SIZE) return 0;
    return HEADER + @as(u64, capacity) * stride(message_size);
}

extern "c" fn sched_yield() c_int;

fn nowMs() f64 {
    var ts: std.c.timespec = undefined;
    _ = std.c.clock_gettime(.MONOTONIC, &ts);
    return @as(f64, @floatFromInt(ts.sec)) * 1000 + @as(f64, @floatFromInt(ts.nsec)) / 1e6;
}

fn ld32(p: *const u32) u32 {
    return @atomicLoad(u32, p, .seq_cst);
}
fn ld64(p: *const u64) u64 {
    return @atomicLoad(u64, p, .seq_cst);
}

/// A robust word is free to take: no owner, or one known to be gone.
fn takeable(v: u32) bool {
    return (v & robust.TID) == 0 or robust.robustGone(v) == 1;
}

/// Its owner died holding it (the kernel's mark, or a gone owner).
fn died(v: u32) bool {
    return ((v & robust.TID) == 0 and (v & robust.OWNER_DIED) != 0) or robust.robustGone(v) == 1;
}

/// A channel's memory, with its configuration read once.
const Ch = struct {
    base: [*]u8,
    cap: u32,
    size: u32,
    stride: usize,

    /// The channel at `p` as its header describes it (null: not a channel).
    fn stored(p: *anyopaque) ?Ch {
        const base: [*]u8 = @ptrCast(p);
        const c: Ch = .{ .base = base, .cap = 0, .size = 0, .stride = 0 };
        if (ld32(c.w32(0)) != TAG) return null;
        const cap = ld32(c.w32(OFF_CAPACITY));
        const size = ld32(c.w32(OFF_MESSAGE_SIZE));
        if (bytes(cap, size) == 0) return null;
        return .{ .base = base, .cap = cap, .size = size, .stride = stride(size) };
    }

    /// The channel at `p` if its header holds the configuration the caller
    /// opened it with: memory overwritten since (by hand, or by another
    /// process) is refused, never read or written beyond what the caller
    /// mapped, whatever its header says now.
    fn of(p: *anyopaque, capacity: u32, message_size: u32) ?Ch {
        const c = stored(p) orelse return null;
        if (c.cap != capacity or c.size != message_size) return null;
        return c;
    }

    fn w32(c: Ch, off: usize) *u32 {
        return @ptrCast(@alignCast(c.base + off));
    }
    fn w64(c: Ch, off: usize) *u64 {
        return @ptrCast(@alignCast(c.base + off));
    }
    fn slot(c: Ch, pos: u64) Slot {
        const i = pos % c.cap;
        return .{ .p = c.base + HEADER + i * c.stride, .index = i };
    }
    fn closed(c: Ch) bool {
        return ld32(c.w32(OFF_CLOSED)) != 0;
    }
    fn enq(c: Ch) *u64 {
        return c.w64(OFF_ENQ);
    }
    fn deq(c: Ch) *u64 {
        return c.w64(OFF_DEQ);
    }
    /// Wakes the sleepers of a side if its event word says some sleep (after
    /// `n` > 0 messages or slots were made available): the word's count goes
    /// up and its SLEEPING bit is cleared in one compare-and-set, so only one
    /// waker makes the system call. (`waiters` is unused: see SLEEPING.)
    fn signal(c: Ch, waiters: usize, event: usize, n: u32) void {
        _ = waiters;
        if (n == 0) return;
        const w = c.w32(event);
        const v = ld32(w);
        if (v & SLEEPING == 0) return;
        if (@cmpxchgStrong(u32, w, v, (v +% 1) & ~SLEEPING, .seq_cst, .seq_cst) == null) _ = wait.wake32(w, 0);
    }

    /// Marks a side's event word as having a sleeper; returns the value to sleep on.
    fn markSleeping(c: Ch, event: usize) u32 {
        const w = c.w32(event);
        while (true) {
            const v = ld32(w);
            if (v & SLEEPING != 0) return v;
            if (@cmpxchgWeak(u32, w, v, v | SLEEPING, .seq_cst, .seq_cst) == null) return v | SLEEPING;
        }
    }
};

const Slot = struct {
    p: [*]u8,
    index: u64,

    fn seqWord(s: Slot) *u64 {
        return @ptrCast(@alignCast(s.p));
    }
    fn seq(s: Slot) u64 {
        return ld64(s.seqWord()) +% 2 *% s.index;
    }
    fn setSeq(s: Slot, v: u64) void {
        @atomicStore(u64, s.seqWord(), v -% 2 *% s.index, .seq_cst);
    }
    fn word(s: Slot) *u32 {
        return @ptrCast(@alignCast(s.p + SLOT_WORD));
    }
    fn len(s: Slot) *u32 {
        return @ptrCast(@alignCast(s.p + SLOT_LEN));
    }
    fn data(s: Slot) [*]u8 {
        return s.p + SLOT_HEADER;
    }
    /// Takes the slot's robust word if no live thread holds it: its value
    /// before, or null (held, or it changed).
    fn take(s: Slot) ?u32 {
        const v = ld32(s.word());
        if (!takeable(v)) return null;
        const tid: u32 = @intCast(robust.robustTid());
        if (robust.robustCas(s.word(), v, tid | (v & robust.WAITERS)) != 1) return null;
        return v;
    }
    /// BUSY: a live participant holds the slot's word, or INVALID if the
    /// word names this very thread (which never holds one between calls:
    /// the word was overwritten, and would never be given up).
    fn busy(s: Slot) c_int {
        const tid: u32 = @intCast(robust.robustTid());
        return if (ld32(s.word()) & robust.TID == tid) INVALID else BUSY;
    }
    fn give(s: Slot) void {
        const v = ld32(s.word());
        _ = robust.robustCas(s.word(), v, v & robust.WAITERS);
    }
};

/// A slot's sequence when it is free for position `pos`, and once `pos`'s
/// message is in it (twice the position, so that the two differ even with
/// one slot, where round pos + 1's free mark would be pos's published one).
fn free(pos: u64) u64 {
    return 2 *% pos;
}
fn published(pos: u64) u64 {
    return 2 *% pos +% 1;
}

fn signed(a: u64, b: u64) i64 {
    return @bitCast(a -% b);
}

/// One attempt to send: the length sent, WOULD_BLOCK (full), CLOSED or BUSY.
fn sendOnce(c: Ch, data: [*]const u8, len: u32, comptime wake: bool) c_int {
    var tries: u32 = 0;
    while (tries < LOOK_LIMIT) : (tries += 1) {
        if (c.closed()) return CLOSED;
        const pos = ld64(c.enq());
        const s = c.slot(pos);
        const seq = s.seq();
        const dif = signed(seq, free(pos));
        if (dif > 0) continue; // another sender claimed pos: look again
        if (dif < 0) {
            // the slot still holds the message of round pos - capacity
            const r = repairTaken(c, s, pos -% c.cap, seq);
            if (r == 0) continue;
            return r;
        }
        if (s.take() == null) {
            if (ld64(c.enq()) != pos) continue;
            return s.busy();
        }
        if (@cmpxchgStrong(u64, c.enq(), pos, pos +% 1, .seq_cst, .seq_cst) != null) {
            s.give();
            continue;
        }
        @atomicStore(u32, s.len(), len, .seq_cst);
        @memcpy(s.data()[0..len], data[0..len]);
        s.setSeq(published(pos));
        s.give();
        if (wake) c.signal(OFF_RECV_WAITERS, OFF_RECV_EVENT, 1);
        return @intCast(len);
    }
    return BUSY;
}

/// The slot `s` still holds the message of position `old` (sequence `seq`
/// was read): WOULD_BLOCK if that message is waiting for a receiver, BUSY
/// if a live receiver is copying it, 0 after freeing a slot whose receiver
/// died while taking it (look again).
fn repairTaken(c: Ch, s: Slot, old: u64, seq: u64) c_int {
    if (seq != published(old)) return if (signed(ld64(c.enq()), old +% c.cap) > 0) 0 else WOULD_BLOCK;
    if (signed(ld64(c.deq()), old) <= 0) return WOULD_BLOCK; // not taken yet: full
    const v = ld32(s.word());
    if (!died(v)) return if (takeable(v)) 0 else s.busy();
    _ = s.take() orelse return 0;
    // still the dead receiver's claim? (a repairer before us freed it otherwise)
    if (s.seq() == published(old)) {
        s.setSeq(free(old +% c.cap));
    }
    s.give();
    return 0;
}

/// One attempt to receive into buf[0..cap]: the length, WOULD_BLOCK
/// (empty), CLOSED (closed and empty), TOO_SMALL or BUSY.
fn recvOnce(c: Ch, buf: [*]u8, cap: u32, comptime wake: bool) c_int {
    var tries: u32 = 0;
    while (tries < LOOK_LIMIT) : (tries += 1) {
        const pos = ld64(c.deq());
        const s = c.slot(pos);
        const seq = s.seq();
        const dif = signed(seq, published(pos));
        if (dif > 0) continue; // another receiver took pos
        if (dif < 0) {
            const r = repairSent(c, s, pos, seq);
            if (r == 0) continue;
            return r;
        }
        const len = @atomicLoad(u32, s.len(), .seq_cst);
        if (len > c.size) {
            // longer than any sender could write: overwritten (re-read: a sender may be writing it)
            if (ld64(c.deq()) != pos or s.seq() != published(pos)) continue;
            return INVALID;
        }
        if (len > cap) {
            if (ld64(c.deq()) != pos) continue;
            return TOO_SMALL;
        }
        if (s.take() == null) {
            if (ld64(c.deq()) != pos) continue;
            return s.busy();
        }
        if (@cmpxchgStrong(u64, c.deq(), pos, pos +% 1, .seq_cst, .seq_cst) != null) {
            s.give();
            continue;
        }
        const n = @min(@atomicLoad(u32, s.len(), .seq_cst), c.size, cap);
        @memcpy(buf[0..n], s.data()[0..n]);
        s.setSeq(free(pos +% c.cap));
        s.give();
        if (wake) c.signal(OFF_SEND_WAITERS, OFF_SEND_EVENT, 1);
        return @intCast(n);
    }
    return BUSY;
}

/// The slot `s` at the receive position `pos` holds no message yet
/// (sequence `seq` was read): WOULD_BLOCK or CLOSED if nothing was sent,
/// BUSY while a live sender writes it, 0 after dropping a message whose
/// sender died while writing it (look again).
fn repairSent(c: Ch, s: Slot, pos: u64, seq: u64) c_int {
    const end = ld64(c.enq());
    if (signed(end, pos) <= 0) {
        // empty (closed is read after the enqueue position: a send that claimed before close is seen)
        if (!c.closed()) return WOULD_BLOCK;
        return if (ld64(c.enq()) == end) CLOSED else 0;
    }
    if (seq != free(pos)) return if (ld64(c.deq()) != pos) 0 else BUSY; // the slot's last receiver is finishing
    const v = ld32(s.word());
    if (!died(v)) return if (takeable(v)) 0 else s.busy();
    _ = s.take() orelse return 0;
    if (s.seq() == free(pos) and @cmpxchgStrong(u64, c.deq(), pos, pos +% 1, .seq_cst, .seq_cst) == null) {
        s.setSeq(free(pos +% c.cap)); // the half-written message is dropped
        s.give();
        c.signal(OFF_SEND_WAITERS, OFF_SEND_EVENT, 1);
        return 0;
    }
    s.give();
    return 0;
}

/// Waits for the other side, spinning briefly first (SPIN_MS): `attempt` is retried
/// until it returns something other than WOULD_BLOCK or BUSY, or the
/// deadline passes. Sleeps on the event word of `event`, only after marking
/// it SLEEPING and looking again. (`waiters` is unused: see SLEEPING.)
fn blocking(c: Ch, timeout_ms: f64, waiters: usize, event: usize, ctx: anytype, comptime attempt: fn (Ch, @TypeOf(ctx)) c_int) c_int {
    const forever = !(timeout_ms >= 0) or timeout_ms == std.math.inf(f64);
    var deadline: f64 = std.math.inf(f64);
    var spin_until: f64 = 0;
    var spins: u32 = 0;
    var yields: u32 = 0;
    while (true) : (spins += 1) {
        const r = attempt(c, ctx);
        if (r != WOULD_BLOCK and r != BUSY) return r;
        if (timeout_ms == 0) {
            // try forms: a peer in the middle of this slot gets a few looks, never a sleep
            if (r == WOULD_BLOCK or spins >= 80) return WOULD_BLOCK;
            std.atomic.spinLoopHint();
            continue;
        }
        if (spins == 0) {
            const t = nowMs();
            spin_until = t + SPIN_MS;
            if (!forever) deadline = t + timeout_ms;
        }
        if (nowMs() < @min(spin_until, deadline)) {
            for (0..8) |_| std.atomic.spinLoopHint();
            continue;
        }
        if (yields < YIELDS) {
            yields += 1;
            _ = sched_yield();
            continue;
        }
        const left = if (forever) SLICE_MS else deadline - nowMs();
        if (left <= 0) return TIMED_OUT;
        const ms = @min(left, if (r == BUSY) 1 else SLICE_MS);
        _ = waiters;
        const ev = c.markSleeping(event);
        const again = attempt(c, ctx);
        if (again != WOULD_BLOCK and again != BUSY) return again;
        _ = wait.wait32(c.w32(event), ev, ms);
        yields = 0; // after a wake-up, spin a little again before the next sleep
        spin_until = nowMs() + SPIN_MS;
    }
}

const SendCtx = struct { data: [*]const u8, len: u32 };
fn sendAttempt(c: Ch, x: SendCtx) c_int {
    return sendOnce(c, x.data, x.len, true);
}
const RecvCtx = struct { buf: [*]u8, cap: u32 };
fn recvAttempt(c: Ch, x: RecvCtx) c_int {
    return recvOnce(c, x.buf, x.cap, true);
}

pub fn send(ch: *anyopaque, capacity: u32, message_size: u32, data: [*]const u8, len: u32, timeout_ms: f64) callconv(.c) c_int {
    const c = Ch.of(ch, capacity, message_size) orelse return INVALID;
    if (len > c.size) return TOO_BIG;
    return blocking(c, timeout_ms, OFF_SEND_WAITERS, OFF_SEND_EVENT, SendCtx{ .data = data, .len = len }, sendAttempt);
}

pub fn recv(ch: *anyopaque, capacity: u32, message_size: u32, buf: [*]u8, cap: u32, timeout_ms: f64) callconv(.c) c_int {
    const c = Ch.of(ch, capacity, message_size) orelse return INVALID;
    return blocking(c, timeout_ms, OFF_RECV_WAITERS, OFF_RECV_EVENT, RecvCtx{ .buf = buf, .cap = cap }, recvAttempt);
}

/// A batch of messages as records: a u32 length, then the bytes, padded to 4.
fn recordLen(len: u32) usize {
    return 4 + std.mem.alignForward(usize, len, 4);
}

pub fn sendMany(ch: *anyopaque, capacity: u32, message_size: u32, buf: [*]const u8, count: u32, timeout_ms: f64) callconv(.c) c_int {
    const c = Ch.of(ch, capacity, message_size) orelse return INVALID;
    var at: usize = 0;
    var i: u32 = 0;
    // every length is checked before anything is sent
    while (i < count) : (i += 1) {
        const len = std.mem.readInt(u32, buf[at..][0..4], .little);
        if (len > c.size) return TOO_BIG;
        at += recordLen(len);
    }
    at = 0;
    i = 0;
    var woken: u32 = 0;
    const forever = !(timeout_ms >= 0) or timeout_ms == std.math.inf(f64);
    const deadline = if (forever) std.math.inf(f64) else nowMs() + timeout_ms;
    while (i < count) : (i += 1) {
        const len = std.mem.readInt(u32, buf[at..][0..4], .little);
        const x = SendCtx{ .data = buf + at + 4, .len = len };
        var r = sendOnce(c, x.data, x.len, false);
        if (r == WOULD_BLOCK or r == BUSY) {
            // wake the receivers of what this batch sent so far before waiting for room
            c.signal(OFF_RECV_WAITERS, OFF_RECV_EVENT, i - woken);
            woken = i;
            const left = if (forever) -1 else @max(0, deadline - nowMs());
            r = blocking(c, left, OFF_SEND_WAITERS, OFF_SEND_EVENT, x, sendAttempt);
        }
        if (r < 0) {
            c.signal(OFF_RECV_WAITERS, OFF_RECV_EVENT, i - woken);
            return if (i > 0) @intCast(i) else r;
        }
        at += recordLen(len);
    }
    c.signal(OFF_RECV_WAITERS, OFF_RECV_EVENT, count - woken);
    return @intCast(count);
}

pub fn recvMany(ch: *anyopaque, capacity: u32, message_size: u32, buf: [*]u8, cap: u32, max: u32, timeout_ms: f64) callconv(.c) c_int {
    const c = Ch.of(ch, capacity, message_size) orelse return INVALID;
    if (max == 0) return 0;
    if (cap < recordLen(0)) return TOO_SMALL;
    const first = blocking(c, timeout_ms, OFF_RECV_WAITERS, OFF_RECV_EVENT, RecvCtx{ .buf = buf + 4, .cap = cap - 4 }, recvAttempt);
    if (first < 0) return first;
    const n0: u32 = @intCast(first);
    std.mem.writeInt(u32, buf[0..4], n0, .little);
    var at: usize = recordLen(n0);
    var count: u32 = 1;
    while (count < max and at + 4 <= cap) : (count += 1) {
        const r = recvOnce(c, buf + at + 4, @intCast(cap - at - 4), false);
        if (r < 0) break;
        const n: u32 = @intCast(r);
        std.mem.writeInt(u32, buf[at..][0..4], n, .little);
        at += recordLen(n);
    }
    c.signal(OFF_SEND_WAITERS, OFF_SEND_EVENT, count - 1);
    return @intCast(count);
}

pub fn close(ch: *anyopaque, capacity: u32, message_size: u32) callconv(.c) c_int {
    const c = Ch.of(ch, capacity, message_size) orelse return INVALID;
    const was = @atomicRmw(u32, c.w32(OFF_CLOSED), .Xchg, 1, .seq_cst);
    for ([_]usize{ OFF_RECV_EVENT, OFF_SEND_EVENT }) |e| {
        const w = c.w32(e);
        var v = ld32(w);
        while (@cmpxchgWeak(u32, w, v, (v +% 1) & ~SLEEPING, .seq_cst, .seq_cst)) |now| v = now;
        _ = wait.wake32(w, 0);
    }
    return @intFromBool(was == 0);
}

pub fn isClosed(ch: *anyopaque, capacity: u32, message_size: u32) callconv(.c) c_int {
    const c = Ch.of(ch, capacity, message_size) orelse return INVALID;
    return @intFromBool(c.closed());
}

pub fn length(ch: *anyopaque, capacity: u32, message_size: u32) callconv(.c) c_int {
    const c = Ch.of(ch, capacity, message_size) orelse return INVALID;
    const d = ld64(c.deq());
    const e = ld64(c.enq());
    const n = signed(e, d);
    return @intCast(std.math.clamp(n, 0, c.cap));
}

pub fn peekLength(ch: *anyopaque, capacity: u32, message_size: u32) callconv(.c) c_int {
    const c = Ch.of(ch, capacity, message_size) orelse return INVALID;
    const pos = ld64(c.deq());
    const s = c.slot(pos);
    if (s.seq() != published(pos)) return WOULD_BLOCK;
    return @intCast(@min(@atomicLoad(u32, s.len(), .seq_cst), c.size));
}

pub fn waitBegin(ch: *anyopaque, capacity: u32, message_size: u32, receiving: c_int) callconv(.c) c_int {
    const c = Ch.of(ch, capacity, message_size) orelse return INVALID;
    return @bitCast(c.markSleeping(if (receiving != 0) OFF_RECV_EVENT else OFF_SEND_EVENT));
}

pub fn waitEnd(ch: *anyopaque, capacity: u32, message_size: u32, receiving: c_int) callconv(.c) c_int {
    _ = Ch.of(ch, capacity, message_size) orelse return INVALID;
    _ = receiving;
    return 0;
}

pub fn init(ch: *anyopaque, capacity: u32, message_size: u32) callconv(.c) c_int {
    if (bytes(capacity, message_size) == 0) return INVALID;
    const base: [*]u8 = @ptrCast(ch);
    const tag: *u32 = @ptrCast(@alignCast(base));
    const cfg: *u32 = @ptrCast(@alignCast(base + OFF_CAPACITY));
    const msz: *u32 = @ptrCast(@alignCast(base + OFF_MESSAGE_SIZE));
    var spins: u32 = 0;
    while (true) : (spins += 1) {
        const t = ld32(tag);
        if (t == TAG) return if (ld32(cfg) == capacity and ld32(msz) == message_size) 0 else MISMATCH;
        if (t == 0) {
            if (@cmpxchgStrong(u32, tag, 0, INITIALISING, .seq_cst, .seq_cst) != null) continue;
            @atomicStore(u32, cfg, capacity, .seq_cst);
            @atomicStore(u32, msz, message_size, .seq_cst);
            @atomicStore(u32, tag, TAG, .seq_cst);
            return 1;
        }
        if (t != INITIALISING or spins > 100_000) return MISMATCH;
        _ = sched_yield();
    }
}

pub fn open(ch: *anyopaque, byte_length: u64) callconv(.c) c_int {
    const c = Ch.stored(ch) orelse return INVALID;
    if (bytes(c.cap, c.size) > byte_length) return INVALID;
    return 0;
}

pub fn trySend(ch: *anyopaque, capacity: u32, message_size: u32, data: [*]const u8, len: u32) callconv(.c) c_int {
    return send(ch, capacity, message_size, data, len, 0);
}

pub fn tryRecv(ch: *anyopaque, capacity: u32, message_size: u32, buf: [*]u8, cap: u32) callconv(.c) c_int {
    return recv(ch, capacity, message_size, buf, cap, 0);
}

/// The C functions (Linux and macOS: they sleep on the futex and use robust words).
pub const c_exports = abi.group("channel", "channel.zig: A bounded multi-producer multi-consumer FIFO of byte " ++
    "messages in shared memory, robust to a participant that dies mid-operation. Results below 0: " ++
    "-1 would block (full or empty), -2 closed (send), or closed and empty (receive), -3 timed out, " ++
    "-4 message longer than message_size, -5 buffer smaller than the next message (it stays), " ++
    "-6 not a channel's memory, -7 memory holding something else or another configuration. The " ++
    "channel pointer is 8-aligned. Every function after sa_channel_open takes the configuration the caller " ++
    "opened the channel with (capacity, message_size): memory whose header says otherwise now (overwritten " ++
    "by hand or by another process) is refused with -6, never read or written beyond what the caller mapped.", .{ .platform = .linux_macos }, &.{
    abi.func("sa_channel_bytes", bytes, &.{ "capacity", "message_size" },
        \\Bytes a channel of `capacity` messages of up to `message_size` bytes takes (0: out of range;
        \\capacity in [1, 2^24], message_size in [1, 2^30]).
    ),
    abi.func("sa_channel_init", init, &.{ "ch", "capacity", "message_size" },
        \\Makes zeroed memory (sa_channel_bytes(capacity, message_size) bytes) a channel, or adopts one with
        \\the same configuration: 1 initialised, 0 already a channel like it, -6 bad configuration, -7 it
        \\holds something else or another configuration.
    ),
    abi.func("sa_channel_open", open, &.{ "ch", "byte_length" },
        \\Checks that `ch` is a channel whose slots fit in `byte_length` bytes: 0, or -6.
    ),
    abi.func("sa_channel_send", send, &.{ "ch", "capacity", "message_size", "data", "len", "timeout_ms" },
        \\Sends data[0..len] as one message, waiting while the channel is full up to timeout_ms (0: do not
        \\wait; negative, NaN or infinite: forever): len, or -1 (full; only with a zero timeout), -2, -3,
        \\-4, -6.
    ),
    abi.func("sa_channel_try_send", trySend, &.{ "ch", "capacity", "message_size", "data", "len" },
        \\sa_channel_send with a zero timeout.
    ),
    abi.func("sa_channel_recv", recv, &.{ "ch", "capacity", "message_size", "buf", "cap", "timeout_ms" },
        \\Receives the next message into buf[0..cap], waiting while the channel is empty up to timeout_ms (as
        \\for send): its length, or -1 (empty; only with a zero timeout), -2 (closed and empty), -3, -5, -6.
    ),
    abi.func("sa_channel_try_recv", tryRecv, &.{ "ch", "capacity", "message_size", "buf", "cap" },
        \\sa_channel_recv with a zero timeout.
    ),
    abi.func("sa_channel_send_many", sendMany, &.{ "ch", "capacity", "message_size", "buf", "count", "timeout_ms" },
        \\Sends `count` messages laid out in `buf` as records (a little-endian u32 length, then the bytes,
        \\padded to a multiple of 4), in order, waiting as send does: how many were sent (fewer when the time
        \\ran out or the channel closed), or -2/-3 if none was, -4 (a record too long: nothing sent), -6.
    ),
    abi.func("sa_channel_recv_many", recvMany, &.{ "ch", "capacity", "message_size", "buf", "cap", "max", "timeout_ms" },
        \\Receives up to `max` messages into buf[0..cap] as records (as for send_many): waits for the first
        \\as recv does, then takes those that are ready and fit. Returns how many, or -1, -2, -3, -5, -6.
    ),
    abi.func("sa_channel_close", close, &.{ "ch", "capacity", "message_size" },
        \\Closes the channel: later sends fail with -2, receivers drain what is left, then get -2; wakes
        \\every sleeper. Returns 1 if this call closed it, 0 if it already was.
    ),
    abi.func("sa_channel_closed", isClosed, &.{ "ch", "capacity", "message_size" }, "1 if the channel is closed, else 0."),
    abi.func("sa_channel_length", length, &.{ "ch", "capacity", "message_size" },
        \\Messages sent and not yet received (a snapshot; counts messages being written or taken).
    ),
    abi.func("sa_channel_peek_length", peekLength, &.{ "ch", "capacity", "message_size" },
        \\The length of the next message if one is ready, else -1.
    ),
    abi.func("sa_channel_wait_begin", waitBegin, &.{ "ch", "capacity", "message_size", "receiving" },
        \\For a caller that sleeps on its own (an event loop): marks that side's event word (u32 at +20
        \\receiving != 0, +28 sending) as having a sleeper and returns its value, to wait on with sa_wait32
        \\after trying once more. Pair with sa_channel_wait_end.
    ),
    abi.func("sa_channel_wait_end", waitEnd, &.{ "ch", "capacity", "message_size", "receiving" },
        \\Ends a sa_channel_wait_begin (nothing to undo today; kept so that callers pair them).
    ),
});

// ---- tests ----------------------------------------------------------------------

const testing = std.testing;

const exports = @This();

/// A channel as the tests call it: its memory and the configuration it was opened with.
const TestCh = struct {
    p: *anyopaque,
    cap: u32,
    size: u32,

    fn send(t: TestCh, data: [*]const u8, len: u32, timeout_ms: f64) c_int {
        return exports.send(t.p, t.cap, t.size, data, len, timeout_ms);
    }
    fn trySend(t: TestCh, data: [*]const u8, len: u32) c_int {
        return exports.trySend(t.p, t.cap, t.size, data, len);
    }
    fn recv(t: TestCh, buf: [*]u8, cap: u32, timeout_ms: f64) c_int {
        return exports.recv(t.p, t.cap, t.size, buf, cap, timeout_ms);
    }
    fn tryRecv(t: TestCh, buf: [*]u8, cap: u32) c_int {
        return exports.tryRecv(t.p, t.cap, t.size, buf, cap);
    }
    fn sendMany(t: TestCh, buf: [*]const u8, count: u32, timeout_ms: f64) c_int {
        return exports.sendMany(t.p, t.cap, t.size, buf, count, timeout_ms);
    }
    fn recvMany(t: TestCh, buf: [*]u8, cap: u32, max: u32, timeout_ms: f64) c_int {
        return exports.recvMany(t.p, t.cap, t.size, buf, cap, max, timeout_ms);
    }
    fn close(t: TestCh) c_int {
        return exports.close(t.p, t.cap, t.size);
    }
    fn length(t: TestCh) c_int {
        return exports.length(t.p, t.cap, t.size);
    }
    fn peekLength(t: TestCh) c_int {
        return exports.peekLength(t.p, t.cap, t.size);
    }
    fn of(t: TestCh) Ch {
        return Ch.of(t.p, t.cap, t.size).?;
    }
};

fn Mem(comptime capacity: u32, comptime message_size: u32) type {
    return struct {
        bytes: [HEADER + capacity * stride(message_size)]u8 align(64) = @splat(0),
        fn ch(m: *@This()) TestCh {
            std.debug.assert(init(&m.bytes, capacity, message_size) >= 0);
            return .{ .p = &m.bytes, .cap = capacity, .size = message_size };
        }
    };
}

test "send, receive in order, full, empty, too big, too small, close drains" {
    var m = Mem(4, 8){};
    const ch = m.ch();
    var buf: [8]u8 = undefined;
    try testing.expectEqual(@as(c_int, -1), ch.tryRecv(&buf, 8));
    for (0..4) |i| {
        const b = [_]u8{ @intCast(i), 1, 2 };
        try testing.expectEqual(@as(c_int, 3), ch.trySend(&b, 3));
    }
    try testing.expectEqual(@as(c_int, -1), ch.trySend("x", 1));
    try testing.expectEqual(@as(c_int, -3), ch.send("x", 1, 5));
    try testing.expectEqual(@as(c_int, -4), ch.trySend("123456789", 9));
    try testing.expectEqual(@as(c_int, 4), ch.length());
    try testing.expectEqual(@as(c_int, -5), ch.tryRecv(&buf, 2));
    try testing.expectEqual(@as(c_int, 3), ch.peekLength());
    try testing.expectEqual(@as(c_int, 3), ch.tryRecv(&buf, 8));
    try testing.expectEqual(@as(u8, 0), buf[0]);
    try testing.expectEqual(@as(c_int, 1), ch.close());
    try testing.expectEqual(@as(c_int, -2), ch.trySend("x", 1));
    for (1..4) |i| {
        try testing.expectEqual(@as(c_int, 3), ch.recv(&buf, 8, -1));
        try testing.expectEqual(@as(u8, @intCast(i)), buf[0]);
    }
    try testing.expectEqual(@as(c_int, -2), ch.recv(&buf, 8, -1));
    try testing.expectEqual(@as(c_int, 0), ch.close());
}

test "one slot: full after one message, and it goes round" {
    var m = Mem(1, 8){};
    const ch = m.ch();
    var buf: [8]u8 = undefined;
    for (0..5) |i| {
        const b = [_]u8{@intCast(i)};
        try testing.expectEqual(@as(c_int, 1), ch.trySend(&b, 1));
        try testing.expectEqual(@as(c_int, -1), ch.trySend(&b, 1));
        try testing.expectEqual(@as(c_int, 1), ch.length());
        try testing.expectEqual(@as(c_int, 1), ch.tryRecv(&buf, 8));
        try testing.expectEqual(@as(u8, @intCast(i)), buf[0]);
        try testing.expectEqual(@as(c_int, -1), ch.tryRecv(&buf, 8));
    }
}

test "init adopts the same configuration and refuses another; bytes checks ranges" {
    var m = Mem(2, 16){};
    _ = m.ch();
    try testing.expectEqual(@as(c_int, 0), init(&m.bytes, 2, 16));
    try testing.expectEqual(@as(c_int, -7), init(&m.bytes, 3, 16));
    try testing.expectEqual(@as(c_int, 0), open(&m.bytes, m.bytes.len));
    try testing.expectEqual(@as(c_int, -6), open(&m.bytes, m.bytes.len - 1));
    try testing.expectEqual(@as(u64, 0), bytes(0, 1));
    try testing.expectEqual(@as(u64, 0), bytes(1, 0));
    try testing.expectEqual(@as(u64, 0), bytes(MAX_CAPACITY + 1, 1));
    try testing.expectEqual(@as(u64, HEADER + 2 * 64), bytes(2, 16));
    var zero: [HEADER]u8 align(8) = @splat(0);
    try testing.expectEqual(@as(c_int, -6), trySend(&zero, 1, 1, "x", 1));
}

test "a header overwritten with another configuration is refused, never followed out of bounds" {
    var m = Mem(2, 16){};
    const ch = m.ch();
    try testing.expectEqual(@as(c_int, 2), ch.trySend("ok", 2));
    const cfg: *[2]u32 = @ptrCast(@alignCast(m.bytes[OFF_CAPACITY..][0..8]));
    var buf: [16]u8 = undefined;
    for ([_][2]u32{ .{ 2, MAX_MESSAGE_SIZE }, .{ MAX_CAPACITY, 16 }, .{ 1, 16 }, .{ 0, 0 } }) |bad| {
        cfg.* = bad;
        try testing.expectEqual(INVALID, ch.trySend("x", 1));
        try testing.expectEqual(INVALID, ch.recv(&buf, 16, -1));
        try testing.expectEqual(INVALID, ch.recvMany(&buf, 16, 4, -1));
        try testing.expectEqual(INVALID, ch.length());
        try testing.expectEqual(INVALID, ch.peekLength());
        try testing.expectEqual(INVALID, ch.close());
    }
    cfg.* = .{ 2, 16 };
    try testing.expectEqual(@as(c_int, 2), ch.tryRecv(&buf, 16));
}

test "batches keep order and records" {
    var m = Mem(8, 16){};
    const ch = m.ch();
    var rec: [64]u8 align(4) = @splat(0);
    // records "a", "bcdef", ""
    std.mem.writeInt(u32, rec[0..4], 1, .little);
    rec[4] = 'a';
    std.mem.writeInt(u32, rec[8..12], 5, .little);
    @memcpy(rec[12..17], "bcdef");
    std.mem.writeInt(u32, rec[20..24], 0, .little);
    try testing.expectEqual(@as(c_int, 3), ch.sendMany(&rec, 3, -1));
    var out: [64]u8 align(4) = @splat(0);
    try testing.expectEqual(@as(c_int, 3), ch.recvMany(&out, 64, 10, -1));
    try testing.expectEqualSlices(u8, rec[0..24], out[0..24]);
    try testing.expectEqual(@as(c_int, -3), ch.recvMany(&out, 64, 10, 1));
}

const N_PER = 20_000;

fn producer(ch: TestCh, id: u8) void {
    var i: u32 = 0;
    while (i < N_PER) : (i += 1) {
        var b: [5]u8 = undefined;
        b[0] = id;
        std.mem.writeInt(u32, b[1..5], i, .little);
        std.debug.assert(ch.send(&b, 5, -1) == 5);
    }
}

fn consumer(ch: TestCh, seen: *[4][N_PER]std.atomic.Value(u8), total: *std.atomic.Value(u32)) void {
    var last: [4]i64 = @splat(-1);
    var buf: [8]u8 = undefined;
    while (true) {
        const r = ch.recv(&buf, 8, -1);
        if (r == CLOSED) return;
        std.debug.assert(r == 5);
        const id = buf[0];
        const i = std.mem.readInt(u32, buf[1..5], .little);
        std.debug.assert(@as(i64, i) > last[id]);
        last[id] = i;
        _ = seen[id][i].fetchAdd(1, .seq_cst);
        _ = total.fetchAdd(1, .seq_cst);
    }
}

test "4 producers x 4 consumers: every message exactly once, per-producer order" {
    var m = Mem(64, 8){};
    const ch = m.ch();
    const seen = try testing.allocator.create([4][N_PER]std.atomic.Value(u8));
    defer testing.allocator.destroy(seen);
    for (seen) |*row| for (row) |*x| {
        x.* = .init(0);
    };
    var total = std.atomic.Value(u32).init(0);
    var cs: [4]std.Thread = undefined;
    for (&cs) |*t| t.* = try std.Thread.spawn(.{}, consumer, .{ ch, seen, &total });
    var ps: [4]std.Thread = undefined;
    for (&ps, 0..) |*t, i| t.* = try std.Thread.spawn(.{}, producer, .{ ch, @as(u8, @intCast(i)) });
    for (ps) |t| t.join();
    _ = ch.close();
    for (cs) |t| t.join();
    try testing.expectEqual(@as(u32, 4 * N_PER), total.load(.seq_cst));
    for (seen) |row| for (row) |x| try testing.expectEqual(@as(u8, 1), x.load(.seq_cst));
}

fn dieWriting(ch: TestCh, pos: u64) void {
    // a sender that claimed `pos` and exits before publishing (its word is held)
    const c = ch.of();
    const s = c.slot(pos);
    _ = s.take().?;
    std.debug.assert(@cmpxchgStrong(u64, c.enq(), pos, pos +% 1, .seq_cst, .seq_cst) == null);
    @memcpy(s.data()[0..3], "bad");
}

fn dieTaking(ch: TestCh, pos: u64) void {
    const c = ch.of();
    const s = c.slot(pos);
    _ = s.take().?;
    std.debug.assert(@cmpxchgStrong(u64, c.deq(), pos, pos +% 1, .seq_cst, .seq_cst) == null);
}

test "a sender that dies while writing: its message is dropped, the next is delivered" {
    if (!(builtin.os.tag == .linux and @sizeOf(usize) == 8)) return error.SkipZigTest;
    var m = Mem(2, 8){};
    const ch = m.ch();
    const t = try std.Thread.spawn(.{}, dieWriting, .{ ch, 0 });
    t.join();
    try testing.expectEqual(@as(c_int, 2), ch.trySend("ok", 2));
    var buf: [8]u8 = undefined;
    try testing.expectEqual(@as(c_int, 2), ch.recv(&buf, 8, 1000));
    try testing.expectEqualSlices(u8, "ok", buf[0..2]);
    try testing.expectEqual(@as(c_int, -1), ch.tryRecv(&buf, 8));
    try testing.expectEqual(@as(c_int, 0), ch.length());
}

test "a receiver that dies while taking: the slot is freed for the senders" {
    if (!(builtin.os.tag == .linux and @sizeOf(usize) == 8)) return error.SkipZigTest;
    var m = Mem(1, 8){};
    const ch = m.ch();
    try testing.expectEqual(@as(c_int, 1), ch.trySend("a", 1));
    const t = try std.Thread.spawn(.{}, dieTaking, .{ ch, 0 });
    t.join();
    // the one slot is claimed by a dead receiver: a send repairs it instead of waiting
    try testing.expectEqual(@as(c_int, 1), ch.send("b", 1, 1000));
    var buf: [8]u8 = undefined;
    try testing.expectEqual(@as(c_int, 1), ch.recv(&buf, 8, 1000));
    try testing.expectEqual(@as(u8, 'b'), buf[0]);
}

test "a slot word naming this thread, or a message length over message_size, is refused, never waited on" {
    if (!(builtin.os.tag == .linux and @sizeOf(usize) == 8)) return error.SkipZigTest;
    var m = Mem(2, 8){};
    const ch = m.ch();
    try testing.expectEqual(@as(c_int, 2), ch.trySend("ok", 2));
    const s = ch.of().slot(0);
    s.len().* = 1000; // longer than any sender could write
    var buf: [8]u8 = undefined;
    try testing.expectEqual(INVALID, ch.recv(&buf, 8, 1000));
    s.len().* = 2;
    s.word().* = @intCast(robust.robustTid()); // held by this thread, which never holds one between calls
    try testing.expectEqual(INVALID, ch.recv(&buf, 8, -1));
    s.word().* = 0;
    try testing.expectEqual(@as(c_int, 2), ch.tryRecv(&buf, 8));
}

fn closer(ch: TestCh) void {
    var nap: u32 = 0;
    _ = wait.wait32(&nap, 0, 30);
    _ = ch.close();
}

test "close wakes a blocked receiver" {
    var m = Mem(2, 8){};
    const ch = m.ch();
    const t = try std.Thread.spawn(.{}, closer, .{ch});
    var buf: [8]u8 = undefined;
    try testing.expectEqual(@as(c_int, -2), ch.recv(&buf, 8, -1));
    t.join();
}
