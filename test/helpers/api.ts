// Loads the package entry for the runtime running the tests: bun.ts in Bun,
// mod.ts in Deno. The specifier is not a literal, so neither type checker
// follows the other runtime's entry.
export const isBun = "Bun" in globalThis;
export const runtime: string = isBun ? "bun" : "deno";
const entry = isBun ? "../../bun.ts" : "../../mod.ts";
export const api: typeof import("../../src/index.ts") = await import(entry);
