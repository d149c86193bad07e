//! `Detector` (a deployable model: feature, fitted detector, calibrated threshold; the
//! same files as the `aad` command) and the metrics.

use std::path::PathBuf;

use aad_core::{Label, Signal};
use aad_engine::model::{FitOptions, Model};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::errors::{model_file, param};

/// Adds `Detector`, `roc_auc` and `pauc` to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Detector>()?;
    m.add_function(wrap_pyfunction!(roc_auc, m)?)?;
    m.add_function(wrap_pyfunction!(pauc, m)?)?;
    Ok(())
}

/// A fitted detector with its feature and threshold (see `aad.Detector`).
#[pyclass(module = "aad._native", name = "Detector", frozen)]
pub(crate) struct Detector {
    model: Model,
    skipped: Vec<(String, String)>,
}

/// The fit options from the Python arguments.
fn options(
    feature: Option<String>,
    detector: Option<String>,
    seed: u64,
    threshold: &str,
    folds: usize,
    epochs: Option<usize>,
    channel: &str,
) -> PyResult<FitOptions> {
    let d = FitOptions::default();
    Ok(FitOptions {
        feature: feature.unwrap_or(d.feature),
        detector: detector.unwrap_or(d.detector),
        seed,
        channel: channel.parse().map_err(param)?,
        threshold: threshold.parse().map_err(param)?,
        folds,
        epochs,
        contrast: Vec::new(),
        threads: d.threads,
        sample_rate: None,
    })
}

#[pymethods]
impl Detector {
    /// Fits on normal recordings given as paths; unusable files are skipped and listed
    /// in `skipped`.
    #[staticmethod]
    #[pyo3(signature = (paths, feature, detector, seed, threshold, folds, epochs, channel, contrast))]
    #[allow(clippy::too_many_arguments)]
    fn fit_files(
        py: Python<'_>,
        paths: Vec<PathBuf>,
        feature: Option<String>,
        detector: Option<String>,
        seed: u64,
        threshold: &str,
        folds: usize,
        epochs: Option<usize>,
        channel: &str,
        contrast: Vec<Vec<PathBuf>>,
    ) -> PyResult<Detector> {
        let mut opts = options(feature, detector, seed, threshold, folds, epochs, channel)?;
        opts.contrast = contrast;
        let (model, skipped) = py
            .detach(|| Model::fit_files(&paths, &opts))
            .map_err(model_file)?;
        Ok(Detector {
            model,
            skipped: skipped
                .into_iter()
                .map(|(p, e)| (p.display().to_string(), e.to_string()))
                .collect(),
        })
    }

    /// Fits on normal signals in memory, all at `sr`.
    #[staticmethod]
    #[pyo3(signature = (signals, sr, feature, detector, seed, threshold, folds, epochs, contrast))]
    #[allow(clippy::too_many_arguments)]
    fn fit_signals(
        py: Python<'_>,
        signals: Vec<PyReadonlyArray1<'_, f32>>,
        sr: u32,
        feature: Option<String>,
        detector: Option<String>,
        seed: u64,
        threshold: &str,
        folds: usize,
        epochs: Option<usize>,
        contrast: Vec<Vec<PyReadonlyArray1<'_, f32>>>,
    ) -> PyResult<Detector> {
        let opts = options(feature, detector, seed, threshold, folds, epochs, "0")?;
        let to_signals = |set: &[PyReadonlyArray1<'_, f32>], what: &str| {
            set.iter()
                .enumerate()
                .map(|(i, y)| {
                    Signal::new(y.as_array().to_vec(), sr)
                        .map_err(|e| param(format!("{what}{i}: {e}")))
                })
                .collect::<PyResult<Vec<Signal>>>()
        };
        let signals = to_signals(&signals, "clip ")?;
        let contrast = contrast
            .iter()
            .enumerate()
            .map(|(m, set)| to_signals(set, &format!("contrast machine {m}, clip ")))
            .collect::<PyResult<Vec<_>>>()?;
        let model = py
            .detach(|| Model::fit_signals_contrast(&signals, &contrast, &opts))
            .map_err(model_file)?;
        Ok(Detector {
            model,
            skipped: Vec::new(),
        })
    }

