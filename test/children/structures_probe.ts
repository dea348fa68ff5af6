// A child process for test/structures_hostile.test.ts: runs one hostile
// scenario against a Channel or SharedMap whose memory is overwritten from
// JavaScript, and prints "survived <details>" if the process lives through
// it. A crash (SIGSEGV, SIGBUS) shows as a signal exit in the parent, a hang
// as its timeout.
//   structures_probe.ts <scenario> [seed]
import { api } from "../helpers/api.ts";
import { exit, isDeno, scriptArgs } from "../helpers/runtime.ts";
import { threadId } from "../../src/sync/waiting.ts";
const { Channel, SharedMap } = api;
type Channel = InstanceType<typeof Channel>;
type SharedMap = InstanceType<typeof SharedMap>;

const [scenario, seedArg] = scriptArgs();
const notes: string[] = [];
/** Every error a call may end with: named by the method (or the closed-channel and full-map errors, which are). */
const NAMED = /^(Channel|SharedMap)\.\w+: /;
/** The longest a call on overwritten memory may take (a held word gives up after 2 s; a loaded machine is slow). */
const BOUND_MS = 15_000;

/** Runs `f`; returns "ok" or the error's class, and fails on an unnamed error or a call that took too long. */
function attempt(what: string, f: () => unknown): string {
  const t0 = performance.now();
  let out = "ok";
  try {
    f();
  } catch (e) {
    if (!(e instanceof Error) || !NAMED.test(e.message)) throw new Error(`${what}: an unnamed error: ${e}`);
    out = e.constructor.name;
  }
  const ms = performance.now() - t0;
  if (ms > BOUND_MS) throw new Error(`${what} took ${ms.toFixed(0)} ms`);
  return out;
}

/** Every Channel method once (blocking forms with short timeouts): the outcomes. */
function everyChannelCall(ch: Channel): string[] {
  return [
    attempt("trySend", () => ch.trySend("x")),
    attempt("send", () => ch.send(new Uint8Array(3), 20)),
    attempt("tryRecv", () => ch.tryRecv()),
    attempt("recv", () => ch.recv(20)),
    attempt("recvText", () => ch.recvText(20)),
    attempt("recvInto", () => ch.recvInto(new Uint8Array(64), 20)),
    attempt("recvInto shared", () => ch.recvInto(new Uint8Array(new SharedArrayBuffer(64)), 20)),
    attempt("sendMany", () => ch.sendMany(["a", "bc", new Uint8Array(2)], 20)),
    attempt("recvMany", () => ch.recvMany(8, 20)),
    attempt("length", () => ch.length),
    attempt("closed", () => ch.closed),
    attempt("close", () => ch.close()),
    attempt("tryRecv", () => ch.tryRecv()),
  ];
}

/** Every SharedMap method once: the outcomes. */
function everyMapCall(m: SharedMap, i = 0): string[] {
  return [
    attempt("get", () => m.get(`k${i}`)),
    attempt("getText", () => m.getText(`k${i + 1}`)),
    attempt("has", () => m.has(`k${i + 2}`)),
    attempt("getInto", () => m.getInto(`k${i}`, new Uint8Array(64))),
    attempt("set", () => m.set(`k${i}`, "w")),
    attempt("setIfAbsent", () => m.setIfAbsent(`n${i}`, "w", { ttlMs: 1000 })),
    attempt("compareAndSet", () => m.compareAndSet(`k${i}`, `v${i}`, "z")),
    attempt("delete", () => m.delete(`k${i + 1}`)),
    attempt("fetchAdd", () => m.fetchAdd("counter", 1)),
    attempt("addFetch", () => m.addFetch("counter", 1n)),
    attempt("update", () => m.update("u", (c) => (c === undefined ? "1" : undefined))),
    attempt("size", () => m.size),
    attempt("keys", () => [...m.keys()]),
    attempt("entries", () => [...m.entries()]),
    attempt("clear", () => m.clear()),
  ];
}

function words(memory: unknown): Uint32Array {
  return new Uint32Array(memory as SharedArrayBuffer);
}

/** A deterministic generator (a linear congruential one: the same seed, the same bytes in every runtime). */
function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

const summary = (outcomes: string[]) => [...new Set(outcomes)].sort().join("/");

