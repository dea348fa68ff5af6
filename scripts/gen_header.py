#!/usr/bin/env python3
"""Generates zig/shared_atomic.h, the C header of libshared_atomic.

The declarations come from the Zig sources, not from a second hand-written list:

- the `sa_<type>_<op>` product: parsed from zig/table.zig (types x ops), with
  the naming rules of zig/exports.zig (`_explicit`, `_f64`, `_f64_explicit`);
- the wide values (`sa_u128_*`, `sa_bytes<N>_*`): parsed from zig/wide.zig's
  table, values by pointer;
- the seed ABI (`size_t_sub_and_fetch` ...): parsed from zig/seed.zig's table
  (types x operation groups), with the seed's C type names;
- every other export: each `@export(&f, .{ .name = "..." })` in zig/*.zig whose
  `f` is a plain `fn f(...) callconv(.c) R`, translated from its Zig signature.

test/python/test_header.py proves the header declares exactly what the built
library exports. Python 3 standard library only.

    python3 scripts/gen_header.py           # rewrite zig/shared_atomic.h
    python3 scripts/gen_header.py --check   # exit 1 if it is out of date
    python3 scripts/gen_header.py --stdout  # print it
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZIG = ROOT / "zig"
HEADER = ZIG / "shared_atomic.h"


class ParseError(Exception):
    pass


def _declarator(t: str, n: str) -> str:
    """`int x`, `char *x`, or `void (*x)(int a)` for a function pointer."""
    if "(*)" in t:
        return t.replace("(*)", f"(*{n})", 1)
    return f"{t}{'' if t.endswith('*') else ' '}{n}"


@dataclass
class Decl:
    """One exported C function."""

    name: str
    ret: str
    params: list[tuple[str, str]]  # (C type, name)
    # Preprocessor condition the declaration sits under, or None.
    cond: str | None = None
    # Present in some builds only (see the comment of its group).
    optional: bool = False
    # A doc comment, for the hand-written functions.
    doc: str = ""

    def c(self) -> str:
        ps = ", ".join(_declarator(t, n) for t, n in self.params) or "void"
        sep = "" if self.ret.endswith("*") else " "
        return f"{self.ret}{sep}{self.name}({ps});"


@dataclass
class Group:
    title: str
    comment: list[str]
    decls: list[Decl] = field(default_factory=list)


# ------------------------------------------------------------- zig/table.zig

# Zig value type -> C type for the sa_* functions.
SA_CTYPES = {
    "i8": "int8_t",
    "u8": "uint8_t",
    "i16": "int16_t",
    "u16": "uint16_t",
    "i32": "int32_t",
    "u32": "uint32_t",
    "i64": "int64_t",
    "u64": "uint64_t",
    "isize": "intptr_t",
    "usize": "uintptr_t",
    "f32": "float",
    "f64": "double",
    "bool": "bool",
}

SHAPES = {"load", "store", "rmw", "cmpxchg", "cas", "cas_weak"}


def _block(src: str, start: str, what: str) -> str:
    """The text from `start` to the matching `};` at the same depth."""
    i = src.find(start)
    if i < 0:
        raise ParseError(f"{what}: `{start}` not found")
    depth = 0
    for j in range(i + len(start) - 1, len(src)):
        ch = src[j]
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
            if depth == 0:
                end = src.find(";", j)
                return src[i : end + 1]
    raise ParseError(f"{what}: `{start}` is not closed")


def _strip_comments(src: str) -> str:
    return re.sub(r"//[^\n]*", "", src)


def parse_table(path: Path = ZIG / "table.zig"):
    """Returns (types, ops) of zig/table.zig as plain dicts, in table order."""
    src = _strip_comments(path.read_text())
    kinds_consts = {
        m.group(1): re.findall(r"\.(\w+)", m.group(2))
        for m in re.finditer(r"const (\w+) = &\[_\]Kind\{([^}]*)\};", src)
    }

    types = []
    body = _block(src, "pub const types = [_]Type{", "table.zig types")
    body = body[body.index("{") + 1 :]
    for m in re.finditer(r"\.\{([^{}]*)\}", body):
        fields = dict(re.findall(r"\.(\w+)\s*=\s*([^,]+?)\s*(?:,|$)", m.group(1)))
        try:
            t = {
                "name": fields["name"].strip('"'),
                "T": fields["T"],
                "kind": fields["kind"].lstrip("."),
                "number_path": fields.get("number_path") == "true",
            }
        except KeyError as e:
            raise ParseError(f"table.zig type entry without {e}: {m.group(0)}") from None
        if t["T"] not in SA_CTYPES:
            raise ParseError(f"table.zig: no C type known for Zig type {t['T']}; add it to SA_CTYPES")
        types.append(t)
    if not types:
        raise ParseError("table.zig: no types parsed")

    # rmwPair(name, r, kinds) yields fetch_<name> (old) then <name>_fetch (new);
    # check that the function still says so before mirroring it.
    pair = _block(src, "fn rmwPair(", "table.zig rmwPair")
    a, b = pair.find('"fetch_" ++ name'), pair.find('name ++ "_fetch"')
    if not (0 <= a < b):
        raise ParseError("table.zig: rmwPair no longer yields fetch_<op> then <op>_fetch")

    ops = []
    body = _block(src, "pub const ops = [_]Op{", "table.zig ops")
    for m in re.finditer(r'\.\{\s*\.name = "(\w+)",\s*\.shape = \.(\w+)[^}]*?\.kinds = (\w+)\s*\}|rmwPair\("(\w+)",\s*\.[@"\w]+,\s*(\w+)\)', body):
        if m.group(1):
            name, shape, kinds = m.group(1), m.group(2), m.group(3)
            if shape not in SHAPES:
                raise ParseError(f"table.zig: unknown shape .{shape}")
            ops.append({"name": name, "shape": shape, "kinds": kinds_consts[kinds], "new": False})
        else:
            name, kinds = m.group(4), kinds_consts[m.group(5)]
            ops.append({"name": "fetch_" + name, "shape": "rmw", "kinds": kinds, "new": False})
            ops.append({"name": name + "_fetch", "shape": "rmw", "kinds": kinds, "new": True})
    if not ops:
        raise ParseError("table.zig: no ops parsed")
    return types, ops


def sa_groups() -> list[Group]:
    """The sa_* product, in the order zig/exports.zig exports it."""
    types, ops = parse_table()
    groups = []
    for t in types:
        V = SA_CTYPES[t["T"]]
        kind = t["kind"]
        note = {
            "int": "wrapping arithmetic",
            "float": "add/sub/max/min by a compare-exchange loop; max/min ignore a NaN operand, -0 < +0; compares are bitwise",
            "bool": "one byte holding 0 or 1",
        }[kind]
        comment = [f"{t['name']}: {V}, {note}."]
        if t["number_path"]:
            comment.append("The _f64 variants take and return the value as a double (JavaScript's number path):")
            comment.append("doubles convert saturating, NaN to 0; results beyond 2^53 round.")
        g = Group(f"sa_{t['name']}", comment)
        for op in ops:
            if kind not in op["kinds"]:
                continue
            base = f"sa_{t['name']}_{op['name']}"
            variants = [("", V)]
            if t["number_path"] and op["shape"] != "cas_weak":
                variants.append(("_f64", "double"))
            for suffix, X in variants:
                ret, params = _sa_signature(op["shape"], V, X)
                g.decls.append(Decl(base + suffix, ret, params))
                g.decls.append(Decl(base + suffix + "_explicit", ret, params + [("int", "order")]))
        # exports.zig emits base, base_explicit, base_f64, base_f64_explicit
        groups.append(g)
    return groups


def _sa_signature(shape: str, V: str, X: str):
    """C signature of an sa_* function: V is the memory's type, X the value's."""
    p = (f"{V} *", "p")
    return {
        "load": (X, [(f"const {V} *", "p")]),
        "store": ("void", [p, (X, "v")]),
        "rmw": (X, [p, (X, "v")]),
        "cmpxchg": (X, [p, (X, "expected"), (X, "desired")]),
        "cas": ("bool", [p, (X, "expected"), (X, "desired")]),
        "cas_weak": ("bool", [p, (f"{X} *", "expected"), (X, "desired")]),
    }[shape]


# -------------------------------------------------------------- zig/seed.zig

# Zig type in seed.zig's table -> the seed's C type.
SEED_CTYPES = {
    "bool": "bool",
    "c_char": "char",
    "u8": "unsigned char",
    "c_short": "short",
    "c_ushort": "unsigned short",
    "c_int": "int",
    "c_uint": "unsigned int",
    "c_long": "long",
    "c_ulong": "unsigned long",
    "c_longlong": "long long",
    "c_ulonglong": "unsigned long long",
    "usize": "size_t",
    "isize": "ssize_t",
    "c_wchar": "wchar_t",
    "f32": "float",
    "f64": "double",
    "c_longdouble": "long double",
}

SEED_NOTES = {
    "bool": "bool (_Bool): one byte; returned booleans are byte != 0.",
    "byte": "char: signed on x86_64, Apple and Windows; unsigned on Arm and most other Linux targets.",
    "long": "long: 64-bit on Linux and macOS, 32-bit on Windows.",
    "ulong": "unsigned long: 64-bit on Linux and macOS, 32-bit on Windows.",
    "wchar": "wchar_t: 32-bit, signed except on Arm Linux (unsigned); 16-bit unsigned on Windows.",
    "longdouble": "long double: store only, and only where it can be stored lock-free: x86_64 with"
    " cmpxchg16b (the default build; 80-bit x87 in 16 bytes), aarch64, and where long double is a double."
    " A library built for x86_64 without cx16 leaves it out rather than take a lock.",
}


def parse_seed(path: Path = ZIG / "seed.zig"):
    """Returns (types, ops) of zig/seed.zig's table."""
    src = _strip_comments(path.read_text())
    consts = {
        m.group(1): re.findall(r"\.(\w+)", m.group(2))
        for m in re.finditer(r"const (\w+) = &\[_\]Group\{([^}]*)\};", src)
    }
    types = []
    body = _block(src, "pub const types = [_]Type{", "seed.zig types")
    for m in re.finditer(r'\.\{\s*\.name = "(\w+)",\s*\.T = (\w+),\s*\.groups = (&\.\{[^}]*\}|\w+)\s*\}', body):
        name, T, g = m.groups()
        groups = re.findall(r"\.(\w+)", g) if g.startswith("&") else consts[g]
        if T not in SEED_CTYPES:
            raise ParseError(f"seed.zig: no C type known for Zig type {T}; add it to SEED_CTYPES")
        optional = bool(re.search(r"if \(\w+\)\s*\[_\]Type\{\s*" + re.escape(m.group(0)), body))
        types.append({"name": name, "T": T, "groups": groups, "optional": optional})
    if not types:
        raise ParseError("seed.zig: no types parsed")

    pair = _block(src, "fn rmwPair(", "seed.zig rmwPair")
    a, b = pair.find('name ++ "_and_fetch"'), pair.find('"fetch_and_" ++ name')
    if not (0 <= a < b):
        raise ParseError("seed.zig: rmwPair no longer yields <op>_and_fetch then fetch_and_<op>")
    ops = []
    body = _block(src, "pub const op_list = [_]Op{", "seed.zig ops")
    for m in re.finditer(r'\.\{\s*\.name = "(\w+)",\s*\.group = \.(\w+),\s*\.shape = \.(\w+)[^}]*\}|rmwPair\("(\w+)",\s*\.[@"\w]+,\s*\.(\w+)\)', body):
        if m.group(1):
            ops.append({"name": m.group(1), "group": m.group(2), "shape": m.group(3)})
        else:
            ops.append({"name": m.group(4) + "_and_fetch", "group": m.group(5), "shape": "rmw"})
            ops.append({"name": "fetch_and_" + m.group(4), "group": m.group(5), "shape": "rmw"})
    if not ops:
        raise ParseError("seed.zig: no ops parsed")
    return types, ops


