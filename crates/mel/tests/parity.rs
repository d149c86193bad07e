//! Parity with librosa 0.11: committed fixtures from the project's own synthetic clips
//! (`scripts/fixtures/gen_features.py`) and, when present, `../shared/reference` (real
//! MIMII and DCASE clips).
//!
//! Tolerances (issue #3): STFT power and log-Mel relative Frobenius error <= 1e-5, log-Mel
//! max abs error <= 1e-3 dB; MFCC likewise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use aad_audio::{ChannelPolicy, DecodeOptions, decode_file};
use aad_core::{FeatureExtractor, Signal};
use aad_dsp::{Stft, StftConfig};
use aad_testutil::{Diff, read_npy};
use mel_features::{LogScale, MelConfig, MelExtractor};
use ndarray::Array2;

/// Our features for a clip, transposed to librosa's `[bins, frames]`.
fn ours(signal: &Signal) -> Vec<(&'static str, Array2<f32>)> {
    let mut stft = Stft::<f32>::new(StftConfig::new(1024, 512)).unwrap();
    let mut p = Array2::zeros((stft.num_frames(signal.len()), stft.n_bins()));
    stft.power_into(signal.samples(), p.view_mut()).unwrap();
    let logmel = MelExtractor::new(MelConfig::dcase2020().context(1))
        .unwrap()
        .extract(signal)
        .unwrap();
    let db = MelExtractor::new(MelConfig::dcase2020().context(1).log(LogScale::POWER_TO_DB))
        .unwrap()
        .extract(signal)
        .unwrap();
    vec![
        ("stft_power", p.reversed_axes()),
        ("logmel", logmel.reversed_axes()),
        ("logmel_db", db.reversed_axes()),
    ]
}

fn check_dir(dir: &Path, signal: &Signal) -> Vec<String> {
    let mut report = Vec::new();
    for (name, cand) in ours(signal) {
        let d = Diff::of(
            read_npy(&dir.join(format!("{name}.npy"))).view(),
            cand.view(),
        );
        report.push(format!(
            "{} {name}: rel_fro {:.2e} max_abs {:.2e}",
            dir.file_name().unwrap().to_string_lossy(),
            d.rel_fro,
            d.max_abs
        ));
        assert!(
            d.rel_fro <= 1e-5,
            "{}: {name} rel_fro {:e}",
            dir.display(),
            d.rel_fro
        );
        if name != "stft_power" {
            assert!(
                d.max_abs <= 1e-3,
                "{}: {name} max_abs {:e} dB",
                dir.display(),
                d.max_abs
            );
        }
    }
    report
}

#[test]
fn mel_features_match_librosa_on_every_shared_reference_clip() {
    let Some(shared) = aad_testutil::shared_dir("mel_features_match_librosa_on_shared_reference")
    else {
        return;
    };
    let mut n = 0;
    for entry in std::fs::read_dir(shared.join("reference")).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.join("features.json").is_file() {
            continue;
        }
        let meta = aad_testutil::read_json(&dir.join("features.json"));
        let input = &meta["input"];
        let policy = match input["mono"].as_str().unwrap() {
            "mix" => ChannelPolicy::Mean,
            s => ChannelPolicy::Index(s.trim_start_matches("channel ").parse().unwrap()),
        };
        let wav = shared.join(input["path"].as_str().unwrap());
        let signal = decode_file(&wav, &DecodeOptions::default().channel(policy)).unwrap();
        for line in check_dir(&dir, &signal) {
            eprintln!("{line}");
        }
        n += 1;
    }
    assert_eq!(n, 11, "reference clips checked");
}

fn fixture_dirs() -> Vec<std::path::PathBuf> {
    let root = aad_testutil::fixtures_dir().join("features");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("features.json").is_file())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 6, "fixture clips in {}", root.display());
    dirs
}

fn fixture_signal(dir: &Path) -> Signal {
    let meta = aad_testutil::read_json(&dir.join("features.json"));
    let clip = aad_testutil::workspace_root().join(meta["clip"].as_str().unwrap());
    decode_file(clip, &DecodeOptions::default()).unwrap()
}

