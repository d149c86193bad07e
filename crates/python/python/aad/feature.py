"""Spectral features with librosa's signatures, defaults and array layouts.

Each function takes the same keyword arguments as its ``librosa.feature`` namesake and
returns the same array (``[bins, frames]``, float32), computed in Rust. The input must
be a 1-D float32 array (what ``librosa.load`` and :func:`aad.load` return). A librosa
parameter value we do not implement raises :class:`aad.UnsupportedParameterError`
naming it; precomputed ``S=``/``C=`` input is among those.

Agreement with librosa 0.11 (relative Frobenius error, measured on the 11 reference
MIMII/DCASE clips and synthetic signals): melspectrogram and mfcc <= 1e-5, chroma_stft
<= 1e-6, chroma_cqt <= 2e-4 (librosa resamples between octaves with libsoxr, we with FIR
filters), chroma_cens identical on the reference clips, tunings identical.
"""

from __future__ import annotations

import numpy as np

from . import _checks as ck
from . import _native

__all__ = ["melspectrogram", "mfcc", "chroma_stft", "chroma_cqt", "chroma_cens"]


def _mel_kwargs(fn: str, kwargs: dict):
    n_mels = ck.count("n_mels", kwargs.pop("n_mels", 128))
    fmin = float(kwargs.pop("fmin", 0.0))
    fmax = kwargs.pop("fmax", None)
    htk = bool(kwargs.pop("htk", False))
    mel_norm = kwargs.pop("norm", "slaney")
    if mel_norm not in ("slaney", None):
        ck.unsupported("norm", mel_norm, "'slaney' or None")
    dtype = kwargs.pop("dtype", np.float32)
    if np.dtype(dtype) != np.float32:
        ck.unsupported("dtype", dtype, "np.float32")
    ck.no_extra(fn, kwargs)
    return n_mels, fmin, None if fmax is None else float(fmax), htk, mel_norm == "slaney"


def _stft_args(y, n_fft, hop_length, win_length, window, center, pad_mode):
    n_fft = ck.count("n_fft", n_fft)
    ck.warn_too_long(n_fft, y, center)
    return (
        n_fft,
        ck.hop(hop_length, None),
        None if win_length is None else ck.count("win_length", win_length),
        ck.window(window),
        bool(center),
        ck.pad_mode(pad_mode),
    )


def melspectrogram(*, y=None, sr=22050, S=None, n_fft=2048, hop_length=512, win_length=None,
                   window="hann", center=True, pad_mode="constant", power=2.0, **kwargs):
    """Mel spectrogram, as ``librosa.feature.melspectrogram``: ``[n_mels, frames]`` float32.

    ``kwargs`` are ``librosa.filters.mel``'s: ``n_mels=128``, ``fmin=0.0``, ``fmax=None``
    (sr / 2), ``htk=False``, ``norm='slaney'`` (or None), ``dtype=np.float32``.

    >>> import numpy as np, aad
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)
    >>> aad.feature.melspectrogram(y=y, sr=22050).shape
    (128, 44)
    """
    if S is not None:
        ck.unsupported("S", "<array>", "None (pass y)")
    y = ck.audio(y)
    n_mels, fmin, fmax, htk, slaney = _mel_kwargs("melspectrogram", kwargs)
    if not (float(power) > 0):
        raise ck.ParameterError(f"power={power!r} must be > 0")
    return _native.melspectrogram(
        y, ck.rate(sr), *_stft_args(y, n_fft, hop_length, win_length, window, center, pad_mode),
        float(power), n_mels, fmin, fmax, htk, slaney)


def mfcc(*, y=None, sr=22050, S=None, n_mfcc=20, dct_type=2, norm="ortho", lifter=0,
         n_fft=2048, hop_length=512, win_length=None, window="hann", center=True,
         pad_mode="constant", power=2.0, **kwargs):
    """MFCCs, as ``librosa.feature.mfcc``: ``[n_mfcc, frames]`` float32.

    The DCT-II (orthonormal) of ``power_to_db(melspectrogram(...))`` (ref 1, amin 1e-10,
    top_db 80). ``kwargs`` go to the mel filterbank as in :func:`melspectrogram`.
    Supported: ``dct_type=2``, ``norm='ortho'``, ``lifter=0``.
    """
    if S is not None:
        ck.unsupported("S", "<array>", "None (pass y)")
    ck.only("dct_type", dct_type, [2])
    ck.only("norm", norm, ["ortho"])
    ck.only("lifter", lifter, [0])
    y = ck.audio(y)
    n_mels, fmin, fmax, htk, slaney = _mel_kwargs("mfcc", kwargs)
    n_mfcc = ck.count("n_mfcc", n_mfcc)
    return _native.mfcc(
        y, ck.rate(sr), n_mfcc,
        *_stft_args(y, n_fft, hop_length, win_length, window, center, pad_mode),
        float(power), n_mels, fmin, fmax, htk, slaney)


