#!/usr/bin/env bash
# Dashboard page throughput: the build list (`/`) with 10,000 builds
# stored, and the log viewer (`/builds/{id}/log`) on a 100 MB log, its first
# page, a page from the middle and its end, against `GET /health` on the
# same server (and the log viewer against the API's JSON log page), with wrk
# (64 connections). Also `/stats` (charts over the 10,000 builds) and
# `/patterns`.
#
#   bench/dashboard.sh [BUILDS] [LOG_BYTES] [SECONDS]
#
# QIDE_BIN=path measures that binary instead of building the release one
# (on a machine where other builds share the target directory).
source "$(dirname "$0")/common.sh"
if [ -n "${QIDE_BIN:-}" ]; then
    qide="$QIDE_BIN"
    build_release() { :; }
fi
builds="${1:-10000}"
log_bytes="${2:-100000000}"
seconds="${3:-10}"
build_release
machine
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

dir="$(mktemp -d)"
port="$(free_port)"
url="http://127.0.0.1:$port"
start_server "$dir" "$port"
# A real build prints the big log (numbered 100-byte lines with a colour
# code in each), so it is stored the way builds store logs: in chunks,
# compressed, its middle dropped past the per-build cap.
producer="seq 1 $((log_bytes / 100)) | awk '{ printf \"\\033[32mok\\033[0m line %08d of the big log %s\\n\", \$1, \"................................................................\" }'"
body=$(python3 -c 'import json,sys; print(json.dumps({"steps": [{"name": "flood", "run": sys.argv[1]}]}))' "$producer")
big=$(curl -sf -XPOST "$url/build/run" -H 'content-type: application/json' -d "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf "$url/build/$big?wait=300" >/dev/null
read -r lines log_stored <<<"$(curl -sf "$url/build/$big" | python3 -c 'import json,sys; b=json.load(sys.stdin); print(b["log_line_count"], b["status"])')"
stop_server
# Then 10,000 builds straight into the database (running them would
# measure the runner instead).
python3 - "$dir/.qide/qide.db" "$builds" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
n = int(sys.argv[2])
now = int(time.time() * 1000)
categories = ["compile_error", "test_failure", "lint", None]
rows = []
for i in range(n):
    status = ["success", "failed", "error"][i % 3]
    at = now - (n - i) * 60_000
    rows.append((status, "api", "9f2c1e7" + "0" * 33, "main", i % 2, "b3:" + "ab" * 32,
                 at, at + 10, at + 8000 + (i % 50) * 100,
                 101 if status == "failed" else 0, "exit_non_zero" if status == "failed" else None,
                 categories[i % 4] if status != "success" else None, i % 5, i % 7, 57))
db.executemany("""INSERT INTO builds (status, trigger_name, commit_hash, branch, dirty, tree_hash,
    created_at, started_at, finished_at, exit_code, failure_kind, failure_category, error_count,
    warning_count, log_line_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", rows)
db.commit()
PY
start_server "$dir" "$port"
middle=$((lines / 2))
for path in "/" "/builds/$big/log" "/builds/$big/log?from=$middle" "/builds/$big/log?tail=1"; do
    curl -sf "$url$path" | grep -q 'class="ln \|data-build=' || { echo "$path did not render" >&2; exit 1; }
done
run_wrk() {
    wrk -t2 -c64 -d"${seconds}s" --latency "$1" >"$dir.wrk" 2>&1
    cat "$dir.wrk" >&2
    if grep -qE 'Non-2xx|Socket errors' "$dir.wrk"; then
        echo "errors during the run of $1" >&2
        exit 1
    fi
    awk '/Requests\/sec/ { print $2 }' "$dir.wrk"
}
results=()
# The API's own log page (`GET /build/{id}/log`, JSON) reads the same
# chunks: the second baseline for the log viewer.
for path in "/health" "/" "/?status=failed&category=lint" "/build/$big/log?limit=500" \
    "/builds/$big/log" "/builds/$big/log?from=$middle" "/builds/$big/log?tail=1" \
    "/stats?range=quarter" "/patterns"; do
    echo "--- $path" >&2
    results+=("$path=$(run_wrk "$url$path")")
done
busy_kb=$(rss_kb "$server_pid" VmHWM)
stop_server
rm -rf "$dir" "$dir.wrk" "$dir.server.log"
python3 - "$builds" "$log_bytes" "$lines" "$log_stored" "$busy_kb" "${results[@]}" <<'PY'
import sys
builds, log_bytes, lines, status, hwm = sys.argv[1:6]
rates = [r.rsplit("=", 1) for r in sys.argv[6:]]
health = float(rates[0][1])
print(f"builds stored: {builds}; log of {int(log_bytes) / 1e6:.0f} MB, {lines} lines (build {status})")
for path, rate in rates:
    rate = float(rate)
    print(f"{path}: {rate:.0f} req/s ({rate / health:.2f}x of /health)")
print(f"server VmHWM after the runs: {int(hwm) / 1024:.1f} MiB")
PY
