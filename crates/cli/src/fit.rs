//! `aad fit`: fit a detector on normal recordings, write one model file.

use std::path::PathBuf;

use aad_engine::model::{
    DEFAULT_DETECTOR, DEFAULT_FEATURE, FitOptions, Model, ModelFileError, RECOMMENDED_CLIPS,
    SHORT_CLIP_S, ThresholdRule,
};

use crate::progress::{Mode, Progress};
use crate::{CliError, EXIT_BAD_INPUT, EXIT_OK, files};

/// Fit a detector on normal recordings and write one model file.
///
/// Every normal clip is also scored by a model that did not see it (5-fold cross-fitting);
/// the decision threshold is set on those held-out scores, so it is not optimistic.
///
/// Example:
///   aad fit --normal recordings/pump/normal -o pump.aadm
///   aad fit --normal a.wav b.wav c.wav d.wav -o m.aadm --threshold quantile:0.99
///   aad fit --normal fan/id_00/normal --contrast fan/id_02/normal --contrast fan/id_04/normal \
///       --detector knn_idclf -o fan00.aadm
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    after_help = "Examples:\n  aad fit --normal recordings/pump/normal -o pump.aadm\n  aad fit --normal a.wav b.wav c.wav d.wav -o m.aadm --threshold quantile:0.99\n  aad fit --normal fan/id_00/normal --contrast fan/id_02/normal --contrast fan/id_04/normal --detector knn_idclf -o fan00.aadm"
)]
pub struct Args {
    /// Normal recordings: folders (searched recursively for .wav/.flac) or files.
    #[arg(long, required = true, num_args = 1..)]
    pub normal: Vec<PathBuf>,
    /// The model file to write (one file; `.aadm` by convention).
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Feature (generated from the registry; `aad list` describes them).
    #[arg(long, default_value = DEFAULT_FEATURE, help = feature_help())]
    pub feature: String,
    /// Detector (generated from the registry; `aad list` describes them).
    #[arg(long, default_value = DEFAULT_DETECTOR, help = detector_help())]
    pub detector: String,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Channel of multi-channel files: an index, or `mean`.
    #[arg(long, default_value = "0")]
    pub channel: String,
    /// Threshold rule on the held-out scores of the normal clips: `gamma:P` (the DCASE
    /// baselines' gamma fit, P quantile), `quantile:Q` (empirical).
    #[arg(long, default_value = "gamma:0.9", conflicts_with = "target_fpr")]
    pub threshold: String,
    /// Flag about this fraction of normal clips (empirical 1 - FPR quantile); replaces
    /// --threshold.
    #[arg(long)]
    pub target_fpr: Option<f64>,
    /// Cross-fitting folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Autoencoder epochs [default: the preset's].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// A folder of normal recordings of another machine of the same type; repeat it
    /// once per machine. The machine-ID classifier (`--detector idclf` or
    /// `knn_idclf`) learns to tell this machine from them; other detectors ignore them.
    #[arg(long, value_name = "DIR")]
    pub contrast: Vec<PathBuf>,
    /// Threads an autoencoder trains on (0: two, or one on a one-core machine; more than
    /// two share each product on a thread pool, which has not been measured to help).
    /// The model does not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Sample rate the model reads, in Hz [default: the rate most of the normal
    /// recordings have]. Recordings at other rates are left out, each named.
    #[arg(long)]
    pub rate: Option<u32>,
    /// No progress on stderr.
    #[arg(long)]
    pub quiet: bool,
}

fn feature_help() -> String {
    format!(
        "Feature: {} (`aad list` describes them)",
        aad_engine::registry::feature_names()
    )
}

fn detector_help() -> String {
    format!(
        "Detector: {} (`aad list` describes them)",
        aad_engine::registry::detector_names()
    )
}

