"""The locks over the library's robust-word exports: ``Mutex`` (a context
manager) and ``Semaphore``, the same memory layout and protocol as the
TypeScript classes (src/sync/mutex.ts, semaphore.ts), so Python, Bun and Deno
processes lock one another out. A holder that dies (its thread or process)
frees its lock: the kernel marks its robust word, and the next owner is told
(``OwnerDiedError``).

Also ``Once``, ``WaitGroup``, ``Barrier`` and ``RwLock`` (see docs/python.md)."""

from __future__ import annotations

import ctypes
import math
import threading
import time
import warnings

from ._library import fn
from ._memory import Placed, SharedMemory

_u32p = ctypes.c_void_p
WAITERS, OWNER_DIED, TID = 0x80000000, 0x40000000, 0x3FFFFFFF
SLICE_S = 0.2  # how long a wait sleeps before it looks again (a waiter woken and then killed wakes nobody)
INITIALISING = 1
KIND_NAMES = {
    0x4D545832: "Mutex",
    0x53454D32: "Semaphore",
    0x4F4E4332: "Once",
    0x57474731: "WaitGroup",
    0x42415231: "Barrier",
    0x52574C32: "RwLock",
    0x43484E31: "Channel",
    0x534D4150: "SharedMap",
}


def holds(t: int) -> str:
    """What memory whose first word is ``t`` holds, for messages."""
    other = KIND_NAMES.get(t)
    return f"a {other}" if other else f"something else (its first word is 0x{t:x})"


class OwnerDiedError(Exception):
    """The previous holder died holding the lock: the caller holds it now (or the permits); repair the data."""

    def __init__(self, message: str, previous_owner: int, recovered: int = 0):
        super().__init__(message)
        self.previous_owner = previous_owner
        self.recovered = recovered


class OwnerDiedWarning(RuntimeWarning):
    """``with mutex:`` took a lock whose previous holder died: the block runs, the data may need repair."""


class LockNotHeldError(Exception):
    """Unlocking a lock (releasing permits) the calling thread does not hold."""


class _Robust(threading.local):
    """The robust-word exports and this thread's robust list (set up once per thread)."""

    def __init__(self):
        init = fn("sa_robust_init", ctypes.c_int)
        offset = init()
        if offset > 0:
            raise OSError(offset, "the kernel refused this thread's robust futex list (set_robust_list)")
        self.tid = fn("sa_robust_tid", ctypes.c_int)()
        self.context = fn("sa_robust_context", ctypes.c_void_p)()
        self.fallback = offset == 0


_robust = None
_fns: dict = {}


def robust() -> _Robust:
    global _robust
    if _robust is None:
        _robust = _Robust()
    return _robust


def _f(name, restype, *args):
    if name not in _fns:
        _fns[name] = fn(name, restype, *args)
    return _fns[name]


def load(ptr: int) -> int:
    return _f("sa_u32_load", ctypes.c_uint32, _u32p)(ptr)


def _cas_plain(ptr, expected, desired) -> bool:
    return bool(_f("sa_u32_compare_and_set", ctypes.c_bool, _u32p, ctypes.c_uint32, ctypes.c_uint32)(ptr, expected, desired))


def _store(ptr, v) -> None:
    _f("sa_u32_store", None, _u32p, ctypes.c_uint32)(ptr, v)


def _wait(ptr, expected, seconds) -> int:
    return _f("sa_wait32", ctypes.c_int, _u32p, ctypes.c_uint32, ctypes.c_double)(ptr, expected, seconds * 1000.0)


def _wake(ptr, count) -> int:
    return _f("sa_wake32", ctypes.c_int, _u32p, ctypes.c_int)(ptr, count)


def _rcas(ptr, expected, desired) -> int:
    r = robust()
    return _f("sa_robust_cas_at", ctypes.c_int, ctypes.c_void_p, _u32p, ctypes.c_uint32, ctypes.c_uint32)(
        r.context, ptr, expected, desired
    )


def _gone(v) -> bool:
    return robust().fallback and (v & TID) != 0 and _f("sa_robust_gone", ctypes.c_int, ctypes.c_uint32)(v) == 1


