// What the SharedMap tests run in Workers and child processes: counters,
// values that carry their own checksum (a torn read cannot pass), churn.
type SharedMap = import("../../src/index.ts").SharedMap;

/** `count` fetchAdd(+1) over keys "key0" … "key<keys-1>", starting at key `offset`; number or bigint path. */
export function addJob(m: SharedMap, count: number, keys: number, offset: number, bigint: boolean): number {
  for (let i = 0; i < count; i++) {
    const k = `key${(i + offset) % keys}`;
    if (bigint) m.fetchAdd(k, 1n);
    else m.fetchAdd(k, 1);
  }
  return count;
}

/** FNV-1a over `bytes[0, n)`, seeded with n. */
function fnv(bytes: Uint8Array, n: number): number {
  let h = (0x811c9dc5 ^ n) >>> 0;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h;
}

/** A value of 8 … `size` bytes: random bytes, then the checksum of them in the last 4. */
export function checkedValue(size: number, seed: number): Uint8Array {
  let s = seed >>> 0 || 1;
  const next = () => (s = Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9 >>> 0);
  const n = 8 + (next() % (size - 7));
  const v = new Uint8Array(n);
  for (let i = 0; i < n - 4; i++) v[i] = next() & 0xff;
  new DataView(v.buffer).setUint32(n - 4, fnv(v, n - 4), true);
  return v;
}

/** Whether a value carries a correct checksum (a torn read would not). */
export function whole(v: Uint8Array): boolean {
  return v.length >= 8 && new DataView(v.buffer, v.byteOffset, v.length).getUint32(v.length - 4, true) ===
      fnv(v, v.length - 4);
}

/** `count` sets of checked values over keys "v0" … "v<keys-1>". */
export function writeJob(m: SharedMap, count: number, keys: number, seed: number): number {
  for (let i = 0; i < count; i++) m.set(`v${(i * 7 + seed) % keys}`, checkedValue(m.valueSize, seed * 1_000_003 + i));
  return count;
}

/** `count` gets over the same keys; returns how many values were torn (must be 0). */
export function readJob(m: SharedMap, count: number, keys: number): number {
  let torn = 0;
  for (let i = 0; i < count; i++) {
    const v = m.get(`v${i % keys}`);
    if (v !== undefined && !whole(v)) torn++;
  }
  return torn;
}

/** Inserts and deletes keys "churn<i>" (i < keys) until `stop[0]` is set, counting them in `stop[1]`; returns how many. */
export function churnJob(m: SharedMap, keys: number, stop: Int32Array, seed: number): number {
  let ops = 0;
  let s = seed;
  while (Atomics.load(stop, 0) === 0) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const k = `churn${s % keys}`;
    if (s & 0x100) m.set(k, checkedValue(m.valueSize, s));
    else m.delete(k);
    ops++;
    Atomics.add(stop, 1, 1);
  }
  return ops;
}
