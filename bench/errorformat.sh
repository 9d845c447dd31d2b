#!/usr/bin/env bash
# How far the engine carries on tools it has no parser for: the errorformat
# project's fixtures (real output of about 50 compilers and linters, each
# with the locations a correct parser extracts), scored by
# crates/qide-diagnose/examples/errorformat.rs. Prints, per tool, the
# expected locations found and the reported locations not expected (noise),
# then the totals.
#
#   bench/errorformat.sh [DATA_DIR] [--misses]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${1:-$repo/../shared/data/errorformat}"
shift || true
target="${CARGO_TARGET_DIR:-$repo/target}"
(cd "$repo" && cargo build --release -p qide-diagnose --example errorformat -q)
"$target/release/examples/errorformat" "$data" "$@"
