//! ROC AUC and McClish pAUC of a scores file, as scikit-learn computes them (an alias of
//! `aad metrics`).
//!
//! ```text
//! cargo run --release --example metrics_csv -- SCORES.csv [--max-fpr 0.1]
//! ```
//! SCORES.csv has a header with `label` (1 = anomaly, 0 = normal) and `score` (higher =
//! more anomalous). Prints `auc <value>` and `pauc <value>` (17 significant digits). Bad
//! input: a one-line error on stderr and exit status 2.
use clap::Parser;

fn main() -> std::process::ExitCode {
    let a = aad_cli::metrics::Args::parse();
    aad_cli::finish(aad_cli::metrics::run(a))
}
