#!/usr/bin/env bash
# Runs every QIDE test: starts a throwaway PostgreSQL cluster on loopback
# (so the store contract suite runs on both databases), then the workspace's
# tests and the Python client's tests against the real server, then stops
# the cluster.
#
#   scripts/test.sh [extra cargo test args]
#
# Without PostgreSQL's server binaries the PostgreSQL variants are skipped
# with a message, unless QIDE_REQUIRE_POSTGRES=1 (CI) makes that a failure.
# Likewise the dashboard's browser tests need /usr/bin/chromium and
# /usr/bin/chromedriver, and skip without them unless QIDE_REQUIRE_CHROMIUM=1;
# their screenshots land in $QIDE_SCREENSHOT_DIR (default target/screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."

pg_dir=""
cleanup() {
    if [ -n "$pg_dir" ]; then
        scripts/test-postgres.sh stop "$pg_dir" || true
        rm -rf "$pg_dir"
    fi
}
trap cleanup EXIT

if [ -z "${QIDE_TEST_DATABASE_URL:-}" ]; then
    if [ -x "${PG_BIN:-/usr/lib/postgresql/15/bin}/initdb" ]; then
        pg_dir="$(mktemp -d /tmp/qide-test-pg.XXXXXX)"
        port="${QIDE_TEST_PG_PORT:-$((20000 + RANDOM % 20000))}"
        QIDE_TEST_DATABASE_URL="$(scripts/test-postgres.sh start "$pg_dir" "$port")"
        export QIDE_TEST_DATABASE_URL
        echo "test PostgreSQL at $QIDE_TEST_DATABASE_URL"
    elif [ "${QIDE_REQUIRE_POSTGRES:-0}" = 1 ]; then
        echo "PostgreSQL server binaries are missing and QIDE_REQUIRE_POSTGRES=1" >&2
        exit 1
    else
        echo "PostgreSQL server binaries not found: PostgreSQL tests will be skipped"
    fi
fi

log="$(mktemp /tmp/qide-test-log.XXXXXX)"
status=0
cargo test --workspace --locked --no-fail-fast "$@" 2>&1 | tee "$log" || status=$?

# The Python client against the real server binary that cargo just built.
if [ "$status" = 0 ]; then
    cargo build -p qide --locked -q
    clients/python/run_tests.sh 2>&1 | tee -a "$log" || status=$?
fi

# One closing line over every runner: cargo prints one line per test binary
# (the last often a doc-test run with nothing in it), pytest one summary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^=+ .* in [0-9.]+s/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
exit "$status"
