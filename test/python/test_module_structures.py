"""The Python module's Channel, SharedMap and RwLock (python/shared_atomic_js):
their operations and bad input, Python threads, and Bun and Deno processes on
one segment: a Bun producer and a Python consumer (exact count and order), a
Python producer and a Deno consumer, a Deno producer killed with SIGKILL, map counters incremented by Python
threads, Bun and Deno (exact), readers and writers of one RwLock in Python,
Bun and Deno (no read sees a half-done write), and a Bun or Deno writer
killed with SIGKILL while writing.

    python3 -m unittest test/python/test_module_structures.py -v
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import unittest

from test_module import BIN, Segment, peer, sa

SIZE = 1 << 16


class Segment(Segment):  # noqa: F811 (the same, larger)
    def setUp(self):
        super().setUp()
        self.seg.close()
        sa.SharedMemory.unlink_name(self.name)
        self.seg = sa.SharedMemory.create(self.name, SIZE)


class ChannelInPython(Segment):
    def test_send_receive_batches_and_close(self):
        ch = sa.Channel(self.seg, 0, capacity=4, message_size=16)
        self.assertEqual((ch.capacity, ch.message_size, len(ch)), (4, 16, 0))
        self.assertTrue(ch.send("hello"))
        self.assertTrue(ch.try_send(b"\x01\x02"))
        self.assertTrue(ch.send(bytearray(b"")))
        self.assertEqual(len(ch), 3)
        self.assertEqual(ch.recv_text(), "hello")
        self.assertEqual(ch.recv(), b"\x01\x02")
        self.assertEqual(ch.try_recv(), b"")
        self.assertIsNone(ch.try_recv())
        self.assertIsNone(ch.recv(timeout=0.02))
        self.assertEqual(ch.send_many(["a", b"bc", "d", "e", "f"], timeout=0.02), 4, "4 fit; the time ran out")
        self.assertFalse(ch.try_send("x"))
        self.assertFalse(ch.send("x", timeout=0.01))
        self.assertEqual(ch.recv_many(3), [b"a", b"bc", b"d"])
        target = bytearray(8)
        self.assertEqual(ch.recv_into(target), 1)
        self.assertEqual(target[:1], b"e")
        ch.send("long message")
        with self.assertRaisesRegex(ValueError, r"Channel.recv_into: target must be at least as long as the next "
                                                r"message \(12 bytes\); got 4 bytes"):
            ch.recv_into(bytearray(4))
        self.assertEqual(ch.recv(), b"long message", "a target too short leaves the message in the channel")
        ch.send("a\ud800")  # a lone surrogate is sent as U+FFFD, as Bun and Deno send it
        self.assertEqual(ch.recv(), b"a\xef\xbf\xbd")
        ch.send("last")
        self.assertTrue(ch.close())
        self.assertFalse(ch.close())
        self.assertTrue(ch.closed)
        with self.assertRaisesRegex(sa.ChannelClosedError, "Channel.send: the channel is closed"):
            ch.send("x")
        self.assertEqual(list(ch), [b"last"], "receivers drain what was sent before close()")
        with self.assertRaisesRegex(sa.ChannelClosedError, "Channel.recv: the channel is closed"):
            ch.recv()

    def test_bad_input_names_the_method_and_what_is_allowed(self):
        with self.assertRaisesRegex(TypeError, r"Channel\(\): capacity and message_size must both be given"):
            sa.Channel(self.seg, 0)
        with self.assertRaisesRegex(ValueError, r"Channel\(\): capacity must be an int in \[1, 16777216\]; got 0"):
            sa.Channel(self.seg, 0, capacity=0, message_size=8)
        with self.assertRaisesRegex(TypeError, r"Channel\(\): message_size must be an int in \[1, 1073741824\]"):
            sa.Channel(self.seg, 0, capacity=2, message_size=8.5)
        with self.assertRaisesRegex(ValueError, r"byte_offset must be in \[0, -?\d+\]; got 0"):
            sa.Channel(self.seg, 0, capacity=1000, message_size=64)  # does not fit: nothing written
        self.assertEqual(sa.AtomicU32(self.seg, 0).load(), 0)
        ch = sa.Channel(self.seg, 64, capacity=2, message_size=8)
        with self.assertRaisesRegex(ValueError, r"Channel\(\): capacity must be what this Channel already has, 2"):
            sa.Channel(self.seg, 64, capacity=3, message_size=8)
        self.assertEqual(sa.Channel(self.seg, 64).message_size, 8)
        with self.assertRaisesRegex(ValueError, r"Channel.send: data must be at most message_size \(8\) bytes long; "
                                                r"got 9 bytes"):
            ch.send("123456789")
        with self.assertRaisesRegex(TypeError, r"Channel.send: data must be bytes, a bytearray, a memoryview or a str; "
                                               r"got int"):
            ch.send(5)
        with self.assertRaisesRegex(ValueError, r"Channel.send_many: messages\[1\] must be at most message_size"):
            ch.send_many(["ok", "x" * 9])
        self.assertEqual(len(ch), 0, "a batch is checked before anything is sent")
        with self.assertRaisesRegex(ValueError, r"Channel.recv: timeout must be None or a number of seconds >= 0"):
            ch.recv(timeout=-1)
        with self.assertRaisesRegex(ValueError, r"Channel.recv_many: max must be an int >= 1; got 0"):
            ch.recv_many(0)
        with self.assertRaisesRegex(TypeError, r"Channel.recv_into: target must be writable and contiguous"):
            ch.recv_into(b"immutable")
        sa.Mutex(self.seg, 1024)
        with self.assertRaisesRegex(TypeError, r"Channel\(\): memory must be free \(zeroed\) memory or a Channel"):
            sa.Channel(self.seg, 1024, capacity=2, message_size=8)
        with self.assertRaisesRegex(TypeError, r"Channel.from_handle: handle must name a Channel"):
            sa.Channel.from_handle(sa.Mutex(self.seg, 1024).handle())
        self.seg.close()
        with self.assertRaisesRegex(sa.SharedMemoryClosedError, "Channel.try_send: the SharedMemory .* is closed"):
            ch.try_send("x")

    def test_a_receiver_blocked_when_its_segment_closes_raises(self):
        ch = sa.Channel(self.seg, 0, capacity=2, message_size=8)
        errors = []

        def receive():
            try:
                ch.recv()
            except Exception as e:  # noqa: BLE001 (what it raises is the assertion)
                errors.append(e)

        t = threading.Thread(target=receive)
        t.start()
        time.sleep(0.05)
        self.seg.close()  # the blocked receiver notices within a slice, never touching freed memory
        t.join(30)
        self.assertFalse(t.is_alive())
        self.assertEqual(len(errors), 1)
        self.assertIsInstance(errors[0], sa.SharedMemoryClosedError)
        self.assertRegex(str(errors[0]), "Channel.recv: the SharedMemory .* is closed")

    def test_threads_every_message_once_in_order_and_close_wakes_receivers(self):
        ch = sa.Channel(self.seg, 0, capacity=16, message_size=16)
        count, producers = 2000, 3
        got: list[list[bytes]] = [[] for _ in range(3)]

        def produce(p):
            for i in range(0, count, 50):
                self.assertEqual(ch.send_many([f"{p}:{j}" for j in range(i, i + 50)]), 50)

        def consume(k):
            for m in ch:
                got[k].append(m)

        cs = [threading.Thread(target=consume, args=(k,)) for k in range(3)]
        ps = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
        for t in cs + ps:
            t.start()
        for t in ps:
            t.join()
        ch.close()  # consumers blocked in recv wake and end
        for t in cs:
            t.join(30)
            self.assertFalse(t.is_alive())
        every = [m.decode() for g in got for m in g]
        self.assertEqual(sorted(every), sorted(f"{p}:{j}" for p in range(producers) for j in range(count)))
        for g in got:  # each consumer sees each producer's messages in order
            last: dict[str, int] = {}
            for m in g:
                p, j = m.decode().split(":")
                self.assertGreater(int(j), last.get(p, -1))
                last[p] = int(j)


class MapInPython(Segment):
    def test_operations(self):
        m = sa.SharedMap(self.seg, 0, capacity=8, key_size=16, value_size=32)
        self.assertEqual((m.capacity, m.key_size, m.value_size, len(m)), (8, 16, 32, 0))
        self.assertIsNone(m.get("a"))
        m.set("a", "hello")
        m.set(b"\xff\x00", b"\x01")
        self.assertEqual(m.get("a"), b"hello")
        self.assertEqual(m.get_text("a"), "hello")
        self.assertEqual(m[b"\xff\x00"], b"\x01")
        self.assertTrue(m.has("a") and "a" in m and "b" not in m)
        self.assertFalse(m.set_if_absent("a", "other"))
        self.assertTrue(m.set_if_absent("b", ""))
        self.assertFalse(m.compare_and_set("a", "nope", "x"))
        self.assertTrue(m.compare_and_set("a", "hello", "bye"))
        self.assertEqual(m.fetch_add("n", 5), 0)
        self.assertEqual(m.add_fetch("n", -7), -2)
        self.assertEqual(m.add_fetch("w", 2**63 - 1), 2**63 - 1)
        self.assertEqual(m.add_fetch("w", 1), -(2**63), "wraps at 64 bits")
        self.assertEqual(len(m), 5)
        self.assertEqual(sorted(m.keys(binary=True)), sorted([b"a", b"\xff\x00", b"b", b"n", b"w"]))
        self.assertEqual(dict(m.items())["a"], b"bye")
        self.assertEqual(dict(m.items())["n"], (-2).to_bytes(8, "little", signed=True))
        self.assertTrue(m.delete("a"))
        self.assertFalse(m.delete("a"))
        m.set("t", "soon", ttl_ms=30)
        self.assertEqual(m.get("t"), b"soon")
        threading.Event().wait(0.2)
        self.assertIsNone(m.get("t"), "expired")
        m.clear()
        self.assertEqual((len(m), m.keys()), (0, []))
        same = sa.from_handle(m.handle())
        self.assertIsInstance(same, sa.SharedMap)
        same.set("x", "y")
        self.assertEqual(m.get("x"), b"y")

    def test_full_bad_input_and_adoption(self):
        m = sa.SharedMap(self.seg, 64, capacity=2, key_size=4, value_size=8)
        m.set("a", "1")
        m.fetch_add("b", 1)
        with self.assertRaises(sa.MapFullError) as e:
            m.set("c", "1")
        self.assertEqual(e.exception.capacity, 2)
        self.assertIn("SharedMap.set: the map is full (capacity 2 entries)", str(e.exception))
        with self.assertRaisesRegex(sa.MapFullError, "SharedMap.fetch_add: the map is full"):
            m.fetch_add("c", 1)
        self.assertEqual(len(m), 2, "nothing changed")
        with self.assertRaisesRegex(ValueError, r"SharedMap.get: key must be at most 4 bytes of UTF-8 \(the map's "
                                                r"key_size\); got 5 bytes"):
            m.get("abcde")
        with self.assertRaisesRegex(ValueError, r"SharedMap.set: value must be at most 8 bytes \(the map's value_size\)"):
            m.set("a", b"123456789")
        with self.assertRaisesRegex(TypeError, r"SharedMap.set: key must be a str or bytes-like; got int"):
            m.set(1, "x")
        with self.assertRaisesRegex(TypeError, r"SharedMap.fetch_add: the value of key 'a' is 1 bytes, not an 8-byte"):
            m.fetch_add("a", 1)
        with self.assertRaisesRegex(ValueError, r"SharedMap.add_fetch: delta must be an int in \[-\(2\^63\)"):
            m.add_fetch("b", 2**63)
        with self.assertRaisesRegex(TypeError, r"SharedMap.fetch_add: delta must be an int"):
            m.fetch_add("b", 1.0)
        with self.assertRaisesRegex(ValueError, r"SharedMap.set: ttl_ms must be None or an int in \[1, "):
            m.set("a", "1", ttl_ms=0)
        with self.assertRaisesRegex(ValueError, r"SharedMap\(\): value_size must be what this SharedMap already has, 8"):
            sa.SharedMap(self.seg, 64, value_size=16)
        self.assertEqual(sa.SharedMap(self.seg, 64).get("a"), b"1", "adopted")
        with self.assertRaisesRegex(TypeError, r"SharedMap\(\): capacity must be given to make a SharedMap"):
            sa.SharedMap(self.seg, 2048)
        sa.Mutex(self.seg, 2048)
        with self.assertRaisesRegex(TypeError, r"SharedMap\(\): memory must be free \(zeroed\) memory or a SharedMap"):
            sa.SharedMap(self.seg, 2048, capacity=2)


class RwLockInPython(Segment):
    def test_readers_share_writers_exclude_and_misuse_is_refused(self):
        rw = sa.RwLock(self.seg, 64, readers=4)
        self.assertEqual((rw.reader_slots, rw.readers, sa.RwLock.bytes(4)), (4, 0, 208))
        with rw.read():
            with rw.read():
                self.assertEqual(rw.readers, 2)
            self.assertFalse(rw.acquire_write(timeout=0.01), "a reader keeps the writer out")
        with rw.write():
            self.assertEqual(rw.readers, -1)
            self.assertFalse(rw.acquire_read(timeout=0.01))
            with self.assertRaisesRegex(RuntimeError, "RwLock.acquire_write: this thread holds .* the write lock"):
                rw.acquire_write()
        with self.assertRaisesRegex(sa.LockNotHeldError, r"RwLock.release_read: this thread holds no read lock"):
            rw.release_read()
        with self.assertRaisesRegex(sa.LockNotHeldError, r"RwLock.release_write: this thread does not hold"):
            rw.release_write()
        with self.assertRaisesRegex(ValueError, r"RwLock\(\): readers must be what this RwLock already has, 4"):
            sa.RwLock(self.seg, 64, readers=8)
        with self.assertRaisesRegex(ValueError, r"RwLock\(\): readers must be an int in \[1, 1024\]; got 0"):
            sa.RwLock(self.seg, 512, readers=0)
        with self.assertRaisesRegex(ValueError, r"byte_offset must be in"):
            sa.RwLock(self.seg, SIZE - 200, readers=4)  # 208 bytes do not fit: nothing written
        self.assertEqual(sa.AtomicU32(self.seg, SIZE - 200).load(), 0)
        self.assertIsInstance(sa.from_handle(rw.handle()), sa.RwLock)

    def test_threads_never_see_a_half_done_write(self):
        rw = sa.RwLock(self.seg, 64)
        a, b = sa.AtomicU32(self.seg, 0), sa.AtomicU32(self.seg, 4)
        torn = []

        def work():
            for i in range(600):
                if i % 4 == 0:
                    with rw.write():
                        a.store(a.load() + 1)
                        time.sleep(0.0002)  # a write that takes a while: a reader let in would see a != b
                        b.store(b.load() + 1)
                else:
                    with rw.read():
                        seen = a.load()
                        time.sleep(0.0001)  # a read that takes a while: a writer let in would change b meanwhile
                        if seen != b.load():
                            torn.append(i)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual((a.load(), b.load(), torn), (600, 600, []))
        self.assertEqual(rw.readers, 0)


class WithBunAndDeno(Segment):
    def test_bun_producer_python_consumer_exact_count_and_order(self):
        n = 600
        k = peer("bun", "chan-produce", self.seg.handle(), "128", str(n))
        ch = sa.from_handle(k.stdout.readline().strip())  # made by Bun: capacity 8, so both sides block
        self.assertIsInstance(ch, sa.Channel)
        self.assertEqual((ch.capacity, ch.message_size), (8, 32))
        got = [m.decode() for m in ch]  # until Bun closes it
        _, err = k.communicate(timeout=120)
        self.assertEqual(k.returncode, 0, err)
        self.assertEqual(got, [f"bun:{i}" for i in range(n)])

    def test_a_producer_killed_with_sigkill_never_blocks_the_channel(self):
        k = peer("deno", "chan-produce", self.seg.handle(), "0", str(10**9))  # sends until killed
        ch = sa.from_handle(k.stdout.readline().strip())
        got = [ch.recv(timeout=60).decode() for _ in range(100)]
        os.kill(k.pid, signal.SIGKILL)
        k.communicate(timeout=60)
        while (m := ch.recv(timeout=0.5)) is not None:  # what it sent before it died; one being written is dropped
            got.append(m.decode())
        self.assertEqual(got, [f"deno:{i}" for i in range(len(got))], "each message once, in order, none torn")
        self.assertTrue(ch.send("after", timeout=5), "its slot was repaired: the channel goes on")
        self.assertEqual(ch.recv(timeout=5), b"after")

    def test_python_producer_deno_consumer(self):
        n = 600
        ch = sa.Channel(self.seg, 64, capacity=8, message_size=32)
        k = peer("deno", "chan-consume", ch.handle())
        for i in range(0, n // 2):
            self.assertTrue(ch.send(f"py:{i}", timeout=60))
        self.assertEqual(ch.send_many([f"py:{i}" for i in range(n // 2, n)], timeout=60), n - n // 2)
        ch.close()
        out, err = k.communicate(timeout=120)
        self.assertEqual(k.returncode, 0, err)
        self.assertEqual(json.loads(out), {"count": n, "last": f"py:{n - 1}", "disorder": 0})

    def test_map_counters_from_python_threads_bun_and_deno_exact(self):
        m = sa.SharedMap(self.seg, 0, capacity=64, key_size=8, value_size=8)
        n, keys = 3000, 10
        kids = [peer(rt, "map-add", m.handle(), str(n), str(keys)) for rt in ("bun", "deno")]

        def work():
            for i in range(n):
                m.fetch_add(f"k{i % keys}", 1)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for k in kids:
            _, err = k.communicate(timeout=120)
            self.assertEqual(k.returncode, 0, err)
        self.assertEqual({k: int.from_bytes(v, "little", signed=True) for k, v in m.items()},
                         {f"k{i}": 4 * n // keys for i in range(keys)})

    def test_rwlock_readers_and_writers_in_python_bun_and_deno(self):
        rw = sa.RwLock(self.seg, 64)
        a, b = sa.AtomicU32(self.seg, 0), sa.AtomicU32(self.seg, 4)
        n = 800
        kids = [peer(rt, "rw", rw.handle(), a.handle(), b.handle(), str(n)) for rt in ("bun", "deno")]
        torn = []

        def work():
            for i in range(n):
                if i % 4 == 0:
                    with rw.write():
                        a.store(a.load() + 1)
                        time.sleep(0.0002)  # a write that takes a while: a reader let in would see a != b
                        b.store(b.load() + 1)
                else:
                    with rw.read():
                        seen = a.load()
                        time.sleep(0.0001)  # a read that takes a while: a writer let in would change b meanwhile
                        if seen != b.load():
                            torn.append(i)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outs = []
        for k in kids:
            out, err = k.communicate(timeout=120)
            self.assertEqual(k.returncode, 0, err)
            outs.append(out.strip())
        self.assertEqual((torn, outs), ([], ["0", "0"]), "no reader saw a half-done write")
        self.assertEqual((a.load(), b.load()), (4 * n // 4, 4 * n // 4), "every write counted")

    def test_a_writer_killed_while_writing_hands_the_write_lock_over(self):
        for i, rt in enumerate(("bun", "deno")):
            rw = sa.RwLock(self.seg, 512 + 1024 * i, readers=4)
            k = peer(rt, "rw-hold", rw.handle())
            self.assertEqual(k.stdout.readline().strip(), "locked")
            self.assertEqual(rw.readers, -1)
            os.kill(k.pid, signal.SIGKILL)
            k.communicate(timeout=60)
            if i == 0:
                with self.assertRaises(sa.RwLockOwnerDiedError) as e:
                    rw.acquire_read(timeout=60)  # asked to read: holds the write lock, to repair the data
                self.assertGreater(e.exception.previous_owner, 0)
                self.assertEqual(rw.readers, -1)
                rw.release_write()
            else:
                with self.assertWarnsRegex(sa.OwnerDiedWarning, r"the writer \(thread \d+\) died while writing"):
                    with rw.write():
                        self.assertEqual(rw.readers, -1)
            self.assertEqual(rw.readers, 0)
            with rw.read():
                self.assertEqual(rw.readers, 1)


if __name__ == "__main__":
    unittest.main()
