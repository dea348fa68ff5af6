// Child process for test/hardening.test.ts: what could hang or crash runs
// here, and the parent kills it if it does not finish in time.
//   hardening_child.ts update-nan          update(fn) on NaNs the library stored, every order; prints JSON
//   hardening_child.ts update-bool         update(fn) on bool bytes other than 0/1, every order; prints JSON
//   hardening_child.ts wait <timeoutMs>    prints "waiting", then blocks in wait(0, timeoutMs) on a zero
//                                          AtomicI32; prints the result if it ever returns
//   hardening_child.ts wait-sliced         wait(1, huge) with the value 0: "not-equal" at once; prints JSON
//   hardening_child.ts this                every method that touches memory, called on a `this` that is not an
//                                          instance of its class (forged pointers, other classes' atomics,
//                                          plain objects, undefined); prints JSON [call, error name, message]
import { api } from "../helpers/api.ts";
import { scriptArgs } from "../helpers/runtime.ts";

const [mode, ...args] = scriptArgs();
const ORDERS = [undefined, "relaxed", "acquire", "release", "acq_rel", "seq_cst"] as const;

switch (mode) {
  case "update-nan": {
    const out: unknown[] = [];
    for (const cls of [api.AtomicF64, api.AtomicF32]) {
      for (const order of ORDERS) {
        const a = cls.create(Infinity);
        a.fetchAdd(-Infinity); // the hardware's NaN (negative on x86)
        let calls = 0;
        const r = a.update((x) => {
          calls++;
          return Number.isNaN(x) ? 0.1 : x;
        }, order);
        out.push({ cls: cls.name, order: order ?? null, r, load: a.load(), calls });
      }
    }
    console.log(JSON.stringify(out));
    break;
  }
  case "update-bool": {
    const out: unknown[] = [];
    for (const byte of [2, 0x80, 0xff]) {
      for (const order of ORDERS) {
        const sab = new SharedArrayBuffer(1);
        new Uint8Array(sab)[0] = byte;
        const b = new api.AtomicBool(sab);
        let calls = 0;
        const r = b.update((x) => {
          calls++;
          return !x;
        }, order);
        out.push({ byte, order: order ?? null, r, stored: new Uint8Array(sab)[0], calls });
      }
    }
    console.log(JSON.stringify(out));
    break;
  }
  case "wait": {
    const a = api.AtomicI32.create(0);
    console.log("waiting");
    const r = a.wait(0, Number(args[0]));
    console.log(r);
    break;
  }
  case "wait-sliced": {
    const a = api.AtomicI32.create(0);
    const t0 = performance.now();
    const r = [a.wait(1, 1e22), a.wait(1, Number.MAX_VALUE), a.wait(1, 2 ** 53)];
    console.log(JSON.stringify({ r, ms: performance.now() - t0 }));
    break;
  }
  case "this": {
    const sab = new SharedArrayBuffer(64);
    new Uint8Array(sab).fill(0x5a);
    const before = new Uint8Array(sab).slice();
    const classes: [string, { prototype: object; create(): unknown }, unknown][] = [
      ["AtomicI8", api.AtomicI8, 1],
      ["AtomicU16", api.AtomicU16, 1],
      ["AtomicI32", api.AtomicI32, 1],
      ["AtomicU32", api.AtomicU32, 1],
      ["AtomicI64", api.AtomicI64, 1n],
      ["AtomicU64", api.AtomicU64, 1],
      ["AtomicF32", api.AtomicF32, 1],
      ["AtomicF64", api.AtomicF64, 1],
      ["AtomicBool", api.AtomicBool, true],
      ["AtomicU128", api.AtomicU128, 1n],
      ["AtomicI128", api.AtomicI128, 1n],
      ["AtomicBytes", api.AtomicBytes as unknown as { prototype: object; create(): unknown }, new Uint8Array(8)],
      ["AtomicString", api.AtomicString as unknown as { prototype: object; create(): unknown }, "a"],
    ];
    for (const [name, cls] of classes) if (!/Bytes|String/.test(name)) cls.create(); // binds the methods
    const real = new api.AtomicI8(sab, 63); // a real pointer, at the memory's last byte
    const ptr = (real as unknown as { ptr: unknown }).ptr;
    const others = [
      ["a plain object", {}],
      ["a forged object", { ptr, ta: null, ix: 0, memory: sab, byteOffset: 63 }],
      ["an AtomicI8 at the end of the memory", real],
      ["an AtomicU8", new api.AtomicU8(sab, 1)],
      ["undefined", undefined],
      ["the SharedArrayBuffer", sab],
    ] as const;
    const out: [string, string, string][] = [];
    for (const [name, cls, v] of classes) {
      const proto = cls.prototype as Record<string, unknown>;
      const methods = Object.getOwnPropertyNames(proto).filter((m) =>
        typeof proto[m] === "function" && !["constructor", "descriptor", "handle", "toString"].includes(m)
      );
      for (const m of methods) {
        const args: unknown[] = /compare/.test(m) ? [v, v] : m === "update" ? [(x: unknown) => x] : [v];
        if (m === "load" || m === "asBytes") args.length = 0;
        if (m === "wait" || m === "waitAsync") args.splice(0, 1, 0, 0);
        if (m === "notify") args.length = 0;
        const forged = Object.assign(Object.create(cls.prototype), { ptr, ta: null, ix: 0 });
        for (const [what, self] of [...others, ["an object with the class's prototype and a pointer", forged]]) {
          if (self === real && name === "AtomicI8") continue; // a real instance of the class
          const call = `${name}.${m} on ${what}`;
          try {
            const r = (proto[m] as (...a: unknown[]) => unknown).apply(self, args);
            if (r instanceof Promise) {
              out.push(await r.then(() => [call, "returned", ""], (e) => [call, e?.name, e?.message]));
            } else out.push([call, "returned", String(r)]);
          } catch (e) {
            out.push([call, (e as Error)?.name, (e as Error)?.message]);
          }
        }
      }
    }
    const same = new Uint8Array(sab).every((b, i) => b === before[i]) ? "untouched" : "changed";
    console.log(JSON.stringify({ out, memory: same }));
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}

export {};
