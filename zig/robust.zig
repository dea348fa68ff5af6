//! Robust lock words: 32-bit words that hold their owner's thread id and that
//! the kernel itself marks when the owner dies, through the robust-futex list
//! that glibc's robust mutexes use. Each thread registers one list with the
//! kernel (glibc does it for every thread; musl once a robust mutex is first
//! locked); on thread exit (a Worker's thread ending, a process killed) the
//! kernel walks it, and every word whose owner bits are the dying thread's id
//! becomes `(word & WAITERS) | OWNER_DIED`, waking one waiter if WAITERS was
//! set. No probing (`kill(tid, 0)`), so a tid reused by an unrelated process
//! does not matter, and the dying thread's own kernel compares the id, so it
//! works between PID namespaces.
//!
//! A robust word reserves 40 bytes, 8-aligned:
//!
//!     +0   the word: owner tid (bits 0-29), OWNER_DIED (30), WAITERS (31)
//!     +4   the last owner's tid (written when a thread takes the word)
//!     +8   12 bytes the primitive may use (a Semaphore slot's count)
//!     +20  the list links: `prev` at word - futex_offset - 8 and `next` (the
//!          list entry) at word - futex_offset; glibc's futex_offset is -32
//!          (links at +24, +32), musl's on 64-bit -28 (links at +20, +28)
//!
//! Entries are linked like glibc's robust mutexes (nptl ENQUEUE_MUTEX_BOTH /
//! DEQUEUE_MUTEX: doubly linked, a `prev` pointer just before each `next`), so
//! they share a thread's list with the robust pthread mutexes of the runtime
//! itself; the head's own `prev` slot is never written (musl has none). Taking
//! and giving up a word is one call (`sa_robust_cas`) that sets the head's
//! `list_op_pending` around the compare-and-set, as glibc does, so a death at
//! any instruction is handled. Giving up a word first finds it in the calling
//! thread's list: a thread never unlinks (and so never writes through the
//! links of) a word it is not the owner of, whatever the word holds.
//!
//! Also the Semaphore's bookkeeping (`sa_sem_*`): its counters change under an
//! internal robust word, with an undo journal for a holder that dies inside.
//!
//! Where there is no robust list (macOS; 32-bit), the same functions work
//! without one: a thread's id is then its pid (17 bits) and a number for the
//! thread within its process (13 bits), and an owner whose process is gone
//! (`kill(pid, 0)`) counts as dead; a thread that ends while its process
//! lives (a terminated Worker) is not noticed there.
//!
//! On Windows a word holds the owner's thread id (GetCurrentThreadId), and an
//! owner whose thread has ended (its process killed, or a Worker terminated)
//! counts as dead (zig/windows/wait.zig `threadAlive`; docs/windows.md).

const std = @import("std");
const builtin = @import("builtin");
const abi = @import("abi.zig");
const linux = std.os.linux;
const wait = if (is_windows) @import("windows/wait.zig") else @import("wait.zig");

const is_linux = builtin.os.tag == .linux;
const is_darwin = builtin.os.tag.isDarwin();
const is_windows = builtin.os.tag == .windows;
/// Whether the kernel's robust list is used (64-bit Linux).
const has_list = is_linux and @sizeOf(usize) == 8;

/// The kernel's bits of a robust futex word.
pub const WAITERS: u32 = 0x80000000;
pub const OWNER_DIED: u32 = 0x40000000;
pub const TID: u32 = 0x3fffffff;

/// Offsets of the list links that a robust word's 40 bytes can hold.
pub const OFFSET_MIN: isize = -32;
pub const OFFSET_MAX: isize = -28;
/// The kernel walks at most this many entries (ROBUST_LIST_LIMIT); so do we.
const LIST_LIMIT = 2048;

/// struct robust_list_head.
const Head = extern struct {
    list: usize,
    futex_offset: isize,
    list_op_pending: usize,
};

/// A head of our own, for a thread that has none: a `prev` slot first, so
/// the layout is glibc's (its `robust_prev` precedes `robust_head`).
const OwnHead = extern struct {
    prev: usize = 0,
    head: Head = .{ .list = 0, .futex_offset = -32, .list_op_pending = 0 },
};

const Thread = struct {
    ready: bool = false,
    /// This thread's id (Linux tid; the pid elsewhere).
    tid: u32 = 0,
    /// Its robust list head; null without one.
    head: ?*volatile Head = null,
    /// 0, or the errno of a failed get/set_robust_list.
    err: c_int = 0,
    own: OwnHead = .{},
};

threadlocal var me: Thread = .{};

extern "c" fn getpid() c_int;

/// Without a robust list (not Linux): ids are pid << 13 | a per-process thread number.
const THREAD_BITS = 13;
const THREAD_MASK: u32 = (1 << THREAD_BITS) - 1;
var next_thread = std.atomic.Value(u32).init(1);

fn barrier() void {
    asm volatile ("" ::: .{ .memory = true });
}

fn thread() *Thread {
    const t = &me;
    if (!t.ready) setUp(t);
    return t;
}

extern "c" fn pthread_atfork(prepare: ?*const fn () callconv(.c) void, parent: ?*const fn () callconv(.c) void, child: ?*const fn () callconv(.c) void) c_int;
var atfork_once = std.atomic.Value(bool).init(false);

/// In the child of a fork: its one thread is not the thread it was copied
/// from, so its id (and list) are looked up again on next use. A stale id
/// would be written into the words the child takes, where the kernel, seeing
/// an id that is not the dying child's, never marks them OWNER_DIED.
fn forgetAfterFork() callconv(.c) void {
    me.ready = false;
}