def _takeable(v) -> bool:
    return (v & TID) == 0 or _gone(v)


def _owner_died(v) -> bool:
    return ((v & TID) == 0 and (v & OWNER_DIED) != 0) or _gone(v)


class _Primitive(Placed):
    """Where a lock lives and its tag word (which says which primitive the memory holds)."""

    TYPE = ""
    TAG = 0
    BYTES = 0
    ALIGN = 8

    def __init__(self, memory: SharedMemory, byte_offset: int = 0, *, adopt_only: bool = False, config=()):
        where = f"{type(self).__name__}()"
        if not isinstance(memory, SharedMemory):
            raise TypeError(f"{where}: memory must be a SharedMemory; got {memory!r}")
        self.memory, self.byte_offset = memory, byte_offset
        self._base = memory.address(where, byte_offset, self.BYTES, self.ALIGN)
        robust()
        self._adopt(where, adopt_only, config)
        memory._locks.add(self)

    def _abandon(self) -> None:
        """Gives up the robust words this thread holds in it, as if it had died (its memory is going away)."""
        abandon = _f("sa_robust_abandon", ctypes.c_int, _u32p)
        for offset in self._robust_words():
            abandon(self._base + offset)

    def _robust_words(self):
        return ()

    def _adopt(self, where, adopt_only, config=()) -> None:
        """Fresh (zeroed) memory becomes this primitive, with ``config`` ((name, value) of the words after the tag:
        None adopts what is stored, and is refused in fresh memory); memory that holds one already must have the
        same configuration."""
        deadline = time.monotonic() + 5
        while True:
            t = load(self._base)
            if t == self.TAG:
                for i, (name, want) in enumerate(config):
                    have = load(self._base + 4 * (1 + i))
                    if want is not None and want != have:
                        raise ValueError(
                            f"{where}: {name} must be what this {type(self).__name__} already has, {have} "
                            f"(or left out, to adopt it); got {want}"
                        )
                return
            if t == 0 and not adopt_only:
                missing = [name for name, want in config if want is None]
                if missing:
                    raise ValueError(f"{where}: {missing[0]} is required: this memory holds no {type(self).__name__} yet")
                if _cas_plain(self._base, 0, INITIALISING):
                    for i, (_, want) in enumerate(config):
                        _store(self._base + 4 * (1 + i), want)
                    _store(self._base, self.TAG)
                    return
                continue
            if t == INITIALISING:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{where}: the memory stays half-initialised (did its creator die?)")
                time.sleep(0.001)
                continue
            other = KIND_NAMES.get(t)
            held = f"a {other}" if other else ("nothing yet (zeroed)" if t == 0 else f"something else (first word 0x{t:x})")
            raise TypeError(f"{where}: memory must hold a {type(self).__name__}; this memory holds {held}")

    def _at(self, where: str, offset: int) -> int:
        self._check_open(where)
        return self._base + offset


def _timeout(where, timeout) -> float:
    if timeout is None:
        return math.inf
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
        raise ValueError(f"{where}: timeout must be None or a number of seconds >= 0; got {timeout!r}")
    return time.monotonic() + timeout


