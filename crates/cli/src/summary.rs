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

    /// Also decode every clip as the experiment does (channel 0, 16 kHz, 0.5 s at least)
    /// and show the split it would evaluate: unreadable files and repeated recordings
    /// left out, with the reasons. Reads every file once.
    #[arg(long)]
    pub decode: bool,
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
    print_splits(report.groups.iter().map(|g| {
        let n = g.n_test_normal();
        (&g.key, g.train.len(), n, g.test.len() - n, g.protocol)
    }));
    for u in &report.unsplittable {
        println!(
            "unsplittable {} ({} normal, {} abnormal): {}",
            u.key, u.n_normal, u.n_abnormal, u.reason
        );
    }
    if a.decode {
        decoded_splits(&report);
    }
    if !found.skipped.is_empty() {
        println!("\nskipped {} file(s):", found.skipped.len());
        print_skipped(&found.skipped);
    }
    if !found.ignored.is_empty() {
        println!("\nignored {} non-audio file(s)", found.ignored.len());
    }
    Ok(EXIT_OK)
}

/// Skipped files grouped by reason, each reason said once (a folder in no known layout
/// gives every file the same long hint): up to [`LIST_FILES`] paths under it, then a
/// count.
fn print_skipped(skipped: &[aad_data::Skipped]) {
    const LIST_FILES: usize = 10;
    let mut by_reason: Vec<(&str, Vec<&std::path::Path>)> = Vec::new();
    for s in skipped {
        match by_reason.iter_mut().find(|(r, _)| *r == s.reason) {
            Some((_, paths)) => paths.push(&s.path),
            None => by_reason.push((&s.reason, vec![&s.path])),
        }
    }
    for (reason, paths) in by_reason {
        if let [one] = paths[..] {
            println!("  {}: {reason}", one.display());
            continue;
        }
        println!("  {} files: {reason}", paths.len());
        for p in paths.iter().take(LIST_FILES) {
            println!("    {}", p.display());
        }
        if paths.len() > LIST_FILES {
            println!("    ... and {} more", paths.len() - LIST_FILES);
        }
    }
}

fn print_splits<'a>(
    rows: impl Iterator<Item = (&'a aad_data::GroupKey, usize, usize, usize, Protocol)>,
) {
    println!(
        "{:<36} {:>5} {:>11} {:>13}  protocol",
        "group", "train", "test normal", "test abnormal"
    );
    for (key, train, normal, abnormal, protocol) in rows {
        println!(
            "{:<36} {train:>5} {normal:>11} {abnormal:>13}  {protocol:?}",
            key.to_string()
        );
    }
}

/// Decodes every clip of the split (in parallel) and prints the groups the experiment
/// would evaluate, with what it would leave out.
fn decoded_splits(report: &aad_data::SplitReport) {
    let opts = aad_experiment::ExperimentConfig::new(".").decode_options();
    let paths: Vec<&std::path::Path> = report
        .groups
        .iter()
        .flat_map(|g| g.train.iter().chain(&g.test))
        .map(|c| c.path.as_path())
        .collect();
    let results = aad_experiment::batch::for_each_file(
        &paths,
        &opts,
        || (),
        |(), file| {
            let hash = file.hash()?;
            file.signal().map(|_| hash)
        },
    );
    let decoded: Vec<(PathBuf, Result<u128, String>)> = paths
        .iter()
        .zip(results)
        .map(|(p, r)| {
            let r = r.map_err(|e| aad_experiment::batch::reason(p, &e));
            (p.to_path_buf(), r)
        })
        .collect();
    let hashes: std::collections::BTreeMap<&PathBuf, u128> = decoded
        .iter()
        .filter_map(|(p, r)| r.as_ref().ok().map(|h| (p, *h)))
        .collect();
    let usable = aad_experiment::usable_groups(report, |p| hashes.get(&p.to_path_buf()).copied());
    println!(
        "\nafter decoding {} clips ({} unreadable, {} repeated): {} usable groups",
        decoded.len(),
        decoded.len() - hashes.len(),
        usable.duplicates.len(),
        usable.groups.len()
    );
    print_splits(usable.groups.iter().map(|g| {
        let abnormal = g
            .test
            .iter()
            .filter(|c| c.label == Label::Anomalous)
            .count();
        (
            &g.key,
            g.train.len(),
            g.test.len() - abnormal,
            abnormal,
            g.protocol,
        )
    }));
    for (p, r) in &decoded {
        if let Err(why) = r {
            println!("unreadable {}: {why}", p.display());
        }
    }
    for (f, why) in &usable.duplicates {
        println!("left out {f}: {why}");
    }
    for (g, why) in &usable.skipped {
        println!("left out group {g}: {why}");
    }
}
