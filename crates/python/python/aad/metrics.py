"""Detection metrics, as scikit-learn computes them."""

from __future__ import annotations

import numpy as np

from . import _native
from ._native import ParameterError

__all__ = ["roc_auc", "pauc"]


def _args(y_true, y_score):
    t = np.asarray(y_true)
    s = np.asarray(y_score, dtype=np.float64)
    if t.ndim != 1 or s.ndim != 1:
        raise ParameterError("y_true and y_score must be 1-D")
    if not np.isfinite(s).all():
        raise ParameterError("y_score holds a value that is not finite")
    if t.dtype == bool:
        t = t.astype(np.int64)
    if not np.issubdtype(t.dtype, np.integer):
        raise ParameterError(f"y_true must hold 0/1 integers or booleans, not {t.dtype}")
    return t.astype(np.int64).tolist(), s.tolist()


def roc_auc(y_true, y_score) -> float:
    """Area under the ROC curve, as ``sklearn.metrics.roc_auc_score``; 1 = anomalous."""
    return _native.roc_auc(*_args(y_true, y_score))


def pauc(y_true, y_score, max_fpr: float = 0.1) -> float:
    """McClish-standardised partial AUC up to ``max_fpr``, as
    ``sklearn.metrics.roc_auc_score(max_fpr=...)`` (the DCASE pAUC)."""
    if not 0 < max_fpr <= 1:
        raise ParameterError(f"max_fpr={max_fpr!r} must be in (0, 1]")
    return _native.pauc(*_args(y_true, y_score), float(max_fpr))