def seed_groups() -> list[Group]:
    types, ops = parse_seed()
    groups = []
    for t in types:
        T = SEED_CTYPES[t["T"]]
        note = SEED_NOTES.get(t["name"], f"{T}.")
        g = Group(t["name"], [f"{t['name']}_*: {note}"])
        for op in ops:
            if op["group"] not in t["groups"]:
                continue
            ret, params = {
                "load": (T, [(f"{T} *", "v")]),
                "store": ("void", [(f"{T} *", "v"), (f"{T} *", "n")]),
                "shift": ("void", [(f"{T} *", "v"), (f"{T} *", "n"), (f"{T} *", "r")]),
                "cas": ("bool", [(f"{T} *", "v"), (f"{T} *", "e"), (T, "n")]),
                "rmw": (T, [(f"{T} *", "v"), (T, "n" if op["name"] == "get_and_set" else "i")]),
            }[op["shape"]]
            g.decls.append(Decl(f"{t['name']}_{op['name']}", ret, params, optional=t["optional"]))
        groups.append(g)
    return groups


# -------------------------------------------------------------- zig/wide.zig

# wide.zig type -> the C type its values are read and written as.
WIDE_CTYPES = {"i128": "sa_int128_t", "u128": "sa_uint128_t"}

WIDE_PRELUDE = """\
/* 128-bit integers, as the sa_i128_* and sa_u128_* functions take them (by
 * pointer). Where the compiler has no __int128 (MSVC): two 64-bit words in
 * memory order. */
#if defined(__SIZEOF_INT128__)
__extension__ typedef __int128 sa_int128_t;
__extension__ typedef unsigned __int128 sa_uint128_t;
#else
typedef struct sa_int128_t { uint64_t w[2]; } sa_int128_t;
typedef struct sa_uint128_t { uint64_t w[2]; } sa_uint128_t;
#endif
"""


