"""The Python module's wide atomics (AtomicI128, AtomicU128, AtomicBytes, AtomicString): every operation against
a model at the edges of each type, every bad input (refused before memory is touched), handles, and Bun and Deno
processes on the same values (layout both ways; a 128-bit counter that Bun, Deno and Python processes add to,
exact past 2^64; a string relay of compare-and-sets between Python and Bun; 16 bytes as a counter of
compare-and-set loops).

    python3 -m unittest discover -s test/python -p test_module_wide.py -v
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import unittest
from unittest import mock

import support
import test_module
from test_module import Segment  # a fresh 4096-byte segment per test, closed and removed after it

sys.path.insert(0, str(support.ROOT / "python"))
import shared_atomic_js as sa  # noqa: E402
from shared_atomic_js import _wide  # noqa: E402

WIDE_PEER = str(support.ROOT / "test" / "children" / "python_wide_peer.ts")
M128 = (1 << 128) - 1
INT_OPS = ("add", "sub", "and", "or", "xor", "nand", "max", "min")
BIT_OPS = ("and", "or", "xor", "nand")


def wide_peer(runtime: str, *args: str) -> subprocess.Popen:
    """A Bun or Deno process running python_wide_peer.ts (the runtimes' commands are test_module's)."""
    cmd = [*test_module.RUNTIMES[runtime][:-1], WIDE_PEER, *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(test: unittest.TestCase, kids, timeout: float = 300) -> list:
    """Each child's stdout once it exits 0; a child still running at the deadline is killed (and the test fails)."""
    outs = []
    for k in kids:
        try:
            out, err = k.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for other in kids:
                other.kill()
            raise
        test.assertEqual(k.returncode, 0, err)
        outs.append(out.strip())
    return outs


def model(op: str, a: int, b: int, bits: int, signed: bool) -> int:
    """What op does to a and b (ints of the type), wrapped to the type."""
    r = {
        "add": a + b, "sub": a - b, "and": a & b, "or": a | b, "xor": a ^ b, "nand": ~(a & b),
        "max": max(a, b), "min": min(a, b),
    }[op]
    return support.wrap(r, bits, signed)


def edges(lo: int, hi: int) -> list:
    """The edges of [lo, hi] and the 64-bit boundaries inside it, and random values."""
    rng = random.Random(128)
    pts = [lo, lo + 1, -1, 0, 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 2**64 + 1, -(2**63), -(2**64), hi - 1, hi]
    pts += [rng.randint(lo, hi) for _ in range(6)]
    return [p for p in pts if lo <= p <= hi]


