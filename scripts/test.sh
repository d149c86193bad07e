#!/usr/bin/env bash
# The tests (the README's test command): `cargo test --workspace` with any arguments
# given, then one line saying how many tests checked nothing because the shared data
# (../shared: real MIMII/DCASE clips and librosa's arrays) was not found. Each such test
# also prints its own SKIPPED line as it runs. Under CI (CI set) those tests fail instead.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
AAD_SKIP_LOG="$log" cargo test --workspace "$@" || status=$?
skipped=$(sort -u "$log" | wc -l)
if [ "$skipped" -gt 0 ]; then
    echo "$skipped tests checked nothing: shared data not found (../shared, or set AAD_SHARED_DIR); their SKIPPED lines are above"
else
    echo "0 tests checked nothing: every test that reads the shared data ran"
fi
exit "$status"
