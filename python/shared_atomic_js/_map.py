"""``SharedMap``: the concurrent hash map of src/map/shared_map.ts over the
library's ``sa_map_*`` exports (zig/map.zig holds the algorithm and the
layout), so Python, Bun, Deno and C read and write one map in one segment:
string or byte keys and values, TTLs, 64-bit counters."""

from __future__ import annotations

import ctypes
import struct
import threading
import time

from ._channel import utf8
from ._library import fn
from ._locks import holds
from ._memory import Placed, SharedMemory

ABSENT, FULL, NOT_COUNTER, CORRUPT, TOO_LONG, MISMATCH, TOO_SMALL = -1, -2, -3, -4, -5, -6, -7
MAX_CAPACITY, MAX_KEY, MAX_VALUE, MAX_TTL = 1 << 26, 4096, 1 << 20, 1 << 40
DEFAULT_KEY_SIZE, DEFAULT_VALUE_SIZE = 64, 256
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1
_P, _U32, _I32, _I64, _F64, _INT = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int32, ctypes.c_int64, ctypes.c_double, ctypes.c_int
_B = ctypes.c_char_p


class MapFullError(Exception):
    """A new key does not fit: the map holds ``capacity`` entries (after expired ones were removed). Nothing changed."""

    def __init__(self, where: str, capacity: int):
        super().__init__(f"{where}: the map is full (capacity {capacity} entries); delete entries, give them a "
                         "ttl_ms, or make a larger map")
        self.capacity = capacity


class _Native:
    def __init__(self):
        self.bytes = fn("sa_map_bytes", ctypes.c_uint64, _U32, _U32, _U32)
        self.init = fn("sa_map_init", _INT, _P, _U32, _U32, _U32)
        # every call after init takes the configuration the map was opened with (capacity, key_size, value_size)
        self.get = fn("sa_map_get", _INT, _P, _U32, _U32, _U32, _B, _U32, _P)
        self.set = fn("sa_map_set", _INT, _P, _U32, _U32, _U32, _B, _U32, _B, _U32, _F64, _U32)
        self.cas = fn("sa_map_cas", _INT, _P, _U32, _U32, _U32, _B, _U32, _B, _U32, _B, _I32)
        self.delete = fn("sa_map_delete", _INT, _P, _U32, _U32, _U32, _B, _U32)
        self.add = fn("sa_map_add", _INT, _P, _U32, _U32, _U32, _B, _U32, _I64, _F64, ctypes.POINTER(_I64))
        self.clear = fn("sa_map_clear", _INT, _P, _U32, _U32, _U32)
        self.size = fn("sa_map_size", _INT, _P, _U32, _U32, _U32)
        self.snapshot = fn("sa_map_snapshot", _INT, _P, _U32, _U32, _U32, _P, ctypes.c_uint64, _U32)
        self.load = fn("sa_u32_load", _U32, _P)


_native: _Native | None = None


def native() -> _Native:
    global _native
    if _native is None:
        _native = _Native()
    return _native


def _config(where: str, param: str, v, hi: int):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{where}: {param} must be an int in [1, {hi}]; got {v!r}")
    if not 1 <= v <= hi:
        raise ValueError(f"{where}: {param} must be an int in [1, {hi}]; got {v}")
    return v


def _bytes(where: str, param: str, v, limit: int, what: str) -> bytes:
    """A key or value's bytes (a str as UTF-8), at most ``limit`` long."""
    if isinstance(v, str):
        b = utf8(v)
        unit = " of UTF-8"
    elif isinstance(v, bytes):
        b, unit = v, ""
    elif isinstance(v, (bytearray, memoryview)):
        b, unit = bytes(v), ""
    else:
        raise TypeError(f"{where}: {param} must be a str or bytes-like; got {type(v).__name__}")
    if len(b) > limit:
        raise ValueError(f"{where}: {param} must be at most {limit} bytes{unit} (the map's {what}); got {len(b)} bytes")
    return b