const scenarios: Record<string, () => void> = {
  "channel-config"() {
    // a larger messageSize or capacity in the header made the native side follow slots past the buffer (SIGSEGV)
    for (const [at, value] of [[2, 2 ** 30], [1, 2 ** 24], [1, 1], [2, 0], [0, 0x43484e31 + 1]]) {
      const ch = Channel.create({ capacity: 4, messageSize: 16 });
      ch.send("hello");
      ch.send("world");
      const w = words(ch.memory);
      const was = w[at];
      w[at] = value;
      notes.push(summary(everyChannelCall(ch)));
      w[at] = was;
      notes.push(ch.recvText(0) ?? "empty");
    }
  },
  "map-config"() {
    // a header copied from a larger map (its own valid check word) made every call read and write past the buffer
    for (const big of [{ capacity: 1 << 20 }, { capacity: 4, valueSize: 1 << 20 }, { capacity: 4, keySize: 4096 }]) {
      const m = SharedMap.create({ capacity: 4, keySize: 8, valueSize: 8 });
      m.set("k0", "v0");
      const other = words(SharedMap.create({ keySize: 8, valueSize: 8, ...big }).memory);
      const w = words(m.memory);
      const saved = w.slice(0, 32);
      for (const i of [1, 2, 3, 21]) w[i] = other[i]; // capacity, key size, value size, seal
      notes.push(summary(everyMapCall(m)));
      w.set(saved);
      notes.push(m.getText("k0") ?? "absent");
    }
  },
  "channel-fuzz"() {
    const rnd = lcg(Number(seedArg));
    const seen = new Set<string>();
    for (let round = 0; round < 60; round++) {
      const ch = Channel.create({ capacity: 1 + Math.floor(rnd() * 4), messageSize: 8 + Math.floor(rnd() * 24) });
      for (let i = 0; i < 3; i++) ch.trySend(`m${i}`);
      const bytes = new Uint8Array(ch.memory as SharedArrayBuffer);
      for (let hits = 1 + Math.floor(rnd() * 6); hits > 0; hits--) {
        const at = Math.floor(rnd() * (rnd() < 0.5 ? 192 : bytes.length));
        bytes[at] = Math.floor(rnd() * 256);
      }
      for (const o of everyChannelCall(ch)) seen.add(o);
    }
    notes.push([...seen].sort().join("/"));
  },
  "map-fuzz"() {
    const rnd = lcg(Number(seedArg));
    const seen = new Set<string>();
    for (let round = 0; round < 40; round++) {
      const m = SharedMap.create({ capacity: 6 + Math.floor(rnd() * 8), keySize: 8, valueSize: 16 });
      for (let i = 0; i < 4; i++) m.set(`k${i}`, `v${i}`);
      const bytes = new Uint8Array(m.memory as SharedArrayBuffer);
      for (let hits = 1 + Math.floor(rnd() * 6); hits > 0; hits--) {
        const at = Math.floor(rnd() * (rnd() < 0.5 ? 128 : bytes.length));
        // the writers' lock word (bytes 40-43) rarely: a live-looking owner makes each writer wait 2 s
        if (at >= 40 && at < 44 && rnd() < 0.9) continue;
        bytes[at] = Math.floor(rnd() * 256);
      }
      for (let i = 0; i < 4; i++) for (const o of everyMapCall(m, i)) seen.add(o);
    }
    notes.push([...seen].sort().join("/"));
  },
  "held-words"() {
    // this very thread's id in a word it never holds between calls: an error at once, never a wait without end
    const m = SharedMap.create({ capacity: 4 });
    m.set("a", "b");
    const w = words(m.memory);
    w[10] = threadId(); // the writers' lock
    const t0 = performance.now();
    notes.push(attempt("set", () => m.set("a", "c")), attempt("get", () => m.get("a")));
    w[10] = 0;
    notes.push(m.getText("a") ?? "absent", performance.now() - t0 < 1000 ? "at once" : "slow");
    // another thread's id (one that does not exist): writers give up after 2 s
    w[10] = 0x3ffffff0;
    notes.push(attempt("set", () => m.set("a", "d")));
    w[10] = 0;
    const ch = Channel.create({ capacity: 2, messageSize: 8 });
    words(ch.memory)[(192 + 8) / 4] = threadId(); // slot 0's word
    notes.push(attempt("send", () => ch.send("x", 5000)), attempt("trySend", () => ch.trySend("x")));
  },
};

const run = scenarios[scenario];
if (!run) throw new Error(`unknown scenario ${scenario}`);
run();
console.log(`survived ${notes.join(", ")}`);
if (!isDeno) exit(0);
export {};
