//! The MIMII fan/valve experiment: log-Mel vs CENS (and friends) under autoencoders and
//! classical detectors, per SNR, machine type and machine id, from audio to
//! `results.csv`, `summary.md`, `results.json` and `figures/`.
//!
//! ```text
//! cargo run --release --example mimii_fan_valve -- [--data DIR] [--out DIR]
//!     [--machines fan,valve] [--snr all|-6dB,0dB,...] [--features logmel,cens,...|all]
//!     [--models ae,lof,...|all] [--seeds 1,2,3] [--epochs N] [--channel 0|mean] [--jobs N]
//! ```
//! Without `--data` it generates the built-in synthetic machine sounds and runs on them.
//! The logic lives in `aad_experiment::pipeline`; this file only parses arguments.
use std::path::PathBuf;
use std::process::ExitCode;

use aad::experiment::registry::{DEFAULT_FEATURES, DEFAULT_MODELS, FeatureSpec, ModelSpec};
use aad::experiment::{ExperimentConfig, SnrFilter, report};
use aad::models::Backend;
use clap::Parser;

/// Unsupervised anomaly detection on MIMII / DCASE machine sounds: one model per
/// (SNR, machine type, machine id), trained on normal clips, scored on held-out clips.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// Dataset root (MIMII, DCASE 2020 or DCASE 2021+ layout). Without it, synthetic
    /// machine sounds are generated into a temporary folder.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output folder.
    #[arg(long, default_value = "mimii_fan_valve_results")]
    out: PathBuf,
    /// Feature cache folder [default: OUT/cache].
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Machine types, comma separated, or `all`.
    #[arg(long, default_value = "fan,valve")]
    machines: String,
    /// `all`, or SNR labels (`-6dB`, `0dB`, `6dB`; `na` for data without SNR). Write
    /// `--snr=-6dB`.
    #[arg(long, default_value = "all", allow_hyphen_values = true)]
    snr: String,
    /// Features, comma separated, or `all`: logmel_dcase, logmel_mimii (= logmel),
    /// logmel_seed, cens, cens_seed, cens_l<L>_d<D>, cens_muller, chroma_cqt, chroma_stft,
    /// mfcc.
    #[arg(long, default_value = DEFAULT_FEATURES)]
    features: String,
    /// Models, comma separated, or `all`: ae (the feature's preset), ae_mahala, ae_seed,
    /// ae_mimii, ae_dcase, ae_cens; knn, lof, iforest, gmm, mahalanobis, pca on clip
    /// statistics, and the same with `_frames` on frame vectors.
    #[arg(long, default_value = DEFAULT_MODELS)]
    models: String,
    /// Seeds, comma separated: every model is fitted once per seed.
    #[arg(long, default_value = "1,2,3")]
    seeds: String,
    /// Autoencoder epochs [default: each preset's, 50 or 100].
    #[arg(long)]
    epochs: Option<usize>,
    /// Channel of multi-channel files: an index, or `mean` (the seed averaged all 8).
    #[arg(long, default_value = "0")]
    channel: String,
    /// Autoencoder training: `native` (fast CPU engine) or `candle` (on the GPU when
    /// built with `--features cuda`, else candle's CPU backend).
    #[arg(long, default_value = "native")]
    backend: String,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Seed of the synthetic dataset.
    #[arg(long, default_value_t = 2024)]
    synthetic_seed: u64,
    /// Skip the figures.
    #[arg(long)]
    no_figures: bool,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

fn parse(a: Args) -> Result<ExperimentConfig, String> {
    let mut cfg = ExperimentConfig::new(a.out);
    cfg.data = a.data;
    cfg.cache = a.cache;
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
    cfg.snr = SnrFilter::parse(&a.snr)?;
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
    cfg.channel = a.channel.parse()?;
    cfg.backend = match a.backend.as_str() {
        "native" => Backend::Native,
        "candle" => Backend::Candle,
        other => return Err(format!("--backend must be native or candle, got {other:?}")),
    };
    cfg.jobs = a.jobs;
    cfg.figures = !a.no_figures;
    cfg.progress = !a.quiet;
    Ok(cfg)
}

fn main() -> ExitCode {
    let cfg = match parse(Args::parse()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match aad::experiment::run(&cfg) {
        Ok(o) => {
            println!("{}", report::summary(&cfg, &o));
            println!(
                "wrote {}/{{results.csv,summary.md,results.json,figures/}}",
                cfg.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
