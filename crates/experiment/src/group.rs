//! One machine group's features and fits: loading a group's matrices from the feature
//! cache (with its domains and, for the machine-ID classifier, the other machines'
//! clips), fitting and scoring one feature × detector × seed, and the public stage
//! [`fit_score_group`] that runners which move features themselves call. The full run
//! ([`crate::pipeline`]) and the cross-fitted protocol ([`crate::crossfit`]) both fit
//! through `fit_score` here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use aad_audio::DecodeOptions;
use aad_core::{Detector, Label};
use aad_data::{Clip, GroupKey};
use aad_models::{EpochReport, TrainObserver, TrainingSet};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::cache::{ContentHash, FeatureCache, FeatureDir};
use crate::config::{ExperimentConfig, ExperimentError};
use crate::outcome::{Costs, GroupInfo, JobError, ResultRow};
use crate::registry::{AnyExtractor, CheckedExtractError, FeatureSpec, ModelSpec};

/// What the extraction stage leaves: every readable clip's content hash, whose features
/// are now in the cache.
pub(crate) struct Features {
    pub(crate) cache: FeatureCache,
    pub(crate) dirs: Vec<FeatureDir>,
    pub(crate) decode: DecodeOptions,
    /// Content hash of every readable clip.
    pub hashes: BTreeMap<PathBuf, ContentHash>,
    /// Decoding and extraction costs.
    pub costs: Costs,
    /// Clip × feature pairs read from the cache.
    pub hits: usize,
    /// Clip × feature pairs extracted.
    pub misses: usize,
}

/// Every model x seed of feature `fi`, in parallel, in (model, seed) order.
pub(crate) fn feature_jobs(
    cfg: &ExperimentConfig,
    fi: usize,
    run: impl Fn(usize, u64) -> Result<JobResult, GroupError> + Sync,
) -> Vec<(JobKey, Result<JobResult, GroupError>)> {
    let keys: Vec<JobKey> = (0..cfg.models.len())
        .flat_map(|mi| cfg.seeds.iter().map(move |&seed| (fi, mi, seed)))
        .collect();
    let results: Vec<_> = keys
        .par_iter()
        .map(|&(_, mi, seed)| run(mi, seed))
        .collect();
    keys.into_iter().zip(results).collect()
}

/// The `results.csv` line of one job.
pub(crate) fn result_row(
    key: &GroupKey,
    n_train: usize,
    f: &FeatureSpec,
    m: &ModelSpec,
    seed: u64,
    j: &JobResult,
    labels: &[Label],
) -> ResultRow {
    ResultRow {
        snr: key.snr_label(),
        machine_type: key.machine_type.clone(),
        machine_id: key.machine_id.clone(),
        feature: f.name.clone(),
        model: m.name.clone(),
        seed,
        n_train,
        n_test_normal: labels.len() - j.n_abnormal,
        n_test_abnormal: j.n_abnormal,
        auc: j.auc,
        pauc: j.pauc,
    }
}

/// What fitting and scoring one group needs besides its features: a [`GroupInfo`]
/// without the clips, small enough to ship to another process.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupJob {
    /// The machine.
    pub key: GroupKey,
    /// Training clips.
    pub n_train: usize,
    /// Test clips' labels, in order.
    pub labels: Vec<Label>,
    /// Each training clip's recording domain as the detectors number them (0 source or
    /// none, 1 target; see [`domain_index`]), in order; empty for data without domains.
    /// A bank detector (`knn_domains`) fits one bank per domain from it.
    pub train_domains: Vec<usize>,
}

impl From<&GroupInfo> for GroupJob {
    fn from(g: &GroupInfo) -> Self {
        GroupJob {
            key: g.key.clone(),
            n_train: g.train.len(),
            labels: g.test.iter().map(|c| c.label).collect(),
            train_domains: g.train.iter().map(domain_index).collect(),
        }
    }
}

/// One feature's matrices of a group: (training clips, test clips).
pub type TrainTest = (Vec<Array2<f32>>, Vec<Array2<f32>>);

/// One feature's contrast sets of a group: one list of matrices per other machine id.
pub type ContrastSets = Vec<Vec<Array2<f32>>>;

