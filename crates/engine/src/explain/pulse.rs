//! Fast trains of short events in a band, read from the waveform.
//!
//! A fan's bearing or blade that ticks once per revolution clicks 10 to 50 times a
//! second. At that rate every analysis frame of the features (64 ms) holds a click, so
//! the band's level per frame is as steady as a tone's: the features see a level change,
//! not a transient. The waveform still shows it. [`find`] band-passes a stretch of the
//! signal to the reported band, takes its power envelope in 1 ms bins, and asks whether
//! three in four 100 ms windows hold a peak standing far above their own median (a click
//! over the band's level between clicks), as envelope analysis in bearing diagnostics
//! does; the envelope's spectrum then gives the rate.

use std::cell::RefCell;

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;
use rustfft::FftPlanner;

use super::median;

/// A train of short events in a band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PulseTrain {
    /// How many events a second.
    pub rate_hz: f64,
    /// How far the events stand above the band between them: the band's peak power over
    /// its median power in a 100 ms window, as three windows in four reach it at least
    /// (the lower quartile over the windows).
    pub peak_ratio: f64,
}

/// The envelope's bins, seconds: shorter than a click's ringing is long.
const BIN_S: f64 = 0.001;
/// The windows a peak is looked for in, seconds: a train of 10 events a second or more
/// puts one in every window (one of 8 a second, in four windows of five).
const WINDOW_S: f64 = 0.1;
/// Fewest windows read.
const MIN_WINDOWS: usize = 10;
/// Narrowest band read, Hz: a narrower band's envelope cannot rise and fall within a few
/// milliseconds, as a click's does.
const MIN_BAND_HZ: f64 = 200.0;
/// Fewest samples of the interpolated envelope averaged per bin.
const MIN_PER_BIN: usize = 4;
/// A train when in three windows in four the peak stands this many times above the
/// window's median power. Chosen on the synthetic set of seed 1, where the fans' clicking
/// trains of 13 to 31 a second reach up to 90 (16 of 18 reach 8) and hums, leaks and
/// normal clips stay below 6.5. The median window was read at first; it let valve clips
/// through whose own clicks fill some windows (6 normal valve clips of each seed, and a
/// leak and an imbalance clip), so the quartile was taken after looking at both sets.
const MIN_RATIO: f64 = 8.0;
/// The rates looked for, events a second.
const RATE_HZ: (f64, f64) = (5.0, 100.0);
/// The envelope's spectrum is read on a grid this many times finer than its length gives.
const RATE_PAD: usize = 4;
/// Harmonics of a rate summed when the rate is estimated.
const HARMONICS: usize = 5;
/// Half a candidate rate is taken instead while its harmonics sum to this share of the
/// candidate's: a train's envelope has lines at every multiple of its rate, so twice the
/// rate scores almost as well as the rate.
const OCTAVE_SHARE: f64 = 0.8;

/// The train of short events in the `band` (Hz) of `x` (sampled at `sample_rate`), if the
/// band holds one.
pub(crate) fn find(x: &[f32], sample_rate: u32, band: (f64, f64)) -> Option<PulseTrain> {
    let duration = x.len() as f64 / f64::from(sample_rate);
    let window = (WINDOW_S / BIN_S).round() as usize;
    // A NaN edge fails the comparison too.
    let wide = (band.1 - band.0)
        .partial_cmp(&MIN_BAND_HZ)
        .is_some_and(|o| o.is_ge());
    if !wide || duration < MIN_WINDOWS as f64 * WINDOW_S {
        return None;
    }
    let (envelope, bins_per_s) = envelope(x, sample_rate, band)?;
    // Only the bins the signal covers (the transform's length is padded).
    let covered = ((duration * bins_per_s) as usize).min(envelope.len());
    let envelope = &envelope[..covered];
    let ratios: Vec<f64> = envelope
        .chunks_exact(window)
        .map(|w| {
            let top = w.iter().copied().fold(0.0, f64::max);
            top / median(w).max(f64::MIN_POSITIVE)
        })
        .collect();
    let peak_ratio = lower_quartile(&ratios);
    if peak_ratio.partial_cmp(&MIN_RATIO).is_none_or(|o| o.is_lt()) {
        return None;
    }
    Some(PulseTrain {
        rate_hz: rate_of(envelope, bins_per_s)?,
        peak_ratio,
    })
}

