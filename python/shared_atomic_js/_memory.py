"""Named shared memory (POSIX shm_open segments, or files on a path) through
the library's sa_shm_* exports: the same segments, checks and handle strings
as the TypeScript SharedMemory."""

from __future__ import annotations

import ctypes
import errno as _errno
import re
import time
import weakref

from ._library import fn

_c_int, _c_double, _c_void_p, _c_char_p = ctypes.c_int, ctypes.c_double, ctypes.c_void_p, ctypes.c_char_p

#: How long an opener waits for a segment's creator to size it (seconds), as in TypeScript.
SIZE_WAIT_S = 2.0

_IDENTITY = r"\?id=(\d+\.\d+)"
_SEGMENT = re.compile(rf"^sa1:(shm|file):(.+?)(?:{_IDENTITY})?$", re.S)
_VALUE = re.compile(rf"^sa1:([a-z0-9]+)@(\d+):((?:shm|file):.+)$", re.S)


class SharedMemoryError(Exception):
    """A shared-memory failure; ``code`` is the errno name ("EEXIST", "EAGAIN", ...), or "" when not from the OS."""

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


class SharedMemoryExistsError(SharedMemoryError):
    """``SharedMemory.create`` of a name that already exists."""


class SharedMemoryNotFoundError(SharedMemoryError):
    """``open`` (or ``unlink``, or a handle) of a name that does not exist, or not the segment a handle was made for."""


class SharedMemoryClosedError(SharedMemoryError):
    """Any use of a SharedMemory, or of an object in it, after ``close()``."""


class _Shm:
    """The sa_shm_* exports, bound once."""

    def __init__(self):
        self.open_fd = fn("sa_shm_open_fd", _c_int, _c_char_p, _c_int, _c_int)
        self.size = fn("sa_shm_fd_size", _c_double, _c_int)
        self.truncate = fn("sa_shm_fd_truncate", _c_int, _c_int, _c_double)
        self.reserve = fn("sa_shm_fd_reserve", _c_int, _c_int, _c_double)
        self.check = fn("sa_shm_fd_check", _c_int, _c_int)
        self.identity = fn("sa_shm_fd_identity", _c_int, _c_int, ctypes.c_char_p)
        self.map = fn("sa_shm_map", _c_void_p, _c_int, _c_double)
        self.map_error = fn("sa_shm_map_error", _c_int)
        self.unmap = fn("sa_shm_unmap", _c_int, _c_void_p, _c_double)
        self.retire = fn("sa_shm_retire", _c_int, _c_void_p, _c_double)
        self.close_fd = fn("sa_shm_close_fd", _c_int, _c_int)
        self.remove = fn("sa_shm_remove", _c_int, _c_char_p, _c_int)


_shm: _Shm | None = None


def shm() -> _Shm:
    global _shm
    if _shm is None:
        _shm = _Shm()
    return _shm


def _code(neg: int) -> str:
    return _errno.errorcode.get(-neg, f"errno {-neg}")


def _label(kind: str, name: str) -> str:
    return f"{'file' if kind == 'file' else 'segment'} {name!r}"


def _os_error(where: str, what: str, kind: str, name: str, rc: int) -> SharedMemoryError:
    code = _code(rc)
    label = _label(kind, name)
    if code == "EEXIST":
        how = f"SharedMemory.unlink({name!r})" + (f" or rm /dev/shm{name}" if kind == "shm" else "")
        return SharedMemoryExistsError(
            f"{where}: {label} already exists (open it with SharedMemory.open, or remove it first: {how})", code
        )
    if code == "ENOENT":
        return SharedMemoryNotFoundError(f"{where}: {label} does not exist", code)
    return SharedMemoryError(f"{where}: {what} {label} failed: {code}", code)