class Int128(Segment):
    def test_every_operation_against_the_model_at_the_edges(self):
        for cls, signed in ((sa.AtomicI128, True), (sa.AtomicU128, False)):
            a = cls(self.seg, 16)
            vals = edges(cls.MIN, cls.MAX)
            for op in INT_OPS:
                for x in vals:
                    for y in vals[::3]:
                        want = model(op, x, y, 128, signed)
                        a.store(x)
                        self.assertEqual(getattr(a, f"fetch_{op}")(y), x, (cls.TYPE, op, x, y))
                        self.assertEqual(a.load(), want, (cls.TYPE, op, x, y))
                        a.store(x, "release")
                        self.assertEqual(getattr(a, f"{op}_fetch")(y, "acq_rel"), want, (cls.TYPE, op, x, y))
                        self.assertEqual(a.load("acquire"), want)

    def test_store_exchange_compare_and_update(self):
        u = sa.AtomicU128(self.seg, 32)
        self.assertEqual(u.load(), 0, "zeroed memory is 0")
        u.store(2**64 - 1)
        self.assertEqual(u.add_fetch(1), 2**64, "the carry crosses the 64-bit halves")
        self.assertEqual(u.exchange(M128, "relaxed"), 2**64)
        self.assertEqual(u.fetch_add(1), M128)
        self.assertEqual(u.load("relaxed"), 0, "wraps")
        self.assertEqual(u.compare_exchange(5, 7), 0, "lost: the current value")
        self.assertEqual(u.compare_exchange(0, 2**100), 0, "won: expected")
        self.assertFalse(u.compare_and_set(0, 1))
        self.assertTrue(u.compare_and_set(2**100, 2**127, "acquire"))
        self.assertEqual(u.update(lambda v: v * 2 - 1), M128)
        i = sa.AtomicI128(self.seg, 48)
        i.store(-(2**127))
        self.assertEqual(i.sub_fetch(1), 2**127 - 1, "wraps to 2^127-1")
        self.assertEqual(i.fetch_min(-1), 2**127 - 1)
        self.assertEqual(i.load(), -1, "signed comparison")
        self.assertEqual(i.max_fetch(-(2**127)), -1)
        raw = bytes(sa.AtomicBytes(self.seg, 48, 16).load())
        self.assertEqual(raw, b"\xff" * 16, "two's complement, little-endian")
        i.store(-2)
        self.assertEqual(sa.AtomicBytes(self.seg, 48, 16).load(), b"\xfe" + b"\xff" * 15)
        calls = []
        self.assertEqual(i.update(lambda v: calls.append(v) or v + 10), 8)
        self.assertEqual(calls, [-2])

    def test_bad_values_are_refused_and_memory_is_untouched(self):
        for cls in (sa.AtomicI128, sa.AtomicU128):
            a = cls(self.seg, 64)
            a.store(42)
            name = cls.__name__
            rng = rf"\[{cls.MIN}, {cls.MAX}\] \({cls.TYPE}: "
            calls = {
                "store": lambda v: a.store(v),
                "exchange": lambda v: a.exchange(v),
                "fetch_add": lambda v: a.fetch_add(v),
                "min_fetch": lambda v: a.min_fetch(v),
                "compare_exchange": lambda v: a.compare_exchange(42, v),
                "compare_and_set": lambda v: a.compare_and_set(v, 1),
            }
            for method, call in calls.items():
                param = {"compare_exchange": "desired", "compare_and_set": "expected"}.get(method, "value")
                for bad in (cls.MAX + 1, cls.MIN - 1):
                    with self.assertRaisesRegex(ValueError, rf"^{name}\.{method}: {param} must be an int in {rng}"):
                        call(bad)
                for bad in (1.0, "1", True, None, 2**200 * 1.0):
                    with self.assertRaisesRegex(TypeError, rf"^{name}\.{method}: {param} must be an int in {rng}"):
                        call(bad)
                self.assertEqual(a.load(), 42, f"{name}.{method} changed memory on bad input")
            with self.assertRaisesRegex(ValueError, rf"^{name}\.update: fn's result must be an int in {rng}.*got {cls.MAX + 1}"):
                a.update(lambda v: cls.MAX + 1)
            with self.assertRaisesRegex(TypeError, rf"^{name}\.update: fn must be a function"):
                a.update(5)
            self.assertEqual(a.load(), 42)

    def test_orders_each_operation_allows(self):
        a = sa.AtomicU128(self.seg, 80)
        with self.assertRaisesRegex(
            ValueError, r"^AtomicU128\.load: order must be one of relaxed, acquire, seq_cst \(release is not allowed"
        ):
            a.load("release")
        with self.assertRaisesRegex(ValueError, r"^AtomicU128\.store: order must be one of relaxed, release, seq_cst"):
            a.store(1, "acquire")
        with self.assertRaisesRegex(ValueError, r"^AtomicU128\.fetch_add: order must be one of relaxed, acquire, release, acq_rel, seq_cst \(consume is not allowed for this operation\); got 'consume'"):
            a.fetch_add(1, "consume")
        with self.assertRaisesRegex(ValueError, r"^AtomicU128\.compare_and_set: order must be one of .*; got 'sideways'"):
            a.compare_and_set(0, 1, "sideways")
        with self.assertRaisesRegex(TypeError, r"^AtomicU128\.exchange: order must be one of .*; got 5"):
            a.exchange(1, 5)
        with self.assertRaisesRegex(ValueError, r"^AtomicU128\.update: order must be one of"):
            a.update(lambda v: v + 1, "consume")
        self.assertEqual(a.load(), 0, "nothing stored by a refused call")

    def test_placement_closed_memory_and_handles(self):
        with self.assertRaisesRegex(ValueError, r"^AtomicU128\(\): byte_offset must be a multiple of 16; got 8"):
            sa.AtomicU128(self.seg, 8)
        with self.assertRaisesRegex(ValueError, r"^AtomicI128\(\): byte_offset must be in \[0, 4080\]; got 4096"):
            sa.AtomicI128(self.seg, 4096)
        with self.assertRaisesRegex(TypeError, r"^AtomicU128\(\): memory must be a SharedMemory"):
            sa.AtomicU128(bytearray(16))
        with self.assertRaisesRegex(TypeError, r"^AtomicU128\(\): byte_offset must be an int; got '16'"):
            sa.AtomicU128(self.seg, "16")
        u = sa.AtomicU128(self.seg, 96)
        u.store(2**100)
        h = u.handle()
        self.assertRegex(h, rf"^sa1:u128@96:shm:{self.name}\?id=\d+\.\d+$")
        same = sa.from_handle(h)
        self.assertIsInstance(same, sa.AtomicU128)
        self.assertEqual(same.load(), 2**100)
        self.assertEqual(sa.AtomicU128.from_handle(h).fetch_sub(1), 2**100)
        with self.assertRaisesRegex(TypeError, r"^AtomicI128\.from_handle: handle must name a value of type 'i128'; this one is 'u128'"):
            sa.AtomicI128.from_handle(h)
        self.assertIsInstance(sa.from_handle(sa.AtomicI128(self.seg, 112).handle()), sa.AtomicI128)
        self.assertEqual(repr(u), f"AtomicU128({2**100 - 1} @ 96 in {self.name!r})")
        self.seg.close()
        for method, args in (("load", ()), ("store", (1,)), ("fetch_add", (1,)), ("compare_and_set", (0, 1)),
                             ("update", (lambda v: v,))):
            with self.assertRaisesRegex(sa.SharedMemoryClosedError, rf"^AtomicU128\.{method}: the SharedMemory .* is closed"):
                getattr(u, method)(*args)
        self.assertEqual(repr(u), f"AtomicU128(closed @ 96 in {self.name!r})")

    def test_sixteen_bytes_refused_where_not_lock_free(self):
        with mock.patch.object(_wide, "lock_free", lambda: False):
            with self.assertRaisesRegex(sa.AtomicUnavailableError, r"^AtomicU128\(\): 16-byte atomics are not lock-free"):
                sa.AtomicU128(self.seg, 0)
            with self.assertRaisesRegex(sa.AtomicUnavailableError, r"^AtomicString\(\): 16-byte atomics are not lock-free"):
                sa.AtomicString(self.seg, 0, 16)
            with self.assertRaisesRegex(sa.AtomicUnavailableError, r"^AtomicBytes\(\): 16-byte atomics are not lock-free"):
                sa.from_handle(f"sa1:bytes16@0:{self.seg.handle()[len('sa1:'):]}")
            self.assertEqual(sa.AtomicBytes(self.seg, 0, 8).load(), bytes(8), "narrower widths stay available")
        self.assertTrue(_wide.lock_free(), "this machine's library has them (x86-64-v2 or aarch64)")

    def test_python_threads_add_exactly_past_two_to_the_64(self):
        u = sa.AtomicU128(self.seg, 128)
        u.store(2**64 - 5000)
        n, step = 4000, 3

        def work():
            for _ in range(n):
                u.fetch_add(step)

        support.in_threads(work, 4)
        self.assertEqual(u.load(), 2**64 - 5000 + 4 * n * step)


