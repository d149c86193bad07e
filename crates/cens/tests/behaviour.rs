//! Self-checks, edge cases, variants and bad input of the chroma and CENS extractors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aad_core::{FeatureExtractor, Signal};
use cens_features::*;
use ndarray::Array2;

fn sine(f: f64, seconds: f64, sr: u32) -> Signal {
    let n = (seconds * f64::from(sr)) as usize;
    Signal::new(
        (0..n)
            .map(|i| (std::f64::consts::TAU * f * i as f64 / f64::from(sr)).sin() as f32)
            .collect(),
        sr,
    )
    .unwrap()
}

fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.5
        })
        .collect()
}

/// anchors.md §3.4: a unit sine at a bin centre gives |C_k| ≈ 0.5 sqrt(L_k).
#[test]
fn a_unit_sine_at_a_bin_centre_gives_half_sqrt_of_the_filter_length() {
    let mut cqt = Cqt::new(CqtConfig::default().tuning(Tuning::Fixed(0.0))).unwrap();
    let freqs = cqt.frequencies().to_vec();
    for bin in [10usize, 46, 118, 190, 226, 250] {
        let f = freqs[bin];
        let sig = sine(f, 4.0, 16_000);
        let mut c = Array2::zeros((cqt.num_frames(sig.len()), 252));
        cqt.magnitude_into(sig.samples(), 16_000, c.view_mut())
            .unwrap();
        // Q = 1 / alpha for 36 bins per octave; L_k = Q sr / f_k.
        let r = 2f64.powf(2.0 / 36.0);
        let q = (r + 1.0) / (r - 1.0);
        let l = q * 16_000.0 / f;
        let mid = c[[c.nrows() / 2, bin]] as f64;
        let want = 0.5 * l.sqrt();
        assert!(
            (mid / want - 1.0).abs() < 0.02,
            "bin {bin} ({f:.1} Hz): {mid} vs {want}"
        );
    }
}

#[test]
fn silence_gives_zero_chroma_and_zero_cens_never_nan() {
    let silence = Signal::new(vec![0.0; 32_000], 16_000).unwrap();
    let chroma = ChromaCqtExtractor::new(ChromaCqtConfig::default())
        .unwrap()
        .extract(&silence)
        .unwrap();
    assert!(chroma.iter().all(|v| *v == 0.0));
    let stft = ChromaStftExtractor::new(ChromaStftConfig::default())
        .unwrap()
        .extract(&silence)
        .unwrap();
    assert!(stft.iter().all(|v| *v == 0.0));
    let cens = CensExtractor::new(CensConfig::librosa(16_000))
        .unwrap()
        .extract(&silence)
        .unwrap();
    assert!(cens.iter().all(|v| *v == 0.0));
    // Müller's variant fills silent frames with the flat unit vector instead.
    let muller = CensExtractor::new(CensConfig::muller(16_000, 41, 10))
        .unwrap()
        .extract(&silence)
        .unwrap();
    let flat = (1.0 / 12f64.sqrt()) as f32;
    assert!(
        muller.iter().all(|v| (*v - flat).abs() < 1e-6),
        "{:?}",
        muller.row(0)
    );
}

#[test]
fn cens_variants_have_the_documented_shapes_and_norms() {
    let sig = Signal::new(noise(160_000, 3), 16_000).unwrap();
    for (cfg, frames) in [
        (CensConfig::librosa(16_000), 313),
        (CensConfig::seed(16_000), 63),
        (CensConfig::muller(16_000, 41, 10), 32),
        (
            CensConfig::librosa(16_000).smoothing(Some(9)).downsample(2),
            157,
        ),
        (CensConfig::librosa(16_000).smoothing(None), 313),
    ] {
        let mut fx = CensExtractor::new(cfg.clone()).unwrap();
        assert_eq!(fx.num_frames(sig.len()), frames);
        let c = fx.extract(&sig).unwrap();
        assert_eq!(c.dim(), (frames, 12), "{cfg:?}");
        for row in c.rows() {
            let n: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((n - 1.0).abs() < 1e-5, "{cfg:?}: norm {n}");
            assert!(row.iter().all(|v| *v >= 0.0));
        }
    }
}

#[test]
fn the_seed_variant_is_every_fifth_frame_of_librosa_cens() {
    let sig = Signal::new(noise(80_000, 5), 16_000).unwrap();
    let full = CensExtractor::new(CensConfig::librosa(16_000))
        .unwrap()
        .extract(&sig)
        .unwrap();
    let seed = CensExtractor::new(CensConfig::seed(16_000))
        .unwrap()
        .extract(&sig)
        .unwrap();
    assert_eq!(
        seed,
        aad_core::ops::every_nth_frame(full.view(), 5).unwrap()
    );
}

