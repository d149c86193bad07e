//! Scores the explanations against the synthetic generator's ground truth: for each
//! machine of an `aad synth` set, fits the default detector on the baseline split's
//! training normals, explains every test clip, and checks, among the anomalous clips the
//! detector flags, whether
//! - the reported band contains one of the tones a tonal hum added (`humming`: a bearing
//!   tone, a coil buzz, a servo whine; `imbalance` is reported apart, it adds no new tone
//!   in the band of interest),
//! - a clicking clip is reported as a transient with a time span that overlaps a click
//!   (within `--tolerance-s`, one analysis window by default),
//! - a leak's or rubbing's reported band overlaps its noise band.
//!
//! ```text
//! cargo run --release --example explain_truth -- [--data DIR] [--fraction 0.125] [--out DIR]
//! ```
//! Without `--data` it generates `aad synth --preset mimii --fraction F --seed S` into
//! OUT/syn (`--synth-seed S`, 1 by default).
//! Writes OUT/explain_truth.csv (one row per test clip) and OUT/explain_truth.md (the
//! table per SNR and kind, with Wilson 95 % intervals), and prints the table.
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use aad_core::Label;
use aad_engine::explain::{Explanation, Kind, explain_files};
use aad_engine::model::{FitOptions, Model};
use anyhow::{Context, Result, bail};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// A synthetic set with its anomaly_kinds.csv (default: generate one into OUT/syn).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Fraction of the mimii preset to generate without --data.
    #[arg(long, default_value_t = 0.125)]
    fraction: f64,
    /// Output folder.
    #[arg(long, default_value = "explain_truth")]
    out: PathBuf,
    /// Slack around a reported span when matching click times, seconds (default: the
    /// 64 ms analysis window of the default feature).
    #[arg(long, default_value_t = 0.064)]
    tolerance_s: f64,
    /// Seed of the fit.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The detector (one with explanations: a kNN on clip summaries, or an autoencoder
    /// scored by its squared error).
    #[arg(long, default_value = aad_engine::model::DEFAULT_DETECTOR)]
    detector: String,
    /// Autoencoder epochs (default: the preset's).
    #[arg(long)]
    epochs: Option<usize>,
    /// Seed of the generated set without --data (the explanations' one tuned constant
    /// was chosen on seed 1; seed 2 is the held-out check).
    #[arg(long, default_value_t = 1)]
    synth_seed: u64,
}

/// One clip's ground truth, as anomaly_kinds.csv lists it.
#[derive(Default, Clone)]
struct Truth {
    kind: String,
    freq_hz: Vec<f64>,
    times_s: Vec<f64>,
    band_hz: Option<(f64, f64)>,
}

fn list(s: &str) -> Vec<f64> {
    s.split(';').filter_map(|x| x.trim().parse().ok()).collect()
}

fn read_truth(root: &Path) -> Result<HashMap<String, Truth>> {
    let path = root.join("anomaly_kinds.csv");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(fi), Some(ki), Some(qi), Some(ti), Some(lo), Some(hi)) = (
        col("file"),
        col("kind"),
        col("freq_hz"),
        col("times_s"),
        col("band_lo_hz"),
        col("band_hi_hz"),
    ) else {
        bail!(
            "{}: no ground-truth columns (made by an older aad synth?)",
            path.display()
        );
    };
    let mut out = HashMap::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let band = match (get(lo).parse(), get(hi).parse()) {
            (Ok(a), Ok(b)) => Some((a, b)),
            _ => None,
        };
        out.insert(
            get(fi).to_string(),
            Truth {
                kind: get(ki).to_string(),
                freq_hz: list(get(qi)),
                times_s: list(get(ti)),
                band_hz: band,
            },
        );
    }
    Ok(out)
}

/// Whether the explanation locates the anomaly: `None` when the kind has no check.
fn located(e: &Explanation, t: &Truth, tol: f64) -> Option<bool> {
    let b = &e.bands[e.band];
    match t.kind.as_str() {
        "humming" | "imbalance" => Some(t.freq_hz.iter().any(|&f| b.lo_hz <= f && f <= b.hi_hz)),
        "clicking" => Some(
            e.kind == Kind::Transient
                && t.times_s
                    .iter()
                    .any(|&x| e.span_s.0 - tol <= x && x <= e.span_s.1 + tol),
        ),
        "leak" | "rubbing" => t.band_hz.map(|(lo, hi)| b.lo_hz <= hi && lo <= b.hi_hz),
        _ => None,
    }
}

/// Wilson score interval at 95 %.
fn wilson(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n, z) = (k as f64, n as f64, 1.959_964);
    let p = k / n;
    let d = 1.0 + z * z / n;
    let c = (p + z * z / (2.0 * n)) / d;
    let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
    ((c - h).max(0.0), (c + h).min(1.0))
}

