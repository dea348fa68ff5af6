// A child process for the channel tests; runs in Bun, Deno or Node. Messages are
// 8 bytes: the producer's id and the message's number (little-endian u32).
//   channel_child.ts produce <channel handle> <id> <count> <send|many>
//       sends messages 0 … count-1 of producer `id` (count 0: forever), prints "sent <count>"
//   channel_child.ts consume <channel handle> <seen segment> <region> <count> <recv|many|into>
//       receives until the channel closes; for message i of producer id sets byte
//       region + id * count + i of the seen segment; prints {"got", "disorder"}
import { message, parse } from "../helpers/channel.ts";
import { api } from "../helpers/api.ts";
import { scriptArgs } from "../helpers/runtime.ts";

const [mode, ...args] = scriptArgs();
const ch = api.Channel.fromHandle(args[0]);

if (mode === "produce") {
  const id = Number(args[1]), count = Number(args[2]) || Infinity, how = args[3];
  let i = 0;
  while (i < count) {
    if (how === "many") {
      const batch: Uint8Array[] = [];
      for (let k = 0; k < 64 && i < count; k++) batch.push(message(id, i++));
      ch.sendMany(batch);
    } else ch.send(message(id, i++));
  }
  console.log(`sent ${i}`);
} else {
  const seg = api.SharedMemory.open(args[1]);
  const seen = seg.bytes;
  const region = Number(args[2]), count = Number(args[3]), how = args[4];
  const last = new Map<number, number>();
  let got = 0, disorder = 0;
  const take = (m: Uint8Array) => {
    const [id, i] = parse(m);
    if (i <= (last.get(id) ?? -1)) disorder++;
    last.set(id, i);
    seen[region + id * count + i]++;
    got++;
  };
  try {
    if (how === "many") { for (;;) for (const m of ch.recvMany(128)) take(m); }
    else if (how === "into") {
      const t = new Uint8Array(new SharedArrayBuffer(8));
      for (;;) {
        ch.recvInto(t);
        take(t);
      }
    } else for (;;) take(ch.recv()!);
  } catch (e) {
    if (!(e instanceof api.ChannelClosedError)) throw e;
  }
  console.log(JSON.stringify({ got, disorder }));
}
