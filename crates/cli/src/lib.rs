//! The `aad` command: fit an anomaly detector on normal recordings of a machine once,
//! keep it in one file, score new recordings with a calibrated yes/no, and follow long
//! recordings window by window.
//!
//! ```text
//! aad fit --normal DIR -o fan.aadm          # normal recordings only
//! aad score fan.aadm new/*.wav --csv s.csv  # file,score,threshold,anomaly
//! aad monitor fan.aadm long.wav --plot m.png
//! aad eval fan.aadm --normal ok/ --anomalous faulty/
//! aad list                                  # features and detectors
//! ```
//!
//! Exit codes (every subcommand): **0** success; **1** the command could not do its work
//! (nothing usable was written: too few clips, unwritable output); **2** bad input: an
//! invalid or incompatible model file, a usage error, or some input files that could not
//! be read (their errors on stderr; results for the others are still written).
//!
//! The library exposes each subcommand's `Args` and `run` so the workspace's examples
//! (`mimii_fan_valve`, `extract_features`, `dataset_summary`, `metrics_csv`) stay thin
//! aliases of `aad experiment`, `aad features`, `aad summary` and `aad metrics`.
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod demo;
pub mod eval;
pub mod experiment;
pub mod explain;
pub mod features;
pub mod files;
pub mod fit;
pub mod metrics;
pub mod monitor;
pub mod progress;
pub mod score;
pub mod summary;
pub mod synth;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Success.
pub const EXIT_OK: u8 = 0;
/// The command could not do its work.
pub const EXIT_FAILED: u8 = 1;
/// Bad input: an invalid model file, a usage error, or some unreadable input files.
pub const EXIT_BAD_INPUT: u8 = 2;

/// An error of a subcommand, with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub code: u8,
    /// One line.
    pub message: String,
}

impl CliError {
    /// Exit 1: the work could not be done.
    pub fn failed(message: impl std::fmt::Display) -> Self {
        CliError {
            code: EXIT_FAILED,
            message: message.to_string(),
        }
    }

    /// Exit 2: bad input.
    pub fn bad_input(message: impl std::fmt::Display) -> Self {
        CliError {
            code: EXIT_BAD_INPUT,
            message: message.to_string(),
        }
    }
}

/// Prints an error as one line and turns it into the exit code.
pub fn finish(r: Result<u8, CliError>) -> ExitCode {
    match r {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", one_line(&e.message));
            ExitCode::from(e.code)
        }
    }
}

/// Folds a message onto one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Anomaly detection in machine sounds: fit on normal recordings, score new ones.
///
/// Exit codes: 0 success; 1 the command could not do its work; 2 bad input (an invalid
/// model file, a usage error, or unreadable input files, reported on stderr while the
/// others are still processed).
#[derive(Parser, Debug)]
#[command(name = "aad", version, about, long_about)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Fit a detector on normal recordings and write one model file.
    Fit(fit::Args),
    /// Score recordings with a model: file,score,threshold,anomaly.
    Score(score::Args),
    /// Score a long recording (or a raw PCM stream on stdin) window by window.
    Monitor(monitor::Args),
    /// AUC, pAUC and the confusion counts at the model's threshold on labelled folders.
    Eval(eval::Args),
    /// Why a recording scored as it did: band, statistic, time span and kind of change.
    Explain(explain::Args),
    /// List the features and detectors.
    List,
    /// Write synthetic recordings to try the other subcommands on.
    Demo(demo::Args),
    /// Write a synthetic dataset in MIMII's layout, up to MIMII's size.
    Synth(synth::Args),
    /// The MIMII / DCASE study (as the mimii_fan_valve example).
    Experiment(experiment::Args),
    /// Write librosa's reference feature set of one clip as .npy (as extract_features).
    Features(features::Args),
    /// Summarise a dataset folder: clips, splits, skipped files (as dataset_summary).
    Summary(summary::Args),
    /// AUC and pAUC of a label,score CSV (as metrics_csv).
    Metrics(metrics::Args),
}

/// Runs the command line of the `aad` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Fit(a) => finish(fit::run(a)),
        Command::Score(a) => finish(score::run(a)),
        Command::Monitor(a) => finish(monitor::run(a)),
        Command::Eval(a) => finish(eval::run(a)),
        Command::Explain(a) => finish(explain::run(a)),
        Command::List => {
            print!("{}", aad_engine::registry::list_text());
            ExitCode::SUCCESS
        }
        Command::Demo(a) => finish(demo::run(a)),
        Command::Synth(a) => finish(synth::run(a)),
        Command::Experiment(a) => finish(experiment::run(a)),
        Command::Features(a) => finish(features::run(a)),
        Command::Summary(a) => finish(summary::run(a)),
        Command::Metrics(a) => finish(metrics::run(a)),
    }
}

/// Loads a model, mapping every failure to exit 2 with the file named.
pub(crate) fn load_model(path: &std::path::Path) -> Result<aad_engine::model::Model, CliError> {
    aad_engine::model::Model::load(path).map_err(|e| CliError::bad_input(e.to_string()))
}

/// Writes text to `path` atomically (or to stdout when `path` is `None`).
pub(crate) fn write_output(path: Option<&std::path::Path>, text: &str) -> Result<(), CliError> {
    match path {
        Some(p) => aad_engine::io::write_text(p, text).map_err(|e| CliError::failed(e.to_string())),
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| CliError::failed(format!("stdout: {}", files::plain_io(&e))))
        }
    }
}
