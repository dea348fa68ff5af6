"""SharedMap from Python through the C ABI (sa_map_*, ctypes only): the
operations, results and errors the header documents, and forked processes
sharing one map (exact counters; a writer SIGKILLed mid-run)."""

from __future__ import annotations

import ctypes
import mmap
import os
import signal
import struct
import sys
import time
import unittest

from support import load

ABSENT, FULL, NOT_COUNTER, CORRUPT, TOO_LONG, MISMATCH, TOO_SMALL = -1, -2, -3, -4, -5, -6, -7


def bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    P, U32, I32, I64, F64 = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int32, ctypes.c_int64, ctypes.c_double
    sigs = {
        "sa_map_bytes": ([U32, U32, U32], ctypes.c_uint64),
        "sa_map_init": ([P, U32, U32, U32], ctypes.c_int),
        "sa_map_get": ([P, U32, U32, U32, ctypes.c_char_p, U32, P], ctypes.c_int),
        "sa_map_set": ([P, U32, U32, U32, ctypes.c_char_p, U32, ctypes.c_char_p, U32, F64, U32], ctypes.c_int),
        "sa_map_cas": ([P, U32, U32, U32, ctypes.c_char_p, U32, ctypes.c_char_p, U32, ctypes.c_char_p, I32], ctypes.c_int),
        "sa_map_delete": ([P, U32, U32, U32, ctypes.c_char_p, U32], ctypes.c_int),
        "sa_map_add": ([P, U32, U32, U32, ctypes.c_char_p, U32, I64, F64, ctypes.POINTER(I64)], ctypes.c_int),
        "sa_map_clear": ([P, U32, U32, U32], ctypes.c_int),
        "sa_map_size": ([P, U32, U32, U32], ctypes.c_int),
        "sa_map_snapshot": ([P, U32, U32, U32, P, ctypes.c_uint64, U32], ctypes.c_int),
    }
    for name, (args, res) in sigs.items():
        f = getattr(lib, name)
        f.argtypes, f.restype = args, res
    return lib


LIB = bind(load()) if sys.platform.startswith("linux") else None


