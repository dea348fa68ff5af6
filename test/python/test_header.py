"""zig/shared_atomic.h against the built library: the header declares exactly
the library's exports, its sa_ part is sa_manifest(), it is what
scripts/gen_header.py generates today, it compiles as C and C++ and links,
and the library calls no __atomic_* / __sync_* helper.

    python3 -m unittest discover -s test/python -v
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import support

HEADER = support.ROOT / "zig" / "shared_atomic.h"


def gen_header():
    spec = importlib.util.spec_from_file_location("gen_header", support.ROOT / "scripts" / "gen_header.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gen_header"] = mod
    spec.loader.exec_module(mod)
    return mod


def optional() -> set[str]:
    """Declared, but missing from a build whose CPU cannot do them lock-free
    (longdouble_store; the 16-byte wide functions)."""
    return {d.name for d in gen_header().declarations() if d.optional}


# What this platform's C preprocessor would say to the header's #if lines.
MACROS = {
    "_WIN32": sys.platform == "win32",
    "__linux__": sys.platform.startswith("linux"),
    "__APPLE__": sys.platform == "darwin",
    "__FreeBSD__": sys.platform.startswith("freebsd"),
}


def _eval_cond(cond: str) -> bool:
    py = re.sub(r"defined\((\w+)\)", lambda m: str(MACROS.get(m.group(1), False)), cond)
    py = py.replace("||", " or ").replace("&&", " and ").replace("!", " not ")
    if not re.fullmatch(r"[\sA-Za-z()]*", py) or set(re.findall(r"\w+", py)) - {"True", "False", "or", "and", "not"}:
        raise ValueError(f"cannot evaluate #if {cond}")
    return bool(eval(py))  # only True/False/and/or/not/parentheses remain


def header_functions(text: str) -> list[str]:
    """Names of the functions the header declares for this platform, in order."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names, active = [], [True]
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("#if ") and not s.startswith("#ifdef") and "SHARED_ATOMIC_H" not in s and "_MSC_VER" not in s:
            active.append(active[-1] and _eval_cond(s[4:]))
        elif s.startswith(("#ifdef", "#ifndef", "#if ")):
            active.append(active[-1])
        elif s.startswith("#endif"):
            active.pop()
        elif active[-1] and s.endswith(");") and not s.startswith(("#", "typedef")):
            m = re.match(r"[\w\s\*]*?\b(\w+)\s*\(", s)
            if m:
                names.append(m.group(1))
    return names


class Header(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.path = support.lib_path()
        cls.lib = support.load()
        cls.text = HEADER.read_text()
        cls.declared = header_functions(cls.text)

    def exports(self) -> set[str]:
        data = self.path.read_bytes()[:4]
        if data == b"\x7fELF":
            return set(support.exported_symbols(self.path))
        nm = shutil.which("nm")
        if sys.platform == "darwin" and nm:
            out = subprocess.run([nm, "-gU", str(self.path)], capture_output=True, text=True, check=True).stdout
            return {ln.split()[-1].lstrip("_") for ln in out.splitlines() if ln.strip()}
        self.skipTest("reads exports of ELF files (and Mach-O with nm) only")

    def test_header_is_generated_and_current(self):
        self.assertEqual(gen_header().render(), self.text, "zig/shared_atomic.h is stale: run python3 scripts/gen_header.py")

    def test_no_name_declared_twice(self):
        dupes = {n for n in self.declared if self.declared.count(n) > 1}
        self.assertEqual(dupes, set())

    def test_header_declares_exactly_the_exports(self):
        exported = self.exports()
        declared = set(self.declared)
        missing = sorted(exported - declared)
        extra = sorted(declared - exported - optional())
        self.assertFalse(missing, f"{len(missing)} exported but not in the header (regenerate it, or teach scripts/gen_header.py): {missing[:12]}")
        self.assertFalse(extra, f"{len(extra)} declared but not exported: {extra[:12]}")
        if sys.platform.startswith("linux") and support._machine in ("x86_64", "aarch64"):
            # the default build (x86_64-v2 has cmpxchg16b) has every optional one
            absent = sorted(optional() - exported)
            self.assertFalse(absent, f"the default build should have {absent[:12]}")
        if hasattr(self.lib, "sa_wide_lock_free") and self.lib.sa_wide_lock_free() == 1:
            wide16 = {d.name for g in gen_header().wide_groups() for d in g.decls if d.optional}
            self.assertLessEqual(wide16, exported)

    def test_sa_table_part_is_the_manifest(self):
        self.lib.sa_manifest.restype = ctypes.c_char_p
        manifest = self.lib.sa_manifest().decode().split(",")
        gen = gen_header()
        table_names = [d.name for g in gen.sa_groups() for d in g.decls]
        # same names in the same order: the script mirrors zig/exports.zig
        self.assertEqual(table_names, manifest)
        exported = self.exports()
        self.assertLessEqual(set(manifest), exported)
        manual = {d.name for g in gen.manual_groups() for d in g.decls}
        wide = [d.name for g in gen.wide_groups() for d in g.decls]
        if wide:
            self.lib.sa_wide_manifest.restype = ctypes.c_char_p
            wide_manifest = self.lib.sa_wide_manifest().decode().split(",")
            self.assertEqual([n for n in wide if n in wide_manifest], wide_manifest)
            self.assertEqual(set(wide) - set(wide_manifest), set(wide) - exported)
        else:
            wide_manifest = []
        generated = set(manifest) | set(wide_manifest)
        self.assertEqual({n for n in exported if n.startswith("sa_")} - generated, {n for n in manual if n in exported})
        self.assertIn("sa_manifest", manual)
        self.assertIn("sa_version", manual)

    def test_seed_part_is_the_seed_abi(self):
        from test_seed import seed_names

        gen = gen_header()
        self.assertEqual(sorted(d.name for g in gen.seed_groups() for d in g.decls), sorted(seed_names()))

    def test_memory_order_codes(self):
        codes = dict(re.findall(r"#define SA_MEMORY_ORDER_(\w+) (\d)", self.text))
        self.assertEqual(codes, {"RELAXED": "0", "CONSUME": "1", "ACQUIRE": "2", "RELEASE": "3", "ACQ_REL": "4", "SEQ_CST": "5"})

    def test_no_atomic_helper_calls(self):
        if self.path.read_bytes()[:4] != b"\x7fELF":
            self.skipTest("ELF only")
        syms = support.elf_symbols(self.path)
        bad = sorted({f"{s.name} ({s.table}, {'defined' if s.defined else 'undefined'})" for s in syms if s.name.startswith(("__atomic_", "__sync_"))})
        self.assertEqual(bad, [], "the library uses lock-based atomic helpers")
        if not any(s.table == "symtab" for s in syms):
            print("\n    note: library is stripped; checked .dynsym only", file=sys.stderr)
        objdump = shutil.which("objdump")
        if objdump and support._machine in ("x86_64", "amd64") and "longdouble_store" in self.exports():
            out = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(self.path)], capture_output=True, text=True).stdout
            body = out.split("<longdouble_store>:", 1)[1].split("\n\n", 1)[0]
            self.assertIn("lock cmpxchg16b", body)
            self.assertNotIn("call", body)


