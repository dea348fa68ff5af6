"""What the wide atomics (``AtomicI128``/``AtomicU128``, ``AtomicBytes``,
``AtomicString``) share: the library's wide exports, read from its own list
(``sa_wide_manifest()``), the memory orders each operation allows, and the
base class whose methods encode a value into a small buffer, call the export
by pointer and decode the result (no FFI has a 128-bit type: every wide value
crosses the ABI by pointer, see zig/wide.zig).

The same layout and semantics as the TypeScript classes (src/wide/)."""

from __future__ import annotations

import ctypes
import functools

from ._atomics import ORDERS, Atomic
from ._library import fn

#: The orders each shape of operation allows (as in TypeScript: no ``consume``, which Python cannot honour).
ALLOWED_ORDERS = {
    "load": ("relaxed", "acquire", "seq_cst"),
    "store": ("relaxed", "release", "seq_cst"),
    "rmw": ("relaxed", "acquire", "release", "acq_rel", "seq_cst"),
}
ALLOWED_ORDERS["cmpxchg"] = ALLOWED_ORDERS["rmw"]


class AtomicUnavailableError(Exception):
    """A 16-byte atomic where the CPU or the library build has no lock-free 16-byte compare-exchange (x86_64
    without ``cmpxchg16b``, 32-bit CPUs). The library never emulates one with a lock: a lock private to one
    process is silently wrong across processes."""


def shape_of(op: str) -> str:
    """The C signature's shape of a wide operation (zig/wide.zig): load(p, out), store(p, value),
    compare_exchange(p, expected, desired) -> bool, or a read-modify-write rmw(p, io)."""
    if op in ("load", "store"):
        return op
    return "cmpxchg" if op.startswith("compare_exchange") else "rmw"


@functools.lru_cache(maxsize=None)
def manifest() -> dict:
    """The wide operations of this build by type (``{"u128": ["load", "store", ...], "bytes8": [...]}``), in the
    library's order, from ``sa_wide_manifest()``: neither the ``_explicit`` forms nor the weak compare-exchange
    (C only, as in TypeScript)."""
    names = fn("sa_wide_manifest", ctypes.c_char_p)().decode().split(",")
    out: dict = {}
    for name in names:
        if not name.startswith("sa_") or name.endswith("_explicit") or "_weak" in name:
            continue
        t, _, op = name[len("sa_"):].partition("_")
        out.setdefault(t, []).append(op)
    return out


@functools.lru_cache(maxsize=None)
def lock_free() -> bool:
    """Whether this library has the 16-byte exports (``sa_wide_lock_free()``)."""
    return fn("sa_wide_lock_free", ctypes.c_int)() == 1


def require_lock_free(where: str, nbytes: int) -> None:
    """Raises AtomicUnavailableError for a 16-byte value where 16-byte atomics are not lock-free."""
    if nbytes == 16 and not lock_free():
        raise AtomicUnavailableError(
            f"{where}: 16-byte atomics are not lock-free on this CPU or library build (x86_64 needs cmpxchg16b: "
            "a library built for x86-64-v2 or newer; aarch64 always has them); shared-atomic never emulates them "
            "with a lock"
        )


def ops_of(prefix: str) -> list:
    """The operations of the first type of the manifest whose name starts with ``prefix`` ("i128", "bytes")."""
    for t, ops in manifest().items():
        if t.startswith(prefix):
            return list(ops)
    return []


@functools.lru_cache(maxsize=None)
def buffer_type(width: int) -> type:
    """The ctypes array a value of ``width`` bytes crosses the ABI in (the exports take values by pointer)."""
    return ctypes.c_char * width


@functools.lru_cache(maxsize=None)
def engine(type_name: str) -> dict:
    """The exports of one wide type by operation: ``{"fetch_add": (seq_cst form, _explicit form, shape), ...}``."""
    p = ctypes.c_void_p
    out = {}
    for op in manifest()[type_name]:
        shape = shape_of(op)
        args = (p, p, p) if shape == "cmpxchg" else (p, p)
        restype = ctypes.c_bool if shape == "cmpxchg" else None
        name = f"sa_{type_name}_{op}"
        out[op] = (fn(name, restype, *args), fn(name + "_explicit", restype, *args, ctypes.c_int), shape)
    return out


def order_code(where: str, order, shape: str):
    """The C11 code of ``order`` (None for seq_cst: the plain export), or an error naming what ``where`` allows."""
    if order == "seq_cst":
        return None
    allowed = ALLOWED_ORDERS[shape]
    if isinstance(order, str) and order in allowed:
        return ORDERS[order]
    listed = ", ".join(allowed)
    if not isinstance(order, str):
        raise TypeError(f"{where}: order must be one of {listed}; got {order!r}")
    why = f" ({order} is not allowed for this operation)" if order in ORDERS else ""
    raise ValueError(f"{where}: order must be one of {listed}{why}; got {order!r}")


