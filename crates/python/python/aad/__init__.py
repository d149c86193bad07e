"""aad: anomaly detection in machine sounds, from Rust.

- :mod:`aad.feature`: ``melspectrogram``, ``mfcc``, ``chroma_stft``, ``chroma_cqt``,
  ``chroma_cens`` with librosa's signatures and arrays, several times faster.
- :func:`load`, :func:`stft`, :func:`estimate_tuning`, :func:`power_to_db`.
- :class:`Detector`: fit on normal recordings, score new ones, a calibrated threshold;
  the same model files as the ``aad`` command.
- :mod:`aad.metrics`: ``roc_auc``, ``pauc``.
- :mod:`aad.experiment`: the MIMII/DCASE experiment and its stages (for Ray).

Errors: :class:`ParameterError` (a ``ValueError``), :class:`UnsupportedParameterError`
(a librosa parameter value not implemented here), :class:`AudioFileError` (an
``OSError`` naming the file), :class:`ModelError` (a ``ValueError``).
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from . import _checks as ck
from . import _native
from ._native import AudioFileError, ModelError, ParameterError, UnsupportedParameterError

__version__ = _native.__version__

from . import experiment, feature, metrics  # noqa: E402

__all__ = [
    "load", "stft", "estimate_tuning", "power_to_db", "Detector", "feature", "metrics",
    "experiment", "ParameterError", "UnsupportedParameterError", "AudioFileError",
    "ModelError",
]


def load(path, *, sr=None, channel=0):
    """Decodes an audio file (WAV or FLAC) at its own rate: ``(y, sr)``, ``y`` float32 1-D.

    Integer samples are scaled as librosa scales them (int16 by 1/32768).
    ``channel`` is a channel index (MIMII originals have 8) or ``"mean"`` (librosa's
    ``to_mono``). ``sr`` must be None or the file's rate: aad does not resample.

    Raises :class:`AudioFileError` (an ``OSError``) naming the file when it cannot be read
    or decoded.
    """
    if isinstance(channel, str):
        ch = ck.only("channel", channel, ["mean"])
    else:
        ch = str(ck.count("channel", channel, minimum=0))
    y, rate = _native.load(os.fspath(path), ch)
    if sr is not None and ck.rate(sr) != rate:
        ck.unsupported("sr", sr, f"None or the file's rate ({rate}); aad does not resample")
    return y, rate


def stft(y, *, n_fft=2048, hop_length=None, win_length=None, window="hann", center=True,
         dtype=None, pad_mode="constant", out=None):
    """Short-time Fourier transform, as ``librosa.stft``: ``[1 + n_fft/2, frames]``
    complex64. ``hop_length=None`` is ``win_length // 4``."""
    y = ck.audio(y)
    if out is not None:
        ck.unsupported("out", "<array>", "None")
    if dtype is not None and np.dtype(dtype) != np.complex64:
        ck.unsupported("dtype", dtype, "None or np.complex64")
    n_fft = ck.count("n_fft", n_fft)
    wl = n_fft if win_length is None else ck.count("win_length", win_length)
    hop = ck.hop(hop_length, wl // 4)
    ck.warn_too_long(n_fft, y, center, stacklevel=3)
    return _native.stft(y, n_fft, hop, win_length, ck.window(window), bool(center),
                        ck.pad_mode(pad_mode))


def estimate_tuning(*, y=None, sr=22050, S=None, n_fft=2048, resolution=0.01,
                    bins_per_octave=12, **kwargs):
    """Tuning deviation from A440 in fractions of a bin, as ``librosa.estimate_tuning``
    (piptrack peaks, ``pitch_tuning`` histogram). Give ``y`` or a ``[bins, frames]``
    magnitude/power spectrogram ``S``. Supported: ``n_fft=2048`` with ``y``,
    ``resolution=0.01``, piptrack's defaults."""
    ck.only("resolution", resolution, [0.01])
    if kwargs:
        ck.unsupported(next(iter(kwargs)), kwargs[next(iter(kwargs))], "piptrack's defaults")
    bpo = ck.count("bins_per_octave", bins_per_octave)
    if S is not None:
        S = np.asarray(S)
        if S.dtype != np.float32 or S.ndim != 2:
            raise ParameterError(f"S must be a 2-D float32 array, got {S.dtype} {S.shape}")
        return _native.estimate_tuning_spectrogram(S, ck.rate(sr), bpo)
    ck.only("n_fft", n_fft, [2048])
    tuning, pitches = _native.estimate_tuning(ck.audio(y), ck.rate(sr), bpo)
    if pitches == 0:
        warnings.warn("Trying to estimate tuning from empty frequency set.", stacklevel=2)
    return tuning


def power_to_db(S, *, ref=1.0, amin=1e-10, top_db=80.0):
    """``10 log10(S / ref)`` with a floor, as ``librosa.power_to_db``.

    float32 input is computed in float32 (as the log-Mel features are), anything else
    real in float64 (librosa's precision). ``ref`` may be a number or a callable (e.g.
    ``np.max``) applied to ``abs(S)``. Complex input warns and uses its magnitude."""
    S = np.asarray(S)
    if np.iscomplexobj(S):
        warnings.warn("power_to_db was called on complex input so phase information will "
                      "be discarded. To suppress this warning, call power_to_db(np.abs(D)**2) "
                      "instead.", stacklevel=2)
        S = np.abs(S)
    if not (np.issubdtype(S.dtype, np.floating) or np.issubdtype(S.dtype, np.integer)):
        raise ParameterError(f"S must be a real numeric array, not {S.dtype}")
    ref_value = ref(np.abs(S)) if callable(ref) else ref
    args = (float(np.abs(ref_value)), float(amin), None if top_db is None else float(top_db))
    if S.dtype == np.float32:
        return _native.power_to_db(S, *args)
    out = _native.power_to_db_f64(S.astype(np.float64), *args)
    return out[()] if out.ndim == 0 else out


class Detector:
    """A fitted anomaly detector: a feature, a detector fitted on normal clips, and a
    decision threshold set on cross-fitted scores of those clips. Higher scores are more
    anomalous; a clip is anomalous when its score is above :attr:`threshold`.

    Models are the ``aad`` command's files: ``aad fit`` writes what
    :meth:`Detector.load` reads and :meth:`save` writes what ``aad score`` reads.

    >>> import numpy as np, aad
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(16000) / 16000
    >>> hum = lambda f: (np.sin(2*np.pi*f*t) * 0.1 + rng.normal(0, 0.01, t.size)).astype(np.float32)
    >>> det = aad.Detector.fit([hum(440) for _ in range(8)], sr=16000, detector="knn")
    >>> bool(det.predict(hum(1000), sr=16000)), bool(det.predict(hum(440), sr=16000))
    (True, False)
    """

    def __init__(self, native):
        self._native = native

    @classmethod
    def fit(cls, normal_clips, *, feature=None, detector=None, sr=None, seed=1,
            threshold="gamma:0.9", folds=5, epochs=None, channel=0, contrast=None):
        """Fits on normal clips: file paths, or 1-D float32 arrays at ``sr`` Hz.

        ``feature`` and ``detector`` are registry names (``aad list``; defaults
        ``logmel_mimii`` and ``knn``). ``threshold``: ``gamma:P`` (a gamma fit's P
        quantile, default 0.9), ``quantile:P`` or ``fpr:P``. Unusable files are skipped
        with a warning and listed in :attr:`skipped`.

        ``contrast``: normal clips of other machines of the same type, one list per
        machine, of the same kind as ``normal_clips`` (paths or arrays at ``sr``); the
        machine-ID classifier (``detector="idclf"`` or ``"knn_idclf"``) learns to tell
        this machine from them. Other detectors ignore them.
        """
        clips = list(normal_clips)
        contrast = [list(m) for m in (contrast or [])]
        seed = ck.count("seed", seed, minimum=0)
        folds = ck.count("folds", folds, minimum=2)
        if epochs is not None:
            epochs = ck.count("epochs", epochs)
        if clips and all(isinstance(c, (str, os.PathLike)) for c in clips):
            if sr is not None:
                ck.unsupported("sr", sr, "None with file paths (files carry their rate)")
            ch = "mean" if channel == "mean" else str(ck.count("channel", channel, minimum=0))
            if not all(isinstance(c, (str, os.PathLike)) for m in contrast for c in m):
                raise ParameterError("contrast must hold file paths when normal_clips does")
            native = _native.Detector.fit_files([os.fspath(c) for c in clips], feature,
                                                detector, seed, str(threshold), folds,
                                                epochs, ch,
                                                [[os.fspath(c) for c in m] for m in contrast])
            if native.skipped:
                warnings.warn(f"{len(native.skipped)} training files skipped: "
                              + "; ".join(f"{p}: {why}" for p, why in native.skipped[:3]),
                              stacklevel=2)
        elif clips and all(isinstance(c, np.ndarray) for c in clips):
            if sr is None:
                raise ParameterError("sr is required when fitting on arrays")
            ys = [ck.audio(c, f"normal_clips[{i}]") for i, c in enumerate(clips)]
            cs = [[ck.audio(c, f"contrast[{m}][{i}]") for i, c in enumerate(set_)]
                  for m, set_ in enumerate(contrast)]
            native = _native.Detector.fit_signals(ys, ck.rate(sr), feature, detector, seed,
                                                  str(threshold), folds, epochs, cs)
        else:
            raise ParameterError(
                "normal_clips must be a non-empty list of file paths or of float32 arrays")
        return cls(native)

    @classmethod
    def load(cls, path):
        """Reads a model file (``.aadm``) written by :meth:`save` or ``aad fit``."""
        return cls(_native.Detector.load(os.fspath(path)))

    def save(self, path):
        """Writes the model to ``path`` atomically (readable by ``aad score``)."""
        self._native.save(os.fspath(path))

    def score(self, y_or_path, *, sr=None):
        """Anomaly score of a clip: a 1-D float32 array at ``sr`` Hz (a float), a file
        path (a float), or a list of paths (a float64 array, scored in parallel)."""
        x = y_or_path
        if isinstance(x, (str, os.PathLike)):
            return float(self._native.score_files([os.fspath(x)])[0])
        if isinstance(x, (list, tuple)):
            if not all(isinstance(p, (str, os.PathLike)) for p in x):
                raise ParameterError("a list given to score must hold file paths")
            return self._native.score_files([os.fspath(p) for p in x])
        if sr is None:
            raise ParameterError("sr is required when scoring an array")
        return self._native.score_signal(ck.audio(x), ck.rate(sr))

    def explain(self, y_or_path, *, sr=None):
        """Why a clip scored as it did, as a dict: ``kind`` (tonal, broadband level,
        transient, fluctuation), ``statistic`` (mean, std, max), ``band_hz`` and
        ``span_s`` (the band and the time span that carry the distance from the normal
        clips), ``sentence``, ``departure`` (the band's distance from normal per frame,
        in the direction its statistic moved), ``cycle`` (None, or where the band's
        repeating events, a valve's clicks, break: a dict of ``period_s``, ``at_s``
        where an event was due and did not come, and ``depth``, 0 to 1), ``pulses``
        (None, or the fast train of short events the band's waveform holds, a fan
        clicking on every revolution: a dict of ``rate_hz``, events a second, and
        ``peak_ratio``, how far they stand above the band between them) and every band's
        share in ``bands``. A 1-D float32 array at ``sr`` Hz, or a file path. Scores are
        unchanged. Covers the kNN detectors (the default ``knn_msm`` among them) and the
        autoencoders scored by their squared error (for those and the frame-level kNN
        ``statistic`` is ``error`` and the shares are in ``share_error``)."""
        x = y_or_path
        if isinstance(x, (str, os.PathLike)):
            return self._native.explain_file(os.fspath(x))
        if sr is None:
            raise ParameterError("sr is required when explaining an array")
        return self._native.explain_signal(ck.audio(x), ck.rate(sr))

    def predict(self, y_or_path, *, sr=None):
        """``score > threshold``: True for an anomalous clip (an array for a list)."""
        s = self.score(y_or_path, sr=sr)
        if np.ndim(s):
            return np.array(self._native.decide(np.asarray(s, dtype=np.float64).tolist()))
        return self._native.decide([float(s)])[0]

    threshold = property(lambda self: self._native.threshold,
                         doc="Decision threshold (scores above it are anomalous).")
    threshold_rule = property(lambda self: self._native.threshold_rule,
                              doc="How the threshold was set, e.g. 'gamma:0.9'.")
    feature = property(lambda self: self._native.feature, doc="Feature name.")
    detector = property(lambda self: self._native.detector, doc="Detector name.")
    sample_rate = property(lambda self: self._native.sample_rate,
                           doc="Sample rate the model reads.")
    training_scores = property(lambda self: self._native.training_scores,
                               doc="Cross-fitted scores of the training clips.")
    skipped = property(lambda self: self._native.skipped,
                       doc="Training files skipped by fit, as (path, reason).")

    def __repr__(self):
        return (f"Detector(feature={self.feature!r}, detector={self.detector!r}, "
                f"threshold={self.threshold:.6g} ({self.threshold_rule}))")
