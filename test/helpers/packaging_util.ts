// Helpers of the packaging tests: running commands without blocking the event
// loop (the loopback servers live in the test's own process), a loopback npm
// registry serving the packed tarballs, a loopback file server, and a way to
// run a command with this source tree hidden.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, realpathSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { basename } from "node:path";
import { nodeBinary } from "./runtime.ts";

export const repo: string = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
export const BUN: string = realpathSync(`${repo}/node_modules/.bin/bun`);
export const DENO: string = realpathSync(`${repo}/node_modules/.bin/deno`);
/** The pinned Node of the full suite (scripts/setup.mjs). */
export const NODE: string = nodeBinary();
export const ZIG_DIR: string = `${repo}/.tools`;

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (asynchronously), with exactly `env`. */
export function exec(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env as Record<string, string>,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout!.on("data", (d: Uint8Array) => (stdout += new TextDecoder().decode(d)));
    p.stderr!.on("data", (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
    const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 180_000);
    p.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Throws with the command's output unless it exited 0. */
export function ok(r: Result, what: string): Result {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Starts an HTTP server on 127.0.0.1 (only) on a free port. */
export function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolve({
        server,
        url: `http://127.0.0.1:${port}/`,
        close: () =>
          new Promise<void>((done) => {
            (server as Server & { closeAllConnections?(): void }).closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}

/** A package for the registry: its manifest and tarball. */
export interface Published {
  manifest: Record<string, unknown> & { name: string; version: string };
  tarball: string;
}

/**
 * A minimal npm registry on loopback: a packument per package, the tarballs.
 * npm, Bun and Deno install from it as from registry.npmjs.org.
 */
export async function npmRegistry(
  packages: Published[],
): Promise<{ url: string; close(): Promise<void>; hits: string[] }> {
  const byName = new Map(packages.map((p) => [p.manifest.name, p]));
  const hits: string[] = [];
  let base = "";
  const srv = await listen((req, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0]).replace(/^\//, "");
    hits.push(path);
    const tar = packages.find((p) => `-/${basename(p.tarball)}` === path);
    if (tar) {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(readFileSync(tar.tarball));
      return;
    }
    const pkg = byName.get(path);
    if (!pkg) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "not found" }));
      return;
    }
    const bytes = readFileSync(pkg.tarball);
    const v = pkg.manifest.version;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({
      name: pkg.manifest.name,
      "dist-tags": { latest: v },
      versions: {
        [v]: {
          ...pkg.manifest,
          dist: {
            tarball: `${base}-/${basename(pkg.tarball)}`,
            shasum: createHash("sha1").update(bytes).digest("hex"),
            integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
          },
        },
      },
    }));
  });
  base = srv.url;
  return { url: srv.url, close: srv.close, hits };
}

/** Whether this process may run a command in a private mount namespace (Linux, root). */
export function canHide(): boolean {
  if (process.platform !== "linux") return false;
  const r = spawnSync("unshare", ["--mount", "--propagation", "private", "true"], { stdio: "ignore" });
  return r.status === 0;
}

/**
 * The argv that runs `argv` with this source tree (and its node_modules,
 * .tools/zig, zig-out) replaced by an empty directory: a private mount
 * namespace with the runtime binaries bound to `bin/` first. Callers use
 * `${bin}/bun`, `${bin}/deno` and `${bin}/node`.
 */
export function hiddenTree(bin: string, argv: string[]): string[] {
  const script = [
    "set -e",
    `mount --bind '${BUN}' '${bin}/bun'`,
    `mount --bind '${DENO}' '${bin}/deno'`,
    `mount --bind '${NODE}' '${bin}/node'`,
    `mount -t tmpfs -o size=64k,mode=0755 shared-atomic-hidden '${repo}'`,
    'exec "$@"',
  ].join("\n");
  return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", ...argv];
}