class Bytes(Segment):
    def test_every_width_every_operation_against_the_model(self):
        rng = random.Random(8)
        self.assertEqual(sa.AtomicBytes.WIDTHS, (1, 2, 4, 8, 16))
        for k, w in enumerate(sa.AtomicBytes.WIDTHS):
            b = sa.AtomicBytes(self.seg, 256 + 16 * k, w)
            self.assertEqual((b.width, b.TYPE), (w, f"bytes{w}"))
            self.assertEqual(b.load(), bytes(w), "zeroed memory")
            vals = [bytes(w), b"\xff" * w] + [rng.randbytes(w) for _ in range(4)]
            for op in BIT_OPS:
                for x in vals:
                    for y in vals:
                        xi, yi = int.from_bytes(x, "little"), int.from_bytes(y, "little")
                        want = model(op, xi, yi, 8 * w, False).to_bytes(w, "little")
                        b.store(x)
                        self.assertEqual(getattr(b, f"fetch_{op}")(y), x)
                        self.assertEqual(b.load(), want, (w, op, x, y))
                        b.store(bytearray(x), "relaxed")
                        self.assertEqual(getattr(b, f"{op}_fetch")(memoryview(y), "acquire"), want)
            x, y = vals[2], vals[3]
            b.store(x)
            self.assertEqual(b.exchange(y), x)
            self.assertEqual(b.compare_exchange(x, bytes(w)), y, "lost: the current bytes")
            self.assertFalse(b.compare_and_set(x, bytes(w)))
            self.assertTrue(b.compare_and_set(y, x, "acq_rel"))
            self.assertEqual(b.update(lambda v: bytes(c ^ 0x0F for c in v)), bytes(c ^ 0x0F for c in x))
            buf = bytearray(w)
            self.assertIs(b.load_into(buf), buf)
            self.assertEqual(bytes(buf), bytes(c ^ 0x0F for c in x))
            big = bytearray(w + 2)
            b.load_into(memoryview(big)[1 : w + 1])
            self.assertEqual(bytes(big[1 : w + 1]), bytes(buf))

    def test_bad_values_widths_and_placement(self):
        b = sa.AtomicBytes(self.seg, 8, 8)
        b.store(b"12345678")
        allowed = r"a bytes-like object of 8 bytes \(the width of this AtomicBytes\)"
        for method, call in {
            "store": lambda v: b.store(v),
            "exchange": lambda v: b.exchange(v),
            "fetch_or": lambda v: b.fetch_or(v),
            "xor_fetch": lambda v: b.xor_fetch(v),
            "compare_exchange": lambda v: b.compare_exchange(v, b"zzzzzzzz"),
            "compare_and_set": lambda v: b.compare_and_set(b"12345678", v),
        }.items():
            param = {"compare_exchange": "expected", "compare_and_set": "desired"}.get(method, "value")
            for bad, n in ((b"1234567", 7), (b"123456789", 9), (b"", 0), (bytearray(16), 16)):
                with self.assertRaisesRegex(ValueError, rf"^AtomicBytes\.{method}: {param} must be {allowed}; got {n} bytes"):
                    call(bad)
            for bad in ("12345678", 12345678, None, [1] * 8, True):
                with self.assertRaisesRegex(TypeError, rf"^AtomicBytes\.{method}: {param} must be {allowed}; got"):
                    call(bad)
            self.assertEqual(b.load(), b"12345678", f"AtomicBytes.{method} changed memory on bad input")
        with self.assertRaisesRegex(TypeError, r"^AtomicBytes\.load_into: target must be a writable .*got a read-only or non-contiguous bytes"):
            b.load_into(bytes(8))
        with self.assertRaisesRegex(ValueError, r"^AtomicBytes\.load_into: target must be a writable .*got 4 bytes"):
            b.load_into(bytearray(4))
        with self.assertRaisesRegex(TypeError, r"^AtomicBytes\.load_into: target must be a writable .*got 5"):
            b.load_into(5)
        with self.assertRaisesRegex(ValueError, r"^AtomicBytes\.update: fn's result must be .*got 3 bytes"):
            b.update(lambda v: b"abc")
        with self.assertRaisesRegex(ValueError, r"^AtomicBytes\.load: order must be one of relaxed, acquire, seq_cst"):
            b.load("acq_rel")
        for width, err in ((3, ValueError), (32, ValueError), (0, ValueError), ("8", TypeError), (8.0, TypeError), (True, TypeError)):
            with self.assertRaisesRegex(err, rf"^AtomicBytes\(\): width must be one of 1, 2, 4, 8, 16 \(bytes\); got {width!r}"):
                sa.AtomicBytes(self.seg, 0, width)
        with self.assertRaisesRegex(ValueError, r"^AtomicBytes\(\): byte_offset must be a multiple of 4; got 2"):
            sa.AtomicBytes(self.seg, 2, 4)
        with self.assertRaisesRegex(ValueError, r"^AtomicString\(\): byte_offset must be in \[0, 4080\]; got 4088"):
            sa.AtomicString(self.seg, 4088, 16)
        self.assertFalse(hasattr(sa.AtomicBytes, "fetch_add"), "byte strings have no arithmetic")
        self.assertEqual(b.load(), b"12345678")

    def test_handles_of_every_width(self):
        for w in sa.AtomicBytes.WIDTHS:
            b = sa.AtomicBytes(self.seg, 512, w)
            b.store(bytes(range(1, w + 1)))
            h = b.handle()
            self.assertRegex(h, rf"^sa1:bytes{w}@512:shm:{self.name}\?id=\d+\.\d+$")
            same = sa.from_handle(h)
            self.assertIsInstance(same, sa.AtomicBytes)
            self.assertEqual((same.width, same.load()), (w, bytes(range(1, w + 1))))
            s = sa.AtomicString(self.seg, 512, w)
            self.assertEqual(sa.from_handle(s.handle()).width, w)
            with self.assertRaisesRegex(TypeError, rf"^AtomicString\.from_handle: handle must name .*; this one is 'bytes{w}'"):
                sa.AtomicString.from_handle(h)
        with self.assertRaisesRegex(TypeError, r"^AtomicBytes\.from_handle: handle must name .*; this one is 'u128'"):
            sa.AtomicBytes.from_handle(sa.AtomicU128(self.seg, 0).handle())
        with self.assertRaisesRegex(ValueError, r"^from_handle: handle type 'bytes3' is not one this module opens"):
            sa.from_handle(f"sa1:bytes3@0:shm:{self.name}")
        self.assertEqual(repr(sa.AtomicBytes(self.seg, 512, 2)), f"AtomicBytes(01 02 @ 512 in {self.name!r})")

    def test_python_threads_count_with_compare_and_set_loops(self):
        b = sa.AtomicBytes(self.seg, 1024, 16)
        b.store((2**64 - 100).to_bytes(16, "little"))
        n = 1500

        def work():
            for _ in range(n):
                b.update(lambda v: ((int.from_bytes(v, "little") + 1) & M128).to_bytes(16, "little"))

        support.in_threads(work, 4)
        self.assertEqual(int.from_bytes(b.load(), "little"), 2**64 - 100 + 4 * n)