def _parse_name(where: str, name) -> tuple[str, str]:
    """(kind, name): a str is a shm name ("/x" or "x"), {"path": p} a file."""
    if isinstance(name, dict) and "path" in name:
        path = name["path"]
        if not isinstance(path, str) or path == "" or "\0" in path:
            raise ValueError(f"{where}: path must be a non-empty string without NUL; got {path!r}")
        return "file", path
    if not isinstance(name, str):
        raise TypeError(f"{where}: name must be a str like '/counters', or {{'path': ...}}; got {name!r}")
    bare = name[1:] if name.startswith("/") else name
    if bare in ("", ".", "..") or "/" in bare or "\0" in bare or len(bare.encode()) > 255:
        raise ValueError(f"{where}: name must be a non-empty name with no '/' after an optional leading one; got {name!r}")
    return "shm", "/" + bare


def _identity(fd: int) -> str:
    out = ctypes.create_string_buffer(16)
    if shm().identity(fd, out) != 0:
        return ""
    raw = out.raw
    return f"{int.from_bytes(raw[:8], 'little')}:{int.from_bytes(raw[8:], 'little')}"


class SharedMemory:
    """A named shared-memory segment mapped into this process.

    ``SharedMemory.create(name, size)``, ``SharedMemory.open(name)``,
    ``SharedMemory.open_or_create(name, size)`` or ``SharedMemory.from_handle(h)``;
    a context manager that closes it. Objects in it (``AtomicU64(seg, 8)``,
    ``Mutex(seg, 64)``) keep it open.
    """

    def __init__(self, kind: str, name: str, base: int, size: int, identity: str, created: bool):
        self.kind, self.name, self.byte_length = kind, name, size
        self.created = created
        self._base, self._identity = base, identity
        self._mapping = base  # the range, unmapped only when this object is collected
        self._locks: weakref.WeakSet = weakref.WeakSet()  # locks in it: close() gives up what this thread holds

    # ---- making one

    @classmethod
    def create(cls, name, byte_length: int) -> "SharedMemory":
        """A new segment of ``byte_length`` zeroed bytes, mode 0600; SharedMemoryExistsError if the name exists."""
        where = "SharedMemory.create"
        kind, nm = _parse_name(where, name)
        size = _check_size(where, byte_length)
        seg = cls._try_create(where, kind, nm, size)
        if seg is None:
            raise _os_error(where, "creating", kind, nm, -_errno.EEXIST)
        return seg

    @classmethod
    def open(cls, name, byte_length: int | None = None, owner_only: bool = True) -> "SharedMemory":
        """An existing segment: all of it, or its first ``byte_length`` bytes (waits up to 2 s for its creator to size it)."""
        where = "SharedMemory.open"
        kind, nm = _parse_name(where, name)
        if byte_length is not None:
            _check_size(where, byte_length)
        return cls._open(where, kind, nm, byte_length, owner_only)

    @classmethod
    def open_or_create(cls, name, byte_length: int, owner_only: bool = True) -> "SharedMemory":
        """Opens ``name`` or creates it, without a race (exactly one caller creates; ``created`` says which)."""
        where = "SharedMemory.open_or_create"
        kind, nm = _parse_name(where, name)
        size = _check_size(where, byte_length)
        for attempt in range(100):
            seg = cls._try_create(where, kind, nm, size)
            if seg is not None:
                return seg
            try:
                return cls._open(where, kind, nm, size, owner_only)
            except SharedMemoryNotFoundError:
                if attempt == 99:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def from_handle(cls, handle: str) -> "SharedMemory":
        """The segment a handle names ("sa1:shm:/name?id=..."), refusing one re-created since the handle was made."""
        where = "SharedMemory.from_handle"
        if not isinstance(handle, str):
            raise TypeError(f"{where}: handle must be a str like 'sa1:shm:/name'; got {handle!r}")
        m = _SEGMENT.match(handle)
        if not m:
            raise ValueError(f"{where}: handle must be a str like 'sa1:shm:/name' or 'sa1:file:/path'; got {handle!r}")
        kind, nm, ident = m.group(1), m.group(2), m.group(3)
        key = (kind, nm, ident)
        hit = _open_by_handle.get(key)
        if hit is not None and not hit.closed:
            return hit  # one mapping per segment, shared by every from_handle
        seg = cls._open(where, kind, nm, None, True)
        if ident is not None and seg._identity not in ("", ident.replace(".", ":")):
            seg.close()
            raise SharedMemoryNotFoundError(
                f"{where}: {nm!r} is not the segment this handle was made for (it was removed and created again since)",
                "ENOENT",
            )
        _open_by_handle[key] = seg
        return seg

    @classmethod
    def _try_create(cls, where, kind, name, size):
        s = shm()
        file = 1 if kind == "file" else 0
        fd = s.open_fd(name.encode(), 1, file)
        if fd < 0 and _code(fd) == "EEXIST":
            return None
        if fd < 0:
            raise _os_error(where, "creating", kind, name, fd)
        rc = s.reserve(fd, float(size))  # Linux: reserves, then sets the size, in one call
        if rc < 0 and _code(rc) in ("EOPNOTSUPP", "ENOTSUP", "ENOSYS"):
            rc = 0
        if rc == 0 and s.size(fd) != size:
            rc = s.truncate(fd, float(size))
        ident = _identity(fd) if rc == 0 else ""
        base = s.map(fd, float(size)) if rc == 0 else None
        if rc == 0 and not base:
            rc = -s.map_error()
        s.close_fd(fd)
        if rc != 0:
            s.remove(name.encode(), file)
            raise _os_error(where, f"sizing to {size} bytes", kind, name, rc)
        return cls(kind, name, base, size, ident, True)

    @classmethod
    def _open(cls, where, kind, name, byte_length, owner_only):
        s = shm()
        fd = s.open_fd(name.encode(), 0, 1 if kind == "file" else 0)
        if fd < 0:
            raise _os_error(where, "opening", kind, name, fd)
        try:
            rc = s.check(fd)
            if rc < 0:
                raise _os_error(where, "checking", kind, name, rc)
            if rc == 3:
                raise SharedMemoryError(f"{where}: {_label(kind, name)} is not a regular file", "EINVAL")
            if rc != 0 and owner_only:
                why = "is owned by another user" if rc == 1 else "can be read or written by other users (mode not 0600)"
                raise SharedMemoryError(f"{where}: {_label(kind, name)} {why}; pass owner_only=False to map it anyway", "EPERM")
            size = _sized(where, kind, name, fd)
            if byte_length is not None and byte_length > size:
                raise ValueError(f"{where}: byte_length must be at most the segment's size, {size}; got {byte_length}")
            length = size if byte_length is None else byte_length
            ident = _identity(fd)
            base = s.map(fd, float(length))
            if not base:
                raise _os_error(where, "mapping", kind, name, -s.map_error())
            return cls(kind, name, base, length, ident, False)
        finally:
            s.close_fd(fd)

    # ---- using one

    @property
    def closed(self) -> bool:
        return self._base is None

    def address(self, where: str, offset: int, size: int, align: int) -> int:
        """The address of ``size`` bytes at ``offset``, after the checks every object makes."""
        if self._base is None:
            raise SharedMemoryClosedError(f"{where}: the SharedMemory {self.name!r} is closed")
        if not isinstance(offset, int) or isinstance(offset, bool):
            raise TypeError(f"{where}: byte_offset must be an int; got {offset!r}")
        if offset < 0 or offset + size > self.byte_length:
            raise ValueError(f"{where}: byte_offset must be in [0, {self.byte_length - size}]; got {offset}")
        if offset % align:
            raise ValueError(f"{where}: byte_offset must be a multiple of {align}; got {offset}")
        return self._base + offset

    def handle(self) -> str:
        """``"sa1:shm:/name?id=<device>.<inode>"``, the string ``from_handle`` (in any runtime) opens."""
        ident = "" if self._identity == "" else "?id=" + self._identity.replace(":", ".")
        return f"sa1:{self.kind}:{self.name}{ident}"

    def close(self) -> None:
        """Closes the segment here (idempotent): objects in it raise SharedMemoryClosedError afterwards, and locks
        this thread holds in it are given up as if it had died (the next owner is told). The memory is replaced
        by private zero pages at once (a thread still inside an operation never touches freed memory) and the
        address range released when this object is collected."""
        if self._base is None:
            return
        for lock in list(self._locks):
            try:
                lock._abandon()
            except Exception:
                pass
        self._base = None
        shm().retire(self._mapping, float(self.byte_length))

    def unlink(self) -> None:
        """Removes this segment's name (mappings stay valid until closed)."""
        SharedMemory.unlink_name({"path": self.name} if self.kind == "file" else self.name)

    @staticmethod
    def unlink_name(name) -> None:
        """Removes a segment's name."""
        where = "SharedMemory.unlink"
        kind, nm = _parse_name(where, name)
        rc = shm().remove(nm.encode(), 1 if kind == "file" else 0)
        if rc != 0:
            raise _os_error(where, "removing", kind, nm, rc)

    def __del__(self) -> None:
        # nothing can reach the range any more (every object in it holds the segment): release it
        try:
            self.close()
            shm().unmap(self._mapping, float(self.byte_length))
        except Exception:
            pass

    def __enter__(self) -> "SharedMemory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SharedMemory({self.name!r}, {self.byte_length} bytes{', closed' if self.closed else ''})"


