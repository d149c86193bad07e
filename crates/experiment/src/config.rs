//! What an experiment run is asked to do ([`ExperimentConfig`]), how it may fail as a
//! whole ([`ExperimentError`]), and where its feature cache lives by default.

use std::path::{Path, PathBuf};

use aad_audio::{ChannelPolicy, DecodeOptions};
use aad_data::{Snr, SyntheticConfig};

use crate::registry::{FeatureSpec, ModelSpec};

/// Why the experiment could not run at all (per-file and per-model problems are reported
/// and skipped instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExperimentError {
    /// A bad setting.
    #[error("invalid setting: {0}")]
    Config(String),
    /// A feature or detector name, or a feature's parameters.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// The dataset could not be read or generated.
    #[error(transparent)]
    Data(#[from] aad_data::DataError),
    /// An output could not be written.
    #[error(transparent)]
    Io(#[from] crate::io::IoError),
    /// Nothing to evaluate.
    #[error("nothing to evaluate: {0}")]
    Empty(String),
    /// The thread pool could not start.
    #[error("thread pool: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
}

/// Which SNR folders to keep.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SnrFilter {
    /// All of them (and data without SNR).
    #[default]
    All,
    /// These labels; `None` is data without SNR (`na`).
    Only(Vec<Option<Snr>>),
}

impl SnrFilter {
    /// Parses `all` or a comma list of labels (`-6dB`, `0_dB`, `-6_dB_fan`, `na`).
    ///
    /// # Errors
    /// A label that is not an SNR, or no label.
    pub fn parse(s: &str) -> Result<Self, aad_data::ParseError> {
        if s.trim() == "all" {
            return Ok(SnrFilter::All);
        }
        let labels: Result<Vec<_>, _> = s
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(aad_data::parse_snr_label)
            .collect();
        let labels = labels?;
        if labels.is_empty() {
            return Err(aad_data::ParseError::SnrLabel(s.to_string()));
        }
        Ok(SnrFilter::Only(labels))
    }

    pub(crate) fn keeps(&self, snr: Option<Snr>) -> bool {
        match self {
            SnrFilter::All => true,
            SnrFilter::Only(v) => v.contains(&snr),
        }
    }
}

impl std::fmt::Display for SnrFilter {
    /// `all`, or the labels as `--snr` takes them (`-6dB,na`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnrFilter::All => f.write_str("all"),
            SnrFilter::Only(v) => {
                let labels: Vec<String> = v
                    .iter()
                    .map(|s| s.map_or_else(|| "na".to_string(), |s| s.to_string()))
                    .collect();
                f.write_str(&labels.join(","))
            }
        }
    }
}

/// Everything a run needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExperimentConfig {
    /// Dataset root; `None` generates [`ExperimentConfig::synthetic`] into a temporary folder.
    pub data: Option<PathBuf>,
    /// The synthetic dataset used without `data`.
    pub synthetic: SyntheticConfig,
    /// Output folder.
    pub out: PathBuf,
    /// Feature cache folder (default [`default_cache_dir`]: shared by every run, outside
    /// the results).
    pub cache: Option<PathBuf>,
    /// Replace earlier results in `out` even when it holds files the experiment did not
    /// write (those are left alone; only the experiment's own outputs are removed).
    pub overwrite: bool,
    /// Machine types to keep (`None` = all found).
    pub machines: Option<Vec<String>>,
    /// SNRs to keep.
    pub snr: SnrFilter,
    /// Features, in report order.
    pub features: Vec<FeatureSpec>,
    /// Models, in report order.
    pub models: Vec<ModelSpec>,
    /// Seeds: every model is fitted once per seed.
    pub seeds: Vec<u64>,
    /// Overrides the autoencoder presets' epochs.
    pub epochs: Option<usize>,
    /// Channel policy for multi-channel files.
    pub channel: ChannelPolicy,
    /// Autoencoder training backend (`Candle` trains on a GPU when built with `cuda`).
    pub backend: aad_models::Backend,
    /// Required sample rate (files at another rate are skipped with an error).
    pub sample_rate: u32,
    /// Worker threads (0 = one per core).
    pub jobs: usize,
    /// Draw figures.
    pub figures: bool,
    /// Progress bars on stderr (hidden anyway when stderr is not a terminal).
    pub progress: bool,
    /// Also evaluate with `k`-fold cross-fitting of each group's normal clips and write
    /// `crossfit.csv` and `crossfit.md` (mean AUC per machine type with 95 % bootstrap
    /// intervals; see [`crossfit`](crate::crossfit)). `None`: only the split's protocol.
    pub crossfit: Option<usize>,
}

