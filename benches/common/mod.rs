//! Shared bench helpers: synthetic clips and group settings.
#![allow(clippy::expect_used, clippy::unwrap_used)]
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use criterion::Criterion;

pub const SR: u32 = 16_000;

/// Deterministic uniform noise in [-0.5, 0.5) (xorshift; benches do not depend on `rand`).
pub fn noise(seed: u64) -> impl FnMut() -> f32 {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
}

/// A machine-like test signal (harmonics, noise and clicks), deterministic.
pub fn machine_like(n: usize, seed: u64) -> Vec<f32> {
    let mut noise = noise(seed);
    (0..n)
        .map(|i| {
            let t = i as f32 / SR as f32;
            let h: f32 = (1..=20)
                .map(|k| {
                    (std::f32::consts::TAU * 50.0 * k as f32 * t + k as f32).sin()
                        / (k as f32).sqrt()
                })
                .sum();
            let click = if i % 4000 < 80 {
                (-(((i % 4000) as f32) / 16.0)).exp()
            } else {
                0.0
            };
            0.05 * h + 0.05 * noise() + 0.3 * click
        })
        .collect()
}

/// Writes an `channels`-channel 16-bit WAV of `seconds` into a temporary folder.
pub fn wav_file(dir: &std::path::Path, channels: u16, seconds: f64) -> PathBuf {
    let n = (seconds * f64::from(SR)) as usize;
    let mono = machine_like(n, 1);
    let inter: Vec<f32> = mono
        .iter()
        .flat_map(|&x| (0..channels).map(move |c| x * (1.0 - 0.05 * f32::from(c))))
        .collect();
    let path = dir.join(format!("bench_{channels}ch.wav"));
    aad::audio::write_wav_i16(
        &path,
        &inter,
        aad::audio::WavFormat::mono(SR).with_channels(channels),
    )
    .expect("write bench wav");
    path
}

/// Criterion settings shared by the benches: short runs, stable enough on 2 cores.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}
