#!/usr/bin/env bash
# Runner overhead: a real test suite (this repository's qide-diagnose tests,
# built beforehand) run directly, and run as a build through `qide run`
# against a server over this repository, side by side with hyperfine.
#
#   bench/runner_overhead.sh [RUNS]
source "$(dirname "$0")/common.sh"
runs="${1:-10}"
build_release
machine
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)" >&2; exit 1; }
suite="cargo test --release --locked -q -p qide-diagnose"
(cd "$repo" && $suite >/dev/null 2>&1)

port="$(free_port)"
state="$(mktemp -d)"
# Serve the repository itself; the suite runs in its root either way.
"$qide" serve "$repo" --bind "127.0.0.1:$port" --database "sqlite://$state/qide.db?mode=rwc" >"$state/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
cd "$repo"
hyperfine --warmup 2 --runs "$runs" --export-markdown "$state/result.md" \
    -n direct "$suite" \
    -n "qide run" "$qide run --server http://127.0.0.1:$port --step '$suite' > /dev/null"
stop_server
cat "$state/result.md"
rm -rf "$state"
