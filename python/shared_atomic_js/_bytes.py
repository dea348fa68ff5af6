"""``AtomicBytes`` and ``AtomicString``: fixed-width byte strings (1, 2, 4, 8 or 16 bytes), lock-free, over the
library's sa_bytes<w>_* exports; the layout of the TypeScript classes (the bytes in memory order; a string is its
UTF-8 then zero bytes up to the width), so Python, Bun and Deno processes operate on the same value."""

from __future__ import annotations

import ctypes
import re

from ._memory import SharedMemory, SharedMemoryClosedError, parse_value_handle
from ._wide import WideAtomic, add_rmw_methods, buffer_type, engine, manifest, ops_of, require_lock_free


def _widths() -> tuple:
    """The byte widths of this build, smallest first (from the library's wide exports)."""
    return tuple(sorted(int(m.group(1)) for t in manifest() for m in [re.fullmatch(r"bytes(\d+)", t)] if m))


class ByteString(WideAtomic):
    """The base of ``AtomicBytes`` and ``AtomicString``: ``Cls(segment, byte_offset, width)``, ``byte_offset`` a
    multiple of ``width``; ``TYPE`` is the prefix and the width ("bytes8", "str16")."""

    PREFIX = ""
    #: The widths a value can have, in bytes (16 only where 16-byte atomics are lock-free).
    WIDTHS: tuple = _widths()

    def __init__(self, memory: SharedMemory, byte_offset: int, width: int):
        where = f"{type(self).__name__}()"
        if isinstance(width, bool) or not isinstance(width, int):
            raise TypeError(f"{where}: width must be one of {self._listed()} (bytes); got {width!r}")
        if width == 16:
            require_lock_free(where, 16)
        if width not in self.WIDTHS:
            raise ValueError(f"{where}: width must be one of {self._listed()} (bytes); got {width}")
        self.width = self._width = self.BYTES = width
        self._array = buffer_type(width)
        self.TYPE = f"{self.PREFIX}{width}"
        super().__init__(memory, byte_offset)
        self._engine = engine(f"bytes{width}")

    @classmethod
    def _listed(cls) -> str:
        return ", ".join(str(w) for w in cls.WIDTHS)

    @classmethod
    def from_handle(cls, handle: str):
        """The value a handle names (``x.handle()`` in Bun, Deno or Python), of its width; TypeError if it holds
        another type."""
        where = f"{cls.__name__}.from_handle"
        t, offset, seg = parse_value_handle(where, handle)
        m = re.fullmatch(rf"{cls.PREFIX}(\d+)", t)
        if m is None:
            raise TypeError(
                f"{where}: handle must name a value of type {cls.PREFIX!r}1 ... {cls.PREFIX!r}16; this one is {t!r}"
            )
        return cls(SharedMemory.from_handle(seg), offset, int(m.group(1)))


class AtomicBytes(ByteString):
    """A fixed-width byte string of 1, 2, 4, 8 or 16 bytes, atomically: the TypeScript ``AtomicBytes``. Values are
    bytes-like objects of exactly ``width`` bytes (``bytes``, ``bytearray``, ``memoryview``); results are ``bytes``.
    ``load``, ``store``, ``exchange``, ``compare_exchange``, ``compare_and_set``, ``update``, the bitwise
    ``fetch_and``/``and_fetch``, ``or``, ``xor``, ``nand`` (byte by byte), and ``load_into(target)``."""

    PREFIX = "bytes"

    def _put(self, where: str, param: str, value) -> ctypes.Array:
        allowed = f"a bytes-like object of {self.width} bytes (the width of this AtomicBytes)"
        if isinstance(value, str):
            raise TypeError(f"{where}: {param} must be {allowed}; got a str {value!r} (encode it, or use AtomicString)")
        try:
            data = memoryview(value).tobytes()
        except TypeError:
            raise TypeError(f"{where}: {param} must be {allowed}; got {value!r}") from None
        if len(data) != self.width:
            raise ValueError(f"{where}: {param} must be {allowed}; got {len(data)} bytes")
        return self._array.from_buffer_copy(data)

    def _get(self, raw: bytes) -> bytes:
        return raw[: self.width]

    def load_into(self, target, order: str = "seq_cst"):
        """Reads the value into ``target`` (a writable bytes-like object of exactly ``width`` bytes: a
        ``bytearray``, a writable ``memoryview``) and returns it, the bytes landing there directly."""
        if type(target) is bytearray and len(target) == self.width:
            self._call("AtomicBytes.load_into", "load", order, self._array.from_buffer(target))  # the common case
            return target
        where = "AtomicBytes.load_into"
        allowed = f"a writable bytes-like object of {self.width} bytes (the width of this AtomicBytes)"
        try:
            view = memoryview(target)
        except TypeError:
            raise TypeError(f"{where}: target must be {allowed}; got {target!r}") from None
        if view.readonly or not view.c_contiguous:
            raise TypeError(f"{where}: target must be {allowed}; got a read-only or non-contiguous {type(target).__name__}")
        if view.nbytes != self.width:
            raise ValueError(f"{where}: target must be {allowed}; got {view.nbytes} bytes")
        self._call(where, "load", order, self._array.from_buffer(view.cast("B")))
        return target

    def _show(self, value: bytes) -> str:
        return value.hex(" ")


class AtomicString(ByteString):
    """Short UTF-8 text, atomically: up to ``width`` bytes (1, 2, 4, 8 or 16) of UTF-8, then zero bytes up to the
    width; the TypeScript ``AtomicString``. A str too long for the width is refused with a ValueError naming both
    lengths (never cut), and so are strings with a NUL (U+0000) or a lone surrogate; zeroed memory reads as "".
    Bytes written by something else that are not UTF-8 load as U+FFFD. ``load``, ``store``, ``exchange``,
    ``compare_exchange``, ``compare_and_set`` (exact string equality), ``update``, ``as_bytes()``."""

    PREFIX = "str"

    def _put(self, where: str, param: str, value) -> ctypes.Array:
        allowed = f"a str of at most {self.width} bytes of UTF-8 (the width of this AtomicString)"
        if not isinstance(value, str):
            raise TypeError(f"{where}: {param} must be {allowed}; got {value!r}")
        if "\0" in value:
            raise ValueError(
                f"{where}: {param} must not contain NUL (U+0000): zero bytes are an AtomicString's padding; got {value!r}"
            )
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                f"{where}: {param} must be well-formed text (a lone surrogate has no UTF-8 encoding); got {value!r}"
            ) from None
        if len(data) > self.width:
            raise ValueError(f"{where}: {param} must be {allowed}; got {len(data)} bytes: {value!r}")
        return self._array.from_buffer_copy(data.ljust(self.width, b"\0"))

    def _get(self, raw: bytes) -> str:
        return raw[: self.width].rstrip(b"\0").decode("utf-8", "replace")

    def as_bytes(self) -> AtomicBytes:
        """An ``AtomicBytes`` over the same memory: the raw bytes (UTF-8 and zero padding)."""
        if self.memory.closed:
            raise SharedMemoryClosedError(f"AtomicString.as_bytes: the SharedMemory {self.memory.name!r} is closed")
        return AtomicBytes(self.memory, self.byte_offset, self.width)


add_rmw_methods(AtomicBytes, ops_of("bytes"))
