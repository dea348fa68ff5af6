#!/usr/bin/env bash
# Runs bench/atomics.bench.ts in Bun, then in Deno, and writes bench/RESULTS.md
# (date, machine, tool versions, both tables).
#
# Usage: bash bench/run.sh
# Environment: BENCH_N, BENCH_ROUNDS (passed to the bench), BENCH_REBUILD=1 to
# run scripts/setup.mjs first even when the library exists, CC for the native
# loop, BENCH_OUT (default bench/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1

BUN=node_modules/.bin/bun
DENO=node_modules/.bin/deno
LIB=zig-out/lib/libshared_atomic.so
[ "$(uname -s)" = Darwin ] && LIB=zig-out/lib/libshared_atomic.dylib
OUT=${BENCH_OUT:-bench/RESULTS.md}

if [ "${BENCH_REBUILD:-0}" = 1 ] || [ ! -x "$BUN" ] || [ ! -x "$DENO" ] || [ ! -f "$LIB" ]; then
  node scripts/setup.mjs --quiet
fi
ZIG=$(node -e 'import("./scripts/setup.mjs").then(m => console.log(m.zig))')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Measure a private copy: a rebuild of zig-out during the run cannot swap the
# library under a running benchmark.
cp "$LIB" "$work/"
export SHARED_ATOMIC_LIB="$work/$(basename "$LIB")"

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
"$BUN" bench/atomics.bench.ts >"$work/bun.md"
"$DENO" run -A bench/atomics.bench.ts >"$work/deno.md"
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
cpu=${cpu:-$(uname -m)}
dirty=""
git diff --quiet HEAD -- zig build.zig src bun.ts mod.ts 2>/dev/null || dirty=" (working tree has uncommitted changes in zig/, src/ or the entries)"

{
  echo "# Benchmark results"
  echo
  echo "Written by \`bash bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$dirty."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| CPU | $cpu |"
  echo "| cores | $(nproc 2>/dev/null || echo '?') |"
  echo "| kernel | $(uname -sr) |"
  echo "| load average (1/5/15 min) | before $load_before, after $load_after |"
  echo "| Bun | $("$BUN" --version) |"
  echo "| Deno | $("$DENO" --version | head -1 | sed 's/ (.*//') |"
  echo "| Zig | $("$ZIG" version 2>/dev/null || echo '?') (library as built by \`node scripts/setup.mjs\`: ReleaseFast) |"
  echo "| C compiler (native loop) | $("${CC:-cc}" --version | head -1) |"
  echo
  echo "Each figure is a median over the rounds; a ratio is the median of the per-round ratios of two"
  echo "measurements taken back to back. \"ours\" is the public API (\`AtomicI32.prototype.fetchAdd\` …), called"
  echo "in a loop of its own; \"native\" is the same operation in a C loop, one FFI call per measurement."
  echo "Single-threaded and uncontended: this is the cost of a call, not of contention."
  echo
  cat "$work/bun.md"
  echo
  cat "$work/deno.md"
} >"$OUT"
echo "wrote $OUT"
