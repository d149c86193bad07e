//! Tuning estimation exactly as librosa's `estimate_tuning` → `piptrack` → `pitch_tuning`.
//!
//! The estimate is an argmax over a 100-bin histogram, so it is discontinuous: a pitch
//! moving across a bin edge can move the whole CQT grid by 1/100 of a bin. Every step is
//! therefore computed with librosa's own precisions:
//!
//! - the magnitude (or power) STFT in float32, from a double-precision FFT rounded to
//!   complex64, `abs` as `hypotf`;
//! - `piptrack` in float32: threshold `0.1 * max` per frame, local maxima
//!   (`x[k] > x[k-1] and x[k] >= x[k+1]`, the last bin against its neighbour), the
//!   parabolic shift as numba evaluates librosa's stencil (`a` and `b` in float64 from
//!   float32 sums, the shift stored as float32), `np.gradient` skew, pitch
//!   `(k + shift) * sr / n_fft` in float64 stored as float32;
//! - the magnitude threshold is `np.median` in float32;
//! - residuals `bpo * log2(f / 27.5) mod 1` in float32 (log2 correctly rounded), shifted
//!   to [-0.5, 0.5), counted in `np.histogram` with float64 edges `linspace(-0.5, 0.5, 101)`;
//! - the result is the left edge of the first fullest bin.
//!
//! numpy evaluates float32 `log2` with a SIMD routine that differs from the correctly
//! rounded value in about 1.4% of inputs by one ulp; that can move a residual only when
//! it lies within ~1.5e-5 of a bin edge (about 4e-5 per pitch), and the estimate only
//! when the two fullest bins nearly tie. The parity tests check the estimate on every
//! reference clip.

use aad_dsp::{Complex, Stft, StftConfig, abs_c32, linspace};
use ndarray::ArrayView2;

/// How the tuning (deviation from A440 in fractions of a bin) is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Tuning {
    /// Estimated per clip with `estimate_tuning` (librosa's default, `tuning=None`).
    #[default]
    Estimate,
    /// A fixed value in fractions of a bin, e.g. `Fixed(0.0)`.
    Fixed(f64),
}

/// piptrack's parameters (librosa defaults: 150-4000 Hz, threshold 0.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PiptrackParams {
    /// Lowest frequency considered (Hz).
    pub fmin: f64,
    /// Highest frequency considered (Hz), capped at Nyquist.
    pub fmax: f64,
    /// Peaks below `threshold * frame maximum` are ignored.
    pub threshold: f32,
}

impl Default for PiptrackParams {
    fn default() -> Self {
        PiptrackParams {
            fmin: 150.0,
            fmax: 4000.0,
            threshold: 0.1,
        }
    }
}

/// The band of FFT bins piptrack searches, `[lo, hi)`.
fn band(n_bins: usize, sr: f64, n_fft: usize, p: PiptrackParams) -> (usize, usize) {
    let fmin = p.fmin.max(0.0);
    let fmax = p.fmax.min(sr / 2.0);
    let d = 1.0 / sr;
    let val = 1.0 / (n_fft as f64 * d);
    let in_band = |k: usize| {
        let f = k as f64 * val;
        fmin <= f && f < fmax
    };
    let lo = (0..n_bins).find(|&k| in_band(k)).unwrap_or(n_bins);
    let hi = (lo..n_bins).find(|&k| !in_band(k)).unwrap_or(n_bins);
    (lo, hi)
}

/// piptrack on one frame: `x` holds the frame's values at least on `lo - 1 ..= hi`
/// (`x.len() == n_bins`), `max` is the frame maximum over all bins. Pushes
/// (pitch in Hz, magnitude), float32.
#[allow(clippy::too_many_arguments)]
fn piptrack_frame(
    x: &[f32],
    max: f32,
    (lo, hi): (usize, usize),
    sr: f64,
    n_fft: usize,
    threshold: f32,
    out: &mut Vec<(f32, f32)>,
) {
    let n_bins = x.len();
    if n_bins < 3 {
        return;
    }
    let reference = threshold * max;
    // Masked values on lo-1 ..= hi (what the local-maximum test reads).
    let m0 = lo.saturating_sub(1);
    let m1 = (hi + 1).min(n_bins);
    let mut masked = [0.0f32; 1100];
    if m1 - m0 > masked.len() {
        return piptrack_frame_slow(x, reference, (lo, hi), sr, n_fft, out);
    }
    for (d, &v) in masked[..m1 - m0].iter_mut().zip(&x[m0..m1]) {
        *d = if v > reference { v } else { 0.0 };
    }
    let m = |k: usize| masked[k - m0];
    for k in lo..hi {
        let c = m(k);
        if c == 0.0 {
            continue;
        }
        let is_peak = if k == 0 {
            false
        } else if k == n_bins - 1 {
            c > m(k - 1)
        } else {
            c > m(k - 1) && c >= m(k + 1)
        };
        if is_peak {
            push_peak(x, k, sr, n_fft, out);
        }
    }
}

