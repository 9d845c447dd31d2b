# Shared helpers for the benchmark scripts: build the release binary, start a
# server over a project, read a process's memory.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
qide="$target/release/qide"

build_release() {
    (cd "$repo" && cargo build --release -p qide --locked -q)
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server DIR PORT: starts `qide serve` in the background, sets $server_pid.
start_server() {
    env ${QIDE_BENCH_ENV:-} "$qide" serve "$1" --bind "127.0.0.1:$2" >"$1.server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$2/health" >/dev/null && return 0
        sleep 0.05
    done
    echo "server did not start" >&2
    cat "$1.server.log" >&2
    return 1
}

stop_server() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
}

# rss_kb PID [VmRSS|VmHWM]
rss_kb() {
    awk -v key="${2:-VmRSS}:" '$1 == key { print $2 }' "/proc/$1/status"
}

machine() {
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
}

# scratch_tree TREE: a hard-linked copy of TREE without its `.qide/` in a
# scratch folder that goes, with any server still running, when the script
# exits; sets `scratch` and `tree`. Hard links move every file's ctime, and
# files changed within the 2 s racy window are always read again, so it
# waits that out.
scratch_tree() {
    scratch="$(mktemp -d)"
    server_pid=""
    trap '[ -n "$server_pid" ] && stop_server; rm -rf "$scratch"' EXIT
    cp -al "$1" "$scratch/tree" 2>/dev/null || cp -a "$1" "$scratch/tree"
    rm -rf "$scratch/tree/.qide"
    tree="$scratch/tree"
    sleep 3
}