fn setUp(t: *Thread) void {
    t.ready = true;
    if (!is_windows and !atfork_once.swap(true, .acq_rel)) _ = pthread_atfork(null, null, forgetAfterFork);
    if (!has_list) {
        if (is_linux) {
            t.tid = @intCast(linux.gettid());
        } else if (is_windows) {
            t.tid = @as(u32, @bitCast(wait.threadId())) & TID; // ids are far below 2^30
        } else {
            const n = next_thread.fetchAdd(1, .monotonic);
            t.tid = ((@as(u32, @intCast(getpid())) << THREAD_BITS) | (n & THREAD_MASK)) & TID;
        }
        return;
    }
    t.tid = @intCast(linux.gettid());
    var hp: usize = 0;
    var len: usize = 0;
    const rc = linux.syscall3(.get_robust_list, 0, @intFromPtr(&hp), @intFromPtr(&len));
    if (linux.errno(rc) == .SUCCESS and hp != 0) {
        t.head = @ptrFromInt(hp);
        return;
    }
    // No list yet: musl registers a thread's list when it first locks a robust
    // mutex, so have it do that now (then a robust mutex of the runtime's own
    // never replaces a list of ours), and use its list.
    if (linux.errno(rc) == .SUCCESS and libcRegisters()) {
        const rc2 = linux.syscall3(.get_robust_list, 0, @intFromPtr(&hp), @intFromPtr(&len));
        if (linux.errno(rc2) == .SUCCESS and hp != 0) {
            t.head = @ptrFromInt(hp);
            return;
        }
    }
    // Else register our own (a robust pthread mutex locked later on this thread
    // would replace it, and the words held then would no longer be watched).
    t.own = .{};
    t.own.head.list = @intFromPtr(&t.own.head.list);
    const rc2 = linux.syscall2(.set_robust_list, @intFromPtr(&t.own.head), @sizeOf(Head));
    if (linux.errno(rc2) != .SUCCESS) {
        t.err = @intCast(@backingInt(linux.errno(rc2)));
        return;
    }
    t.head = &t.own.head;
}

const pthread_robust = struct {
    extern "c" fn pthread_mutexattr_init(attr: *anyopaque) c_int;
    extern "c" fn pthread_mutexattr_setrobust(attr: *anyopaque, robust: c_int) c_int;
    extern "c" fn pthread_mutexattr_setpshared(attr: *anyopaque, pshared: c_int) c_int;
    extern "c" fn pthread_mutexattr_destroy(attr: *anyopaque) c_int;
    extern "c" fn pthread_mutex_init(m: *anyopaque, attr: *anyopaque) c_int;
    extern "c" fn pthread_mutex_lock(m: *anyopaque) c_int;
    extern "c" fn pthread_mutex_unlock(m: *anyopaque) c_int;
    extern "c" fn pthread_mutex_destroy(m: *anyopaque) c_int;
};

/// Locks and unlocks a robust, process-shared pthread mutex once, which makes
/// the C library register the calling thread's robust list (musl does it
/// lazily, and for process-shared robust mutexes only).
fn libcRegisters() bool {
    // glibc registers every thread's list when it starts (and needs libpthread for
    // these before 2.34): only musl gets here
    if (!builtin.link_libc or !builtin.abi.isMusl()) return false;
    var attr: [16]u8 align(16) = @splat(0);
    var m: [64]u8 align(16) = @splat(0);
    const p = pthread_robust;
    if (p.pthread_mutexattr_init(&attr) != 0) return false;
    defer _ = p.pthread_mutexattr_destroy(&attr);
    if (p.pthread_mutexattr_setrobust(&attr, 1) != 0 or p.pthread_mutexattr_setpshared(&attr, 1) != 0) return false;
    if (p.pthread_mutex_init(&m, &attr) != 0) return false;
    defer _ = p.pthread_mutex_destroy(&m);
    if (p.pthread_mutex_lock(&m) != 0) return false;
    _ = p.pthread_mutex_unlock(&m);
    return true;
}

/// The link slot at `addr` (4-aligned only with musl's offset).
fn slot(addr: usize) *align(4) volatile usize {
    return @ptrFromInt(addr);
}

fn entryOf(h: *volatile Head, word: *u32) usize {
    return @intFromPtr(word) -% @as(usize, @bitCast(h.futex_offset));
}

/// Inserts `e` at the head of the list (glibc's ENQUEUE_MUTEX_BOTH, without
/// the write into the head's `prev` slot).
fn link(h: *volatile Head, e: usize) void {
    const home = @intFromPtr(&h.list);
    const first = h.list;
    slot(e).* = first;
    slot(e - 8).* = home;
    const node = first & ~@as(usize, 1);
    if (node != home) slot(node - 8).* = e;
    barrier();
    h.list = e;
}

/// The address of the `next` field that points at `e` (the head's, or the
/// previous entry's), or null if `e` is not in the list.
fn find(h: *volatile Head, e: usize) ?usize {
    const home = @intFromPtr(&h.list);
    var at: usize = home;
    var node = h.list & ~@as(usize, 1);
    var n: usize = 0;
    while (node != home and node != 0 and n < LIST_LIMIT) : (n += 1) {
        if (node == e) return at;
        at = node;
        node = slot(node).* & ~@as(usize, 1);
    }
    return null;
}

/// Removes `e`, whose predecessor's `next` field is `at` (DEQUEUE_MUTEX).
fn unlink(h: *volatile Head, e: usize, at: usize) void {
    const home = @intFromPtr(&h.list);
    const next = slot(e).*;
    slot(at).* = next;
    const node = next & ~@as(usize, 1);
    if (node != home) slot(node - 8).* = at;
    barrier();
    slot(e).* = 0;
    slot(e - 8).* = 0;
}