class Mutex(_Primitive):
    """A robust mutex in shared memory (48 bytes; zeroed memory is an unlocked one), shared with Bun and Deno.

    ``with m:`` locks and unlocks; ``lock(timeout=None)``/``unlock()`` too. Not re-entrant."""

    TYPE, TAG, BYTES = "mutex", 0x4D545832, 48
    _STATE = 8

    def _robust_words(self):
        return (self._STATE,)

    def lock(self, timeout: float | None = None) -> bool:
        """Blocks until held (or ``timeout`` seconds pass: False). OwnerDiedError: held, its last owner died."""
        where = "Mutex.lock"
        deadline = _timeout(where, timeout)
        state = self._at(where, self._STATE)
        r = robust()
        if _f("sa_robust_lock_at", ctypes.c_int, ctypes.c_void_p, _u32p)(r.context, state) == 1:
            return True
        waited = False
        done = False
        try:
            while True:
                v = load(state)
                if _takeable(v):
                    keep = WAITERS if waited else v & WAITERS
                    died = _owner_died(v)
                    previous = (v & TID or load(state + 4)) if died else 0
                    if _rcas(state, v, r.tid | keep) == 1:
                        done = True
                        if died:
                            raise OwnerDiedError(
                                f"Mutex: the previous owner (thread {previous}) died holding the lock; "
                                "you hold it now, repair the data",
                                previous,
                            )
                        return True
                    continue
                if (v & TID) == r.tid and _f("sa_robust_owned", ctypes.c_int, _u32p)(state) == 1:
                    if deadline != math.inf:
                        return False
                    raise RuntimeError("Mutex.lock: this thread already holds the lock (it is not re-entrant)")
                if not (v & WAITERS) and not _cas_plain(state, v, v | WAITERS):
                    continue
                left = min(SLICE_S, deadline - time.monotonic())
                if left <= 0:
                    return False
                waited = True
                _wait(state, v | WAITERS, left)
                self._at(where, self._STATE)
        finally:
            if not done and waited and not self.memory.closed and _takeable(load(state)):
                _wake(state, 1)

    def unlock(self) -> None:
        """Releases the lock; LockNotHeldError if this thread does not hold it."""
        where = "Mutex.unlock"
        state = self._at(where, self._STATE)
        r = robust()
        if _f("sa_robust_unlock_at", ctypes.c_int, ctypes.c_void_p, _u32p)(r.context, state) == 1:
            return
        while True:
            v = load(state)
            res = -1
            if (v & TID) == r.tid:
                res = _f("sa_robust_cas", ctypes.c_int, _u32p, ctypes.c_uint32, ctypes.c_uint32)(state, v, 0)
                if res == 1 and v & WAITERS:
                    _wake(state, 1)
            if res == 1:
                return
            if res == -1:
                owner = v & TID
                who = "it is unlocked" if owner == 0 else f"thread {owner} does"
                raise LockNotHeldError(f"Mutex.unlock: this thread ({r.tid}) does not hold the lock ({who})")

    @property
    def locked(self) -> bool:
        """Whether some thread holds it now (a snapshot)."""
        return not _takeable(load(self._at("Mutex.locked", self._STATE)))

    def __enter__(self) -> "Mutex":
        try:
            self.lock()
        except OwnerDiedError as e:
            # held now: raising here would leave it held (no __exit__), so the block runs, and says so
            warnings.warn(OwnerDiedWarning(str(e)), stacklevel=2)
        return self

    def __exit__(self, *exc) -> None:
        self.unlock()


