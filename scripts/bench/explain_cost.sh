#!/usr/bin/env bash
# What explaining costs on top of scoring: fits the default detector on the normal
# clips of one machine of DATA, then times `aad score` of every clip of DATA with and
# without --explain, in interleaved rounds, one job, and prints each round's seconds and
# the medians (docs/benchmarks.md, "Scoring and monitoring").
#   scripts/bench/explain_cost.sh [AAD] [DATA] [ROUNDS] [OUT]
# Defaults: target/release/aad, a set made by `aad synth --preset mimii --fraction 0.035`
# in OUT/syn, 5 rounds, /tmp/aad_explain_cost.
set -euo pipefail
AAD=$(realpath "${1:-target/release/aad}")
ROUNDS=${3:-5}
OUT=${4:-/tmp/aad_explain_cost}
mkdir -p "$OUT"
DATA=${2:-$OUT/syn}
if [[ ! -d $DATA ]]; then
    "$AAD" synth --preset mimii --fraction 0.035 "$DATA" > /dev/null
fi
normal=$(find "$DATA" -type d -path '*/normal' | sort | head -1)
"$AAD" fit --normal "$normal" -o "$OUT/m.aadm" --quiet 2> /dev/null
clips=$(find "$DATA" -name '*.wav' | wc -l)
secs() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'; }
plain=(); explained=()
for r in $(seq "$ROUNDS"); do
    p=$(secs "$AAD" score "$OUT/m.aadm" "$DATA" --jobs 1 --csv "$OUT/plain.csv" --quiet)
    e=$(secs "$AAD" score "$OUT/m.aadm" "$DATA" --jobs 1 --csv "$OUT/explained.csv" --explain --quiet)
    echo "round $r: plain $p s, --explain $e s"
    plain+=("$p"); explained+=("$e")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mp=$(median "${plain[@]}"); me=$(median "${explained[@]}")
echo "$clips clips, medians: plain $mp s, --explain $me s ($(awk -v p="$mp" -v e="$me" 'BEGIN { printf "%.1f", 100 * (e - p) / p }') % more)"
# The scores must not move.
cmp <(cut -d, -f1-4 "$OUT/plain.csv") <(cut -d, -f1-4 "$OUT/explained.csv")