fn load(w: *const u32) u32 {
    return @atomicLoad(u32, w, .seq_cst);
}

fn cas(w: *u32, expected: u32, desired: u32) bool {
    return @cmpxchgStrong(u32, w, expected, desired, .seq_cst, .seq_cst) == null;
}

fn record(w: *u32, tid: u32) void {
    const words: [*]u32 = @ptrCast(w);
    @atomicStore(u32, &words[1], tid, .monotonic);
}

/// Without a robust list: whether the owner bits of `v` name a dead thread
/// (by `kill(id, 0)`). With one, the kernel marks dead owners itself.
fn ownerGone(v: u32) bool {
    if (has_list) return false;
    const id = v & TID;
    if (id == 0) return false;
    const pid = if (is_linux or is_windows) id else id >> THREAD_BITS;
    return wait.threadAlive(@intCast(pid)) == 0;
}

pub fn robustGone(v: u32) callconv(.c) c_int {
    return @intFromBool(ownerGone(v));
}

/// Whether a word is free to take: no owner (0, or OWNER_DIED), or, without
/// a robust list, an owner that is gone.
fn takeable(v: u32) bool {
    return (v & TID) == 0 or ownerGone(v);
}

/// Whether a word's owner died holding it (OWNER_DIED, or a gone owner).
fn died(v: u32) bool {
    return (v & TID) == 0 and (v & OWNER_DIED) != 0 or ownerGone(v);
}

inline fn robustCasIn(t: *Thread, word: *u32, expected: u32, desired: u32) c_int {
    const was = (expected & TID) == t.tid;
    const will = (desired & TID) == t.tid;
    if (was == will or t.head == null) {
        if (!cas(word, expected, desired)) return 0;
        if (will and !was) record(word, t.tid);
        return 1;
    }
    const h = t.head.?;
    // a compare-and-set bound to fail never marks the word pending
    if (load(word) != expected) return 0;
    const e = entryOf(h, word);
    h.list_op_pending = e;
    barrier();
    var ok: bool = undefined;
    if (was) {
        // giving it up: unlink first (the next owner re-uses the links)
        const at = find(h, e) orelse {
            barrier();
            h.list_op_pending = 0;
            return -1;
        };
        unlink(h, e, at);
        barrier();
        ok = cas(word, expected, desired);
        barrier();
        if (!ok) link(h, e);
    } else {
        ok = cas(word, expected, desired);
        barrier();
        if (ok) {
            record(word, t.tid);
            link(h, e);
        }
    }
    barrier();
    h.list_op_pending = 0;
    return @intFromBool(ok);
}

pub fn robustCas(word: *u32, expected: u32, desired: u32) callconv(.c) c_int {
    return robustCasIn(thread(), word, expected, desired);
}

pub fn robustContext() callconv(.c) *anyopaque {
    return thread();
}

pub fn robustCasAt(context: *anyopaque, word: *u32, expected: u32, desired: u32) callconv(.c) c_int {
    return robustCasIn(@ptrCast(@alignCast(context)), word, expected, desired);
}

pub fn robustLockAt(context: *anyopaque, word: *u32) callconv(.c) c_int {
    const t: *Thread = @ptrCast(@alignCast(context));
    return robustCasIn(t, word, 0, t.tid);
}

pub fn robustUnlockAt(context: *anyopaque, word: *u32) callconv(.c) c_int {
    const t: *Thread = @ptrCast(@alignCast(context));
    return robustCasIn(t, word, t.tid, 0);
}

pub fn robustInit() callconv(.c) c_int {
    const t = thread();
    if (t.err != 0) return t.err;
    const h = t.head orelse return 0;
    return @intCast(h.futex_offset);
}

pub fn robustTid() callconv(.c) c_int {
    return @intCast(thread().tid);
}

fn ownedIn(t: *Thread, word: *u32) bool {
    if ((load(word) & TID) != t.tid) return false;
    const h = t.head orelse return true;
    return find(h, entryOf(h, word)) != null;
}

pub fn robustOwned(word: *u32) callconv(.c) c_int {
    return @intFromBool(ownedIn(thread(), word));
}

fn abandonIn(t: *Thread, word: *u32) bool {
    if (!ownedIn(t, word)) return false;
    const h = t.head;
    var e: usize = 0;
    if (h) |hd| {
        e = entryOf(hd, word);
        hd.list_op_pending = e;
        barrier();
        unlink(hd, e, find(hd, e).?);
        barrier();
    }
    while (true) {
        const v = load(word);
        if ((v & TID) != t.tid) break;
        if (cas(word, v, (v & WAITERS) | OWNER_DIED)) {
            if (v & WAITERS != 0) _ = wait.wake32(word, 1);
            break;
        }
    }
    if (h) |hd| {
        barrier();
        hd.list_op_pending = 0;
    }
    return true;
}

pub fn robustAbandon(word: *u32) callconv(.c) c_int {
    return @intFromBool(abandonIn(thread(), word));
}

fn wordAt(first: *u32, stride: u32, i: u32) *u32 {
    return @ptrFromInt(@intFromPtr(first) + @as(usize, stride) * i);
}

pub fn robustClaim(first: *u32, count: u32, stride: u32, start: u32) callconv(.c) c_int {
    const t = thread();
    var i: u32 = 0;
    while (i < count) : (i += 1) {
        const j = (start +% i) % count;
        const w = wordAt(first, stride, j);
        const v = load(w);
        if (!takeable(v)) continue;
        const desired = t.tid | (v & WAITERS);
        if (robustCasIn(t, w, v, desired) == 1) return @intCast(j | (if (died(v)) @as(u32, 0x10000) else 0));
    }
    return -1;
}

