// Starting a Worker from a module script, the same way in every runtime: a
// web Worker in Bun and Deno; in Node, a worker_threads Worker whose script
// sees the web Worker globals (onmessage, postMessage, close) and whose
// handle has the web Worker's members (onmessage, onerror, postMessage,
// terminate, addEventListener), so test scripts are written once.
import { isNode } from "./runtime.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

// Runs in the Node Worker before its module: web-style globals over parentPort.
const BOOT = `
const { parentPort, workerData } = require("node:worker_threads");
let handler = null;
Object.defineProperty(globalThis, "onmessage", { get: () => handler, set: (f) => { handler = f; }, configurable: true });
globalThis.self = globalThis;
globalThis.postMessage = (m, t) => parentPort.postMessage(m, t);
globalThis.close = () => process.exit(0);
parentPort.on("message", (data) => { if (handler) handler({ data }); });
import(workerData.url).catch((e) => { setTimeout(() => { throw e; }); });
`;

/** A web-style handle over a Node worker_threads Worker. */
class NodeWorker {
  // deno-lint-ignore no-explicit-any
  #w: any;
  #onmessage: ((e: { data: unknown }) => void) | null = null;
  #onerror: ((e: { message: string; error: unknown }) => void) | null = null;
  // deno-lint-ignore no-explicit-any
  constructor(Worker: any, url: string) {
    this.#w = new Worker(BOOT, { eval: true, workerData: { url } });
    this.#w.on("message", (data: unknown) => this.#onmessage?.({ data }));
    this.#w.on("error", (error: Error) => this.#onerror?.({ message: error?.message ?? String(error), error }));
  }
  set onmessage(f: ((e: { data: unknown }) => void) | null) {
    this.#onmessage = f;
  }
  get onmessage(): ((e: { data: unknown }) => void) | null {
    return this.#onmessage;
  }
  set onerror(f: ((e: { message: string; error: unknown }) => void) | null) {
    this.#onerror = f;
  }
  get onerror(): ((e: { message: string; error: unknown }) => void) | null {
    return this.#onerror;
  }
  addEventListener(type: "message" | "error", f: (e: { data?: unknown; message?: string }) => void): void {
    if (type === "message") this.#w.on("message", (data: unknown) => f({ data }));
    else this.#w.on("error", (error: Error) => f({ message: error?.message ?? String(error) }));
  }
  postMessage(m: unknown, transfer?: unknown[]): void {
    this.#w.postMessage(m, transfer);
  }
  terminate(): void {
    this.#w.terminate();
  }
}

// deno-lint-ignore no-explicit-any
let nodeWorker: any;
if (isNode) nodeWorker = (await import("node:worker_threads")).Worker;

/** A Worker running the module at `url` (web Worker members in every runtime). */
export function newWorker(url: string | URL): Worker {
  const href = typeof url === "string" ? url : url.href;
  if (isNode) return new NodeWorker(nodeWorker, href) as unknown as Worker;
  return new g.Worker(href, { type: "module" });
}
