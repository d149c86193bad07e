//! Helpers for the workspace's tests (not published).
//!
//! - [`shared_dir`]: the read-only `../shared` folder (real clips and librosa references),
//!   or `None` with a printed skip message when it is absent.
//! - [`fixtures_dir`]: the committed fixtures of the repository (`tests/fixtures`).
//! - [`read_npy`]: load a float32 `.npy` array.
//! - [`Diff`]: the metrics of `shared/pyref/compare.py` (max abs, relative Frobenius, Pearson r).
//! - [`alloc`]: a counting global allocator for allocation-free promises.
#![deny(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod alloc;

use std::path::{Path, PathBuf};

use ndarray::{Array2, ArrayView2};

/// The workspace root (the folder holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/testutil lies two levels below the root")
        .to_path_buf()
}

/// `tests/fixtures` of the workspace (committed, always present).
pub fn fixtures_dir() -> PathBuf {
    workspace_root().join("tests").join("fixtures")
}

/// The shared folder: `$AAD_SHARED_DIR`, else `../shared` beside the checkout.
///
/// When it is absent: under CI (`CI` set to anything but `false` or `0`) the calling
/// test **fails**, since CI always has the folder and a test that silently skips there
/// tests nothing; elsewhere it returns `None` after printing a loud `SKIPPED` line (shown
/// without `--nocapture`).
///
/// # Panics
/// Under CI, when the folder is absent.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("AAD_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("..").join("shared"));
    if dir.join("data").join("manifest.csv").is_file() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !ci,
        "{test}: shared data not found at {} under CI (set AAD_SHARED_DIR)",
        dir.display()
    );
    // Straight to stderr, not through `eprintln!`: the test harness captures the macros'
    // output of passing tests, and a skip must show without `--nocapture`.
    report_skip(
        test,
        &dir,
        std::env::var_os(SKIP_LOG).as_deref().map(Path::new),
        &mut std::io::stderr(),
    );
    None
}

/// The environment variable naming a file where each skipped test appends its name
/// (`scripts/test.sh` counts them at the end of the run).
pub const SKIP_LOG: &str = "AAD_SKIP_LOG";

/// Writes a skipped test's `SKIPPED` line to `out` and, with a `log`, appends its name
/// there.
fn report_skip(test: &str, dir: &Path, log: Option<&Path>, out: &mut dyn std::io::Write) {
    use std::io::Write;
    let _ = out.write_all(
        format!(
            "SKIPPED {test}: shared data not found at {} (set AAD_SHARED_DIR to run it); \
             this test checked nothing\n",
            dir.display()
        )
        .as_bytes(),
    );
    if let Some(log) = log {
        // One short append per test: O_APPEND keeps concurrent test binaries' lines whole.
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .and_then(|mut f| f.write_all(format!("{test}\n").as_bytes()));
    }
}

/// One row of `shared/data/manifest.csv`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ManifestRow {
    /// Path relative to `shared/data`.
    pub file: String,
    /// `fan`, `valve`, ...
    pub machine_type: String,
    /// `id_00`, ... or `dcase2023_section_00`.
    pub machine_id: String,
    /// `normal` or `abnormal`.
    pub label: String,
    /// `-6dB`, `0dB`, `6dB` or empty.
    pub snr: String,
    /// Channel count.
    pub channels: usize,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Duration in seconds.
    pub duration_s: f64,
}

/// Every row of the shared manifest.
pub fn manifest(shared: &Path) -> Vec<ManifestRow> {
    let mut r = csv::Reader::from_path(shared.join("data").join("manifest.csv")).unwrap();
    r.deserialize().map(|row| row.unwrap()).collect()
}

