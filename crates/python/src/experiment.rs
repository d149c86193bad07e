//! The experiment's stages for other runners (the Ray example), the single-process run,
//! and the synthetic dataset generator.

use std::path::PathBuf;
use std::sync::Mutex;

use aad_core::Label;
use aad_data::{GroupKey, SyntheticConfig};
use aad_experiment::registry::{FeatureSpec, ModelSpec};
use aad_experiment::{ExperimentConfig, GroupJob, ResultRow, SnrFilter};
use ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{file, model, param};

/// Adds the experiment classes and functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Experiment>()?;
    m.add_class::<Plan>()?;
    m.add_class::<ClipExtractor>()?;
    m.add_function(wrap_pyfunction!(write_results_csv, m)?)?;
    m.add_function(wrap_pyfunction!(generate_synthetic, m)?)?;
    m.add(
        "DEFAULT_FEATURES",
        aad_experiment::registry::DEFAULT_FEATURES,
    )?;
    m.add("DEFAULT_MODELS", aad_experiment::registry::DEFAULT_MODELS)?;
    m.add("DEFAULT_FEATURE", aad_experiment::model::DEFAULT_FEATURE)?;
    m.add("DEFAULT_DETECTOR", aad_experiment::model::DEFAULT_DETECTOR)?;
    // The registry's names, so Python's lists are the command's.
    let features: Vec<&str> = aad_engine::registry::FEATURES
        .iter()
        .map(|e| e.name)
        .collect();
    m.add("FEATURES", features)?;
    let detectors: Vec<&str> = aad_engine::registry::DETECTORS
        .iter()
        .map(|e| e.name)
        .collect();
    m.add("DETECTORS", detectors)?;
    Ok(())
}

/// One feature's (train, test) arrays as Python passes them.
type PyTrainTest<'py> = (
    Vec<PyReadonlyArray2<'py, f32>>,
    Vec<PyReadonlyArray2<'py, f32>>,
);

/// Usable groups as dicts, and the groups left out with why.
type GroupsAndSkipped<'py> = (Vec<Bound<'py, PyDict>>, Vec<(String, String)>);

/// An experiment configuration (see `aad.experiment.Experiment`).
#[pyclass(module = "aad._native", name = "Experiment", frozen)]
pub(crate) struct Experiment {
    cfg: ExperimentConfig,
}

