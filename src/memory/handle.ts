/**
 * The handle grammar: the strings that name shared memory for another
 * process, parsed and written here only.
 *
 *     segment  sa1:<shm|file>:<name>[?id=<device>.<inode>]
 *     value    sa1:<type>@<byteOffset>:<shm|file>:<name>[?id=<device>.<inode>]
 *
 * A value's handle is its segment's handle with `<type>@<byteOffset>:`
 * after the `sa1:`. The identity suffix names the very file the handle was
 * made from (see `SharedMemory.handle()`).
 *
 * @module
 */

const PREFIX = "sa1:";
const IDENTITY = String.raw`\?id=(\d+\.\d+)`;
/** `<shm|file>:<name>[?id=…]`: kind, name, identity. */
const SEGMENT_BODY = String.raw`(shm|file):(.+?)(?:${IDENTITY})?`;
const SEGMENT = new RegExp(`^${PREFIX}${SEGMENT_BODY}$`, "s");
// the type alone matches whenever the prefix does, so a caller can pick the
// class by type and let it report a malformed rest in its own words
const VALUE = new RegExp(String.raw`^${PREFIX}([a-z0-9]+)@(?:(\d+):(${SEGMENT_BODY})$)?`, "s");
const ENDS_LIKE_IDENTITY = new RegExp(`${IDENTITY}$`);

/** A segment handle's parts. */
export interface SegmentHandle {
  readonly kind: "shm" | "file";
  /** The shm name (with its leading slash) or the file's path. */
  readonly name: string;
  /** "device:inode" of the file the handle was made from, if it says. */
  readonly identity?: string;
}

/** The parts of `sa1:<shm|file>:<name>[?id=…]`, or undefined if `handle` is not one. */
export function parseSegmentHandle(handle: string): SegmentHandle | undefined {
  const m = SEGMENT.exec(handle);
  if (!m) return undefined;
  return { kind: m[1] as "shm" | "file", name: m[2], identity: m[3]?.replace(".", ":") };
}

/** `sa1:<kind>:<name>`, with `?id=<device>.<inode>` when `identity` ("device:inode") is not empty. */
export function formatSegmentHandle(kind: "shm" | "file", name: string, identity: string): string {
  return `${PREFIX}${kind}:${name}${identity === "" ? "" : `?id=${identity.replace(":", ".")}`}`;
}

/** Whether a name or path ends like a handle's identity suffix (`?id=1.2`): such names are refused. */
export function endsLikeIdentity(name: string): boolean {
  return ENDS_LIKE_IDENTITY.test(name);
}

/** A value handle's parts; `at` is missing when only the `sa1:<type>@` prefix is well-formed. */
export interface ValueHandle {
  readonly type: string;
  readonly at?: {
    readonly byteOffset: number;
    /** The handle of the segment the value lives in. */
    readonly segment: string;
  };
}

/** The parts of `sa1:<type>@<byteOffset>:<segment>`, or undefined if it does not even start like one. */
export function parseValueHandle(handle: string): ValueHandle | undefined {
  const m = VALUE.exec(handle);
  if (!m) return undefined;
  return m[2] === undefined ? { type: m[1] } : { type: m[1], at: { byteOffset: Number(m[2]), segment: PREFIX + m[3] } };
}

/** The handle of a `type` value at `byteOffset` in the segment whose handle is `segment`. */
export function formatValueHandle(type: string, byteOffset: number, segment: string): string {
  return `${PREFIX}${type}@${byteOffset}:${segment.slice(PREFIX.length)}`;
}
