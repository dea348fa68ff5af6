"""Finding and loading libshared_atomic, the same library Bun and Deno load.

In order (the first that exists wins):

1. ``SHARED_ATOMIC_LIB``: the path of the library;
2. the npm platform package ``@shared-atomic/<platform>`` in a ``node_modules``
   above this module (when it ships inside the npm package) or above the working
   directory: what ``npm install shared-atomic`` / ``bun add`` put there;
3. a local build: ``zig-out/lib`` of the checkout this module lives in.

No compiler is needed: the library is called through ctypes.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
SCOPE = "@shared-atomic"


def library_file() -> str:
    """The library's file name on this OS."""
    if sys.platform == "win32":
        return "shared_atomic.dll"
    return "libshared_atomic.dylib" if sys.platform == "darwin" else "libshared_atomic.so"


def platform_key() -> str:
    """The npm platform package's key for this machine: linux-x64-gnu, darwin-arm64, ..."""
    os_name = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    if os_name != "linux":
        return f"{os_name}-{arch}"
    libc = "gnu" if platform.libc_ver()[0] == "glibc" else "musl"
    return f"{os_name}-{arch}-{libc}"


def candidates() -> list[tuple[str, Path]]:
    """Where the library is looked for, in order: (what, path)."""
    out: list[tuple[str, Path]] = []
    env = os.environ.get("SHARED_ATOMIC_LIB")
    if env:
        return [("SHARED_ATOMIC_LIB", Path(env))]
    key, file = platform_key(), library_file()
    seen: set[Path] = set()
    for start in (_HERE, Path.cwd()):
        for d in (start, *start.parents):
            if d in seen:
                continue
            seen.add(d)
            out.append(("npm", d / "node_modules" / SCOPE / key / file))
    # this module inside the npm package: node_modules/shared-atomic/python/shared_atomic_js
    out.append(("npm", _HERE.parents[2] / SCOPE / key / file))
    build = _HERE.parents[1] / "zig-out" / ("bin" if sys.platform == "win32" else "lib") / file
    out.append(("zig-out", build))
    return out


def find() -> Path:
    """The library's path; a FileNotFoundError says where it looked and how to provide one."""
    tried = candidates()
    for _, path in tried:
        if path.is_file():
            return path
    key = platform_key()
    raise FileNotFoundError(
        f"shared_atomic_js: no libshared_atomic for {key}: set SHARED_ATOMIC_LIB to its path, install the npm "
        f"package shared-atomic (with its platform package {SCOPE}/{key}) in this project, or build a checkout "
        f"with `zig build -Doptimize=ReleaseFast`. Looked at: " + ", ".join(str(p) for _, p in tried[:4])
        + (", ..." if len(tried) > 4 else "")
    )


_lib: ctypes.CDLL | None = None


def lib() -> ctypes.CDLL:
    """The loaded library (loaded once)."""
    global _lib
    if _lib is None:
        _lib = ctypes.CDLL(str(find()))
    return _lib


def fn(name: str, restype, *argtypes):
    """The export `name` with its ctypes signature set."""
    f = getattr(lib(), name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f