def _ttl(where: str, ttl_ms) -> float:
    if ttl_ms is None:
        return 0.0
    if isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int):
        raise TypeError(f"{where}: ttl_ms must be None or an int in [1, {MAX_TTL}] (milliseconds); got {ttl_ms!r}")
    if not 1 <= ttl_ms <= MAX_TTL:
        raise ValueError(f"{where}: ttl_ms must be None or an int in [1, {MAX_TTL}] (milliseconds); got {ttl_ms}")
    return float(ttl_ms)


def _wrap64(x: int) -> int:
    x &= (1 << 64) - 1
    return x - (1 << 64) if x >= 1 << 63 else x


class SharedMap(Placed):
    """A concurrent hash map in a SharedMemory, shared with Bun, Deno and C (``SharedMap`` in TypeScript).

    ``SharedMap(seg, offset, capacity=..., key_size=64, value_size=256)`` makes one in zeroed memory (or adopts
    the same one); ``SharedMap(seg, offset)`` and ``SharedMap.from_handle(h)`` open one made elsewhere. Keys and
    values are str (UTF-8) or bytes-like; ``get`` returns bytes. Reads take no lock; writes take one robust lock
    that a killed process never leaves held."""

    TYPE, TAG, ALIGN = "map", 0x534D4150, 8

    def __init__(self, memory: SharedMemory, byte_offset: int = 0, capacity: int | None = None,
                 key_size: int | None = None, value_size: int | None = None):
        where = "SharedMap()"
        if not isinstance(memory, SharedMemory):
            raise TypeError(f"{where}: memory must be a SharedMemory; got {memory!r}")
        given = (_config(where, "capacity", capacity, MAX_CAPACITY), _config(where, "key_size", key_size, MAX_KEY),
                 _config(where, "value_size", value_size, MAX_VALUE))
        n = native()
        self.memory, self.byte_offset = memory, byte_offset
        base = memory.address(where, byte_offset, 128, self.ALIGN)
        tag = self._settled_tag(where, base)
        if tag == 0:
            if capacity is None:
                raise TypeError(f"{where}: capacity must be given to make a SharedMap (this memory holds none yet)")
            cfg = (capacity, key_size or DEFAULT_KEY_SIZE, value_size or DEFAULT_VALUE_SIZE)
            size = int(n.bytes(*cfg))
            base = memory.address(where, byte_offset, size, self.ALIGN)
            r = n.init(base, *cfg)
            if r < 0:
                tag = self._settled_tag(where, base)
                if tag != self.TAG:
                    raise RuntimeError(f"{where}: the library refused to make a map here ({r})")
        elif tag != self.TAG:
            raise TypeError(f"{where}: memory must be free (zeroed) memory or a SharedMap; this memory holds "
                            f"{holds(tag)}")
        have = tuple(int(n.load(base + off)) for off in (4, 8, 12))
        for name, g, h in zip(("capacity", "key_size", "value_size"), given, have):
            if g is not None and g != h:
                raise ValueError(f"{where}: {name} must be what this SharedMap already has, {h} (or left out, to "
                                 f"adopt it); got {g}")
        self.capacity, self.key_size, self.value_size = have
        self._cfg = have
        size = int(n.bytes(*have))
        if size == 0:
            raise ValueError(f"{where}: this memory holds a SharedMap with a bad configuration {have}")
        self._map = memory.address(where, byte_offset, size, self.ALIGN)
        if n.get(self._map, *self._cfg, b"", 0, None) == CORRUPT:
            raise RuntimeError(f"{where}: the memory does not hold a SharedMap (its check word is wrong)")
        self._n = n
        self._local = threading.local()

    @staticmethod
    def _settled_tag(where: str, base: int) -> int:
        deadline = time.monotonic() + 5
        while True:
            t = int(native().load(base))
            if t != 1:
                return t
            if time.monotonic() > deadline:
                raise RuntimeError(f"{where}: the memory stays half-initialised (did its creator die?)")
            time.sleep(0.001)

    @staticmethod
    def byte_length(capacity: int, key_size: int = DEFAULT_KEY_SIZE, value_size: int = DEFAULT_VALUE_SIZE) -> int:
        """The bytes a map of this configuration needs (place it at a multiple of 8)."""
        where = "SharedMap.byte_length"
        return int(native().bytes(_config(where, "capacity", capacity, MAX_CAPACITY),
                                  _config(where, "key_size", key_size, MAX_KEY),
                                  _config(where, "value_size", value_size, MAX_VALUE)))

    # ---- internals

    def _p(self, where: str) -> int:
        self._check_open(where)
        return self._map

    def _key(self, where: str, key) -> bytes:
        return _bytes(where, "key", key, self.key_size, "key_size")

    def _value(self, where: str, param: str, v) -> bytes:
        return _bytes(where, param, v, self.value_size, "value_size")

    def _out(self):
        buf = getattr(self._local, "out", None)
        if buf is None:
            buf = self._local.out = ctypes.create_string_buffer(self.value_size)
        return buf

    def _check(self, where: str, r: int) -> int:
        if r == CORRUPT:
            raise RuntimeError(f"{where}: the memory does not hold a SharedMap any more (it was overwritten)")
        return r

    # ---- reading

    def get(self, key) -> bytes | None:
        """A copy of the value of ``key``, or None if absent (or expired)."""
        return self._get("SharedMap.get", key)

    def _get(self, where: str, key) -> bytes | None:
        k = self._key(where, key)
        out = self._out()
        r = self._check(where, self._n.get(self._p(where), *self._cfg, k, len(k), out))
        return None if r == ABSENT else ctypes.string_at(out, r)

    def get_text(self, key) -> str | None:
        """The value of ``key`` decoded as UTF-8, or None if absent."""
        v = self._get("SharedMap.get_text", key)
        return None if v is None else v.decode("utf-8", "replace")

    def has(self, key) -> bool:
        """Whether ``key`` is present (and not expired)."""
        where = "SharedMap.has"
        k = self._key(where, key)
        return self._check(where, self._n.get(self._p(where), *self._cfg, k, len(k), None)) >= 0

    __contains__ = has

    def __getitem__(self, key) -> bytes:
        v = self.get(key)
        if v is None:
            raise KeyError(key)
        return v

    def __len__(self) -> int:
        """How many entries are visible now."""
        where = "SharedMap.__len__"
        return self._check(where, self._n.size(self._p(where), *self._cfg))

    def _snapshot(self, where: str, with_values: bool) -> list[tuple[bytes, bytes]]:
        per = 8 + self.key_size + (self.value_size if with_values else 0)
        buf = ctypes.create_string_buffer(self.capacity * per)
        r = self._n.snapshot(self._p(where), *self._cfg, buf, len(buf), 1 if with_values else 0)
        if r == TOO_SMALL:
            raise RuntimeError(f"{where}: more entries than its capacity (corrupt memory?)")
        self._check(where, r)
        raw, at, out = buf.raw, 0, []
        for _ in range(r):
            kl, vl = struct.unpack_from("<II", raw, at)
            out.append((raw[at + 8 : at + 8 + kl], raw[at + 8 + kl : at + 8 + kl + vl]))
            at += 8 + kl + vl
        return out

    def keys(self, binary: bool = False) -> list:
        """The keys (str, decoded as UTF-8; bytes with ``binary=True``) from a snapshot: every key present for the
        whole call appears exactly once."""
        return [k if binary else k.decode("utf-8", "replace") for k, _ in self._snapshot("SharedMap.keys", False)]

    def items(self, binary: bool = False) -> list:
        """(key, value) pairs from a snapshot (see ``keys``); every value whole, as bytes."""
        return [(k if binary else k.decode("utf-8", "replace"), v) for k, v in self._snapshot("SharedMap.items", True)]

    def __iter__(self):
        """The keys (as a dict iterates), from a snapshot."""
        return iter(self.keys())

    # ---- writing

    def _put(self, where: str, key, value, ttl_ms, only_if_absent: int) -> int:
        k = self._key(where, key)
        v = self._value(where, "value", value)
        ttl = _ttl(where, ttl_ms)
        r = self._n.set(self._p(where), *self._cfg, k, len(k), v, len(v), ttl, only_if_absent)
        if r == FULL:
            raise MapFullError(where, self.capacity)
        return self._check(where, r)

    def set(self, key, value, ttl_ms: int | None = None) -> None:
        """Stores ``value`` under ``key`` (replacing its value and expiry; ``ttl_ms``: expire that many
        milliseconds from now). MapFullError, changing nothing, if the key is new and the map is full."""
        self._put("SharedMap.set", key, value, ttl_ms, 0)

    def __setitem__(self, key, value) -> None:
        self._put("SharedMap.__setitem__", key, value, None, 0)

    def set_if_absent(self, key, value, ttl_ms: int | None = None) -> bool:
        """Stores ``value`` under ``key`` only if absent; returns whether it did. MapFullError if full."""
        return self._put("SharedMap.set_if_absent", key, value, ttl_ms, 1) == 1

    def compare_and_set(self, key, expected, desired) -> bool:
        """If ``key`` holds exactly ``expected``, stores ``desired`` (keeping its expiry); returns whether it did."""
        where = "SharedMap.compare_and_set"
        k = self._key(where, key)
        e = self._value(where, "expected", expected)
        d = self._value(where, "desired", desired)
        return self._check(where, self._n.cas(self._p(where), *self._cfg, k, len(k), e, len(e), d, len(d))) == 1

    def delete(self, key) -> bool:
        """Deletes ``key``; returns whether it was present."""
        where = "SharedMap.delete"
        k = self._key(where, key)
        return self._check(where, self._n.delete(self._p(where), *self._cfg, k, len(k))) == 1

    def __delitem__(self, key) -> None:
        if not self.delete(key):
            raise KeyError(key)

    def clear(self) -> None:
        """Deletes every entry."""
        self._check("SharedMap.clear", self._n.clear(self._p("SharedMap.clear"), *self._cfg))

    def _add(self, where: str, key, delta, ttl_ms) -> int:
        k = self._key(where, key)
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise TypeError(f"{where}: delta must be an int in [-(2^63), 2^63 - 1]; got {delta!r}")
        if not I64_MIN <= delta <= I64_MAX:
            raise ValueError(f"{where}: delta must be an int in [-(2^63), 2^63 - 1]; got {delta}")
        ttl = _ttl(where, ttl_ms)
        old = ctypes.c_int64()
        r = self._n.add(self._p(where), *self._cfg, k, len(k), delta, ttl, ctypes.byref(old))
        if r == FULL:
            raise MapFullError(where, self.capacity)
        if r == NOT_COUNTER:
            n = self._n.get(self._map, *self._cfg, k, len(k), None)
            small = f" (this map's value_size is {self.value_size})" if self.value_size < 8 else ""
            raise TypeError(f"{where}: the value of key {key!r} is {n} bytes, not an 8-byte little-endian counter{small}")
        self._check(where, r)
        return old.value

    def fetch_add(self, key, delta: int, ttl_ms: int | None = None) -> int:
        """Adds ``delta`` to the little-endian signed 64-bit value of ``key`` (wrapping) and returns the value
        before; an absent key counts as 0 and is created (with ``ttl_ms``, if given: a fixed window). TypeError if
        its value is not 8 bytes; MapFullError if the key is new and the map is full."""
        return self._add("SharedMap.fetch_add", key, delta, ttl_ms)

    def add_fetch(self, key, delta: int, ttl_ms: int | None = None) -> int:
        """``fetch_add``, returning the value after the addition."""
        return _wrap64(self._add("SharedMap.add_fetch", key, delta, ttl_ms) + delta)

    def __repr__(self) -> str:
        return (f"SharedMap(capacity={self.capacity}, key_size={self.key_size}, value_size={self.value_size} @ "
                f"{self.byte_offset} in {self.memory.name!r})")
