"""The MIMII/DCASE experiment, whole or as stages for a distributed runner.

:meth:`Experiment.run` is ``aad experiment`` in this process. The stages let another
engine schedule the work (``python/examples/ray_mimii.py`` runs them on Ray):

1. :meth:`Experiment.plan` (driver): discover and split the dataset;
2. :meth:`Experiment.extractor` ``.extract(path)`` (any worker): a clip's features;
3. ``plan.groups(readable)`` (driver): the groups still usable (the same audio twice in
   a group counts once: the driver hashes the readable files);
4. :meth:`Experiment.fit_score_group` (any worker): a group's result rows (the
   machine-ID classifiers also take the features of the files the group's ``contrast``
   lists);
5. :func:`write_results_csv` (driver): ``results.csv``, byte-identical to ``run``'s.

An :class:`Experiment` pickles as its settings, so it can be shipped to workers.
"""

from __future__ import annotations

import os

from . import _native

DEFAULT_FEATURES = _native.DEFAULT_FEATURES
DEFAULT_MODELS = _native.DEFAULT_MODELS
#: Every feature name of the registry (as ``aad list`` prints them).
FEATURES = tuple(_native.FEATURES)
#: Every detector name of the registry (as ``aad list`` prints them).
DETECTORS = tuple(_native.DETECTORS)

__all__ = ["Experiment", "write_results_csv", "generate_synthetic", "DEFAULT_FEATURES",
           "DEFAULT_MODELS", "FEATURES", "DETECTORS"]


class Experiment:
    """An experiment's settings (the ``aad experiment`` flags of the same names)."""

    def __init__(self, data, *, features=DEFAULT_FEATURES, models=DEFAULT_MODELS,
                 seeds=(1, 2, 3), machines=("fan", "valve"), snr="all", channel=0,
                 epochs=None, sample_rate=16000):
        self._settings = dict(
            data=os.fspath(data),
            features=features if isinstance(features, str) else ",".join(features),
            models=models if isinstance(models, str) else ",".join(models),
            seeds=[int(s) for s in seeds],
            machines=None if machines is None else [str(m) for m in machines],
            snr=str(snr), channel=str(channel),
            epochs=None if epochs is None else int(epochs), sample_rate=int(sample_rate))
        self._native = _native.Experiment(**self._settings)

    def __getstate__(self):
        return self._settings

    def __setstate__(self, settings):
        self._settings = settings
        self._native = _native.Experiment(**settings)

    @property
    def features(self):
        """Feature names, in order."""
        return self._native.features

    def plan(self):
        """Discovers and splits the dataset: a plan with ``clips()``, ``groups(readable)``,
        ``skipped_files()`` and ``unsplittable()``."""
        return self._native.plan()

    def extractor(self):
        """A planned extractor: ``.extract(path)`` gives one frames x dims float32 array
        per feature, or raises :class:`aad.AudioFileError` naming the file."""
        return self._native.extractor()

    @property
    def needs_contrast(self):
        """Whether a configured detector (``idclf``, ``knn_idclf``) learns against other
        machines' clips: pass :meth:`fit_score_group` the group's contrast sets then."""
        return self._native.needs_contrast

    def fit_score_group(self, group, features, *, threads=1, contrast=None):
        """Fits and scores a group (a dict from ``plan.groups``) from its features:
        ``features[i] = (train_arrays, test_arrays)`` for the i-th feature. Returns
        ``(rows, failures)``; rows are dicts with the ``results.csv`` columns. The
        group's ``train_domains`` (0 source, 1 target per training clip) give the bank
        detector (``knn_domains``) its domains.

        The machine-ID classifier (``idclf``, ``knn_idclf``) learns against the other
        machine ids' training clips, which the group names as file lists
        (``group["contrast"]``, one list per other id): ``contrast[i][k]`` holds the i-th
        feature's arrays of the k-th list, in order. Without ``contrast`` those detectors'
        jobs fail with a message saying so."""
        return self._native.fit_score_group(
            group["snr"], group["machine_type"], group["machine_id"], len(group["train"]),
            list(group["labels"]), features, int(threads),
            list(group.get("train_domains", ())),
            [] if contrast is None else [[list(s) for s in sets] for sets in contrast])

    def run(self, out, *, cache=None, jobs=0, overwrite=False, crossfit=None):
        """Runs everything in this process, writing ``results.csv``, ``summary.md`` and
        ``results.json`` into ``out``; returns the number of result rows. ``crossfit=K``
        also writes ``crossfit.csv`` and ``crossfit.md``: every normal clip scored by a
        model that did not see it (K folds per machine id), mean AUC per machine type with
        95 % bootstrap intervals."""
        return self._native.run(os.fspath(out), None if cache is None else os.fspath(cache),
                                int(jobs), bool(overwrite),
                                None if crossfit is None else int(crossfit))


def write_results_csv(rows, path):
    """Writes result rows (dicts) as ``results.csv``, atomically, in ``run``'s format."""
    _native.write_results_csv(list(rows), os.fspath(path))


def generate_synthetic(out, *, seed=0, n_normal=6, n_abnormal=3, snrs_db=(0,), ids=(0, 2),
                       duration_s=2.0):
    """Writes a synthetic MIMII-like dataset (fan and valve; mono 16 kHz WAV) to ``out``."""
    _native.generate_synthetic(os.fspath(out), int(seed), int(n_normal), int(n_abnormal),
                               [int(s) for s in snrs_db], [int(i) for i in ids],
                               float(duration_s))
