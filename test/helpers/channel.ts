// The channel tests' messages: 8 bytes, the producer's id and the message's
// number (little-endian u32 each), and how to read them back.

/** Message `i` of producer `id`. */
export function message(id: number, i: number): Uint8Array {
  const m = new Uint8Array(8);
  const v = new DataView(m.buffer);
  v.setUint32(0, id, true);
  v.setUint32(4, i, true);
  return m;
}

/** [producer id, message number] of a received message. */
export function parse(m: Uint8Array): [number, number] {
  const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
  return [v.getUint32(0, true), v.getUint32(4, true)];
}
