// The Valkey server examples/valkey.ts talks to: $VALKEY_URL if set, else a
// valkey-server of its own (the one `node scripts/setup.mjs` installs into
// .tools/) on a free loopback port, without persistence, stopped at the end.
import { spawn } from "node:child_process";
import { createServer, Socket } from "node:net";
import process from "node:process";
// @ts-ignore: a plain JavaScript module
import { valkeyServer } from "../scripts/setup.mjs";

export interface Server extends AsyncDisposable {
  readonly url: string;
}

export async function valkey(): Promise<Server> {
  if (process.env.VALKEY_URL) return { url: process.env.VALKEY_URL, [Symbol.asyncDispose]: async () => {} };
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const bin: string | undefined = valkeyServer();
  if (!bin) throw new Error("no valkey-server: run `node scripts/setup.mjs`, or set VALKEY_URL");
  const child = spawn(bin, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ], {
    stdio: "ignore",
  });
  // ready once it accepts a connection
  for (let i = 0; !(await accepts(port)); i++) {
    if (i > 400) throw new Error("valkey-server did not start");
    await new Promise((r) => setTimeout(r, 25));
  }
  const exited = new Promise((r) => child.once("exit", r));
  return {
    url: `redis://127.0.0.1:${port}`,
    [Symbol.asyncDispose]: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
    s.connect(port, "127.0.0.1");
  });
}
