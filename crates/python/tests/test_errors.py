"""Bad input raises the package's exceptions (never crashes the interpreter), and
librosa parameter values we do not implement raise, naming the parameter."""

import numpy as np
import pytest

import aad

FEATURES = [aad.feature.melspectrogram, aad.feature.mfcc, aad.feature.chroma_stft,
            aad.feature.chroma_cqt, aad.feature.chroma_cens]
GOOD = np.sin(np.arange(16000) * 0.1).astype(np.float32)


def test_exception_hierarchy():
    assert issubclass(aad.ParameterError, ValueError)
    assert issubclass(aad.UnsupportedParameterError, aad.ParameterError)
    assert issubclass(aad.AudioFileError, OSError)
    assert issubclass(aad.ModelError, ValueError)


@pytest.mark.parametrize("fn", FEATURES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("y,why", [
    (GOOD.astype(np.float64), "float32"),
    (GOOD.astype(np.int16), "float32"),
    (np.stack([GOOD, GOOD]), "1-D"),
    (np.array([], dtype=np.float32), "empty"),
    (np.where(np.arange(16000) == 5, np.nan, GOOD).astype(np.float32), "finite"),
    (np.where(np.arange(16000) == 5, np.inf, GOOD).astype(np.float32), "finite"),
    ([0.0] * 100, "numpy array"),
    (None, "required"),
])
def test_bad_arrays_raise_parameter_error(fn, y, why):
    with pytest.raises(aad.ParameterError, match=why):
        fn(y=y, sr=16000)


@pytest.mark.filterwarnings("ignore:n_fft=")
@pytest.mark.parametrize("fn", FEATURES, ids=lambda f: f.__name__)
def test_bad_values_raise_not_crash(fn):
    for sr in (0, -1, 16000.5, 10**9, "16k"):
        with pytest.raises(aad.ParameterError):
            fn(y=GOOD, sr=sr)
    with pytest.raises(aad.ParameterError):
        fn(y=GOOD, sr=16000, hop_length=0)
    # Short signals: a result or a clear error, never a crash.
    for n in (1, 7, 100):
        try:
            out = fn(y=GOOD[:n], sr=16000)
            assert np.isfinite(out).all()
        except aad.ParameterError:
            pass


@pytest.mark.parametrize("call,name", [
    (lambda: aad.feature.chroma_cens(y=GOOD, sr=16000, smoothing_window="triang"), "smoothing_window"),
    (lambda: aad.feature.chroma_cens(y=GOOD, sr=16000, cqt_mode="hybrid"), "cqt_mode"),
    (lambda: aad.feature.chroma_cqt(y=GOOD, sr=16000, C=np.ones((84, 3))), "C="),
    (lambda: aad.feature.chroma_cqt(y=GOOD, sr=16000, norm=3), "norm"),
    (lambda: aad.feature.melspectrogram(y=GOOD, sr=16000, window="hamming"), "window"),
    (lambda: aad.feature.melspectrogram(S=np.ones((1025, 3), np.float32)), "S="),
    (lambda: aad.feature.melspectrogram(y=GOOD, sr=16000, pad_mode="edge"), "pad_mode"),
    (lambda: aad.feature.mfcc(y=GOOD, sr=16000, dct_type=3), "dct_type"),
    (lambda: aad.feature.mfcc(y=GOOD, sr=16000, lifter=22), "lifter"),
    (lambda: aad.feature.chroma_stft(y=GOOD, sr=16000, base_c=False), "base_c"),
    (lambda: aad.estimate_tuning(y=GOOD, sr=16000, resolution=0.02), "resolution"),
])
def test_unsupported_parameters_raise_naming_them(call, name):
    with pytest.raises(aad.UnsupportedParameterError, match=name):
        call()


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="n_bogus"):
        aad.feature.melspectrogram(y=GOOD, sr=16000, n_bogus=3)


def test_files_that_are_not_audio_raise_os_errors_naming_them(tmp_path):
    missing = tmp_path / "missing.wav"
    with pytest.raises(aad.AudioFileError, match="missing.wav"):
        aad.load(missing)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\xff\xff\xff\xffWAVEfmt " + bytes(range(200)))
    with pytest.raises(OSError, match="junk.wav"):
        aad.load(junk)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(OSError, match="empty.wav"):
        aad.load(empty)
    with pytest.raises(OSError):
        aad.load(tmp_path)  # a directory
    with pytest.raises(aad.ParameterError):
        aad.load(junk, channel=-1)


def test_bad_model_files_raise_model_errors(tmp_path):
    for name, data in [("empty.aadm", b""), ("junk.aadm", b"\x08\x00\x00\x00\x00\x00\x00\x00{}" + b"x" * 50)]:
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises((aad.ModelError, OSError), match=name):
            aad.Detector.load(p)


def test_metrics_reject_bad_input():
    with pytest.raises(aad.ParameterError):
        aad.metrics.roc_auc([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(aad.ParameterError):
        aad.metrics.roc_auc([0, 1], [0.1, np.nan])
    with pytest.raises(aad.ParameterError):
        aad.metrics.roc_auc([0, 0], [0.1, 0.2])  # one class only
    with pytest.raises(aad.ParameterError):
        aad.metrics.pauc([0, 1], [0.1, 0.2], max_fpr=0)


def test_load_does_not_resample(tmp_path):
    import wave
    p = tmp_path / "tone.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((np.sin(np.arange(16000) * 0.1) * 10000).astype("<i2").tobytes())
    y, sr = aad.load(p)
    assert sr == 16000 and y.dtype == np.float32 and y.shape == (16000,)
    assert aad.load(p, sr=16000)[1] == 16000
    with pytest.raises(aad.UnsupportedParameterError, match="sr"):
        aad.load(p, sr=22050)
