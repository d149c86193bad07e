#!/usr/bin/env python3
"""How far the CQT decimator of cens-features moves librosa's chroma from soxr_hq.

    python scripts/design/decimator_vs_soxr.py [REFERENCE_DIR]

Runs librosa's own CQT code on each clip of ../shared/reference (channel 0, or the mean
for *_mix folders) with the 2:1 resampler swapped for numpy versions of ours: the 65-tap
half-band filter alone, and with the 255-tap edge filter over the first and last 128
outputs (blended over 64). Prints relative Frobenius error and Pearson r of chroma_cqt,
chroma_cens and the seed's CENS (every 5th frame) against librosa with soxr_hq.
Needs the venv of ../shared/pyref/setup.sh. Design aid only; the tests run without it.
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import librosa
import librosa.core.constantq as cq

warnings.filterwarnings("ignore")
ORIGINAL_RESAMPLE = cq.audio.resample


def kaiser_sinc(taps, cutoff, beta):
    """Unit-DC-gain Kaiser-windowed sinc, cutoff as a fraction of the input Nyquist."""
    n = np.arange(taps) - (taps - 1) / 2
    h = cutoff * np.sinc(cutoff * n) * np.kaiser(taps, beta)
    return h / h.sum()


HALF_BAND = kaiser_sinc(65, 0.5, 8.0)
EDGE = kaiser_sinc(255, 0.4775, 12.0)
EDGE_OUT, RAMP = 128, 64


def decimate(x, h):
    c = (len(h) - 1) // 2
    return np.sqrt(2) * np.convolve(x, h)[c::2][: (len(x) + 1) // 2]


def ours(x, with_edges):
    out = decimate(x, HALF_BAND)
    if not with_edges:
        return out
    edge = decimate(x, EDGE)
    if len(out) <= 2 * (EDGE_OUT + RAMP):
        return edge
    w = np.zeros(len(out))
    ramp = 0.5 * (1 + np.cos(np.pi * np.arange(1, RAMP + 1) / (RAMP + 1)))
    w[:EDGE_OUT], w[-EDGE_OUT:] = 1, 1
    w[EDGE_OUT:EDGE_OUT + RAMP], w[-EDGE_OUT - RAMP:-EDGE_OUT] = ramp, ramp[::-1]
    return w * edge + (1 - w) * out


MODE = {"resampler": "soxr"}


def patched_resample(y, orig_sr, target_sr, res_type="soxr_hq", scale=False, fix=True, **kw):
    if orig_sr == 2 and target_sr == 1 and MODE["resampler"] != "soxr":
        x = np.asarray(y, dtype=np.float64)
        return ours(x, MODE["resampler"] == "edges").astype(y.dtype)
    return ORIGINAL_RESAMPLE(y, orig_sr=orig_sr, target_sr=target_sr, res_type=res_type,
                             scale=scale, fix=fix, **kw)


cq.audio.resample = patched_resample


def features(y, sr, tuning):
    c = np.abs(librosa.cqt(y=y, sr=sr, n_bins=252, bins_per_octave=36, tuning=tuning))
    cens = librosa.feature.chroma_cens(C=c, sr=sr, bins_per_octave=36)
    return librosa.feature.chroma_cqt(C=c, sr=sr, bins_per_octave=36), cens, cens[:, ::5]


def main():
    ref_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
    for d in sorted(p for p in ref_dir.iterdir() if (p / "features.json").is_file()):
        meta = json.loads((d / "features.json").read_text())
        y, sr = librosa.load(ref_dir.parent / meta["input"]["path"], sr=None, mono=False)
        if y.ndim > 1:
            y = y.mean(axis=0) if d.name.endswith("_mix") else y[0]
        tuning = librosa.estimate_tuning(y=y, sr=sr, bins_per_octave=36)
        MODE["resampler"] = "soxr"
        want = features(y, sr, tuning)
        print(d.name)
        for resampler in ["half-band", "edges"]:
            MODE["resampler"] = resampler
            got = features(y, sr, tuning)
            cells = []
            for name, r, c in zip(["chroma_cqt", "cens", "cens_seed"], want, got):
                rel = np.linalg.norm(r - c) / np.linalg.norm(r)
                corr = np.corrcoef(r.ravel(), c.ravel())[0, 1]
                cells.append(f"{name} {rel:.1e} r={corr:.6f}")
            print(f"  {resampler:<9}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