/// The same test without the stack buffer (for spectra wider than 2048-point FFTs).
fn piptrack_frame_slow(
    x: &[f32],
    reference: f32,
    (lo, hi): (usize, usize),
    sr: f64,
    n_fft: usize,
    out: &mut Vec<(f32, f32)>,
) {
    let n_bins = x.len();
    let masked = |k: usize| if x[k] > reference { x[k] } else { 0.0 };
    for k in lo..hi {
        let is_peak = if k == 0 {
            false
        } else if k == n_bins - 1 {
            masked(k) > masked(k - 1)
        } else {
            masked(k) > masked(k - 1) && masked(k) >= masked(k + 1)
        };
        if is_peak {
            push_peak(x, k, sr, n_fft, out);
        }
    }
}

/// Pitch and magnitude of the peak at bin `k` (0 < k).
#[inline]
fn push_peak(x: &[f32], k: usize, sr: f64, n_fft: usize, out: &mut Vec<(f32, f32)>) {
    let n_bins = x.len();
    let next = if k + 1 < n_bins { x[k + 1] } else { 0.0 };
    push_peak_at([x[k - 1], x[k], next], k, n_bins, sr, n_fft, out);
}

/// Pitch and magnitude of the peak at bin `k` from `[x[k-1], x[k], x[k+1]]`.
#[inline]
fn push_peak_at(
    x3: [f32; 3],
    k: usize,
    n_bins: usize,
    sr: f64,
    n_fft: usize,
    out: &mut Vec<(f32, f32)>,
) {
    let (xm, x0, xp) = (x3[0], x3[1], x3[2]);
    // Parabolic shift (numba: f32 sums promoted to f64 by the integer literals).
    let shift = if k == n_bins - 1 {
        0.0f32
    } else {
        let a = f64::from(xp + xm) - 2.0 * f64::from(x0);
        let b = f64::from(xp - xm) / 2.0;
        if b.abs() >= a.abs() {
            0.0
        } else {
            (-b / a) as f32
        }
    };
    // np.gradient: central difference inside, one-sided at the end.
    let avg = if k == n_bins - 1 {
        x0 - xm
    } else {
        (xp - xm) / 2.0
    };
    let dskew = 0.5f32 * avg * shift;
    let pitch = ((k as f64 + f64::from(shift)) * sr / n_fft as f64) as f32;
    out.push((pitch, x0 + dskew));
}

/// The peaks piptrack finds in a `frames x bins` spectrogram.
fn piptrack(
    s: ArrayView2<'_, f32>,
    sr: f64,
    n_fft: usize,
    p: PiptrackParams,
    out: &mut Vec<(f32, f32)>,
) {
    out.clear();
    let range = band(s.ncols(), sr, n_fft, p);
    for frame in s.rows() {
        if let Some(x) = frame.as_slice() {
            let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            piptrack_frame(x, max, range, sr, n_fft, p.threshold, out);
        }
    }
}

