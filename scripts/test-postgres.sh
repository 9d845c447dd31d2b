#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL cluster on loopback for QIDE's tests.
#
#   scripts/test-postgres.sh start DIR PORT   # prints the URL to use
#   scripts/test-postgres.sh stop DIR
#
# PostgreSQL refuses to run as root, so when run as root the cluster belongs
# to the `postgres` user. Set QIDE_TEST_DATABASE_URL to the printed URL.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
action="${1:?usage: test-postgres.sh start|stop DIR [PORT]}"
dir="${2:?usage: test-postgres.sh start|stop DIR [PORT]}"
port="${3:-55432}"

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$action" in
start)
    if [ ! -x "$PG_BIN/initdb" ]; then
        echo "PostgreSQL server binaries not found in $PG_BIN" >&2
        exit 1
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off" -w start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
*)
    echo "unknown action $action" >&2
    exit 2
    ;;
esac
