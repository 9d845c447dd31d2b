#!/usr/bin/env bash
# Diagnose throughput on one core: the LogChunks logs concatenated into one
# file, diagnosed by crates/qide-diagnose/examples/throughput.rs (64 KiB
# reads, LF-split lines, push_line) and scanned by `rg -c -i error` in the
# same run. Prints MB/s for both and their ratio (best of RUNS each).
#
#   bench/diagnose_speed.sh [DATA_DIR] [RUNS]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${1:-$repo/../shared/data/logchunks}"
runs="${2:-3}"
target="${CARGO_TARGET_DIR:-$repo/target}"

(cd "$repo" && cargo build --release -p qide-diagnose --example throughput -q)
file="$(mktemp)"
trap 'rm -f "$file"' EXIT
find "$data/logs" -name '*.log' -print0 | sort -z | xargs -0 cat >"$file"
bytes=$(stat -c %s "$file")
echo "corpus: $bytes bytes from $(find "$data/logs" -name '*.log' | wc -l) logs; $(nproc) cores, $(uname -sr)"
cat "$file" >/dev/null # warm the page cache for both

best() { sort -n | head -1; }
seconds_of() { # runs a command pinned to one core, prints wall seconds
    local start end
    start=$(date +%s.%N)
    taskset -c 0 "$@" >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}
qide_s=$(for _ in $(seq "$runs"); do seconds_of "$target/release/examples/throughput" "$file"; done | best)
rg_s=$(for _ in $(seq "$runs"); do seconds_of rg -c -i -j1 error "$file"; done | best)
python3 - "$bytes" "$qide_s" "$rg_s" <<'PY'
import sys
bytes_, q, r = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"qide-diagnose: {bytes_ / q / 1e6:.0f} MB/s ({q:.3f} s)")
print(f"rg -c -i error: {bytes_ / r / 1e6:.0f} MB/s ({r:.3f} s)")
print(f"ratio rg/qide: {q / r:.2f}x (goal: >= 300 MB/s and <= 3x)")
PY
