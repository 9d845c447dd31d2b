#!/usr/bin/env bash
# Log capture: a step that prints 1 GiB, captured by `qide serve`, against
# the same producer writing to /dev/null. Prints the capture rate, the ratio
# to the baseline, the server's CPU time (which, unlike the rate, does not
# swing with what else runs on the machine) and its peak memory.
#
#   bench/capture.sh [BYTES] [FILE]
#
# Without FILE the output is identical 100-byte lines (the best case for the
# store's compression); with FILE it is that file's text repeated, e.g. the
# LogChunks logs concatenated, which compress like real build logs.
# QIDE_BIN=path measures that binary instead of building the release one
# (to compare two builds, or to keep others' edits out of a series of runs).
source "$(dirname "$0")/common.sh"
bytes="${1:-1073741824}"

# cpu_ticks PID: user + system time of a process so far, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}
if [ -n "${QIDE_BIN:-}" ]; then qide="$QIDE_BIN"; else build_release; fi
machine

if [ -n "${2:-}" ]; then
    producer="while cat '$2'; do :; done | head -c $bytes"
else
    line="$(printf '%099d' 0)"
    producer="yes $line | head -c $bytes"
fi

start=$(date +%s.%N)
sh -c "$producer" >/dev/null
base=$(echo "$(date +%s.%N) - $start" | bc)

dir="$(mktemp -d)"
port="$(free_port)"
start_server "$dir" "$port"
idle_kb=$(rss_kb "$server_pid")
idle_ticks=$(cpu_ticks "$server_pid")
body=$(python3 -c 'import json,sys; print(json.dumps({"steps": [{"name": "flood", "run": sys.argv[1]}]}))' "$producer")
id=$(curl -sf -XPOST "http://127.0.0.1:$port/build/run" -H 'content-type: application/json' -d "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
peak_kb=0
# One long poll waits for the end, so the loop that samples memory starts no
# process of its own but awk: a status poll that ran curl and python3 ten
# times a second took about a tenth of this 2-core machine from the capture
# it measures.
final="$dir.final.json"
(until curl -sf "http://127.0.0.1:$port/build/$id?wait=300" >"$final.part" &&
    python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["status"] not in ("success", "failed", "error"))' "$final.part"; do sleep 0.1; done
 mv "$final.part" "$final") &
waiter=$!
while kill -0 "$waiter" 2>/dev/null; do
    kb=$(rss_kb "$server_pid")
    [ "$kb" -gt "$peak_kb" ] && peak_kb=$kb
    sleep 0.1
done
status=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$final")
rm -f "$final"
hwm_kb=$(rss_kb "$server_pid" VmHWM)
busy_ticks=$(( $(cpu_ticks "$server_pid") - idle_ticks ))
step_ms=$(curl -sf "http://127.0.0.1:$port/build/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["steps"][0]["duration_ms"])')
stop_server
rm -rf "$dir"

python3 - "$bytes" "$base" "$step_ms" "$idle_kb" "$peak_kb" "$hwm_kb" "$status" "$busy_ticks" "$(getconf CLK_TCK)" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import sys
size, base, step_ms, idle, peak, hwm, status, ticks, hz, load = sys.argv[1:]
size = int(size); base = float(base); step = int(step_ms) / 1000
print(f"build status: {status}")
print(f"output: {size / 2**20:.0f} MiB")
print(f"baseline (producer > /dev/null): {base:.2f} s, {size / base / 1e6:.0f} MB/s")
print(f"through qide: {step:.2f} s, {size / step / 1e6:.0f} MB/s ({base / step:.2f}x of baseline rate)")
cpu = int(ticks) / int(hz)
print(f"server CPU (user + system): {cpu:.2f} s, {cpu / step:.2f} cores while capturing, {cpu / (size / 2**30):.2f} s per GiB")
print(f"load average after the run: {load}")
print(f"server RSS: idle {int(idle) / 1024:.1f} MiB, peak sampled {int(peak) / 1024:.1f} MiB, VmHWM {int(hwm) / 1024:.1f} MiB")
PY
