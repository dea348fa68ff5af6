// Loads the package entry for the runtime running the tests: bun.ts in Bun,
// mod.ts in Deno, node.ts in Node. The specifier is not a literal, so no
// type checker follows another runtime's entry.
import { ENTRIES, runtime } from "./runtime.ts";

export { isBun, isDeno, isNode, runtime } from "./runtime.ts";
export const api: typeof import("../../src/index.ts") = await import(`../../${ENTRIES[runtime]}`);
