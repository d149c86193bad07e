#!/usr/bin/env bash
# The real-clip examples of docs/explanations.md: fits the default detector on the
# normal clips of one MIMII machine and explains its anomalous clips (`aad score
# --explain`), for fan and valve id_00 at -6 dB, and draws the highest-scoring one
# (`aad explain --plot`, OUT/explain_<machine>.png) and the first whose repeating events
# broke (OUT/explain_<machine>_cycle.png).
#   scripts/bench/explain_examples.sh [AAD] [DATA] [OUT]
# Defaults: target/release/aad, ../shared/data/mimii (any MIMII root), /tmp/aad_explain.
set -euo pipefail
AAD=$(realpath "${1:-target/release/aad}")
DATA=${2:-../shared/data/mimii}
OUT=${3:-/tmp/aad_explain}
mkdir -p "$OUT"
for m in fan valve; do
    d=$DATA/-6dB/$m/id_00
    "$AAD" fit --normal "$d/normal" -o "$OUT/$m.aadm" --quiet
    "$AAD" score "$OUT/$m.aadm" "$d/abnormal" --explain --csv "$OUT/$m.csv" --quiet
    echo "## $m id_00, -6 dB (threshold $(awk -F, 'NR == 2 { printf "%.1f", $3 }' "$OUT/$m.csv"))"
    echo
    echo "| clip | score | flagged | explanation |"
    echo "|---|---:|:---:|---|"
    awk -F, 'NR > 1 { n = split($1, p, "/"); printf "| %s | %.1f | %s | %s |\n", p[n], $2, ($4 == 1 ? "yes" : "no"), $10 }' "$OUT/$m.csv"
    echo
    top=$(awk -F, 'NR > 1 { print $2, $1 }' "$OUT/$m.csv" | sort -g | tail -1 | cut -d' ' -f2-)
    "$AAD" explain "$OUT/$m.aadm" "$top" --plot "$OUT/explain_$m.png" > /dev/null 2>&1
    # The first clip whose band's repeating events broke, if any.
    broken=$(awk -F, 'NR > 1 && /did not come/ { print $1; exit }' "$OUT/$m.csv")
    if [[ -n $broken ]]; then
        "$AAD" explain "$OUT/$m.aadm" "$broken" --plot "$OUT/explain_${m}_cycle.png" > /dev/null 2>&1
    fi
done
