// Just enough of ELF, Mach-O and PE to check a release library without the
// platform's tools: its format and architecture, the symbols it exports, the
// symbols (and libraries) it imports, and the OS/libc versions it requires.

/** What one shared library says about itself. */
export interface LibraryInfo {
  format: "elf" | "macho" | "pe";
  /** "x86_64" or "aarch64" (as Zig spells them). */
  arch: string;
  /** A shared library / dylib / DLL (not an executable or an object). */
  shared: boolean;
  /** Defined, visible symbols (Mach-O names without the leading `_`). */
  exports: Set<string>;
  /** Undefined symbols it needs from other libraries. */
  imports: Set<string>;
  /** Libraries it links: DT_NEEDED, LC_LOAD_DYLIB, PE import DLLs. */
  needed: string[];
  /** ELF: the highest GLIBC_x.y version it requires ("" for none). */
  glibc: string;
  /** Mach-O: the minimum macOS version (LC_BUILD_VERSION minos), e.g. "11.0". */
  minOs: string;
}

/** Reads the headers of an ELF64, Mach-O 64 or PE32+ shared library. */
export function inspectLibrary(bytes: Uint8Array): LibraryInfo {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, false) === 0x7f454c46) return elf(bytes, v);
  if (v.getUint32(0, true) === 0xfeedfacf) return macho(bytes, v);
  if (v.getUint16(0, true) === 0x5a4d) return pe(bytes, v);
  throw new Error("not an ELF, Mach-O 64 or PE file");
}

function cstr(bytes: Uint8Array, at: number): string {
  let end = at;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(at, end));
}

function elf(bytes: Uint8Array, v: DataView): LibraryInfo {
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new Error("only little-endian ELF64 is read");
  const machine = v.getUint16(0x12, true);
  const arch = machine === 62 ? "x86_64" : machine === 183 ? "aarch64" : `elf-machine-${machine}`;
  const shoff = Number(v.getBigUint64(0x28, true));
  const shentsize = v.getUint16(0x3a, true);
  const shnum = v.getUint16(0x3c, true);
  const sections = Array.from({ length: shnum }, (_, i) => {
    const at = shoff + i * shentsize;
    return {
      type: v.getUint32(at + 4, true),
      offset: Number(v.getBigUint64(at + 0x18, true)),
      size: Number(v.getBigUint64(at + 0x20, true)),
      link: v.getUint32(at + 0x28, true),
      entsize: Number(v.getBigUint64(at + 0x38, true)),
    };
  });
  const exports = new Set<string>();
  const imports = new Set<string>();
  const needed: string[] = [];
  let glibc = "";
  for (const s of sections) {
    const strtab = sections[s.link];
    if (s.type === 11 /* SHT_DYNSYM */) {
      for (let at = s.offset + s.entsize; at < s.offset + s.size; at += s.entsize) {
        const name = cstr(bytes, strtab.offset + v.getUint32(at, true));
        const bind = bytes[at + 4] >> 4;
        const visibility = bytes[at + 5] & 3;
        const shndx = v.getUint16(at + 6, true);
        if (shndx === 0) imports.add(name);
        else if ((bind === 1 || bind === 2) && (visibility === 0 || visibility === 3)) exports.add(name);
      }
    } else if (s.type === 6 /* SHT_DYNAMIC */) {
      for (let at = s.offset; at < s.offset + s.size; at += 16) {
        const tag = Number(v.getBigInt64(at, true));
        if (tag === 0) break;
        if (tag === 1 /* DT_NEEDED */) needed.push(cstr(bytes, strtab.offset + Number(v.getBigUint64(at + 8, true))));
      }
    } else if (s.type === 0x6ffffffe /* SHT_GNU_verneed */) {
      let at = s.offset;
      for (;;) {
        const cnt = v.getUint16(at + 2, true);
        let aux = at + v.getUint32(at + 8, true);
        for (let i = 0; i < cnt; i++) {
          const name = cstr(bytes, strtab.offset + v.getUint32(aux + 8, true));
          const m = /^GLIBC_(\d+)\.(\d+)/.exec(name);
          if (m && compareVersions(`${m[1]}.${m[2]}`, glibc) > 0) glibc = `${m[1]}.${m[2]}`;
          aux += v.getUint32(aux + 12, true);
        }
        const next = v.getUint32(at + 12, true);
        if (next === 0) break;
        at += next;
      }
    }
  }
  return { format: "elf", arch, shared: v.getUint16(0x10, true) === 3, exports, imports, needed, glibc, minOs: "" };
}

/** Compares dotted versions ("2.17" < "2.28"); "" is lowest. */
export function compareVersions(a: string, b: string): number {
  const pa = a ? a.split(".").map(Number) : [];
  const pb = b ? b.split(".").map(Number) : [];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function uleb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, at];
  }
}

