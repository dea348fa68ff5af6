// Starts a waitAsync (and a lockAsync) that will still be pending when the
// test terminates this Worker.
import { api } from "../helpers/api.ts";

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
scope.onmessage = (e: MessageEvent) => {
  api.AtomicI32.from(e.data.atomic).waitAsync(0);
  api.Mutex.from(e.data.mutex).lockAsync();
  scope.postMessage("waiting");
};
scope.postMessage("ready");