pub fn robustBusy(first: *u32, count: u32, stride: u32, from: u32) callconv(.c) c_int {
    var j = from;
    while (j < count) : (j += 1) {
        if (!takeable(load(wordAt(first, stride, j)))) return @intCast(j);
    }
    return -1;
}

// ---- Semaphore bookkeeping ---------------------------------------------------
//
// A Semaphore, in 32-bit words from its start (8-aligned):
//   0 tag, 1 max, 2 holder slots, 3 available, 4 held (by all slots),
//   5 journal: slot + 1 (0: none; JOURNAL_NO_SLOT: no slot changes),
//   6 journal: old available, 7 journal: old held, 8 journal: old slot count,
//   10 the internal lock (a robust word, 40 bytes; 11 its last owner),
//   12 permits returned from dead holders not yet reported, 13 the last
//   such holder's id,
//   20 + 10 * k: holder slot k (a robust word: owner; + 2: permits it holds).
// Counters change only under the internal lock; before changing them the
// holder writes the journal, so a holder that dies inside is undone by the
// next one (the kernel marks the lock OWNER_DIED). The next acquire that
// succeeds after a dead holder's permits came back reports them (once).

pub const SEM_MAX = 1;
pub const SEM_SLOTS = 2;
pub const SEM_AVAILABLE = 3;
pub const SEM_HELD = 4;
const SEM_J_SLOT = 5;
const SEM_J_AVAILABLE = 6;
const SEM_J_HELD = 7;
const SEM_J_COUNT = 8;
pub const SEM_LOCK = 10;
const SEM_DEAD = 12;
const SEM_DEAD_OWNER = 13;
pub const SEM_SLOT0 = 20;
pub const SEM_STRIDE = 10;
const JOURNAL_NO_SLOT: u32 = 0xffffffff;

/// Results of sa_sem_acquire / sa_sem_release besides a slot index.
pub const SEM_NOT_ENOUGH: c_int = -2;
pub const SEM_NO_SLOT: c_int = -3;
pub const SEM_EXCEEDS: c_int = -4;
pub const SEM_CORRUPT: c_int = -5;

const Sem = struct {
    w: [*]u32,
    t: *Thread,

    fn get(s: Sem, i: usize) u32 {
        return @atomicLoad(u32, &s.w[i], .seq_cst);
    }
    fn set(s: Sem, i: usize, v: u32) void {
        @atomicStore(u32, &s.w[i], v, .seq_cst);
    }
    fn slots(s: Sem) u32 {
        return s.get(SEM_SLOTS);
    }
    fn slotWord(s: Sem, k: u32) *u32 {
        return &s.w[SEM_SLOT0 + SEM_STRIDE * @as(usize, k)];
    }
    fn countIndex(k: u32) usize {
        return SEM_SLOT0 + SEM_STRIDE * @as(usize, k) + 2;
    }

    fn lock(s: Sem) void {
        const w = &s.w[SEM_LOCK];
        var waited = false;
        var spins: u32 = 0;
        while (true) {
            const v = load(w);
            if (takeable(v)) {
                const keep = if (waited) WAITERS else v & WAITERS;
                if (robustCasIn(s.t, w, v, s.t.tid | keep) == 1) {
                    if (died(v)) s.undo();
                    return;
                }
                continue;
            }
            if (spins < 200) {
                spins += 1;
                std.atomic.spinLoopHint();
                continue;
            }
            if (v & WAITERS == 0 and !cas(w, v, v | WAITERS)) continue;
            waited = true;
            // bounded: without a robust list the owner's death is polled
            _ = wait.wait32(w, v | WAITERS, 100);
        }
    }

    fn unlock(s: Sem) void {
        const w = &s.w[SEM_LOCK];
        while (true) {
            const v = load(w);
            if (robustCasIn(s.t, w, v, 0) == 1) {
                if (v & WAITERS != 0) _ = wait.wake32(w, 1);
                return;
            }
        }
    }

    /// Undoes a change its holder died in the middle of.
    fn undo(s: Sem) void {
        const j = s.get(SEM_J_SLOT);
        if (j == 0) return;
        s.set(SEM_AVAILABLE, s.get(SEM_J_AVAILABLE));
        s.set(SEM_HELD, s.get(SEM_J_HELD));
        if (j != JOURNAL_NO_SLOT and j - 1 < s.slots()) s.set(countIndex(j - 1), s.get(SEM_J_COUNT));
        barrier();
        s.set(SEM_J_SLOT, 0);
    }

    fn begin(s: Sem, k: ?u32) void {
        s.set(SEM_J_AVAILABLE, s.get(SEM_AVAILABLE));
        s.set(SEM_J_HELD, s.get(SEM_HELD));
        if (k) |i| s.set(SEM_J_COUNT, s.get(countIndex(i)));
        barrier();
        s.set(SEM_J_SLOT, if (k) |i| i + 1 else JOURNAL_NO_SLOT);
        barrier();
    }

    fn commit(s: Sem) void {
        barrier();
        s.set(SEM_J_SLOT, 0);
    }

    /// The slot the calling thread holds permits in, if any.
    fn mine(s: Sem) ?u32 {
        var k: u32 = 0;
        while (k < s.slots()) : (k += 1) {
            if (ownedIn(s.t, s.slotWord(k))) return k;
        }
        return null;
    }

    /// Returns slot k's permits, whose holder died, and frees the slot.
    fn recover(s: Sem, k: u32) void {
        const w = s.slotWord(k);
        const v = load(w);
        const c = s.get(countIndex(k));
        if (c != 0) {
            s.begin(k);
            s.set(SEM_AVAILABLE, s.get(SEM_AVAILABLE) + c);
            s.set(SEM_HELD, s.get(SEM_HELD) - c);
            s.set(countIndex(k), 0);
            s.commit();
            s.set(SEM_DEAD, s.get(SEM_DEAD) +| c);
            s.set(SEM_DEAD_OWNER, @atomicLoad(u32, &@as([*]u32, @ptrCast(w))[1], .monotonic));
        }
        _ = cas(w, v, 0);
    }

    /// Recovers every slot whose holder died.
    fn recoverAll(s: Sem) void {
        var k: u32 = 0;
        while (k < s.slots()) : (k += 1) {
            if (died(load(s.slotWord(k)))) s.recover(k);
        }
    }
};

