//! `aad experiment` (and the `mimii_fan_valve` example): the MIMII fan/valve study,
//! log-Mel vs CENS (and friends) under autoencoders and classical detectors, per SNR,
//! machine type and machine id, from audio to `results.csv`, `summary.md`,
//! `results.json` and `figures/`. The logic lives in `aad_experiment::pipeline`.

use std::path::PathBuf;

use aad_experiment::registry::{DEFAULT_FEATURES, DEFAULT_MODELS, FeatureSpec, ModelSpec};
use aad_experiment::{ExperimentConfig, SnrFilter, report};
use aad_models::Backend;

use crate::{CliError, EXIT_OK};

/// Unsupervised anomaly detection on MIMII / DCASE machine sounds: one model per
/// (SNR, machine type, machine id), trained on normal clips, scored on held-out clips.
///
/// Writes results.csv, summary.md, results.json and figures/ into --out. Feature and
/// detector names: `aad list`.
///
/// Example:
///   aad experiment --data MIMII --snr=-6dB --features logmel_mimii,cens --models ae,knn
#[derive(clap::Parser, Debug)]
#[command(
    version,
    verbatim_doc_comment,
    after_help = "Example:\n  aad experiment --data MIMII --snr=-6dB --features logmel_mimii,cens --models ae,knn"
)]
pub struct Args {
    /// Dataset root (MIMII, DCASE 2020 or DCASE 2021+ layout, or plain
    /// `<machine>/[train|test/]{normal,abnormal,ok,faulty,...}/` folders), or a manifest
    /// CSV (`file,machine_type,label[,machine_id,snr,split]`). Without it, synthetic
    /// machine sounds are generated into a temporary folder.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Output folder.
    #[arg(long, default_value = "mimii_fan_valve_results")]
    pub out: PathBuf,
    /// Feature cache folder [default: $AAD_CACHE_DIR, else ~/.cache/aad/features]; shared
    /// by runs (entries are keyed by file content and feature parameters).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Replace earlier results in OUT even when it holds other files (only the
    /// experiment's own outputs are removed). A folder holding only an earlier run's
    /// outputs is replaced without it.
    #[arg(long)]
    pub overwrite: bool,
    /// Machine types, comma separated, or `all`.
    #[arg(long, default_value = "fan,valve")]
    pub machines: String,
    /// `all`, or SNR labels (`-6dB`, `0dB`, `6dB`; `na` for data without SNR). Write
    /// `--snr=-6dB`.
    #[arg(long, default_value = "all", allow_hyphen_values = true)]
    pub snr: String,
    /// Features, comma separated, or `all` (generated from the registry).
    #[arg(long, default_value = DEFAULT_FEATURES, help = features_help())]
    pub features: String,
    /// Models, comma separated, or `all` (generated from the registry).
    #[arg(long, default_value = DEFAULT_MODELS, help = models_help())]
    pub models: String,
    /// Seeds, comma separated: every model is fitted once per seed.
    #[arg(long, default_value = "1,2,3")]
    pub seeds: String,
    /// Autoencoder epochs [default: each preset's, 50 or 100].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Channel of multi-channel files: an index, or `mean` (the seed averaged all 8).
    #[arg(long, default_value = "0")]
    pub channel: String,
    /// Autoencoder training: `native` (fast CPU engine) or `candle` (on the GPU when
    /// built with `--features cuda`, else candle's CPU backend).
    #[arg(long, default_value = "native")]
    pub backend: String,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Seed of the synthetic dataset.
    #[arg(long, default_value_t = 2024)]
    pub synthetic_seed: u64,
    /// Skip the figures.
    #[arg(long)]
    pub no_figures: bool,
    /// Also evaluate with K-fold cross-fitting of each machine id's normal clips (every
    /// normal clip becomes a test clip) and write crossfit.csv and crossfit.md: mean AUC
    /// per machine type with 95 % bootstrap intervals. Fits K models per job.
    #[arg(long, value_name = "K")]
    pub crossfit: Option<usize>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

/// The experiment configuration the arguments describe.
///
/// # Errors
/// A bad value (exit code 2), in words.
pub fn parse(a: Args) -> Result<ExperimentConfig, CliError> {
    parse_args(a).map_err(CliError::bad_input)
}

fn parse_args(a: Args) -> Result<ExperimentConfig, String> {
    let mut cfg = ExperimentConfig::new(a.out);
    cfg.data = a.data;
    cfg.cache = a.cache;
    cfg.overwrite = a.overwrite;
    cfg.synthetic.seed = a.synthetic_seed;
    cfg.machines = match a.machines.trim() {
        "all" => None,
        list => Some(
            list.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        ),
    };
    cfg.snr = SnrFilter::parse(&a.snr).map_err(|e| format!("--snr: {e}"))?;
    cfg.features =
        FeatureSpec::parse_list(&a.features, cfg.sample_rate).map_err(|e| e.to_string())?;
    cfg.models = ModelSpec::parse_list(&a.models).map_err(|e| e.to_string())?;
    cfg.seeds = a
        .seeds
        .split(',')
        .map(|s| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("--seeds: not a seed: {s:?}"))
        })
        .collect::<Result<_, _>>()?;
    cfg.epochs = a.epochs;
    cfg.channel = a.channel.parse().map_err(|e| format!("--channel: {e}"))?;
    cfg.backend = match a.backend.as_str() {
        "native" => Backend::Native,
        "candle" => Backend::Candle,
        other => return Err(format!("--backend must be native or candle, got {other:?}")),
    };
    cfg.jobs = a.jobs;
    cfg.figures = !a.no_figures;
    cfg.progress = !a.quiet;
    cfg.crossfit = a.crossfit;
    Ok(cfg)
}

fn features_help() -> String {
    format!(
        "Features, comma separated, or `all`: {} (`aad list` describes them)",
        aad_experiment::registry::feature_names()
    )
}

fn models_help() -> String {
    format!(
        "Models, comma separated, or `all`: {} (`aad list` describes them)",
        aad_experiment::registry::detector_names()
    )
}

/// Runs `aad experiment`.
///
/// # Errors
/// A bad setting (exit 2); a run that cannot complete (exit 1).
pub fn run(a: Args) -> Result<u8, CliError> {
    let quiet = a.quiet;
    let cfg = parse(a)?;
    let ui = crate::progress::experiment_progress(crate::progress::Mode::detect(quiet));
    let o = aad_experiment::run_with(&cfg, &*ui).map_err(CliError::failed)?;
    println!("{}", report::summary(&cfg, &o));
    println!(
        "wrote {}/{{results.csv,summary.md,results.json{}{}}}",
        cfg.out.display(),
        if cfg.crossfit.is_some() {
            ",crossfit.csv,crossfit.md"
        } else {
            ""
        },
        if cfg.figures { ",figures/" } else { "" }
    );
    Ok(EXIT_OK)
}
