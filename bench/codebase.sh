#!/usr/bin/env bash
# Codebase benchmarks (DESIGN §10): `GET /llm/learning/codebase` through a
# real `qide serve`.
#
#   bench/codebase.sh [TREE] [RUNS] [PEER_TREE]
#
# TREE (default ~/.cargo/registry/src, tens of thousands of files after a
# full build) is hard-linked into a scratch directory, so the server's
# `.qide/` never lands in the original.
#
# 1. Cold summary: a fresh server per run, first request's time to first
#    byte (the answer is serialised before the first byte is sent), against
#    `rg --files --hidden` on the same tree (hyperfine). Goal: within 2×.
#    Twice: "first ever" (no `.qide/`, so every file is read) and "fresh
#    server, saved scans" (the `.qide/codebase-scans-v1` an earlier server
#    left, so only files whose stamp moved are read).
# 2. Warm summary: the same request again on that server, median of 20,
#    time to first byte and the server's own time (`Server-Timing`).
#    Goal: ≤ 5 ms.
# 3. Map (budget 4096) and pack (budgets 20,000 and 100,000): first call on a
#    fresh server (every file parsed or read), then warm calls; the answer's
#    tokens against its budget.
# 4. On PEER_TREE (default: this repository), repomix (`npm install repomix`
#    in a scratch folder; set REPOMIX to its binary) in its default and
#    `--compress` modes, with o200k_base token counts, beside QIDE's pack
#    and map of the same tree. repomix has no token budget: it packs
#    everything, so "budget held" is whether its output fits.
source "$(dirname "$0")/common.sh"

tree_src="${1:-$HOME/.cargo/registry/src}"
runs="${2:-5}"
peer_src="${3:-$repo}"
repomix="${REPOMIX:-$(command -v repomix || true)}"

build_release
machine
scratch_tree "$tree_src"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tree: $tree_src, $(rg --files --hidden "$tree" | wc -l) files (rg --files --hidden), $(du -sh "$tree" | cut -f1)"

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# ttfb_ms URL: time to first byte of a GET, in milliseconds.
# A non-200 answer (a map of a huge tree can outlast the server's request
# timeout) is reported on stderr, not fatal.
ttfb_ms() {
    curl -s -o /dev/null -w '%{http_code} %{time_starttransfer}\n' "$1" |
        awk '{ if ($1 != 200) print "HTTP " $1 > "/dev/stderr"; printf "%.2f\n", $2 * 1000 }'
}
# field URL PYTHON-EXPR: numbers from a JSON answer `d`.
field() {
    curl -s "$1" | python3 -c "import json, sys
try:
    d = json.load(sys.stdin); print($2)
except Exception as e:
    print('no answer:', e)"
}
# server_ms URL: the server's own time for a GET (its Server-Timing).
server_ms() {
    curl -s -D - -o /dev/null "$1" | tr -d '\r' |
        awk -F'dur=' 'tolower($0) ~ /^server-timing:/ { printf "%.3f\n", $2 }'
}
# same_server DIR: a new server over DIR, keeping its `.qide/`.
same_server() {
    port="$(free_port)"
    start_server "$1" "$port"
    base="http://127.0.0.1:$port/llm/learning/codebase"
}
fresh_server() {
    rm -rf "$1/.qide"
    same_server "$1"
}

echo
echo "== rg --files --hidden (baseline)"
hyperfine -N --warmup 2 --runs 10 --export-json "$scratch/rg.json" "rg --files --hidden $tree" >/dev/null
rg_ms="$(python3 -c "import json; print(round(json.load(open('$scratch/rg.json'))['results'][0]['median'] * 1000, 2))")"
echo "rg --files: median $rg_ms ms"

echo
echo "== summary: cold (fresh server per run) and warm"
cold=()
for _ in $(seq 1 "$runs"); do
    fresh_server "$tree"
    cold+=("$(ttfb_ms "$base")")
    stop_server
    server_pid=""