class Strings(Segment):
    def test_text_round_trips_and_fills_the_width(self):
        s = sa.AtomicString(self.seg, 0, 16)
        self.assertEqual(s.load(), "", "zeroed memory is the empty string")
        for text in ("idle", "naïve", "日本語", "🎉🎉🎉🎉", "sixteen bytes!!!", "", "a b\tc"):
            s.store(text)
            self.assertEqual(s.load(), text)
        raw = s.as_bytes()
        s.store("sixteen bytes!!!")
        self.assertEqual(raw.load(), b"sixteen bytes!!!", "fills the width: no terminator")
        s.store("é")
        self.assertEqual(raw.load(), b"\xc3\xa9" + bytes(14), "UTF-8, then zero padding")
        self.assertTrue(s.compare_and_set("é", "running"))
        self.assertEqual(s.compare_exchange("idle", "stopped"), "running", "lost: the current text")
        self.assertEqual(s.exchange("naïve", "relaxed"), "running")
        self.assertFalse(s.compare_and_set("naive", "x"), "exact equality, no normalization")
        self.assertEqual(s.update(lambda t: t.upper()), "NAÏVE")
        four = sa.AtomicString(self.seg, 16, 4)
        four.store("🎉")
        self.assertEqual(four.load(), "🎉")
        self.assertFalse(hasattr(sa.AtomicString, "fetch_and"), "strings have no bitwise operations")

    def test_bytes_that_are_not_utf8_load_as_replacement_characters(self):
        s = sa.AtomicString(self.seg, 32, 8)
        s.as_bytes().store(b"ok\xff\xc3(\x00\x00\x00")
        self.assertEqual(s.load(), "ok\ufffd\ufffd(")
        s.as_bytes().store(b"a\x00b\x00\x00\x00\x00\x00")
        self.assertEqual(s.load(), "a\x00b", "only trailing zero bytes are padding")
        # update compares the bytes read, not their decoding: it still replaces them
        self.assertEqual(s.update(lambda t: "clean"), "clean")
        self.assertEqual(s.as_bytes().load(), b"clean\x00\x00\x00")

    def test_bad_text_is_refused_and_memory_is_untouched(self):
        s = sa.AtomicString(self.seg, 64, 8)
        s.store("keep")
        allowed = r"a str of at most 8 bytes of UTF-8 \(the width of this AtomicString\)"
        for method, call in {
            "store": lambda v: s.store(v),
            "exchange": lambda v: s.exchange(v),
            "compare_exchange": lambda v: s.compare_exchange("keep", v),
            "compare_and_set": lambda v: s.compare_and_set(v, "x"),
        }.items():
            param = {"compare_exchange": "desired", "compare_and_set": "expected"}.get(method, "value")
            with self.assertRaisesRegex(ValueError, rf"^AtomicString\.{method}: {param} must be {allowed}; got 9 bytes: 'ninechars'"):
                call("ninechars")
            with self.assertRaisesRegex(ValueError, rf"^AtomicString\.{method}: {param} must be {allowed}; got 10 bytes: 'ééééé'"):
                call("ééééé")
            with self.assertRaisesRegex(ValueError, rf"^AtomicString\.{method}: {param} must not contain NUL"):
                call("a\0b")
            with self.assertRaisesRegex(ValueError, rf"^AtomicString\.{method}: {param} must be well-formed text \(a lone surrogate"):
                call("x\ud800")
            for bad in (b"keep", 5, None, ["k"]):
                with self.assertRaisesRegex(TypeError, rf"^AtomicString\.{method}: {param} must be {allowed}; got"):
                    call(bad)
            self.assertEqual(s.load(), "keep", f"AtomicString.{method} changed memory on bad input")
        with self.assertRaisesRegex(ValueError, r"^AtomicString\.update: fn's result must be .*got 12 bytes"):
            s.update(lambda t: t * 3)
        with self.assertRaisesRegex(ValueError, r"^AtomicString\.store: order must be one of relaxed, release, seq_cst"):
            s.store("x", "acquire")
        self.assertEqual(s.load(), "keep")
        self.seg.close()
        with self.assertRaisesRegex(sa.SharedMemoryClosedError, r"^AtomicString\.as_bytes: the SharedMemory .* is closed"):
            s.as_bytes()
        with self.assertRaisesRegex(sa.SharedMemoryClosedError, r"^AtomicString\.compare_and_set: the SharedMemory"):
            s.compare_and_set("keep", "x")


