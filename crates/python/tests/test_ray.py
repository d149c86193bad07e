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


def _ray(venv_bin, *args, env):
    return subprocess.run([str(venv_bin / "ray"), *args], capture_output=True, text=True,
                          timeout=180, env=env)


def test_ray_example_on_a_two_node_cluster_equals_the_single_process_run(tmp_path):
    """A head node and a second node started on this machine, each with its own CPU and
    resources; the example joins the cluster with --address. The machine-ID classifier
(knn_idclf) gets the other machine's clips through file lists. Ray 2.60 starts a head with
    token authentication: the joining node and the driver need RAY_AUTH_MODE=token (the
    token is in ~/.ray/auth_token). Set-up as docs/python.md describes it for a cluster."""
    if not os.environ.get("CI"):
        pytest.importorskip("ray")
    from pathlib import Path
    import socket
    venv_bin = Path(sys.executable).parent
    data = tmp_path / "data"
    aad.experiment.generate_synthetic(data, seed=7, n_normal=8, n_abnormal=4, ids=(0, 2),
                                      snrs_db=(6,))
    models = "knn,knn_msm,knn_idclf"
    exp = aad.experiment.Experiment(data, features="logmel_mimii", models=models,
                                    seeds=(1,))
    exp.run(tmp_path / "single", cache=tmp_path / "cache")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"127.0.0.1:{port}"
    env = dict(os.environ, RAY_DISABLE_USAGE_STATS="1", RAY_ENABLE_UV_RUN_RUNTIME_ENV="0",
               RAY_AUTH_MODE="token")
    try:
        r = _ray(venv_bin, "start", "--head", f"--port={port}", "--num-cpus=1",
                 "--resources={\"head\": 1}", "--include-dashboard=false", env=env)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        r = _ray(venv_bin, "start", f"--address={address}", "--num-cpus=1",
                 "--resources={\"second\": 1}", env=env)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        # The set-up check: both nodes run aad at the driver's versions and see the data.
        check = [sys.executable, str(EXAMPLE), "--data", str(data), "--address", address,
                 "--check"]
        r = subprocess.run(check, capture_output=True, text=True, timeout=300, env=env)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        assert "2 nodes, 0 differ from the driver or cannot read" in r.stdout, r.stdout
        r = subprocess.run(check[:2] + ["--data", str(tmp_path / "missing"), "--address",
                                        address, "--check"],
                           capture_output=True, text=True, timeout=300, env=env)
        assert r.returncode == 1 and "unreadable" in r.stdout, r.stdout + r.stderr[-2000:]
        out = tmp_path / "ray"
        cmd = [sys.executable, str(EXAMPLE), "--data", str(data), "--out", str(out),
               "--address", address, "--shard", "4", "--features", "logmel_mimii",
               "--models", models, "--seeds", "1"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        import json
        run = json.loads((out / "run.json").read_text())
        assert run["cluster_cpus"] == 2, run
        single = (tmp_path / "single" / "results.csv").read_text()
        assert (out / "results.csv").read_text() == single
        # The machine-ID classifier ran, its contrast sets passed as file lists.
        assert ",knn_idclf," in single
    finally:
        _ray(venv_bin, "stop", "--force", env=env)