/// piptrack on one magnitude frame, taking square roots only where they can matter.
///
/// `sq[k]` is `|X_k|^2` of the complex64-rounded spectrum in f64 (exact), and the float32
/// magnitude librosa sees is `sqrt(sq[k])` rounded once. A bin with
/// `sq[k] < 0.98 * ref^2` has a magnitude below `ref = 0.1 * max` after rounding, so piptrack
/// masks it to zero without its root; only the remaining bins, and the neighbours of
/// peaks, get their exact magnitude. The result is identical to [`piptrack_frame`] on the
/// full magnitude row.
fn magnitude_peaks(
    spec: &[Complex<f64>],
    sq: &mut [f64],
    row: &mut [f32],
    (lo, hi): (usize, usize),
    sr: f64,
    threshold: f32,
    out: &mut Vec<(f32, f32)>,
) {
    let n_bins = spec.len();
    for (q, c) in sq.iter_mut().zip(spec) {
        let (re, im) = (f64::from(c.re as f32), f64::from(c.im as f32));
        *q = re * re + im * im;
    }
    let mut top = [0.0f64; 4];
    let chunks = sq.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for l in 0..4 {
            top[l] = if c[l] > top[l] { c[l] } else { top[l] };
        }
    }
    let top = rest
        .iter()
        .chain(&top)
        .fold(0.0f64, |a, &b| if b > a { b } else { a });
    // Rounding perturbs |X|^2 by ~1.2e-7: only bins this close can hold the maximum.
    let floor = top * (1.0 - 1e-6);
    let mut max = 0.0f32;
    for (q, c) in sq.iter().zip(spec) {
        if *q >= floor {
            max = max.max(abs_c32(c.re as f32, c.im as f32));
        }
    }
    let reference = threshold * max;
    let loose = f64::from(reference) * f64::from(reference) * 0.98;
    let (m0, m1) = (lo.saturating_sub(1), (hi + 1).min(n_bins));
    let mag = |k: usize| abs_c32(spec[k].re as f32, spec[k].im as f32);
    // Masked magnitudes (0 below the threshold) on lo-1 ..= hi.
    for k in m0..m1 {
        row[k] = if sq[k] >= loose {
            let m = mag(k);
            if m > reference { m } else { 0.0 }
        } else {
            0.0
        };
    }
    for k in lo..hi {
        let c = row[k];
        if c == 0.0 || k == 0 {
            continue;
        }
        let is_peak = if k == n_bins - 1 {
            c > row[k - 1]
        } else {
            c > row[k - 1] && c >= row[k + 1]
        };
        if is_peak {
            // push_peak reads the unmasked neighbours.
            let x = [mag(k - 1), c, if k + 1 < n_bins { mag(k + 1) } else { 0.0 }];
            push_peak_at(x, k, n_bins, sr, 2048, out);
        }
    }
}

/// `np.median` of float32 values (the mean of the middle two in float32 for even counts).
fn median_f32(v: &mut [f32]) -> f32 {
    let n = v.len();
    let (_, &mut upper, _) = v.select_nth_unstable_by(n / 2, f32::total_cmp);
    if n % 2 == 1 {
        upper
    } else {
        let lower = v[..n / 2].iter().copied().fold(f32::NEG_INFINITY, f32::max);
        (lower + upper) / 2.0
    }
}

/// `librosa.pitch_tuning(frequencies, resolution, bins_per_octave)`: the left edge of the
/// fullest bin of the residual histogram; 0.0 for an empty set (librosa warns).
pub fn pitch_tuning(frequencies: &[f32], resolution: f64, bins_per_octave: u32) -> f64 {
    let nb = (1.0 / resolution).ceil() as usize;
    let edges = linspace(-0.5, 0.5, nb + 1);
    let mut counts = vec![0usize; nb];
    let bpo = bins_per_octave as f32;
    let mut any = false;
    for &f in frequencies.iter().filter(|&&f| f > 0.0) {
        any = true;
        let q = f / 27.5f32;
        let octs = f64::from(q).log2() as f32;
        let mut r = (bpo * octs) % 1.0;
        if r < 0.0 {
            r += 1.0;
        }
        if r >= 0.5 {
            r -= 1.0;
        }
        let r = f64::from(r);
        // np.histogram: bins [e_i, e_{i+1}), the last one closed.
        let i = edges[1..nb].partition_point(|&e| e <= r);
        if r >= edges[0] && r <= edges[nb] {
            counts[i.min(nb - 1)] += 1;
        }
    }
    if !any {
        return 0.0;
    }
    let mut best = 0;
    for (i, &c) in counts.iter().enumerate() {
        if c > counts[best] {
            best = i;
        }
    }
    edges[best]
}

/// `librosa.estimate_tuning(S=s, sr, n_fft, bins_per_octave)` on a `frames x bins`
/// magnitude or power spectrogram.
pub fn estimate_tuning_from_spectrogram(
    s: ArrayView2<'_, f32>,
    sr: f64,
    n_fft: usize,
    bins_per_octave: u32,
    params: PiptrackParams,
) -> f64 {
    let mut peaks = Vec::new();
    piptrack(s, sr, n_fft, params, &mut peaks);
    tuning_from_peaks(&mut peaks, bins_per_octave)
}

