#!/usr/bin/env bash
# Benchmark: ezm-analyze against DevTools' own heap snapshot code (heap-snapshot-toolkit, run in Node) on snapshots
# of tests/fixtures/leaky-app.js at growing scales. Each tool runs as one child under /usr/bin/time -v (wall time,
# peak RSS). Ours reads the gzip file as stored; DevTools reads the plain file (it cannot read gzip), so its time
# excludes inflating. Both must report the same total.
#
# Usage: crates/analysis/bench/run.sh [SCALE...]
#   default scales 160 800 1600 give about 100 MB, 500 MB and 1 GB snapshots (writing the 1 GB one takes Node
#   minutes and several GB of memory). Files go to $BENCH_DIR (default /tmp/ezm-bench) and are reused.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
dir="${BENCH_DIR:-/tmp/ezm-bench}"
cache="${HOME}/.cache/easy-monitor/hst"
mkdir -p "$dir"
if [ ! -f "$cache/node_modules/heap-snapshot-toolkit/package.json" ]; then
  mkdir -p "$cache"
  (cd "$cache" && npm init -y >/dev/null && npm install --no-audit --no-fund heap-snapshot-toolkit@1.1.3 >/dev/null)
fi
(cd "$repo" && CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}" cargo build --release -q -p analysis)
bin="$repo/target/release/ezm-analyze"

measure() { # label, output file, command...
  local label="$1" out="$2"
  shift 2
  /usr/bin/time -v "$@" > "$out" 2> "$dir/time.txt"
  local wall rss
  wall="$(grep 'Elapsed (wall clock)' "$dir/time.txt" | awk '{print $NF}')"
  rss="$(grep 'Maximum resident set size' "$dir/time.txt" | awk '{print $NF}')"
  printf '  %-10s wall %8s  peak RSS %7.0f MiB\n' "$label" "$wall" "$((rss / 1024))"
}

for scale in "${@:-160 800 1600}"; do
  for s in $scale; do
    plain="$dir/leaky-$s.heapsnapshot"
    if [ ! -f "$plain.gz" ]; then
      node --max-old-space-size=20000 "$repo/crates/analysis/tests/fixtures/leaky-app.js" "$plain" "$s"
      gzip -1 -k -f "$plain"
    fi
    [ -f "$plain" ] || gunzip -k "$plain.gz"
    echo "scale $s: $(du -m "$plain" | cut -f1) MB plain, $(du -m "$plain.gz" | cut -f1) MB gzip"
    measure ours "$dir/ours-$s.json" "$bin" heap "$plain.gz" --json
    measure devtools "$dir/devtools-$s.json" env NODE_PATH="$cache/node_modules" \
      node --max-old-space-size=20000 "$repo/crates/analysis/tests/fixtures/devtools-expected.mjs" "$plain"
    node -e '
      const [ours, dt] = process.argv.slice(1).map(f => JSON.parse(require("fs").readFileSync(f)));
      const same = ours.heap.total_size === dt.statistics.total;
      console.log(`  nodes ${ours.heap.node_count}, edges ${ours.heap.edge_count}, total ${ours.heap.total_size} (DevTools ${dt.statistics.total}: ${same ? "equal" : "DIFFERENT"})`);
    ' "$dir/ours-$s.json" "$dir/devtools-$s.json"
  done
done
