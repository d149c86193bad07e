//! A deployable model: a feature, a fitted detector and a calibrated threshold in one
//! file, for "fit once on normal recordings, score new ones".
//!
//! [`Model::fit_files`] extracts the feature from normal clips, cross-fits the detector
//! (k folds: every training clip is scored by a model that did not see it), sets the
//! decision threshold on those held-out scores, then fits the final detector on all
//! clips. The file ([`Model::save`]) is one safetensors file written by
//! [`aad_models::AnyDetector::save_with`]: the detector's arrays as tensors, and in its
//! header the feature (name, sample rate and the full parameters with the feature
//! crate's algorithm version), the detector's registry name, the channel policy, the
//! threshold and how it was set, the held-out training scores, the training files with
//! their content hashes, and the versions that wrote it. [`Model::load`] refuses a file
//! whose feature parameters or algorithm version differ from this build's.
//!
//! ```
//! use aad_engine::model::{FitOptions, Model};
//! use aad_core::Signal;
//!
//! let tone = |f: f32, seed: u32| {
//!     let x = (0..16_000u32)
//!         .map(|i| {
//!             let n = (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 16) as f32 / 65_536.0;
//!             (i as f32 * f * std::f32::consts::TAU / 16_000.0).sin() * 0.1 + (n - 0.5) * 0.01
//!         })
//!         .collect();
//!     Signal::new(x, 16_000)
//! };
//! let normal: Vec<Signal> = (0..8).map(|s| tone(440.0, s)).collect::<Result<_, _>>()?;
//! let opts = FitOptions { detector: "knn".into(), ..FitOptions::default() };
//! let model = Model::fit_signals(&normal, &opts)?;
//! let hum = model.score_signal(&tone(1_000.0, 99)?)?;
//! let usual = model.score_signal(&tone(440.0, 99)?)?;
//! assert!(hum > usual && hum > model.threshold());
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("m.aadm");
//! model.save(&path)?;
//! let back = Model::load(&path)?;
//! assert_eq!(back.score_signal(&tone(1_000.0, 99)?)?, hum);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use aad_audio::{AudioError, ChannelPolicy, DecodeOptions};
use aad_core::{Detector, Signal};
use aad_models::{AnyDetector, ModelError, TrainingSet};
use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use thiserror::Error;

use crate::registry::{AnyExtractor, CheckedExtractError, FeatureSpec, ModelSpec, RegistryError};

/// Version of the model-file fields this build writes (the container's own version is
/// `aad_models::DETECTOR_FORMAT_VERSION`). 2: the feature key is [`FeatureSpec::key`];
/// files of format 1 (keyed by [`FeatureSpec::legacy_key`]) still load.
pub const MODEL_FORMAT_VERSION: u32 = 2;

/// Clips shorter than this (seconds) are refused by the experiment; the command scores
/// and fits them but warns: a fraction of a second holds too few frames for a stable
/// summary.
pub const SHORT_CLIP_S: f64 = 0.5;

/// Normal clips a model should be fitted on at least: the threshold rests on their
/// held-out scores. Fewer still fit (down to 4), with a warning.
pub const RECOMMENDED_CLIPS: usize = 20;

/// The default feature of `aad fit` (the DCASE 2020 baseline's 128-band log-Mel), chosen
/// with [`DEFAULT_DETECTOR`] by the protocol in `docs/cli.md`.
pub const DEFAULT_FEATURE: &str = "logmel_dcase";
/// The default detector of `aad fit`: kNN on each clip's time mean, standard deviation
/// and maximum per band, chosen by the protocol in `docs/cli.md`.
pub const DEFAULT_DETECTOR: &str = "knn_msm";

/// Errors of fitting, saving, loading and applying a model.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ModelFileError {
    /// A feature or detector name.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The detector: fitting, scoring, or its file.
    #[error(transparent)]
    Detector(#[from] ModelError),
    /// A file that cannot be decoded.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// The feature extractor rejected a signal.
    #[error("{path}: {reason}")]
    Feature {
        /// The file (`<signal>` for in-memory signals).
        path: PathBuf,
        /// The extractor's message.
        reason: String,
    },
    /// A model file this build cannot apply faithfully.
    #[error("{path}: {reason}")]
    Incompatible {
        /// The model file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A training file with the same content as an earlier one: counted once.
    #[error("{}: same content as {}; counted once", .path.display(), .first.display())]
    Duplicate {
        /// The repeated file.
        path: PathBuf,
        /// The file it repeats.
        first: PathBuf,
    },
    /// Too few clips to cross-fit.
    #[error("{got} usable normal clips; fitting needs at least {need}")]
    TooFewClips {
        /// Clips needed.
        need: usize,
        /// Clips given.
        got: usize,
        /// The files that were left out, each with why (for a caller to name them).
        left_out: Vec<(PathBuf, String)>,
    },
    /// A training clip at another sample rate than the model's.
    #[error(
        "{path}: sample rate {found} Hz; the model reads {expected} Hz (the rate most \
         training files have, unless one was chosen)"
    )]
    MixedRates {
        /// The odd file.
        path: PathBuf,
        /// The model's rate.
        expected: u32,
        /// This file's rate.
        found: u32,
    },
    /// The threshold rule failed on the training scores.
    #[error("threshold: {0}")]
    Threshold(#[from] aad_metrics::MetricsError),
    /// A bad option value.
    #[error("invalid {name} {value:?}: {reason}")]
    Option {
        /// The option.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        reason: &'static str,
    },
}

