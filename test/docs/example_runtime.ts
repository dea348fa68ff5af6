// What a JSDoc example runs with (test/docs/results.ts imports it at the end
// of the example, so no line moves): `__expect`, which the rewritten result
// comments call, and a console.assert that throws, so that an example's
// `console.assert(e instanceof SomeError)` is checked rather than logged.

const show = (v: unknown): string =>
  typeof v === "bigint"
    ? `${v}n`
    : typeof v === "string"
    ? JSON.stringify(v)
    : v instanceof Uint8Array
    ? `Uint8Array [${v.join(", ")}]`
    : Object.is(v, -0)
    ? "-0"
    : String(v);

/** Throws unless `actual` is `expected` (Object.is; Uint8Arrays element by element); `where` is the comment's line. */
export function __expect(actual: unknown, expected: unknown, where: string): void {
  const same = expected instanceof Uint8Array
    ? actual instanceof Uint8Array && actual.length === expected.length && actual.every((v, i) => v === expected[i])
    : Object.is(actual, expected);
  if (!same) throw new Error(`${where}: the comment says ${show(expected)}, the example gives ${show(actual)}`);
}

console.assert = (condition?: boolean, ...data: unknown[]): void => {
  if (!condition) throw new Error(`console.assert failed${data.length ? `: ${data.map(String).join(" ")}` : ""}`);
};