def chroma_stft(*, y=None, sr=22050, S=None, norm=np.inf, n_fft=2048, hop_length=512,
                win_length=None, window="hann", center=True, pad_mode="constant", tuning=None,
                n_chroma=12, **kwargs):
    """Chromagram from a power spectrogram, as ``librosa.feature.chroma_stft``:
    ``[n_chroma, frames]`` float32.

    ``tuning=None`` estimates it from the power spectrogram (``estimate_tuning``).
    ``kwargs`` are ``librosa.filters.chroma``'s: ``ctroct=5.0``, ``octwidth=2``
    (None = flat); ``norm=2`` and ``base_c=True`` of the filterbank only.
    """
    if S is not None:
        ck.unsupported("S", "<array>", "None (pass y)")
    y = ck.audio(y)
    ctroct = float(kwargs.pop("ctroct", 5.0))
    octwidth = kwargs.pop("octwidth", 2)
    ck.only("base_c", kwargs.pop("base_c", True), [True])
    dtype = kwargs.pop("dtype", np.float32)
    if np.dtype(dtype) != np.float32:
        ck.unsupported("dtype", dtype, "np.float32")
    ck.no_extra("chroma_stft", kwargs)
    return _native.chroma_stft(
        y, ck.rate(sr), *_stft_args(y, n_fft, hop_length, win_length, window, center, pad_mode),
        None if tuning is None else float(tuning), ck.count("n_chroma", n_chroma),
        ck.norm(norm), ctroct, None if octwidth is None else float(octwidth))


def _cqt_common(C, window, cqt_mode, bins_per_octave, n_chroma, n_octaves):
    if C is not None:
        ck.unsupported("C", "<array>", "None (pass y)")
    ck.only("window", window, [None])
    ck.only("cqt_mode", cqt_mode, ["full"])
    bins_per_octave = ck.count("bins_per_octave", bins_per_octave)
    n_chroma = ck.count("n_chroma", n_chroma)
    if bins_per_octave % n_chroma:
        raise ck.ParameterError(
            f"bins_per_octave={bins_per_octave} must be a multiple of n_chroma={n_chroma}")
    return bins_per_octave, n_chroma, ck.count("n_octaves", n_octaves)


def chroma_cqt(*, y=None, sr=22050, C=None, hop_length=512, fmin=None, norm=np.inf,
               threshold=0.0, tuning=None, n_chroma=12, n_octaves=7, window=None,
               bins_per_octave=36, cqt_mode="full"):
    """Constant-Q chromagram, as ``librosa.feature.chroma_cqt``: ``[n_chroma, frames]``
    float32.

    ``fmin=None`` is C1 (32.70 Hz); ``tuning=None`` estimates it from ``y``.
    Supported: ``C=None``, ``window=None``, ``cqt_mode='full'``.
    """
    bpo, n_chroma, n_octaves = _cqt_common(C, window, cqt_mode, bins_per_octave, n_chroma,
                                           n_octaves)
    y = ck.audio(y)
    return _native.chroma_cqt(
        y, ck.rate(sr), ck.hop(hop_length, None), None if fmin is None else float(fmin),
        ck.norm(norm), float(threshold), None if tuning is None else float(tuning), n_chroma,
        n_octaves, bpo)


def chroma_cens(*, y=None, sr=22050, C=None, hop_length=512, fmin=None, tuning=None,
                n_chroma=12, n_octaves=7, bins_per_octave=36, cqt_mode="full", window=None,
                norm=2, win_len_smooth=41, smoothing_window="hann"):
    """Chroma Energy Normalized Statistics, as ``librosa.feature.chroma_cens``:
    ``[n_chroma, frames]`` float32.

    The constant-Q chroma of :func:`chroma_cqt` (unnormalised), L1-normalised per frame,
    quantised at 0.4 / 0.2 / 0.1 / 0.05 (each step adds 0.25), smoothed over
    ``win_len_smooth`` frames with a Hann window (None: no smoothing), then normalised
    with ``norm`` (L2 by default). Supported: ``smoothing_window='hann'``, ``C=None``,
    ``window=None``, ``cqt_mode='full'``.

    >>> import numpy as np, aad
    >>> sr = 16000
    >>> t = np.arange(2 * sr) / sr
    >>> y = np.sin(2 * np.pi * 440 * t).astype(np.float32)   # an A
    >>> cens = aad.feature.chroma_cens(y=y, sr=sr)
    >>> cens.shape, int(cens[:, 30].argmax())                # pitch class A = 9
    ((12, 63), 9)
    """
    bpo, n_chroma, n_octaves = _cqt_common(C, window, cqt_mode, bins_per_octave, n_chroma,
                                           n_octaves)
    ck.only("smoothing_window", smoothing_window, ["hann", "hanning"])
    if win_len_smooth is not None:
        win_len_smooth = ck.count("win_len_smooth", win_len_smooth)
    y = ck.audio(y)
    return _native.chroma_cens(
        y, ck.rate(sr), ck.hop(hop_length, None), None if fmin is None else float(fmin),
        None if tuning is None else float(tuning), n_chroma, n_octaves, bpo, ck.norm(norm),
        win_len_smooth)
