//! What a run produced: result rows, the groups evaluated, what was left out, stage
//! times and costs ([`Outcome`]). Plain data, read by the reports and the figures.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aad_core::Label;
use aad_data::{Clip, GroupKey, Protocol};
use aad_models::EpochReport;

/// One line of `results.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// `-6dB`, `0dB`, `6dB`, or `na` for data without SNR.
    pub snr: String,
    /// Machine type.
    pub machine_type: String,
    /// Machine id (`id_00`) or DCASE 2021+ section (`section_00`).
    pub machine_id: String,
    /// Feature name.
    pub feature: String,
    /// Model name.
    pub model: String,
    /// Seed.
    pub seed: u64,
    /// Training clips.
    pub n_train: usize,
    /// Normal test clips.
    pub n_test_normal: usize,
    /// Anomalous test clips.
    pub n_test_abnormal: usize,
    /// ROC AUC (as scikit-learn).
    pub auc: f64,
    /// McClish-standardised partial AUC at FPR 0.1 (as scikit-learn's `max_fpr=0.1`).
    pub pauc: f64,
}

/// A group's train/test clips after dropping unreadable files.
#[derive(Debug, Clone)]
pub struct GroupInfo {
    /// The machine.
    pub key: GroupKey,
    /// The protocol applied.
    pub protocol: Protocol,
    /// Training clips.
    pub train: Vec<Clip>,
    /// Test clips.
    pub test: Vec<Clip>,
}

/// Scores and training curves kept for the figures (first seed only).
#[derive(Debug, Clone)]
pub struct FigureData {
    /// Group index in [`Outcome::groups`].
    pub group: usize,
    /// Feature name.
    pub feature: String,
    /// Model name.
    pub model: String,
    /// Test scores.
    pub scores: Vec<f64>,
    /// Test labels.
    pub labels: Vec<Label>,
    /// Autoencoder losses per epoch.
    pub history: Vec<EpochReport>,
}

/// Wall time, CPU time and memory of one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageTime {
    /// Stage name.
    pub stage: &'static str,
    /// Wall seconds.
    pub seconds: f64,
    /// CPU seconds of the whole process (user + system, all threads) during the stage;
    /// `None` where the platform does not say (non-Unix).
    pub cpu_seconds: Option<f64>,
    /// The process's peak resident memory in bytes when the stage ended (a running
    /// maximum since the process started); `None` where the platform does not say.
    pub peak_rss_bytes: Option<u64>,
}

/// The process's CPU seconds so far and its peak resident memory in bytes.
#[cfg(unix)]
pub(crate) fn process_usage() -> Option<(f64, u64)> {
    use nix::sys::resource::{UsageWho, getrusage};
    let u = getrusage(UsageWho::RUSAGE_SELF).ok()?;
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6;
    let rss = u64::try_from(u.max_rss()).ok()?;
    // Linux reports kilobytes, macOS bytes.
    let rss = if cfg!(target_os = "macos") {
        rss
    } else {
        rss * 1024
    };
    Some((secs(u.user_time()) + secs(u.system_time()), rss))
}

#[cfg(not(unix))]
pub(crate) fn process_usage() -> Option<(f64, u64)> {
    None
}

/// When a stage started: wall clock and process CPU time.
#[derive(Clone, Copy)]
pub(crate) struct StageStart {
    pub(crate) wall: Instant,
    pub(crate) cpu: Option<f64>,
}

impl StageStart {
    pub(crate) fn now() -> StageStart {
        StageStart {
            wall: Instant::now(),
            cpu: process_usage().map(|u| u.0),
        }
    }
}

/// Summed thread time of the work inside the stages, for cost estimates.
#[derive(Debug, Clone, Default)]
pub struct Costs {
    /// Decoding: total seconds and files decoded.
    pub decode: (f64, usize),
    /// Per feature: total extraction seconds and clips extracted (cache misses).
    pub extract: BTreeMap<String, (f64, usize)>,
    /// Per model: total fit seconds and fits.
    pub fit: BTreeMap<String, (f64, usize)>,
    /// Per model: total scoring seconds and clips scored.
    pub score: BTreeMap<String, (f64, usize)>,
    /// Per (feature, model) autoencoder: epoch seconds, epochs and training vectors per epoch summed.
    pub ae_epochs: BTreeMap<(String, String), AeCost>,
    /// Every job's own times, in the order of `results.csv` (`jobs.csv`): what a
    /// schedule for another number of workers can be replayed from
    /// (`scripts/bench/replay_schedule.py`).
    pub jobs: Vec<JobTime>,
}

/// One job's size and times.
#[derive(Debug, Clone, PartialEq)]
pub struct JobTime {
    /// The group (`-6dB/fan/id_00`).
    pub group: String,
    /// Feature name.
    pub feature: String,
    /// Model name.
    pub model: String,
    /// Seed.
    pub seed: u64,
    /// Training clips.
    pub train_clips: usize,
    /// Vectors the detector trained on (autoencoders; 0 when not recorded).
    pub train_vectors: usize,
    /// Epochs trained (autoencoders; 0 for the others).
    pub epochs: usize,
    /// Fit seconds (thread time of the job).
    pub fit_s: f64,
    /// Scoring seconds.
    pub score_s: f64,
}