class WideAtomic(Atomic):
    """The base of the wide atomics: their methods over the exports of ``self._engine`` (one wide type's), with
    values encoded by ``_put`` (which checks them: nothing reaches shared memory unless every argument is
    allowed) and decoded by ``_get``."""

    _engine: dict = {}
    _width = 0
    _array: type = ctypes.c_char * 0
    _name = "WideAtomic"

    def _put(self, where: str, param: str, value) -> ctypes.Array:
        """A buffer holding ``value``'s bytes; TypeError/ValueError naming ``where`` and ``param`` if not allowed."""
        raise NotImplementedError

    def _get(self, raw: bytes):
        """The value of the bytes a call wrote back."""
        raise NotImplementedError

    def _call(self, where: str, op: str, order, *buffers):
        seq, explicit, shape = self._engine[op]
        code = None if order == "seq_cst" else order_code(where, order, shape)
        ptr = self._p(where)
        return seq(ptr, *buffers) if code is None else explicit(ptr, *buffers, code)

    def load(self, order: str = "seq_cst"):
        """The value (``order``: relaxed, acquire or seq_cst)."""
        out = self._array()
        self._call(f"{self._name}.load", "load", order, out)
        return self._get(out.raw)

    def store(self, value, order: str = "seq_cst") -> None:
        """Stores ``value`` (``order``: relaxed, release or seq_cst)."""
        where = f"{self._name}.store"
        self._call(where, "store", order, self._put(where, "value", value))

    def exchange(self, value, order: str = "seq_cst"):
        """Stores ``value``; returns the previous value."""
        where = f"{self._name}.exchange"
        io = self._put(where, "value", value)
        self._call(where, "exchange", order, io)
        return self._get(io.raw)

    def compare_exchange(self, expected, desired, order: str = "seq_cst"):
        """Stores ``desired`` if the value is ``expected``; returns the previous value either way (it won iff that
        equals ``expected``)."""
        where = f"{self._name}.compare_exchange"
        e, d = self._put(where, "expected", expected), self._put(where, "desired", desired)
        self._call(where, "compare_exchange", order, e, d)
        return self._get(e.raw)  # on failure the library wrote the current value there

    def compare_and_set(self, expected, desired, order: str = "seq_cst") -> bool:
        """Stores ``desired`` if the value is ``expected``; returns whether it did."""
        where = f"{self._name}.compare_and_set"
        e, d = self._put(where, "expected", expected), self._put(where, "desired", desired)
        return bool(self._call(where, "compare_exchange", order, e, d))

    def update(self, fn, order: str = "seq_cst"):
        """Stores ``fn(current)`` atomically (a compare-exchange loop: ``fn`` may run more than once, and must
        not have side effects); returns the value stored."""
        where = f"{self._name}.update"
        if not callable(fn):
            raise TypeError(f"{where}: fn must be a function (current) -> next; got {fn!r}")
        order_code(where, order, "cmpxchg")
        out = self._array()
        self._call(where, "load", "seq_cst", out)
        raw = out.raw  # compare with the bytes read: fn may change what it is given
        cur = self._get(raw)
        while True:
            nxt = fn(cur)
            d = self._put(where, "fn's result", nxt)
            e = self._array.from_buffer_copy(raw)
            if self._call(where, "compare_exchange", order, e, d):
                return nxt
            raw = e.raw
            cur = self._get(raw)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls._name = cls.__name__  # for messages: the class's name, not a property call per operation

    def _show(self, value) -> str:
        return repr(value)

    def __repr__(self) -> str:
        shown = "closed" if self.memory.closed else self._show(self.load())
        return f"{self._name}({shown} @ {self.byte_offset} in {self.memory.name!r})"


def rmw_method(op: str):
    """The method of a read-modify-write ``op`` (``fetch_add``, ``and_fetch``, ...): the previous value for a
    ``fetch_`` form, the new value for the other."""
    what = "previous" if op.startswith("fetch_") else "new"
    name = op.replace("fetch_", "").replace("_fetch", "")

    def method(self, value, order: str = "seq_cst"):
        where = f"{self._name}.{op}"
        io = self._put(where, "value", value)
        self._call(where, op, order, io)
        return self._get(io.raw)

    method.__name__ = op
    method.__doc__ = f"Atomically applies {name} with ``value``; returns the {what} value."
    return method


def add_rmw_methods(cls: type, ops) -> None:
    """Gives ``cls`` a method per read-modify-write operation of ``ops`` (exchange is the base class's)."""
    for op in ops:
        if shape_of(op) == "rmw" and op != "exchange":
            setattr(cls, op, rmw_method(op))