/// How the decision threshold is set from the held-out scores of the normal training
/// clips. A clip is anomalous when its score is strictly above the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThresholdRule {
    /// The `p` quantile of a gamma distribution fitted to the scores (the DCASE
    /// 2021+ baselines use p = 0.9).
    Gamma(f64),
    /// The empirical `q` quantile of the scores.
    Quantile(f64),
    /// The empirical `1 - fpr` quantile: about `fpr` of normal clips get flagged.
    TargetFpr(f64),
}

impl Default for ThresholdRule {
    fn default() -> Self {
        ThresholdRule::Gamma(0.9)
    }
}

impl std::fmt::Display for ThresholdRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ThresholdRule::Gamma(p) => write!(f, "gamma:{p}"),
            ThresholdRule::Quantile(q) => write!(f, "quantile:{q}"),
            ThresholdRule::TargetFpr(r) => write!(f, "target-fpr:{r}"),
        }
    }
}

impl std::str::FromStr for ThresholdRule {
    type Err = ModelFileError;

    /// `gamma:P`, `quantile:Q` or `target-fpr:R`, each in (0, 1).
    fn from_str(s: &str) -> Result<Self, ModelFileError> {
        let bad = |reason| ModelFileError::Option {
            name: "threshold",
            value: s.to_string(),
            reason,
        };
        let (kind, v) = s
            .split_once(':')
            .ok_or_else(|| bad("write gamma:P, quantile:Q or target-fpr:R"))?;
        let v: f64 = v.trim().parse().map_err(|_| bad("not a number"))?;
        if !(v > 0.0 && v < 1.0) {
            return Err(bad("must lie strictly between 0 and 1"));
        }
        match kind.trim() {
            "gamma" => Ok(ThresholdRule::Gamma(v)),
            "quantile" => Ok(ThresholdRule::Quantile(v)),
            "target-fpr" | "fpr" => Ok(ThresholdRule::TargetFpr(v)),
            _ => Err(bad("write gamma:P, quantile:Q or target-fpr:R")),
        }
    }
}

impl ThresholdRule {
    /// The threshold for `scores`. The gamma fit needs positive scores; for a detector
    /// whose scores can be negative it falls back to the empirical quantile, and the
    /// returned text says so.
    ///
    /// # Errors
    /// Too few or non-finite scores.
    pub fn apply(self, scores: &[f64]) -> Result<(f64, String), ModelFileError> {
        Ok(match self {
            ThresholdRule::Gamma(p) if scores.iter().all(|s| *s > 0.0) => (
                aad_metrics::threshold_gamma(scores, p)?,
                format!("gamma fit, {p} quantile"),
            ),
            ThresholdRule::Gamma(p) => (
                aad_metrics::threshold_quantile(scores, p)?,
                format!("empirical {p} quantile (scores not all positive, no gamma fit)"),
            ),
            ThresholdRule::Quantile(q) => (
                aad_metrics::threshold_quantile(scores, q)?,
                format!("empirical {q} quantile"),
            ),
            ThresholdRule::TargetFpr(r) => (
                aad_metrics::threshold_quantile(scores, 1.0 - r)?,
                format!(
                    "empirical {} quantile (target false-positive rate {r})",
                    1.0 - r
                ),
            ),
        })
    }
}

/// Options of [`Model::fit_files`].
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Feature name (see `aad list`).
    pub feature: String,
    /// Detector name (see `aad list`).
    pub detector: String,
    /// Seed of every random choice (folds, weights, subsampling).
    pub seed: u64,
    /// Channel of multi-channel files.
    pub channel: ChannelPolicy,
    /// Threshold rule.
    pub threshold: ThresholdRule,
    /// Cross-fitting folds (capped at the number of clips).
    pub folds: usize,
    /// Autoencoder epochs (`None`: the preset's).
    pub epochs: Option<usize>,
    /// Normal recordings of other machines of the same type, one list per machine:
    /// what the machine-ID classifier (`idclf`, `knn_idclf`) learns to tell this
    /// machine from. Other detectors ignore them.
    pub contrast: Vec<Vec<PathBuf>>,
    /// Threads an autoencoder trains on (1 by default; the fitted model does not depend
    /// on it). `aad fit` gives two.
    pub threads: usize,
    /// The sample rate the model reads (`None`: the rate most training files' headers
    /// announce; files at other rates are left out, each named).
    pub sample_rate: Option<u32>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            feature: DEFAULT_FEATURE.into(),
            detector: DEFAULT_DETECTOR.into(),
            seed: 1,
            channel: ChannelPolicy::First,
            threshold: ThresholdRule::default(),
            folds: 5,
            epochs: None,
            threads: 1,
            contrast: Vec::new(),
            sample_rate: None,
        }
    }
}

/// A training file as recorded in the model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainingFile {
    /// The path as given.
    pub path: String,
    /// XXH3-128 of its bytes, hex.
    pub xxh3_128: String,
    /// Its duration in seconds.
    pub seconds: f64,
}