def parse_wide(path: Path = ZIG / "wide.zig"):
    """Returns (types, ops) of zig/wide.zig's table, or ([], []) if it has none."""
    src = _strip_comments(path.read_text()) if path.exists() else ""
    if "pub const types = [_]Type{" not in src:
        return [], []
    types = []
    body = _block(src, "pub const types = [_]Type{", "wide.zig types")
    for m in re.finditer(r'\.\{\s*\.name = "(\w+)",\s*\.T = (\w+),\s*\.kind = \.(\w+)\s*\}', body):
        name, T, kind = m.groups()
        bits = re.fullmatch(r"[iu](\d+)", T)
        if not bits:
            raise ParseError(f"wide.zig: type {name} is held as {T}, not an integer")
        types.append({"name": name, "T": T, "kind": kind, "bits": int(bits.group(1))})
    if not types:
        raise ParseError("wide.zig: no types parsed")
    if not re.search(r"return @bitSizeOf\(t\.T\) <= 64 or lock_free;", src):
        raise ParseError("wide.zig: available() changed; update parse_wide()")
    if not re.search(r"return !op\.int_only or kind == \.int;", src):
        raise ParseError("wide.zig: supports() changed; update parse_wide()")
    pair = _block(src, "fn pair(", "wide.zig pair")
    a, b = pair.find('"fetch_" ++ name'), pair.find('name ++ "_fetch"')
    if not (0 <= a < b):
        raise ParseError("wide.zig: pair no longer yields fetch_<op> then <op>_fetch")
    ops = []
    body = _block(src, "pub const wide_ops = [_]Op{", "wide.zig ops")
    for m in re.finditer(r'\.\{\s*\.name = "(\w+)",\s*\.shape = \.(\w+)[^}]*\}|pair\("(\w+)",\s*\.[@"\w]+,\s*(true|false)\)', body):
        if m.group(1):
            if m.group(2) not in ("load", "store", "rmw", "cmpxchg", "cmpxchg_weak"):
                raise ParseError(f"wide.zig: unknown shape .{m.group(2)}")
            ops.append({"name": m.group(1), "shape": m.group(2), "int_only": False})
        else:
            io = m.group(4) == "true"
            ops.append({"name": "fetch_" + m.group(3), "shape": "rmw", "int_only": io})
            ops.append({"name": m.group(3) + "_fetch", "shape": "rmw", "int_only": io})
    if not ops:
        raise ParseError("wide.zig: no ops parsed")
    return types, ops


