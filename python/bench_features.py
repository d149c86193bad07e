#!/usr/bin/env python3
"""Times aad's features against librosa's from Python on the same clip, one thread,
call overhead included (argument checks, copies, the GIL hand-off).

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python python/bench_features.py [WAV] [--repeats N]

Without WAV, a 10 s 16 kHz synthetic fan-like clip is used. Prints a Markdown table of
median milliseconds per call (after one warm-up call each, which also absorbs librosa's
numba compilation and both sides' plan caches) and the speed ratio.
"""
import argparse
import os
import statistics
import time

for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(v, "1")

import numpy as np  # noqa: E402
import librosa  # noqa: E402

import aad  # noqa: E402


def clip():
    sr = 16000
    t = np.arange(10 * sr) / sr
    rng = np.random.default_rng(0)
    y = sum(np.sin(2 * np.pi * 147 * k * t) / k for k in range(1, 6)) + rng.normal(0, 0.3, t.size)
    return (0.1 * y).astype(np.float32), sr


def median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wav", nargs="?")
    ap.add_argument("--repeats", type=int, default=20)
    a = ap.parse_args()
    if a.wav:
        y, sr = aad.load(a.wav)
    else:
        y, sr = clip()
    cases = [
        ("stft", lambda m: m.stft(y)),
        ("melspectrogram", lambda m: m.feature.melspectrogram(y=y, sr=sr)),
        ("mfcc", lambda m: m.feature.mfcc(y=y, sr=sr)),
        ("chroma_stft", lambda m: m.feature.chroma_stft(y=y, sr=sr)),
        ("chroma_cqt", lambda m: m.feature.chroma_cqt(y=y, sr=sr)),
        ("chroma_cens", lambda m: m.feature.chroma_cens(y=y, sr=sr)),
        ("estimate_tuning", lambda m: m.estimate_tuning(y=y, sr=sr)),
    ]
    print(f"clip: {a.wav or 'synthetic'}, {len(y) / sr:.1f} s at {sr} Hz; librosa "
          f"{librosa.__version__}, numpy {np.__version__}, aad {aad.__version__}; median of "
          f"{a.repeats}")
    print()
    print("| function | librosa ms | aad ms | ratio |")
    print("|---|---:|---:|---:|")
    for name, call in cases:
        lib = median_ms(lambda: call(librosa), a.repeats)
        ours = median_ms(lambda: call(aad), a.repeats)
        print(f"| {name} | {lib:.2f} | {ours:.2f} | {lib / ours:.1f}x |")


if __name__ == "__main__":
    main()