/// The model file's own fields (the `extra` of the detector file), as written and read.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Header {
    /// [`MODEL_FORMAT_VERSION`] of the build that wrote it.
    aad_model: u32,
    written_by: String,
    feature: FeatureHeader,
    /// The detector's registry name.
    detector: String,
    /// [`ChannelPolicy::label`].
    channel: String,
    seed: u64,
    threshold: ThresholdHeader,
    training_scores: Vec<f64>,
    training_files: Vec<TrainingFile>,
    /// Format 1 files written before contrast sets existed have none.
    #[serde(default)]
    contrast_files: Vec<Vec<TrainingFile>>,
    /// An autoencoder's mean reconstruction error per frame on each feature row of its
    /// training clips (see [`Model::error_profile`]); absent for other detectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    error_profile: Vec<f64>,
    /// Per band of the explanations, the period the training clips' events repeat with,
    /// seconds (see [`Model::event_periods`]); absent for other detectors than a kNN on
    /// clip summaries, features without bands in dB and models written before it was
    /// recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    event_periods: Vec<Option<f64>>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct FeatureHeader {
    name: String,
    sample_rate: u32,
    /// [`FeatureSpec::key`] (format 1: [`FeatureSpec::legacy_key`]).
    key: String,
    context: usize,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ThresholdHeader {
    value: f64,
    rule: String,
    cross_fit_folds: usize,
}

/// Why a detector file's header is not a model this build reads.
#[derive(Debug, Error)]
enum HeaderError {
    #[error("a detector file but not an aad model (no model format version)")]
    NotAModel,
    #[error(
        "made by a newer version of aad (model format {found}; this build reads up to \
         {MODEL_FORMAT_VERSION}): update aad"
    )]
    Newer { found: u64 },
    #[error("made by an older version of aad (model format {found}: {source}): re-fit the model")]
    Older {
        found: u64,
        source: serde_json::Error,
    },
}

impl Header {
    /// The header of a detector file, checked to be a model this build reads.
    fn read(extra: Value) -> Result<Header, HeaderError> {
        match extra.get("aad_model").and_then(Value::as_u64) {
            None => Err(HeaderError::NotAModel),
            Some(found) if found > u64::from(MODEL_FORMAT_VERSION) => {
                Err(HeaderError::Newer { found })
            }
            Some(found) => {
                serde_json::from_value(extra).map_err(|source| HeaderError::Older { found, source })
            }
        }
    }
}

/// A feature, a fitted detector and a threshold.
#[derive(Debug, Clone)]
pub struct Model {
    feature: FeatureSpec,
    detector_name: String,
    detector: AnyDetector,
    channel: ChannelPolicy,
    threshold: f64,
    threshold_rule: String,
    training_scores: Vec<f64>,
    training_files: Vec<TrainingFile>,
    contrast_files: Vec<Vec<TrainingFile>>,
    seed: u64,
    folds: usize,
    error_profile: Vec<f64>,
    event_periods: Vec<Option<f64>>,
}

/// What a fit is made from: features of normal clips and, when they came from files,
/// the files.
struct Training {
    features: Vec<Array2<f32>>,
    files: Vec<TrainingFile>,
    /// Other machines' normal clips, one set per machine.
    contrast: Vec<Vec<Array2<f32>>>,
    contrast_files: Vec<Vec<TrainingFile>>,
}

/// What every fit of one `aad fit` shares: the detector, the other machines' clips, each
/// training clip's domain (empty for none) and the seed.
struct Fitting<'a> {
    config: &'a aad_models::DetectorConfig,
    contrast: &'a [Vec<ArrayView2<'a, f32>>],
    domains: &'a [usize],
    seed: u64,
}

impl Fitting<'_> {
    /// The detector fitted on the clips `idx` of `x`.
    fn on(&self, x: &[Array2<f32>], idx: &[usize]) -> Result<AnyDetector, ModelFileError> {
        let clips: Vec<ArrayView2<'_, f32>> = idx.iter().map(|&i| x[i].view()).collect();
        let domains: Vec<usize> = if self.domains.is_empty() {
            Vec::new()
        } else {
            idx.iter().map(|&i| self.domains[i]).collect()
        };
        Ok(self.config.adapted_to(&clips).fit_set(
            &TrainingSet::new(&clips)
                .with_domains(&domains)
                .with_contrast(self.contrast),
            self.seed,
            &mut (),
        )?)
    }

    /// Every clip's score by a detector fitted without its fold (clips dealt into
    /// `folds` seeded folds: clip i goes to fold `order[i] % folds`).
    fn cross_fitted(&self, x: &[Array2<f32>], folds: usize) -> Result<Vec<f64>, ModelFileError> {
        let n = x.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(self.seed));
        let mut scores = vec![0.0; n];
        for k in 0..folds {
            let fit_on: Vec<usize> = (0..n).filter(|&i| order[i] % folds != k).collect();
            let det = self.on(x, &fit_on)?;
            for i in (0..n).filter(|&i| order[i] % folds == k) {
                scores[i] = det.score(x[i].view())?;
            }
        }
        Ok(scores)
    }
}

/// Clips read from files, each file's hash recorded, repeats and failures set aside.
struct Read {
    features: Vec<Array2<f32>>,
    files: Vec<TrainingFile>,
    skipped: Vec<(PathBuf, ModelFileError)>,
}

