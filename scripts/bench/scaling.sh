#!/usr/bin/env bash
# How the work scales with threads, as the table of issue #30 measures it: extraction and
# kNN through `aad experiment` (cold cache), `aad score` of every clip, and one autoencoder
# epoch on the DCASE network (`ae_epoch`), at 1, 2, 4, 8 and 16 threads (capped at the
# machine's cores). Writes OUT/scaling.md and prints it.
#   scripts/bench/scaling.sh [AAD] [AE_EPOCH] [OUT] [FRACTION]
# Defaults: target/release/aad, target/release/examples/ae_epoch
# (cargo build --release -p aad-cli && cargo build --release -p aad-models --example ae_epoch),
# /tmp/aad_scaling, 0.125 (3,648 clips of `aad synth --preset mimii`).
set -euo pipefail
AAD=${1:-target/release/aad}
AE=${2:-target/release/examples/ae_epoch}
OUT=${3:-/tmp/aad_scaling}
FRACTION=${4:-0.125}
cores=$(nproc)
rm -rf "$OUT"; mkdir -p "$OUT"
threads=()
for n in 1 2 4 8 16; do [ "$n" -le "$cores" ] && threads+=("$n"); done
TIMEFORMAT='%R %U %S'
# wall, user and system seconds of a command, its output discarded.
timed() { { time "$@" > /dev/null 2>&1; } 2>&1 | tail -1; }

"$AAD" synth --preset mimii --fraction "$FRACTION" "$OUT/syn" --quiet
clips=$(find "$OUT/syn" -name '*.wav' | wc -l)
{
    echo "# Scaling with threads"
    echo
    echo "$(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $cores cores;"
    echo "\`aad synth --preset mimii --fraction $FRACTION\` ($clips clips). Command: \`scripts/bench/scaling.sh\`."
    echo
    echo "| work | threads | wall s | user s | system s |"
    echo "|---|---:|---:|---:|---:|"
} > "$OUT/scaling.md"
row() { echo "| $1 | $2 | $(echo "$3" | awk '{printf "%.2f | %.2f | %.2f", $1, $2, $3}') |" >> "$OUT/scaling.md"; }

for n in "${threads[@]}"; do
    rm -rf "$OUT/exp" "$OUT/cache"
    t=$(timed "$AAD" experiment --data "$OUT/syn" --out "$OUT/exp" --cache "$OUT/cache" \
        --features logmel_dcase --models knn_msm --seeds 1 --jobs "$n" --no-figures --quiet)
    row "experiment logmel_dcase / knn_msm, cold cache" "$n" "$t"
done
"$AAD" demo "$OUT/demo" > /dev/null
"$AAD" fit --normal "$OUT/demo/train" -o "$OUT/m.aadm" --quiet
for n in "${threads[@]}"; do
    t=$(timed "$AAD" score "$OUT/m.aadm" "$OUT/syn" --jobs "$n" --quiet --csv "$OUT/s$n.csv")
    row "score every clip (knn_msm)" "$n" "$t"
done
for n in "${threads[@]}"; do
    # Median seconds per epoch over 3 epochs of 300,000 vectors, the DCASE network.
    med=$("$AE" 300000 3 native bn "$n" | awk '/median/ { for (i = 1; i <= NF; i++) if ($i == "median") print $(i+1) }')
    echo "| ae_epoch 300000 (DCASE network, BatchNorm), median s per epoch | $n | $med | | |" >> "$OUT/scaling.md"
done
for n in "${threads[@]}"; do
    cmp -s "$OUT/s1.csv" "$OUT/s$n.csv" || echo "scores differ at $n threads" >> "$OUT/scaling.md"
done
cat "$OUT/scaling.md"
