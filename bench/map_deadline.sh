#!/usr/bin/env bash
# The repo map's deadline through a real `qide serve`:
# `GET /llm/learning/codebase?mode=map&budget_tokens=4096` on a fresh server.
#
#   bench/map_deadline.sh [TREE] [CALLS] [PAUSE_S]
#
# TREE (default ~/.cargo/registry/src) is hard-linked into a scratch
# directory. Two rounds, each on a fresh server:
# 1. Back to back: up to CALLS (default 12) calls, one right after another,
#    until the map is complete; each call's HTTP status, time, `partial`,
#    `files_parsed` of `files_total` and tokens. Goal: every call 200 within
#    the 10 s deadline (plus the request's own overhead), never the 30 s
#    request timeout.
# 2. With pauses: a first call, then PAUSE_S seconds (default 60) for the
#    background parsing, then calls until complete: how much the pause
#    filled in.
source "$(dirname "$0")/common.sh"

tree_src="${1:-$HOME/.cargo/registry/src}"
calls="${2:-12}"
pause="${3:-60}"

build_release
machine
scratch_tree "$tree_src"
echo "tree: $tree_src, $(rg --files --hidden "$tree" | wc -l) files, $(du -sh "$tree" | cut -f1)"

fresh_server() {
    port="$(free_port)"
    start_server "$1" "$port"
    base="http://127.0.0.1:$port/llm/learning/codebase?mode=map&budget_tokens=4096"
}

# map_call N: one map request; prints its status, time and the answer's
# completeness. Returns 1 when the map was complete.
map_call() {
    local out="$scratch/answer.json" line
    line="$(curl -s -o "$out" -w '%{http_code} %{time_total}' "$base")"
    python3 - "$1" "$line" "$out" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF'
import json, sys
n, line, path, load = sys.argv[1:5]
status, seconds = line.split()
try:
    d = json.load(open(path))
    print(f"call {n}: HTTP {status}, {float(seconds):.2f} s, partial={d['partial']}, "
          f"{d['files_parsed']} of {d['files_total']} files parsed, {len(d['files'])} files shown, "
          f"{d['tokens']} of {d['budget_tokens']} tokens (load {load})")
    sys.exit(0 if d['partial'] else 1)
except Exception as e:
    print(f"call {n}: HTTP {status}, {float(seconds):.2f} s, no map: {e} (load {load})")
    sys.exit(0)
EOF
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== back to back"
fresh_server "$tree"
for n in $(seq 1 "$calls"); do
    map_call "$n" || { map_call "$((n + 1)) (repeat)" || true; break; }
done
stop_server
server_pid=""

echo "== first call, ${pause} s pause, then calls"
rm -rf "$tree/.qide"
fresh_server "$tree"
map_call 1 || true
sleep "$pause"
for n in $(seq 2 "$calls"); do
    map_call "$n" || { map_call "$((n + 1)) (repeat)" || true; break; }
done
stop_server
server_pid=""
