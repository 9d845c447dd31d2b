#!/usr/bin/env bash
# Diagnose throughput on one core: the LogChunks logs concatenated into one
# file, diagnosed by crates/qide-diagnose/examples/throughput.rs (64 KiB
# reads, LF-split lines, push_line) and scanned by `rg -c -i error` in the
# same run. Prints MB/s for both and their ratio (best of RUNS each), by
# wall time and by CPU time (user + system: other work on a shared machine
# stretches the wall time more than the CPU time). For context it also
# times rg over the engine's own keywords (the parsers' gate and the
# fallback's, read from the sources, ASCII case ignored), the scan the
# engine's prefilter does on every line.
#
#   bench/diagnose_speed.sh [DATA_DIR] [RUNS]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${1:-$repo/../shared/data/logchunks}"
runs="${2:-3}"
target="${CARGO_TARGET_DIR:-$repo/target}"

(cd "$repo" && cargo build --release -p qide-diagnose --example throughput -q)
file="$(mktemp)"
find "$data/logs" -name '*.log' -print0 | sort -z | xargs -0 cat >"$file"
bytes=$(stat -c %s "$file")
echo "corpus: $bytes bytes from $(find "$data/logs" -name '*.log' | wc -l) logs; $(nproc) cores, $(uname -sr)"
cat "$file" >/dev/null # warm the page cache for both

keywords="$(mktemp)"
trap 'rm -f "$file" "$keywords"' EXIT
python3 - "$repo/crates/qide-diagnose/src" >"$keywords" <<'PY'
import re, sys
for name in ("lib.rs", "fallback.rs"):
    source = open(f"{sys.argv[1]}/{name}").read()
    body = source.split("pub(crate) const KEYWORDS: &[&str] = &[")[1].split("];")[0]
    for keyword in re.findall(r'^\s*"((?:[^"\\]|\\.)*)"', body, re.M):
        print(keyword.replace('\\"', '"'))
PY

best() { sort -n | head -1; }
times_of() { # runs a command pinned to one core, prints wall and CPU seconds
    local start end cpu
    start=$(date +%s.%N)
    cpu=$( { /usr/bin/time -f '%U %S' taskset -c 0 "$@" >/dev/null; } 2>&1 | tail -1)
    end=$(date +%s.%N)
    echo "$(echo "$end - $start" | bc -l) $(echo "$cpu" | awk '{print $1 + $2}')"
}
measure() { # best wall and best CPU seconds of RUNS runs
    local all
    all=$(for _ in $(seq "$runs"); do times_of "$@"; done)
    echo "$(echo "$all" | cut -d' ' -f1 | best) $(echo "$all" | cut -d' ' -f2 | best)"
}
qide=$(measure "$target/release/examples/throughput" "$file")
rg=$(measure rg -c -i -j1 error "$file")
rg_all=$(measure rg -c -i -j1 -F -f "$keywords" "$file")
python3 - "$bytes" "$(wc -l <"$keywords")" $qide $rg $rg_all <<'PY'
import sys
bytes_, n = int(sys.argv[1]), int(sys.argv[2])
q, qc, r, rc, a, ac = map(float, sys.argv[3:])
mb = lambda s: bytes_ / s / 1e6
print(f"qide-diagnose: {mb(q):.0f} MB/s ({q:.3f} s wall), {mb(qc):.0f} MB/s of CPU ({qc:.2f} s)")
print(f"rg -c -i error: {mb(r):.0f} MB/s ({r:.3f} s wall), {mb(rc):.0f} MB/s of CPU ({rc:.2f} s)")
print(f"ratio rg/qide: {q / r:.2f}x wall, {qc / max(rc, 0.01):.2f}x CPU (goal: >= 300 MB/s and <= 3x)")
print(f"rg -c -i -F over the engine's {n} keywords: {mb(a):.0f} MB/s ({a:.3f} s wall, {ac:.2f} s CPU)")
PY
