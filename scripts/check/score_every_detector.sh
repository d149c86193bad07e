#!/usr/bin/env bash
# Fits every registry detector on the demo's synthetic recordings with one `aad` binary and
# scores the demo's test clips: one score CSV per detector under OUT. Two binaries' OUT
# folders compared with `diff -r` tell whether a change moved any score or threshold.
#   scripts/check/score_every_detector.sh [AAD_BINARY] [OUT]
# Autoencoders train 2 epochs (the check is about equality, not quality); the
# machine-ID classifiers learn against a second demo machine (seed 8).
set -euo pipefail
AAD=${1:-target/release/aad}
OUT=${2:-/tmp/aad_every_detector}
case "$AAD" in */*) AAD=$(realpath "$AAD") ;; esac
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT"
# Relative paths, so that two runs' CSVs compare byte for byte.
"$AAD" demo demo > /dev/null
"$AAD" demo --seed 8 other > /dev/null
detectors=$("$AAD" list | awk '/^detectors:/ { on = 1; next } on && NF { print $1 }')
for d in $detectors; do
    extra=()
    case "$d" in
        ae* | idnn*) extra=(--epochs 2) ;;
        idclf | knn_idclf) extra=(--contrast other/train) ;;
    esac
    "$AAD" fit --normal demo/train --detector "$d" -o "$d.aadm" --quiet "${extra[@]}"
    "$AAD" score "$d.aadm" demo/test --csv "$d.csv" --quiet
done
rm -rf demo other
echo "$(ls ./*.csv | wc -l) detectors scored under $OUT"
