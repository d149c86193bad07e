#!/usr/bin/env bash
# aad fit / score / metrics / monitor on the real MIMII clips of ../shared/data, with the
# MIMII baseline split (per machine id: test = the first N_abnormal normals, sorted, and
# every abnormal clip; train = the other normals). Prints one AUC line per machine id,
# then monitors a long file made of that id's test normals around its abnormal clips.
#   scripts/cli/shared_mimii.sh [AAD_BINARY] [SHARED_DATA] [OUT]
set -euo pipefail
AAD=${1:-target/release/aad}
DATA=${2:-../shared/data/mimii/-6dB}
OUT=${3:-/tmp/aad_shared_mimii}
rm -rf "$OUT"; mkdir -p "$OUT"
for dir in "$DATA"/*/id_*; do
    type=$(basename "$(dirname "$dir")"); id=$(basename "$dir"); tag="${type}_${id}"
    mapfile -t normal < <(ls "$dir"/normal/*.wav | sort)
    mapfile -t abnormal < <(ls "$dir"/abnormal/*.wav | sort)
    n_ab=${#abnormal[@]}
    test_normal=("${normal[@]:0:$n_ab}")
    train=("${normal[@]:$n_ab}")
    if ! "$AAD" fit --normal "${train[@]}" -o "$OUT/$tag.aadm" --quiet 2> "$OUT/$tag.fit.err"; then
        echo "$tag: not fitted ($(cat "$OUT/$tag.fit.err")), ${#train[@]} training clips"
        continue
    fi
    "$AAD" score "$OUT/$tag.aadm" "${test_normal[@]}" "${abnormal[@]}" --csv "$OUT/$tag.csv" --quiet
    # label,score for `aad metrics`: label 1 for the clips under abnormal/.
    awk -F, 'NR == 1 { print "label,score,anomaly"; next }
             { print ($1 ~ /\/abnormal\//) ? 1 "," $2 "," $4 : 0 "," $2 "," $4 }' \
        "$OUT/$tag.csv" > "$OUT/$tag.labelled.csv"
    auc=$("$AAD" metrics "$OUT/$tag.labelled.csv" | awk '/^auc/ { printf "%.3f", $2 }')
    flagged=$(awk -F, 'NR > 1 && $3 == 1 { a[$1]++ } END { printf "%d of normal, %d of abnormal", a[0], a[1] }' "$OUT/$tag.labelled.csv")
    echo "$tag: train ${#train[@]}, test ${#test_normal[@]} + $n_ab, AUC $auc, flagged $flagged"
done

# A long recording: fan id_06's five test normals around its five abnormal clips (100 s,
# anomalous from 30 s to 80 s), monitored with the model fitted on the id's training clips.
dir="$DATA/fan/id_06"
mapfile -t normal < <(ls "$dir"/normal/*.wav | sort)
mapfile -t abnormal < <(ls "$dir"/abnormal/*.wav | sort)
python3 - "$OUT/fan_id_06_long.wav" "${normal[@]:0:3}" "${abnormal[@]:0:5}" "${normal[@]:3:2}" <<'PY'
import sys, wave
out = wave.open(sys.argv[1], "wb")
for i, p in enumerate(sys.argv[2:]):
    w = wave.open(p, "rb")
    if i == 0:
        out.setparams(w.getparams())
    out.writeframes(w.readframes(w.getnframes()))
out.close()
PY
"$AAD" monitor "$OUT/fan_id_06.aadm" "$OUT/fan_id_06_long.wav" --csv "$OUT/fan_id_06_long.csv" \
    --plot "$OUT/fan_id_06_long.png" --quiet
echo "monitor fan_id_06_long.wav (anomalous 30-80 s):"
cat "$OUT/fan_id_06_long.csv"
