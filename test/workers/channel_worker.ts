// A Worker for the channel tests: rebuilds the channel from its descriptor,
// runs one job, posts its result back. Messages are 8 bytes: the producer's
// id and the message's number, little-endian u32 each.
import { message, parse } from "../helpers/channel.ts";
import { api } from "../helpers/api.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
// deno-lint-ignore no-explicit-any
type Any = any;
const { Channel, ChannelClosedError } = api;

async function produce(ch: Any, id: number, count: number, mode: string): Promise<number> {
  if (mode === "many") {
    for (let i = 0; i < count;) {
      const batch: Uint8Array[] = [];
      for (let k = 0; k < 256 && i < count; k++) batch.push(message(id, i++));
      if (ch.sendMany(batch) !== batch.length) throw new Error("sendMany sent fewer");
    }
  } else if (mode === "async") {
    for (let i = 0; i < count; i++) if (!await ch.sendAsync(message(id, i))) throw new Error("sendAsync false");
  } else {
    for (let i = 0; i < count; i++) if (!ch.send(message(id, i))) throw new Error("send false");
  }
  return count;
}

/** Receives until the channel closes; counts each message in `seen` and checks per-producer order. */
async function consume(ch: Any, seen: Uint8Array, count: number, mode: string): Promise<Any> {
  const last = [-1, -1, -1, -1, -1, -1, -1, -1];
  let got = 0, disorder = 0;
  const take = (m: Uint8Array) => {
    const [id, i] = parse(m);
    if (m.length !== 8 || i <= last[id]) disorder++;
    last[id] = i;
    Atomics.add(seen, id * count + i, 1);
    got++;
  };
  try {
    if (mode === "iter") {
      for await (const m of ch) take(m);
    } else if (mode === "into") {
      const t = new Uint8Array(new SharedArrayBuffer(8));
      for (;;) {
        ch.recvInto(t);
        take(t);
      }
    } else if (mode === "many") {
      for (;;) for (const m of ch.recvMany(256)) take(m);
    } else {
      for (;;) take(ch.recv());
    }
  } catch (e) {
    if (!(e instanceof ChannelClosedError)) throw e;
  }
  return { got, disorder };
}

/** Blocks in one receive or send until the channel closes; reports the error's name and when. */
async function block(ch: Any, mode: string): Promise<Any> {
  try {
    if (mode === "recv") ch.recv();
    else if (mode === "recvAsync") await ch.recvAsync();
    else if (mode === "send") ch.send("x");
    else await ch.sendAsync("x");
    return { error: "none" };
  } catch (e) {
    return { error: (e as Error).name, at: Date.now() };
  }
}

scope.onmessage = async (e: MessageEvent) => {
  const d = e.data;
  const ch = Channel.from(d.channel);
  if (d.job === "produce") scope.postMessage(await produce(ch, d.id, d.count, d.mode));
  else if (d.job === "consume") scope.postMessage(await consume(ch, new Uint8Array(d.seen), d.count, d.mode));
  else {
    scope.postMessage({ blocking: true });
    scope.postMessage(await block(ch, d.mode));
  }
};
scope.postMessage("ready");