class Semaphore(_Primitive):
    """A counting semaphore made by Bun or Deno (``new Semaphore(seg, offset, { max })``), opened here:
    ``acquire(n=1, timeout=None)``, ``release(n=1)``; permits of a holder that dies come back."""

    TYPE, TAG, BYTES = "semaphore", 0x53454D32, 80
    _AVAILABLE = 12
    _SLOT0, _SLOT_BYTES = 80, 40

    def _robust_words(self):
        holders = load(self._base + 8)
        return tuple(self._SLOT0 + self._SLOT_BYTES * k for k in range(holders))

    def __init__(self, memory: SharedMemory, byte_offset: int = 0):
        super().__init__(memory, byte_offset, adopt_only=True)
        end = byte_offset + self._SLOT0 + self._SLOT_BYTES * load(self._base + 8)
        if end > memory.byte_length:
            memory._locks.discard(self)
            raise ValueError(
                f"Semaphore(): the Semaphore at {byte_offset} needs {end - byte_offset} bytes (its holder slots); "
                f"the memory has {memory.byte_length - byte_offset} from there"
            )

    @property
    def max(self) -> int:
        return load(self._at("Semaphore.max", 4))

    @property
    def available(self) -> int:
        return load(self._at("Semaphore.available", self._AVAILABLE))

    def _n(self, where, n) -> int:
        mx = self.max
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= mx:
            raise ValueError(f"{where}: n must be an int in [1, {mx}]; got {n!r}")
        return n

    def acquire(self, n: int = 1, timeout: float | None = None) -> bool:
        """Takes ``n`` permits (False if ``timeout`` seconds pass first)."""
        where = "Semaphore.acquire"
        k = self._n(where, n)
        deadline = _timeout(where, timeout)
        out = (ctypes.c_uint32 * 3)()
        acquire = _f("sa_sem_acquire", ctypes.c_int, _u32p, ctypes.c_uint32, ctypes.c_void_p)
        while True:
            base = self._at(where, 0)
            res = acquire(base, k, ctypes.addressof(out))
            if res >= 0:
                if out[0] > 0:
                    raise OwnerDiedError(
                        f"Semaphore: a holder (thread {out[1]}) died holding {out[0]} permits; they came back and "
                        f"you hold your {k} now",
                        out[1],
                        out[0],
                    )
                return True
            if res not in (-2, -3):
                raise RuntimeError(f"{where}: the memory does not hold a Semaphore's counters any more")
            available = out[2] if res == -2 else load(base + self._AVAILABLE)
            left = min(SLICE_S, deadline - time.monotonic())
            if left <= 0:
                return False
            _wait(base + self._AVAILABLE, available, left)

    def release(self, n: int = 1) -> None:
        """Returns ``n`` permits; ValueError (and no change) if that would exceed ``max``."""
        where = "Semaphore.release"
        k = self._n(where, n)
        out = (ctypes.c_uint32 * 3)()
        res = _f("sa_sem_release", ctypes.c_int, _u32p, ctypes.c_uint32, ctypes.c_void_p)(
            self._at(where, 0), k, ctypes.addressof(out)
        )
        if res == 1:
            return
        if res == -4:
            raise ValueError(f"{where}: n must be at most {out[2]} (max {self.max}); got {n}")
        raise RuntimeError(f"{where}: the memory does not hold a Semaphore's counters any more")

    def __enter__(self) -> "Semaphore":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class Once(_Primitive):
    """Runs an initialiser exactly once across threads and processes (48 bytes; zeroed memory is a fresh one):
    ``once.run(fn)`` returns True in the caller that ran it, False elsewhere (after waiting for it to finish). If
    ``fn`` raises, or its runner dies, the next caller runs it."""

    TYPE, TAG, BYTES = "once", 0x4F4E4332, 48
    _STATE = 8
    _DONE = 0x3FFFFFFF

    def _robust_words(self):
        return (self._STATE,)

    @property
    def done(self) -> bool:
        return load(self._at("Once.done", self._STATE)) == self._DONE

    def run(self, fn) -> bool:
        where = "Once.run"
        if not callable(fn):
            raise TypeError(f"{where}: fn must be callable; got {fn!r}")
        if not self._claim(where):
            return False
        try:
            fn()
        except BaseException:
            self._finish(where, 0)
            raise
        self._finish(where, self._DONE)
        return True

    def _claim(self, where) -> bool:
        r = robust()
        state = self._at(where, self._STATE)
        waited = False
        while True:
            v = load(state)
            if v == self._DONE:
                return False
            if _takeable(v):
                # 0, or its runner died: this caller runs it
                if _rcas(state, v, r.tid | (WAITERS if waited else v & WAITERS)) == 1:
                    return True
                continue
            if (v & TID) == r.tid and _f("sa_robust_owned", ctypes.c_int, _u32p)(state) == 1:
                raise RuntimeError(f"{where}: this thread is running this Once's initialiser already (a call from fn)")
            if not (v & WAITERS) and not _cas_plain(state, v, v | WAITERS):
                continue
            waited = True
            _wait(state, v | WAITERS, SLICE_S)
            state = self._at(where, self._STATE)

    def _finish(self, where, to) -> None:
        state = self._at(where, self._STATE)
        rcas = _f("sa_robust_cas", ctypes.c_int, _u32p, ctypes.c_uint32, ctypes.c_uint32)
        while True:
            r = rcas(state, load(state), to)
            if r == 1:
                break
            if r == -1:
                return
        _wake(state, 0)


