/**
 * The shared-memory segments of the current user, for the `shared-atomic`
 * command: what `ls` shows and `rm` removes. Linux keeps POSIX shared memory
 * in /dev/shm, a directory like any other; macOS has no way to list it.
 * Only `node:fs`, so the command runs without the native library (and in
 * Bun, Deno or Node alike).
 *
 * A segment carries no mark of the program that made it: what is listed is
 * every segment owned by this user with mode 0600 (what
 * `SharedMemory.create` makes), other programs' included, with the
 * processes that have it mapped now.
 *
 * @module
 */

import { readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";

/** Where POSIX shared memory lives on Linux. */
export const SHM_DIR = "/dev/shm";

/** One listed segment. */
export interface Segment {
  /** The shm name, with its leading slash ("/counters"). */
  readonly name: string;
  readonly bytes: number;
  /** Last modification. */
  readonly modified: Date;
  /** The ids of the processes that have it mapped now (those this user may inspect). */
  readonly mappedBy: readonly number[];
}

/** Whether segments can be listed here (Linux: /dev/shm). */
export function canList(dir = SHM_DIR): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** The current user's id (undefined where there are none: Windows). */
function uid(): number | undefined {
  const proc = (globalThis as { process?: { getuid?: () => number } }).process;
  return proc?.getuid?.();
}

/** For each segment file name under `dir`, the pids whose /proc/<pid>/maps show it mapped. */
export function mappers(dir = SHM_DIR): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  const prefix = `${dir}/`;
  for (const pid of pids) {
    let maps: string;
    try {
      maps = readFileSync(`/proc/${pid}/maps`, "utf8");
    } catch {
      continue; // another user's process, or gone
    }
    const seen = new Set<string>();
    for (const line of maps.split("\n")) {
      const at = line.indexOf(prefix);
      if (at < 0) continue;
      const file = line.slice(at + prefix.length).replace(/ \(deleted\)$/, "");
      if (line.endsWith(" (deleted)") || seen.has(file)) continue;
      seen.add(file);
      out.set(file, [...(out.get(file) ?? []), Number(pid)]);
    }
  }
  return out;
}

/** The current user's 0600 segments whose names start with `prefix` ("/" or "" for all), by name. */
export function listSegments(prefix = "", dir = SHM_DIR): Segment[] {
  const bare = prefix.replace(/^\//, "");
  const me = uid();
  const maps = mappers(dir);
  const out: Segment[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.startsWith(bare)) continue;
    let st;
    try {
      st = statSync(`${dir}/${file}`);
    } catch {
      continue; // removed meanwhile
    }
    if (!st.isFile() || (me !== undefined && st.uid !== me) || (st.mode & 0o777) !== 0o600) continue;
    out.push({ name: `/${file}`, bytes: st.size, modified: st.mtime, mappedBy: maps.get(file) ?? [] });
  }
  return out;
}

/**
 * Checks a segment name as `SharedMemory` does ("/name" or "name": no other
 * "/", not "." or "..", no NUL); returns the file name under the shm directory.
 */
export function fileOf(name: string): string {
  const bare = name.startsWith("/") ? name.slice(1) : name;
  if (bare === "" || bare === "." || bare === ".." || bare.includes("/") || bare.includes("\0")) {
    throw new RangeError(`${JSON.stringify(name)} is not a segment name ("/name": no other "/", not "." or "..")`);
  }
  return bare;
}

/** Removes one segment by name; throws an Error with the errno `code` (ENOENT, EACCES, …). */
export function removeSegment(name: string, dir = SHM_DIR): void {
  unlinkSync(`${dir}/${fileOf(name)}`);
}
