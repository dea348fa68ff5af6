// A Valkey server for the tests of the Valkey backend: the valkey-server that
// scripts/setup.mjs installs into .tools/, started on a free loopback port with
// no persistence (no RDB, no AOF, its files in a fresh temporary folder), and
// stopped after. Also stopped mid-run, paused and restarted on the same port
// for the fault tests.
import { createServer } from "node:net";
import { kill } from "node:process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { type Child, start } from "./spawn.ts";
// @ts-ignore: a plain JavaScript module (the one place the server version is pinned)
import { valkeyServer } from "../../scripts/setup.mjs";

/** A free TCP port on 127.0.0.1 (the OS picks one; it is free again when this returns). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A running server. */
export class ValkeyServer {
  #child: Child | undefined;
  readonly #dir = mkdtempSync(join(tmpdir(), "sa-valkey-"));
  readonly port: number;
  private constructor(port: number) {
    this.port = port;
  }

  /** The URL clients connect to. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a server on a free port and waits until it answers. */
  static async start(): Promise<ValkeyServer> {
    const bin = valkeyServer() as string | undefined;
    if (!bin) throw new Error("no valkey-server: run `node scripts/setup.mjs` (it installs one into .tools/)");
    const s = new ValkeyServer(await freePort());
    await s.restart();
    return s;
  }

  /** (Re)starts the server on the same port, empty (nothing persisted), and waits until it answers. */
  async restart(): Promise<void> {
    const bin = valkeyServer() as string;
    this.#child = start([
      bin,
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      this.#dir,
      "--daemonize",
      "no",
      "--loglevel",
      "warning",
    ]);
    await this.#ready();
  }

  /** Stops the server at once (SIGKILL), as a crash would. */
  async crash(): Promise<void> {
    const c = this.#child;
    this.#child = undefined;
    if (!c) return;
    c.kill("SIGKILL");
    await c.done;
  }

  /** Freezes the server (SIGSTOP): connections stay open, no replies come. */
  pause(): void {
    if (this.#child) kill(this.#child.pid, "SIGSTOP");
  }

  /** Thaws a paused server. */
  resume(): void {
    if (this.#child) kill(this.#child.pid, "SIGCONT");
  }

  /** Stops the server and removes its folder. */
  async stop(): Promise<void> {
    this.resume();
    const c = this.#child;
    this.#child = undefined;
    if (c) {
      c.kill("SIGTERM");
      await c.done;
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** A raw client of the server, for setting up and inspecting keys. */
  client(): Redis {
    return new Redis(this.url, { maxRetriesPerRequest: 1 });
  }

  async #ready(): Promise<void> {
    const deadline = performance.now() + 20_000;
    for (;;) {
      const r = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      r.on("error", () => {});
      try {
        await r.connect();
        if ((await r.ping()) === "PONG") return;
      } catch (e) {
        if (performance.now() > deadline) throw new Error(`valkey-server did not start on ${this.port}: ${e}`);
        await new Promise((res) => setTimeout(res, 25));
      } finally {
        r.disconnect();
      }
    }
  }
}
