"""The Python side of python.ts: map a shared-atomic segment and add to the
AtomicU64 at offset 0 through the library's C ABI (ctypes, standard library only).

    python3 python.child.py /segment-name /path/to/libshared_atomic.so 5000
"""

import ctypes
import mmap
import os
import sys

name, lib_path, times = sys.argv[1], sys.argv[2], int(sys.argv[3])

lib = ctypes.CDLL(lib_path)
lib.sa_u64_fetch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
lib.sa_u64_fetch_add.restype = ctypes.c_uint64

fd = os.open("/dev/shm/" + name.lstrip("/"), os.O_RDWR)
try:
    with mmap.mmap(fd, 4096) as mem:
        cell = ctypes.c_uint64.from_buffer(mem, 0)  # the same 8 bytes as AtomicU64(segment, 0)
        address = ctypes.addressof(cell)
        for _ in range(times):
            lib.sa_u64_fetch_add(address, 1)  # a real atomic add, shared with the JavaScript side
        del cell  # release the buffer before the mapping closes
finally:
    os.close(fd)
print(f"python added {times}")
