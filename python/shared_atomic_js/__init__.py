"""shared_atomic_js: the Python side of shared-atomic (the Bun/Deno library).

The same objects on the same memory as the TypeScript API, with Python-style
names, over the same native library through ctypes (no compiler needed)::

    from shared_atomic_js import from_handle
    counter = from_handle(handle)   # "sa1:u64@0:shm:/jobs?id=..." from counter.handle() in Bun or Deno
    counter.fetch_add(1)            # (u128: AtomicU128 with Python ints; str8: AtomicString; bytes16: AtomicBytes)
    with from_handle(mutex_handle): # a Mutex: a context manager
        ...

Named ``shared_atomic_js`` (not ``shared_atomic``): ``shared_atomic`` on PyPI
is another, older package (whose C functions this library also exports, see
docs/c-abi.md); the two must be importable side by side.

Where the library comes from: see ``_library`` (SHARED_ATOMIC_LIB, the npm
platform package, a local build). Documentation: docs/python.md.
"""

from __future__ import annotations

from ._atomics import (
    CLASSES,
    ORDERS,
    Atomic,
    AtomicBool,
    AtomicF32,
    AtomicF64,
    AtomicI8,
    AtomicI16,
    AtomicI32,
    AtomicI64,
    AtomicU8,
    AtomicU16,
    AtomicU32,
    AtomicU64,
)
from ._bytes import AtomicBytes, AtomicString
from ._channel import Channel, ChannelClosedError
from ._int128 import AtomicI128, AtomicU128
from ._library import find as library_path
from ._locks import (
    Barrier,
    LockNotHeldError,
    Mutex,
    Once,
    OwnerDiedError,
    OwnerDiedWarning,
    RwLock,
    RwLockOwnerDiedError,
    Semaphore,
    WaitGroup,
)
from ._map import MapFullError, SharedMap
from ._memory import (
    SharedMemory,
    SharedMemoryClosedError,
    SharedMemoryError,
    SharedMemoryExistsError,
    SharedMemoryNotFoundError,
    parse_value_handle,
)
from ._wide import AtomicUnavailableError

__all__ = [
    "Atomic", "AtomicBool", "Barrier", "Channel", "ChannelClosedError", "MapFullError", "RwLock", "RwLockOwnerDiedError",
    "SharedMap", "AtomicF32", "AtomicF64", "AtomicI8", "AtomicI16", "AtomicI32", "AtomicI64",
    "AtomicU8", "AtomicU16", "AtomicU32", "AtomicU64", "LockNotHeldError", "Mutex", "ORDERS", "OwnerDiedError", "OwnerDiedWarning",
    "Once", "Semaphore", "SharedMemory", "SharedMemoryClosedError", "SharedMemoryError", "SharedMemoryExistsError",
    "SharedMemoryNotFoundError", "WaitGroup", "from_handle", "library_path", "register_type",
    "AtomicI128", "AtomicU128", "AtomicBytes", "AtomicString", "AtomicUnavailableError",
]

#: The class for each handle type ("u64", "mutex", ...): what from_handle builds.
HANDLE_TYPES: dict[str, type] = {cls.TYPE: cls for cls in CLASSES}
HANDLE_TYPES.update({c.TYPE: c for c in (Mutex, Semaphore, Once, WaitGroup, Barrier, RwLock)})
HANDLE_TYPES.update({c.TYPE: c for c in (AtomicI128, AtomicU128)})
# width 16 even where this library has no 16-byte exports: the class then says why (AtomicUnavailableError)
HANDLE_TYPES.update({f"{c.PREFIX}{w}": c for c in (AtomicBytes, AtomicString) for w in {*c.WIDTHS, 16}})


def register_type(cls: type) -> None:
    """Makes ``from_handle`` build ``cls`` (a class with ``TYPE`` and a ``from_handle`` classmethod) for handles
    of type ``cls.TYPE``."""
    HANDLE_TYPES[cls.TYPE] = cls


register_type(Channel)
register_type(SharedMap)


def from_handle(handle: str):
    """The object a handle names, of the class its type says: ``AtomicU64``, ``Mutex``, ...

    ``handle`` is what ``.handle()`` returns in Bun, Deno or Python:
    ``"sa1:<type>@<offset>:shm:/<name>?id=<device>.<inode>"``. The segment is
    opened (owner-only, refusing one re-created since the handle was made) and
    the offset checked."""
    t, _, _ = parse_value_handle("from_handle", handle)
    cls = HANDLE_TYPES.get(t)
    if cls is None:
        known = ", ".join(sorted(HANDLE_TYPES))
        raise ValueError(f"from_handle: handle type {t!r} is not one this module opens ({known}); got {handle!r}")
    return cls.from_handle(handle)
