//! Bad input, edge cases and "all paths agree" checks of the Mel extractors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aad_core::{FeatureExtractor, Signal, ops};
use mel_features::{LogScale, MelConfig, MelError, MelExtractor, MfccConfig, MfccExtractor};
use ndarray::Array2;

fn noise(n: usize, sr: u32) -> Signal {
    let mut s = 99u64;
    let x = (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.4
        })
        .collect();
    Signal::new(x, sr).unwrap()
}

#[test]
fn extract_into_a_reused_buffer_a_clone_and_extract_agree() {
    let sig = noise(40_000, 16_000);
    for cfg in [
        MelConfig::dcase2020(),
        MelConfig::seed(),
        MelConfig::mimii_baseline().log(LogScale::POWER_TO_DB),
    ] {
        let mut a = MelExtractor::new(cfg.clone()).unwrap();
        let mut b = a.clone();
        let first = a.extract(&sig).unwrap();
        let mut buf = Array2::from_elem((a.num_frames(sig.len()), a.dims()), f32::NAN);
        a.extract_into(&sig, buf.view_mut()).unwrap();
        a.extract_into(&sig, buf.view_mut()).unwrap();
        assert_eq!(first, buf);
        assert_eq!(first, b.extract(&sig).unwrap());
        // Stacking is exactly ops::stack_frames of the unstacked frames.
        let mut flat = MelExtractor::new(cfg.clone().context(1)).unwrap();
        let frames = flat.extract(&sig).unwrap();
        assert_eq!(
            first,
            ops::stack_frames(frames.view(), cfg.context).unwrap()
        );
    }
}

#[test]
fn presets_have_the_baselines_shapes() {
    let ten_s = noise(160_000, 16_000);
    let shape = |cfg: MelConfig| {
        MelExtractor::new(cfg)
            .unwrap()
            .extract(&ten_s)
            .unwrap()
            .dim()
    };
    assert_eq!(shape(MelConfig::dcase2020()), (309, 640));
    assert_eq!(shape(MelConfig::mimii_baseline()), (309, 320));
    assert_eq!(shape(MelConfig::seed()), (313, 64));
    let seed_mfcc = MfccExtractor::new(MfccConfig::seed())
        .unwrap()
        .extract(&ten_s)
        .unwrap();
    assert_eq!(seed_mfcc.dim(), (134, 12));
}

#[test]
fn silence_gives_the_defined_floor_for_every_log() {
    let silence = Signal::new(vec![0.0; 20_000], 16_000).unwrap();
    for (log, floor) in [
        (LogScale::BASELINE, 10.0 * (f64::EPSILON as f32).log10()),
        (LogScale::POWER_TO_DB, -100.0),
        (LogScale::Ln { offset: 1e-6 }, (1e-6f32).ln()),
    ] {
        let m = MelExtractor::new(MelConfig::dcase2020().log(log))
            .unwrap()
            .extract(&silence)
            .unwrap();
        assert!(
            m.iter().all(|v| (v - floor).abs() < 1e-3),
            "{log:?}: {:?}",
            m.iter().next()
        );
    }
    let mfcc = MfccExtractor::new(MfccConfig::default())
        .unwrap()
        .extract(&silence)
        .unwrap();
    assert!(mfcc.iter().all(|v| v.is_finite()));
}

#[test]
fn bad_parameters_and_inputs_get_typed_errors_with_the_numbers() {
    let e = MelExtractor::new(MelConfig::dcase2020().n_mels(0)).unwrap_err();
    assert!(
        matches!(e, MelError::InvalidConfig { name: "n_mels", .. }),
        "{e}"
    );
    let e = MelExtractor::new(MelConfig::dcase2020().context(0)).unwrap_err();
    assert!(e.to_string().contains("context = 0"), "{e}");
    // Slaney mels are 66.7 Hz apart below 1 kHz: beyond ~390 bands at 16 kHz, adjacent
    // filter edges fall between two 15.6 Hz FFT bins.
    let e = MelExtractor::new(MelConfig::dcase2020().n_mels(512)).unwrap_err();
    assert!(
        matches!(
            e,
            MelError::EmptyFilter {
                n_mels: 512,
                n_fft: 1024,
                ..
            }
        ),
        "{e}"
    );
    let e = MelExtractor::new(MelConfig::dcase2020().freq_range(5000.0, Some(4000.0))).unwrap_err();
    assert!(e.to_string().contains("5000/4000"), "{e}");
    let e = MelExtractor::new(MelConfig::dcase2020().freq_range(0.0, Some(9000.0))).unwrap_err();
    assert!(e.to_string().contains("sr/2 = 8000"), "{e}");
    assert!(MelExtractor::new(MelConfig::dcase2020().log(LogScale::Eps { eps: 0.0 })).is_err());
    assert!(MelExtractor::new(MelConfig::dcase2020().log(LogScale::Eps { eps: -1.0 })).is_err());
    assert!(MelExtractor::new(MelConfig::dcase2020().sample_rate(0)).is_err());
    assert!(
        MelExtractor::new(MelConfig::dcase2020().stft(aad_dsp::StftConfig::new(1024, 0))).is_err()
    );
    assert!(MfccExtractor::new(MfccConfig::new(MelConfig::default(), 0)).is_err());
    assert!(MfccExtractor::new(MfccConfig::new(MelConfig::default(), 200)).is_err());

    let mut fx = MelExtractor::new(MelConfig::dcase2020()).unwrap();
    // 2000 samples give 4 frames, fewer than the 5 that stacking needs.
    let short = noise(2000, 16_000);
    let e = fx.extract(&short).unwrap_err();
    assert_eq!(
        e,
        MelError::TooShort {
            samples: 2000,
            frames: 4,
            need: 5
        }
    );
    let e = fx.extract(&noise(16_000, 22_050)).unwrap_err();
    assert_eq!(
        e,
        MelError::SampleRate {
            expected: 16_000,
            got: 22_050
        }
    );
    let mut wrong = Array2::zeros((10, 640));
    assert!(
        fx.extract_into(&noise(16_000, 16_000), wrong.view_mut())
            .is_err()
    );
}

#[test]
fn extractors_cross_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<MelExtractor>();
    assert_send_sync::<MfccExtractor>();
    assert_send_sync::<MelConfig>();
    assert_send_sync::<MelError>();
}

#[test]
fn absurd_sample_rates_are_refused() {
    for sr in [0u32, 999, 384_001, 48_000_000] {
        let e = mel_features::MelExtractor::new(mel_features::MelConfig::default().sample_rate(sr))
            .unwrap_err();
        assert!(e.to_string().contains("sample_rate"), "{sr}: {e}");
    }
}