    /// Reads a model file written by `save` or by `aad fit`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Detector> {
        let model = py.detach(|| Model::load(&path)).map_err(model_file)?;
        Ok(Detector {
            model,
            skipped: Vec::new(),
        })
    }

    /// Writes the model to one file, atomically.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.model.save(&path)).map_err(model_file)
    }

    /// The anomaly score of a signal at `sr` (higher = more anomalous).
    fn score_signal(&self, py: Python<'_>, y: PyReadonlyArray1<'_, f32>, sr: u32) -> PyResult<f64> {
        let s = Signal::new(y.as_array().to_vec(), sr).map_err(param)?;
        py.detach(|| self.model.score_signal(&s))
            .map_err(model_file)
    }

    /// Why a signal at `sr` scored as it did, as a dict: `kind`, `statistic`, `band_hz`
    /// (low, high), `span_s` (start, end), `sentence`, `departure` (per frame, how far
    /// the band departs from normal, in standard deviations, in the direction its
    /// statistic moved), `cycle` (None, or where the
    /// band's repeating events break: `period_s`, `at_s`, `depth`), `pulses` (None, or the
    /// fast train of short events the band's waveform holds: `rate_hz`, `peak_ratio`) and
    /// `bands`, a list of dicts
    /// (`lo_hz`, `hi_hz`, `share_mean`, `share_std`, `share_max`, `mean_change`,
    /// `std_change`, `max_change`, `share_error`).
    fn explain_signal<'py>(
        &self,
        py: Python<'py>,
        y: PyReadonlyArray1<'_, f32>,
        sr: u32,
    ) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let s = Signal::new(y.as_array().to_vec(), sr).map_err(param)?;
        explanation(
            py,
            py.detach(|| aad_engine::explain::explain_signal(&self.model, &s)),
        )
    }

    /// [`explain_signal`](Self::explain_signal) of a file, decoded as the model reads
    /// files (its channel and sample rate).
    fn explain_file<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
    ) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let opts = self.model.decode_options();
        let s = py
            .detach(|| aad_audio::decode_file(&path, &opts))
            .map_err(crate::errors::file)?;
        explanation(
            py,
            py.detach(|| aad_engine::explain::explain_signal(&self.model, &s)),
        )
    }

    /// The scores of files, in order (in parallel); the first unusable file raises.
    fn score_files<'py>(
        &self,
        py: Python<'py>,
        paths: Vec<PathBuf>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let scores = py
            .detach(|| -> Result<Vec<f64>, aad_engine::model::ModelFileError> {
                self.model.score_files(&paths)?.into_iter().collect()
            })
            .map_err(model_file)?;
        Ok(PyArray1::from_vec(py, scores))
    }

    /// Decision threshold: a clip is anomalous when its score is above it.
    #[getter]
    fn threshold(&self) -> f64 {
        self.model.threshold()
    }

    /// Whether each score is anomalous (strictly above the threshold), by the model's
    /// own rule.
    fn decide(&self, scores: Vec<f64>) -> Vec<bool> {
        scores.into_iter().map(|s| self.model.decide(s)).collect()
    }

    /// How the threshold was set, e.g. `gamma:0.9`.
    #[getter]
    fn threshold_rule(&self) -> String {
        self.model.threshold_rule().to_string()
    }

    /// Feature name.
    #[getter]
    fn feature(&self) -> String {
        self.model.feature().name.clone()
    }

    /// Detector name.
    #[getter]
    fn detector(&self) -> String {
        self.model.detector_name().to_string()
    }

    /// Sample rate the model reads.
    #[getter]
    fn sample_rate(&self) -> u32 {
        self.model.sample_rate()
    }

    /// Cross-fitted scores of the training clips (what the threshold was set on).
    #[getter]
    fn training_scores<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_vec(py, self.model.training_scores().to_vec())
    }

    /// Training files skipped by `fit`, as (path, reason).
    #[getter]
    fn skipped(&self) -> Vec<(String, String)> {
        self.skipped.clone()
    }
}

