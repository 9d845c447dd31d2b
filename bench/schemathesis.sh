#!/usr/bin/env bash
# Reliability: schemathesis over /openapi.json of a real server with real
# builds (one green, one failed with a compiler-style error). Passes when
# schemathesis finds no 5xx, no answer outside the documented statuses,
# media types or schemas. Not a test: it runs what schemathesis generates,
# including the shell commands it makes up for `POST /build/run`, so run it
# on a machine you do not mind a stray file on (the commands run in a
# temporary project).
#
#   bench/schemathesis.sh [MAX_EXAMPLES]
#
# Needs schemathesis 4 (`python3 -m venv /tmp/st && /tmp/st/bin/pip install
# schemathesis`); SCHEMATHESIS names the binary (default: on PATH). QIDE_BIN
# uses a built qide instead of building the release binary.
source "$(dirname "$0")/common.sh"
examples="${1:-50}"
schemathesis="${SCHEMATHESIS:-schemathesis}"
command -v "$schemathesis" >/dev/null || {
    echo "schemathesis is not installed (python3 -m venv /tmp/st && /tmp/st/bin/pip install schemathesis)" >&2
    exit 1
}
if [ -n "${QIDE_BIN:-}" ]; then qide="$QIDE_BIN"; else build_release; fi
machine
"$schemathesis" --version

dir="$(mktemp -d)"
mkdir -p "$dir/src"
cat >"$dir/src/lib.rs" <<'RS'
pub fn parse(text: &str) -> u64 {
    text.len() as u64
}
RS
# The default steps fail while `broken` exists, the way rustc does.
cat >"$dir/check.sh" <<'SH'
if [ -f broken ]; then
    printf 'error[E0308]: mismatched types\n --> src/lib.rs:2:5\n  |\n2 |     text.len() as u64\n  |     ^^^^ expected `u64`\n\nerror: could not compile `demo` (lib) due to 1 previous error\n' >&2
    exit 101
fi
echo "all good"
SH
cat >"$dir/qide.toml" <<'TOML'
[[steps]]
name = "check"
run = "sh check.sh"
timeout_s = 60
TOML
port="$(free_port)"
url="http://127.0.0.1:$port"
start_server "$dir" "$port"
trap 'stop_server; rm -rf "$dir" "$dir.server.log"' EXIT

wait_build() {
    curl -sf "$url/build/$1?wait=60" >/dev/null
}
green=$(curl -sf -X POST -H 'content-type: application/json' -d '{}' "$url/build/run" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
wait_build "$green"
touch "$dir/broken"
failed=$(curl -sf -X POST -H 'content-type: application/json' -d '{}' "$url/build/run" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
wait_build "$failed"
echo "builds: $green (green), $failed (failed)"
# An admin token, so schemathesis reaches every operation (it sends a
# bearer token where the document asks for one; a made-up one is refused).
token=$("$qide" token create --name schemathesis --scope admin --dir "$dir" 2>/dev/null)
sleep 1.1 # the server rechecks whether tokens exist once a second

# `GET /events` never ends by design (it follows every build): it is left
# out, as is anything that would only measure schemathesis' own timeout.
set +e
"$schemathesis" run "$url/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --exclude-path /events \
    --header "Authorization: Bearer $token" \
    --max-examples "$examples" \
    --request-timeout 60 \
    --workers 1 \
    --seed "${SEED:-1}" \
    --suppress-health-check all \
    --report junit --report-dir "$dir.report"
status=$?
set -e
echo "junit report: $dir.report"
echo "server 5xx answers in its log:"
grep -c 'internal error' "$dir.server.log" || true
exit "$status"