#[test]
fn cens_from_chroma_quantises_smooths_and_normalises_as_librosa_defines() {
    // One frame with chroma energy all in C: L1 -> [1, 0, ...] -> quantised 1.0 (four
    // steps exceeded) -> smoothing of a single frame keeps the direction -> [1, 0, ...].
    let mut chroma = Array2::zeros((1, 12));
    chroma[[0, 0]] = 3.0;
    let mut work = Array2::zeros((0, 0));
    let mut out = Array2::zeros((1, 12));
    cens_from_chroma_into(
        chroma.view(),
        &CensConfig::default(),
        &mut work,
        out.view_mut(),
    )
    .unwrap();
    assert_eq!(out[[0, 0]], 1.0);
    assert!(out.iter().skip(1).all(|v| *v == 0.0));
    // Strict '>' vs '>=': a value exactly at a step.
    let mut chroma = Array2::zeros((1, 12));
    chroma[[0, 0]] = 0.4;
    chroma[[0, 1]] = 0.6;
    let unsmoothed = CensConfig::default()
        .smoothing(None)
        .chroma(ChromaCqtConfig::default());
    cens_from_chroma_into(chroma.view(), &unsmoothed, &mut work, out.view_mut()).unwrap();
    // 0.4 > 0.2, 0.1, 0.05 (3 steps, 0.75) but not > 0.4; 0.6 exceeds all four (1.0).
    let ratio = out[[0, 0]] / out[[0, 1]];
    assert!((ratio - 0.75).abs() < 1e-6, "{ratio}");
}

#[test]
fn all_paths_agree_reused_buffer_clone_and_a_second_clip() {
    let a = Signal::new(noise(40_000, 8), 16_000).unwrap();
    let b = Signal::new(noise(40_000, 9), 16_000).unwrap();
    let mut fx = CensExtractor::new(CensConfig::librosa(16_000)).unwrap();
    let mut twin = fx.clone();
    let first = fx.extract(&a).unwrap();
    let other = fx.extract(&b).unwrap();
    let mut buf = Array2::from_elem((fx.num_frames(a.len()), 12), f32::NAN);
    fx.extract_into(&a, buf.view_mut()).unwrap();
    assert_eq!(first, buf);
    assert_eq!(twin.extract(&b).unwrap(), other);
    assert_eq!(twin.extract(&a).unwrap(), first);
}

#[test]
fn bad_parameters_and_inputs_get_typed_errors() {
    // 7 octaves from C1 at 36 bins/octave reach 4.2 kHz: 8 kHz audio has Nyquist 4 kHz.
    let e = ChromaCqtExtractor::new(ChromaCqtConfig::with_sample_rate(8000)).unwrap_err();
    assert!(
        matches!(
            e,
            CensError::AboveNyquist {
                sample_rate: 8000,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("Nyquist frequency 4000"), "{e}");
    assert!(CensExtractor::new(CensConfig::librosa(16_000).downsample(0)).is_err());
    assert!(CensExtractor::new(CensConfig::librosa(16_000).smoothing(Some(0))).is_err());
    assert!(
        CensExtractor::new(CensConfig::librosa(16_000).quantisation(vec![0.4], vec![])).is_err()
    );
    assert!(
        CensExtractor::new(CensConfig::librosa(16_000).quantisation(vec![f32::NAN], vec![1.0]))
            .is_err()
    );
    let mut bad = ChromaCqtConfig::default();
    bad.n_chroma = 10;
    assert!(matches!(
        ChromaCqtExtractor::new(bad),
        Err(CensError::InvalidConfig {
            name: "bins_per_octave",
            ..
        })
    ));
    assert!(Cqt::new(CqtConfig::default().tuning(Tuning::Fixed(0.9))).is_err());
    assert!(Cqt::new(CqtConfig::default().hop_length(0)).is_err());
    let mut fx = CensExtractor::new(CensConfig::librosa(16_000)).unwrap();
    let e = fx.extract(&sine(440.0, 1.0, 22_050)).unwrap_err();
    assert_eq!(
        e,
        CensError::SampleRate {
            expected: 16_000,
            got: 22_050
        }
    );
    let mut wrong = Array2::zeros((3, 12));
    assert!(
        fx.extract_into(&sine(440.0, 1.0, 16_000), wrong.view_mut())
            .is_err()
    );
}

#[test]
fn very_short_clips_and_other_rates_work() {
    // One sample and 100 samples: librosa gives 1 frame; so do we, finite.
    for n in [1usize, 100, 511, 513] {
        let sig = Signal::new(noise(n, 11), 16_000).unwrap();
        let c = CensExtractor::new(CensConfig::librosa(16_000))
            .unwrap()
            .extract(&sig)
            .unwrap();
        assert_eq!(c.nrows(), 1 + n / 512, "{n}");
        assert!(c.iter().all(|v| v.is_finite()));
    }
    // 44.1 kHz decimates once before the octave loop (librosa's early downsampling).
    let sig = Signal::new(noise(44_100, 12), 44_100).unwrap();
    let mut fx = ChromaCqtExtractor::new(ChromaCqtConfig::with_sample_rate(44_100)).unwrap();
    let c = fx.extract(&sig).unwrap();
    assert_eq!(c.nrows(), 1 + 44_100 / 512);
}

#[test]
fn extractors_cross_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<CensExtractor>();
    assert_send_sync::<ChromaCqtExtractor>();
    assert_send_sync::<ChromaStftExtractor>();
    assert_send_sync::<Cqt>();
    assert_send_sync::<CensError>();
}

#[test]
fn absurd_sample_rates_are_refused_before_planning() {
    // A header's 48 MHz once cost 13 s of CQT planning; now it is a config error.
    for sr in [0u32, 999, 384_001, 48_000_000, u32::MAX] {
        let e = CensExtractor::new(CensConfig::librosa(sr)).unwrap_err();
        assert!(e.to_string().contains("sample_rate"), "{sr}: {e}");
        assert!(ChromaStftExtractor::new(ChromaStftConfig::with_sample_rate(sr)).is_err());
    }
    assert!(CensExtractor::new(CensConfig::librosa(384_000)).is_ok());
}
