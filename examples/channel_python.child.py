"""The Python side of channel_python.ts: receive every message of the channel at offset 0 of a
segment through the library's C ABI (ctypes, standard library only).

    python3 channel_python.child.py /segment-name /path/to/libshared_atomic.so
"""

import ctypes, mmap, os, sys

name, lib_path = sys.argv[1], sys.argv[2]
lib = ctypes.CDLL(lib_path)
lib.sa_channel_recv.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_double]
CLOSED = -2

fd = os.open("/dev/shm/" + name.lstrip("/"), os.O_RDWR)
mem = mmap.mmap(fd, os.fstat(fd).st_size)
os.close(fd)
anchor = ctypes.c_char.from_buffer(mem)  # the channel is at offset 0 of the segment
channel = ctypes.addressof(anchor)
buf = ctypes.create_string_buffer(64)
count, last = 0, b""
while (n := lib.sa_channel_recv(channel, buf, len(buf), -1.0)) != CLOSED:  # -1: wait as long as it takes
    count, last = count + 1, buf.raw[:n]
print(f"python received {count}, the last: {last.decode()}")
del anchor
mem.close()
