"""The seed ABI (SEED-ABI.md) through ctypes, as the seed's users call it:
the README usage with 10,000 threads and 10,000 fork processes, the
10,000-thread compare_and_set race, and every operation of every type at
the edges of its type.

    python3 -m unittest discover -s test/python -v
"""

from __future__ import annotations

import ctypes
import math
import multiprocessing
import struct
import sys
import threading
import time
import unittest

import support

N = 10_000
START = 2**63 - 1
BATCH = 250  # processes alive at once: each holds a pipe (its sentinel) until joined


def _report(msg: str) -> None:
    print(f"\n    {msg}", file=sys.stderr, flush=True)


class ReadmeUsage(unittest.TestCase):
    """SEED-ABI.md's "usage that must keep working", verbatim in spirit."""

    def test_threads_size_t_sub_and_fetch(self):
        atomic = ctypes.CDLL(str(support.lib_path()))
        atomic.size_t_sub_and_fetch.restype = ctypes.c_size_t

        v = ctypes.c_size_t(START)
        vref = ctypes.byref(v)
        t0 = time.perf_counter()
        threads = [threading.Thread(target=atomic.size_t_sub_and_fetch, args=(vref, ctypes.c_size_t(100))) for _ in range(N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        _report(f"{N} threads: {time.perf_counter() - t0:.2f} s")
        self.assertEqual(v.value, START - 100 * N)

    def test_threads_without_restype(self):
        # The seed's users often leave restype at ctypes' default (c_int):
        # the result is truncated, but the call and the memory are right.
        atomic = ctypes.CDLL(str(support.lib_path()))
        v = ctypes.c_size_t(START)
        vref = ctypes.byref(v)
        threads = [threading.Thread(target=atomic.size_t_sub_and_fetch, args=(vref, ctypes.c_size_t(100))) for _ in range(N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(v.value, START - 100 * N)
        # and the truncated return value is the low 32 bits, sign-extended
        r = atomic.size_t_sub_and_fetch(vref, ctypes.c_size_t(1))
        self.assertEqual(r, support.wrap(START - 100 * N - 1, 32, True))

    @unittest.skipUnless("fork" in multiprocessing.get_all_start_methods(), "needs the fork start method")
    def test_processes_size_t_sub_and_fetch(self):
        ctx = multiprocessing.get_context("fork")
        atomic = ctypes.CDLL(str(support.lib_path()))
        atomic.size_t_sub_and_fetch.restype = ctypes.c_size_t

        v = ctx.Value(ctypes.c_size_t, START, lock=False)
        vref = ctypes.byref(v)
        t0 = time.perf_counter()
        done = 0
        # 10,000 processes in all, started BATCH at a time: each live
        # Process holds a pipe (its sentinel) until joined and closed.
        while done < N:
            procs = [ctx.Process(target=atomic.size_t_sub_and_fetch, args=(vref, ctypes.c_size_t(100))) for _ in range(min(BATCH, N - done))]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
                self.assertEqual(p.exitcode, 0)
                p.close()
            done += len(procs)
        dt = time.perf_counter() - t0
        _report(f"{N} fork processes (batches of {BATCH}): {dt:.1f} s")
        self.assertEqual(done, N)
        self.assertEqual(v.value, START - 100 * N)


class CompareAndSetRace(unittest.TestCase):
    def race(self, name: str, ct, a: int, b: int):
        atomic = support.load()
        f = getattr(atomic, f"{name}_compare_and_set")
        f.argtypes = [ctypes.POINTER(ct), ctypes.POINTER(ct), ct]
        f.restype = ctypes.c_bool
        v = ct(a)
        wins = []
        seen = []
        go = threading.Event()

        def attempt():
            e = ct(a)
            go.wait()
            ok = f(ctypes.byref(v), ctypes.byref(e), b)
            wins.append(ok)
            seen.append(e.value)

        threads = [threading.Thread(target=attempt) for _ in range(N)]
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join()
        self.assertEqual(len(wins), N)
        self.assertEqual(wins.count(True), 1)
        self.assertEqual(v.value, b)
        # every loser got the current value back in *e
        self.assertEqual(seen.count(b), N - 1)
        self.assertEqual(seen.count(a), 1)

    def test_size_t_race_one_winner(self):
        self.race("size_t", ctypes.c_size_t, 2**63 - 1, 2**64 - 1)

    def test_int_race_one_winner(self):
        self.race("int", ctypes.c_int, -(2**31), 2**31 - 1)


# ------------------------------------------------------- every op, every type

INT_TYPES = [
    ("byte", support.c_char_int),
    ("ubyte", ctypes.c_ubyte),
    ("short", ctypes.c_short),
    ("ushort", ctypes.c_ushort),
    ("int", ctypes.c_int),
    ("uint", ctypes.c_uint),
    ("long", ctypes.c_long),
    ("ulong", ctypes.c_ulong),
    ("longlong", ctypes.c_longlong),
    ("ulonglong", ctypes.c_ulonglong),
    ("size_t", ctypes.c_size_t),
    ("ssize_t", ctypes.c_ssize_t),
    ("wchar", support.c_wchar_int),
]
BASIC = ["load", "store", "get_and_set", "shift", "compare_and_set"]
ARITH = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y}
BITS = {"and": lambda x, y: x & y, "or": lambda x, y: x | y, "xor": lambda x, y: x ^ y, "nand": lambda x, y: ~(x & y)}


def ops_of(name: str) -> dict:
    if name == "bool":
        return {}
    if name == "wchar":
        return ARITH
    return {**ARITH, **BITS}


def edges(bits: int, signed: bool) -> list[int]:
    if signed:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        return [lo, lo + 1, -1, 0, 1, 0x55, hi - 1, hi]
    hi = (1 << bits) - 1
    return [0, 1, 0x55, hi // 2, hi // 2 + 1, hi - 1, hi]


def seed_names() -> list[str]:
    """Every seed function SEED-ABI.md asks for, by its rules."""
    names = [f"bool_{o}" for o in BASIC]
    for name, _ in INT_TYPES:
        names += [f"{name}_{o}" for o in BASIC]
        for o in ops_of(name):
            names += [f"{name}_{o}_and_fetch", f"{name}_fetch_and_{o}"]
    names += ["float_store", "double_store", "longdouble_store"]
    return names


class EveryOperation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lib = support.load()

    def fn(self, name, argtypes, restype):
        f = getattr(self.lib, name)
        f.argtypes = argtypes
        f.restype = restype
        return f

    def test_names_exist(self):
        exported = set(support.exported_symbols(support.lib_path())) if sys.platform.startswith("linux") else None
        for n in seed_names():
            with self.subTest(n):
                if n == "longdouble_store" and exported is not None and n not in exported:
                    continue  # optional: see zig/seed.zig and LongDouble below
                self.assertTrue(hasattr(self.lib, n), n)

    def test_64_bit_edges_spelled_out(self):
        P = ctypes.POINTER
        sz, ssz, ll, ull = ctypes.c_size_t, ctypes.c_ssize_t, ctypes.c_longlong, ctypes.c_ulonglong
        v = sz(2**64 - 1)
        self.assertEqual(self.fn("size_t_add_and_fetch", [P(sz), sz], sz)(ctypes.byref(v), 1), 0)
        self.assertEqual(self.fn("size_t_fetch_and_sub", [P(sz), sz], sz)(ctypes.byref(v), 1), 0)
        self.assertEqual(v.value, 2**64 - 1)
        s = ssz(2**63 - 1)
        self.assertEqual(self.fn("ssize_t_add_and_fetch", [P(ssz), ssz], ssz)(ctypes.byref(s), 1), -(2**63))
        self.assertEqual(self.fn("ssize_t_sub_and_fetch", [P(ssz), ssz], ssz)(ctypes.byref(s), 1), 2**63 - 1)
        q = ll(-(2**63))
        self.assertEqual(self.fn("longlong_fetch_and_nand", [P(ll), ll], ll)(ctypes.byref(q), -1), -(2**63))
        self.assertEqual(q.value, 2**63 - 1)  # ~(-2**63 & -1)
        u = ull(0b1100)
        self.assertEqual(self.fn("ulonglong_nand_and_fetch", [P(ull), ull], ull)(ctypes.byref(u), 0b1010), 2**64 - 1 - 0b1000)

    def check_int_type(self, name: str, ct):
        P = ctypes.POINTER(ct)
        bits, signed = support.int_info(ct)
        vals = edges(bits, signed)
        load = self.fn(f"{name}_load", [P], ct)
        store = self.fn(f"{name}_store", [P, P], None)
        gas = self.fn(f"{name}_get_and_set", [P, ct], ct)
        shift = self.fn(f"{name}_shift", [P, P, P], None)
        cas = self.fn(f"{name}_compare_and_set", [P, P, ct], ctypes.c_bool)
        rmw = {}
        for o, model in ops_of(name).items():
            rmw[o] = (self.fn(f"{name}_{o}_and_fetch", [P, ct], ct), self.fn(f"{name}_fetch_and_{o}", [P, ct], ct), model)
        for a in vals:
            v = ct(a)
            self.assertEqual(load(ctypes.byref(v)), a)
            for b in vals:
                v, n = ct(a), ct(b)
                store(ctypes.byref(v), ctypes.byref(n))
                self.assertEqual(v.value, b)
                v = ct(a)
                self.assertEqual(gas(ctypes.byref(v), b), a)
                self.assertEqual(v.value, b)
                v, n, r = ct(a), ct(b), ct(b)
                shift(ctypes.byref(v), ctypes.byref(n), ctypes.byref(r))
                self.assertEqual((v.value, r.value), (b, a))
                v, e = ct(a), ct(a)
                self.assertIs(cas(ctypes.byref(v), ctypes.byref(e), b), True)
                self.assertEqual((v.value, e.value), (b, a))
                if a != b:
                    v, e = ct(a), ct(b)
                    self.assertIs(cas(ctypes.byref(v), ctypes.byref(e), b), False)
                    self.assertEqual((v.value, e.value), (a, a))
                for o, (new_f, old_f, model) in rmw.items():
                    new = support.wrap(model(a, b), bits, signed)
                    v = ct(a)
                    self.assertEqual(new_f(ctypes.byref(v), b), new, f"{name}_{o}_and_fetch({a}, {b})")
                    self.assertEqual(v.value, new)
                    v = ct(a)
                    self.assertEqual(old_f(ctypes.byref(v), b), a, f"{name}_fetch_and_{o}({a}, {b})")
                    self.assertEqual(v.value, new)

    def test_every_integer_type_at_its_edges(self):
        for name, ct in INT_TYPES:
            with self.subTest(name):
                self.check_int_type(name, ct)

    def test_wrap_around_and_nand_per_width(self):
        for name, ct in INT_TYPES:
            bits, signed = support.int_info(ct)
            P = ctypes.POINTER(ct)
            with self.subTest(name):
                hi = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
                lo = -(1 << (bits - 1)) if signed else 0
                v = ct(hi)
                self.assertEqual(self.fn(f"{name}_add_and_fetch", [P, ct], ct)(ctypes.byref(v), 1), lo)
                self.assertEqual(self.fn(f"{name}_sub_and_fetch", [P, ct], ct)(ctypes.byref(v), 1), hi)
                if name != "wchar":
                    v = ct(0b1100)
                    self.assertEqual(self.fn(f"{name}_fetch_and_nand", [P, ct], ct)(ctypes.byref(v), 0b1010), 0b1100)
                    self.assertEqual(v.value, support.wrap(~0b1000, bits, signed))

    def test_bool(self):
        B, P = ctypes.c_bool, ctypes.POINTER(ctypes.c_bool)
        load = self.fn("bool_load", [P], B)
        store = self.fn("bool_store", [P, P], None)
        gas = self.fn("bool_get_and_set", [P, B], B)
        shift = self.fn("bool_shift", [P, P, P], None)
        cas = self.fn("bool_compare_and_set", [P, P, B], B)
        for a in (False, True):
            self.assertIs(load(ctypes.byref(B(a))), a)
            for b in (False, True):
                v, n = B(a), B(b)
                store(ctypes.byref(v), ctypes.byref(n))
                self.assertIs(v.value, b)
                v = B(a)
                self.assertIs(gas(ctypes.byref(v), b), a)
                self.assertIs(v.value, b)
                v, n, r = B(a), B(b), B(b)
                shift(ctypes.byref(v), ctypes.byref(n), ctypes.byref(r))
                self.assertEqual((v.value, r.value), (b, a))
                v, e = B(a), B(a)
                self.assertIs(cas(ctypes.byref(v), ctypes.byref(e), b), True)
                self.assertEqual((v.value, e.value), (b, a))
                if a != b:
                    v, e = B(a), B(b)
                    self.assertIs(cas(ctypes.byref(v), ctypes.byref(e), b), False)
                    self.assertEqual((v.value, e.value), (a, a))

    def test_float_and_double_store_keep_every_bit(self):
        for name, ct, fmt in (("float_store", ctypes.c_float, "<I"), ("double_store", ctypes.c_double, "<Q")):
            P = ctypes.POINTER(ct)
            store = self.fn(name, [P, P], None)
            w = struct.calcsize(fmt) * 8
            info = sys.float_info
            for x in (0.0, -0.0, 1.5, -2.25, math.inf, -math.inf, math.nan, info.max if w == 64 else 3.4028234663852886e38, 5e-324 if w == 64 else 1.401298464324817e-45):
                with self.subTest(name, x=x):
                    v, n = ct(7.0), ct(x)
                    store(ctypes.byref(v), ctypes.byref(n))
                    self.assertEqual(bytes(v), bytes(n))
            # a NaN with a payload, bit for bit
            n = ct()
            ctypes.memmove(ctypes.byref(n), struct.pack(fmt, 0x7FC0_0ABC if w == 32 else 0x7FF8_DEAD_BEEF_0001), w // 8)
            v = ct(1.0)
            store(ctypes.byref(v), ctypes.byref(n))
            self.assertEqual(bytes(v), bytes(n))


class LongDouble(unittest.TestCase):
    def test_longdouble_store(self):
        lib = support.load()
        if not hasattr(lib, "longdouble_store"):
            self.skipTest("longdouble_store is not in this build (no lock-free store of long double on its target CPU)")
        P = ctypes.POINTER(ctypes.c_longdouble)
        store = lib.longdouble_store
        store.argtypes, store.restype = [P, P], None
        size = ctypes.sizeof(ctypes.c_longdouble)
        for x in (0.0, -0.0, 1.5, -3.25, math.inf, -math.inf, 1e308, 5e-324):
            v, n = ctypes.c_longdouble(7.0), ctypes.c_longdouble(x)
            store(ctypes.byref(v), ctypes.byref(n))
            self.assertEqual(bytes(v), bytes(n))
            self.assertEqual(v.value, x)
        # every byte of *n, also those a double cannot say (and the padding)
        pattern = bytes(range(0x11, 0x11 + size))
        n = ctypes.c_longdouble()
        ctypes.memmove(ctypes.byref(n), pattern, size)
        v = ctypes.c_longdouble(0)
        store(ctypes.byref(v), ctypes.byref(n))
        self.assertEqual(bytes(v), pattern)
        if size == 16 and support._machine in ("x86_64", "amd64"):
            # 1 + 2**-63 in x87 extended: mantissa 0x8000000000000001
            raw = struct.pack("<QH", 0x8000_0000_0000_0001, 0x3FFF) + bytes(6)
            ctypes.memmove(ctypes.byref(n), raw, 16)
            store(ctypes.byref(v), ctypes.byref(n))
            self.assertEqual(bytes(v)[:10], raw[:10])


if __name__ == "__main__":
    unittest.main()