class Map:
    """A map in anonymous shared memory (inherited by forked children)."""

    def __init__(self, capacity: int, key_size: int, value_size: int):
        n = LIB.sa_map_bytes(capacity, key_size, value_size)
        assert n > 0
        self.mem = mmap.mmap(-1, n, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self.p = ctypes.addressof(ctypes.c_char.from_buffer(self.mem))
        self.value_size = value_size
        self.cfg = (capacity, key_size, value_size)
        self.out = ctypes.create_string_buffer(value_size)
        assert LIB.sa_map_init(self.p, capacity, key_size, value_size) == 0

    def get(self, k: bytes):
        r = LIB.sa_map_get(self.p, *self.cfg, k, len(k), self.out)
        return None if r == ABSENT else self.out.raw[:r] if r >= 0 else r

    def set(self, k: bytes, v: bytes, ttl: float = 0, only_if_absent: int = 0) -> int:
        return LIB.sa_map_set(self.p, *self.cfg, k, len(k), v, len(v), ttl, only_if_absent)

    def add(self, k: bytes, d: int, ttl: float = 0):
        old = ctypes.c_int64()
        r = LIB.sa_map_add(self.p, *self.cfg, k, len(k), d, ttl, ctypes.byref(old))
        return old.value if r == 0 else r

    def entries(self) -> dict[bytes, bytes]:
        buf = ctypes.create_string_buffer(1 << 16)
        n = LIB.sa_map_snapshot(self.p, *self.cfg, buf, len(buf), 1)
        out, at, raw = {}, 0, buf.raw
        for _ in range(n):
            kl, vl = struct.unpack_from("<II", raw, at)
            out[raw[at + 8 : at + 8 + kl]] = raw[at + 8 + kl : at + 8 + kl + vl]
            at += 8 + kl + vl
        return out


@unittest.skipIf(sys.platform == "win32", "the SharedMap is not built on Windows (it waits through the POSIX wait.zig)")
class MapTest(unittest.TestCase):
    def test_operations(self):
        m = Map(8, 16, 32)
        self.assertEqual(LIB.sa_map_init(m.p, 8, 16, 32), 1)  # adopted
        self.assertEqual(LIB.sa_map_init(m.p, 9, 16, 32), MISMATCH)
        self.assertIsNone(m.get(b"a"))
        self.assertEqual(m.set(b"a", b"hello"), 1)
        self.assertEqual(m.get(b"a"), b"hello")
        self.assertEqual(m.set(b"a", b"x", only_if_absent=1), 0)
        self.assertEqual(LIB.sa_map_cas(m.p, *m.cfg, b"a", 1, b"nope", 4, b"y", 1), 0)
        self.assertEqual(LIB.sa_map_cas(m.p, *m.cfg, b"a", 1, b"hello", 5, b"bye", 3), 1)
        self.assertEqual(m.get(b"a"), b"bye")
        self.assertEqual(m.add(b"n", 5), 0)
        self.assertEqual(m.add(b"n", -7), 5)
        self.assertEqual(struct.unpack("<q", m.get(b"n"))[0], -2)
        self.assertEqual(m.add(b"a", 1), NOT_COUNTER)
        self.assertEqual(m.get(b"x" * 17), TOO_LONG)
        self.assertEqual(m.set(b"k", b"v" * 33), TOO_LONG)
        self.assertEqual(LIB.sa_map_size(m.p, *m.cfg), 2)
        self.assertEqual(m.entries(), {b"a": b"bye", b"n": struct.pack("<q", -2)})
        self.assertEqual(LIB.sa_map_delete(m.p, *m.cfg, b"a", 1), 1)
        self.assertEqual(LIB.sa_map_delete(m.p, *m.cfg, b"a", 1), 0)
        self.assertEqual(LIB.sa_map_clear(m.p, *m.cfg), 0)
        self.assertEqual(LIB.sa_map_size(m.p, *m.cfg), 0)
        zeroed = ctypes.create_string_buffer(256)
        self.assertEqual(LIB.sa_map_get(ctypes.addressof(zeroed), 8, 16, 32, b"a", 1, None), CORRUPT)

    def test_full_ttl_and_churn(self):
        m = Map(4, 8, 8)
        for i in range(4):
            self.assertEqual(m.set(b"k%d" % i, b"v", ttl=1000 if i < 2 else 0), 1)
        self.assertEqual(m.set(b"new", b"v"), FULL)
        self.assertEqual(m.add(b"new", 1), FULL)
        time.sleep(1.3)
        self.assertIsNone(m.get(b"k0"))
        self.assertEqual(m.set(b"new", b"v"), 1)
        self.assertEqual(m.set(b"new2", b"v"), 1)
        self.assertEqual(LIB.sa_map_size(m.p, *m.cfg), 4)
        for i in range(20000):  # churn far beyond capacity
            self.assertEqual(LIB.sa_map_delete(m.p, *m.cfg, b"new", 3), 1)
            self.assertEqual(m.set(b"new", b"%d" % i), 1)
        self.assertEqual(m.get(b"new"), b"19999")

    def test_forked_processes_count_exactly_and_survive_a_killed_writer(self):
        m = Map(128, 8, 8)
        keys = [b"k%d" % i for i in range(100)]
        progress = mmap.mmap(-1, 8, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)

        def child(n: int, record: bool):
            for i in range(n):
                m.add(keys[i % 100], 1)
                if record:
                    struct.pack_into("<q", progress, 0, i + 1)
            os._exit(0)

        pids = []
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                child(20000, False)
            pids.append(pid)
        victim = os.fork()
        if victim == 0:
            child(10**9, True)
        while struct.unpack_from("<q", progress, 0)[0] < 1000:
            time.sleep(0.005)
        time.sleep(0.05)
        os.kill(victim, signal.SIGKILL)
        os.waitpid(victim, 0)
        t = time.monotonic()
        self.assertEqual(m.set(b"after", b"kill"), 1)
        self.assertLess(time.monotonic() - t, 1.0)
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            self.assertEqual(status, 0)
        done = struct.unpack_from("<q", progress, 0)[0]
        total = sum(struct.unpack("<q", m.get(k))[0] for k in keys)
        self.assertGreaterEqual(total, 3 * 20000 + done)
        self.assertLessEqual(total, 3 * 20000 + done + 1)


if __name__ == "__main__":
    unittest.main()