#[pymethods]
impl Experiment {
    #[new]
    #[pyo3(signature = (data, features, models, seeds, machines, snr, channel, epochs, sample_rate))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        data: PathBuf,
        features: &str,
        models: &str,
        seeds: Vec<u64>,
        machines: Option<Vec<String>>,
        snr: &str,
        channel: &str,
        epochs: Option<usize>,
        sample_rate: u32,
    ) -> PyResult<Experiment> {
        let mut cfg = ExperimentConfig::new(std::env::temp_dir());
        cfg.data = Some(data);
        cfg.features = FeatureSpec::parse_list(features, sample_rate).map_err(param)?;
        cfg.models = ModelSpec::parse_list(models).map_err(param)?;
        cfg.seeds = seeds;
        cfg.machines = machines;
        cfg.snr = SnrFilter::parse(snr).map_err(param)?;
        cfg.channel = channel.parse().map_err(param)?;
        cfg.epochs = epochs;
        cfg.sample_rate = sample_rate;
        cfg.progress = false;
        cfg.figures = false;
        Ok(Experiment { cfg })
    }

    /// Whether a configured detector learns against other machines' clips (the
    /// machine-ID classifier): a runner then passes `fit_score_group` the contrast sets.
    #[getter]
    fn needs_contrast(&self) -> bool {
        self.cfg.models.iter().any(ModelSpec::needs_contrast)
    }

    /// Discovers and splits the dataset.
    fn plan(&self, py: Python<'_>) -> PyResult<Plan> {
        let plan = py
            .detach(|| aad_experiment::plan(&self.cfg))
            .map_err(param)?;
        Ok(Plan { plan })
    }

    /// A planned extractor of every configured feature.
    fn extractor(&self) -> PyResult<ClipExtractor> {
        let fx = aad_experiment::ClipExtractor::new(&self.cfg).map_err(param)?;
        Ok(ClipExtractor { fx: Mutex::new(fx) })
    }

    /// Fits and scores one group: `snr`, `machine_type`, `machine_id` name it, `n_train`
    /// and `labels` (0/1 per test clip) size it, `features[i]` is `(train, test)` lists
    /// of frames x dims float32 arrays for the i-th feature. Returns (rows, failures).
    /// `contrast[i]`, when given, holds the i-th feature's arrays of the group's contrast
    /// sets (one list per other machine id, the files of `groups`' `contrast`).
    #[pyo3(signature = (snr, machine_type, machine_id, n_train, labels, features, threads, train_domains=Vec::new(), contrast=Vec::new()))]
    #[allow(clippy::too_many_arguments)]
    fn fit_score_group<'py>(
        &self,
        py: Python<'py>,
        snr: &str,
        machine_type: String,
        machine_id: String,
        n_train: usize,
        labels: Vec<u8>,
        features: Vec<PyTrainTest<'py>>,
        threads: usize,
        train_domains: Vec<usize>,
        contrast: Vec<Vec<Vec<PyReadonlyArray2<'py, f32>>>>,
    ) -> PyResult<(Vec<Bound<'py, PyDict>>, Vec<String>)> {
        let job = GroupJob {
            key: GroupKey {
                snr: aad_data::parse_snr_label(snr).map_err(param)?,
                machine_type,
                machine_id,
            },
            n_train,
            labels: labels
                .iter()
                .map(|&l| match l {
                    0 => Ok(Label::Normal),
                    1 => Ok(Label::Anomalous),
                    other => Err(param(format!("label {other}: 0 or 1"))),
                })
                .collect::<PyResult<_>>()?,
            train_domains,
        };
        let owned = |v: &[PyReadonlyArray2<'py, f32>]| -> Vec<Array2<f32>> {
            v.iter().map(|a| a.as_array().to_owned()).collect()
        };
        let features: Vec<_> = features
            .iter()
            .map(|(tr, te)| (owned(tr), owned(te)))
            .collect();
        let contrast: Vec<aad_experiment::ContrastSets> = contrast
            .iter()
            .map(|sets| sets.iter().map(|set| owned(set)).collect())
            .collect();
        let out = py
            .detach(|| {
                let pool = aad_experiment::batch::pool(threads).map_err(|e| e.to_string())?;
                pool.install(|| {
                    aad_experiment::fit_score_group_with_contrast(
                        &self.cfg, &job, features, contrast,
                    )
                })
                .map_err(|e| e.to_string())
            })
            .map_err(param)?;
        let rows = out
            .rows
            .iter()
            .map(|r| row_dict(py, r))
            .collect::<PyResult<_>>()?;
        Ok((rows, out.failures.iter().map(ToString::to_string).collect()))
    }

    /// Runs the whole experiment in this process (as `aad experiment`), writing
    /// `results.csv`, `summary.md` and `results.json` into `out`; returns the number of
    /// result rows.
    #[pyo3(signature = (out, cache, jobs, overwrite, crossfit))]
    fn run(
        &self,
        py: Python<'_>,
        out: PathBuf,
        cache: Option<PathBuf>,
        jobs: usize,
        overwrite: bool,
        crossfit: Option<usize>,
    ) -> PyResult<usize> {
        let mut cfg = self.cfg.clone();
        cfg.out = out;
        cfg.cache = cache;
        cfg.jobs = jobs;
        cfg.overwrite = overwrite;
        cfg.crossfit = crossfit;
        let o = py.detach(|| aad_experiment::run(&cfg)).map_err(model)?;
        Ok(o.rows.len())
    }

    /// Feature names, in order.
    #[getter]
    fn features(&self) -> Vec<String> {
        self.cfg.features.iter().map(|f| f.name.clone()).collect()
    }
}