fn tuning_from_peaks(peaks: &mut [(f32, f32)], bins_per_octave: u32) -> f64 {
    let mut mags: Vec<f32> = peaks.iter().filter(|p| p.0 > 0.0).map(|p| p.1).collect();
    let threshold = if mags.is_empty() {
        0.0
    } else {
        median_f32(&mut mags)
    };
    let freqs: Vec<f32> = peaks
        .iter()
        .filter(|(f, m)| *f > 0.0 && *m >= threshold)
        .map(|p| p.0)
        .collect();
    pitch_tuning(&freqs, 0.01, bins_per_octave)
}

/// A planned tuning estimator over a signal: STFT (n_fft 2048, hop 512, periodic Hann,
/// centred, zero padding) in librosa's precision, then piptrack and pitch_tuning.
///
/// In magnitude mode only the bins piptrack reads get their square root; the frame
/// maximum comes from the squared magnitudes (rounding is monotonic, so it is the same
/// float32 value).
#[derive(Debug, Clone)]
pub struct TuningEstimator {
    stft: Stft<f64>,
    bins_per_octave: u32,
    power: bool,
    params: PiptrackParams,
    row: Vec<f32>,
    sq: Vec<f64>,
    peaks: Vec<(f32, f32)>,
}

impl TuningEstimator {
    /// `estimate_tuning(y=y, bins_per_octave)` as `chroma_cqt` calls it (magnitude STFT)
    /// when `power` is false, or on the power spectrogram as `chroma_stft` does.
    ///
    /// # Errors
    /// Invalid STFT parameters.
    pub fn new(bins_per_octave: u32, power: bool) -> Result<Self, aad_dsp::DspError> {
        let stft = Stft::new(StftConfig::new(2048, 512))?;
        let n = stft.n_bins();
        Ok(TuningEstimator {
            stft,
            bins_per_octave,
            power,
            params: PiptrackParams::default(),
            row: vec![0.0; n],
            sq: vec![0.0; n],
            peaks: Vec::new(),
        })
    }

    /// Estimates the tuning of `x` at `sr` Hz, in fractions of a bin.
    ///
    /// # Errors
    /// A signal too short for the STFT (never with centring).
    pub fn estimate(&mut self, x: &[f32], sr: f64) -> Result<f64, aad_dsp::DspError> {
        self.peaks.clear();
        let n_bins = self.stft.n_bins();
        let range = band(n_bins, sr, 2048, self.params);
        let (row, sq, peaks, power, threshold) = (
            &mut self.row,
            &mut self.sq,
            &mut self.peaks,
            self.power,
            self.params.threshold,
        );
        self.stft.process(x, |_, spec| {
            if power {
                // |X|^2 as numpy computes abs(complex64)**2, for every bin.
                for (r, c) in row.iter_mut().zip(spec) {
                    let m = abs_c32(c.re as f32, c.im as f32);
                    *r = m * m;
                }
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                piptrack_frame(row, max, range, sr, 2048, threshold, peaks);
            } else {
                magnitude_peaks(spec, sq, row, range, sr, threshold, peaks);
            }
        })?;
        Ok(tuning_from_peaks(&mut self.peaks, self.bins_per_octave))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pitch_tuning_returns_the_left_edge_of_the_fullest_bin() {
        // A440 itself: residual 0 -> bin [0, 0.01) -> 0.0 (as a float64 edge).
        assert!(pitch_tuning(&[440.0, 880.0, 220.0], 0.01, 12).abs() < 1e-12);
        // 20 cents sharp at 12 bpo = 0.2 bins.
        let f = 440.0 * 2f64.powf(0.205 / 12.0);
        let t = pitch_tuning(&[f as f32; 5], 0.01, 12);
        assert!((t - 0.2).abs() < 1e-9, "{t}");
        assert_eq!(pitch_tuning(&[], 0.01, 36), 0.0);
        assert_eq!(pitch_tuning(&[0.0, -3.0], 0.01, 36), 0.0);
    }

    #[test]
    fn median_is_numpys_for_even_and_odd_counts() {
        assert_eq!(median_f32(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_f32(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
