#!/usr/bin/env bash
# The first-ever codebase summary (no `.qide/codebase-scans-v1`: every file
# read, scanned and hashed) against `rg --files --hidden` on the same tree,
# in process (the `summary_speed` example's first-ever mode: no HTTP, no
# JSON), rounds alternating so a busy machine weighs on both alike.
# DESIGN §10's bar: within 2× of rg.
#
#   bench/first_ever.sh [TREE] [ROUNDS] [OTHER_BINARY]
#
# TREE (default ~/.cargo/registry/src) is hard-linked into a scratch
# directory, so the `.qide/` the summary writes never lands in the original.
# Each round: hyperfine's median of 5 `rg --files --hidden`, then the median
# of 3 first-ever summaries (a fresh cache each, the saved scans deleted
# before each), and OTHER_BINARY's when given (the same example built from
# another commit, to compare two versions in one run). Prints each round's
# times and ratios, the median ratio, the load average, and each binary's
# tree hash and answer digest: equal digests mean identical answers.
#
# For scale, each round also times `rg -c --hidden ''` (hyperfine, median
# of 3): ripgrep itself opening every file the walk keeps and counting its
# lines, which the summary's per-file line counts require too. Its ratio to
# `rg --files` is what reading the tree costs a tool built for speed,
# without hashing it.
source "$(dirname "$0")/common.sh"

tree_src="${1:-$HOME/.cargo/registry/src}"
rounds="${2:-5}"
other="${3:-}"

(cd "$repo" && cargo build --release -p qide-codebase --example summary_speed --locked -q)
this="$target/release/examples/summary_speed"
machine
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
tree="$scratch/tree"
cp -al "$tree_src" "$tree"
# Hard links move every file's change time; files changed within the 2 s
# racy window would not be remembered, which the first-ever path ignores
# anyway, but the tree should look as it will to a real first summary.
sleep 3
echo "tree: $tree_src, $(rg --files --hidden "$tree" | wc -l) files, $(du -sh "$tree" | cut -f1)"
"$this" "$tree" first-ever 2 >/dev/null # warm the page cache

# ms_of "first ever: ...; median 123.4ms; ..." -> 123.4
ms_of() {
    python3 -c '
import re, sys
m = re.search(r"median ([0-9.]+)(ms|s|µs)", sys.argv[1])
value, unit = float(m.group(1)), m.group(2)
print(round(value * {"ms": 1, "s": 1000, "µs": 0.001}[unit], 1))' "$1"
}

ratios=()
count_ratios=()
other_ratios=()
for round in $(seq 1 "$rounds"); do
    rg_ms="$(hyperfine -N --warmup 1 --runs 5 --export-json "$scratch/rg.json" \
        "rg --files --hidden $tree" >/dev/null &&
        python3 -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["results"][0]["median"] * 1000, 1))' "$scratch/rg.json")"
    count_ms="$(hyperfine -N --warmup 1 --runs 3 --export-json "$scratch/count.json" \
        "rg -c --hidden '' $tree" >/dev/null &&
        python3 -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["results"][0]["median"] * 1000, 1))' "$scratch/count.json")"
    count_ratio="$(python3 -c "print(round($count_ms / $rg_ms, 2))")"
    count_ratios+=("$count_ratio")
    out="$("$this" "$tree" first-ever 3)"
    ms="$(ms_of "$out")"
    ratio="$(python3 -c "print(round($ms / $rg_ms, 2))")"
    ratios+=("$ratio")
    line="round $round: rg $rg_ms ms; rg -c '' $count_ms ms = ${count_ratio}x; first ever $ms ms = ${ratio}x"
    if [ -n "$other" ]; then
        other_out="$("$other" "$tree" first-ever 3)"
        other_ms="$(ms_of "$other_out")"
        other_ratio="$(python3 -c "print(round($other_ms / $rg_ms, 2))")"
        other_ratios+=("$other_ratio")
        line="$line; other $other_ms ms = ${other_ratio}x"
    fi
    echo "$line; load $(cut -d' ' -f1-3 /proc/loadavg)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "median ratio to rg: this $(median "${ratios[@]}")x${other:+, other $(median "${other_ratios[@]}")x}; rg -c '' $(median "${count_ratios[@]}")x"
echo "this:  $(grep -o 'tree b3.*' <<<"$out")"
[ -n "$other" ] && echo "other: $(grep -o 'tree b3.*' <<<"$other_out")"
exit 0
