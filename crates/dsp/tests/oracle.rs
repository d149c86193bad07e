//! The STFT against a naive DFT of explicitly padded, windowed frames.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aad_dsp::{PadMode, Stft, StftConfig, WindowKind, pad_center, window};

fn signal(n: usize) -> Vec<f32> {
    let mut s = 12345u64;
    (0..n)
        .map(|i| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) + (i as f32 * 0.05).sin()
        })
        .collect()
}

/// Pads like numpy.pad, frames, windows, and evaluates the DFT sum in f64.
fn naive(x: &[f32], cfg: &StftConfig) -> Vec<Vec<(f64, f64)>> {
    let n_fft = cfg.n_fft;
    let pad = if cfg.center { n_fft / 2 } else { 0 };
    let len = x.len() as isize;
    let get = |i: isize| -> f64 {
        if (0..len).contains(&i) {
            f64::from(x[i as usize])
        } else {
            match cfg.pad_mode {
                PadMode::Constant => 0.0,
                PadMode::Reflect => {
                    // numpy reflect, repeated as needed.
                    let mut j = i;
                    while !(0..len).contains(&j) {
                        j = if j < 0 { -j } else { 2 * (len - 1) - j };
                    }
                    f64::from(x[j as usize])
                }
            }
        }
    };
    let w = pad_center(&window(cfg.window, cfg.win_length.unwrap_or(n_fft)), n_fft);
    (0..cfg.num_frames(x.len()))
        .map(|t| {
            let start = (t * cfg.hop_length) as isize - pad as isize;
            (0..=n_fft / 2)
                .map(|k| {
                    let (mut re, mut im) = (0.0, 0.0);
                    for (n, wn) in w.iter().enumerate() {
                        let v = get(start + n as isize) * wn;
                        let ang = -std::f64::consts::TAU * (k * n) as f64 / n_fft as f64;
                        re += v * ang.cos();
                        im += v * ang.sin();
                    }
                    (re, im)
                })
                .collect()
        })
        .collect()
}

#[test]
fn stft_equals_a_naive_dft_in_every_configuration() {
    let x = signal(1500);
    for cfg in [
        StftConfig::new(256, 64),
        StftConfig::new(256, 100).pad_mode(PadMode::Reflect),
        StftConfig::new(128, 50).center(false),
        StftConfig::new(256, 64)
            .win_length(Some(200))
            .window(WindowKind::HannSymmetric),
        StftConfig::new(64, 16).window(WindowKind::Ones),
    ] {
        let want = naive(&x, &cfg);
        let mut s64 = Stft::<f64>::new(cfg.clone()).unwrap();
        let mut s32 = Stft::<f32>::new(cfg.clone()).unwrap();
        let mut got64 = Vec::new();
        s64.process(&x, |_, spec| got64.push(spec.to_vec()))
            .unwrap();
        let mut got32 = Vec::new();
        s32.process(&x, |_, spec| got32.push(spec.to_vec()))
            .unwrap();
        assert_eq!(got64.len(), want.len(), "{cfg:?}");
        let scale: f64 = want
            .iter()
            .flatten()
            .map(|(r, i)| r.hypot(*i))
            .fold(0.0, f64::max);
        for (t, frame) in want.iter().enumerate() {
            for (k, &(re, im)) in frame.iter().enumerate() {
                let a = got64[t][k];
                assert!(
                    (a.re - re).abs() < 1e-10 * scale && (a.im - im).abs() < 1e-10 * scale,
                    "{cfg:?} f64 t={t} k={k}"
                );
                let b = got32[t][k];
                let err = (f64::from(b.re) - re).hypot(f64::from(b.im) - im);
                assert!(err < 2e-6 * scale, "{cfg:?} f32 t={t} k={k}: {err}");
            }
        }
    }
}

#[test]
fn a_clone_and_a_reused_plan_give_identical_output() {
    let x = signal(4000);
    let mut a = Stft::<f32>::new(StftConfig::new(512, 128)).unwrap();
    let mut b = a.clone();
    let mut p1 = ndarray::Array2::zeros((a.num_frames(x.len()), a.n_bins()));
    let mut p2 = p1.clone();
    let mut p3 = p1.clone();
    a.power_into(&x, p1.view_mut()).unwrap();
    a.power_into(&x, p2.view_mut()).unwrap();
    b.power_into(&x, p3.view_mut()).unwrap();
    assert_eq!(p1, p2);
    assert_eq!(p1, p3);
    let mut wrong = ndarray::Array2::zeros((3, 3));
    assert!(a.power_into(&x, wrong.view_mut()).is_err());
    let mut nc = Stft::<f32>::new(StftConfig::new(512, 128).center(false)).unwrap();
    assert!(nc.process(&x[..100], |_, _| {}).is_err());
}

#[test]
fn stft_types_cross_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Stft<f32>>();
    assert_send_sync::<Stft<f64>>();
    assert_send_sync::<StftConfig>();
    assert_send_sync::<aad_dsp::DspError>();
}