/// What [`fit_score_group`] gives: the group's rows in job order (feature, model, seed:
/// the order of `results.csv`), and the jobs that failed, in words.
#[derive(Debug, Clone, Default)]
pub struct GroupRows {
    /// One row per job that ran.
    pub rows: Vec<ResultRow>,
    /// The jobs that failed (`group / feature / model / seed N: why` as text).
    pub failures: Vec<JobError>,
}

/// Fits and scores every feature × model × seed of one group from features in memory:
/// the fit stage for runners that move features themselves (the Ray example of the Python
/// module). `features[i]` holds `cfg.features[i]`'s matrices (frames × dims) for
/// the group's training and test clips, in their order. Jobs run in the current rayon pool; the rows
/// equal [`run`](crate::run)'s for the same configuration, whatever the thread count (every fit is
/// seeded and single-threaded).
///
/// A group alone does not hold the other machine ids' clips: the machine-ID classifier's
/// jobs (`idclf`, `knn_idclf`) fail, saying so; [`fit_score_group_with_contrast`] gives
/// them their contrast sets.
///
/// # Errors
/// `features` does not hold one pair per configured feature, or a pair's lengths differ
/// from the group's clip counts.
pub fn fit_score_group(
    cfg: &ExperimentConfig,
    g: &GroupJob,
    features: Vec<TrainTest>,
) -> Result<GroupRows, ExperimentError> {
    fit_score_group_with_contrast(cfg, g, features, Vec::new())
}

/// [`fit_score_group`] with the contrast sets the machine-ID classifier learns against:
/// `contrast[i]` holds, for `cfg.features[i]`, one set of matrices per other machine id,
/// the training clips that [`contrast_files`] lists, in that order. Empty: no contrast
/// (the classifier's jobs fail, saying so). With them, the rows equal [`run`](crate::run)'s
/// for every detector.
///
/// # Errors
/// As [`fit_score_group`]; `contrast` neither empty nor one entry per configured feature.
pub fn fit_score_group_with_contrast(
    cfg: &ExperimentConfig,
    g: &GroupJob,
    features: Vec<TrainTest>,
    contrast: Vec<ContrastSets>,
) -> Result<GroupRows, ExperimentError> {
    check_group_inputs(cfg, g, &features, &contrast)?;
    let mut contrast = contrast.into_iter();
    let labels = &g.labels;
    let mut out = GroupRows::default();
    for (fi, (f, (train, test))) in cfg.features.iter().zip(features).enumerate() {
        // Taken for every feature, so a feature that fails below does not shift the
        // next one's sets.
        let sets = contrast.next();
        let x = match GroupFeatures::new(train, test, f, &cfg.models) {
            Ok(mut x) => {
                x.train_domains.clone_from(&g.train_domains);
                if let Some(sets) = sets {
                    x.contrast = sets.into();
                }
                x
            }
            Err(why) => {
                out.failures.push(JobError::Features {
                    group: g.key.to_string(),
                    feature: f.name.clone(),
                    reason: why.to_string(),
                });
                continue;
            }
        };
        let jobs = feature_jobs(cfg, fi, |mi, seed| {
            run_job(f, &cfg.models[mi], seed, cfg, &x, labels, &mut ())
        });
        for ((_, mi, seed), r) in jobs {
            let m = &cfg.models[mi];
            match r {
                Ok(j) => out
                    .rows
                    .push(result_row(&g.key, g.n_train, f, m, seed, &j, labels)),
                Err(reason) => out
                    .failures
                    .push(JobError::job(&g.key, &f.name, &m.name, seed, &reason)),
            }
        }
    }
    Ok(out)
}

