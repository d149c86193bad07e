"""Argument checks shared by the wrappers: librosa's names, our errors."""

from __future__ import annotations

import numbers

import numpy as np

from ._native import ParameterError, UnsupportedParameterError


def audio(y, name: str = "y") -> np.ndarray:
    """A 1-D, non-empty, finite float32 array (librosa.load's dtype), else ParameterError."""
    if y is None:
        raise ParameterError(f"{name} is required (pass {name}=...; S=/C= input is not supported)")
    if not isinstance(y, np.ndarray):
        raise ParameterError(f"{name} must be a numpy array, not {type(y).__name__}")
    if y.dtype != np.float32:
        raise ParameterError(
            f"{name} must be float32 (librosa.load's dtype), not {y.dtype}; "
            f"convert with {name}.astype(np.float32)"
        )
    if y.ndim != 1:
        raise UnsupportedParameterError(
            f"{name} with shape {y.shape}: only mono (1-D) input is supported, not "
            "librosa's multi-channel (..., n)"
        )
    if y.size == 0:
        raise ParameterError(f"{name} is empty")
    if not np.isfinite(y).all():
        raise ParameterError(f"{name} holds a value that is not finite (NaN or infinity)")
    return y


def rate(sr) -> int:
    """A positive integer sample rate."""
    if isinstance(sr, bool) or not isinstance(sr, numbers.Real) or sr != int(sr) or sr <= 0:
        raise ParameterError(f"sr={sr!r}: a positive whole number of Hz is required")
    return int(sr)


def count(name: str, v, minimum: int = 1) -> int:
    """A whole number >= minimum."""
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum:
        raise ParameterError(f"{name}={v!r}: a whole number >= {minimum} is required")
    return int(v)


def unsupported(name: str, value, supported: str):
    raise UnsupportedParameterError(
        f"{name}={value!r} is not supported by aad (supported: {supported})"
    )


def only(name: str, value, allowed):
    """`value` must be one of `allowed` (compared with ==), else UnsupportedParameterError."""
    for a in allowed:
        if value is a or (not isinstance(value, np.ndarray) and value == a):
            return value
    unsupported(name, value, " or ".join(repr(a) for a in allowed))


def window(value) -> str:
    if isinstance(value, str) and value in ("hann", "hanning"):
        return "hann"
    if isinstance(value, str) and value in ("boxcar", "ones", "rect", "rectangular"):
        return "ones"
    unsupported("window", value, "'hann' or 'boxcar'")


def pad_mode(value) -> str:
    if value in ("constant", "reflect"):
        return value
    unsupported("pad_mode", value, "'constant' or 'reflect'")


def norm(value) -> str:
    """librosa's chroma norm: np.inf, 1, 2 or None."""
    if value is None:
        return "none"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if value == np.inf:
            return "inf"
        if value == 1:
            return "1"
        if value == 2:
            return "2"
    unsupported("norm", value, "np.inf, 1, 2 or None")


def hop(value, default) -> int:
    return count("hop_length", default if value is None else value)


def no_extra(fn: str, kwargs: dict):
    if kwargs:
        raise TypeError(f"{fn}() got unexpected keyword argument(s): {', '.join(sorted(kwargs))}")


def warn_too_long(n_fft: int, y: np.ndarray, center: bool, stacklevel: int = 4):
    """librosa's warning when a centred frame is longer than the signal (attributed to
    the caller of the public function)."""
    if center and n_fft > y.shape[-1]:
        import warnings
        warnings.warn(f"n_fft={n_fft} is too large for input signal of length={y.shape[-1]}",
                      stacklevel=stacklevel)
