"""python/examples/ray_mimii.py on a local 2-CPU Ray cluster gives the single-process
experiment's results.csv, byte for byte."""

import os
import subprocess
import sys

import pytest

import aad
from conftest import REPO

EXAMPLE = REPO / "python" / "examples" / "ray_mimii.py"


def test_ray_example_equals_the_single_process_run(tmp_path):
    if not os.environ.get("CI"):
        pytest.importorskip("ray")
    data = tmp_path / "data"
    aad.experiment.generate_synthetic(data, seed=6, n_normal=8, n_abnormal=4, ids=(0, 2),
                                      snrs_db=(6, -6))
    (data / "6dB/fan/id_02/abnormal/00000000.wav").write_bytes(b"not a wav")
    args = dict(features="logmel_mimii,cens_seed", models="ae,knn,lof", seeds="1,2",
                epochs=4)
    exp = aad.experiment.Experiment(data, features=args["features"], models=args["models"],
                                    seeds=(1, 2), epochs=4)
    exp.run(tmp_path / "single", cache=tmp_path / "cache")
    out = tmp_path / "ray"
    cmd = [sys.executable, str(EXAMPLE), "--data", str(data), "--out", str(out),
           "--num-cpus", "2", "--shard", "8", "--features", args["features"],
           "--models", args["models"], "--seeds", args["seeds"], "--epochs", "4"]
    env = dict(os.environ, RAY_DISABLE_USAGE_STATS="1", RAY_ENABLE_UV_RUN_RUNTIME_ENV="0")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "00000000.wav" in r.stderr  # the broken file is reported
    single = (tmp_path / "single" / "results.csv").read_text()
    assert (out / "results.csv").read_text() == single
    assert len(single.splitlines()) == 1 + 2 * 2 * 2 * 2 * 3 * 2
