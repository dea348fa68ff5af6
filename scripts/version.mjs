// Sets the one version everywhere it is recorded: package.json, deno.json,
// build.zig.zon (the native library's sa_version()) and, by `zig build gen`,
// src/native/abi_generated.ts (what the TypeScript side expects), and empties
// src/native/checksums.ts (checksums belong to one release; scripts/release.mjs
// writes the new ones). The platform packages take theirs from package.json
// when scripts/pack.mjs makes them.
//
//   node scripts/version.mjs 0.2.0
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { root, version } from "./pack.mjs";

const next = process.argv[2];
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(next ?? "")) {
  console.error("usage: node scripts/version.mjs X.Y.Z[-pre]");
  process.exit(2);
}
const current = version(); // throws if the places already disagree

const edit = (file, re, to, note = `${current} -> ${next}`) => {
  const path = join(root, file);
  const text = readFileSync(path, "utf8");
  if (!re.test(text)) throw new Error(`${file}: no version to replace (${re})`);
  writeFileSync(path, text.replace(re, to));
  console.log(`${file}: ${note}`);
};
edit("package.json", /("version":\s*)"[^"]+"/, `$1"${next}"`);
edit("deno.json", /("version":\s*)"[^"]+"/, `$1"${next}"`);
edit("build.zig.zon", /(\.version\s*=\s*)"[^"]+"/, `$1"${next}"`);
const { zig } = await import("./setup.mjs");
execFileSync(zig, ["build", "gen"], { cwd: root, stdio: ["ignore", process.stderr, process.stderr] });
console.log(`src/native/abi_generated.ts: ${current} -> ${next} (zig build gen)`);
edit(
  "src/native/checksums.ts",
  /(CHECKSUMS_VERSION: string = )"[^"]*"/,
  `$1""`,
  "emptied (scripts/release.mjs fills it)",
);
const sums = join(root, "src", "native", "checksums.ts");
writeFileSync(
  sums,
  readFileSync(sums, "utf8").replace(/(CHECKSUMS: Readonly<Record<string, string>> = )\{[^}]*\};/, "$1{};"),
);
