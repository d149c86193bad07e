//! Small signal-generation helpers for the synthetic machine sounds.

use biquad::{Biquad, Coefficients, DirectForm2Transposed, ToHertz, Type};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

pub(crate) type Rng8 = ChaCha8Rng;

pub(crate) fn gauss(rng: &mut Rng8) -> f32 {
    rng.sample(StandardNormal)
}

pub(crate) fn uniform(rng: &mut Rng8, lo: f64, hi: f64) -> f64 {
    rng.random_range(lo..hi)
}

pub(crate) fn white(rng: &mut Rng8, n: usize) -> Vec<f32> {
    (0..n).map(|_| gauss(rng)).collect()
}

/// Pink (1/f) noise with Paul Kellet's economy filter, unit-ish RMS.
pub(crate) fn pink(rng: &mut Rng8, n: usize) -> Vec<f32> {
    let (mut b0, mut b1, mut b2) = (0.0f32, 0.0f32, 0.0f32);
    let mut out: Vec<f32> = (0..n)
        .map(|_| {
            let w = gauss(rng);
            b0 = 0.99765 * b0 + w * 0.099_046;
            b1 = 0.963 * b1 + w * 0.296_516_4;
            b2 = 0.57 * b2 + w * 1.052_691_3;
            b0 + b1 + b2 + w * 0.1848
        })
        .collect();
    normalize_rms(&mut out, 1.0);
    out
}

/// Filters `x` in place with an RBJ biquad; frequencies are clamped below Nyquist.
pub(crate) fn filter(x: &mut [f32], kind: Type<f32>, fs: f32, f0: f32, q: f32) {
    let f0 = f0.clamp(10.0, 0.45 * fs);
    if let Ok(c) = Coefficients::<f32>::from_params(kind, fs.hz(), f0.hz(), q) {
        let mut bq = DirectForm2Transposed::<f32>::new(c);
        for v in x.iter_mut() {
            *v = bq.run(*v);
        }
    }
}

pub(crate) fn bandpassed(mut x: Vec<f32>, fs: f32, f0: f32, q: f32) -> Vec<f32> {
    filter(&mut x, Type::BandPass, fs, f0, q);
    filter(&mut x, Type::BandPass, fs, f0, q);
    x
}

pub(crate) fn rms(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / x.len() as f64).sqrt() as f32
}

pub(crate) fn normalize_rms(x: &mut [f32], target: f32) {
    let r = rms(x);
    if r > 0.0 {
        let g = target / r;
        x.iter_mut().for_each(|v| *v *= g);
    }
}

pub(crate) fn db(x: f64) -> f32 {
    10f64.powf(x / 20.0) as f32
}

pub(crate) fn add_scaled(dst: &mut [f32], src: &[f32], g: f32) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d += g * s);
}

/// A speed profile around 1: per-clip offset, a slow sinusoidal drift and a smoothed
/// random walk, so tonal components wander as real machines do.
pub(crate) fn speed_profile(
    rng: &mut Rng8,
    n: usize,
    fs: f32,
    offset: f64,
    drift: f64,
) -> Vec<f32> {
    let period = uniform(rng, 3.0, 9.0) as f32;
    let phase = uniform(rng, 0.0, std::f64::consts::TAU) as f32;
    let mut walk = white(rng, n);
    filter(&mut walk, Type::LowPass, fs, 0.7, 0.7);
    normalize_rms(&mut walk, (drift * 0.5) as f32);
    (0..n)
        .map(|i| {
            let t = i as f32 / fs;
            1.0 + offset as f32
                + drift as f32 * (std::f32::consts::TAU * t / period + phase).sin()
                + walk[i]
        })
        .collect()
}

/// Adds `amp * sin(phase)` where the phase advances by `2 pi * f0 * speed[i] / fs`.
pub(crate) fn add_tone(out: &mut [f32], fs: f32, f0: f32, speed: &[f32], amp: f32, phase0: f32) {
    if f0 >= 0.48 * fs {
        return;
    }
    let mut ph = f64::from(phase0);
    let step = std::f64::consts::TAU * f64::from(f0) / f64::from(fs);
    for (o, &s) in out.iter_mut().zip(speed) {
        *o += amp * (ph as f32).sin();
        ph += step * f64::from(s);
        if ph > std::f64::consts::TAU {
            ph -= std::f64::consts::TAU;
        }
    }
}

/// A resonant mode of a struck structure: frequency, decay time constant, amplitude.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mode {
    pub f: f32,
    pub tau: f32,
    pub amp: f32,
}

/// Adds a transient (sum of exponentially decaying modes) starting at sample `start`.
pub(crate) fn add_transient(out: &mut [f32], fs: f32, start: isize, modes: &[Mode], gain: f32) {
    for m in modes {
        let len = ((6.0 * m.tau * fs) as usize).max(1);
        for k in 0..len {
            let i = start + k as isize;
            if i < 0 {
                continue;
            }
            let Some(o) = out.get_mut(i as usize) else {
                break;
            };
            let t = k as f32 / fs;
            *o += gain * m.amp * (-t / m.tau).exp() * (std::f32::consts::TAU * m.f * t).sin();
        }
    }
}

pub(crate) fn random_modes(
    rng: &mut Rng8,
    n: usize,
    f_lo: f64,
    f_hi: f64,
    tau_lo: f64,
    tau_hi: f64,
) -> Vec<Mode> {
    (0..n)
        .map(|_| Mode {
            f: uniform(rng, f_lo, f_hi) as f32,
            tau: uniform(rng, tau_lo, tau_hi) as f32,
            amp: uniform(rng, 0.4, 1.0) as f32,
        })
        .collect()
}

/// A smooth gate: 1 inside [a, b) seconds with `ramp` second cosine edges.
pub(crate) fn gate(t: f32, a: f32, b: f32, ramp: f32) -> f32 {
    if t < a - ramp || t >= b + ramp {
        0.0
    } else if t < a {
        0.5 - 0.5 * (std::f32::consts::PI * (t - (a - ramp)) / ramp).cos()
    } else if t < b {
        1.0
    } else {
        0.5 + 0.5 * (std::f32::consts::PI * (t - b) / ramp).cos()
    }
}
