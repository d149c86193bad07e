//! `aad demo`: synthetic recordings to try `fit`, `score`, `eval` and `monitor` on.

use std::path::{Path, PathBuf};

use aad_data::{MachineKind, SyntheticConfig, generate};

use crate::{CliError, EXIT_OK};

/// Write synthetic fan recordings (seeded, 16 kHz mono, 10 s): `train/` (20 normal
/// clips), `test/normal` (10), `test/anomalous` (10), and `long.wav`, two minutes of
/// unseen normal sound with a 20 s anomalous stretch from 60 s to 80 s.
///
/// Example:
///   aad demo demo && aad fit --normal demo/train -o demo/fan.aadm
///   aad score demo/fan.aadm demo/test
///   aad monitor demo/fan.aadm demo/long.wav --plot demo/long.png
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    after_help = "Example:\n  aad demo demo && aad fit --normal demo/train -o demo/fan.aadm\n  aad score demo/fan.aadm demo/test\n  aad monitor demo/fan.aadm demo/long.wav --plot demo/long.png"
)]
pub struct Args {
    /// Folder to write (must not exist, or be empty).
    pub dir: PathBuf,
    /// Seed of the synthetic machine.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

fn io(p: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |e| CliError::failed(format!("{}: {}", p.display(), crate::files::plain_io(&e)))
}

/// Runs `aad demo`.
///
/// # Errors
/// A non-empty folder (exit 2) or a write failure (exit 1).
pub fn run(a: Args) -> Result<u8, CliError> {
    if std::fs::read_dir(&a.dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(CliError::bad_input(format!(
            "{}: not empty; give a new folder",
            a.dir.display()
        )));
    }
    let mut cfg = SyntheticConfig::default();
    cfg.seed = a.seed;
    cfg.machines = vec![MachineKind::Fan];
    cfg.ids = vec![0];
    cfg.snrs_db = vec![6];
    cfg.n_normal = 40;
    cfg.n_abnormal = 10;
    let gen_dir = a.dir.join(".generated");
    let ds = generate(&cfg, &gen_dir).map_err(|e| CliError::failed(e.to_string()))?;
    let normal: Vec<PathBuf> = ds
        .clips
        .iter()
        .filter(|c| c.anomaly.is_none())
        .map(|c| gen_dir.join(&c.rel_path))
        .collect();
    let mut anomalous: Vec<(f64, PathBuf)> = ds
        .clips
        .iter()
        .filter_map(|c| c.anomaly.map(|(_, db)| (db, gen_dir.join(&c.rel_path))))
        .collect();
    for d in ["train", "test/normal", "test/anomalous"] {
        std::fs::create_dir_all(a.dir.join(d)).map_err(io(&a.dir))?;
    }
    let place = |from: &Path, to: PathBuf| std::fs::rename(from, &to).map_err(io(&to));
    for (i, p) in normal[..20].iter().enumerate() {
        place(p, a.dir.join(format!("train/normal_{i:02}.wav")))?;
    }
    for (i, p) in normal[20..30].iter().enumerate() {
        place(p, a.dir.join(format!("test/normal/normal_{i:02}.wav")))?;
    }
    // The two strongest anomalies go into the long recording, unseen elsewhere.
    anomalous.sort_by(|x, y| y.0.total_cmp(&x.0));
    let long_parts: Vec<&PathBuf> = normal[30..36]
        .iter()
        .chain(anomalous[..2].iter().map(|(_, p)| p))
        .chain(normal[36..40].iter())
        .collect();
    write_concat(&long_parts, &a.dir.join("long.wav"))?;
    for (i, (_, p)) in anomalous[2..].iter().enumerate() {
        place(
            p,
            a.dir.join(format!("test/anomalous/anomalous_{i:02}.wav")),
        )?;
    }
    std::fs::remove_dir_all(&gen_dir).map_err(io(&gen_dir))?;
    let d = a.dir.display();
    println!("wrote {d}/train (20 normal), {d}/test/normal (10), {d}/test/anomalous (8),");
    println!("      {d}/long.wav (120 s: normal, anomalous from 60 s to 80 s, normal)");
    println!("next:");
    println!("  aad fit --normal {d}/train -o {d}/fan.aadm");
    println!("  aad score {d}/fan.aadm {d}/test");
    println!("  aad eval {d}/fan.aadm --normal {d}/test/normal --anomalous {d}/test/anomalous");
    println!("  aad monitor {d}/fan.aadm {d}/long.wav --plot {d}/long.png");
    Ok(EXIT_OK)
}

/// Concatenates 16-bit mono WAV files sample for sample.
fn write_concat(parts: &[&PathBuf], out: &Path) -> Result<(), CliError> {
    let bad = |p: &Path, e: hound::Error| CliError::failed(format!("{}: {e}", p.display()));
    let first = hound::WavReader::open(parts[0]).map_err(|e| bad(parts[0], e))?;
    let spec = first.spec();
    let mut w = hound::WavWriter::create(out, spec).map_err(|e| bad(out, e))?;
    for p in parts {
        let mut r = hound::WavReader::open(p).map_err(|e| bad(p, e))?;
        for s in r.samples::<i16>() {
            w.write_sample(s.map_err(|e| bad(p, e))?)
                .map_err(|e| bad(out, e))?;
        }
    }
    w.finalize().map_err(|e| bad(out, e))
}
