//! `aad synth`: a seeded synthetic dataset in MIMII's layout, from the built-in small
//! set to the size of MIMII's fan and valve archives.

use std::path::PathBuf;

use aad_data::{SyntheticConfig, generate_observed};

use crate::progress::{Mode, Progress};
use crate::{CliError, EXIT_OK};

/// Write a synthetic dataset in MIMII's layout (`<snr>dB/<type>/id_XX/{normal,abnormal}/`,
/// 10 s 16-bit WAV at 16 kHz, plus anomaly_kinds.csv) for `aad experiment --data DIR`.
///
/// Presets: `small` is the set `aad experiment` generates without --data (fan and valve,
/// 3 ids, 30 normal + 10 anomalous clips per id and SNR: 720 clips, 230 MB); `mimii` has
/// the shape of MIMII's fan+valve archives (4 ids, 1,000 normal + 215 anomalous per id
/// and SNR: 29,160 clips, 9.3 GB mono). --fraction keeps the first part of every id's
/// clips, byte-identical to the full set's.
///
/// Example:
///   aad synth --preset mimii --fraction 0.125 syn_eighth
///   aad experiment --data syn_eighth --out results_eighth
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    after_help = "Example:\n  aad synth --preset mimii --fraction 0.125 syn_eighth\n  aad experiment --data syn_eighth --out results_eighth"
)]
pub struct Args {
    /// Folder to write (must not exist, or be empty).
    pub dir: PathBuf,
    /// `small` or `mimii`.
    #[arg(long, default_value = "small")]
    pub preset: String,
    /// Part of each id's clips to write, in (0, 1].
    #[arg(long, default_value_t = 1.0)]
    pub fraction: f64,
    /// Seed: the same seed and preset give byte-identical files.
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// Channels per file (MIMII's originals have 8; 8 takes 8 times the disk).
    #[arg(long, default_value_t = 1)]
    pub channels: u16,
    /// No progress.
    #[arg(long)]
    pub quiet: bool,
}

/// The generator settings the arguments describe.
///
/// # Errors
/// An unknown preset or a fraction outside (0, 1].
pub fn config(a: &Args) -> Result<SyntheticConfig, CliError> {
    let base = match a.preset.as_str() {
        "small" => SyntheticConfig::default(),
        "mimii" => SyntheticConfig::mimii_sized(a.seed),
        other => {
            return Err(CliError::bad_input(format!(
                "--preset must be small or mimii, got {other:?}"
            )));
        }
    };
    if !(a.fraction > 0.0 && a.fraction <= 1.0) {
        return Err(CliError::bad_input(format!(
            "--fraction must be in (0, 1], got {}",
            a.fraction
        )));
    }
    let mut cfg = base.scaled(a.fraction);
    cfg.seed = a.seed;
    cfg.channels = a.channels;
    Ok(cfg)
}

/// Runs `aad synth`.
///
/// # Errors
/// Bad arguments or a non-empty folder (exit 2), a write failure (exit 1).
pub fn run(a: Args) -> Result<u8, CliError> {
    let cfg = config(&a)?;
    if std::fs::read_dir(&a.dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(CliError::bad_input(format!(
            "{}: not empty; give a new folder",
            a.dir.display()
        )));
    }
    let mode = Mode::detect(a.quiet);
    if mode != Mode::Quiet {
        eprintln!(
            "writing {} clips ({:.2} GB) into {}",
            cfg.n_clips(),
            cfg.disk_bytes() as f64 / 1e9,
            a.dir.display()
        );
    }
    let t = std::time::Instant::now();
    let bar = Progress::new(mode, "synth", cfg.n_clips() as u64);
    let ds = generate_observed(&cfg, &a.dir, &|| bar.tick())
        .map_err(|e| CliError::failed(e.to_string()))?;
    bar.finish();
    println!(
        "wrote {} clips into {} in {:.1} s",
        ds.clips.len(),
        a.dir.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(EXIT_OK)
}
