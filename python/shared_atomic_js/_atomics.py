"""The atomic classes: one per type, over the library's sa_<type>_<op> exports,
with Python-style names (``load``, ``store``, ``exchange``,
``compare_exchange``, ``compare_and_set``, ``fetch_add``, ``add_fetch``, ...),
an optional C11 memory order on every operation, and ``wait``/``notify`` on
the 32-bit ones. The same memory and handles as the TypeScript classes."""

from __future__ import annotations

import ctypes
import math

from ._library import fn
from ._memory import SharedMemory, parse_value_handle

#: The C11 memory orders, by the names TypeScript uses.
ORDERS = {"relaxed": 0, "consume": 1, "acquire": 2, "release": 3, "acq_rel": 4, "seq_cst": 5}

_INT_OPS = ("add", "sub", "and", "or", "xor", "nand", "max", "min")
_FLOAT_OPS = ("add", "sub", "max", "min")
_BOOL_OPS = ("and", "or", "xor", "nand")

# type -> (ctypes type, kind, bits, signed)
_TYPES = {
    "i8": (ctypes.c_int8, "int", 8, True),
    "u8": (ctypes.c_uint8, "int", 8, False),
    "i16": (ctypes.c_int16, "int", 16, True),
    "u16": (ctypes.c_uint16, "int", 16, False),
    "i32": (ctypes.c_int32, "int", 32, True),
    "u32": (ctypes.c_uint32, "int", 32, False),
    "i64": (ctypes.c_int64, "int", 64, True),
    "u64": (ctypes.c_uint64, "int", 64, False),
    "f32": (ctypes.c_float, "float", 32, True),
    "f64": (ctypes.c_double, "float", 64, True),
    "bool": (ctypes.c_bool, "bool", 8, False),
}


def _order(where: str, order) -> int:
    if order not in ORDERS:
        raise ValueError(f"{where}: order must be one of {', '.join(ORDERS)}; got {order!r}")
    return ORDERS[order]


class Atomic:
    """The base of the atomic classes: ``Cls(segment, byte_offset=0)``."""

    TYPE = ""
    BYTES = 0
    _ops: dict = {}

    def __init__(self, memory: SharedMemory, byte_offset: int = 0):
        where = f"{type(self).__name__}()"
        if not isinstance(memory, SharedMemory):
            raise TypeError(f"{where}: memory must be a SharedMemory; got {memory!r}")
        self.memory = memory
        self.byte_offset = byte_offset
        self._ptr = memory.address(where, byte_offset, self.BYTES, self.BYTES)

    @classmethod
    def from_handle(cls, handle: str):
        """The value a handle names (``value.handle()`` in any runtime); TypeError if it holds another type."""
        where = f"{cls.__name__}.from_handle"
        t, offset, seg = parse_value_handle(where, handle)
        if t != cls.TYPE:
            raise TypeError(f"{where}: handle must name a value of type {cls.TYPE!r}; this one is {t!r}")
        return cls(SharedMemory.from_handle(seg), offset)

    def handle(self) -> str:
        """``"sa1:<type>@<offset>:shm:/name?id=..."``: what ``from_handle`` opens, in Python, Bun or Deno."""
        seg = self.memory.handle()
        return f"sa1:{self.TYPE}@{self.byte_offset}:{seg[len('sa1:'):]}"

    def _p(self, where: str) -> int:
        if self.memory.closed:
            from ._memory import SharedMemoryClosedError

            raise SharedMemoryClosedError(f"{where}: the SharedMemory {self.memory.name!r} is closed")
        return self._ptr

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.load()!r} @ {self.byte_offset} in {self.memory.name!r})"


def _checker(kind: str, bits: int, signed: bool, name: str):
    """What a value argument must be, checked before any memory is touched."""
    if kind == "bool":

        def check(where, v):
            if not isinstance(v, bool):
                raise TypeError(f"{where}: value must be a bool; got {v!r}")
            return v

    elif kind == "float":

        def check(where, v):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise TypeError(f"{where}: value must be a float or int; got {v!r}")
            return float(v)

    else:
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)

        def check(where, v):
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{where}: value must be an int; got {v!r}")
            if not lo <= v <= hi:
                raise ValueError(f"{where}: value must be an int in [{lo}, {hi}] ({name}); got {v}")
            return v

    return check