/// The value a quarter of `x` lies below (0 for no values).
fn lower_quartile(x: &[f64]) -> f64 {
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 4).copied().unwrap_or(0.0)
}

thread_local! {
    // Transforms are padded to powers of two, so each thread plans a few lengths only.
    static REAL: RefCell<RealFftPlanner<f32>> = RefCell::new(RealFftPlanner::new());
    static COMPLEX: RefCell<FftPlanner<f32>> = RefCell::new(FftPlanner::new());
}

/// The power of `x`'s analytic signal restricted to `band`, in bins of about [`BIN_S`]
/// (their rate is returned): the band's bins of the spectrum (of `x` padded with zeros
/// to a power of two), shifted to zero and transformed back with zeros padded, so that
/// every bin averages [`MIN_PER_BIN`] samples of the interpolated envelope at least,
/// whatever the band's width.
fn envelope(x: &[f32], sample_rate: u32, band: (f64, f64)) -> Option<(Vec<f64>, f64)> {
    let n = x.len().next_power_of_two();
    let mut input = x.to_vec();
    input.resize(n, 0.0);
    let fft = REAL.with(|p| p.borrow_mut().plan_fft_forward(n));
    let mut spectrum = fft.make_output_vec();
    fft.process(&mut input, &mut spectrum).ok()?;
    let seconds = n as f64 / f64::from(sample_rate);
    let lo = (band.0 * seconds).ceil().max(1.0) as usize;
    let hi = ((band.1 * seconds).floor() as usize).min(spectrum.len() - 1);
    let bins = (seconds / BIN_S).round() as usize;
    if hi <= lo || bins == 0 {
        return None;
    }
    let per = (hi - lo + 1).div_ceil(bins).max(MIN_PER_BIN);
    let mut z = vec![Complex::new(0.0f32, 0.0); bins * per];
    z[..=hi - lo].copy_from_slice(&spectrum[lo..=hi]);
    let inverse = COMPLEX.with(|p| p.borrow_mut().plan_fft_inverse(z.len()));
    inverse.process(&mut z);
    let power = z
        .chunks_exact(per)
        .map(|c| c.iter().map(|v| f64::from(v.norm_sqr())).sum::<f64>() / per as f64)
        .collect();
    Some((power, bins as f64 / seconds))
}