fn row_dict<'py>(py: Python<'py>, r: &ResultRow) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("snr", &r.snr)?;
    d.set_item("machine_type", &r.machine_type)?;
    d.set_item("machine_id", &r.machine_id)?;
    d.set_item("feature", &r.feature)?;
    d.set_item("model", &r.model)?;
    d.set_item("seed", r.seed)?;
    d.set_item("n_train", r.n_train)?;
    d.set_item("n_test_normal", r.n_test_normal)?;
    d.set_item("n_test_abnormal", r.n_test_abnormal)?;
    d.set_item("auc", r.auc)?;
    d.set_item("pauc", r.pauc)?;
    Ok(d)
}

fn dict_row(d: &Bound<'_, PyDict>) -> PyResult<ResultRow> {
    fn get<'py, T: FromPyObjectOwned<'py>>(d: &Bound<'py, PyDict>, k: &str) -> PyResult<T> {
        d.get_item(k)?
            .ok_or_else(|| param(format!("result row without {k:?}")))?
            .extract()
            .map_err(Into::into)
    }
    Ok(ResultRow {
        snr: get(d, "snr")?,
        machine_type: get(d, "machine_type")?,
        machine_id: get(d, "machine_id")?,
        feature: get(d, "feature")?,
        model: get(d, "model")?,
        seed: get(d, "seed")?,
        n_train: get(d, "n_train")?,
        n_test_normal: get(d, "n_test_normal")?,
        n_test_abnormal: get(d, "n_test_abnormal")?,
        auc: get(d, "auc")?,
        pauc: get(d, "pauc")?,
    })
}

/// Writes rows (dicts as `fit_score_group` returns them) as `results.csv`, atomically,
/// in the single-process run's format.
#[pyfunction]
fn write_results_csv(rows: Vec<Bound<'_, PyDict>>, path: PathBuf) -> PyResult<()> {
    let rows: Vec<ResultRow> = rows.iter().map(dict_row).collect::<PyResult<_>>()?;
    aad_experiment::report::write_csv(&path, &rows).map_err(file)
}

/// A discovered, split dataset.
#[pyclass(module = "aad._native", name = "Plan", frozen)]
pub(crate) struct Plan {
    plan: aad_experiment::Plan,
}

#[pymethods]
impl Plan {
    /// Every clip to extract, once each, sorted.
    fn clips(&self) -> Vec<String> {
        self.plan
            .clips()
            .iter()
            .map(|c| c.path.display().to_string())
            .collect()
    }

    /// Files that are not clips, as (path, reason).
    fn skipped_files(&self) -> Vec<(String, String)> {
        texts(&self.plan.skipped_files)
    }

    /// Groups that cannot be split, as (group, reason).
    fn unsplittable(&self) -> Vec<(String, String)> {
        self.plan
            .report
            .unsplittable
            .iter()
            .map(|u| (u.key.to_string(), u.reason.clone()))
            .collect()
    }