impl Model {
    /// Fits on normal recordings: decodes every file (in parallel), extracts the
    /// feature, cross-fits, sets the threshold and fits the final detector. Files that
    /// cannot be used are returned beside the model, with why, and are not in it.
    ///
    /// # Errors
    /// An unknown feature or detector, fewer than 4 usable clips, clips at different
    /// sample rates, or a detector that fails to fit.
    pub fn fit_files<P: AsRef<Path> + Sync>(
        paths: &[P],
        opts: &FitOptions,
    ) -> Result<(Model, Vec<(PathBuf, ModelFileError)>), ModelFileError> {
        Self::fit_files_observed(paths, opts, &|| {})
    }

    /// [`fit_files`](Self::fit_files), calling `on_file` after each file is read (from
    /// any worker thread), for progress.
    ///
    /// # Errors
    /// As [`fit_files`](Self::fit_files).
    pub fn fit_files_observed<P: AsRef<Path> + Sync>(
        paths: &[P],
        opts: &FitOptions,
        on_file: &(dyn Fn() + Sync),
    ) -> Result<(Model, Vec<(PathBuf, ModelFileError)>), ModelFileError> {
        let rate = match opts.sample_rate {
            Some(r) => r,
            None => common_rate(paths).unwrap_or(DEFAULT_RATE),
        };
        let feature = FeatureSpec::parse(&opts.feature, rate)?;
        let decode = DecodeOptions::default()
            .channel(opts.channel)
            .expected_sample_rate(Some(rate));
        let fx = feature.extractor()?;
        let own = read_files(paths, &decode, &fx, on_file);
        let mut skipped = own.skipped;
        let mut training = Training {
            features: own.features,
            files: own.files,
            contrast: Vec::new(),
            contrast_files: Vec::new(),
        };
        let (contrast, contrast_files) =
            read_contrast(opts, &decode, &fx, on_file, &training.files, &mut skipped)?;
        training.contrast = contrast;
        training.contrast_files = contrast_files;
        let model = Self::fit_training(feature, training, opts).map_err(|e| match e {
            ModelFileError::TooFewClips { need, got, .. } => ModelFileError::TooFewClips {
                need,
                got,
                left_out: skipped
                    .iter()
                    .map(|(p, e)| (p.clone(), crate::batch::reason(p, e)))
                    .collect(),
            },
            other => other,
        })?;
        Ok((model, skipped))
    }

    /// Fits on normal signals already in memory (all at one sample rate).
    ///
    /// # Errors
    /// As [`fit_files`](Self::fit_files).
    pub fn fit_signals(signals: &[Signal], opts: &FitOptions) -> Result<Model, ModelFileError> {
        Self::fit_signals_contrast(signals, &[], opts)
    }