/// 0/1 labels (1 = anomalous) and finite scores of equal length.
fn labelled(y_true: &[i64], y_score: &[f64]) -> PyResult<Vec<Label>> {
    if y_true.len() != y_score.len() {
        return Err(param(format!(
            "y_true has {} values, y_score {}",
            y_true.len(),
            y_score.len()
        )));
    }
    y_true
        .iter()
        .map(|&v| match v {
            0 => Ok(Label::Normal),
            1 => Ok(Label::Anomalous),
            other => Err(param(format!("y_true holds {other}; labels are 0 and 1"))),
        })
        .collect()
}

/// ROC AUC as scikit-learn's `roc_auc_score`.
#[pyfunction]
fn roc_auc(y_true: Vec<i64>, y_score: Vec<f64>) -> PyResult<f64> {
    let labels = labelled(&y_true, &y_score)?;
    aad_metrics::roc_auc(&y_score, &labels).map_err(param)
}

/// Standardised partial AUC as scikit-learn's `roc_auc_score(max_fpr=...)`.
#[pyfunction]
fn pauc(y_true: Vec<i64>, y_score: Vec<f64>, max_fpr: f64) -> PyResult<f64> {
    let labels = labelled(&y_true, &y_score)?;
    aad_metrics::partial_auc(&y_score, &labels, max_fpr).map_err(param)
}

/// An explanation as the dict `Detector.explain` returns.
fn explanation<'py>(
    py: Python<'py>,
    e: Result<aad_engine::explain::Explanation, aad_engine::model::ModelFileError>,
) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    let e = e.map_err(model_file)?;
    let d = pyo3::types::PyDict::new(py);
    d.set_item("kind", e.kind.label())?;
    d.set_item("statistic", format!("{:?}", e.statistic).to_lowercase())?;
    let top = &e.bands[e.band];
    d.set_item("band_hz", (top.lo_hz, top.hi_hz))?;
    d.set_item("span_s", e.span_s)?;
    d.set_item("sentence", &e.sentence)?;
    d.set_item("departure", &e.departure)?;
    let cycle = match e.cycle {
        Some(c) => {
            let x = pyo3::types::PyDict::new(py);
            x.set_item("period_s", c.period_s)?;
            x.set_item("at_s", c.at_s)?;
            x.set_item("depth", c.depth)?;
            Some(x)
        }
        None => None,
    };
    d.set_item("cycle", cycle)?;
    let pulses = match e.pulses {
        Some(p) => {
            let x = pyo3::types::PyDict::new(py);
            x.set_item("rate_hz", p.rate_hz)?;
            x.set_item("peak_ratio", p.peak_ratio)?;
            Some(x)
        }
        None => None,
    };
    d.set_item("pulses", pulses)?;
    let bands = e
        .bands
        .iter()
        .map(|b| {
            let x = pyo3::types::PyDict::new(py);
            x.set_item("lo_hz", b.lo_hz)?;
            x.set_item("hi_hz", b.hi_hz)?;
            x.set_item("share_mean", b.mean)?;
            x.set_item("share_std", b.std)?;
            x.set_item("share_max", b.max)?;
            x.set_item("mean_change", b.mean_change)?;
            x.set_item("std_change", b.std_change)?;
            x.set_item("max_change", b.max_change)?;
            x.set_item("share_error", b.error)?;
            Ok(x)
        })
        .collect::<PyResult<Vec<_>>>()?;
    d.set_item("bands", bands)?;
    Ok(d)
}