    /// The usable groups given the clips that extracted (`readable`), as dicts (`name`,
    /// `snr`, `machine_type`, `machine_id`, `train` and `test` paths, `labels`,
    /// `train_domains`, and `contrast`: the other machine ids' training paths, one list
    /// per id, for the machine-ID classifier), and the
    /// groups left out, as (group, reason), followed by the files left out because
    /// another file holds the same audio, as (file, reason).
    fn groups<'py>(
        &self,
        py: Python<'py>,
        readable: Vec<String>,
    ) -> PyResult<GroupsAndSkipped<'py>> {
        // Duplicates are found by content, as `run` finds them: each readable file is
        // read once more here and hashed (XXH3, disk-bound).
        let hashes: std::collections::BTreeMap<PathBuf, u128> = py.detach(|| {
            use rayon::prelude::*;
            readable
                .into_par_iter()
                .map(PathBuf::from)
                .filter_map(|p| {
                    let bytes = std::fs::read(&p).ok()?;
                    Some((p, aad_experiment::cache::hash_bytes(&bytes)))
                })
                .collect()
        });
        let usable = aad_experiment::usable_groups(&self.plan.report, |p| hashes.get(p).copied());
        let groups = usable.groups;
        let mut skipped = texts(&usable.skipped);
        skipped.extend(texts(&usable.duplicates));
        let paths = |cs: &[aad_data::Clip]| -> Vec<String> {
            cs.iter().map(|c| c.path.display().to_string()).collect()
        };
        let dicts = groups
            .iter()
            .map(|g| {
                let d = PyDict::new(py);
                d.set_item("name", g.key.to_string())?;
                d.set_item("snr", g.key.snr_label())?;
                d.set_item("machine_type", &g.key.machine_type)?;
                d.set_item("machine_id", &g.key.machine_id)?;
                d.set_item("train", paths(&g.train))?;
                d.set_item("test", paths(&g.test))?;
                let labels: Vec<u8> = g
                    .test
                    .iter()
                    .map(|c| u8::from(c.label == Label::Anomalous))
                    .collect();
                d.set_item("labels", labels)?;
                let domains: Vec<usize> = g
                    .train
                    .iter()
                    .map(aad_experiment::group::domain_index)
                    .collect();
                d.set_item("train_domains", domains)?;
                let contrast: Vec<Vec<String>> = aad_experiment::contrast_files(&groups, &g.key)
                    .iter()
                    .map(|set| set.iter().map(|p| p.display().to_string()).collect())
                    .collect();
                d.set_item("contrast", contrast)?;
                Ok(d)
            })
            .collect::<PyResult<_>>()?;
        Ok((dicts, skipped))
    }
}

/// Decodes clips and computes the experiment's features.
#[pyclass(module = "aad._native", name = "ClipExtractor", frozen)]
pub(crate) struct ClipExtractor {
    fx: Mutex<aad_experiment::ClipExtractor>,
}

#[pymethods]
impl ClipExtractor {
    /// One frames x dims float32 array per configured feature.
    fn extract<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
    ) -> PyResult<Vec<Bound<'py, PyArray2<f32>>>> {
        let out = py
            .detach(|| {
                let mut fx = self
                    .fx
                    .lock()
                    .map_err(|_| "extractor poisoned".to_string())?;
                fx.extract(&path).map_err(|e| e.to_string())
            })
            .map_err(file)?;
        Ok(out.into_iter().map(|m| m.into_pyarray(py)).collect())
    }
}

/// Writes the synthetic MIMII-like dataset (fan and valve) into `out`.
#[pyfunction]
#[pyo3(signature = (out, seed, n_normal, n_abnormal, snrs_db, ids, duration_s))]
#[allow(clippy::too_many_arguments)]
fn generate_synthetic(
    py: Python<'_>,
    out: PathBuf,
    seed: u64,
    n_normal: usize,
    n_abnormal: usize,
    snrs_db: Vec<i32>,
    ids: Vec<u32>,
    duration_s: f64,
) -> PyResult<()> {
    let mut c = SyntheticConfig::tiny(seed);
    c.n_normal = n_normal;
    c.n_abnormal = n_abnormal;
    c.snrs_db = snrs_db;
    c.ids = ids;
    c.duration_s = duration_s;
    py.detach(|| aad_data::generate(&c, &out))
        .map(|_| ())
        .map_err(param)
}

/// (item, reason) pairs with the reason as its text, for Python.
fn texts<R: std::fmt::Display>(items: &[(String, R)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(i, r)| (i.clone(), r.to_string()))
        .collect()
}
