//! `aad metrics` (and the `metrics_csv` example): AUC and pAUC of a scores CSV.

use std::path::PathBuf;

use aad_metrics::io::{format_g17, read_scores_csv};

use crate::{CliError, EXIT_OK};

/// ROC AUC and McClish pAUC of a scores file, as scikit-learn computes them.
///
/// SCORES.csv has a header with `label` (1 = anomaly, 0 = normal) and `score` (higher =
/// more anomalous). Prints `auc <value>` and `pauc <value>` with 17 significant digits.
/// Bad input: a one-line error on stderr and exit status 2.
///
/// Example:
///   aad metrics scores.csv --max-fpr 0.1
#[derive(clap::Parser, Debug)]
#[command(
    version,
    verbatim_doc_comment,
    after_help = "Example:\n  aad metrics scores.csv --max-fpr 0.1"
)]
pub struct Args {
    /// The CSV file.
    pub scores: PathBuf,
    /// The pAUC's largest false-positive rate.
    #[arg(long, default_value_t = 0.1)]
    pub max_fpr: f64,
}

/// Runs `aad metrics`.
///
/// # Errors
/// An unreadable or invalid CSV, or one class only (exit 2).
pub fn run(a: Args) -> Result<u8, CliError> {
    let bad = |e: &dyn std::fmt::Display| CliError::bad_input(e.to_string());
    let (scores, labels) = read_scores_csv(&a.scores).map_err(|e| bad(&e))?;
    let auc = aad_metrics::roc_auc(&scores, &labels).map_err(|e| bad(&e))?;
    let pauc = aad_metrics::partial_auc(&scores, &labels, a.max_fpr).map_err(|e| bad(&e))?;
    println!("auc {}", format_g17(auc));
    println!("pauc {}", format_g17(pauc));
    Ok(EXIT_OK)
}