/// The shapes [`fit_score_group_with_contrast`] needs: one entry per configured feature
/// (contrast: or none), each with the group's clip counts, and a domain per training clip
/// when domains are given.
fn check_group_inputs(
    cfg: &ExperimentConfig,
    g: &GroupJob,
    features: &[TrainTest],
    contrast: &[ContrastSets],
) -> Result<(), ExperimentError> {
    if !contrast.is_empty() && contrast.len() != cfg.features.len() {
        return Err(ExperimentError::Config(format!(
            "{} contrast sets given for {} configured features",
            contrast.len(),
            cfg.features.len()
        )));
    }
    if features.len() != cfg.features.len() {
        return Err(ExperimentError::Config(format!(
            "{} feature sets given for {} configured features",
            features.len(),
            cfg.features.len()
        )));
    }
    if let Some((tr, te)) = features
        .iter()
        .find(|(tr, te)| tr.len() != g.n_train || te.len() != g.labels.len())
    {
        return Err(ExperimentError::Config(format!(
            "group {}: {} + {} feature matrices for {} training and {} test clips",
            g.key,
            tr.len(),
            te.len(),
            g.n_train,
            g.labels.len()
        )));
    }
    if !g.train_domains.is_empty() && g.train_domains.len() != g.n_train {
        return Err(ExperimentError::Config(format!(
            "group {}: {} training domains for {} training clips",
            g.key,
            g.train_domains.len(),
            g.n_train
        )));
    }
    Ok(())
}

/// Why a clip gave no features.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClipError {
    /// It could not be read or decoded.
    #[error(transparent)]
    Audio(#[from] aad_audio::AudioError),
    /// A feature extractor refused it.
    #[error("{}: {reason}", .path.display())]
    Feature {
        /// The file.
        path: PathBuf,
        /// The extractor's words.
        reason: String,
    },
    /// A feature value came out NaN or infinite.
    #[error("{}: feature value not finite at frame {frame}", .path.display())]
    NotFinite {
        /// The file.
        path: PathBuf,
        /// The first frame holding one.
        frame: usize,
    },
}

/// One feature of a decoded clip, refused when a value is not finite.
pub(crate) fn checked_extract(
    fx: &mut AnyExtractor,
    signal: &aad_core::Signal,
    path: &Path,
) -> Result<Array2<f32>, ClipError> {
    fx.extract_finite(signal).map_err(|e| match e {
        CheckedExtractError::NotFinite { frame } => ClipError::NotFinite {
            path: path.to_path_buf(),
            frame,
        },
        CheckedExtractError::Extract(e) => ClipError::Feature {
            path: path.to_path_buf(),
            reason: e.to_string(),
        },
    })
}

