// Results written in comments, checked: a one-line statement of an example
// followed by a comment that starts with a value,
//
//   a.addFetch(1); // -128: wraps
//   const h = a.handle(); // "sa1:u64@8:shm:/x"
//
// becomes (on the same line, so line numbers stay) an assertion that the
// expression, or the declared name, is that value (Object.is; a
// `Uint8Array [1, 2]` element by element). A value is a string, number,
// bigint, boolean, null, undefined, NaN, ±Infinity or `Uint8Array [...]`,
// ending the comment or followed by ":", ",", ";" or " (" (so `// 12, now 100`
// checks 12); any other comment (`// e.g. …`, `// 16 zero bytes`,
// `// 2^127-1`, a string with an elided part like `"sa1:…?id=…"`) is prose and
// not checked.

const VALUE = new RegExp(
  "^(" + [
    String.raw`"(?:[^"\\]|\\.)*"`,
    String.raw`-?\d+n`,
    String.raw`-?0x[0-9a-fA-F]+`,
    String.raw`-?0b[01]+`,
    String.raw`-?\d+(?:\.\d+)?(?:e[+-]?\d+)?`,
    String.raw`-?Infinity`,
    "NaN",
    "true",
    "false",
    "null",
    "undefined",
    String.raw`Uint8Array \[[-\d, ]*\]`,
  ].join("|") + ")(?=$|[:,;]| \\()",
);

/** The value a comment starts with, as JavaScript source, or undefined if it is prose. */
export function commentValue(comment: string): string | undefined {
  const m = VALUE.exec(comment.trim());
  if (!m || m[1].includes("…")) return undefined;
  const bytes = /^Uint8Array (\[.*\])$/.exec(m[1]);
  return bytes ? `new Uint8Array(${bytes[1]})` : m[1];
}

const NOT_EXPRESSION =
  /^(?:(?:using|await\s+using|import|export|return|throw|if|for|while|do|switch|try|type|interface|class|function)\b|[{}])/;

/** Whether `code` has balanced brackets outside its strings (a whole statement, not a piece of one). */
function balanced(code: string): boolean {
  let depth = 0;
  const bare = code.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""');
  for (const c of bare) {
    if ("([{".includes(c)) depth++;
    else if (")]}".includes(c) && --depth < 0) return false;
  }
  return depth === 0;
}

/** `line` with its comment's value asserted, or undefined when it has none or is not one statement. */
function expectLine(line: string, where: string): string | undefined {
  const m = /^(\s*)(.+?);(\s*)\/\/(.*)$/.exec(line);
  if (!m) return undefined;
  const [, indent, code, space, comment] = m;
  const value = commentValue(comment);
  if (value === undefined || !balanced(code) || code.includes("//")) return undefined;
  const at = JSON.stringify(where);
  const decl = /^(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=(?!=)/.exec(code);
  if (decl) return `${indent}${code}; __expect(${decl[1]}, ${value}, ${at});${space}//${comment}`;
  if (/^(?:const|let|var)\b/.test(code) || NOT_EXPRESSION.test(code)) return undefined;
  return `${indent}__expect((${code}), ${value}, ${at});${space}//${comment}`;
}

/** The module the rewritten lines take `__expect` from (it also makes console.assert throw). */
const RUNTIME = decodeURIComponent(new URL("./example_runtime.ts", import.meta.url).pathname);

/**
 * `code` (an example whose first line is line `line + 1` of `doc`) with every
 * result written in a comment asserted (`count` is how many) and
 * console.assert throwing (test/docs/example_runtime.ts).
 */
export function expectComments(code: string, doc: string, line: number): { code: string; count: number } {
  let count = 0;
  const lines = code.split("\n").map((l, i) => {
    const out = expectLine(l, `${doc}:${line + 1 + i}`);
    if (out === undefined) return l;
    count++;
    return out;
  });
  // an import runs before the module body wherever it stands: last, it moves no line; the bare
  // import is kept when the named one is not used (a transpiler drops unused imports)
  const from = JSON.stringify(RUNTIME);
  return { code: `${lines.join("\n")}\nimport ${from};\nimport { __expect } from ${from};\n`, count };
}