/// Runs `aad fit`.
///
/// # Errors
/// Bad options or no usable files (exit 2); a fit or write failure (exit 1).
pub fn run(a: Args) -> Result<u8, CliError> {
    let mut opts = options(&a)?;
    let (paths, mut problems) = files::collect(&a.normal);
    opts.contrast = contrast_sets(&a.contrast, &mut problems)?;
    for (p, why) in &problems {
        eprintln!("skipped {}: {why}", p.display());
    }
    if paths.is_empty() {
        return Err(CliError::bad_input("no .wav or .flac files found"));
    }
    let mode = Mode::detect(a.quiet);
    let total = paths.len() + opts.contrast.iter().map(Vec::len).sum::<usize>();
    let bar = Progress::new(mode, "read", total as u64);
    let (model, skipped) =
        Model::fit_files_observed(&paths, &opts, &|| bar.tick()).map_err(fit_error)?;
    bar.finish();
    for (p, e) in &skipped {
        eprintln!(
            "skipped {}: {}",
            p.display(),
            crate::one_line(&aad_engine::batch::reason(p, e))
        );
    }
    model
        .save(&a.output)
        .map_err(|e| CliError::failed(e.to_string()))?;
    let n = model.training_files().len();
    warn_small(&model);
    if mode != Mode::Quiet {
        eprintln!(
            "fitted {} on {} of {n} normal clips ({} Hz, channel {}); threshold {:.6} ({}, on {}-fold held-out scores)",
            model.detector_name(),
            model.feature().name,
            model.sample_rate(),
            model.channel().label(),
            model.threshold(),
            model.threshold_rule(),
            opts.folds.min(n),
        );
        say_contrast(&model);
        eprintln!("wrote {}", a.output.display());
    }
    Ok(if skipped.is_empty() && problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_BAD_INPUT
    })
}

/// Warnings (stderr, whatever `--quiet` says) for what a model can be fitted on but
/// should not be: fewer clips than recommended, clips under half a second.
fn warn_small(model: &Model) {
    let n = model.training_files().len();
    if n < RECOMMENDED_CLIPS {
        eprintln!(
            "warning: fitted on {n} normal clips; {RECOMMENDED_CLIPS} or more are recommended \
             (the threshold rests on their held-out scores)"
        );
    }
    for f in model.training_files() {
        if f.seconds < SHORT_CLIP_S {
            eprintln!(
                "warning: {}: {:.3} s long; clips under {SHORT_CLIP_S} s give unstable summaries",
                f.path, f.seconds
            );
        }
    }
}

/// The fit's options from the command line (contrast sets are read later).
fn options(a: &Args) -> Result<FitOptions, CliError> {
    let threshold: ThresholdRule = match a.target_fpr {
        Some(r) => format!("target-fpr:{r}").parse(),
        None => a.threshold.parse(),
    }
    .map_err(CliError::bad_input)?;
    Ok(FitOptions {
        feature: a.feature.clone(),
        detector: a.detector.clone(),
        seed: a.seed,
        channel: a
            .channel
            .parse()
            .map_err(|e: aad_audio::ParseChannelError| {
                CliError::bad_input(format!("--channel: {e}"))
            })?,
        threshold,
        folds: a.folds,
        epochs: a.epochs,
        contrast: Vec::new(),
        threads: match a.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
            n => n,
        },
        sample_rate: a.rate,
    })
}

/// A failed fit as the command reports it: bad input (exit 2) names every file left out
/// when too few remained; a failure of the fit itself is exit 1.
fn fit_error(e: ModelFileError) -> CliError {
    match e {
        ModelFileError::TooFewClips { ref left_out, .. } => {
            for (p, why) in left_out {
                eprintln!("skipped {}: {}", p.display(), crate::one_line(why));
            }
            CliError::bad_input(e.to_string())
        }
        ModelFileError::Registry(_) | ModelFileError::Option { .. } => {
            CliError::bad_input(e.to_string())
        }
        other => CliError::failed(other.to_string()),
    }
}

/// The files of each `--contrast` folder (one machine each); unreadable entries join
/// `problems`.
///
/// # Errors
/// A folder without audio files (exit 2).
fn contrast_sets(
    dirs: &[PathBuf],
    problems: &mut Vec<(PathBuf, String)>,
) -> Result<Vec<Vec<PathBuf>>, CliError> {
    dirs.iter()
        .map(|c| {
            let (set, p) = files::collect(std::slice::from_ref(c));
            problems.extend(p);
            if set.is_empty() {
                return Err(CliError::bad_input(format!(
                    "--contrast {}: no .wav or .flac files found",
                    c.display()
                )));
            }
            Ok(set)
        })
        .collect()
}

/// Says what a machine-ID classifier learned against, if it did.
fn say_contrast(model: &Model) {
    let c = model.contrast_files();
    if !c.is_empty() {
        eprintln!(
            "the classifier learned this machine against {} others ({} clips)",
            c.len(),
            c.iter().map(Vec::len).sum::<usize>()
        );
    }
}