/// Autoencoder training cost.
#[derive(Debug, Clone, Copy, Default)]
pub struct AeCost {
    /// Seconds in epochs.
    pub seconds: f64,
    /// Epochs run.
    pub epochs: usize,
    /// Training vectors × epochs.
    pub vector_epochs: f64,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Dataset root (a temporary folder, now deleted, for synthetic data).
    pub root: PathBuf,
    /// Whether the data was generated.
    pub synthetic: bool,
    /// Clips found by discovery before filtering.
    pub clips_found: usize,
    /// Evaluated groups.
    pub groups: Vec<GroupInfo>,
    /// One row per group × feature × model × seed that ran.
    pub rows: Vec<ResultRow>,
    /// Files skipped, with the reason.
    pub skipped_files: Vec<(String, SkipReason)>,
    /// Groups skipped, with the reason.
    pub skipped_groups: Vec<(String, GroupSkipReason)>,
    /// Fits or scorings that failed (the rest of the grid went on).
    pub failures: Vec<JobError>,
    /// Cache hits and misses (clip × feature).
    pub cache_hits: usize,
    /// Cache misses.
    pub cache_misses: usize,
    /// Cache entries made from other content or for another feature (recomputed).
    pub cache_rejected: usize,
    /// Stage wall times.
    pub timings: Vec<StageTime>,
    /// Work costs.
    pub costs: Costs,
    /// Scores kept for figures.
    pub figure_data: Vec<FigureData>,
    /// Worker threads used.
    pub threads: usize,
    /// The cross-fitted protocol's results, when the run asked for it
    /// ([`ExperimentConfig::crossfit`](crate::config::ExperimentConfig::crossfit)).
    pub crossfit: Option<crate::heldout::CrossFit>,
}

/// Formats seconds for the timing table.
pub fn format_duration(s: f64) -> String {
    let d = Duration::from_secs_f64(s.max(0.0));
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Why a file was left out of a run. The text (`Display`) is what the reports print.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// Discovery could not place it (no layout fits its path, or a manifest row does
    /// not parse).
    #[error("{0}")]
    NotAClip(String),
    /// It could not be read or decoded, or a feature of it failed or was not finite.
    #[error("{0}")]
    Unreadable(String),
    /// Another file of its group holds the same audio and is kept.
    #[error("the same audio as {} (counted once)", .kept.display())]
    Duplicate {
        /// The copy kept.
        kept: PathBuf,
    },
    /// The same audio is filed as normal and as anomalous in its group: every copy is
    /// left out.
    #[error("the same audio as {} is labelled both normal and anomalous", .first.display())]
    ConflictingLabels {
        /// The first copy (by path).
        first: PathBuf,
    },
}

impl SkipReason {
    /// A stable one-word name of the reason (`results.json`'s `kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            SkipReason::NotAClip(_) => "not_a_clip",
            SkipReason::Unreadable(_) => "unreadable",
            SkipReason::Duplicate { .. } => "duplicate",
            SkipReason::ConflictingLabels { .. } => "conflicting_labels",
        }
    }
}

/// Why a machine group was left out of a run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupSkipReason {
    /// Too few clips to split (the split's own words).
    #[error("{0}")]
    TooSmall(String),
    /// None of its clips decoded.
    #[error("no readable clip")]
    NoReadableClip,
    /// Its readable clips alone are too few to split.
    #[error("with its readable clips: {0}")]
    TooSmallWhenReadable(String),
    /// No training clip decoded.
    #[error("no readable training clip")]
    NoReadableTrainingClip,
    /// The readable test clips hold one class only, so no AUC.
    #[error("the readable test clips are all of one class")]
    OneClassTest,
}

impl GroupSkipReason {
    /// A stable one-word name of the reason (`results.json`'s `kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            GroupSkipReason::TooSmall(_) => "too_small",
            GroupSkipReason::NoReadableClip => "no_readable_clip",
            GroupSkipReason::TooSmallWhenReadable(_) => "too_small_when_readable",
            GroupSkipReason::NoReadableTrainingClip => "no_readable_training_clip",
            GroupSkipReason::OneClassTest => "one_class_test",
        }
    }
}

/// A fit or scoring that failed; the rest of the grid went on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// A feature's matrices of a group could not be prepared (e.g. a clip too short to
    /// stack): every model of that feature skipped the group.
    #[error("{group} / {feature}: {reason}")]
    Features {
        /// The group (`6dB/fan/id_00`).
        group: String,
        /// The feature.
        feature: String,
        /// Why.
        reason: String,
    },
    /// One (model, seed) failed to fit or score.
    #[error("{group} / {feature} / {model} / seed {seed}: {reason}")]
    Job {
        /// The group.
        group: String,
        /// The feature.
        feature: String,
        /// The detector.
        model: String,
        /// The seed.
        seed: u64,
        /// Why.
        reason: String,
    },
}

impl JobError {
    /// One (model, seed) of `group` × `feature` failed, for the reasons `why` says (the
    /// reports keep its words).
    pub fn job(
        group: &GroupKey,
        feature: &str,
        model: &str,
        seed: u64,
        why: &impl std::fmt::Display,
    ) -> Self {
        JobError::Job {
            group: group.to_string(),
            feature: feature.to_string(),
            model: model.to_string(),
            seed,
            reason: why.to_string(),
        }
    }
}