impl ExperimentConfig {
    /// The defaults of the `mimii_fan_valve` example: synthetic data, fan and valve, all
    /// SNRs, the seed's comparison ([`DEFAULT_FEATURES`](crate::registry::DEFAULT_FEATURES)
    /// x [`DEFAULT_MODELS`](crate::registry::DEFAULT_MODELS)), seeds 1, 2, 3, channel 0.
    ///
    /// # Panics
    /// Never: the default names are known.
    #[allow(clippy::expect_used)]
    pub fn new(out: impl Into<PathBuf>) -> Self {
        ExperimentConfig {
            data: None,
            synthetic: SyntheticConfig::default(),
            out: out.into(),
            cache: None,
            overwrite: false,
            machines: Some(vec!["fan".into(), "valve".into()]),
            snr: SnrFilter::All,
            features: FeatureSpec::parse_list(crate::registry::DEFAULT_FEATURES, 16_000)
                .expect("default features parse"),
            models: ModelSpec::parse_list(crate::registry::DEFAULT_MODELS)
                .expect("default models parse"),
            seeds: vec![1, 2, 3],
            epochs: None,
            channel: ChannelPolicy::First,
            backend: aad_models::Backend::Native,
            sample_rate: 16_000,
            jobs: 0,
            figures: true,
            progress: true,
            crossfit: None,
        }
    }

    /// How the run decodes files: its channel policy, its sample rate required, 0.5 s at least.
    pub fn decode_options(&self) -> DecodeOptions {
        DecodeOptions::default()
            .channel(self.channel)
            .expected_sample_rate(Some(self.sample_rate))
            .min_duration_s(0.5)
    }

    pub(crate) fn validate(&self) -> Result<(), ExperimentError> {
        let bad = |s: &str| Err(ExperimentError::Config(s.to_string()));
        if self.features.is_empty() {
            return bad("no features");
        }
        if self.models.is_empty() {
            return bad("no models");
        }
        if self.seeds.is_empty() {
            return bad("no seeds");
        }
        if self.epochs == Some(0) {
            return bad("--epochs must be >= 1");
        }
        if self.crossfit.is_some_and(|k| k < 2) {
            return bad("--crossfit needs at least 2 folds");
        }
        let mut seeds = self.seeds.clone();
        seeds.sort_unstable();
        seeds.dedup();
        if seeds.len() != self.seeds.len() {
            return bad("a seed is given twice");
        }
        for f in &self.features {
            if f.sample_rate() != self.sample_rate {
                return Err(ExperimentError::Config(format!(
                    "feature {} is planned for {} Hz, the run reads {} Hz",
                    f.name,
                    f.sample_rate(),
                    self.sample_rate
                )));
            }
        }
        Ok(())
    }
}

/// The feature cache when none is given: `$AAD_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/aad/features`, else `~/.cache/aad/features`, else `OUT/.cache`.
/// Entries are keyed by file content and feature parameters, so runs share it safely.
pub fn default_cache_dir(out: &Path) -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("AAD_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("aad").join("features")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("aad").join("features")))
        .unwrap_or_else(|| out.join(".cache"))
}