fn semOf(sem: *u32) ?Sem {
    const s = Sem{ .w = @ptrCast(sem), .t = thread() };
    const n = s.slots();
    if (n == 0 or n > 1024 or s.get(SEM_MAX) == 0) return null;
    return s;
}

pub fn semAcquire(sem: *u32, n: u32, out: [*]u32) callconv(.c) c_int {
    const s = semOf(sem) orelse return SEM_CORRUPT;
    s.lock();
    defer s.unlock();
    if (s.get(SEM_AVAILABLE) < n) s.recoverAll();
    const available = s.get(SEM_AVAILABLE);
    if (available < n) {
        out[2] = available;
        return SEM_NOT_ENOUGH;
    }
    const k = s.mine() orelse claim: {
        var i: u32 = 0;
        const start = s.t.tid % s.slots();
        while (i < s.slots()) : (i += 1) {
            const j = (start + i) % s.slots();
            const w = s.slotWord(j);
            const v = load(w);
            if (!takeable(v)) continue;
            if (died(v)) s.recover(j);
            if (robustCasIn(s.t, w, load(w), s.t.tid) == 1) break :claim j;
        }
        return SEM_NO_SLOT;
    };
    s.begin(k);
    s.set(SEM_AVAILABLE, s.get(SEM_AVAILABLE) - n);
    s.set(SEM_HELD, s.get(SEM_HELD) + n);
    s.set(Sem.countIndex(k), s.get(Sem.countIndex(k)) + n);
    s.commit();
    out[0] = s.get(SEM_DEAD);
    out[1] = s.get(SEM_DEAD_OWNER);
    s.set(SEM_DEAD, 0);
    return @intCast(k);
}

pub fn semRelease(sem: *u32, n: u32, out: [*]u32) callconv(.c) c_int {
    const s = semOf(sem) orelse return SEM_CORRUPT;
    s.lock();
    const k = s.mine();
    const have = if (k) |i| s.get(Sem.countIndex(i)) else 0;
    const from_slot = @min(n, have);
    const available = s.get(SEM_AVAILABLE);
    const held = s.get(SEM_HELD);
    const max = s.get(SEM_MAX);
    const spare = max -| (available +| held);
    if (n - from_slot > spare) {
        out[2] = have + spare;
        s.unlock();
        return SEM_EXCEEDS;
    }
    s.begin(if (from_slot > 0) k else null);
    s.set(SEM_AVAILABLE, available + n);
    s.set(SEM_HELD, held - from_slot);
    if (from_slot > 0) s.set(Sem.countIndex(k.?), have - from_slot);
    s.commit();
    if (k) |i| {
        if (have == from_slot) {
            const w = s.slotWord(i);
            _ = robustCasIn(s.t, w, load(w), 0);
        }
    }
    s.unlock();
    _ = wait.wake32(&s.w[SEM_AVAILABLE], 0);
    return 1;
}

pub fn semHeld(sem: *u32) callconv(.c) c_int {
    const s = semOf(sem) orelse return SEM_CORRUPT;
    const k = s.mine() orelse return 0;
    return @intCast(s.get(Sem.countIndex(k)));
}

