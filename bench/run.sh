#!/usr/bin/env bash
# Runs the benchmarks in Bun, then in Deno, and writes bench/RESULTS.md (date,
# machine, tool versions, load, every table):
#   bench/atomics.bench.ts    single-thread ns/op vs built-in Atomics and a C loop
#   bench/processes.bench.ts  a counter shared by 2 processes vs 2 Workers vs SQLite
#   bench/locks.bench.ts      uncontended Mutex vs an Atomics mutex and C; wake-up latency
#   bench/channel.bench.ts    Channel messages/s vs postMessage, child-process IPC, a Unix socket; latency
#   bench/valkey.bench.ts     the Valkey backend vs the raw client and the local backend (round trips/s)
#   bench/node.bench.ts       the Node column: issue 13's targets and the Node-API call cost, in the pinned Node
#   bench/map.bench.ts        SharedMap get/set/fetchAdd vs a JS Map; 1 thread, 2 Workers, 2 processes vs SQLite
#
# Usage: bash bench/run.sh
# Environment: BENCHES (default "atomics processes locks wide channel map valkey"), BENCH_ROUNDS
# (every bench), BENCH_N (atomics), BENCH_ADD_N,
# BENCH_SQL_N, BENCH_SQL_FULL_N (processes), BENCH_LOCK_N, BENCH_TRIPS (locks), BENCH_VALKEY_N (valkey)
# are passed through; BENCH_REBUILD=1 runs scripts/setup.mjs first even when
# the library exists; CC for the C loops; BENCH_OUT (default bench/RESULTS.md).
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
# Node loads the Node-API addon beside the library (src/native/node_addon.ts)
[ -f zig-out/lib/shared_atomic.node ] && cp zig-out/lib/shared_atomic.node "$work/"
NODE_BIN=$(node -e 'import("./scripts/setup.mjs").then(m => console.log(m.nodeBin()))')
export SHARED_ATOMIC_LIB="$work/$(basename "$LIB")"

# BENCHES: which bench/<name>.bench.ts to run, in order (e.g. add "wide").
BENCHES=${BENCHES:-atomics processes locks wide channel map valkey}
runs=""
# run_part <runtime> <bench> <command...>: its markdown into $work/<runtime>-<bench>.md,
# and a line for the table of runs (seconds taken, load average before).
run_part() {
  local rt=$1 bench=$2
  shift 2
  local load t0 t1
  load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?")
  t0=$(date +%s.%N)
  "$@" "bench/$bench.bench.ts" >"$work/$rt-$bench.md"
  t1=$(date +%s.%N)
  runs+="| $rt | bench/$bench.bench.ts | $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") | $load |"$'\n'
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
for bench in $BENCHES; do run_part Bun "$bench" "$BUN"; done
for bench in $BENCHES; do run_part Deno "$bench" "$DENO" run -A; done
run_part Node node "$NODE_BIN"
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
  echo "| Node | $("$NODE_BIN" --version) |"
  echo "| Zig | $("$ZIG" version 2>/dev/null || echo '?') (library as built by \`node scripts/setup.mjs\`: ReleaseFast) |"
  echo "| C compiler (native loops) | $("${CC:-cc}" --version | head -1) |"
  echo
  echo "| runtime | part | seconds | 1-min load average before |"
  echo "|---|---|---:|---:|"
  printf '%s' "$runs"
  echo
  echo "The machine is shared (other builds and tests run at the same time): absolute figures are noisy. Each"
  echo "figure is a median over several rounds, and every ratio is the median of per-round ratios of two"
  echo "measurements taken back to back, which is what the targets are judged on."
  echo
  for bench in $BENCHES; do
    case $bench in
      atomics)
        echo "## Single-thread atomics (bench/atomics.bench.ts)"
        echo
        echo "Each figure is a median over the rounds; a ratio is the median of the per-round ratios of two"
        echo "measurements taken back to back. \"ours\" is the public API (\`AtomicI32.prototype.fetchAdd\` …), called"
        echo "in a loop of its own; \"native\" is the same operation in a C loop, one FFI call per measurement."
        echo "Single-threaded and uncontended: this is the cost of a call, not of contention."
        ;;
      processes) echo "## A counter shared between processes (bench/processes.bench.ts)" ;;
      locks) echo "## Locks and wake-up latency (bench/locks.bench.ts)" ;;
      channel) echo "## Channel: messages between Workers and processes (bench/channel.bench.ts)" ;;
      map) echo "## SharedMap (bench/map.bench.ts)" ;;
      valkey) echo "## The Valkey backend vs the raw client and the local backend (bench/valkey.bench.ts)" ;;
      *) echo "## bench/$bench.bench.ts" ;;
    esac
    echo
    cat "$work/Bun-$bench.md"
    echo
    cat "$work/Deno-$bench.md"
    echo
  done
  echo "## Node (bench/node.bench.ts)"
  echo
  cat "$work/Node-node.md"
  echo
} >"$OUT"
echo "wrote $OUT"