class WaitGroup(_Primitive):
    """A count to wait for across threads and processes (8 bytes; zeroed memory is a count of 0): ``add(n)``,
    ``done()``, ``wait(timeout=None)`` (True once the count is 0, False on timeout)."""

    TYPE, TAG, BYTES, ALIGN = "waitgroup", 0x57474731, 8, 4
    _COUNT = 4
    _LIMIT = 0x7FFFFFFF

    @property
    def count(self) -> int:
        return load(self._at("WaitGroup.count", self._COUNT))

    def add(self, n: int = 1) -> None:
        where = "WaitGroup.add"
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"{where}: n must be an int; got {n!r}")
        if n == 0 or abs(n) > self._LIMIT:
            raise ValueError(f"{where}: n must be a non-zero int in [-{self._LIMIT}, {self._LIMIT}]; got {n}")
        self._change(where, n)

    def done(self) -> None:
        self._change("WaitGroup.done", -1)

    def _change(self, where, n) -> None:
        word = self._at(where, self._COUNT)
        while True:
            c = load(word)
            nxt = c + n
            if nxt < 0 and where == "WaitGroup.done":
                raise ValueError(f"{where}: the count is 0: every add() already has its done() (a done() too many)")
            if nxt < 0 or nxt > self._LIMIT:
                raise ValueError(f"{where}: n must keep the count in [0, {self._LIMIT}] (it is {c}); got {n}")
            if _cas_plain(word, c, nxt):
                if nxt == 0:
                    _wake(word, 0)
                return

    def wait(self, timeout: float | None = None) -> bool:
        where = "WaitGroup.wait"
        deadline = _timeout(where, timeout)
        while True:
            word = self._at(where, self._COUNT)
            c = load(word)
            if c == 0:
                return True
            left = min(SLICE_S, deadline - time.monotonic())
            if left <= 0:
                return False
            _wait(word, c, left)


class Barrier(_Primitive):
    """``parties`` threads or processes meet: ``wait(timeout=None)`` returns True in the one that completed the
    generation, False in the others, None on timeout (its arrival taken back). 12 bytes; fresh memory needs
    ``parties``, an existing Barrier is adopted (a different ``parties`` is a ValueError)."""

    TYPE, TAG, BYTES, ALIGN = "barrier", 0x42415231, 12, 4
    _PARTIES, _WORD = 4, 8
    MAX_PARTIES = 0xFFFF

    def __init__(self, memory: SharedMemory, byte_offset: int = 0, parties: int | None = None):
        where = "Barrier()"
        if parties is not None and (
            isinstance(parties, bool) or not isinstance(parties, int) or not 1 <= parties <= self.MAX_PARTIES
        ):
            raise ValueError(f"{where}: parties must be an int in [1, {self.MAX_PARTIES}]; got {parties!r}")
        super().__init__(memory, byte_offset, config=(("parties", parties),))

    @property
    def parties(self) -> int:
        return load(self._at("Barrier.parties", self._PARTIES))

    @property
    def generation(self) -> int:
        return load(self._at("Barrier.generation", self._WORD)) >> 16

    def wait(self, timeout: float | None = None):
        """True in the party that completed the generation, False in the others, None on timeout."""
        where = "Barrier.wait"
        deadline = _timeout(where, timeout)
        word = self._at(where, self._WORD)
        parties = load(self._base + self._PARTIES)
        mine = _f("sa_u32_fetch_add", ctypes.c_uint32, _u32p, ctypes.c_uint32)(word, 1)
        gen = mine >> 16
        if (mine & 0xFFFF) + 1 == parties:
            _store(word, ((gen + 1) & 0xFFFF) << 16)
            _wake(word, 0)
            return True
        while True:
            word = self._at(where, self._WORD)
            v = load(word)
            if v >> 16 != gen:
                return False
            left = min(SLICE_S, deadline - time.monotonic())
            if left <= 0:
                # take the arrival back, unless the generation completed meanwhile
                if _cas_plain(word, v, v - 1):
                    return None
                continue
            _wait(word, v, left)
class RwLockOwnerDiedError(OwnerDiedError):
    """The writer died while writing: the caller now holds the WRITE lock (whether it asked to read or to write),
    the data may be half-written: repair it, then ``release_write()``."""


