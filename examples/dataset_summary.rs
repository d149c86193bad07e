//! Summarises a machine-sound dataset (an alias of `aad summary`): clip counts per (SNR,
//! type, id, label), the train/test split of each machine, and every file skipped with
//! the reason.
//!
//! ```text
//! cargo run --release --example dataset_summary -- [DIR]
//! ```
//! Without DIR it generates the built-in synthetic dataset into a temporary folder.
use clap::Parser;

fn main() -> std::process::ExitCode {
    let a = aad_cli::summary::Args::parse();
    aad_cli::finish(aad_cli::summary::run(a))
}