def wide_groups() -> list[Group]:
    """The wide product, in the order zig/wide.zig exports it."""
    types, ops = parse_wide()
    groups = []
    for t in types:
        if t["kind"] == "int":
            T = WIDE_CTYPES[t["name"]]
            comment = [f"{t['name']}: {T}, wrapping arithmetic, by pointer."]
        else:
            T = "uint8_t"
            comment = [f"{t['name']}: {t['bits'] // 8} bytes in memory order (p aligned to {t['bits'] // 8}); bitwise operations only."]
        optional = t["bits"] > 64
        if optional:
            comment.append("Only where a 16-byte compare-exchange is lock-free: sa_wide_lock_free() says whether this build has them.")
        g = Group(f"sa_{t['name']}", comment)
        for op in ops:
            if op["int_only"] and t["kind"] != "int":
                continue
            params = {
                "load": [(f"{T} *", "p"), (f"{T} *", "out")],
                "store": [(f"{T} *", "p"), (f"const {T} *", "value")],
                "rmw": [(f"{T} *", "p"), (f"{T} *", "io")],
                "cmpxchg": [(f"{T} *", "p"), (f"{T} *", "expected"), (f"const {T} *", "desired")],
                "cmpxchg_weak": [(f"{T} *", "p"), (f"{T} *", "expected"), (f"const {T} *", "desired")],
            }[op["shape"]]
            ret = "bool" if op["shape"].startswith("cmpxchg") else "void"
            base = f"sa_{t['name']}_{op['name']}"
            g.decls.append(Decl(base, ret, params, optional=optional))
            g.decls.append(Decl(base + "_explicit", ret, params + [("int", "order")], optional=optional))
        groups.append(g)
    return groups