@unittest.skipUnless(shutil.which(os.environ.get("CC", "cc")), "no C compiler")
class HeaderCompiles(unittest.TestCase):
    def compile(self, compiler: str, args: list[str], src: str, suffix: str, out: Path | None = None):
        with tempfile.TemporaryDirectory() as d:
            f = Path(d) / f"t{suffix}"
            f.write_text(src)
            cmd = [compiler, *args, f"-I{HEADER.parent}", str(f)]
            if out is None:
                cmd += ["-fsyntax-only"]
            else:
                cmd += ["-o", str(out), f"-L{support.lib_path().parent}", "-lshared_atomic", f"-Wl,-rpath,{support.lib_path().parent}"]
            r = subprocess.run(cmd, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, f"{' '.join(cmd)}\n{r.stderr}")

    def test_c11_pedantic(self):
        self.compile(os.environ.get("CC", "cc"), ["-std=c11", "-Wall", "-Wextra", "-Wstrict-prototypes", "-Werror", "-pedantic"], '#include "shared_atomic.h"\nint main(void) { return 0; }\n', ".c")

    @unittest.skipUnless(shutil.which("c++"), "no C++ compiler")
    def test_cxx(self):
        self.compile("c++", ["-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic"], '#include "shared_atomic.h"\nint main() { return 0; }\n', ".cc")

    @unittest.skipUnless(sys.platform.startswith("linux"), "links against the .so on Linux")
    def test_links_every_declaration_and_runs(self):
        exported = support.exported_symbols(support.lib_path())
        names = [n for n in header_functions(HEADER.read_text()) if n in exported or n not in optional()]
        refs = ",\n".join(f"  (void (*)(void)){n}" for n in names)
        ld = "longdouble_store" in names
        src = f"""#include "shared_atomic.h"
#include <stdio.h>
#include <string.h>
static void (*const every[])(void) = {{
{refs}
}};
int main(void) {{
  size_t v = (size_t)1 << 63;
  unsigned long long u = 0;
  v = size_t_sub_and_fetch(&v, 100);
  sa_u64_fetch_add_explicit((uint64_t *)&u, 5, SA_MEMORY_ORDER_RELAXED);
  long double n = 1.25L, d = 0;
  {"longdouble_store(&d, &n);" if ld else "d = n;"}
  wchar_t w = 1;
  wchar_fetch_and_add(&w, 2);
  bool b = false, e = true;
  bool ok = bool_compare_and_set(&b, &e, true);
  printf("%zu %llu %.2Lf %d %d %d %d %s\\n", v, u, d, (int)w, ok, e, (int)(sizeof every / sizeof every[0]), strchr(sa_manifest(), ',') ? "manifest" : "?");
  return 0;
}}
"""
        with tempfile.TemporaryDirectory() as d:
            exe = Path(d) / "t"
            self.compile(os.environ.get("CC", "cc"), ["-std=c11", "-Wall", "-Wextra", "-Werror"], src, ".c", exe)
            r = subprocess.run([str(exe)], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.split(), [str(2**63 - 100), "5", "1.25", "3", "0", "0", str(len(names)), "manifest"])


if __name__ == "__main__":
    unittest.main()
