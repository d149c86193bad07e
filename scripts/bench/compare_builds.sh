#!/usr/bin/env bash
# Speed of two `aad` builds side by side on the same input, rounds interleaved so that a
# loaded machine slows both alike: `aad score` of every clip (--jobs 1) and the
# experiment's extraction and kNN from a cold cache (--jobs 2). Prints the median wall
# and system CPU seconds of each build; their scores must be byte-identical (checked).
# OUT on a tmpfs (/dev/shm/...) keeps the file system's own costs out of the comparison
# (on ext4, inodes deleted in the last minutes slow the creation of new ones, and each
# round deletes the previous cache).
#   scripts/bench/compare_builds.sh BASE_AAD NEW_AAD [OUT] [FRACTION] [ROUNDS]
# Defaults: /tmp/aad_compare, 0.035 (1,032 clips of `aad synth --preset mimii`), 5 rounds.
set -euo pipefail
BASE=$(realpath "$1"); NEW=$(realpath "$2")
OUT=${3:-/tmp/aad_compare}
FRACTION=${4:-0.035}
ROUNDS=${5:-5}
rm -rf "$OUT"; mkdir -p "$OUT"
"$NEW" synth --preset mimii --fraction "$FRACTION" "$OUT/syn" --quiet
"$NEW" demo "$OUT/demo" > /dev/null
# Each build fits its own model (the file formats may differ); the scores must agree.
for b in base new; do
    bin=$BASE; [ $b = new ] && bin=$NEW
    "$bin" fit --normal "$OUT/demo/train" -o "$OUT/$b.aadm" --quiet
done
TIMEFORMAT='%R %S'
wall() { { time "$@" > /dev/null 2>&1; } 2>&1 | tail -1; }
for r in $(seq "$ROUNDS"); do
    for b in base new; do
        bin=$BASE; [ $b = new ] && bin=$NEW
        echo "$b score $(wall "$bin" score "$OUT/$b.aadm" "$OUT/syn" --jobs 1 --quiet --csv "$OUT/$b.csv")" >> "$OUT/times"
        rm -rf "$OUT/cache" "$OUT/exp"
        echo "$b experiment $(wall "$bin" experiment --data "$OUT/syn" --out "$OUT/exp" --cache "$OUT/cache" \
            --features logmel_dcase --models knn_msm --seeds 1 --jobs 2 --no-figures --quiet)" >> "$OUT/times"
        cp "$OUT/exp/results.csv" "$OUT/$b-results.csv"
    done
done
cmp "$OUT/base.csv" "$OUT/new.csv" && echo "scores identical"
cmp "$OUT/base-results.csv" "$OUT/new-results.csv" && echo "results.csv identical"
clips=$(find "$OUT/syn" -name '*.wav' | wc -l)
echo "medians over $ROUNDS interleaved rounds, $clips clips (wall s, system CPU s):"
for w in score experiment; do
    for b in base new; do
        for col in 3 4; do
            awk -v b=$b -v w=$w -v c=$col '$1 == b && $2 == w { print $c }' "$OUT/times" | sort -n |
                awk '{ a[NR] = $1 } END { printf " %.3f", a[int((NR + 1) / 2)] }'
        done | awk -v b=$b -v w=$w '{ printf "  %-10s %-4s wall %s  system %s\n", w, b, $1, $2 }'
    done
done