# ------------------------------------------------- hand-written C functions

ZIG_SCALARS = {
    "void": "void",
    "bool": "bool",
    "c_char": "char",
    "c_short": "short",
    "c_ushort": "unsigned short",
    "c_int": "int",
    "c_uint": "unsigned int",
    "c_long": "long",
    "c_ulong": "unsigned long",
    "c_longlong": "long long",
    "c_ulonglong": "unsigned long long",
    "c_longdouble": "long double",
    "anyopaque": "void",
    **SA_CTYPES,
}


def zig_to_c(t: str, aliases: dict[str, str] | None = None) -> str:
    """Translates a Zig parameter or return type to a C type. A function
    pointer comes back as `R (*)(params)`; Decl.c() puts the name inside."""
    aliases = aliases or {}
    t = " ".join(t.split())
    if t in aliases:
        return zig_to_c(aliases[t], aliases)
    if t == "[*:0]const u8":
        return "const char *"
    if t == "[*:0]u8":
        return "char *"
    m = re.fullmatch(r"\??\*const fn ?\((.*)\) callconv\(\.c\) (.+)", t)
    if m:
        ps = [_param(p, aliases) for p in _split_params(m.group(1))]
        args = ", ".join(f"{ct} {n}".replace("* ", "*") if n else ct for ct, n in ps) or "void"
        return f"{zig_to_c(m.group(2), aliases)} (*)({args})"
    m = re.fullmatch(r"\??(?:\*|\[\*\]|\[\*:0\]) ?(const )?(?:volatile )?(.+)", t)
    if m:
        inner = zig_to_c(m.group(2), aliases)
        return f"{'const ' if m.group(1) else ''}{inner} *".replace("* *", "**")
    if t in ZIG_SCALARS:
        return ZIG_SCALARS[t]
    raise ParseError(f"no C type known for Zig type `{t}`; extend zig_to_c()")


