//! `aad summary` (and the `dataset_summary` example): what a dataset folder holds.

use std::path::PathBuf;

use aad_core::Label;
use aad_data::{Protocol, SyntheticConfig, discover, generate, split};

use crate::{CliError, EXIT_OK};

/// Summarises a machine-sound dataset: clip counts per (SNR, type, id, label), the
/// train/test split of each machine, and every file skipped with the reason.
///
/// Without DIR it generates the built-in synthetic dataset into a temporary folder.
///
/// Example:
///   aad summary ../shared/data/mimii
#[derive(clap::Parser, Debug)]
#[command(
    version,
    verbatim_doc_comment,
    after_help = "Example:\n  aad summary ../shared/data/mimii"
)]
pub struct Args {
    /// Dataset root (MIMII, DCASE 2020 or DCASE 2021+ layout, or plain
    /// `<machine>/[train|test/]{normal,abnormal,ok,faulty,...}/` folders), or a manifest
    /// CSV (`file,machine_type,label[,machine_id,snr,split]`).
    pub dir: Option<PathBuf>,
}

/// Runs `aad summary`.
///
/// # Errors
/// A folder that cannot be read (exit 2).
pub fn run(a: Args) -> Result<u8, CliError> {
    let _tmp;
    let root = match a.dir {
        Some(dir) => dir,
        None => {
            _tmp = tempfile::tempdir().map_err(|e| CliError::failed(crate::files::plain_io(&e)))?;
            let cfg = SyntheticConfig::default();
            println!(
                "no DIR given: generating the synthetic dataset (seed {}) in {}",
                cfg.seed,
                _tmp.path().display()
            );
            generate(&cfg, _tmp.path()).map_err(|e| CliError::failed(e.to_string()))?;
            _tmp.path().to_path_buf()
        }
    };
    let found = discover(&root).map_err(|e| CliError::bad_input(e.to_string()))?;
    println!("{}: {} clips\n", root.display(), found.clips.len());
    println!(
        "{:<6} {:<8} {:<22} {:>7} {:>9}",
        "snr", "type", "id", "normal", "abnormal"
    );
    let counts = found.counts();
    let mut keys: Vec<_> = counts.keys().map(|(s, t, i, _)| (s, t, i)).collect();
    keys.dedup();
    for (snr, t, id) in keys {
        let n = |l| {
            counts
                .get(&(snr.clone(), t.clone(), id.clone(), l))
                .copied()
                .unwrap_or(0)
        };
        println!(
            "{snr:<6} {t:<8} {id:<22} {:>7} {:>9}",
            n(Label::Normal),
            n(Label::Anomalous)
        );
    }
    let report = split(&found.clips, Protocol::Auto);
    println!(
        "\nsplits ({} usable, {} too small):",
        report.groups.len(),
        report.unsplittable.len()
    );
    println!(
        "{:<36} {:>5} {:>11} {:>13}  protocol",
        "group", "train", "test normal", "test abnormal"
    );
    for g in &report.groups {
        println!(
            "{:<36} {:>5} {:>11} {:>13}  {:?}",
            g.key.to_string(),
            g.train.len(),
            g.n_test_normal(),
            g.n_test_abnormal(),
            g.protocol
        );
    }
    for u in &report.unsplittable {
        println!(
            "unsplittable {} ({} normal, {} abnormal): {}",
            u.key, u.n_normal, u.n_abnormal, u.reason
        );
    }
    if !found.skipped.is_empty() {
        println!("\nskipped {} file(s):", found.skipped.len());
        for s in &found.skipped {
            println!("  {}: {}", s.path.display(), s.reason);
        }
    }
    if !found.ignored.is_empty() {
        println!("\nignored {} non-audio file(s)", found.ignored.len());
    }
    Ok(EXIT_OK)
}
