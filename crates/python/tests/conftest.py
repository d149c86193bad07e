"""Shared fixtures: ../shared (required under CI), synthetic signals."""

import os
import pathlib

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared"


def shared_dir() -> pathlib.Path:
    """../shared, or a skip; under CI its absence is a failure, not a skip."""
    if SHARED.is_dir():
        return SHARED
    if os.environ.get("CI"):
        pytest.fail(f"{SHARED} is missing under CI")
    pytest.skip(f"{SHARED} not present")


def signals(sr):
    """Named synthetic test signals, float32, 3 s (as the Rust parity fixtures use)."""
    t = np.arange(3 * sr) / sr
    rng = np.random.default_rng(7)
    hum = sum(np.sin(2 * np.pi * 100 * k * t) / k for k in range(1, 6))
    chirp = np.sin(2 * np.pi * (55 * t + 0.5 * 600 * t**2 / 3))
    noise = rng.normal(0, 0.1, t.size)
    # A quiet floor (-46 dB re the noise) before the step: exact digital silence is the
    # separate case of test_exact_silence_beside_a_step.
    step = np.where(t < 1.5, 1e-3 * rng.normal(0, 1, t.size), rng.normal(0, 0.2, t.size))
    clicks = np.zeros(t.size)
    clicks[:: sr // 7] = 1.0
    out = {"hum": 0.3 * hum, "chirp": 0.5 * chirp, "noise": noise, "silence_then_noise": step,
           "clicks": clicks + 0.01 * noise}
    return {k: v.astype(np.float32) for k, v in out.items()}


@pytest.fixture(scope="session")
def reference_clips():
    """The clips of ../shared/reference (their WAVs under ../shared/data)."""
    shared = shared_dir()
    import csv
    rows = list(csv.DictReader(open(shared / "data" / "manifest.csv")))
    names = {p.name for p in (shared / "reference").iterdir() if p.is_dir()}
    clips = []
    for r in rows:
        f = r["file"]
        key = f.replace("/", "_").replace(".wav", "").replace("-6dB", "m6dB")
        if key in names:
            clips.append(shared / "data" / f)
    assert len(clips) >= 10, f"found {len(clips)} of the reference clips"
    return clips