/// The rate of the train: the rate whose first [`HARMONICS`] multiples carry most of the
/// envelope's spectrum (padded to [`RATE_PAD`] times its length, for a finer grid),
/// halved while half of it scores nearly as well.
fn rate_of(envelope: &[f64], bins_per_s: f64) -> Option<f64> {
    let n = (RATE_PAD * envelope.len()).next_power_of_two();
    let mean = envelope.iter().sum::<f64>() / envelope.len().max(1) as f64;
    let mut input: Vec<f32> = envelope.iter().map(|v| (v - mean) as f32).collect();
    input.resize(n, 0.0);
    let fft = REAL.with(|p| p.borrow_mut().plan_fft_forward(n));
    let mut spectrum = fft.make_output_vec();
    fft.process(&mut input, &mut spectrum).ok()?;
    let power: Vec<f64> = spectrum.iter().map(|c| f64::from(c.norm_sqr())).collect();
    let hz_per_bin = bins_per_s / n as f64;
    // A line falls within a bin of its multiple's position.
    let near = |j: usize| power[j.saturating_sub(1)..(j + 2).min(power.len())].iter();
    let score = |j: usize| -> f64 {
        (1..=HARMONICS)
            .filter(|k| k * j < power.len())
            .map(|k| near(k * j).copied().fold(0.0, f64::max))
            .sum()
    };
    let lo = (RATE_HZ.0 / hz_per_bin).ceil().max(1.0) as usize;
    let hi = ((RATE_HZ.1 / hz_per_bin).floor() as usize).min(power.len() - 1);
    let mut best = (lo..=hi).max_by(|&a, &b| score(a).total_cmp(&score(b)))?;
    while best / 2 >= lo {
        // The half rate's own line may fall between bins.
        let half = (best / 2..=best.div_ceil(2))
            .max_by(|&a, &b| score(a).total_cmp(&score(b)))
            .unwrap_or(best / 2);
        if score(half) < OCTAVE_SHARE * score(best) {
            break;
        }
        best = half;
    }
    Some(best as f64 * hz_per_bin)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seeded uniform noise in [-0.5, 0.5).
    fn noise(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    /// Decaying 3 kHz ringing (1 ms) every `1 / rate` s, on noise.
    fn clicks(rate: f64, gain: f32, seconds: f64) -> Vec<f32> {
        train(rate, gain, seconds, |s| (-s / 0.001).exp())
    }

    /// 3 kHz bursts of `shape(seconds since the onset)` every `1 / rate` s, on noise.
    fn train(rate: f64, gain: f32, seconds: f64, shape: impl Fn(f64) -> f64) -> Vec<f32> {
        let sr = 16_000.0;
        let n = (seconds * sr) as usize;
        let mut x: Vec<f32> = noise(n, 7).iter().map(|v| 0.1 * v).collect();
        let mut t = 0.013;
        while t < seconds {
            let at = (t * sr) as usize;
            for (i, v) in x.iter_mut().enumerate().skip(at).take(160) {
                let s = (i - at) as f64 / sr;
                *v += gain * (shape(s) * (s * 3_000.0 * std::f64::consts::TAU).sin()) as f32;
            }
            t += 1.0 / rate;
        }
        x
    }

    #[test]
    fn a_fast_click_train_is_found_with_its_rate() {
        for (rate, seconds) in [(13.0, 2.0), (27.5, 2.0), (45.0, 2.0), (27.5, 10.0)] {
            let p = find(&clicks(rate, 1.0, seconds), 16_000, (2_000.0, 4_000.0))
                .unwrap_or_else(|| panic!("no train at {rate}/s"));
            assert!((p.rate_hz - rate).abs() < 0.3, "{rate}: {p:?}");
            assert!(p.peak_ratio > MIN_RATIO, "{p:?}");
        }
    }

    #[test]
    fn noise_a_tone_and_a_modulated_tone_are_no_train() {
        let sr = 16_000.0;
        let n = 160_000;
        let tone: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f64 / sr;
                // A 3 kHz tone with sidebands 25 Hz off: a hum that beats at the rate
                // clicks come.
                ((t * 3_000.0 * std::f64::consts::TAU).sin()
                    + 0.3 * (t * 3_025.0 * std::f64::consts::TAU).sin()
                    + 0.3 * (t * 2_975.0 * std::f64::consts::TAU).sin()) as f32
            })
            .zip(noise(n, 3))
            .map(|(a, b)| a + 0.1 * b)
            .collect();
        assert_eq!(find(&noise(n, 1), 16_000, (2_000.0, 4_000.0)), None);
        assert_eq!(find(&tone, 16_000, (2_000.0, 4_000.0)), None);
    }

    #[test]
    fn clicks_outside_the_band_or_too_weak_are_no_train() {
        // Smooth bursts (a Gaussian of 0.5 ms around 2.5 ms): nothing of them 2 kHz away.
        let x = train(27.0, 1.0, 10.0, |s| {
            (-0.5 * ((s - 0.0025) / 0.0005).powi(2)).exp()
        });
        assert!(find(&x, 16_000, (2_000.0, 4_000.0)).is_some());
        assert_eq!(find(&x, 16_000, (5_000.0, 7_000.0)), None);
        assert_eq!(
            find(&clicks(27.0, 0.002, 10.0), 16_000, (2_000.0, 4_000.0)),
            None
        );
    }

    #[test]
    fn short_narrow_or_empty_input_is_none_not_a_panic() {
        let x = clicks(27.0, 1.0, 10.0);
        assert_eq!(find(&x[..8_000], 16_000, (2_000.0, 4_000.0)), None);
        assert_eq!(find(&x, 16_000, (3_000.0, 3_100.0)), None);
        assert_eq!(find(&x, 16_000, (4_000.0, 2_000.0)), None);
        assert_eq!(find(&[], 16_000, (2_000.0, 4_000.0)), None);
        assert_eq!(find(&x, 16_000, (2_000.0, f64::NAN)), None);
        assert_eq!(find(&vec![0.0; 160_000], 16_000, (2_000.0, 4_000.0)), None);
    }
}
