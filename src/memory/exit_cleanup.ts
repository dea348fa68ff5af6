/**
 * Best-effort removal of segment names when the process ends: at a normal
 * exit, and on SIGINT/SIGTERM. SIGKILL (and a crash) cannot be caught: a name
 * can still be left behind; `shared-atomic ls`/`rm` (bin/shared-atomic.ts)
 * finds and removes it.
 *
 * @module
 */

/** What removes one name; returns nothing, never throws (errors are swallowed: best effort). */
type Remover = () => void;

const removers = new Map<object, Remover>();
let installed = false;

/** The Node-compatible `process` both Bun and Deno (2.x) provide as a global. */
interface ProcessLike {
  on(event: string, fn: (...a: unknown[]) => void): unknown;
  listenerCount(event: string): number;
  exit(code?: number): never;
}

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };

function runAll(): void {
  for (const remove of [...removers.values()]) {
    try {
      remove();
    } catch { /* best effort */ }
  }
  removers.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  const proc = (globalThis as { process?: ProcessLike }).process;
  if (proc === undefined || typeof proc.on !== "function") return;
  proc.on("exit", runAll);
  for (const [signal, number] of Object.entries(SIGNALS)) {
    try {
      proc.on(signal, () => {
        runAll();
        // Our listener replaced the default action (end the process): when it is the only one, end the
        // process as the signal would have (exit status 128 + signal number). A program with a handler of
        // its own decides when to exit; the names are already removed.
        if (proc.listenerCount(signal) <= 1) proc.exit(128 + number);
      });
    } catch { /* signals not supported here (Windows): exit only */ }
  }
}

/**
 * @internal Runs `remove` when the process exits or gets SIGINT/SIGTERM,
 * unless {@linkcode cancelAtExit} is called with the same key first.
 */
export function removeAtExit(key: object, remove: Remover): void {
  install();
  removers.set(key, remove);
}

/** @internal Forgets the removal registered under `key` (the name was removed already). */
export function cancelAtExit(key: object): void {
  removers.delete(key);
}