    /// [`fit_signals`](Self::fit_signals) with other machines' normal signals, one set
    /// per machine, for the machine-ID classifier (`opts.contrast` is not read).
    ///
    /// # Errors
    /// As [`fit_files`](Self::fit_files).
    pub fn fit_signals_contrast(
        signals: &[Signal],
        contrast: &[Vec<Signal>],
        opts: &FitOptions,
    ) -> Result<Model, ModelFileError> {
        let rate = signals.first().map_or(16_000, Signal::sample_rate);
        let feature = FeatureSpec::parse(&opts.feature, rate)?;
        let mut fx = feature.extractor()?;
        let mut all = |set: &[Signal]| {
            set.iter()
                .map(|s| extract(&mut fx, s, Path::new("<signal>")))
                .collect::<Result<Vec<_>, _>>()
        };
        let features = all(signals)?;
        let contrast = contrast
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| all(c))
            .collect::<Result<Vec<_>, _>>()?;
        Self::fit_training(
            feature,
            Training {
                features,
                files: Vec::new(),
                contrast,
                contrast_files: Vec::new(),
            },
            opts,
        )
    }

    fn fit_training(
        feature: FeatureSpec,
        t: Training,
        opts: &FitOptions,
    ) -> Result<Model, ModelFileError> {
        const MIN_CLIPS: usize = 4;
        let spec = ModelSpec::parse(&opts.detector)?;
        if t.features.len() < MIN_CLIPS {
            return Err(ModelFileError::TooFewClips {
                need: MIN_CLIPS,
                got: t.features.len(),
                left_out: Vec::new(),
            });
        }
        if opts.folds < 2 {
            return Err(ModelFileError::Option {
                name: "folds",
                value: opts.folds.to_string(),
                reason: "at least 2",
            });
        }
        let x = t.features;
        let config = spec
            .config(&feature, opts.epochs)
            .with_threads(opts.threads);
        if config.needs_contrast() && t.contrast.is_empty() {
            return Err(ModelFileError::Option {
                name: "contrast",
                value: opts.detector.clone(),
                reason: "this detector learns the machine against others of its type: give their normal recordings (--contrast DIR, once per machine)",
            });
        }
        let contrast: Vec<Vec<ArrayView2<'_, f32>>> = t
            .contrast
            .iter()
            .map(|c| c.iter().map(|m| m.view()).collect())
            .collect();
        let domains = file_domains(&t.files);
        let fit = Fitting {
            config: &config,
            contrast: &contrast,
            domains: &domains,
            seed: opts.seed,
        };
        let folds = opts.folds.min(x.len());
        let training_scores = fit.cross_fitted(&x, folds)?;
        let (threshold, threshold_rule) = opts.threshold.apply(&training_scores)?;
        let all: Vec<usize> = (0..x.len()).collect();
        let detector = fit.on(&x, &all)?;
        let error_profile = error_profile(&detector, &x)?;
        // Only the explanations of a kNN on clip summaries read a band's cycle.
        let event_periods = match &detector {
            AnyDetector::Knn(knn) if knn.breakdown_supported() => {
                crate::cycle::normal_periods(&feature, &x)
            }
            _ => Vec::new(),
        };
        Ok(Model {
            feature,
            detector_name: spec.name,
            detector,
            channel: opts.channel,
            threshold,
            threshold_rule,
            training_scores,
            training_files: t.files,
            contrast_files: t.contrast_files,
            seed: opts.seed,
            folds,
            error_profile,
            event_periods,
        })
    }

    /// For an autoencoder scored by its squared error: the mean reconstruction error per
    /// frame on each feature row over its training clips (what explanations compare a
    /// clip's errors with). Empty for other detectors, and for models written before it
    /// was recorded.
    pub fn error_profile(&self) -> &[f64] {
        &self.error_profile
    }

    /// Per band of the explanations (16 groups of the feature's rows), the period the
    /// training clips' events repeat with, seconds, where most of them repeat with about
    /// one period (a valve's clicks); `None` where they do not. An explanation fits a
    /// clip whose fault dropped most of its events to it, to find where they were due.
    /// Empty for a detector other than a kNN on clip summaries (the only explanations that
    /// read a band's cycle), a feature other than log-Mel in dB, and models written before
    /// it was recorded.
    pub fn event_periods(&self) -> &[Option<f64>] {
        &self.event_periods
    }

    /// The decision threshold: a score strictly above it is anomalous ([`decide`](Self::decide)).
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Whether a clip with this score is anomalous: strictly above the threshold. Every
    /// yes/no the command, Python and the study print comes from here.
    pub fn decide(&self, score: f64) -> bool {
        score > self.threshold
    }

    /// How the threshold was set, in words.
    pub fn threshold_rule(&self) -> &str {
        &self.threshold_rule
    }

    /// The held-out (cross-fitted) scores of the training clips.
    pub fn training_scores(&self) -> &[f64] {
        &self.training_scores
    }

    /// The training files with their content hashes (empty for in-memory fits).
    pub fn training_files(&self) -> &[TrainingFile] {
        &self.training_files
    }

    /// The other machines' recordings a machine-ID classifier was fitted against, one
    /// list per machine (empty for the other detectors).
    pub fn contrast_files(&self) -> &[Vec<TrainingFile>] {
        &self.contrast_files
    }

    /// The feature.
    pub fn feature(&self) -> &FeatureSpec {
        &self.feature
    }

    /// The detector's registry name.
    pub fn detector_name(&self) -> &str {
        &self.detector_name
    }

    /// The fitted detector.
    pub fn detector(&self) -> &AnyDetector {
        &self.detector
    }

    /// The sample rate the model's feature expects.
    pub fn sample_rate(&self) -> u32 {
        self.feature.sample_rate()
    }

    /// The channel policy the model was fitted with.
    pub fn channel(&self) -> ChannelPolicy {
        self.channel
    }

    /// Median duration of the training clips in seconds (`None` for in-memory fits).
    pub fn clip_seconds(&self) -> Option<f64> {
        let mut s: Vec<f64> = self.training_files.iter().map(|f| f.seconds).collect();
        if s.is_empty() {
            return None;
        }
        s.sort_by(f64::total_cmp);
        Some(s[s.len() / 2])
    }

    /// Decoding options matching the model: its channel policy and sample rate.
    pub fn decode_options(&self) -> DecodeOptions {
        DecodeOptions::default()
            .channel(self.channel)
            .expected_sample_rate(Some(self.sample_rate()))
    }

    /// A planned extractor of the model's feature (clone one per thread).
    ///
    /// # Errors
    /// The extractor rejects its configuration (not for a loaded model).
    pub fn extractor(&self) -> Result<AnyExtractor, ModelFileError> {
        Ok(self.feature.extractor()?)
    }

    /// The score of a clip's features (`frames x dims` of the model's feature).
    ///
    /// # Errors
    /// A clip too short for the detector's input, or a detector error.
    pub fn score_features(&self, features: ArrayView2<'_, f32>) -> Result<f64, ModelFileError> {
        Ok(self.detector.score(features)?)
    }

    /// The score of a signal, extracting with a fresh extractor (see
    /// [`score_signal_with`](Self::score_signal_with) to reuse one).
    ///
    /// # Errors
    /// As [`score_signal_with`](Self::score_signal_with).
    pub fn score_signal(&self, signal: &Signal) -> Result<f64, ModelFileError> {
        self.score_signal_with(&mut self.extractor()?, signal, Path::new("<signal>"))
    }

    /// The score of a signal with a planned extractor; `path` names it in errors.
    ///
    /// # Errors
    /// A signal at another sample rate, too short for one frame, or a detector error.
    pub fn score_signal_with(
        &self,
        fx: &mut AnyExtractor,
        signal: &Signal,
        path: &Path,
    ) -> Result<f64, ModelFileError> {
        let m = extract(fx, signal, path)?;
        self.score_features(m.view()).map_err(|e| match e {
            ModelFileError::Feature { reason, .. } => ModelFileError::Feature {
                path: path.to_path_buf(),
                reason,
            },
            ModelFileError::Detector(d) => ModelFileError::Feature {
                path: path.to_path_buf(),
                reason: d.to_string(),
            },
            other => other,
        })
    }

    /// Scores files in parallel, in input order; each file's own error on failure.
    ///
    /// # Errors
    /// The extractor cannot be planned (not for a loaded model).
    pub fn score_files<P: AsRef<Path> + Sync>(
        &self,
        paths: &[P],
    ) -> Result<Vec<Result<f64, ModelFileError>>, ModelFileError> {
        self.score_files_observed(paths, &|| {})
    }

    /// [`score_files`](Self::score_files), calling `on_file` after each file.
    ///
    /// # Errors
    /// As [`score_files`](Self::score_files).
    pub fn score_files_observed<P: AsRef<Path> + Sync>(
        &self,
        paths: &[P],
        on_file: &(dyn Fn() + Sync),
    ) -> Result<Vec<Result<f64, ModelFileError>>, ModelFileError> {
        let fx = self.extractor()?;
        let decode = self.decode_options();
        Ok(crate::batch::for_each_file(
            paths,
            &decode,
            || fx.clone(),
            |fx, file| {
                let _done = Done(on_file);
                let path = file.path().to_path_buf();
                let s = file.signal()?;
                self.score_signal_with(fx, s, &path)
            },
        ))
    }

    fn header(&self) -> Header {
        Header {
            aad_model: MODEL_FORMAT_VERSION,
            written_by: format!("aad-engine {}", env!("CARGO_PKG_VERSION")),
            feature: FeatureHeader {
                name: self.feature.name.clone(),
                sample_rate: self.feature.sample_rate(),
                key: self.feature.key(),
                context: self.feature.ae_context,
            },
            detector: self.detector_name.clone(),
            channel: self.channel.label(),
            seed: self.seed,
            threshold: ThresholdHeader {
                value: self.threshold,
                rule: self.threshold_rule.clone(),
                cross_fit_folds: self.folds,
            },
            training_scores: self.training_scores.clone(),
            training_files: self.training_files.clone(),
            contrast_files: self.contrast_files.clone(),
            error_profile: self.error_profile.clone(),
            event_periods: self.event_periods.clone(),
        }
    }

    /// Writes the model to one file, atomically.
    ///
    /// # Errors
    /// I/O failures, naming the file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelFileError> {
        let header =
            serde_json::to_value(self.header()).map_err(|e| ModelFileError::Incompatible {
                path: path.as_ref().to_path_buf(),
                reason: format!("model header: {e}"),
            })?;
        Ok(self.detector.save_with(path, &header)?)
    }

    /// Reads a model written by [`save`](Self::save), by this or an earlier release.
    ///
    /// # Errors
    /// An unreadable, truncated or edited file ([`ModelError`]); a detector file that is
    /// not a model, a model from another format version, or one whose feature this build
    /// computes differently ([`ModelFileError::Incompatible`], "re-fit"), each naming
    /// the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Model, ModelFileError> {
        let path = path.as_ref();
        let (mut detector, extra) = AnyDetector::load_with(path)?;
        let bad = |reason: String| ModelFileError::Incompatible {
            path: path.to_path_buf(),
            reason,
        };
        let header = Header::read(extra).map_err(|e| bad(e.to_string()))?;
        let f = &header.feature;
        let feature = FeatureSpec::parse(&f.name, f.sample_rate).map_err(|e| bad(e.to_string()))?;
        let key = match header.aad_model {
            1 => feature.legacy_key(),
            _ => feature.key(),
        };
        if f.key != key {
            return Err(bad(format!(
                "made with feature {} as [{}]; this build computes [{key}]: re-fit the model",
                f.name, f.key
            )));
        }
        let spec = ModelSpec::parse(&header.detector).map_err(|e| bad(e.to_string()))?;
        // Format 1 autoencoders were fitted on frames the model stacked before handing
        // them over; today the network stacks them itself.
        if header.aad_model == 1
            && spec.is_autoencoder()
            && let AnyDetector::Autoencoder(ae) = &mut detector
        {
            ae.stack_internally(feature.ae_context)?;
        }
        let channel: ChannelPolicy = header
            .channel
            .parse()
            .map_err(|e: aad_audio::ParseChannelError| bad(e.to_string()))?;
        if !header.threshold.value.is_finite() {
            return Err(bad(format!(
                "threshold {} is not finite",
                header.threshold.value
            )));
        }
        let model = Model {
            feature,
            detector_name: header.detector,
            detector,
            channel,
            threshold: header.threshold.value,
            threshold_rule: header.threshold.rule,
            training_scores: header.training_scores,
            training_files: header.training_files,
            contrast_files: header.contrast_files,
            seed: header.seed,
            folds: header.threshold.cross_fit_folds,
            error_profile: header.error_profile,
            event_periods: header.event_periods,
        };
        model.check_input_width().map_err(|e| bad(e.to_string()))?;
        Ok(model)
    }

    /// Whether the detector reads what the feature gives.
    fn check_input_width(&self) -> Result<(), WidthMismatch> {
        let (takes, gives) = (self.detector.input_dims(), self.feature.dims());
        if takes != gives {
            return Err(WidthMismatch {
                takes,
                gives,
                feature: self.feature.name.clone(),
            });
        }
        Ok(())
    }
}