/// Reads a 2-D float32 `.npy` file.
pub fn read_npy(path: &Path) -> Array2<f32> {
    ndarray_npy::read_npy(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Differences between a reference and a candidate array, as `compare.py` computes them.
#[derive(Debug, Clone, Copy)]
pub struct Diff {
    /// Largest absolute difference.
    pub max_abs: f64,
    /// `||cand - ref|| / ||ref||` (Frobenius).
    pub rel_fro: f64,
    /// Pearson correlation.
    pub corr: f64,
    /// Mean absolute difference.
    pub mean_abs: f64,
}

impl Diff {
    /// Compares `cand` with `reference`; panics when the shapes differ.
    pub fn of(reference: ArrayView2<'_, f32>, cand: ArrayView2<'_, f32>) -> Diff {
        assert_eq!(reference.dim(), cand.dim(), "shape mismatch");
        let n = reference.len() as f64;
        let (mut d2, mut r2, mut max_abs, mut sum_abs) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        let (mut sr, mut sc, mut srr, mut scc, mut src) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&r, &c) in reference.iter().zip(cand.iter()) {
            let (r, c) = (f64::from(r), f64::from(c));
            assert!(
                c.is_finite() || !r.is_finite(),
                "candidate not finite where reference is"
            );
            let d = c - r;
            d2 += d * d;
            r2 += r * r;
            max_abs = max_abs.max(d.abs());
            sum_abs += d.abs();
            sr += r;
            sc += c;
            srr += r * r;
            scc += c * c;
            src += r * c;
        }
        let cov = src / n - (sr / n) * (sc / n);
        let vr = srr / n - (sr / n).powi(2);
        let vc = scc / n - (sc / n).powi(2);
        let corr = if vr > 0.0 && vc > 0.0 {
            cov / (vr * vc).sqrt()
        } else {
            1.0
        };
        Diff {
            max_abs,
            rel_fro: if r2 > 0.0 {
                (d2 / r2).sqrt()
            } else {
                d2.sqrt()
            },
            corr,
            mean_abs: sum_abs / n,
        }
    }
}

/// Reads a JSON file into a `serde_json::Value`.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Pins a crate's `ALGORITHM_VERSION` to its numbers: `summary` holds, per output, a few
/// statistics of the features of a fixed signal. The test fails when the statistics move
/// (relative 1e-5 of each statistic, or of a thousandth of the largest one when it is
/// near zero) while `version` stays the same, so a change to
/// the numbers cannot ship without a version bump (which invalidates feature caches).
/// `AAD_BLESS=1` rewrites `tests/fixtures/algorithm_version/<crate_name>.json` after a
/// bump.
///
/// # Panics
/// On a mismatch, or a fixture recorded for another version.
pub fn check_algorithm_version(crate_name: &str, version: u32, summary: &[(&str, Vec<f64>)]) {
    let path = fixtures_dir()
        .join("algorithm_version")
        .join(format!("{crate_name}.json"));
    let now = serde_json::json!({
        "version": version,
        "outputs": summary.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
    });
    if std::env::var_os("AAD_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (AAD_BLESS=1 writes it)", path.display()));
    let old: serde_json::Value = serde_json::from_str(&text).unwrap();
    let old_version = old["version"].as_u64().unwrap();
    assert_eq!(
        old_version,
        u64::from(version),
        "{crate_name}: ALGORITHM_VERSION is {version} but {} records {old_version}: rerun with AAD_BLESS=1",
        path.display()
    );
    for (name, stats) in summary {
        let want: Vec<f64> = old["outputs"][*name]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no output {name}", path.display()))
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(want.len(), stats.len(), "{name}");
        let scale = want.iter().map(|v| v.abs()).fold(1e-12, f64::max);
        for (i, (a, b)) in stats.iter().zip(&want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1e-3 * scale),
                "{crate_name} {name}[{i}]: {a} vs recorded {b}. The numbers changed: bump \
                 {crate_name}::ALGORITHM_VERSION (caches key on it), then rerun with AAD_BLESS=1"
            );
        }
    }
}

/// The fixed signal of the algorithm-version tests: 2.5 s at 16 kHz of a 440 Hz tone, a
/// 3.1 kHz tone and seeded noise.
pub fn algorithm_version_signal() -> aad_core::Signal {
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let x: Vec<f32> = (0..40_000)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let t = i as f32 / 16_000.0;
            0.3 * (std::f32::consts::TAU * 440.0 * t).sin()
                + 0.1 * (std::f32::consts::TAU * 3100.0 * t).sin()
                + ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.05
        })
        .collect();
    aad_core::Signal::new(x, 16_000).unwrap()
}

/// Per-column sums, the overall sum of squares and the shape of a feature matrix: the
/// statistics [`check_algorithm_version`] records.
pub fn feature_summary(m: ArrayView2<'_, f32>) -> Vec<f64> {
    let mut v: Vec<f64> = m
        .columns()
        .into_iter()
        .map(|c| c.iter().map(|&x| f64::from(x)).sum())
        .collect();
    v.push(m.iter().map(|&x| f64::from(x) * f64::from(x)).sum());
    v.push(m.nrows() as f64);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skipped_test_appends_its_name_to_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("skipped.log");
        let mut said = Vec::new();
        report_skip("first", Path::new("/nowhere"), Some(&log), &mut said);
        report_skip("second", Path::new("/nowhere"), Some(&log), &mut said);
        report_skip("unlogged", Path::new("/nowhere"), None, &mut said);
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "first\nsecond\n");
        let said = String::from_utf8(said).unwrap();
        assert_eq!(said.lines().count(), 3);
        assert!(said.starts_with("SKIPPED first: shared data not found at /nowhere"));
    }
}