fn assert_close(dir: &Path, name: &str, cand: Array2<f32>, rel: f64, abs: Option<f64>) {
    let d = Diff::of(
        read_npy(&dir.join(format!("{name}.npy"))).view(),
        cand.view(),
    );
    let clip = dir.file_name().unwrap().to_string_lossy();
    eprintln!(
        "{clip} {name}: rel_fro {:.2e} max_abs {:.2e}",
        d.rel_fro, d.max_abs
    );
    assert!(
        d.rel_fro <= rel,
        "{clip} {name}: rel_fro {:e} > {rel:e}",
        d.rel_fro
    );
    if let Some(a) = abs {
        assert!(
            d.max_abs <= a,
            "{clip} {name}: max_abs {:e} > {a:e}",
            d.max_abs
        );
    }
}

#[test]
fn mel_features_match_librosa_on_the_committed_fixtures() {
    for dir in fixture_dirs() {
        let signal = fixture_signal(&dir);
        let sr = signal.sample_rate();
        let base = MelConfig::dcase2020().context(1).sample_rate(sr);
        let run = |cfg: MelConfig| {
            MelExtractor::new(cfg)
                .unwrap()
                .extract(&signal)
                .unwrap()
                .reversed_axes()
        };
        assert_close(&dir, "logmel", run(base.clone()), 1e-5, Some(1e-3));
        assert_close(
            &dir,
            "logmel_db",
            run(base.clone().log(LogScale::POWER_TO_DB)),
            1e-5,
            Some(1e-3),
        );
        assert_close(
            &dir,
            "logmel_reflect",
            run(base.clone().pad_mode(aad_dsp::PadMode::Reflect)),
            1e-5,
            Some(1e-3),
        );
        let htk = base
            .clone()
            .n_mels(64)
            .scale(mel_features::MelScale::Htk, mel_features::MelNorm::None);
        assert_close(&dir, "logmel_htk", run(htk), 1e-5, Some(1e-3));
        let mfcc = mel_features::MfccExtractor::new(mel_features::MfccConfig::new(
            MelConfig::default()
                .sample_rate(sr)
                .log(LogScale::POWER_TO_DB),
            20,
        ))
        .unwrap()
        .extract(&signal)
        .unwrap()
        .reversed_axes();
        // MFCC: relative Frobenius as for log-Mel; absolute error bounded by the log-Mel
        // error times sqrt(n_mels).
        assert_close(&dir, "mfcc", mfcc, 1e-5, Some(1e-2));
        if dir.join("stft_power.npy").is_file() {
            let mut stft = Stft::<f32>::new(StftConfig::new(1024, 512)).unwrap();
            let mut p = Array2::zeros((stft.num_frames(signal.len()), stft.n_bins()));
            stft.power_into(signal.samples(), p.view_mut()).unwrap();
            assert_close(&dir, "stft_power", p.reversed_axes(), 1e-5, None);
        }
    }
}

#[test]
fn mfcc_of_the_reference_clips_is_the_dct_of_librosas_log_mel() {
    // shared/reference has no MFCC arrays; librosa's MFCC of the same mels is the
    // orthonormal DCT-II of logmel_db, computed here independently in f64.
    let Some(shared) = aad_testutil::shared_dir("mfcc_of_the_reference_clips") else {
        return;
    };
    let dir = shared
        .join("reference")
        .join("mimii_m6dB_fan_id_00_normal_00000000");
    let meta = aad_testutil::read_json(&dir.join("features.json"));
    let signal = decode_file(
        shared.join(meta["input"]["path"].as_str().unwrap()),
        &DecodeOptions::default(),
    )
    .unwrap();
    let db = read_npy(&dir.join("logmel_db.npy")); // 128 x 313
    let n = db.nrows() as f64;
    let want = Array2::from_shape_fn((20, db.ncols()), |(k, t)| {
        let s = if k == 0 {
            (1.0 / n).sqrt()
        } else {
            (2.0 / n).sqrt()
        };
        (s * db
            .column(t)
            .iter()
            .enumerate()
            .map(|(m, &v)| {
                f64::from(v)
                    * (std::f64::consts::PI * k as f64 * (2 * m + 1) as f64 / (2.0 * n)).cos()
            })
            .sum::<f64>()) as f32
    });
    let cfg = mel_features::MfccConfig::new(
        MelConfig::dcase2020().context(1).log(LogScale::POWER_TO_DB),
        20,
    );
    let got = mel_features::MfccExtractor::new(cfg)
        .unwrap()
        .extract(&signal)
        .unwrap()
        .reversed_axes();
    let d = Diff::of(want.view(), got.view());
    eprintln!(
        "reference MFCC: rel_fro {:.2e} max_abs {:.2e}",
        d.rel_fro, d.max_abs
    );
    assert!(d.rel_fro <= 1e-5, "{d:?}");
}