/// The C functions, in the header's order.
pub const c_exports = abi.group("robust", "robust.zig: Robust lock words: 32-bit words that hold their owner's thread id and that the kernel itself marks when the owner dies, through the robust-futex list that glibc's robust mutexes use.", .{ .platform = .linux_macos_windows }, &.{
    abi.func("sa_robust_init", robustInit, &.{},
        \\Sets up the calling thread's robust list (once per thread) and returns its futex_offset (-32 with
        \\glibc, -28 with musl); 0 where there is no robust list (macOS: dead owners are then found by
        \\`kill(id, 0)`); a positive errno if the kernel refused the list.
    ),
    abi.func("sa_robust_tid", robustTid, &.{},
        \\The calling thread's id as robust words hold it.
    ),
    abi.func("sa_robust_cas", robustCas, &.{ "word", "expected", "desired" },
        \\Compare-and-set of a robust word by the calling thread, keeping its robust list in step: when the
        \\caller becomes the owner (the owner bits of `desired`, not of `expected`, are its id) the word is
        \\linked into its list and its id recorded at word + 4; when it stops being the owner the word is
        \\unlinked first. Returns 1 if it stored, 0 if the word did not hold `expected`, -1 if the caller
        \\gives up a word that is not in its list (it does not own it; nothing changed). `word` is 8-aligned
        \\and owns the 40 bytes from it (layout: zig/robust.zig).
    ),
    abi.func("sa_robust_context", robustContext, &.{},
        \\The calling thread's robust-list state, for `sa_robust_cas_at`: a pointer that is valid in this
        \\thread only, for as long as it runs.
    ),
    abi.func("sa_robust_cas_at", robustCasAt, &.{ "context", "word", "expected", "desired" },
        \\`sa_robust_cas` with the calling thread's `sa_robust_context()` passed in (saves a thread-local
        \\lookup per call: the uncontended lock's path).
    ),
    abi.func("sa_robust_lock_at", robustLockAt, &.{ "context", "word" },
        \\The uncontended lock: `sa_robust_cas_at(context, word, 0, tid)` with the caller's own id (from its
        \\context): 1 taken, 0 not free, as there.
    ),
    abi.func("sa_robust_unlock_at", robustUnlockAt, &.{ "context", "word" },
        \\The uncontended unlock: `sa_robust_cas_at(context, word, tid, 0)`.
    ),
    abi.func("sa_robust_owned", robustOwned, &.{"word"},
        \\1 if the calling thread owns `word` (its id is in it and the word is in its robust list: not a
        \\thread of another PID namespace with the same id).
    ),
    abi.func("sa_robust_gone", robustGone, &.{"v"},
        \\1 if the owner a robust word names is known to be gone: only where there is no robust list (there,
        \\by `kill(pid, 0)`); with one, always 0 (the kernel marks dead owners itself).
    ),
    abi.func("sa_robust_abandon", robustAbandon, &.{"word"},
        \\Gives up a word the calling thread owns exactly as if it had died: it is unlinked, becomes `(word &
        \\WAITERS) | OWNER_DIED`, and one waiter is woken. For memory about to go away (SharedMemory.close).
        \\Returns 1, or 0 if the caller does not own it.
    ),
    abi.func("sa_robust_claim", robustClaim, &.{ "first", "count", "stride", "start" },
        \\Takes the first free robust word of `count` words `stride` bytes apart, trying index `start` first;
        \\returns its index, plus 0x10000 if its last owner had died holding it, or -1 if none is free.
    ),
    abi.func("sa_robust_busy", robustBusy, &.{ "first", "count", "stride", "from" },
        \\The index of the first of `count` words `stride` bytes apart, from index `from` on, that a live
        \\thread owns; -1 if none.
    ),
    abi.func("sa_sem_acquire", semAcquire, &.{ "sem", "n", "out" },
        \\Takes `n` permits of the Semaphore at `sem` for the calling thread, recording them in its holder
        \\slot (claimed if it has none), after returning the permits of holders that died when there are too
        \\few (or when their slot is in the way). On success out[0] is the number of dead holders' permits
        \\returned since the last success reported them (each is reported once) and out[1] the last such
        \\holder's id. Returns the slot index, -2 (too few permits; out[2] = permits available), -3 (every
        \\holder slot has a live holder) or -5 (not a Semaphore's words).
    ),
    abi.func("sa_sem_release", semRelease, &.{ "sem", "n", "out" },
        \\Returns `n` permits: first those the calling thread holds, then permits nobody holds yet (a
        \\Semaphore created with fewer than `max`). Wakes the waiters. Returns 1, -4 (more than max; out[2] =
        \\the most it could return; nothing changed) or -5 (not a Semaphore's words).
    ),
    abi.func("sa_sem_held", semHeld, &.{"sem"},
        \\Permits the calling thread holds in the Semaphore at `sem`.
    ),
});

// ---- tests ----------------------------------------------------------------------

const testing = std.testing;

/// One robust word's 40 bytes.
const Block = extern struct {
    w: [10]u32 align(8) = @splat(0),
};

fn holdAndExit(blocks: *[4]Block, tid_out: *u32) void {
    const tid = robustTid();
    tid_out.* = @intCast(tid);
    for (blocks) |*b| std.debug.assert(robustCas(&b.w[0], 0, @intCast(tid)) == 1);
    // give up two of them (one in the middle of the list), keep the others
    std.debug.assert(robustCas(&blocks[1].w[0], @intCast(tid), 0) == 1);
    std.debug.assert(robustCas(&blocks[3].w[0], @intCast(tid), 0) == 1);
    std.debug.assert(robustOwned(&blocks[0].w[0]) == 1);
    std.debug.assert(robustOwned(&blocks[1].w[0]) == 0);
}

test "words a thread holds when it exits are marked OWNER_DIED by the kernel; released ones are not" {
    if (!has_list) return error.SkipZigTest;
    try testing.expect(robustInit() == -32 or robustInit() == -28);
    var blocks: [4]Block = @splat(.{});
    var tid: u32 = 0;
    const t = try std.Thread.spawn(.{}, holdAndExit, .{ &blocks, &tid });
    t.join();
    try testing.expectEqual(OWNER_DIED, blocks[0].w[0]);
    try testing.expectEqual(@as(u32, 0), blocks[1].w[0]);
    try testing.expectEqual(OWNER_DIED, blocks[2].w[0]);
    try testing.expectEqual(@as(u32, 0), blocks[3].w[0]);
    try testing.expectEqual(tid, blocks[2].w[1]);
    // the next owner takes it from OWNER_DIED like any free word
    const me_tid: u32 = @intCast(robustTid());
    try testing.expectEqual(@as(c_int, 1), robustCas(&blocks[0].w[0], OWNER_DIED, me_tid));
    try testing.expectEqual(@as(c_int, 1), robustOwned(&blocks[0].w[0]));
    try testing.expectEqual(@as(c_int, 1), robustCas(&blocks[0].w[0], me_tid, 0));
}

