#!/usr/bin/env bash
# HTTP throughput: GET /llm/learning/builds?limit=50 with 10,000 builds
# stored, against GET /health on the same server, with wrk (64 connections).
# Also prints the idle server's memory.
#
#   bench/http.sh [BUILDS] [SECONDS]
source "$(dirname "$0")/common.sh"
builds="${1:-10000}"
seconds="${2:-10}"
build_release
machine
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

dir="$(mktemp -d)"
port="$(free_port)"
# First start creates the schema; then builds are seeded straight into the
# database (running 10,000 real builds would measure the runner instead).
start_server "$dir" "$port"
stop_server
python3 - "$dir/.qide/qide.db" "$builds" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
n = int(sys.argv[2])
now = int(time.time() * 1000)
rows = []
for i in range(n):
    status = ["success", "failed", "error"][i % 3]
    rows.append((status, "api", "9f2c1e7" + "0" * 33, "main", i % 2, "b3:" + "ab" * 32,
                 now - (n - i) * 1000, now - (n - i) * 1000 + 10, now - (n - i) * 1000 + 8000,
                 101 if status == "failed" else 0, "exit_non_zero" if status == "failed" else None,
                 "compile_error" if status == "failed" else None, i % 5, i % 7, 57))
db.executemany("""INSERT INTO builds (status, trigger_name, commit_hash, branch, dirty, tree_hash,
    created_at, started_at, finished_at, exit_code, failure_kind, failure_category, error_count,
    warning_count, log_line_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", rows)
db.commit()
PY
start_server "$dir" "$port"
sleep 1
idle_kb=$(rss_kb "$server_pid")
url="http://127.0.0.1:$port"
curl -sf "$url/llm/learning/builds?limit=50" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["total"] > 0 and len(d["builds"]) == 50, d["total"]'
run_wrk() {
    wrk -t2 -c64 -d"${seconds}s" --latency "$1" >"$dir.wrk" 2>&1
    cat "$dir.wrk" >&2
    if grep -qE 'Non-2xx|Socket errors' "$dir.wrk"; then
        echo "errors during the run of $1" >&2
        exit 1
    fi
    awk '/Requests\/sec/ { print $2 }' "$dir.wrk"
}
echo "--- /health" >&2
health=$(run_wrk "$url/health")
echo "--- /llm/learning/builds?limit=50" >&2
list=$(run_wrk "$url/llm/learning/builds?limit=50")
stop_server
rm -rf "$dir"
python3 - "$health" "$list" "$idle_kb" "$builds" <<'PY'
import sys
health, listing, idle, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
print(f"builds stored: {n}")
print(f"/health: {health:.0f} req/s")
print(f"/llm/learning/builds?limit=50: {listing:.0f} req/s ({listing / health:.2f}x of /health)")
print(f"idle server RSS: {idle / 1024:.1f} MiB")
PY
