#!/usr/bin/env bash
# Pack mode beside its peers (issue #4): QIDE's `qide codebase --mode pack`,
# repomix and yek (or code2prompt) on one tree at one token budget.
#
#   bench/pack_peers.sh [TREE] [BUDGET] [RUNS]
#
# TREE (default: this repository) is hard-linked into a scratch directory,
# without `.qide/` and `target/`, so no tool writes into the original.
# BUDGET defaults to 100,000 tokens; RUNS (default 3) runs of each tool, the
# median wall time reported.
#
# Every output is counted with one tokenizer, o200k_base (the one QIDE
# counts budgets with, through tiktoken-rs: the `count_tokens` example), so
# "budget held" means the same thing for each tool:
#
# - qide: a fresh `qide serve TREE` per run, then `qide codebase --mode pack
#   --budget-tokens BUDGET` (the CLI's text: a `=== path` line before each
#   file's content); also the warm second call on the same server.
# - repomix (`npm install repomix` in a scratch folder; set REPOMIX to its
#   binary): it has no token budget, so it packs everything; `--compress`
#   (its tree-sitter signatures) is run too.
# - yek (`cargo install --root /tmp/peers yek`; set YEK): `--tokens BUDGET`.
# - code2prompt, when CODE2PROMPT names it: it has no budget either.
source "$(dirname "$0")/common.sh"

tree_src="${1:-$repo}"
budget="${2:-100000}"
runs="${3:-3}"
repomix="${REPOMIX:-$(command -v repomix || true)}"
yek="${YEK:-$(command -v yek || true)}"
code2prompt="${CODE2PROMPT:-$(command -v code2prompt || true)}"

build_release
(cd "$repo" && cargo build --release --locked -q -p qide-codebase --example count_tokens)
count_tokens="$target/release/examples/count_tokens"
machine
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

scratch="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && stop_server
    rm -rf "$scratch"
}
trap cleanup EXIT

cp -al "$tree_src" "$scratch/tree" 2>/dev/null || cp -a "$tree_src" "$scratch/tree"
rm -rf "$scratch/tree/.qide" "$scratch/tree/target"
tree="$scratch/tree"
echo "tree: $tree_src, $(rg --files --hidden "$tree" | wc -l) files, $(du -sh "$tree" | cut -f1); budget $budget o200k_base tokens"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
tokens_of() { "$count_tokens" "$1" | cut -d' ' -f1; }
# row TOOL TIMES OUTPUT [NOTE]: one line of the table; a tool that wrote
# nothing is reported as failed, with the note (its first error line).
row() {
    local tokens held
    if [ ! -s "$3" ]; then
        printf '| %s | %s ms (runs: %s) | no output | failed | %s |\n' \
            "$1" "$(printf '%s\n' $2 | median)" "$2" "${4:-}"
        return
    fi
    tokens="$(tokens_of "$3")"
    if [ "$tokens" -le "$budget" ]; then held="yes"; else held="**no**"; fi
    printf '| %s | %s ms (runs: %s) | %s | %s | %s |\n' \
        "$1" "$(printf '%s\n' $2 | median)" "$2" "$tokens" "$held" "${4:-}"
}

echo
echo "| tool | wall time, median | o200k tokens of the output | budget $budget held | note |"
echo "|---|---|---|---|---|"

first=()
warm=()
for _ in $(seq 1 "$runs"); do
    rm -rf "$tree/.qide"
    port="$(free_port)"
    start_server "$tree" "$port"
    start="$(now_ms)"
    "$qide" codebase --server "http://127.0.0.1:$port" --mode pack --budget-tokens "$budget" \
        >"$scratch/qide.txt" 2>"$scratch/qide.err"
    first+=("$(($(now_ms) - start))")
    start="$(now_ms)"
    "$qide" codebase --server "http://127.0.0.1:$port" --mode pack --budget-tokens "$budget" \
        >"$scratch/qide-warm.txt" 2>/dev/null
    warm+=("$(($(now_ms) - start))")
    stop_server
    server_pid=""
done
row "qide pack, first call on a fresh server" "${first[*]}" "$scratch/qide.txt" "$(tr -d '\n' <"$scratch/qide.err")"
row "qide pack, second call" "${warm[*]}" "$scratch/qide-warm.txt"

if [ -n "$repomix" ]; then
    for flags in "" "--compress"; do
        times=()
        out="$scratch/repomix${flags// /}.xml"
        note="no token budget option: packs everything"
        for _ in $(seq 1 "$runs"); do
            rm -f "$out"
            start="$(now_ms)"
            if ! (cd "$tree" && "$repomix" $flags --no-file-summary --token-count-encoding o200k_base \
                -o "$out" . >"$scratch/repomix.log" 2>&1); then
                note="$(grep -m1 '✖' "$scratch/repomix.log" || tail -1 "$scratch/repomix.log")"
            fi
            times+=("$(($(now_ms) - start))")
        done
        rm -f "$tree/repomix-output.xml"
        row "repomix $("$repomix" --version 2>/dev/null | tail -1) ${flags:-(default)}" "${times[*]}" "$out" "$note"
    done
else
    echo "repomix: not found (npm install repomix in a scratch folder, then REPOMIX=.../node_modules/.bin/repomix)" >&2
fi

if [ -n "$yek" ]; then
    times=()
    for _ in $(seq 1 "$runs"); do
        start="$(now_ms)"
        "$yek" --tokens "$budget" "$tree" >"$scratch/yek.txt" 2>/dev/null || true
        times+=("$(($(now_ms) - start))")
    done
    row "yek $("$yek" --version 2>/dev/null) --tokens $budget" "${times[*]}" "$scratch/yek.txt" "its own tokenizer decides the cut"
else
    echo "yek: not found (cargo install --root /tmp/peers yek, then YEK=/tmp/peers/bin/yek)" >&2
fi

if [ -n "$code2prompt" ]; then
    times=()
    for _ in $(seq 1 "$runs"); do
        start="$(now_ms)"
        "$code2prompt" "$tree" --output-file "$scratch/code2prompt.txt" >/dev/null 2>&1 || true
        times+=("$(($(now_ms) - start))")
    done
    row "code2prompt" "${times[*]}" "$scratch/code2prompt.txt" "no token budget: packs everything"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