function macho(bytes: Uint8Array, v: DataView): LibraryInfo {
  const cputype = v.getUint32(4, true);
  const arch = cputype === 0x01000007 ? "x86_64" : cputype === 0x0100000c ? "aarch64" : `macho-cpu-${cputype}`;
  const ncmds = v.getUint32(16, true);
  const exports = new Set<string>();
  const imports = new Set<string>();
  const needed: string[] = [];
  let minOs = "";
  let trie: [number, number] | undefined;
  let at = 32;
  for (let i = 0; i < ncmds; i++) {
    const cmd = v.getUint32(at, true);
    const size = v.getUint32(at + 4, true);
    if (cmd === 0x2 /* LC_SYMTAB */) {
      const symoff = v.getUint32(at + 8, true);
      const nsyms = v.getUint32(at + 12, true);
      const stroff = v.getUint32(at + 16, true);
      for (let k = 0; k < nsyms; k++) {
        const s = symoff + k * 16;
        const type = bytes[s + 4];
        if ((type & 0xe0) !== 0 || (type & 1) === 0) continue; // stabs, or not external
        const name = cstr(bytes, stroff + v.getUint32(s, true)).replace(/^_/, "");
        if ((type & 0x0e) === 0) imports.add(name);
      }
    } else if (cmd === 0x80000022 /* LC_DYLD_INFO_ONLY */ || cmd === 0x22 /* LC_DYLD_INFO */) {
      const off = v.getUint32(at + 40, true);
      if (off !== 0) trie = [off, v.getUint32(at + 44, true)];
    } else if (cmd === 0x80000033 /* LC_DYLD_EXPORTS_TRIE */) {
      trie = [v.getUint32(at + 8, true), v.getUint32(at + 12, true)];
    } else if (cmd === 0xc /* LC_LOAD_DYLIB */ || cmd === 0x80000018 /* LC_LOAD_WEAK_DYLIB */) {
      needed.push(cstr(bytes, at + v.getUint32(at + 8, true)));
    } else if (cmd === 0x32 /* LC_BUILD_VERSION */) {
      const min = v.getUint32(at + 12, true);
      minOs = `${min >>> 16}.${(min >> 8) & 0xff}`;
    }
    at += size;
  }
  if (trie !== undefined) {
    const [start] = trie;
    const walk = (node: number, prefix: string) => {
      const [terminal, afterSize] = uleb(bytes, start + node);
      if (terminal > 0) exports.add(prefix.replace(/^_/, ""));
      let p = afterSize + terminal;
      const children = bytes[p++];
      for (let c = 0; c < children; c++) {
        const edge = cstr(bytes, p);
        p += new TextEncoder().encode(edge).length + 1;
        const [child, next] = uleb(bytes, p);
        p = next;
        walk(child, prefix + edge);
      }
    };
    walk(0, "");
  }
  return { format: "macho", arch, shared: v.getUint32(12, true) === 6, exports, imports, needed, glibc: "", minOs };
}

function pe(bytes: Uint8Array, v: DataView): LibraryInfo {
  const peAt = v.getUint32(0x3c, true);
  if (v.getUint32(peAt, true) !== 0x00004550) throw new Error("no PE signature");
  const coff = peAt + 4;
  const machine = v.getUint16(coff, true);
  const arch = machine === 0x8664 ? "x86_64" : machine === 0xaa64 ? "aarch64" : `pe-machine-${machine}`;
  const nsections = v.getUint16(coff + 2, true);
  const optSize = v.getUint16(coff + 16, true);
  const characteristics = v.getUint16(coff + 18, true);
  const opt = coff + 20;
  if (v.getUint16(opt, true) !== 0x20b) throw new Error("not PE32+");
  const dir = (
    i: number,
  ): [number, number] => [v.getUint32(opt + 112 + i * 8, true), v.getUint32(opt + 116 + i * 8, true)];
  const sections = Array.from({ length: nsections }, (_, i) => {
    const s = opt + optSize + i * 40;
    return { va: v.getUint32(s + 12, true), vsize: v.getUint32(s + 8, true), raw: v.getUint32(s + 20, true) };
  });
  const off = (rva: number): number => {
    const s = sections.find((s) => rva >= s.va && rva < s.va + s.vsize);
    if (s === undefined) throw new Error(`RVA ${rva} is in no section`);
    return rva - s.va + s.raw;
  };
  const exports = new Set<string>();
  const [expRva] = dir(0);
  if (expRva !== 0) {
    const e = off(expRva);
    const count = v.getUint32(e + 24, true);
    const names = off(v.getUint32(e + 32, true));
    for (let i = 0; i < count; i++) exports.add(cstr(bytes, off(v.getUint32(names + i * 4, true))));
  }
  const imports = new Set<string>();
  const needed: string[] = [];
  const [impRva] = dir(1);
  if (impRva !== 0) {
    for (let d = off(impRva);; d += 20) {
      const lookup = v.getUint32(d, true) || v.getUint32(d + 16, true);
      const name = v.getUint32(d + 12, true);
      if (lookup === 0 && name === 0) break;
      needed.push(cstr(bytes, off(name)));
      for (let t = off(lookup);; t += 8) {
        const entry = v.getBigUint64(t, true);
        if (entry === 0n) break;
        if (entry >> 63n) continue; // by ordinal
        imports.add(cstr(bytes, off(Number(entry & 0x7fffffffn)) + 2));
      }
    }
  }
  return {
    format: "pe",
    arch,
    shared: (characteristics & 0x2000) !== 0,
    exports,
    imports,
    needed,
    glibc: "",
    minOs: "",
  };
}