done
cold_ms="$(printf '%s\n' "${cold[@]}" | median)"
echo "cold summary, first ever: ${cold[*]} ms; median $cold_ms ms = $(python3 -c "print(round($cold_ms / $rg_ms, 1))")x rg --files"
# The last run left its scans; let them settle past the racy window.
sleep 3
saved=()
for _ in $(seq 1 "$runs"); do
    same_server "$tree"
    saved+=("$(ttfb_ms "$base")")
    stop_server
    server_pid=""
done
saved_ms="$(printf '%s\n' "${saved[@]}" | median)"
echo "cold summary, fresh server with saved scans: ${saved[*]} ms; median $saved_ms ms = $(python3 -c "print(round($saved_ms / $rg_ms, 1))")x rg --files"
same_server "$tree"
ttfb_ms "$base" >/dev/null
# The watcher must be ready (and its directories settled) before a repeat
# is answered without walking; the first calls after it may still check.
sleep 3
for _ in 1 2 3; do ttfb_ms "$base" >/dev/null; done
warm=()
timing=()
for _ in $(seq 1 20); do
    warm+=("$(ttfb_ms "$base")")
    timing+=("$(server_ms "$base")")
done
echo "warm summary: time to first byte median $(printf '%s\n' "${warm[@]}" | median) ms over 20 (min $(printf '%s\n' "${warm[@]}" | sort -g | head -1)); server time median $(printf '%s\n' "${timing[@]}" | median) ms (max $(printf '%s\n' "${timing[@]}" | sort -g | tail -1))"
echo "answer size: $(curl -s "$base" | wc -c) bytes"
stop_server
server_pid=""

echo
echo "== map (budget 4096) and pack: first call on a fresh server, then warm"
for query in "mode=map&budget_tokens=4096" "mode=pack&budget_tokens=20000" "mode=pack&budget_tokens=100000"; do
    fresh_server "$tree"
    first="$(ttfb_ms "$base?$query")"
    again=()
    for _ in 1 2 3; do again+=("$(ttfb_ms "$base?$query")"); done
    tokens="$(field "$base?$query" "d['tokens'], 'of', d['budget_tokens'], 'tokens,', len(d['files']), 'files'")"
    echo "$query: first $first ms, then ${again[*]} ms; $tokens"
    stop_server
    server_pid=""
done

echo
echo "== side by side on $peer_src"
cp -al "$peer_src" "$scratch/peer" 2>/dev/null || cp -a "$peer_src" "$scratch/peer"
rm -rf "$scratch/peer/.qide" "$scratch/peer/target"
peer="$scratch/peer"
echo "peer tree: $(rg --files --hidden "$peer" | wc -l) files"
for query in "mode=pack&budget_tokens=100000" "mode=map&budget_tokens=4096"; do
    fresh_server "$peer"
    first="$(ttfb_ms "$base?$query")"
    tokens="$(field "$base?$query" "d['tokens'], 'of', d['budget_tokens'], 'tokens,', len(d['files']), 'files'")"
    echo "qide $query: first call $first ms; $tokens"
    stop_server
    server_pid=""
done
if [ -n "$repomix" ]; then
    # repomix counts its own output's tokens with o200k_base and prints the
    # total in its summary.
    for flags in "" "--compress"; do
        out="$scratch/repomix${flags// /}.xml"
        start="$(date +%s%N)"
        summary="$(cd "$peer" && "$repomix" $flags --token-count-encoding o200k_base -o "$out" . 2>&1)"
        end="$(date +%s%N)"
        total="$(printf '%s\n' "$summary" | grep -m1 -i 'total tokens' | tr -s ' ' || true)"
        echo "repomix ${flags:-(default)}: $(( (end - start) / 1000000 )) ms, output $(wc -c <"$out") bytes,$total"
    done
else
    echo "repomix: not found (npm install repomix in a scratch folder, then REPOMIX=.../node_modules/.bin/repomix)"
fi
