"""A Python child for the cross-process tests: maps a shared-atomic segment
with mmap and calls the library through ctypes.

    child.py <library> <shm name> <byte offset> <count> [<gate offset>]
        (wait at the gate), then count x sa_u64_fetch_add(p, 1)
"""
import ctypes
import mmap
import os
import sys
import time

lib_path, name, offset, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lib = ctypes.CDLL(lib_path)
lib.sa_u64_fetch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
lib.sa_u64_fetch_add.restype = ctypes.c_uint64
fd = os.open("/dev/shm" + name, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
mm = mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
os.close(fd)
base = ctypes.addressof(ctypes.c_char.from_buffer(mm))
if len(sys.argv) > 5:  # the gate protocol of child.ts: count in, wait for +0x10000
    lib.sa_u32_fetch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.sa_u32_load.argtypes = [ctypes.c_void_p]
    lib.sa_u32_load.restype = ctypes.c_uint32
    gate = base + int(sys.argv[5])
    lib.sa_u32_fetch_add(gate, 1)
    while lib.sa_u32_load(gate) < 0x10000:
        time.sleep(0.001)
for _ in range(count):
    lib.sa_u64_fetch_add(base + offset, 1)