/// The rate of [`Model::fit_files`] when no training file's header can be read (each
/// file's error is then reported as it is read).
const DEFAULT_RATE: u32 = 16_000;

/// The sample rate most of `paths` announce in their headers (WAV or FLAC); a tie goes to
/// the rate of the earlier file. `None` when no header can be read.
fn common_rate<P: AsRef<Path> + Sync>(paths: &[P]) -> Option<u32> {
    use rayon::prelude::*;
    let rates: Vec<Option<u32>> = paths
        .par_iter()
        .map(|p| aad_audio::probe(p).ok().map(|i| i.sample_rate))
        .collect();
    let mut counts: Vec<(u32, usize)> = Vec::new();
    for r in rates.into_iter().flatten() {
        match counts.iter_mut().find(|(rate, _)| *rate == r) {
            Some((_, n)) => *n += 1,
            None => counts.push((r, 1)),
        }
    }
    // `max_by_key` keeps the last of equal counts: search from the end for the first.
    counts.iter().rev().max_by_key(|(_, n)| *n).map(|&(r, _)| r)
}

/// A detector that does not read what its feature gives.
#[derive(Debug, Error)]
#[error("detector takes {takes} inputs, feature {feature} gives {gives}")]
struct WidthMismatch {
    takes: usize,
    gives: usize,
    feature: String,
}

