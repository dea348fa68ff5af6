"""``AtomicI128`` and ``AtomicU128``: 128-bit integers (Python ints), lock-free, over the library's sa_i128_* and
sa_u128_* exports; the layout of the TypeScript classes (16 bytes, 16-byte aligned, two's complement,
little-endian), so Python, Bun and Deno processes operate on the same value."""

from __future__ import annotations

import ctypes

from ._memory import SharedMemory
from ._wide import WideAtomic, add_rmw_methods, buffer_type, engine, ops_of, require_lock_free


class AtomicInteger128(WideAtomic):
    """The base of ``AtomicI128`` and ``AtomicU128``: ``Cls(segment, byte_offset=0)``, ``byte_offset`` a multiple
    of 16. Every operation of the 64-bit classes (``fetch_add``, ``max_fetch``, ...) on ints over the full 128-bit
    range, wrapping; ``update(fn)``; every method's last argument ``order="seq_cst"``."""

    BYTES = 16
    SIGNED = False
    MIN = MAX = 0
    RANGE = ""
    _width = 16
    _array = buffer_type(16)

    def __init__(self, memory: SharedMemory, byte_offset: int = 0):
        require_lock_free(f"{type(self).__name__}()", 16)
        super().__init__(memory, byte_offset)
        self._engine = engine(self.TYPE)

    def _put(self, where: str, param: str, value) -> ctypes.Array:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{where}: {param} must be an int in [{self.MIN}, {self.MAX}] ({self.RANGE}); got {value!r}")
        if not self.MIN <= value <= self.MAX:
            raise ValueError(f"{where}: {param} must be an int in [{self.MIN}, {self.MAX}] ({self.RANGE}); got {value}")
        return self._array.from_buffer_copy(value.to_bytes(16, "little", signed=self.SIGNED))

    def _get(self, raw: bytes) -> int:
        return int.from_bytes(raw[:16], "little", signed=self.SIGNED)


class AtomicI128(AtomicInteger128):
    """An atomic 128-bit signed integer, values in [-2^127, 2^127-1]: the TypeScript ``AtomicI128``."""

    TYPE, SIGNED = "i128", True
    MIN, MAX, RANGE = -(1 << 127), (1 << 127) - 1, "i128: -2^127 to 2^127-1"


class AtomicU128(AtomicInteger128):
    """An atomic 128-bit unsigned integer, values in [0, 2^128-1]: the TypeScript ``AtomicU128``."""

    TYPE = "u128"
    MIN, MAX, RANGE = 0, (1 << 128) - 1, "u128: 0 to 2^128-1"


add_rmw_methods(AtomicI128, ops_of("i128"))
add_rmw_methods(AtomicU128, ops_of("u128"))
