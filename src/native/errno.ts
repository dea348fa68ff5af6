/**
 * Errno numbers the shared-memory calls can return, by name, per OS.
 *
 * @module
 */

const LINUX: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  9: "EBADF",
  12: "ENOMEM",
  13: "EACCES",
  17: "EEXIST",
  19: "ENODEV",
  21: "EISDIR",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  27: "EFBIG",
  28: "ENOSPC",
  29: "ESPIPE",
  30: "EROFS",
  36: "ENAMETOOLONG",
  40: "ELOOP",
};

const DARWIN: Record<number, string> = {
  ...LINUX,
  36: "EINPROGRESS",
  62: "ELOOP",
  63: "ENAMETOOLONG",
};

/** The symbolic name of errno `n` on `os` ("linux", "darwin"), e.g. "EEXIST". */
export function errnoName(n: number, os: string): string {
  return (os === "darwin" ? DARWIN : LINUX)[n] ?? `errno ${n}`;
}