/// Why a group's features could not be prepared, or one of its jobs failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// A clip of the group was not in the extraction stage's output.
    #[error("{}: not extracted", .0.display())]
    NotExtracted(PathBuf),
    /// A clip could not be decoded again to repair its cache entry.
    #[error(transparent)]
    Audio(#[from] aad_audio::AudioError),
    /// A feature could not be planned.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// A clip's feature failed or was not finite.
    #[error(transparent)]
    Clip(#[from] ClipError),
    /// A repaired cache entry could not be written.
    #[error(transparent)]
    Cache(#[from] crate::io::IoError),
    /// Frames could not be stacked (a clip shorter than the context).
    #[error(transparent)]
    Stack(#[from] aad_core::CoreError),
    /// The detector failed to fit or score.
    #[error(transparent)]
    Model(#[from] aad_models::ModelError),
    /// The AUC could not be computed.
    #[error(transparent)]
    Metrics(#[from] aad_metrics::MetricsError),
    /// Too few clips of a class to cross-fit.
    #[error(
        "{normal} normal and {anomalous} anomalous clips: cross-fitting needs 2 normal and 1 anomalous"
    )]
    TooFewForCrossFitting {
        /// Normal clips.
        normal: usize,
        /// Anomalous clips.
        anomalous: usize,
    },
}

/// One feature's matrices for one group, as frames (an autoencoder stacks them itself,
/// one clip at a time).
pub(crate) struct GroupFeatures {
    pub(crate) train: Vec<Array2<f32>>,
    pub(crate) test: Vec<Array2<f32>>,
    /// Other machines' training clips, for the detectors that need them.
    pub(crate) contrast: Contrast,
    /// The recording domain of each training clip (0 source or none, 1 target).
    pub(crate) train_domains: Vec<usize>,
}

/// One clip's matrix of feature `fi`: from the cache, or extracted again when its entry
/// is damaged or gone.
fn load_clip(
    c: &Clip,
    f: &FeatureSpec,
    fi: usize,
    features: &Features,
) -> Result<Array2<f32>, GroupError> {
    let (dir, cache) = (&features.dirs[fi], &features.cache);
    let h = features
        .hashes
        .get(&c.path)
        .ok_or_else(|| GroupError::NotExtracted(c.path.clone()))?;
    let entry = cache.entry(dir, *h);
    if let Some(m) = cache.load(&entry) {
        return Ok(m);
    }
    // A damaged or vanished entry (lost in a power cut, deleted meanwhile): extract
    // again rather than fail the group.
    let signal = aad_audio::decode_file(&c.path, &features.decode)?;
    let mut fx = f.extractor()?;
    // The checks of the extraction stage: a repaired entry is held to the same rules.
    let m = checked_extract(&mut fx, &signal, &c.path)?;
    cache.store(&entry, m.view())?;
    Ok(m)
}

pub(crate) fn load_group_features(
    g: &GroupInfo,
    f: &FeatureSpec,
    fi: usize,
    features: &Features,
    models: &[ModelSpec],
) -> Result<GroupFeatures, GroupError> {
    let load = |c: &Clip| load_clip(c, f, fi, features);
    let train: Vec<Array2<f32>> = g.train.iter().map(load).collect::<Result<_, _>>()?;
    let test: Vec<Array2<f32>> = g.test.iter().map(load).collect::<Result<_, _>>()?;
    let mut x = GroupFeatures::new(train, test, f, models)?;
    x.train_domains = g.train.iter().map(domain_index).collect();
    Ok(x)
}

/// A clip's domain as the detectors number them: 0 for the source domain (and for data
/// without domains), 1 for the target domain.
pub fn domain_index(c: &Clip) -> usize {
    usize::from(c.domain == Some(aad_data::Domain::Target))
}

/// The groups whose training clips are group `g`'s contrast sets (the machine-ID
/// classifier learns against them): every other machine id of the same SNR and machine
/// type, in `groups`' order.
fn contrast_groups<'a>(
    groups: &'a [GroupInfo],
    g: &'a GroupKey,
) -> impl Iterator<Item = &'a GroupInfo> + 'a {
    groups.iter().filter(move |o| {
        o.key.snr == g.snr
            && o.key.machine_type == g.machine_type
            && o.key.machine_id != g.machine_id
    })
}

/// The files of group `g`'s contrast sets, one list per other machine id of the same
/// SNR and machine type (the usable `groups` of a run, in order): what a runner that
/// moves features itself extracts and hands to [`fit_score_group_with_contrast`].
pub fn contrast_files(groups: &[GroupInfo], g: &GroupKey) -> Vec<Vec<PathBuf>> {
    contrast_groups(groups, g)
        .map(|o| o.train.iter().map(|c| c.path.clone()).collect())
        .collect()
}

/// The contrast sets of group `g` for feature `fi`, when a model needs them (the
/// machine-ID classifier): the training clips of [`contrast_groups`], one set per id.
/// Empty when no model needs them.
pub(crate) fn load_contrast(
    groups: &[GroupInfo],
    g: &GroupInfo,
    f: &FeatureSpec,
    fi: usize,
    features: &Features,
    models: &[ModelSpec],
) -> Result<Contrast, GroupError> {
    if !models.iter().any(ModelSpec::needs_contrast) {
        return Ok(Contrast::default());
    }
    let sets = contrast_groups(groups, &g.key)
        .map(|o| {
            o.train
                .iter()
                .map(|c| load_clip(c, f, fi, features))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sets.into())
}

/// Other machines' normal training clips, one set per machine, shared by every job
/// (and every cross-fitting fold) of a group.
pub(crate) type Contrast = std::sync::Arc<[Vec<Array2<f32>>]>;

impl GroupFeatures {
    /// One feature's matrices of a group. A clip too short for an autoencoder's context
    /// fails the feature for the whole group when one of `models` is an autoencoder.
    pub(crate) fn new(
        train: Vec<Array2<f32>>,
        test: Vec<Array2<f32>>,
        f: &FeatureSpec,
        models: &[ModelSpec],
    ) -> Result<GroupFeatures, GroupError> {
        if models.iter().any(ModelSpec::is_autoencoder)
            && let Some(m) = train.iter().chain(&test).find(|m| m.nrows() < f.ae_context)
        {
            aad_core::ops::stack_frames(m.view(), f.ae_context)?;
        }
        Ok(GroupFeatures {
            train,
            test,
            contrast: Contrast::default(),
            train_domains: Vec::new(),
        })
    }
}

pub(crate) type JobKey = (usize, usize, u64);

pub(crate) struct JobResult {
    pub(crate) scores: Vec<f64>,
    pub(crate) n_abnormal: usize,
    pub(crate) auc: f64,
    pub(crate) pauc: f64,
    pub(crate) history: Vec<EpochReport>,
    pub(crate) fit_s: f64,
    pub(crate) score_s: f64,
    pub(crate) train_vectors: usize,
}

fn views(v: &[Array2<f32>]) -> Vec<ArrayView2<'_, f32>> {
    v.iter().map(|m| m.view()).collect()
}

pub(crate) fn run_job(
    f: &FeatureSpec,
    m: &ModelSpec,
    seed: u64,
    run: &ExperimentConfig,
    x: &GroupFeatures,
    labels: &[Label],
    obs: &mut dyn TrainObserver,
) -> Result<JobResult, GroupError> {
    let fitted = fit_score(f, m, seed, run, x, obs)?;
    let scores = fitted.scores;
    let auc = aad_metrics::roc_auc(&scores, labels)?;
    let pauc = aad_metrics::partial_auc(&scores, labels, 0.1)?;
    Ok(JobResult {
        n_abnormal: labels.iter().filter(|l| **l == Label::Anomalous).count(),
        scores,
        auc,
        pauc,
        history: fitted.history,
        fit_s: fitted.fit_s,
        score_s: fitted.score_s,
        train_vectors: fitted.train_vectors,
    })
}

/// What fitting a model on a group's training clips and scoring its test clips gave.
pub(crate) struct Fitted {
    pub scores: Vec<f64>,
    history: Vec<EpochReport>,
    fit_s: f64,
    score_s: f64,
    train_vectors: usize,
}

/// Fits `m` on `x`'s training clips and scores `x`'s test clips.
pub(crate) fn fit_score(
    f: &FeatureSpec,
    m: &ModelSpec,
    seed: u64,
    run: &ExperimentConfig,
    x: &GroupFeatures,
    obs: &mut dyn TrainObserver,
) -> Result<Fitted, GroupError> {
    let train = views(&x.train);
    let mut cfg = m.config(f, run.epochs).adapted_to(&train);
    // The vectors it trains on: an autoencoder's are its stacked frames.
    let n_vectors: usize = match &cfg {
        aad_models::DetectorConfig::Autoencoder(c) => train
            .iter()
            .map(|v| aad_core::ops::stacked_len(v.nrows(), c.context))
            .sum(),
        _ => train.iter().map(|v| v.nrows()).sum(),
    };
    if let aad_models::DetectorConfig::Autoencoder(c) = &mut cfg {
        *c = c.clone().backend(run.backend);
    }
    let t = Instant::now();
    let contrast: Vec<Vec<ArrayView2<'_, f32>>> = x.contrast.iter().map(|c| views(c)).collect();
    let det = cfg.fit_set(
        &TrainingSet::new(&train)
            .with_domains(&x.train_domains)
            .with_contrast(&contrast),
        seed,
        obs,
    )?;
    let fit_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let scores = det.score_batch(&views(&x.test))?;
    let score_s = t.elapsed().as_secs_f64();
    let history = match &det {
        aad_models::AnyDetector::Autoencoder(a) => a.history().to_vec(),
        _ => Vec::new(),
    };
    let train_vectors = match &cfg {
        aad_models::DetectorConfig::Autoencoder(c) => {
            ((n_vectors as f64) * (1.0 - c.validation_split)) as usize
        }
        _ => n_vectors,
    };
    Ok(Fitted {
        scores,
        history,
        fit_s,
        score_s,
        train_vectors,
    })
}
