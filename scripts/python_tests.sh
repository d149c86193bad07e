#!/usr/bin/env bash
# Builds the Python module's wheel and sdist, installs the wheel into a throw-away venv
# and runs its tests (parity with librosa,
# bad input, detectors, the experiment's stages, the Ray example on a local cluster).
#   AAD_PY_VENV   reuse this venv instead of a temporary one
#   AAD_PY_PROFILE  cargo profile of the extension (default dev: shares target/ with cargo test)
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PYTHON:-python3}"
if [ -n "${AAD_PY_VENV:-}" ]; then
    venv="$AAD_PY_VENV"
else
    # A throw-away venv is about 1 GB (Ray, numba, scipy): remove it however the script ends.
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    venv="$tmp/venv"
fi
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install --disable-pip-version-check --no-cache-dir -q -r crates/python/requirements-test.txt
# The sdist and the wheel as they would be published (maturin builds the wheel from the
# sdist, so an sdist missing a file fails here), then the wheel installed: the tests run
# against the built package, not the source folder. The sdist builds in its own target
# folder: sharing the workspace's, cargo would take its stale artifacts for the sdist's
# crates (their files carry the sdist's fixed timestamps).
dist=$(mktemp -d)
(cd crates/python && "$venv/bin/maturin" build --quiet --profile "${AAD_PY_PROFILE:-dev}" --sdist --out "$dist")
ls "$dist"/*.whl "$dist"/*.tar.gz > /dev/null
"$venv/bin/python" -m pip install --disable-pip-version-check --no-cache-dir -q --force-reinstall --no-deps "$dist"/*.whl
rm -rf "$dist"
cd crates/python
RAY_DISABLE_USAGE_STATS=1 "$venv/bin/python" -m pytest -q -W ignore::DeprecationWarning tests "$@"
# The docstrings' examples, from the installed package.
(cd tests && "$venv/bin/python" -m pytest -q -p no:cacheprovider --doctest-modules --pyargs aad)
cd ../..
echo "librosa 0.11.0's own tests of the functions aad provides, run against aad:"
"$venv/bin/python" python/librosa_tests/run.py
