// A Worker for test/robust.test.ts: takes the primitive it is sent, posts
// "held", and stays idle holding it until the test terminates it.
//   { kind: "mutex" | "read" | "write" | "sem" | "once", lock: descriptor, n? }
//   { kind: "wait", lock: AtomicU32 descriptor, expected }: one blocking wait, no timeout; posts its result
//   { kind: "release-later", lock: Semaphore descriptor, n, ms }: releases n permits after ms
import { api } from "../helpers/api.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
scope.onmessage = (e: MessageEvent) => {
  const { kind, lock, n } = e.data;
  if (kind === "wait") {
    scope.postMessage(api.AtomicU32.from(lock).wait(e.data.expected));
    return;
  }
  if (kind === "release-later") {
    const s = api.Semaphore.from(lock);
    setTimeout(() => s.release(n), e.data.ms);
    return;
  }
  if (kind === "mutex") api.Mutex.from(lock).lock();
  else if (kind === "read") api.RwLock.from(lock).read();
  else if (kind === "write") api.RwLock.from(lock).write();
  else if (kind === "sem") api.Semaphore.from(lock).acquire(n ?? 1);
  else if (kind === "once") {
    // runs the initialiser, which never finishes: terminated in the middle
    void api.Once.from(lock).runAsync(() => {
      scope.postMessage("held");
      return new Promise(() => {});
    });
    return;
  } else throw new Error(`unknown kind ${kind}`);
  scope.postMessage("held");
};
scope.postMessage("ready");
