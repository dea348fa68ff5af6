"""``Channel``: the bounded multi-producer multi-consumer FIFO of byte
messages of src/channel/channel.ts, over the library's ``sa_channel_*``
exports (zig/channel.zig holds the algorithm and the layout), so Python,
Bun, Deno and C send and receive on one channel in one segment.

Blocking calls release the GIL (ctypes does) and wait in slices of 0.2 s,
so a closed segment or Ctrl-C is noticed between them."""

from __future__ import annotations

import codecs
import ctypes
import math
import struct
import threading
import time

from ._library import fn
from ._locks import holds
from ._memory import Placed, SharedMemory

WOULD_BLOCK, CLOSED, TIMED_OUT, TOO_BIG, TOO_SMALL, INVALID, MISMATCH = -1, -2, -3, -4, -5, -6, -7
MAX_CAPACITY, MAX_MESSAGE_SIZE = 1 << 24, 1 << 30
SLICE_S = 0.2
BATCH_BYTES = 64 * 1024
_P, _U32, _U64, _F64, _INT = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_double, ctypes.c_int


class ChannelClosedError(Exception):
    """A send on a closed channel, or a receive on one closed and drained (TypeScript's ChannelClosedError)."""


class _Native:
    """The sa_channel_* exports, bound once."""

    def __init__(self):
        self.bytes = fn("sa_channel_bytes", _U64, _U32, _U32)
        self.init = fn("sa_channel_init", _INT, _P, _U32, _U32)
        self.open = fn("sa_channel_open", _INT, _P, _U64)
        # every call after open takes the configuration the channel was opened with (capacity, message_size)
        self.send = fn("sa_channel_send", _INT, _P, _U32, _U32, ctypes.c_char_p, _U32, _F64)
        self.recv = fn("sa_channel_recv", _INT, _P, _U32, _U32, _P, _U32, _F64)
        self.send_many = fn("sa_channel_send_many", _INT, _P, _U32, _U32, _P, _U32, _F64)
        self.recv_many = fn("sa_channel_recv_many", _INT, _P, _U32, _U32, _P, _U32, _U32, _F64)
        self.close = fn("sa_channel_close", _INT, _P, _U32, _U32)
        self.closed = fn("sa_channel_closed", _INT, _P, _U32, _U32)
        self.length = fn("sa_channel_length", _INT, _P, _U32, _U32)
        self.peek = fn("sa_channel_peek_length", _INT, _P, _U32, _U32)
        self.load = fn("sa_u32_load", _U32, _P)


_native: _Native | None = None


def native() -> _Native:
    global _native
    if _native is None:
        _native = _Native()
    return _native