PY_ADD = """
import sys
sys.path.insert(0, sys.argv[1])
from shared_atomic_js import AtomicU128
a = AtomicU128.from_handle(sys.argv[2])
for _ in range(int(sys.argv[3])):
    a.fetch_add(int(sys.argv[4]))
"""


class WithBunAndDeno(Segment):
    def test_the_same_bytes_both_ways(self):
        for rt in ("bun", "deno"):
            i, u = sa.AtomicI128(self.seg, 0), sa.AtomicU128(self.seg, 16)
            b, s = sa.AtomicBytes(self.seg, 32, 16), sa.AtomicString(self.seg, 48, 8)
            i.store(-(2**100) - 3)
            u.store(2**128 - 2**64 + 9)
            b.store(bytes(range(0xF0, 0x100)))
            s.store("naïve")
            k = wide_peer(rt, "swap", i.handle(), u.handle(), b.handle(), s.handle())
            seen = json.loads(finish(self, [k])[0])
            self.assertEqual(
                seen, {"i": str(-(2**100) - 3), "u": str(2**128 - 2**64 + 9), "b": bytes(range(0xF0, 0x100)).hex(), "s": "naïve"}, rt
            )
            self.assertEqual(i.load(), -(2**127) + 7, rt)
            self.assertEqual(u.load(), 2**128 - 2, rt)
            self.assertEqual(b.load(), b"\xa5\x5a" * 8, rt)
            self.assertEqual(s.load(), "héllo", rt)

    def test_bun_deno_and_python_processes_add_to_one_u128_exactly_past_two_to_the_64(self):
        u = sa.AtomicU128(self.seg, 64)
        start, step, n = 2**64 - 10**6, 2**61 + 3, 2000  # each add crosses into the high half about every 8 adds
        u.store(start)
        h = u.handle()
        kids = [wide_peer(rt, "u128-add", h, str(n), str(step)) for rt in ("bun", "deno")]
        kids += [
            subprocess.Popen([sys.executable, "-c", PY_ADD, str(support.ROOT / "python"), h, str(n), str(step)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        # meanwhile: every value read here is start + k*step for a whole k (step is odd, so k is exact mod 2^128):
        # a read that tore the two halves apart would give a k out of range
        inverse, total, torn, reads = pow(step, -1, 2**128), 4 * n, 0, 0
        while any(k.poll() is None for k in kids):
            k_seen = ((u.load() - start) * inverse) & M128
            torn += not 0 <= k_seen <= total
            reads += 1
            time.sleep(0.0005)
        finish(self, kids)
        self.assertEqual(torn, 0, f"{torn} of {reads} reads were torn")
        want = (start + total * step) & M128
        self.assertGreater(want, 2**64)
        self.assertEqual(u.load(), want)

    def test_a_string_relay_of_compare_and_sets_between_python_and_bun(self):
        s = sa.AtomicString(self.seg, 128, 8)
        rounds = 300
        k = wide_peer("bun", "ping", s.handle(), str(rounds))
        won, deadline = 0, time.monotonic() + 300
        for i in range(rounds):
            previous = "" if i == 0 else f"bun{i - 1}"
            tries = 0
            while not s.compare_and_set(previous, f"py{i}"):
                tries += 1
                if tries % 64 == 0:
                    self.assertLess(time.monotonic(), deadline, f"stuck at round {i}: {s.load()!r}")
                    time.sleep(0.001)
            won += 1
        bun_won = int(finish(self, [k])[0])
        self.assertEqual((won, bun_won), (rounds, rounds))
        self.assertEqual(s.load(), f"bun{rounds - 1}")

    def test_sixteen_bytes_counted_by_compare_and_set_loops_in_three_runtimes(self):
        b = sa.AtomicBytes(self.seg, 256, 16)
        start, n = 2**64 - 1000, 1000
        b.store(start.to_bytes(16, "little"))
        kids = [wide_peer(rt, "bytes-inc", b.handle(), str(n)) for rt in ("bun", "deno")]
        for i in range(n):
            while True:
                cur = b.load()
                nxt = ((int.from_bytes(cur, "little") + 1) & M128).to_bytes(16, "little")
                if b.compare_and_set(cur, nxt):
                    break
            if i % 64 == 63:
                time.sleep(0)  # let the peers in on a loaded machine
        finish(self, kids)
        self.assertEqual(int.from_bytes(b.load(), "little"), start + 3 * n)


if __name__ == "__main__":
    unittest.main()
