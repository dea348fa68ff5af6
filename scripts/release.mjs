// Prepares a release of the current version (set it first with
// `node scripts/version.mjs X.Y.Z`):
//
//   node scripts/release.mjs          zig build dist; write the SHA-256 of every platform's library into
//                                     src/native/checksums.ts (what the Deno entry verifies a download against);
//                                     pack the npm packages and the release assets into zig-out/npm
//   node scripts/release.mjs --check  exit 1 unless src/native/checksums.ts is this version's and matches zig-out/dist
//
// It publishes nothing; it prints the commands that do, in the order that keeps every published
// copy consistent (the assets the checksums describe go up before anything that downloads them).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { artefacts, buildDist, checksumsSource, pack, root, version } from "./pack.mjs";

const file = join(root, "src", "native", "checksums.ts");
const v = version();

if (process.argv.includes("--check")) {
  const want = checksumsSource(v, artefacts());
  if (readFileSync(file, "utf8") !== want) {
    console.error(`src/native/checksums.ts is not ${v}'s checksums of zig-out/dist: run node scripts/release.mjs`);
    process.exit(1);
  }
  console.log(`src/native/checksums.ts: ${v}, matches zig-out/dist`);
  process.exit(0);
}

await buildDist();
writeFileSync(file, checksumsSource(v, artefacts()));
const result = await pack({ build: false });
const platforms = Object.values(result.platforms);
console.log(`
Release ${v} is ready in zig-out/npm. To publish:
  git add src/native/checksums.ts && git commit -m "Release ${v}" && git tag v${v}
  # upload the assets the Deno entry downloads (src/native/locate.ts DOWNLOAD_URL):
  gh release create v${v} ${join("zig-out", "npm", "release")}/*
  # npm: the platform packages first, then the package that depends on them
${platforms.map((t) => `  npm publish --access public ${t}`).join("\n")}
  npm publish ${result.main}
  # JSR (mod.ts + src/, with the checksums just written)
  deno publish`);
