// Checks the GitHub Actions workflows (.github/workflows/) with actionlint,
// installed once from the Go module proxy (`go install`, the version pinned
// below) into .ci-tools/ of this checkout. Needs `go` on PATH.
// Usage: node scripts/actionlint.mjs
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tools = join(root, ".ci-tools", "go");
const bin = join(tools, "bin", process.platform === "win32" ? "actionlint.exe" : "actionlint");
const version = ACTIONLINT.split("@")[1];
const stamp = join(tools, "bin", `actionlint-${version}`);

if (!existsSync(bin) || !existsSync(stamp)) {
  console.error(`[actionlint] go install ${ACTIONLINT} (into ${tools})`);
  execFileSync("go", ["install", ACTIONLINT], {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      GOBIN: join(tools, "bin"),
      GOPATH: join(tools, "path"),
      GOCACHE: join(tools, "cache"),
      GOFLAGS: "-modcacherw",
    },
  });
  execFileSync(bin, ["-version"], { stdio: "ignore" });
  // remember which version is installed
  (await import("node:fs")).writeFileSync(stamp, `${ACTIONLINT}\n`);
}
const r = spawnSync(bin, ["-no-color"], { cwd: root, stdio: "inherit" });
if (r.status === 0) console.log("actionlint: no problems in .github/workflows/");
process.exit(r.status ?? 1);