class _Guard:
    """What ``with rw.read():`` / ``with rw.write():`` holds; ``kind`` is "read" or "write" (a read that found a
    dead writer's half-written data holds the write lock, and says so with an OwnerDiedWarning)."""

    def __init__(self, rw: "RwLock", kind: str):
        self.rw, self.kind, self.taken = rw, kind, ""

    def __enter__(self) -> "_Guard":
        try:
            if self.kind == "read":
                self.rw.acquire_read()
            else:
                self.rw.acquire_write()
            self.taken = self.kind
        except RwLockOwnerDiedError as e:
            self.taken = "write"
            warnings.warn(OwnerDiedWarning(str(e)), stacklevel=2)
        return self

    def __exit__(self, *exc) -> None:
        if self.taken == "read":
            self.rw.release_read()
        elif self.taken == "write":
            self.rw.release_write()
        self.taken = ""


_ACQUIRED, _TIMED_OUT = -2, -1


class RwLock(_Primitive):
    """A readers-writer lock (48 + 40 × readers bytes; zeroed memory is an unlocked one with 16 reader slots),
    the TypeScript ``RwLock``'s words and protocol: many readers or one writer, a waiting writer keeps new readers
    out. ``with rw.read():`` / ``with rw.write():``, or ``acquire_read(timeout=None)``/``release_read()``,
    ``acquire_write(timeout=None)``/``release_write()``. Robust: a reader that dies frees its slot, a writer that
    dies while writing hands the write lock to the next taker with ``RwLockOwnerDiedError``."""

    TYPE, TAG, BYTES = "rwlock", 0x52574C32, 8
    _WRITER, _WRITING, _SLOT0, _SLOT_BYTES = 8, 16, 48, 40
    DEFAULT_READERS, MAX_READERS = 16, 1024

    def __init__(self, memory: SharedMemory, byte_offset: int = 0, readers: int | None = None):
        where = "RwLock()"
        if readers is not None and (isinstance(readers, bool) or not isinstance(readers, int)):
            raise TypeError(f"{where}: readers must be an int in [1, {self.MAX_READERS}]; got {readers!r}")
        if readers is not None and not 1 <= readers <= self.MAX_READERS:
            raise ValueError(f"{where}: readers must be an int in [1, {self.MAX_READERS}]; got {readers}")
        if isinstance(memory, SharedMemory):
            base = memory.address(where, byte_offset, 8, self.ALIGN)
            t = load(base)
            n = load(base + 4) if t == self.TAG else (readers or self.DEFAULT_READERS)
            memory.address(where, byte_offset, self.bytes(n), self.ALIGN)  # the whole lock fits, before any write
        self._config = readers or self.DEFAULT_READERS
        self._held = threading.local()
        super().__init__(memory, byte_offset)
        self._n = load(self._base + 4)
        if readers is not None and readers != self._n:
            memory._locks.discard(self)
            raise ValueError(f"{where}: readers must be what this RwLock already has, {self._n} (or left out, to "
                             f"adopt it); got {readers}")

    def _adopt(self, where, adopt_only, config=()) -> None:
        deadline = time.monotonic() + 5
        while True:
            t = load(self._base)
            if t == self.TAG:
                return
            if t == 0:
                if _cas_plain(self._base, 0, INITIALISING):
                    _store(self._base + 4, self._config)
                    _store(self._base, self.TAG)
                    return
                continue
            if t == INITIALISING:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{where}: the memory stays half-initialised (did its creator die?)")
                time.sleep(0.001)
                continue
            other = KIND_NAMES.get(t)
            held = f"a {other}" if other else f"something else (first word 0x{t:x})"
            raise TypeError(f"{where}: memory must be free (zeroed) memory or an RwLock; this memory holds {held}")

    @classmethod
    def bytes(cls, readers: int = DEFAULT_READERS) -> int:
        """The size in bytes of an RwLock with ``readers`` slots."""
        return cls._SLOT0 + cls._SLOT_BYTES * readers

    @property
    def reader_slots(self) -> int:
        """How many threads can hold the read lock at once."""
        return self._n

    def _robust_words(self):
        return (self._WRITER, *(self._SLOT0 + self._SLOT_BYTES * i for i in range(self._n)))

    def _slot(self, i: int) -> int:
        return self._base + self._SLOT0 + self._SLOT_BYTES * i

    def _mine(self) -> list:
        h = getattr(self._held, "slots", None)
        if h is None:
            h = self._held.slots = []
        return h

    # ---- the protocol (src/sync/rwlock.ts)

    def _sleep(self, where, ptr, v, deadline) -> bool:
        """Sets WAITERS on ``ptr`` (holding ``v``) and waits there a slice; False once the deadline passed."""
        if not (v & WAITERS) and not _cas_plain(ptr, v, v | WAITERS):
            return True
        left = min(SLICE_S, deadline - time.monotonic())
        if left <= 0:
            return False
        _wait(ptr, v | WAITERS, left)
        self._at(where, 0)
        return True

    def _release(self, ptr, v) -> int:
        res = _f("sa_robust_cas", ctypes.c_int, _u32p, ctypes.c_uint32, ctypes.c_uint32)(ptr, v, 0)
        if res == 1 and v & WAITERS:
            _wake(ptr, 0)
        return res

    def _owned(self, ptr) -> bool:
        return _f("sa_robust_owned", ctypes.c_int, _u32p)(ptr) == 1

    def _release_slot(self, i: int) -> bool:
        slot = self._slot(i)
        me = robust().tid
        while True:
            v = load(slot)
            if (v & TID) != me:
                return False
            res = self._release(slot, v)
            if res != 0:
                return res == 1

    def _release_write(self) -> None:
        _store(self._base + self._WRITING, 0)
        word = self._base + self._WRITER
        while self._release(word, load(word)) == 0:
            pass

    def _reads_here(self) -> bool:
        me = robust().tid
        return any((load(self._slot(i)) & TID) == me and self._owned(self._slot(i)) for i in range(self._n))

    def _writes(self) -> bool:
        return not _takeable(load(self._base + self._WRITER)) and load(self._base + self._WRITING) != 0

    def _read(self, where, deadline) -> int:
        r = robust()
        word = self._at(where, self._WRITER)
        claim = _f("sa_robust_claim", ctypes.c_int, _u32p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32)
        start = r.tid % self._n
        while True:
            w = load(word)
            if not _takeable(w):
                if (w & TID) == r.tid and self._owned(word):
                    if deadline != math.inf:
                        return _TIMED_OUT
                    raise RuntimeError(f"{where}: this thread holds (or waits for) the write lock: that would deadlock")
                if deadline == math.inf and self._reads_here():
                    raise RuntimeError(f"{where}: this thread holds a read lock and a writer waits for it: reading "
                                       "again would deadlock")
                if not self._sleep(where, word, w, deadline):
                    return _TIMED_OUT
                continue
            if _owner_died(w):
                if load(self._base + self._WRITING) != 0:
                    res = self._write(where, deadline)
                    if res != _ACQUIRED:
                        return res
                    self._release_write()  # another thread repaired first: give back what this read did not ask for
                    continue
                if _cas_plain(word, w, 0) and w & WAITERS:
                    _wake(word, 0)
                continue
            c = claim(self._base + self._SLOT0, self._n, self._SLOT_BYTES, start)
            if c < 0:
                slot = self._slot(start)
                v = load(slot)
                if _takeable(v):
                    continue
                if not self._sleep(where, slot, v, deadline):
                    return _TIMED_OUT
                continue
            i = c & 0xFFFF
            if not _takeable(load(word)):
                self._release_slot(i)  # a writer came: make way for it
                continue
            self._mine().append(i)
            return _ACQUIRED

    def _write(self, where, deadline) -> int:
        r = robust()
        word = self._at(where, self._WRITER)
        busy = _f("sa_robust_busy", ctypes.c_int, _u32p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32)
        slots = self._base + self._SLOT0
        waited = False
        previous = _ACQUIRED
        while True:
            w = load(word)
            if _takeable(w):
                died = _owner_died(w) and load(self._base + self._WRITING) != 0
                prev = ((w & TID) or load(word + 4)) if died else _ACQUIRED
                if _rcas(word, w, r.tid | (WAITERS if waited else w & WAITERS)) == 1:
                    previous = prev
                    break
                continue
            if (w & TID) == r.tid and self._owned(word):
                if deadline != math.inf:
                    return _TIMED_OUT
                raise RuntimeError(f"{where}: this thread holds (or waits for) the write lock: that would deadlock")
            waited = True
            if not self._sleep(where, word, w, deadline):
                return _TIMED_OUT
        held = False
        try:
            i = busy(slots, self._n, self._SLOT_BYTES, 0)
            while i >= 0:
                slot = self._slot(i)
                v = load(slot)
                if _takeable(v):
                    i = busy(slots, self._n, self._SLOT_BYTES, i)
                    continue
                if (v & TID) == r.tid and self._owned(slot):
                    if deadline != math.inf:
                        return _TIMED_OUT
                    raise RuntimeError(f"{where}: this thread holds a read lock (no upgrades): that would deadlock")
                if not self._sleep(where, slot, v, deadline):
                    return _TIMED_OUT
            _store(self._base + self._WRITING, 1)
            held = True
            return previous
        finally:
            if not held and not self.memory.closed:
                while self._release(word, load(word)) == 0:
                    pass

    def _result(self, res: int) -> bool:
        if res == _ACQUIRED:
            return True
        if res == _TIMED_OUT:
            return False
        raise RwLockOwnerDiedError(
            f"RwLock: the writer (thread {res}) died while writing; you hold the write lock now, repair the data", res
        )

    # ---- the API

    def acquire_read(self, timeout: float | None = None) -> bool:
        """Blocks until a read lock is held (or ``timeout`` seconds pass: False). RwLockOwnerDiedError: the writer
        died while writing, and the caller holds the write lock instead."""
        where = "RwLock.acquire_read"
        return self._result(self._read(where, _timeout(where, timeout)))

    def acquire_write(self, timeout: float | None = None) -> bool:
        """Blocks until the write lock is held (or ``timeout`` seconds pass: False)."""
        where = "RwLock.acquire_write"
        return self._result(self._write(where, _timeout(where, timeout)))

    def release_read(self) -> None:
        """Releases a read lock this thread holds; LockNotHeldError if it holds none."""
        where = "RwLock.release_read"
        self._at(where, 0)
        mine = self._mine()
        while mine:
            if self._release_slot(mine.pop()):
                return
        me = robust().tid
        for i in range(self._n):
            slot = self._slot(i)
            if (load(slot) & TID) == me and self._owned(slot) and self._release_slot(i):
                return
        state = "a writer holds it" if self._writes() else "it is not held"
        raise LockNotHeldError(f"{where}: this thread holds no read lock ({state})")

    def release_write(self) -> None:
        """Releases the write lock; LockNotHeldError if this thread does not hold it."""
        where = "RwLock.release_write"
        word = self._at(where, self._WRITER)
        if (load(word) & TID) != robust().tid or not self._owned(word) or load(self._base + self._WRITING) == 0:
            state = "another thread does" if self._writes() else "it is not write-locked"
            raise LockNotHeldError(f"{where}: this thread does not hold the write lock ({state})")
        self._release_write()

    def read(self) -> _Guard:
        """``with rw.read():`` holds a read lock for the block."""
        return _Guard(self, "read")

    def write(self) -> _Guard:
        """``with rw.write():`` holds the write lock for the block."""
        return _Guard(self, "write")

    @property
    def readers(self) -> int:
        """Readers holding the lock now (a snapshot); -1 if a writer holds it."""
        self._at("RwLock.readers", 0)
        if self._writes():
            return -1
        busy = _f("sa_robust_busy", ctypes.c_int, _u32p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32)
        n, i = 0, busy(self._base + self._SLOT0, self._n, self._SLOT_BYTES, 0)
        while i >= 0:
            n += 1
            i = busy(self._base + self._SLOT0, self._n, self._SLOT_BYTES, i + 1)
        return n