#[derive(Default)]
struct Tally {
    anomalous: usize,
    flagged: usize,
    checked: usize,
    located: usize,
    kinds: BTreeMap<&'static str, usize>,
}

fn main() -> Result<()> {
    let a = Args::parse();
    std::fs::create_dir_all(&a.out)?;
    let root = match &a.data {
        Some(d) => d.clone(),
        None => {
            let root = a.out.join("syn");
            if !root.join("anomaly_kinds.csv").is_file() {
                let cfg = aad_data::SyntheticConfig::mimii_sized(a.synth_seed).scaled(a.fraction);
                aad_data::generate(&cfg, &root)?;
            }
            root
        }
    };
    let truth = read_truth(&root)?;
    let found = aad_data::discover(&root)?;
    let report = aad_data::split(&found.clips, aad_data::Protocol::MimiiBaseline);
    let opts = FitOptions {
        seed: a.seed,
        threads: 2,
        detector: a.detector.clone(),
        epochs: a.epochs,
        ..FitOptions::default()
    };
    let mut csv = String::from(
        "file,snr,machine_type,label,truth_kind,score,threshold,flagged,kind,band_lo_hz,band_hi_hz,share_mean,share_std,share_max,d_mean,d_std,d_max,start_s,end_s,cycle_period_s,pulse_rate_hz,located\n",
    );
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for g in &report.groups {
        let train: Vec<&Path> = g.train.iter().map(|c| c.path.as_path()).collect();
        let (model, _) = Model::fit_files(&train, &opts).with_context(|| g.key.to_string())?;
        let test: Vec<&Path> = g.test.iter().map(|c| c.path.as_path()).collect();
        let explained = explain_files(&model, &test, &|| {})?;
        for (clip, r) in g.test.iter().zip(explained) {
            let (score, e) = r.with_context(|| clip.path.display().to_string())?;
            let flagged = model.decide(score);
            let t = truth.get(&clip.rel_path).cloned().unwrap_or_default();
            let loc = (clip.label == Label::Anomalous && flagged)
                .then(|| located(&e, &t, a.tolerance_s))
                .flatten();
            let b = &e.bands[e.band];
            csv.push_str(&format!(
                "{},{},{},{},{},{score},{},{},{},{},{},{:.3},{:.3},{:.3},{:.2},{:.2},{:.2},{:.3},{:.3},{},{},{}\n",
                clip.rel_path,
                g.key.snr_label(),
                g.key.machine_type,
                clip.label,
                t.kind,
                model.threshold(),
                u8::from(flagged),
                e.kind.label(),
                b.lo_hz,
                b.hi_hz,
                b.mean,
                b.std,
                b.max,
                b.mean_change,
                b.std_change,
                b.max_change,
                e.span_s.0,
                e.span_s.1,
                e.cycle.map_or(String::new(), |c| format!("{:.3}", c.period_s)),
                e.pulses.map_or(String::new(), |p| format!("{:.2}", p.rate_hz)),
                loc.map_or(String::new(), |l| u8::from(l).to_string())
            ));
            if clip.label != Label::Anomalous {
                continue;
            }
            let tally = tallies
                .entry((g.key.snr_label(), t.kind.clone()))
                .or_default();
            tally.anomalous += 1;
            if flagged {
                tally.flagged += 1;
                *tally.kinds.entry(e.kind.label()).or_default() += 1;
                if let Some(l) = loc {
                    tally.checked += 1;
                    tally.located += usize::from(l);
                }
            }
        }
    }
    let mut md = String::from(
        "| SNR | kind | anomalous | flagged | located / checked | located % [95 % CI] | reported kinds |\n|---|---|---:|---:|---:|---|---|\n",
    );
    for ((snr, kind), t) in &tallies {
        let (lo, hi) = wilson(t.located, t.checked);
        let rate = if t.checked == 0 {
            "-".to_string()
        } else {
            format!(
                "{:.0} [{:.0}, {:.0}]",
                100.0 * t.located as f64 / t.checked as f64,
                100.0 * lo,
                100.0 * hi
            )
        };
        let kinds: Vec<String> = t.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        md.push_str(&format!(
            "| {snr} | {kind} | {} | {} | {} / {} | {rate} | {} |\n",
            t.anomalous,
            t.flagged,
            t.located,
            t.checked,
            kinds.join(", ")
        ));
    }
    for (name, text) in [("explain_truth.csv", &csv), ("explain_truth.md", &md)] {
        aad_core::atomic::write(&a.out.join(name), true, |w| {
            std::io::Write::write_all(w, text.as_bytes())
        })?;
    }
    print!("{md}");
    Ok(())
}
