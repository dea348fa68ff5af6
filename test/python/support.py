"""Shared helpers for the Python tests: where the library is, how to load it,
and a small ELF reader for its symbol tables (standard library only)."""

from __future__ import annotations

import ctypes
import os
import platform
import struct
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lib_path() -> Path:
    """The built library: $SHARED_ATOMIC_LIB, or the repo's zig-out/lib."""
    env = os.environ.get("SHARED_ATOMIC_LIB")
    if env:
        return Path(env)
    if sys.platform == "win32":
        return ROOT / "zig-out" / "bin" / "shared_atomic.dll"
    ext = "dylib" if sys.platform == "darwin" else "so"
    return ROOT / "zig-out" / "lib" / f"libshared_atomic.{ext}"


def load() -> ctypes.CDLL:
    p = lib_path()
    if not p.exists():
        raise FileNotFoundError(f"{p} not found: run `zig build -Doptimize=ReleaseFast` or set SHARED_ATOMIC_LIB")
    return ctypes.CDLL(str(p))


# ------------------------------------------------------------ C type facts

_machine = platform.machine().lower()
_arm = _machine.startswith(("arm", "aarch64"))
_darwin = sys.platform == "darwin"
_windows = sys.platform == "win32"

# `char`: signed on x86, Apple and Windows; unsigned on Arm Linux and most
# other non-x86 Linux targets (mirrors zig's target rules).
CHAR_SIGNED = _windows or _darwin or _machine in ("x86_64", "amd64", "i386", "i686", "x86")
c_char_int = ctypes.c_byte if CHAR_SIGNED else ctypes.c_ubyte

# `wchar_t` (mirrors zig/seed.zig's c_wchar).
if _windows:
    c_wchar_int = ctypes.c_uint16
elif _darwin or not _arm:
    c_wchar_int = ctypes.c_int32
else:
    c_wchar_int = ctypes.c_uint32


def int_info(ct) -> tuple[int, bool]:
    """(bits, signed) of a ctypes integer type."""
    bits = 8 * ctypes.sizeof(ct)
    signed = ct(-1).value == -1
    return bits, signed


def wrap(x: int, bits: int, signed: bool) -> int:
    x &= (1 << bits) - 1
    if signed and x >= 1 << (bits - 1):
        x -= 1 << bits
    return x


def in_threads(work, count: int) -> None:
    """Runs ``work()`` in ``count`` threads at once and waits for them all."""
    threads = [threading.Thread(target=work) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# ----------------------------------------------------------------- ELF


class Symbol:
    __slots__ = ("name", "defined", "bind", "type", "table")

    def __init__(self, name, defined, bind, type_, table):
        self.name, self.defined, self.bind, self.type, self.table = name, defined, bind, type_, table

    def __repr__(self):
        return f"Symbol({self.name!r}, defined={self.defined}, bind={self.bind}, type={self.type}, {self.table})"


STB = {0: "LOCAL", 1: "GLOBAL", 2: "WEAK", 10: "GNU_UNIQUE"}
STT = {0: "NOTYPE", 1: "OBJECT", 2: "FUNC", 3: "SECTION", 4: "FILE", 6: "TLS", 10: "GNU_IFUNC"}


def elf_symbols(path: Path) -> list[Symbol]:
    """Every symbol of .dynsym and .symtab of an ELF file."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path} is not an ELF file")
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
        sh_fmt, sym_fmt = end + "IIQQQQIIQQ", end + "IBBHQQ"
    else:
        shoff, = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x2E)
        sh_fmt, sym_fmt = end + "IIIIIIIIII", end + "IIIBBH"
    sections = [struct.unpack_from(sh_fmt, data, shoff + i * shentsize) for i in range(shnum)]

    def cstr(off):
        return data[off : data.index(b"\0", off)].decode()

    out = []
    for sh in sections:
        sh_type = sh[1]
        if sh_type not in (2, 11):  # SHT_SYMTAB, SHT_DYNSYM
            continue
        offset, size, link, entsize = sh[4], sh[5], sh[6], sh[9]
        stroff = sections[link][4]
        for i in range(1, size // entsize):
            e = struct.unpack_from(sym_fmt, data, offset + i * entsize)
            if is64:
                st_name, st_info, _other, st_shndx = e[0], e[1], e[2], e[3]
            else:
                st_name, st_info, _other, st_shndx = e[0], e[3], e[4], e[5]
            out.append(
                Symbol(
                    cstr(stroff + st_name),
                    st_shndx != 0,
                    STB.get(st_info >> 4, str(st_info >> 4)),
                    STT.get(st_info & 0xF, str(st_info & 0xF)),
                    "dynsym" if sh_type == 11 else "symtab",
                )
            )
    return out


def exported_symbols(path: Path) -> dict[str, str]:
    """What the library exports: defined global or weak symbols of .dynsym,
    name -> symbol type (FUNC, OBJECT, ...)."""
    return {
        s.name: s.type
        for s in elf_symbols(path)
        if s.table == "dynsym" and s.defined and s.bind in ("GLOBAL", "WEAK", "GNU_UNIQUE")
    }
