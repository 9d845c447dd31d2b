#!/usr/bin/env bash
# Extraction on seeded failures of real projects (DESIGN §10: >= 95% of
# seeded compiler/test failures reported with the right file and line).
# Copies real projects into a scratch folder, breaks one line at a time
# (syntax, misspelt keyword, type error, unknown name, missing import, flipped
# assertion), runs the project's own build or tests, and diagnoses the log
# with the `seeded` example of qide-diagnose, as the server would
# (bench/seeded.py does the seeding and scoring).
#
#   bench/seeded.sh [--per-kind N] [--seed N] [--only strsim,toolz,...] [--json FILE]
#
# Needs: cargo (the crates strsim 0.11.1, either 1.19.0, fnv 1.0.7,
# semver 1.0.28 and libz-sys 1.1.22, whose zlib C sources are the C project,
# are taken from ~/.cargo/registry/src, fetched there from crates.io when
# missing; their tests then build offline); python3 with pytest, and pip
# reaching PyPI (the toolz 1.2.0 and six 1.17.0 sources); gcc and make; npm
# reaching its registry (typescript 5.9.3, zod 3.25.76). A project whose
# sources cannot be had is skipped with a note. Takes about 5 minutes on
# 2 cores. Not part of CI. Set SEEDED_KEEP=1 to keep the
# scratch folder (the logs are under logs/).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo/bench/common.sh"
target="${CARGO_TARGET_DIR:-$repo/target}"

(cd "$repo" && cargo build --release -p qide-diagnose --example seeded -q)
scratch="$(mktemp -d /tmp/qide-seeded.XXXXXX)"
if [[ "${SEEDED_KEEP:-}" != 1 ]]; then
    trap 'rm -rf "$scratch"' EXIT
else
    echo "scratch: $scratch" >&2
fi
machine
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(rustc --version); $(gcc --version | head -1); python $(python3 -c 'import platform; print(platform.python_version())'), pytest $(python3 -m pytest --version 2>&1 | awk '{print $2}')"
python3 "$repo/bench/seeded.py" "$target/release/examples/seeded" --scratch "$scratch" "$@"