/// Each training file's recording domain as the detectors number them (1 for a DCASE
/// 2021+ target-domain file name, else 0): a bank detector fits one bank per domain.
fn file_domains(files: &[TrainingFile]) -> Vec<usize> {
    files
        .iter()
        .map(|f| {
            usize::from(
                aad_core::Domain::of_file(Path::new(&f.path)) == Some(aad_core::Domain::Target),
            )
        })
        .collect()
}

/// The other machines' recordings of `opts.contrast`, one set per machine, read as the
/// training files are; a file whose content is also one of `own`'s is left out (it
/// would be taught as this machine and another), and unusable files join `skipped`.
///
/// # Errors
/// Contrast sets were given and none of their files is usable.
#[allow(clippy::type_complexity)]
fn read_contrast(
    opts: &FitOptions,
    decode: &DecodeOptions,
    fx: &AnyExtractor,
    on_file: &(dyn Fn() + Sync),
    own: &[TrainingFile],
    skipped: &mut Vec<(PathBuf, ModelFileError)>,
) -> Result<(Vec<Vec<Array2<f32>>>, Vec<Vec<TrainingFile>>), ModelFileError> {
    let own: std::collections::HashSet<&str> = own.iter().map(|f| f.xxh3_128.as_str()).collect();
    let before = skipped.len();
    let (mut sets, mut set_files) = (Vec::new(), Vec::new());
    for set in &opts.contrast {
        let r = read_files(set, decode, fx, on_file);
        skipped.extend(r.skipped);
        let (mut features, mut files) = (Vec::new(), Vec::new());
        for (m, f) in r.features.into_iter().zip(r.files) {
            if own.contains(f.xxh3_128.as_str()) {
                skipped.push((
                    PathBuf::from(&f.path),
                    ModelFileError::Option {
                        name: "contrast file",
                        value: f.path.clone(),
                        reason: "same content as a normal training file of this machine; left out of the contrast set",
                    },
                ));
            } else {
                features.push(m);
                files.push(f);
            }
        }
        if !features.is_empty() {
            sets.push(features);
            set_files.push(files);
        }
    }
    if !opts.contrast.is_empty() && sets.is_empty() {
        return Err(ModelFileError::Option {
            name: "contrast",
            value: skipped
                .get(before)
                .map(|(_, e)| e.to_string())
                .unwrap_or_default(),
            reason: "no contrast recording is usable: each was unreadable or the same content as a normal training file of this machine",
        });
    }
    Ok((sets, set_files))
}

/// Decodes and extracts `paths` in parallel; a file whose content repeats an earlier
/// one's is set aside (the same recording twice would sit in two folds at once).
fn read_files<P: AsRef<Path> + Sync>(
    paths: &[P],
    decode: &DecodeOptions,
    fx: &AnyExtractor,
    on_file: &(dyn Fn() + Sync),
) -> Read {
    let results: Vec<Result<(Array2<f32>, TrainingFile), ModelFileError>> =
        crate::batch::for_each_file(
            paths,
            decode,
            || fx.clone(),
            |fx, file| {
                let _done = Done(on_file);
                let hash = format!("{:032x}", file.hash()?);
                let path = file.path().to_path_buf();
                let signal = file.signal().map_err(|e| match e {
                    AudioError::SampleRateMismatch {
                        path,
                        expected,
                        found,
                    } => ModelFileError::MixedRates {
                        path,
                        expected,
                        found,
                    },
                    other => other.into(),
                })?;
                let m = extract(fx, signal, &path)?;
                let seconds = signal.len() as f64 / f64::from(signal.sample_rate());
                Ok((
                    m,
                    TrainingFile {
                        path: path.display().to_string(),
                        xxh3_128: hash,
                        seconds,
                    },
                ))
            },
        );
    let mut out = Read {
        features: Vec::new(),
        files: Vec::new(),
        skipped: Vec::new(),
    };
    let mut seen: std::collections::HashMap<String, PathBuf> = std::collections::HashMap::new();
    for (p, r) in paths.iter().zip(results) {
        match r {
            Ok((_, f)) if seen.contains_key(&f.xxh3_128) => out.skipped.push((
                p.as_ref().to_path_buf(),
                ModelFileError::Duplicate {
                    path: p.as_ref().to_path_buf(),
                    first: seen[&f.xxh3_128].clone(),
                },
            )),
            Ok((m, f)) => {
                seen.insert(f.xxh3_128.clone(), p.as_ref().to_path_buf());
                out.features.push(m);
                out.files.push(f);
            }
            Err(e) => out.skipped.push((p.as_ref().to_path_buf(), e)),
        }
    }
    out
}

