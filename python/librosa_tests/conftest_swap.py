"""pytest plugin: librosa's public functions that aad provides are replaced by aad's.

Loaded by run.py into librosa's own test files (fetched, not copied). With AAD_SWAP=0
nothing is replaced (the baseline run). The adapter:
- passes the test's arguments through unchanged, except a float64 ``y`` or ``S``, which
  is cast to float32 (aad computes in float32, as librosa does for what librosa.load
  returns) with the result cast back to the input's precision;
- turns aad.UnsupportedParameterError into a skip whose reason names the parameter;
- turns aad.ParameterError into librosa's ParameterError, which the tests expect.
"""

import functools
import os

import numpy as np
import pytest

import librosa
import librosa.util.exceptions

SWAPPED = {
    "feature": ["melspectrogram", "mfcc", "chroma_stft", "chroma_cqt", "chroma_cens"],
    "": ["stft", "estimate_tuning", "power_to_db"],
}


def adapter(ours, name):
    import aad

    @functools.wraps(ours)
    def call(*args, **kwargs):
        in_dtype = None
        args = list(args)
        for key in ("y", "S"):
            v = kwargs.get(key)
            if v is None and key == "y" and args and name == "stft":
                v, key = args[0], 0
            if v is None and key == "S" and args and name == "power_to_db":
                v, key = args[0], 0
            if isinstance(v, np.ndarray) and v.dtype == np.float64:
                in_dtype = v.dtype
                v = v.astype(np.float32)
                if key == 0:
                    args[0] = v
                else:
                    kwargs[key] = v
        try:
            out = ours(*args, **kwargs)
        except aad.UnsupportedParameterError as e:
            pytest.skip(f"aad unsupported: {e}")
        except aad.ParameterError as e:
            raise librosa.util.exceptions.ParameterError(str(e)) from e
        if in_dtype is not None and isinstance(out, np.ndarray):
            out = out.astype(np.complex128 if np.iscomplexobj(out) else in_dtype)
        return out

    return call


def pytest_configure(config):
    if os.environ.get("AAD_SWAP", "1") == "0":
        return
    import aad

    for module, names in SWAPPED.items():
        target = getattr(librosa, module) if module else librosa
        source = getattr(aad, module) if module else aad
        for n in names:
            setattr(target, n, adapter(getattr(source, n), n))
