#!/usr/bin/env bash
# Runs the Python client's tests against a real `qide serve`.
#
#   clients/python/run_tests.sh [pytest args]
#
# Creates a virtualenv (clients/python/.venv, or $QIDE_PY_VENV), installs the
# package (non-editable, so the installed `qide_client` and `backend` shim are
# what is tested) and pytest, then runs pytest. The server binary is $QIDE_BIN,
# else ${CARGO_TARGET_DIR:-<repo>/target}/debug/qide: build it first with
# `cargo build -p qide`. Exits non-zero on any failure, including "no tests
# collected" (pytest's exit code 5).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${QIDE_PY_VENV:-$here/.venv}"
python="${PYTHON:-python3}"

bin="${QIDE_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/qide}"
if [ ! -x "$bin" ]; then
    echo "run_tests.sh: qide binary not found at $bin; build it with 'cargo build -p qide' or set QIDE_BIN" >&2
    exit 1
fi
export QIDE_BIN="$bin"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check pytest
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$here"
# The build leaves build/ and *.egg-info next to the sources; they are not ours to keep.
rm -rf "$here/build" "$here/src/"*.egg-info

cd "$here"
set +e
"$venv/bin/python" -m pytest -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "run_tests.sh: pytest collected no tests; treating that as a failure" >&2
    exit 1
fi
exit "$rc"
