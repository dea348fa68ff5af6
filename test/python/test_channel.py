"""The Channel's C ABI (sa_channel_*) from Python through ctypes, as a C or
Python program uses it: sizes and configuration, send and receive with every
result code, batches, and threads (each with its own robust list) as
producers and consumers, with close() waking a blocked receiver.

    python3 -m unittest discover -s test/python -v
"""

from __future__ import annotations

import ctypes
import struct
import threading
import time
import unittest

import support

WOULD_BLOCK, CLOSED, TIMED_OUT, TOO_BIG, TOO_SMALL, INVALID, MISMATCH = -1, -2, -3, -4, -5, -6, -7

lib = support.load()
P, U32, U64, F64, INT = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_double, ctypes.c_int
for name, args, res in [
    ("sa_channel_bytes", [U32, U32], U64),
    ("sa_channel_init", [P, U32, U32], INT),
    ("sa_channel_open", [P, U64], INT),
    ("sa_channel_send", [P, U32, U32, P, U32, F64], INT),
    ("sa_channel_try_send", [P, U32, U32, P, U32], INT),
    ("sa_channel_recv", [P, U32, U32, P, U32, F64], INT),
    ("sa_channel_try_recv", [P, U32, U32, P, U32], INT),
    ("sa_channel_send_many", [P, U32, U32, P, U32, F64], INT),
    ("sa_channel_recv_many", [P, U32, U32, P, U32, U32, F64], INT),
    ("sa_channel_close", [P, U32, U32], INT),
    ("sa_channel_closed", [P, U32, U32], INT),
    ("sa_channel_length", [P, U32, U32], INT),
    ("sa_channel_peek_length", [P, U32, U32], INT),
]:
    fn = getattr(lib, name)
    fn.argtypes, fn.restype = args, res


class Chan:
    """A channel in memory of our own (8-aligned, zeroed)."""

    def __init__(self, capacity: int, message_size: int):
        n = lib.sa_channel_bytes(capacity, message_size)
        self.mem = (ctypes.c_uint64 * ((n + 7) // 8))()
        self.p = ctypes.addressof(self.mem)
        self.size = n
        self.cfg = (capacity, message_size)
        assert lib.sa_channel_init(self.p, capacity, message_size) == 1

    def send(self, data: bytes, timeout: float = -1.0) -> int:
        return lib.sa_channel_send(self.p, *self.cfg, data, len(data), timeout)

    def recv(self, cap: int = 64, timeout: float = -1.0):
        buf = ctypes.create_string_buffer(cap)
        n = lib.sa_channel_recv(self.p, *self.cfg, buf, cap, timeout)
        return buf.raw[:n] if n >= 0 else n


def records(msgs: list[bytes]) -> bytes:
    out = b""
    for m in msgs:
        out += struct.pack("<I", len(m)) + m + b"\0" * ((4 - len(m) % 4) % 4)
    return out


class ChannelABI(unittest.TestCase):
    def test_sizes_and_configuration(self):
        self.assertEqual(lib.sa_channel_bytes(0, 8), 0)
        self.assertEqual(lib.sa_channel_bytes(8, 0), 0)
        self.assertEqual(lib.sa_channel_bytes(2**24 + 1, 8), 0)
        self.assertEqual(lib.sa_channel_bytes(1, 2**30 + 1), 0)
        c = Chan(4, 16)
        self.assertEqual(lib.sa_channel_init(c.p, 4, 16), 0, "adopts the same configuration")
        self.assertEqual(lib.sa_channel_init(c.p, 5, 16), MISMATCH)
        self.assertEqual(lib.sa_channel_open(c.p, c.size), 0)
        self.assertEqual(lib.sa_channel_open(c.p, c.size - 1), INVALID)
        zero = (ctypes.c_uint64 * 64)()
        self.assertEqual(lib.sa_channel_try_send(ctypes.addressof(zero), 4, 16, b"x", 1), INVALID)

    def test_send_receive_and_codes(self):
        c = Chan(2, 8)
        self.assertEqual(lib.sa_channel_try_recv(c.p, *c.cfg, ctypes.create_string_buffer(8), 8), WOULD_BLOCK)
        self.assertEqual(c.recv(timeout=10.0), TIMED_OUT)
        self.assertEqual(c.send(b"hello"), 5)
        self.assertEqual(c.send(b"123456789"), TOO_BIG)
        self.assertEqual(c.send(b""), 0)
        self.assertEqual(lib.sa_channel_try_send(c.p, *c.cfg, b"x", 1), WOULD_BLOCK)
        self.assertEqual(c.send(b"x", 10.0), TIMED_OUT)
        self.assertEqual(lib.sa_channel_length(c.p, *c.cfg), 2)
        self.assertEqual(c.recv(cap=3), TOO_SMALL)
        self.assertEqual(lib.sa_channel_peek_length(c.p, *c.cfg), 5)
        self.assertEqual(c.recv(), b"hello")
        self.assertEqual(c.recv(), b"")
        self.assertEqual(lib.sa_channel_close(c.p, *c.cfg), 1)
        self.assertEqual(lib.sa_channel_closed(c.p, *c.cfg), 1)
        self.assertEqual(c.send(b"x"), CLOSED)
        self.assertEqual(c.recv(), CLOSED)

    def test_batches(self):
        c = Chan(8, 8)
        msgs = [b"a", b"bcdef", b"", b"12345678"]
        buf = records(msgs)
        self.assertEqual(lib.sa_channel_send_many(c.p, *c.cfg, buf, len(msgs), -1.0), 4)
        self.assertEqual(lib.sa_channel_send_many(c.p, *c.cfg, records([b"123456789"]), 1, -1.0), TOO_BIG)
        out = ctypes.create_string_buffer(256)
        self.assertEqual(lib.sa_channel_recv_many(c.p, *c.cfg, out, 256, 10, -1.0), 4)
        self.assertEqual(out.raw[: len(buf)], buf)
        self.assertEqual(lib.sa_channel_recv_many(c.p, *c.cfg, out, 256, 10, 5.0), TIMED_OUT)

    def test_threads_every_message_once_in_order_and_close_wakes(self):
        c = Chan(16, 8)
        count, producers = 5000, 3
        seen = [bytearray(count) for _ in range(producers)]
        disorder = []

        def produce(pid):
            for i in range(count):
                assert c.send(struct.pack("<II", pid, i)) == 8

        def consume():
            last = {}
            while True:
                m = c.recv()
                if m == CLOSED:
                    return
                pid, i = struct.unpack("<II", m)
                if i <= last.get(pid, -1):
                    disorder.append((pid, i))
                last[pid] = i
                seen[pid][i] += 1

        cs = [threading.Thread(target=consume) for _ in range(3)]
        ps = [threading.Thread(target=produce, args=(k,)) for k in range(producers)]
        for t in cs + ps:
            t.start()
        for t in ps:
            t.join()
        time.sleep(0.05)
        start = time.monotonic()
        lib.sa_channel_close(c.p, *c.cfg)  # the consumers may be blocked in recv: all wake
        for t in cs:
            t.join(5)
            self.assertFalse(t.is_alive())
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(disorder, [])
        for row in seen:
            self.assertEqual(set(row), {1})


if __name__ == "__main__":
    unittest.main()