test "giving up a word this thread does not own is refused and changes nothing" {
    if (!has_list) return error.SkipZigTest;
    var b = Block{};
    const tid: u32 = @intCast(robustTid());
    // the word names this thread's id, but it was never taken through the list
    b.w[0] = tid;
    b.w[8] = 0xdead;
    try testing.expectEqual(@as(c_int, -1), robustCas(&b.w[0], tid, 0));
    try testing.expectEqual(tid, b.w[0]);
    try testing.expectEqual(@as(u32, 0xdead), b.w[8]);
    try testing.expectEqual(@as(c_int, 0), robustOwned(&b.w[0]));
    try testing.expectEqual(@as(c_int, 0), robustAbandon(&b.w[0]));
    // a compare-and-set that fails changes nothing either
    var c = Block{};
    c.w[0] = 12345;
    try testing.expectEqual(@as(c_int, 0), robustCas(&c.w[0], 0, tid));
}

var dead_waiter_result = std.atomic.Value(c_int).init(-1);

fn waitForDeath(word: *u32) void {
    // the owner is alive: mark waiting, then sleep until the kernel wakes us
    const v = load(word);
    _ = cas(word, v, v | WAITERS);
    dead_waiter_result.store(wait.wait32(word, v | WAITERS, 5000), .seq_cst);
}

fn holdThenExit(word: *u32, go: *std.atomic.Value(u32)) void {
    std.debug.assert(robustCas(word, 0, @intCast(robustTid())) == 1);
    go.store(1, .seq_cst);
    while (go.load(.seq_cst) != 2) std.atomic.spinLoopHint();
    var nap: u32 = 0;
    _ = wait.wait32(&nap, 0, 50); // sleep while the waiter gets to sleep
}

test "a waiter is woken when the owner exits, and finds OWNER_DIED" {
    if (!has_list) return error.SkipZigTest;
    var b = Block{};
    var go = std.atomic.Value(u32).init(0);
    const owner = try std.Thread.spawn(.{}, holdThenExit, .{ &b.w[0], &go });
    while (go.load(.seq_cst) != 1) std.atomic.spinLoopHint();
    const waiter = try std.Thread.spawn(.{}, waitForDeath, .{&b.w[0]});
    go.store(2, .seq_cst);
    owner.join();
    waiter.join();
    try testing.expectEqual(@as(c_int, wait.ok), dead_waiter_result.load(.seq_cst));
    // (musl marks the words of a thread that returns itself, and drops the waiters bit)
    try testing.expectEqual(OWNER_DIED, b.w[0] & ~WAITERS);
}

const pthread = struct {
    extern "c" fn pthread_mutexattr_init(attr: *anyopaque) c_int;
    extern "c" fn pthread_mutexattr_setrobust(attr: *anyopaque, robust: c_int) c_int;
    extern "c" fn pthread_mutexattr_setpshared(attr: *anyopaque, pshared: c_int) c_int;
    extern "c" fn pthread_mutex_init(m: *anyopaque, attr: *anyopaque) c_int;
    extern "c" fn pthread_mutex_lock(m: *anyopaque) c_int;
    extern "c" fn pthread_mutex_unlock(m: *anyopaque) c_int;
    extern "c" fn pthread_mutex_consistent(m: *anyopaque) c_int;
};
const EOWNERDEAD = 130;

const PMutex = extern struct { bytes: [64]u8 align(16) = @splat(0) };

fn mixed(a: *PMutex, b: *PMutex, x: *u32, y: *u32) void {
    const tid: u32 = @intCast(robustTid());
    std.debug.assert(pthread.pthread_mutex_lock(a) == 0);
    std.debug.assert(robustCas(x, 0, tid) == 1);
    std.debug.assert(pthread.pthread_mutex_lock(b) == 0);
    // glibc unlinks a mutex whose neighbour is one of ours, and we one of its
    std.debug.assert(pthread.pthread_mutex_unlock(a) == 0);
    std.debug.assert(robustCas(y, 0, tid) == 1);
    std.debug.assert(robustCas(x, tid, 0) == 1);
    // exit holding b and y
}

test "robust words share a thread's list with the C library's robust mutexes" {
    if (!has_list) return error.SkipZigTest;
    var attr: [16]u8 align(8) = @splat(0);
    try testing.expectEqual(@as(c_int, 0), pthread.pthread_mutexattr_init(&attr));
    try testing.expectEqual(@as(c_int, 0), pthread.pthread_mutexattr_setrobust(&attr, 1));
    try testing.expectEqual(@as(c_int, 0), pthread.pthread_mutexattr_setpshared(&attr, 1));
    var a = PMutex{};
    var b = PMutex{};
    try testing.expectEqual(@as(c_int, 0), pthread.pthread_mutex_init(&a, &attr));
    try testing.expectEqual(@as(c_int, 0), pthread.pthread_mutex_init(&b, &attr));
    var x = Block{};
    var y = Block{};
    const t = try std.Thread.spawn(.{}, mixed, .{ &a, &b, &x.w[0], &y.w[0] });
    t.join();
    try testing.expectEqual(@as(u32, 0), x.w[0]);
    try testing.expectEqual(OWNER_DIED, y.w[0]);
    try testing.expectEqual(@as(c_int, 0), pthread.pthread_mutex_lock(&a));
    try testing.expectEqual(@as(c_int, 0), pthread.pthread_mutex_unlock(&a));
    try testing.expectEqual(@as(c_int, EOWNERDEAD), pthread.pthread_mutex_lock(&b));
    try testing.expectEqual(@as(c_int, 0), pthread.pthread_mutex_consistent(&b));
    try testing.expectEqual(@as(c_int, 0), pthread.pthread_mutex_unlock(&b));
}