def _param(p: str, aliases: dict[str, str]) -> tuple[str, str]:
    if ":" in p:
        name, ztype = (x.strip() for x in p.split(":", 1))
        return zig_to_c(ztype, aliases), name
    return zig_to_c(p, aliases), ""


def _split_params(s: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [p.strip() for p in out if p.strip()]


# builtin.os.tag tests -> C preprocessor tests.
OS_MACROS = {
    "linux": "defined(__linux__)",
    "macos": "defined(__APPLE__)",
    "windows": "defined(_WIN32)",
    "freebsd": "defined(__FreeBSD__)",
}


def zig_cond_to_c(cond: str, consts: dict[str, str]) -> str:
    """Translates a comptime OS test (`builtin.os.tag != .windows`,
    `is_linux or is_darwin` with those consts in the file) to #if syntax."""
    out = []
    for tok in re.findall(r"builtin\.os\.tag(?:\.isDarwin\(\)| *[!=]= *\.\w+)|\w+|[()!]", cond):
        if tok in ("or", "and"):
            out.append("||" if tok == "or" else "&&")
        elif tok in "()!":
            out.append(tok)
        elif tok == "builtin.os.tag.isDarwin()":
            out.append(OS_MACROS["macos"])
        elif tok.startswith("builtin.os.tag"):
            op, os_ = re.search(r"([!=]=) *\.(\w+)", tok).groups()
            if os_ not in OS_MACROS:
                raise ParseError(f"no C macro known for OS .{os_}; extend OS_MACROS")
            out.append(("!" if op == "!=" else "") + OS_MACROS[os_])
        elif tok in consts:
            out.append("(" + zig_cond_to_c(consts[tok], consts) + ")")
        else:
            raise ParseError(f"cannot translate `{tok}` of the export condition `{cond}`; extend zig_cond_to_c()")
    c = " ".join(out).replace("! ", "!").replace("( ", "(").replace(" )", ")")
    return re.sub(r"\((!?defined\(\w+\))\)", r"\1", c)


# Files whose exports are (also) generated from a table, handled by their own
# parsers; their plain `@export(&f, ...)` ones are read here all the same.
TABLE_FILES = {"exports.zig", "seed.zig", "wide.zig"}


def manual_groups() -> list[Group]:
    """Every `@export(&f, .{ .name = "x" })` of a plain `fn f(...) callconv(.c)`."""
    groups = []
    files = sorted(ZIG.glob("*.zig"), key=lambda p: (p.name != "root.zig", p.name))
    for path in files:
        raw = path.read_text()
        src = _strip_comments(raw)
        n_exports = len(re.findall(r"@export\(&\w+,", src))
        unread = len(re.findall(r"@export\(", src)) - n_exports
        if unread and path.name not in TABLE_FILES:
            raise ParseError(f"{path.name}: {unread} @export(s) of a generated function: add a table parser for it")
        if not n_exports:
            continue
        aliases = dict(re.findall(r"(?m)^(?:pub )?const (\w+) = (\*const fn ?\(.*?\) callconv\(\.c\) [^;]+);", src))
        consts = dict(re.findall(r"(?m)^(?:pub )?const (\w+) = (builtin\.os\.tag[^;]*);", src))
        exports = []  # (fn, name, C condition or None)
        for blk in re.finditer(r"comptime \{(.*?)\n\}", src, re.S):
            body = blk.group(1)
            cond_m = re.match(r"\s*if \((.*?)\) \{", body)
            cond = zig_cond_to_c(cond_m.group(1), consts) if cond_m else None
            for fn, name in re.findall(r'@export\(&(\w+),\s*\.\{\s*\.name\s*=\s*"(\w+)"', body):
                exports.append((fn, name, cond))
        if len(exports) != n_exports:
            raise ParseError(
                f"{path.name}: {n_exports - len(exports)} @export(s) this script cannot read "
                "(it reads `comptime { [if (os test) {] @export(&f, .{ .name = \"x\" }); }` at top level); extend manual_groups()"
            )
        doc = re.match(r"((?://![^\n]*\n)+)", raw)
        para = " ".join((doc.group(1) if doc else "").replace("//!", "").split("\n\n")[0].split())
        first = re.split(r"(?<=\.)\s", para + " ")[0].strip() if para else ""
        g = Group(path.name, [f"{path.name}: {first or path.name}"])
        for fn, name, cond in exports:
            m = re.search(r"((?:[ \t]*///[^\n]*\n)*)[ \t]*(?:pub )?(?:export )?fn " + fn + r"\((.*?)\)\s*callconv\(\.c\)\s*([^{]+?)\s*\{", raw, re.S)
            if not m:
                raise ParseError(f"{path.name}: fn {fn} (exported as {name}) is not a plain callconv(.c) fn")
            params = [_param(p, aliases) for p in _split_params(m.group(2))]
            docs = [ln.strip()[3:].strip() for ln in m.group(1).splitlines() if ln.strip()]
            g.decls.append(Decl(name, zig_to_c(m.group(3), aliases), params, cond=cond, doc=" ".join(docs).replace("`", "")))
        groups.append(g)
    return groups


# ------------------------------------------------------------------ output

PRELUDE = """\
/* shared_atomic.h: the C ABI of libshared_atomic.
 *
 * GENERATED by scripts/gen_header.py from the tables in zig/table.zig,
 * zig/wide.zig and zig/seed.zig and the other exports in the zig/ sources.
 * Do not edit; run `python3 scripts/gen_header.py`.
 *
 * Lock-free atomic operations on memory the caller owns (shared between
 * threads, or between processes through shared memory). `p` / `v` must be
 * naturally aligned for the type. Nothing here takes a lock.
 *
 * Two families:
 *   sa_<type>_<op>            the library's own API, sequentially consistent;
 *   sa_<type>_<op>_explicit   the same with a trailing C11 memory-order code
 *                             (SA_MEMORY_ORDER_*; an order an operation does
 *                             not allow, or an unknown code, gives seq_cst);
 *   <ctype>_<op>              the C functions of the Python package
 *                             shared_atomic 2.1.6 (the "seed"), seq_cst.
 *
 * sa_ operations: load; store; exchange (returns the old value);
 * compare_exchange (strong, returns the previous value); compare_and_set
 * (strong, returns whether it stored); compare_exchange_weak (C11 style: may
 * fail spuriously, writes the current value to *expected on failure);
 * fetch_<op> returns the old value, <op>_fetch the new one.
 */
#ifndef SHARED_ATOMIC_H
#define SHARED_ATOMIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#if defined(_MSC_VER)
#include <BaseTsd.h>
typedef SSIZE_T ssize_t;
#else
#include <sys/types.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* C11 memory_order codes, for the `order` argument of the _explicit functions
 * (the values of memory_order_* in <stdatomic.h> and of __ATOMIC_*). */
#define SA_MEMORY_ORDER_RELAXED 0
#define SA_MEMORY_ORDER_CONSUME 1
#define SA_MEMORY_ORDER_ACQUIRE 2
#define SA_MEMORY_ORDER_RELEASE 3
#define SA_MEMORY_ORDER_ACQ_REL 4
#define SA_MEMORY_ORDER_SEQ_CST 5
"""

POSTLUDE = """
#ifdef __cplusplus
}
#endif

#endif /* SHARED_ATOMIC_H */
"""


def _comment(lines: list[str], width: int = 78) -> str:
    words = " ".join(lines).split()
    out, cur = [], "/*"
    for w in words:
        if len(cur) + 1 + len(w) > width - 3:
            out.append(cur)
            cur = " *"
        cur += " " + w
    if len(out) == 0:
        return cur + " */"
    out.append(cur)
    return "\n".join(out) + "\n */"


def _section(title: str) -> str:
    return f"\n/* {'=' * 4} {title} {'=' * max(4, 70 - len(title))} */\n"


def all_groups():
    return manual_groups(), sa_groups(), wide_groups(), seed_groups()


def declarations() -> list[Decl]:
    return [d for gs in all_groups() for g in gs for d in g.decls]


def render() -> str:
    manual, sa, wide, seed = all_groups()
    out = [PRELUDE]
    out.append(_section("library, shared memory and other hand-written functions"))
    for g in manual:
        out.append("\n" + _comment(g.comment) + "\n")
        cond = None
        for d in g.decls:
            if d.cond != cond:
                if cond:
                    out.append(f"#endif /* {cond} */\n")
                if d.cond:
                    out.append(f"#if {d.cond}\n")
                cond = d.cond
            if d.doc:
                out.append(_comment([d.doc]) + "\n")
            out.append(d.c() + "\n")
        if cond:
            out.append(f"#endif /* {cond} */\n")
    out.append(_section("sa_<type>_<op>: generated from zig/table.zig"))
    for g in sa:
        out.append("\n" + _comment(g.comment) + "\n")
        out.extend(d.c() + "\n" for d in g.decls)
    if wide:
        out.append(_section("wide values, by pointer: generated from zig/wide.zig"))
        out.append("\n" + WIDE_PRELUDE)
        out.append(
            "\n"
            + _comment(
                [
                    "load(p, out) writes the value to *out; store(p, value) stores *value; fetch_<op>/<op>_fetch(p, io)",
                    "take the operand from *io and write the old/new value back to *io; compare_exchange(p, expected,",
                    "desired) is C11's: on failure *expected = the current value. Value pointers need no alignment.",
                ]
            )
            + "\n"
        )
        for g in wide:
            out.append("\n" + _comment(g.comment) + "\n")
            out.extend(d.c() + "\n" for d in g.decls)
    out.append(_section("the seed's functions (SEED-ABI.md): generated from zig/seed.zig"))
    out.append(
        "\n"
        + _comment(
            [
                "Every function is seq_cst. X_store(v, n) stores *n; X_shift(v, n, r) stores *n and writes the old *v",
                "to *r; X_compare_and_set(v, e, n) is strong and on failure writes the current *v to *e;",
                "X_<op>_and_fetch returns the new value, X_fetch_and_<op> the old one; nand is ~(old & i);",
                "integers wrap. The functions through pointers copy and compare bytes, as __atomic_store does.",
            ]
        )
        + "\n"
    )
    for g in seed:
        out.append("\n" + _comment(g.comment) + "\n")
        out.extend(d.c() + "\n" for d in g.decls)
    out.append(POSTLUDE)
    return "".join(out)


def main(argv: list[str]) -> int:
    try:
        text = render()
    except ParseError as e:
        print(f"gen_header.py: {e}", file=sys.stderr)
        return 2
    if "--stdout" in argv:
        sys.stdout.write(text)
        return 0
    if "--check" in argv:
        if not HEADER.exists() or HEADER.read_text() != text:
            print(f"{HEADER.relative_to(ROOT)} is out of date: run python3 scripts/gen_header.py", file=sys.stderr)
            return 1
        return 0
    HEADER.write_text(text)
    print(f"wrote {HEADER.relative_to(ROOT)} ({len(declarations())} functions)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
