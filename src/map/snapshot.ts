/**
 * Reads the records `sa_map_snapshot` writes: (u32 key length, u32 value
 * length, key, value), little-endian, one after another.
 *
 * @module
 */

const decoder = new TextDecoder();

/** The first `n` records of `out` as [key, value] pairs; keys decoded as UTF-8 unless `binary`. */
export function readSnapshot(out: Uint8Array, n: number, binary: boolean): [string | Uint8Array, Uint8Array][] {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const list: [string | Uint8Array, Uint8Array][] = new Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const kl = view.getUint32(at, true);
    const vl = view.getUint32(at + 4, true);
    const key = out.slice(at + 8, at + 8 + kl);
    list[i] = [binary ? key : decoder.decode(key), out.slice(at + 8 + kl, at + 8 + kl + vl)];
    at += 8 + kl + vl;
  }
  return list;
}
