#!/usr/bin/env bash
# Extraction quality on LogChunks: runs the diagnose engine over every
# labelled log (crates/qide-diagnose/examples/logchunks.rs) and scores the
# line ranges it would put in the failure packet (root-cause errors) with
# shared/tools/logchunks_score.py. Prints recall overall, by language and by
# category, the median lines reported and the median tokens (bytes / 4).
#
#   bench/logchunks.sh [DATA_DIR] [--misses]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${1:-$repo/../shared/data/logchunks}"
shift || true
tools="$(cd "$data/../../tools" && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"

(cd "$repo" && cargo build --release -p qide-diagnose --example logchunks -q)
out="$(mktemp --suffix=.jsonl)"
trap 'rm -f "$out"' EXIT
"$target/release/examples/logchunks" "$data" >"$out"
python3 "$tools/logchunks_score.py" --data "$data" "$@" "$out"
python3 - "$out" <<'PY'
import json, statistics, sys
records = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print(f"median tokens reported {statistics.median(r['tokens'] for r in records)}, "
      f"90th percentile {sorted(r['tokens'] for r in records)[int(len(records) * 0.9)]}")
PY
