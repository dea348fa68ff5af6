"""A Python child for test/map_processes.test.ts: maps the segment (/dev/shm)
and calls the library's sa_map_* through ctypes, on the SharedMap at offset 0.

    map_child.py <library> <shm name> add <count> <keys> <gate offset>
        count in at the gate (u32: +1, then wait for >= 0x10000), then count x
        sa_map_add(key<i % keys>, 1); prints "done <count>"
"""
import ctypes
import mmap
import os
import sys
import time

lib_path, name, mode = sys.argv[1], sys.argv[2], sys.argv[3]
lib = ctypes.CDLL(lib_path)
U32 = ctypes.c_uint32
lib.sa_map_add.argtypes = [ctypes.c_void_p, U32, U32, U32, ctypes.c_char_p, ctypes.c_uint32, ctypes.c_int64, ctypes.c_double,
                           ctypes.POINTER(ctypes.c_int64)]
lib.sa_map_add.restype = ctypes.c_int
lib.sa_u32_fetch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
lib.sa_u32_load.argtypes = [ctypes.c_void_p]
lib.sa_u32_load.restype = ctypes.c_uint32

fd = os.open("/dev/shm" + name, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
mm = mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
os.close(fd)
base = ctypes.addressof(ctypes.c_char.from_buffer(mm))
cfg = tuple(lib.sa_u32_load(base + off) for off in (4, 8, 12))  # the map's configuration, as opened

if mode == "add":
    count, keys, gate_at = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    gate = base + gate_at
    lib.sa_u32_fetch_add(gate, 1)
    while lib.sa_u32_load(gate) < 0x10000:
        time.sleep(0.001)
    names = [b"key%d" % k for k in range(keys)]
    old = ctypes.c_int64()
    add = lib.sa_map_add
    for i in range(count):
        k = names[i % keys]
        rc = add(base, *cfg, k, len(k), 1, 0.0, ctypes.byref(old))
        if rc != 0:
            raise SystemExit(f"sa_map_add returned {rc}")
    print(f"done {count}")
