#!/usr/bin/env bash
# How often explanations of real clips read a fast train of short events from the
# waveform (docs/explanations.md, "Pulse trains on real clips"): for every machine
# folder of DATA (SNR/type/id with normal/ and abnormal/; skipped when `aad fit` refuses
# its normal clips, e.g. fewer than it needs), fits the default detector on its normal
# clips, explains its normal and anomalous clips with `aad score --explain`, and counts
# the sentences that give a rate.
#   scripts/check/pulse_trains_real.sh [AAD] [DATA] [OUT]
# Defaults: target/release/aad, ../shared/data/mimii, /tmp/aad_pulse_trains.
set -euo pipefail
AAD=$(realpath "${1:-target/release/aad}")
DATA=${2:-../shared/data/mimii}
OUT=${3:-/tmp/aad_pulse_trains}
mkdir -p "$OUT"
clips=0; trains=0; machines=0
while IFS= read -r d; do
    [[ -d $d/normal && -d $d/abnormal ]] || continue
    tag=$(echo "${d#"$DATA"/}" | tr / _)
    if ! "$AAD" fit --normal "$d/normal" -o "$OUT/$tag.aadm" --quiet 2> /dev/null; then
        echo "$tag: skipped (aad fit refused its normal clips)"
        continue
    fi
    machines=$((machines + 1))
    for l in normal abnormal; do
        "$AAD" score "$OUT/$tag.aadm" "$d/$l" --explain --csv "$OUT/${tag}_$l.csv" --quiet
        n=$(($(wc -l < "$OUT/${tag}_$l.csv") - 1))
        p=$(grep -c ' a second with peaks' "$OUT/${tag}_$l.csv" || true)
        echo "$tag $l: $n clips, $p with a pulse train"
        clips=$((clips + n)); trains=$((trains + p))
    done
done < <(find "$DATA" -mindepth 3 -maxdepth 3 -type d | sort)
echo "$machines machines, $clips clips, $trains with a pulse train"