#: Segments opened by from_handle, by (kind, name, identity): one mapping each.
_open_by_handle: "weakref.WeakValueDictionary[tuple, SharedMemory]" = weakref.WeakValueDictionary()


def _check_size(where: str, n) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1 or n > 2**53 - 1:
        raise ValueError(f"{where}: byte_length must be an int in [1, 2^53-1]; got {n!r}")
    return n


def _sized(where, kind, name, fd) -> int:
    """The size of what ``fd`` refers to, waiting up to SIZE_WAIT_S while it is 0 (its creator sizing it)."""
    s = shm()
    deadline = time.monotonic() + SIZE_WAIT_S
    polls = 0
    while True:
        size = s.size(fd)
        if size < 0:
            raise _os_error(where, "sizing", kind, name, int(size))
        if size > 0:
            return int(size)
        if time.monotonic() >= deadline:
            raise SharedMemoryError(
                f"{where}: {_label(kind, name)} is still empty after {SIZE_WAIT_S:g} s: its creator did not size it "
                f"(it may have died between creating and sizing it; remove it with SharedMemory.unlink_name({name!r}))",
                "EAGAIN",
            )
        polls += 1
        if polls > 16:
            time.sleep(0.001)


def parse_value_handle(where: str, handle) -> tuple[str, int, str]:
    """(type, byte offset, segment handle) of ``sa1:<type>@<offset>:<segment>``."""
    if not isinstance(handle, str):
        raise TypeError(f"{where}: handle must be a str like 'sa1:u64@0:shm:/name'; got {handle!r}")
    m = _VALUE.match(handle)
    if not m:
        raise ValueError(f"{where}: handle must be a str like 'sa1:u64@0:shm:/name'; got {handle!r}")
    return m.group(1), int(m.group(2)), "sa1:" + m.group(3)


class Placed:
    """What every object placed at ``byte_offset`` of ``memory`` with a handle type ``TYPE`` shares: opening one
    from a handle, writing its handle, and refusing a closed segment (the Channel and the SharedMap)."""

    TYPE = ""

    @classmethod
    def from_handle(cls, handle: str):
        """The object a handle names (``x.handle()`` in Bun, Deno or Python)."""
        where = f"{cls.__name__}.from_handle"
        t, offset, seg = parse_value_handle(where, handle)
        if t != cls.TYPE:
            raise TypeError(f"{where}: handle must name a {cls.__name__} (type {cls.TYPE!r}); this one is {t!r}")
        return cls(SharedMemory.from_handle(seg), offset)

    def handle(self) -> str:
        """``"sa1:<type>@<offset>:shm:/name?id=..."``: what ``fromHandle`` opens in Bun or Deno."""
        return f"sa1:{self.TYPE}@{self.byte_offset}:{self.memory.handle()[len('sa1:'):]}"

    def _check_open(self, where: str) -> None:
        if self.memory.closed:
            raise SharedMemoryClosedError(f"{where}: the SharedMemory {self.memory.name!r} is closed")