test "abandoning a word marks it OWNER_DIED and unlinks it" {
    if (!has_list) return error.SkipZigTest;
    var a = Block{};
    var b = Block{};
    const tid: u32 = @intCast(robustTid());
    try testing.expectEqual(@as(c_int, 1), robustCas(&a.w[0], 0, tid));
    try testing.expectEqual(@as(c_int, 1), robustCas(&b.w[0], 0, tid | WAITERS));
    try testing.expectEqual(@as(c_int, 1), robustAbandon(&a.w[0]));
    try testing.expectEqual(OWNER_DIED, a.w[0]);
    try testing.expectEqual(@as(c_int, 0), robustOwned(&a.w[0]));
    try testing.expectEqual(@as(c_int, 1), robustOwned(&b.w[0]));
    try testing.expectEqual(@as(c_int, 1), robustAbandon(&b.w[0]));
    try testing.expectEqual(OWNER_DIED | WAITERS, b.w[0]);
    try testing.expect(find(me.head.?, entryOf(me.head.?, &b.w[0])) == null);
}

test "claim and busy over a row of words" {
    if (!has_list) return error.SkipZigTest;
    var row: [3]Block = @splat(.{});
    const tid: u32 = @intCast(robustTid());
    row[1].w[0] = OWNER_DIED;
    try testing.expectEqual(@as(c_int, -1), robustBusy(&row[0].w[0], 3, 40, 0));
    try testing.expectEqual(@as(c_int, 0x10001), robustClaim(&row[0].w[0], 3, 40, 1));
    try testing.expectEqual(@as(c_int, 2), robustClaim(&row[0].w[0], 3, 40, 1));
    try testing.expectEqual(@as(c_int, 1), robustBusy(&row[0].w[0], 3, 40, 0));
    try testing.expectEqual(@as(c_int, 2), robustBusy(&row[0].w[0], 3, 40, 2));
    try testing.expectEqual(@as(c_int, 1), robustCas(&row[1].w[0], tid, 0));
    try testing.expectEqual(@as(c_int, 1), robustCas(&row[2].w[0], tid, 0));
}

/// A Semaphore's words, laid out as sa_sem_* expects, with `slots` slots.
fn SemMem(comptime slots: u32) type {
    return extern struct {
        w: [SEM_SLOT0 + SEM_STRIDE * slots]u32 align(8) = @splat(0),
        fn init(m: *@This(), max: u32, initial: u32) void {
            m.w[SEM_MAX] = max;
            m.w[SEM_SLOTS] = slots;
            m.w[SEM_AVAILABLE] = initial;
        }
    };
}

fn semTake(m: *u32, n: u32) void {
    var out = [_]u32{ 0, 0, 0 };
    std.debug.assert(semAcquire(m, n, &out) >= 0);
}

test "Semaphore: permits of a holder that exits are returned exactly once, and counted" {
    if (!has_list) return error.SkipZigTest;
    var m = SemMem(4){};
    m.init(5, 5);
    const t = try std.Thread.spawn(.{}, semTake, .{ &m.w[0], 3 });
    t.join();
    try testing.expectEqual(@as(u32, 2), m.w[SEM_AVAILABLE]);
    var out = [_]u32{ 0, 0, 0 };
    // more than are available: the dead holder's three come back first
    try testing.expect(semAcquire(&m.w[0], 3, &out) >= 0);
    try testing.expectEqual(@as(u32, 3), out[0]);
    try testing.expect(out[1] != 0);
    try testing.expect(semAcquire(&m.w[0], 1, &out) >= 0);
    try testing.expectEqual(@as(u32, 0), out[0]); // reported once
    try testing.expectEqual(@as(c_int, 4), semHeld(&m.w[0]));
    try testing.expectEqual(@as(u32, 1), m.w[SEM_AVAILABLE]);
    try testing.expectEqual(@as(c_int, 1), semRelease(&m.w[0], 1, &out));
    out = .{ 0, 0, 0 };
    try testing.expectEqual(SEM_NOT_ENOUGH, semAcquire(&m.w[0], 3, &out));
    try testing.expectEqual(@as(u32, 0), out[0]);
    try testing.expectEqual(SEM_EXCEEDS, semRelease(&m.w[0], 4, &out));
    try testing.expectEqual(@as(u32, 3), out[2]);
    try testing.expectEqual(@as(c_int, 1), semRelease(&m.w[0], 3, &out));
    try testing.expectEqual(@as(u32, 5), m.w[SEM_AVAILABLE]);
    try testing.expectEqual(@as(u32, 0), m.w[SEM_HELD]);
    try testing.expectEqual(@as(c_int, 0), semHeld(&m.w[0]));
}

test "Semaphore: a holder that died inside the bookkeeping is undone by the journal" {
    if (!has_list) return error.SkipZigTest;
    var m = SemMem(2){};
    m.init(4, 4);
    // as if a thread took the lock, journaled slot 0, took 2 permits and died
    m.w[SEM_LOCK] = OWNER_DIED;
    m.w[SEM_J_SLOT] = 1;
    m.w[SEM_J_AVAILABLE] = 4;
    m.w[SEM_J_HELD] = 0;
    m.w[SEM_J_COUNT] = 0;
    m.w[SEM_AVAILABLE] = 2;
    m.w[SEM_HELD] = 2;
    m.w[SEM_SLOT0] = OWNER_DIED;
    m.w[SEM_SLOT0 + 2] = 2;
    var out = [_]u32{ 0, 0, 0 };
    try testing.expect(semAcquire(&m.w[0], 4, &out) >= 0);
    try testing.expectEqual(@as(u32, 0), out[0]); // undone, so nothing to recover
    try testing.expectEqual(@as(u32, 0), m.w[SEM_AVAILABLE]);
    try testing.expectEqual(@as(c_int, 1), semRelease(&m.w[0], 4, &out));
    try testing.expectEqual(@as(u32, 4), m.w[SEM_AVAILABLE]);
    try testing.expectEqual(@as(u32, 0), m.w[SEM_LOCK]);
}
