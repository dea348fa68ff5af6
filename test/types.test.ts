// The classes as the type checker and the run time see them (issue 15 item
// 7): each atomic's `type` at run time, the class-taking fromHandle and
// fromDescriptor checking the kind, handles accepted wherever descriptors
// are, and what an editor's hover shows (the TypeScript API over
// test/types.ts, whose @ts-expect-error lines tsc and deno check verify).
import { test } from "node:test";
import assert from "node:assert/strict";
import { api } from "./helpers/api.ts";
import { uniqueName } from "./helpers/names.ts";

const { AtomicBytes, AtomicI64, AtomicU32, AtomicU64, AtomicU128, Mutex, SharedMemory, fromDescriptor, fromHandle } =
  api;
const repo = decodeURIComponent(new URL("../", import.meta.url).pathname);

test("every atomic instance says its type; the classes differ by it", () => {
  const types = ["i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64", "bool"];
  for (const t of types) {
    const cls = (api as unknown as Record<string, { create(): { type: string }; type: string }>)[
      `Atomic${t === "bool" ? "Bool" : t.toUpperCase()}`
    ];
    assert.equal(cls.create().type, t);
    assert.equal(cls.type, t);
  }
  assert.equal(AtomicU128.create().type, "u128");
  assert.equal(AtomicBytes.create(8).type, "bytes8");
});

test("fromHandle(h, Class) and fromDescriptor(d, Class) check the kind; handles work wherever descriptors do", () => {
  const seg = SharedMemory.create(uniqueName(), 256);
  try {
    const u64 = new AtomicU64(seg, 8);
    const m = new Mutex(seg, 64);
    u64.store(41n);
    assert.equal(fromHandle(u64.handle(), AtomicU64).addFetch(1n), 42n);
    assert.throws(
      () => fromHandle(u64.handle(), AtomicU32),
      /AtomicU32.fromHandle: handle must be a handle of type "u32" \(this is u64\)/,
    );
    assert.throws(() => fromHandle(u64.handle(), AtomicI64), TypeError, "an AtomicI64 is not an AtomicU64");
    assert.ok(fromHandle(m.handle(), Mutex) instanceof Mutex, "locks too");
    assert.throws(
      () => fromHandle(m.handle(), AtomicU64),
      /AtomicU64.fromHandle: handle must be a handle of type "u64"/,
    );
    assert.throws(
      () => fromHandle(u64.handle(), Date as never),
      /fromHandle: cls must be an atomic or lock class of shared-atomic \(AtomicU64, Mutex, …\); got a function/,
    );
    assert.equal(fromDescriptor(u64.descriptor(), AtomicU64).load(), 42n);
    assert.throws(() => fromDescriptor(u64.descriptor(), AtomicU32), /AtomicU32.from: descriptor must be a descriptor/);
    // handles wherever descriptors are accepted
    assert.equal(AtomicU64.from(u64.handle()).load(), 42n);
    assert.ok(Mutex.from(m.handle()) instanceof Mutex);
    const wide = new AtomicU128(seg, 128);
    wide.store(7n);
    assert.equal(AtomicU128.from(wide.handle()).load(), 7n);
    const bytes = new AtomicBytes(seg, 144, 8);
    assert.equal(AtomicBytes.from(bytes.handle()).width, 8);
    assert.throws(() => AtomicU32.from(u64.handle()), /AtomicU32.from: handle must be a handle of type "u32"/);
    // without the class: any atomic, whose type says which
    const any = fromHandle(u64.handle());
    assert.equal(any.type, "u64");
  } finally {
    seg.close();
    seg.unlink();
  }
});

test("an editor shows the class names (hover); test/types.ts checks as written", async () => {
  const { default: ts } = await import(`${repo}node_modules/typescript/lib/typescript.js`);
  const file = `${repo}test/types.ts`;
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    noEmit: true,
    strict: true,
    lib: ["lib.es2022.d.ts", "lib.esnext.disposable.d.ts", "lib.dom.d.ts"],
    types: [],
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const shown = new Map<string, string>();
  // deno-lint-ignore no-explicit-any
  const visit = (node: any) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) {
      shown.set(node.name.text, checker.typeToString(checker.getTypeAtLocation(node.name)));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  assert.equal(shown.get("u64"), "AtomicU64", "not AtomicInteger64");
  assert.equal(shown.get("i64"), "AtomicI64");
  assert.equal(shown.get("u8"), "AtomicU8");
  assert.equal(shown.get("_u64"), "AtomicU64");
  assert.equal(shown.get("_mutex"), "Mutex");
  // and test/types.ts type-checks as written: each @ts-expect-error line is an error, nothing else is
  const problems = ts.getPreEmitDiagnostics(program).map((d: { messageText: unknown }) =>
    ts.flattenDiagnosticMessageText(d.messageText, "\n")
  );
  assert.deepEqual(problems, []);
});