def _make(type_name: str, class_name: str):
    ct, kind, bits, signed = _TYPES[type_name]
    check = _checker(kind, bits, signed, class_name)
    p = ctypes.c_void_p
    pre = f"sa_{type_name}_"

    def bind(op, restype, *args):
        return fn(pre + op, restype, p, *args), fn(pre + op + "_explicit", restype, p, *args, ctypes.c_int)

    ns: dict = {"TYPE": type_name, "BYTES": bits // 8, "__doc__": f"An atomic {type_name} in shared memory."}
    load_seq, load_ex = bind("load", ct)
    store_seq, store_ex = bind("store", None, ct)
    xchg_seq, xchg_ex = bind("exchange", ct, ct)
    cx_seq, cx_ex = bind("compare_exchange", ct, ct, ct)
    cas_seq, cas_ex = bind("compare_and_set", ctypes.c_bool, ct, ct)

    def load(self, order: str = "seq_cst"):
        """The value."""
        ptr = self._p(f"{class_name}.load")
        return load_seq(ptr) if order == "seq_cst" else load_ex(ptr, _order(f"{class_name}.load", order))

    def store(self, value, order: str = "seq_cst") -> None:
        """Stores ``value``."""
        where = f"{class_name}.store"
        v = check(where, value)
        ptr = self._p(where)
        store_seq(ptr, v) if order == "seq_cst" else store_ex(ptr, v, _order(where, order))

    def exchange(self, value, order: str = "seq_cst"):
        """Stores ``value``; returns the previous value."""
        where = f"{class_name}.exchange"
        v = check(where, value)
        ptr = self._p(where)
        return xchg_seq(ptr, v) if order == "seq_cst" else xchg_ex(ptr, v, _order(where, order))

    def compare_exchange(self, expected, desired, order: str = "seq_cst"):
        """Stores ``desired`` if the value is ``expected``; returns the previous value."""
        where = f"{class_name}.compare_exchange"
        e, d = check(where, expected), check(where, desired)
        ptr = self._p(where)
        return cx_seq(ptr, e, d) if order == "seq_cst" else cx_ex(ptr, e, d, _order(where, order))

    def compare_and_set(self, expected, desired, order: str = "seq_cst") -> bool:
        """Stores ``desired`` if the value is ``expected``; returns whether it did."""
        where = f"{class_name}.compare_and_set"
        e, d = check(where, expected), check(where, desired)
        ptr = self._p(where)
        return bool(cas_seq(ptr, e, d) if order == "seq_cst" else cas_ex(ptr, e, d, _order(where, order)))

    ns.update(load=load, store=store, exchange=exchange, compare_exchange=compare_exchange, compare_and_set=compare_and_set)
    ops = {"int": _INT_OPS, "float": _FLOAT_OPS, "bool": _BOOL_OPS}[kind]
    for op in ops:
        for form in (f"fetch_{op}", f"{op}_fetch"):
            try:
                seq, ex = bind(form, ct, ct)
            except AttributeError:
                continue  # not exported for this type
            ns[form] = _rmw(class_name, form, check, seq, ex)
    if bits == 32 and kind == "int":
        ns.update(_waiting(class_name, check))
    return type(class_name, (Atomic,), ns)


def _rmw(class_name, form, check, seq, ex):
    where = f"{class_name}.{form}"
    what = "previous" if form.startswith("fetch_") else "new"

    def method(self, value, order: str = "seq_cst"):
        v = check(where, value)
        ptr = self._p(where)
        return seq(ptr, v) if order == "seq_cst" else ex(ptr, v, _order(where, order))

    method.__name__ = form
    method.__doc__ = f"Atomically applies {form.replace('fetch_', '').replace('_fetch', '')}; returns the {what} value."
    return method


def _waiting(class_name, check):
    wait32 = fn("sa_wait32", ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_double)
    wake32 = fn("sa_wake32", ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
    results = {0: "ok", 1: "not-equal", 2: "timed-out"}

    def wait(self, expected, timeout: float | None = None) -> str:
        """Sleeps while the value is ``expected`` (``timeout`` in seconds, None: forever), across processes:
        "ok", "not-equal" or "timed-out"."""
        where = f"{class_name}.wait"
        e = check(where, expected) & 0xFFFFFFFF
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0):
            raise ValueError(f"{where}: timeout must be None or a number of seconds >= 0; got {timeout!r}")
        ms = math.inf if timeout is None else timeout * 1000.0
        return results[wait32(self._p(where), e, ms)]

    def notify(self, count: int = 0) -> int:
        """Wakes up to ``count`` waiters (0: all) in any thread or process; returns how many woke."""
        where = f"{class_name}.notify"
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"{where}: count must be an int >= 0 (0: all); got {count!r}")
        return wake32(self._p(where), count)

    return {"wait": wait, "notify": notify}


AtomicI8 = _make("i8", "AtomicI8")
AtomicU8 = _make("u8", "AtomicU8")
AtomicI16 = _make("i16", "AtomicI16")
AtomicU16 = _make("u16", "AtomicU16")
AtomicI32 = _make("i32", "AtomicI32")
AtomicU32 = _make("u32", "AtomicU32")
AtomicI64 = _make("i64", "AtomicI64")
AtomicU64 = _make("u64", "AtomicU64")
AtomicF32 = _make("f32", "AtomicF32")
AtomicF64 = _make("f64", "AtomicF64")
AtomicBool = _make("bool", "AtomicBool")

CLASSES = (AtomicI8, AtomicU8, AtomicI16, AtomicU16, AtomicI32, AtomicU32, AtomicI64, AtomicU64, AtomicF32, AtomicF64, AtomicBool)
