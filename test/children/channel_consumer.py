"""A Python consumer for the channel tests (ctypes, standard library only):
receives until the channel closes, in batches (sa_channel_recv_many), and for
message i of producer id sets byte region + id * count + i of the seen segment.

    python3 channel_consumer.py <lib> <channel segment> <seen segment> <region> <count>

Prints {"got": ..., "disorder": ...}.
"""

import ctypes
import json
import mmap
import os
import struct
import sys

lib_path, ch_name, seen_name, region, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
lib = ctypes.CDLL(lib_path)
lib.sa_channel_open.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
lib.sa_channel_recv_many.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_double]
CLOSED = -2


def mapped(name):
    fd = os.open("/dev/shm/" + name.lstrip("/"), os.O_RDWR)
    try:
        return mmap.mmap(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


ch_mem, seen = mapped(ch_name), mapped(seen_name)
anchor = ctypes.c_char.from_buffer(ch_mem)
ch = ctypes.addressof(anchor)
assert lib.sa_channel_open(ch, len(ch_mem)) == 0, "not a channel"
cfg = struct.unpack_from("<II", ch_mem, 4)  # capacity, message_size: the configuration it was opened with
buf = ctypes.create_string_buffer(64 * 1024)
last, got, disorder = {}, 0, 0
while True:
    n = lib.sa_channel_recv_many(ch, *cfg, buf, len(buf), 512, -1.0)
    if n == CLOSED:
        break
    assert n > 0, n
    raw, at = buf.raw, 0
    for _ in range(n):
        (length,) = struct.unpack_from("<I", raw, at)
        pid, i = struct.unpack_from("<II", raw, at + 4)
        assert length == 8
        if i <= last.get(pid, -1):
            disorder += 1
        last[pid] = i
        seen[region + pid * count + i] += 1
        got += 1
        at += 4 + ((length + 3) & ~3)
del anchor
print(json.dumps({"got": got, "disorder": disorder}))