def _int_in(where: str, param: str, v, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{where}: {param} must be an int in [1, {hi}]; got {v!r}")
    if not 1 <= v <= hi:
        raise ValueError(f"{where}: {param} must be an int in [1, {hi}]; got {v}")
    return v


def _deadline(where: str, timeout) -> float:
    if timeout is None:
        return math.inf
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
        raise ValueError(f"{where}: timeout must be None or a number of seconds >= 0; got {timeout!r}")
    return time.monotonic() + timeout


def _slice_ms(deadline: float) -> float:
    """The native timeout of the next slice: at most SLICE_S, 0 once the deadline passed."""
    return max(0.0, min(SLICE_S, deadline - time.monotonic())) * 1000.0


def _replace_lone(err):
    """Lone surrogates become U+FFFD, as JavaScript's TextEncoder writes them."""
    if isinstance(err, UnicodeEncodeError):
        return b"\xef\xbf\xbd" * (err.end - err.start), err.end
    raise err


codecs.register_error("shared_atomic_js.utf8", _replace_lone)


def utf8(s: str) -> bytes:
    """``s`` as UTF-8, lone surrogates as U+FFFD (the bytes Bun and Deno send for the same string)."""
    return s.encode("utf-8", "shared_atomic_js.utf8")


def _message(where: str, param: str, data, max_len: int) -> bytes:
    """A message's bytes: bytes-like as they are, str as UTF-8; checked against message_size."""
    if isinstance(data, str):
        b = utf8(data)
    elif isinstance(data, bytes):
        b = data
    elif isinstance(data, (bytearray, memoryview)):
        b = bytes(data)
    else:
        raise TypeError(f"{where}: {param} must be bytes, a bytearray, a memoryview or a str; got {type(data).__name__}")
    if len(b) > max_len:
        raise ValueError(f"{where}: {param} must be at most message_size ({max_len}) bytes long; got {len(b)} bytes")
    return b


def _record(b: bytes) -> bytes:
    return struct.pack("<I", len(b)) + b + b"\0" * (-len(b) % 4)


class Channel(Placed):
    """A bounded multi-producer multi-consumer FIFO of byte messages in a SharedMemory, shared with Bun, Deno and C.

    ``Channel(seg, offset, capacity=..., message_size=...)`` makes one in zeroed memory (or adopts the same one);
    ``Channel(seg, offset)`` and ``Channel.from_handle(h)`` open one made elsewhere. ``send``/``recv`` block (with
    an optional ``timeout`` in seconds), ``try_send``/``try_recv`` never do, ``send_many``/``recv_many`` move
    batches, ``close()`` ends it: later sends raise ChannelClosedError, receivers drain what is left, then raise it
    (``for m in ch`` ends)."""

    TYPE, TAG, ALIGN = "channel", 0x43484E31, 8

    def __init__(self, memory: SharedMemory, byte_offset: int = 0, capacity: int | None = None,
                 message_size: int | None = None):
        where = "Channel()"
        if not isinstance(memory, SharedMemory):
            raise TypeError(f"{where}: memory must be a SharedMemory; got {memory!r}")
        if capacity is not None:
            _int_in(where, "capacity", capacity, MAX_CAPACITY)
        if message_size is not None:
            _int_in(where, "message_size", message_size, MAX_MESSAGE_SIZE)
        n = native()
        self.memory, self.byte_offset = memory, byte_offset
        base = memory.address(where, byte_offset, 16, self.ALIGN)
        tag = self._settled_tag(where, base)
        if tag == 0 and capacity is not None and message_size is not None:
            size = int(n.bytes(capacity, message_size))
            base = memory.address(where, byte_offset, size, self.ALIGN)
            r = n.init(base, capacity, message_size)
            if r == MISMATCH:
                tag = self._settled_tag(where, base)
            elif r < 0:
                raise RuntimeError(f"{where}: the library refused the configuration ({capacity}, {message_size}): {r}")
        if tag == 0 and (capacity is None or message_size is None):
            raise TypeError(
                f"{where}: capacity and message_size must both be given to make a Channel (this memory holds none yet)"
            )
        if tag not in (0, self.TAG):
            raise TypeError(f"{where}: memory must be free (zeroed) memory or a Channel; this memory holds "
                            f"{holds(tag)}")
        self.capacity = int(n.load(base + 4))
        self.message_size = int(n.load(base + 8))
        for name, given, have in (("capacity", capacity, self.capacity), ("message_size", message_size, self.message_size)):
            if given is not None and given != have:
                raise ValueError(f"{where}: {name} must be what this Channel already has, {have} (or left out, to "
                                 f"adopt it); got {given}")
        size = int(n.bytes(self.capacity, self.message_size))
        if size == 0:
            raise ValueError(f"{where}: this memory holds a Channel with a bad configuration ({self.capacity}, "
                             f"{self.message_size})")
        self._ch = memory.address(where, byte_offset, size, self.ALIGN)
        if n.open(self._ch, size) != 0:
            raise RuntimeError(f"{where}: the memory does not hold a Channel")
        self._n = n
        self._cfg = (self.capacity, self.message_size)
        self._local = threading.local()

    def _settled_tag(self, where: str, base: int) -> int:
        """The tag word, after waiting out a creator that is writing the configuration."""
        deadline = time.monotonic() + 5
        while True:
            t = int(native().load(base))
            if t != 1:
                return t
            if time.monotonic() > deadline:
                raise RuntimeError(f"{where}: the memory stays half-initialised (did its creator die?)")
            time.sleep(0.001)

    @staticmethod
    def byte_length(capacity: int, message_size: int) -> int:
        """Bytes a channel of this configuration takes (place it at a multiple of 8)."""
        where = "Channel.byte_length"
        return int(native().bytes(_int_in(where, "capacity", capacity, MAX_CAPACITY),
                                  _int_in(where, "message_size", message_size, MAX_MESSAGE_SIZE)))

    # ---- internals

    def _p(self, where: str) -> int:
        self._check_open(where)
        return self._ch

    def _buffer(self, size: int):
        """This thread's receive buffer of at least ``size`` bytes."""
        buf = getattr(self._local, "buf", None)
        if buf is None or len(buf) < size:
            buf = self._local.buf = ctypes.create_string_buffer(size)
        return buf

    def _fail(self, where: str, r: int, detail: str = ""):
        if r == CLOSED:
            raise ChannelClosedError(f"{where}: the channel is closed" + (f" ({detail})" if detail else ""))
        if r == TOO_BIG:
            raise ValueError(f"{where}: a message is longer than message_size ({self.message_size})")
        if r == INVALID:
            raise RuntimeError(f"{where}: the memory no longer holds a Channel (was it overwritten?)")
        raise RuntimeError(f"{where}: unexpected result {r}")

    def _sliced(self, where: str, deadline: float, call) -> int:
        """Runs ``call(timeout_ms)`` in slices until it gives anything but a timeout, or the deadline passes."""
        while True:
            r = call(self._p(where), _slice_ms(deadline))
            if r != TIMED_OUT and r != WOULD_BLOCK:
                return r
            if time.monotonic() >= deadline:
                return TIMED_OUT

    # ---- sending

    def send(self, data, timeout: float | None = None) -> bool:
        """Sends ``data`` (bytes-like, or a str sent as UTF-8), blocking while the channel is full; False if
        ``timeout`` seconds passed first. ChannelClosedError if it is closed."""
        where = "Channel.send"
        deadline = _deadline(where, timeout)
        b = _message(where, "data", data, self.message_size)
        r = self._sliced(where, deadline, lambda p, ms: self._n.send(p, *self._cfg, b, len(b), ms))
        if r >= 0:
            return True
        if r == TIMED_OUT:
            return False
        self._fail(where, r)

    def try_send(self, data) -> bool:
        """Sends ``data`` if there is room now; False if the channel is full. Never blocks."""
        where = "Channel.try_send"
        b = _message(where, "data", data, self.message_size)
        r = self._n.send(self._p(where), *self._cfg, b, len(b), 0.0)
        if r >= 0:
            return True
        if r in (WOULD_BLOCK, TIMED_OUT):
            return False
        self._fail(where, r)

    def send_many(self, messages, timeout: float | None = None) -> int:
        """Sends every message of ``messages`` in order, several per native call (each checked before any is
        sent): how many were sent, all of them or fewer if ``timeout`` passed first. ChannelClosedError if the
        channel closes first (its message says how many were sent)."""
        where = "Channel.send_many"
        deadline = _deadline(where, timeout)
        if isinstance(messages, (str, bytes, bytearray, memoryview)) or not hasattr(messages, "__iter__"):
            raise TypeError(f"{where}: messages must be a list (an iterable) of bytes or str; got {type(messages).__name__}")
        items = [_message(where, f"messages[{i}]", m, self.message_size) for i, m in enumerate(messages)]
        sent = 0
        while sent < len(items):
            at, chunk = 0, []
            while sent + len(chunk) < len(items):
                rec = _record(items[sent + len(chunk)])
                if chunk and at + len(rec) > BATCH_BYTES:
                    break
                chunk.append(rec)
                at += len(rec)
            buf = b"".join(chunk)
            r = self._sliced(where, deadline, lambda p, ms: self._n.send_many(p, *self._cfg, buf, len(chunk), ms))
            if r == CLOSED:
                self._fail(where, r, f"after {sent} of {len(items)} were sent")
            if r in (TIMED_OUT, WOULD_BLOCK):
                return sent
            if r < 0:
                self._fail(where, r)
            sent += r
            if r < len(chunk):
                if self.closed:
                    self._fail(where, CLOSED, f"after {sent} of {len(items)} were sent")
                if time.monotonic() >= deadline:
                    return sent
        return sent

    # ---- receiving

    def _recv_raw(self, where: str, deadline: float):
        buf = self._buffer(self.message_size)
        r = self._sliced(where, deadline, lambda p, ms: self._n.recv(p, *self._cfg, buf, self.message_size, ms))
        if r >= 0:
            return ctypes.string_at(buf, r)
        if r == TIMED_OUT:
            return None
        self._fail(where, r)

    def recv(self, timeout: float | None = None) -> bytes | None:
        """The next message, blocking while the channel is empty; None if ``timeout`` seconds passed first.
        ChannelClosedError once it is closed and drained."""
        where = "Channel.recv"
        return self._recv_raw(where, _deadline(where, timeout))

    def try_recv(self) -> bytes | None:
        """The next message if there is one now; None if empty. Never blocks."""
        return self._recv_raw("Channel.try_recv", 0.0)

    def recv_text(self, timeout: float | None = None) -> str | None:
        """``recv``, decoded as UTF-8."""
        where = "Channel.recv_text"
        b = self._recv_raw(where, _deadline(where, timeout))
        return None if b is None else b.decode("utf-8", "replace")

    def recv_into(self, target, timeout: float | None = None) -> int | None:
        """Receives the next message into ``target`` (a writable bytes-like object: bytearray, memoryview, array)
        from its start, blocking while empty: its length, or None on timeout. A target shorter than the next
        message is a ValueError, and the message stays in the channel."""
        where = "Channel.recv_into"
        try:
            view = memoryview(target)
        except TypeError:
            raise TypeError(f"{where}: target must be a writable bytes-like object (a bytearray, a memoryview); "
                            f"got {type(target).__name__}") from None
        if view.readonly or not view.c_contiguous:
            raise TypeError(f"{where}: target must be writable and contiguous (a bytearray, a memoryview); got a "
                            f"{'read-only' if view.readonly else 'non-contiguous'} {type(target).__name__}")
        deadline = _deadline(where, timeout)
        cap = view.nbytes
        if cap == 0:
            holder = ctypes.create_string_buffer(1)
        else:
            holder = (ctypes.c_char * cap).from_buffer(view.cast("B") if view.format != "B" or view.ndim != 1 else view)
        ptr = ctypes.addressof(holder)
        r = self._sliced(where, deadline, lambda p, ms: self._n.recv(p, *self._cfg, ptr, cap, ms))
        if r == TOO_SMALL:
            need = self._n.peek(self._ch, *self._cfg)
            raise ValueError(f"{where}: target must be at least as long as the next message ({need} bytes); got {cap} bytes")
        if r >= 0:
            return r
        if r == TIMED_OUT:
            return None
        self._fail(where, r)

    def recv_many(self, max: int, timeout: float | None = None) -> list[bytes]:
        """Up to ``max`` messages in one native call: waits for the first (up to ``timeout`` seconds), then takes
        those already there. Empty if the time ran out; ChannelClosedError once closed and drained."""
        where = "Channel.recv_many"
        if isinstance(max, bool) or not isinstance(max, int):
            raise TypeError(f"{where}: max must be an int >= 1; got {max!r}")
        if max < 1:
            raise ValueError(f"{where}: max must be an int >= 1; got {max}")
        deadline = _deadline(where, timeout)
        size = (self.message_size + 8 + 7) // 8 * 8
        size = size if size > BATCH_BYTES else BATCH_BYTES
        buf = self._buffer(size)
        want = min(max, 0xFFFFFFFF)
        r = self._sliced(where, deadline, lambda p, ms: self._n.recv_many(p, *self._cfg, buf, size, want, ms))
        if r == TIMED_OUT:
            return []
        if r < 0:
            self._fail(where, r)
        out, at = [], 0
        for _ in range(r):
            (n,) = struct.unpack_from("<I", buf, at)
            out.append(ctypes.string_at(ctypes.addressof(buf) + at + 4, n))
            at += 4 + ((n + 3) & ~3)
        return out

    # ---- state

    def close(self) -> bool:
        """Closes the channel (wakes every blocked sender and receiver, in every process): True if this call
        closed it."""
        return self._n.close(self._p("Channel.close"), *self._cfg) == 1

    @property
    def closed(self) -> bool:
        """Whether it is closed."""
        return self._n.closed(self._p("Channel.closed"), *self._cfg) == 1

    def __len__(self) -> int:
        """Messages sent and not yet received (a snapshot)."""
        return max(0, self._n.length(self._p("Channel.__len__"), *self._cfg))

    def __iter__(self):
        """Receives until the channel is closed and drained."""
        while True:
            try:
                m = self.recv()
            except ChannelClosedError:
                return
            yield m

    def __repr__(self) -> str:
        return (f"Channel(capacity={self.capacity}, message_size={self.message_size} @ {self.byte_offset} in "
                f"{self.memory.name!r})")
