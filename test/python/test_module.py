"""The Python module (python/shared_atomic_js): every atomic type's operations,
bad input, handles, and Bun and Deno processes on one segment with Python
threads (exact counts under a shared Mutex, a Semaphore made in TypeScript,
wait/notify, a holder killed with SIGKILL).

    python3 -m unittest test/python/test_module.py -v
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import unittest

import support

sys.path.insert(0, str(support.ROOT / "python"))
import shared_atomic_js as sa  # noqa: E402

BIN = support.ROOT / "node_modules" / ".bin"
PEER = str(support.ROOT / "test" / "children" / "python_peer.ts")
RUNTIMES = {
    "bun": [str(BIN / "bun"), PEER],
    "deno": [str(BIN / "deno"), "run", "-A", "--no-check", PEER],
}


def unique(tag: str) -> str:
    unique.n += 1
    return f"/sa-test-py-{os.getpid()}-{tag}-{unique.n}"


unique.n = 0


def peer(runtime: str, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([*RUNTIMES[runtime], *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def run_peer(runtime: str, *args: str) -> str:
    p = peer(runtime, *args)
    out, err = p.communicate(timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"{runtime} {' '.join(args)} exited {p.returncode}: {err}")
    return out


class Segment(unittest.TestCase):
    def setUp(self):
        self.name = unique("seg")
        self.seg = sa.SharedMemory.create(self.name, 4096)

    def tearDown(self):
        self.seg.close()
        try:
            sa.SharedMemory.unlink_name(self.name)
        except sa.SharedMemoryNotFoundError:
            pass


class Atomics(Segment):
    def test_integer_operations_at_the_edges_of_each_type(self):
        for cls in (sa.AtomicI8, sa.AtomicU8, sa.AtomicI16, sa.AtomicU16, sa.AtomicI32, sa.AtomicU32, sa.AtomicI64, sa.AtomicU64):
            bits = 8 * cls.BYTES
            signed = cls.TYPE.startswith("i")
            lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
            a = cls(self.seg, 64)
            a.store(hi)
            self.assertEqual(a.fetch_add(1), hi, cls.TYPE)
            self.assertEqual(a.load(), lo, f"{cls.TYPE} wraps")
            self.assertEqual(a.sub_fetch(1), hi)
            self.assertEqual(a.exchange(5), hi)
            self.assertEqual(a.compare_exchange(5, 7), 5)
            self.assertFalse(a.compare_and_set(5, 9))
            self.assertTrue(a.compare_and_set(7, 12, "acq_rel"))
            self.assertEqual(a.fetch_and(10), 12)
            self.assertEqual(a.or_fetch(1), 9)
            self.assertEqual(a.xor_fetch(3), 10)
            self.assertEqual(a.fetch_max(20), 10)
            self.assertEqual(a.min_fetch(4, "relaxed"), 4)
            self.assertEqual(a.nand_fetch(6), support.wrap(~(4 & 6), bits, signed))
            with self.assertRaisesRegex(ValueError, rf"{cls.__name__}.store: value must be an int in \[{lo}, {hi}\]"):
                a.store(hi + 1)
            with self.assertRaisesRegex(TypeError, rf"{cls.__name__}.fetch_add: value must be an int; got 1.5"):
                a.fetch_add(1.5)
            a.store(0)

    def test_floats_and_bools(self):
        f = sa.AtomicF64(self.seg, 8)
        f.store(0.5)
        self.assertEqual(f.fetch_add(0.25), 0.5)
        self.assertEqual(f.max_fetch(3), 3.0)
        self.assertEqual(f.exchange(math.nan), 3.0)
        self.assertTrue(math.isnan(f.load()))
        g = sa.AtomicF32(self.seg, 16)
        self.assertEqual(g.add_fetch(1.5), 1.5)
        b = sa.AtomicBool(self.seg, 24)
        self.assertFalse(b.fetch_or(True))
        self.assertTrue(b.load())
        self.assertTrue(b.compare_and_set(True, False))
        with self.assertRaisesRegex(TypeError, "AtomicBool.store: value must be a bool; got 1"):
            b.store(1)

    def test_bad_placement_orders_and_closed_memory(self):
        with self.assertRaisesRegex(ValueError, r"AtomicU64\(\): byte_offset must be a multiple of 8; got 4"):
            sa.AtomicU64(self.seg, 4)
        with self.assertRaisesRegex(ValueError, r"byte_offset must be in \[0, 4088\]; got 4096"):
            sa.AtomicU64(self.seg, 4096)
        with self.assertRaisesRegex(TypeError, r"memory must be a SharedMemory"):
            sa.AtomicU64(bytearray(8))
        a = sa.AtomicU32(self.seg)
        with self.assertRaisesRegex(ValueError, "AtomicU32.load: order must be one of relaxed, consume, acquire"):
            a.load("sideways")
        self.seg.close()
        with self.assertRaisesRegex(sa.SharedMemoryClosedError, "AtomicU32.fetch_add: the SharedMemory .* is closed"):
            a.fetch_add(1)

    def test_handles_round_trip_and_refuse_the_wrong_type(self):
        a = sa.AtomicU64(self.seg, 40)
        a.store(2**64 - 1)
        h = a.handle()
        self.assertRegex(h, rf"^sa1:u64@40:shm:{self.name}\?id=\d+\.\d+$")
        b = sa.from_handle(h)
        self.assertIsInstance(b, sa.AtomicU64)
        self.assertEqual(b.add_fetch(1), 0)
        with self.assertRaisesRegex(TypeError, "AtomicU32.from_handle: handle must name a value of type 'u32'; this one is 'u64'"):
            sa.AtomicU32.from_handle(h)
        with self.assertRaisesRegex(ValueError, "from_handle: handle type 'zz' is not one this module opens"):
            sa.from_handle(f"sa1:zz@0:shm:{self.name}")
        with self.assertRaisesRegex(ValueError, "from_handle: handle must be a str like"):
            sa.from_handle("nonsense")
        # a name removed and created again since the handle was made is refused (once no mapping of the old one
        # is open here: while one is, from_handle shares it, as in TypeScript)
        b.memory.close()
        self.seg.unlink()
        again = sa.SharedMemory.create(self.name, 64)
        try:
            with self.assertRaisesRegex(sa.SharedMemoryNotFoundError, "not the segment this handle was made for"):
                sa.from_handle(h)
        finally:
            again.close()

    def test_segments_create_open_or_create_and_errors_with_codes(self):
        with self.assertRaises(sa.SharedMemoryExistsError) as e:
            sa.SharedMemory.create(self.name, 64)
        self.assertEqual(e.exception.code, "EEXIST")
        self.assertIn(f"rm /dev/shm{self.name}", str(e.exception))
        other = sa.SharedMemory.open_or_create(self.name, 64)
        self.assertFalse(other.created)
        self.assertEqual(other.byte_length, 64)
        other.close()
        fresh = unique("fresh")
        with sa.SharedMemory.open_or_create(fresh, 128) as s:
            self.assertTrue(s.created)
            s.unlink()
        with self.assertRaises(sa.SharedMemoryNotFoundError) as e:
            sa.SharedMemory.open(unique("missing"))
        self.assertEqual(e.exception.code, "ENOENT")


class Locks(Segment):
    def test_mutex_between_python_threads_exact(self):
        m = sa.Mutex(self.seg, 64)
        cell = sa.AtomicU32(self.seg, 0)

        def work():
            for _ in range(2000):
                with m:
                    cell.store(cell.load() + 1)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(cell.load(), 8000)
        self.assertFalse(m.locked)
        with self.assertRaisesRegex(sa.LockNotHeldError, "Mutex.unlock: this thread .* does not hold the lock"):
            m.unlock()
        self.assertTrue(m.lock(timeout=0))
        self.assertFalse(m.lock(timeout=0.01), "not re-entrant: a timed lock by the holder times out")
        m.unlock()

    def test_closing_gives_up_the_locks_this_thread_holds_and_never_faults(self):
        other = sa.SharedMemory.open(self.name)  # a second mapping, as another process has
        m = sa.Mutex(self.seg, 64)
        m.lock()
        self.assertTrue(sa.Mutex(other, 64).locked)
        self.seg.close()  # abandoned as if this thread had died
        with self.assertRaises(sa.OwnerDiedError):
            sa.Mutex(other, 64).lock(timeout=5)
        sa.Mutex(other, 64).unlock()
        with self.assertRaisesRegex(sa.SharedMemoryClosedError, "Mutex.lock: the SharedMemory .* is closed"):
            m.lock()
        other.close()

    def test_from_handle_shares_one_mapping_per_segment(self):
        a = sa.AtomicU32(self.seg, 0)
        x, y = sa.from_handle(a.handle()), sa.from_handle(a.handle())
        self.assertIs(x.memory, y.memory)
        self.assertIsNot(x.memory, self.seg)

    def test_once_runs_again_after_fn_raises_and_waitgroup_checks(self):
        once = sa.Once(self.seg, 128)
        with self.assertRaises(ZeroDivisionError):
            once.run(lambda: 1 / 0)
        self.assertFalse(once.done)
        self.assertTrue(once.run(lambda: None))
        self.assertFalse(once.run(lambda: None))
        wg = sa.WaitGroup(self.seg, 192)
        self.assertTrue(wg.wait(timeout=0))
        wg.add(2)
        self.assertFalse(wg.wait(timeout=0.01))
        with self.assertRaisesRegex(ValueError, r"WaitGroup.add: n must be a non-zero int"):
            wg.add(0)
        threads = [threading.Thread(target=wg.done) for _ in range(2)]
        for t in threads:
            t.start()
        self.assertTrue(wg.wait(timeout=60))
        for t in threads:
            t.join()

    def test_barrier_timeout_and_configuration(self):
        b = sa.Barrier(self.seg, 256, parties=2)
        self.assertIsNone(b.wait(timeout=0.01), "alone: times out, arrival taken back")
        with self.assertRaisesRegex(ValueError, r"Barrier\(\): parties must be what this Barrier already has, 2"):
            sa.Barrier(self.seg, 256, parties=3)
        self.assertEqual(sa.Barrier(self.seg, 256).parties, 2, "adopted")
        with self.assertRaisesRegex(ValueError, r"Barrier\(\): parties is required"):
            sa.Barrier(self.seg, 512)
        results = []
        t = threading.Thread(target=lambda: results.append(b.wait(timeout=60)))
        t.start()
        results.append(b.wait(timeout=60))
        t.join()
        self.assertEqual(sorted(results), [False, True])

    def test_a_mutex_over_other_memory_says_what_it_holds(self):
        sa.AtomicU32(self.seg, 64).store(0x53454D32)
        with self.assertRaisesRegex(TypeError, r"Mutex\(\): memory must hold a Mutex; this memory holds a Semaphore"):
            sa.Mutex(self.seg, 64)


class WithBunAndDeno(Segment):
    def test_one_segment_python_threads_bun_and_deno_exact(self):
        total = sa.AtomicU64(self.seg, 8)
        cell = sa.AtomicU32(self.seg, 16)
        m = sa.Mutex(self.seg, 64)
        n = 3000
        kids = [peer(rt, "count", total.handle(), m.handle(), cell.handle(), str(n)) for rt in ("bun", "deno")]

        def work():
            for _ in range(n):
                total.fetch_add(1)
                with m:
                    cell.store(cell.load() + 1)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for k in kids:
            _, err = k.communicate(timeout=120)
            self.assertEqual(k.returncode, 0, err)
        self.assertEqual(total.load(), 4 * n)
        self.assertEqual(cell.load(), 4 * n, "the Mutex excludes Python, Bun and Deno from one another")

    def test_semaphore_made_in_typescript(self):
        for rt in ("bun", "deno"):
            h = run_peer(rt, "semaphore", self.seg.handle(), str(128 if rt == "bun" else 1024), "2").strip()
            s = sa.from_handle(h)
            self.assertIsInstance(s, sa.Semaphore)
            self.assertEqual((s.max, s.available), (2, 2))
            self.assertTrue(s.acquire(2))
            self.assertEqual(run_peer(rt, "try", h).strip(), "false")
            self.assertFalse(s.acquire(1, timeout=0.01))
            s.release(2)
            self.assertEqual(run_peer(rt, "try", h).strip(), "true")
            with self.assertRaisesRegex(ValueError, r"Semaphore.release: n must be at most 0 \(max 2\); got 1"):
                s.release(1)

    def test_wait_is_woken_by_another_runtime(self):
        for i, rt in enumerate(("bun", "deno")):
            flag = sa.AtomicU32(self.seg, 32 + 4 * i)
            k = peer(rt, "notify", flag.handle(), "300")
            result = flag.wait(0, timeout=60)
            k.communicate(timeout=60)
            self.assertEqual(result, "ok", rt)
            self.assertEqual(flag.load(), 1)
            self.assertEqual(flag.wait(0, timeout=0), "not-equal")

    def test_waitgroup_and_once_with_bun_and_deno(self):
        wg = sa.WaitGroup(self.seg, 256)
        wg.add(10)
        kids = [peer(rt, "done", wg.handle(), "5") for rt in ("bun", "deno")]
        self.assertTrue(wg.wait(timeout=120), "both runtimes' done() calls bring it to 0 and wake Python")
        self.assertEqual(wg.count, 0)
        for k in kids:
            k.communicate(timeout=60)
        with self.assertRaisesRegex(ValueError, r"WaitGroup.done: the count is 0"):
            wg.done()
        once = sa.Once(self.seg, 320)
        ran = sa.AtomicU32(self.seg, 400)
        kids = [peer(rt, "once", once.handle(), ran.handle()) for rt in ("bun", "deno", "bun", "deno")]
        mine = once.run(lambda: ran.fetch_add(1))
        outs = [k.communicate(timeout=120)[0].strip() for k in kids]
        self.assertEqual(ran.load(), 1, "exactly one of five runners ran it")
        self.assertEqual(sum([mine] + [o == "true" for o in outs]), 1, (mine, outs))
        self.assertTrue(once.done)

    def test_barrier_python_bun_and_deno_meet(self):
        b = sa.Barrier(self.seg, 448, parties=3)
        rounds = 200
        kids = [peer(rt, "barrier", b.handle(), str(rounds)) for rt in ("bun", "deno")]
        mine = sum(1 for _ in range(rounds) if b.wait(timeout=120))
        outs = [int(k.communicate(timeout=120)[0].strip()) for k in kids]
        self.assertEqual(mine + sum(outs), rounds, "exactly one completer per generation")
        self.assertEqual(b.generation, rounds)

    def test_a_holder_killed_with_sigkill_frees_the_mutex(self):
        for i, rt in enumerate(("bun", "deno")):
            m = sa.Mutex(self.seg, 128 + 64 * i)
            k = peer(rt, "hold", m.handle())
            self.assertEqual(k.stdout.readline().strip(), "locked")
            self.assertTrue(m.locked)
            os.kill(k.pid, signal.SIGKILL)
            k.communicate(timeout=60)
            if i == 0:
                with self.assertRaises(sa.OwnerDiedError) as e:
                    m.lock(timeout=60)
                self.assertGreater(e.exception.previous_owner, 0)
                m.unlock()
            else:  # a with-block takes it too, and warns
                with self.assertWarnsRegex(sa.OwnerDiedWarning, r"previous owner \(thread \d+\) died"):
                    with m:
                        self.assertTrue(m.locked)
            self.assertFalse(m.locked)


if __name__ == "__main__":
    unittest.main()
