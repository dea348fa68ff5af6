// Unique shared-memory names for tests, so runs never collide, and a check
// that a test left none behind.
import { runtime } from "./runtime.ts";

export const PREFIX = `sa-test-${runtime}-${Date.now().toString(36)}-`;
let n = 0;

/** A fresh "/sa-test-…" name. */
export function uniqueName(): string {
  return `/${PREFIX}${n++}`;
}
