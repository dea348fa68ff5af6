// Child process for test/hardening.test.ts: what could hang or crash runs
// here, and the parent kills it if it does not finish in time.
//   hardening_child.ts update-nan          update(fn) on NaNs the library stored, every order; prints JSON
//   hardening_child.ts update-bool         update(fn) on bool bytes other than 0/1, every order; prints JSON
//   hardening_child.ts wait <timeoutMs>    prints "waiting", then blocks in wait(0, timeoutMs) on a zero
//                                          AtomicI32; prints the result if it ever returns
//   hardening_child.ts wait-sliced         wait(1, huge) with the value 0: "not-equal" at once; prints JSON
const isBun = "Bun" in globalThis;
const entry = isBun ? "../bun.ts" : "../mod.ts";
const api: typeof import("../src/index.ts") = await import(entry);

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const [mode, ...args] = isBun ? g.process.argv.slice(2) : g.Deno.args;
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
  default:
    throw new Error(`unknown mode ${mode}`);
}

export {};
