//! Summarises a machine-sound dataset: clip counts per (SNR, type, id, label), the
//! train/test split of each machine, and every file skipped with the reason.
//!
//! ```text
//! cargo run --release --example dataset_summary -- [DIR]
//! ```
//! Without DIR it generates the built-in synthetic dataset into a temporary folder.
use std::path::PathBuf;

use aad::core::Label;
use aad::data::{Protocol, SyntheticConfig, discover, generate, split};

fn main() {
    if let Err(e) = try_main() {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

fn try_main() -> anyhow::Result<()> {
    let arg = std::env::args_os().nth(1).map(PathBuf::from);
    let _tmp;
    let root = match arg {
        Some(dir) => dir,
        None => {
            _tmp = tempfile::tempdir()?;
            let cfg = SyntheticConfig::default();
            println!(
                "no DIR given: generating the synthetic dataset (seed {}) in {}",
                cfg.seed,
                _tmp.path().display()
            );
            generate(&cfg, _tmp.path())?;
            _tmp.path().to_path_buf()
        }
    };
    let found = discover(&root)?;
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
    Ok(())
}