/// [`Model::error_profile`] of a fitted detector on its training clips.
fn error_profile(detector: &AnyDetector, clips: &[Array2<f32>]) -> Result<Vec<f64>, ModelError> {
    let AnyDetector::Autoencoder(ae) = detector else {
        return Ok(Vec::new());
    };
    if !ae.breakdown_supported() {
        return Ok(Vec::new());
    }
    let mut sum = Vec::new();
    let mut frames = 0usize;
    for c in clips {
        let b = ae.breakdown(c.view())?;
        sum.resize(b.errors.ncols(), 0.0);
        for row in b.errors.rows() {
            sum.iter_mut().zip(row).for_each(|(s, e)| *s += e);
        }
        frames += b.errors.nrows();
    }
    Ok(sum.into_iter().map(|s| s / frames.max(1) as f64).collect())
}

/// Calls its function when dropped: once per file, whichever way the file's closure ends.
pub(crate) struct Done<'a>(pub(crate) &'a (dyn Fn() + Sync));

impl Drop for Done<'_> {
    fn drop(&mut self) {
        (self.0)();
    }
}

pub(crate) fn extract(
    fx: &mut AnyExtractor,
    s: &Signal,
    path: &Path,
) -> Result<Array2<f32>, ModelFileError> {
    let m = fx.extract_finite(s).map_err(|e| ModelFileError::Feature {
        path: path.to_path_buf(),
        reason: match e {
            CheckedExtractError::NotFinite { frame } => format!(
                "feature value not finite at frame {frame} (the audio has absurd sample values)"
            ),
            other => other.to_string(),
        },
    })?;
    if m.nrows() == 0 {
        return Err(ModelFileError::Feature {
            path: path.to_path_buf(),
            reason: "too short for one frame".into(),
        });
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_rules_parse_and_reject_bad_values() {
        assert_eq!(
            "quantile:0.99".parse::<ThresholdRule>().unwrap(),
            ThresholdRule::Quantile(0.99)
        );
        assert_eq!(
            "target-fpr:0.01".parse::<ThresholdRule>().unwrap(),
            ThresholdRule::TargetFpr(0.01)
        );
        assert!("gamma:1.5".parse::<ThresholdRule>().is_err());
        assert!("median".parse::<ThresholdRule>().is_err());
        let (t, how) = ThresholdRule::Gamma(0.9)
            .apply(&[-1.0, 0.0, 1.0, 2.0])
            .unwrap();
        assert!(how.contains("empirical"), "{how}");
        assert!(t > 1.0 && t <= 2.0);
    }

    fn header_json() -> Value {
        serde_json::json!({
            "aad_model": 2,
            "written_by": "aad-engine 0.1.0",
            "feature": {"name": "logmel_dcase", "sample_rate": 16000, "key": "k", "context": 5},
            "detector": "knn_msm",
            "channel": "0",
            "seed": 1,
            "threshold": {"value": 1.5, "rule": "gamma:0.9", "cross_fit_folds": 5},
            "training_scores": [1.0, 2.0],
            "training_files": [],
        })
    }

    #[test]
    fn a_header_is_read_with_every_field_or_refused_by_its_version() {
        let h = Header::read(header_json()).unwrap();
        assert_eq!((h.seed, h.threshold.cross_fit_folds), (1, 5));
        assert!(h.contrast_files.is_empty());
        let back = Header::read(serde_json::to_value(&h).unwrap()).unwrap();
        assert_eq!(back.feature.key, "k");

        // No field falls back to a default: a model without its seed is an older one.
        let mut old = header_json();
        old["aad_model"] = 1.into();
        old.as_object_mut().unwrap().remove("seed");
        let e = Header::read(old).unwrap_err().to_string();
        assert!(
            e.contains("older version") && e.contains("seed") && e.contains("re-fit"),
            "{e}"
        );

        let mut newer = header_json();
        newer["aad_model"] = (MODEL_FORMAT_VERSION + 1).into();
        let e = Header::read(newer).unwrap_err().to_string();
        assert!(
            e.contains("newer version") && e.contains("update aad"),
            "{e}"
        );

        let mut none = header_json();
        none.as_object_mut().unwrap().remove("aad_model");
        assert!(
            Header::read(none)
                .unwrap_err()
                .to_string()
                .contains("not an aad model")
        );
    }
}
