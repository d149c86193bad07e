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

use aad_dsp::{Aligned, Complex, Stft, StftConfig, Transformed, abs_c32, linspace, separate};
use ndarray::ArrayView2;

/// How the tuning (deviation from A440 in fractions of a bin) is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
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

/// Scratch buffers for the peak search of one frame.
#[derive(Debug, Clone, Default)]
struct PeakScratch {
    /// Masked values (0 at or below the threshold).
    masked: Vec<f32>,
    /// Peak bins in increasing order.
    idx: Vec<u32>,
    /// Whether each bin is a local maximum (0 or 1).
    flags: Vec<u8>,
}

impl PeakScratch {
    fn resize(&mut self, n_bins: usize) {
        self.masked.resize(n_bins, 0.0);
        self.idx.resize(n_bins, 0);
        self.flags.resize(n_bins, 0);
    }

    /// Local maxima of `self.masked` in `[lo, hi)` (`x[k] > x[k-1] and x[k] >= x[k+1]`,
    /// the last bin against its left neighbour only, bin 0 never), written to `self.idx`
    /// in increasing order; returns their count. Zero bins cannot pass (`x[k] > x[k-1] >=
    /// 0`), so above a threshold the peaks are sparse: the test runs as one vectorised pass
    /// of 0/1 bytes into `self.flags`, which is then read eight bytes at a time, skipping
    /// words without a peak.
    #[inline(always)]
    fn local_maxima(&mut self, (lo, hi): (usize, usize)) -> usize {
        let Self { masked, idx, flags } = self;
        let n_bins = masked.len();
        let k0 = lo.max(1);
        let k1 = hi.min(n_bins.saturating_sub(1));
        let mut n = 0;
        if k0 < k1 {
            let len = k1 - k0;
            let (left, mid, right) = (
                &masked[k0 - 1..k1 - 1],
                &masked[k0..k1],
                &masked[k0 + 1..=k1],
            );
            for (((f, &l), &c), &r) in flags[..len].iter_mut().zip(left).zip(mid).zip(right) {
                *f = u8::from((c > l) & (c >= r));
            }
            let (words, tail) = flags[..len].as_chunks::<8>();
            for (w, word) in words.iter().enumerate() {
                let mut bits = u64::from_le_bytes(*word);
                while bits != 0 {
                    idx[n] = (k0 + w * 8 + bits.trailing_zeros() as usize / 8) as u32;
                    n += 1;
                    bits &= bits - 1;
                }
            }
            let base = k0 + len - tail.len();
            for (j, &f) in tail.iter().enumerate() {
                idx[n] = (base + j) as u32;
                n += usize::from(f);
            }
        }
        if hi == n_bins && n_bins >= 2 && masked[n_bins - 1] > masked[n_bins - 2] {
            idx[n] = (n_bins - 1) as u32;
            n += 1;
        }
        n
    }
}

/// Every buffer of a tuning estimate, kept between calls so that a warm call allocates
/// nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct TuningWork {
    scratch: PeakScratch,
    /// A frame's magnitudes (or a copied strided row).
    row: Vec<f32>,
    /// (pitch, magnitude) of every peak.
    peaks: Vec<(f32, f32)>,
    mags: Vec<f32>,
    freqs: Vec<f32>,
    hist: Histogram,
}

/// piptrack on one frame: `x` holds the frame's values at least on `lo - 1 ..= hi`
/// (`x.len() == n_bins`), `max` is the frame maximum over all bins. Pushes
/// (pitch in Hz, magnitude), float32.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn piptrack_frame(
    x: &[f32],
    max: f32,
    (lo, hi): (usize, usize),
    sr: f64,
    n_fft: usize,
    threshold: f32,
    scratch: &mut PeakScratch,
    out: &mut Vec<(f32, f32)>,
) {
    let n_bins = x.len();
    if n_bins < 3 {
        return;
    }
    scratch.resize(n_bins);
    let reference = threshold * max;
    // Masked values on lo-1 ..= hi (what the local-maximum test reads).
    let (m0, m1) = (lo.saturating_sub(1), (hi + 1).min(n_bins));
    for (d, &v) in scratch.masked[m0..m1].iter_mut().zip(&x[m0..m1]) {
        *d = if v > reference { v } else { 0.0 };
    }
    let n = scratch.local_maxima((lo, hi));
    for &k in &scratch.idx[..n] {
        push_peak(x, k as usize, sr, n_fft, out);
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

/// The largest value of `x` (NaN ignored, as `f32::max` does), in eight lanes so that it
/// vectorises; `-inf` when empty.
#[inline(always)]
fn max_f32(x: &[f32]) -> f32 {
    lanes_max_of::<f32, 8>(x, f32::NEG_INFINITY)
}

/// The largest of `floor` and the values of `x`, NaN ignored, in `L` lanes so that it
/// vectorises.
#[inline(always)]
fn lanes_max_of<T: Copy + PartialOrd, const L: usize>(x: &[T], floor: T) -> T {
    let mut top = [floor; L];
    let chunks = x.chunks_exact(L);
    let rest = chunks.remainder();
    for c in chunks {
        for l in 0..L {
            top[l] = if c[l] > top[l] { c[l] } else { top[l] };
        }
    }
    rest.iter()
        .chain(&top)
        .fold(floor, |a, &b| if b > a { b } else { a })
}

aad_core::simd_level_dispatch! {
    /// The peaks piptrack finds in a `frames x bins` spectrogram, into `work.peaks`.
    fn piptrack(
        s: ArrayView2<'_, f32>,
        sr: f64,
        n_fft: usize,
        p: PiptrackParams,
        work: &mut TuningWork,
    ) {
        let TuningWork {
            scratch,
            row,
            peaks,
            ..
        } = work;
        peaks.clear();
        let range = band(s.ncols(), sr, n_fft, p);
        for frame in s.rows() {
            // Rows of a transposed or strided view are copied once.
            let x = match frame.as_slice() {
                Some(x) => x,
                None => {
                    row.clear();
                    row.extend(frame.iter().copied());
                    &row[..]
                }
            };
            piptrack_frame(x, max_f32(x), range, sr, n_fft, p.threshold, scratch, peaks);
        }
    }

}

/// `|X_k|^2` of the complex64-rounded value `c`, evaluated in f64: the square of the
/// float32 magnitude librosa sees (`hypotf`, evaluated in double) before its rounding.
#[inline(always)]
fn power64(c: Complex<f64>) -> f64 {
    let (re, im) = (f64::from(c.re as f32), f64::from(c.im as f32));
    re * re + im * im
}

aad_core::simd_level_dispatch! {
    /// [`power64`] of every bin of a real frame's spectrum into `sq`; returns the largest.
    fn single_powers(spec: &[Complex<f64>], sq: &mut [f64]) -> f64 {
        for (q, &c) in sq.iter_mut().zip(spec) {
            *q = power64(c);
        }
        lanes_max_of::<f64, 4>(&sq[..spec.len()], 0.0)
    }
}

aad_core::simd_level_dispatch! {
    /// [`power64`] of every bin of both frames packed in the complex FFT `z` (see
    /// [`aad_dsp::Transformed::Pair`]), separated in the same sweep, into `qa` and `qb`;
    /// returns the two frames' largest.
    fn pair_powers(z: &[Complex<f64>], qa: &mut [f64], qb: &mut [f64]) -> (f64, f64) {
        let n = z.len();
        let n_bins = n / 2 + 1;
        let (a, b) = separate(z[0], z[0]);
        (qa[0], qb[0]) = (power64(a), power64(b));
        // `separate` then `power64` spelled out on split real and imaginary parts, as
        // a plain loop the compiler vectorises four bins wide (on complex values it
        // kept two-wide vectors); bin k reads z[k] and z[n - k]. The second frame is
        // (d.im / 2, -d.re / 2), whose sign does not reach the square.
        let sq = |v: f64| {
            let v = f64::from(v as f32);
            v * v
        };
        let (qa1, qb1) = (&mut qa[1..n_bins], &mut qb[1..n_bins]);
        let lo = &z[1..n_bins];
        let hi = &z[n + 1 - n_bins..n];
        for (((a, b), z), c) in qa1.iter_mut().zip(qb1.iter_mut()).zip(lo).zip(hi.iter().rev()) {
            *a = sq((z.re + c.re) * 0.5) + sq((z.im - c.im) * 0.5);
            *b = sq((z.im + c.im) * 0.5) + sq((z.re - c.re) * 0.5);
        }
        (
            lanes_max_of::<f64, 4>(&qa[..n_bins], 0.0),
            lanes_max_of::<f64, 4>(&qb[..n_bins], 0.0),
        )
    }
}

aad_core::simd_level_dispatch! {
    /// piptrack on one magnitude frame given its [`power64`] values `sq` and their
    /// largest, `top`. Rounding is monotonic, so the frame maximum is the root of the
    /// largest `sq`; magnitudes are taken only on the searched band. The result is
    /// identical to [`piptrack_frame`] on the full magnitude row.
    #[allow(clippy::too_many_arguments)]
    fn band_peaks(
        sq: &[f64],
        top: f64,
        mags: &mut [f32],
        band: (usize, usize),
        sr: f64,
        threshold: f32,
        scratch: &mut PeakScratch,
        out: &mut Vec<(f32, f32)>,
    ) {
        let (lo, hi) = band;
        let n_bins = sq.len();
        if n_bins < 3 {
            return;
        }
        scratch.resize(n_bins);
        let max = top.sqrt() as f32;
        let reference = threshold * max;
        let (m0, m1) = (lo.saturating_sub(1), (hi + 1).min(n_bins));
        for ((m, d), &q) in mags[m0..m1]
            .iter_mut()
            .zip(&mut scratch.masked[m0..m1])
            .zip(&sq[m0..m1])
        {
            *m = q.sqrt() as f32;
            *d = if *m > reference { *m } else { 0.0 };
        }
        let n = scratch.local_maxima((lo, hi));
        for &k in &scratch.idx[..n] {
            let k = k as usize;
            // The parabola reads the unmasked neighbours.
            let next = if k + 1 < n_bins { mags[k + 1] } else { 0.0 };
            push_peak_at([mags[k - 1], mags[k], next], k, n_bins, sr, 2048, out);
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
    pitch_tuning_with(
        frequencies,
        resolution,
        bins_per_octave,
        &mut Histogram::default(),
    )
}

/// The buffers of [`pitch_tuning`]'s histogram.
#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Bin edges, rebuilt only when their number changes.
    edges: Vec<f64>,
    counts: Vec<usize>,
    /// Per frequency: `f / 27.5`, then its octaves, then its residual.
    res: Vec<f32>,
    /// Per frequency: its bin guessed from the uniform width, or the bin count when the
    /// frequency is not counted.
    guess: Vec<u32>,
}

aad_core::simd_level_dispatch! {
    /// `res[i] = f[i] / 27.5` in float32.
    fn quotients(f: &[f32], res: &mut [f32]) {
        for (r, &f) in res.iter_mut().zip(f) {
            *r = f / 27.5f32;
        }
    }
}

aad_core::simd_level_dispatch! {
    /// Octaves `o` (in `res`) to residuals `bpo * o mod 1` shifted to [-0.5, 0.5), in
    /// place, and each one's bin guessed from the uniform width of the `nb` bins between
    /// `e0` and `e_last` (`nb` for a frequency not above 0 or a residual outside the
    /// edges). The shifts are selections, not branches: the residual's sign is random.
    #[allow(clippy::too_many_arguments)]
    fn residuals(f: &[f32], res: &mut [f32], guess: &mut [u32], bpo: f32, e0: f64, e_last: f64, nb: u32) {
        for ((r, g), &f) in res.iter_mut().zip(guess.iter_mut()).zip(f) {
            // `x % 1.0` (fmodf) is exactly `x - trunc(x)`: the fractional part is
            // representable.
            let x = bpo * *r;
            let mut v = x - x.trunc();
            v = if v < 0.0 { v + 1.0 } else { v };
            v = if v >= 0.5 { v - 1.0 } else { v };
            let d = f64::from(v);
            let counted = f > 0.0 && d >= e0 && d <= e_last;
            let bin = (((d - e0) * f64::from(nb)) as u32).min(nb - 1);
            *g = if counted { bin } else { nb };
            *r = v;
        }
    }
}

/// [`pitch_tuning`] with the histogram's buffers supplied. Residuals are computed in
/// vectorised passes around the float64 `log2` (a libm call per frequency), then
/// counted.
fn pitch_tuning_with(
    frequencies: &[f32],
    resolution: f64,
    bins_per_octave: u32,
    h: &mut Histogram,
) -> f64 {
    let nb = (1.0 / resolution).ceil() as usize;
    if h.edges.len() != nb + 1 {
        h.edges = linspace(-0.5, 0.5, nb + 1);
    }
    let Histogram {
        edges,
        counts,
        res,
        guess,
    } = h;
    counts.clear();
    counts.resize(nb, 0);
    if !frequencies.iter().any(|&f| f > 0.0) {
        return 0.0;
    }
    let n = frequencies.len();
    res.resize(n, 0.0);
    guess.resize(n, 0);
    quotients(frequencies, res);
    for q in res.iter_mut() {
        *q = f64::from(*q).log2() as f32;
    }
    let bpo = bins_per_octave as f32;
    residuals(frequencies, res, guess, bpo, edges[0], edges[nb], nb as u32);
    for (&r, &g) in res.iter().zip(guess.iter()) {
        let mut i = g as usize;
        if i == nb {
            continue;
        }
        // np.histogram: bins [e_i, e_{i+1}), the last one closed. Settle the guess
        // against the float64 edges themselves.
        let r = f64::from(r);
        while i > 0 && edges[i] > r {
            i -= 1;
        }
        while i + 1 < nb && edges[i + 1] <= r {
            i += 1;
        }
        counts[i] += 1;
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
    estimate_tuning_with(
        s,
        sr,
        n_fft,
        bins_per_octave,
        params,
        &mut TuningWork::default(),
    )
}

/// [`estimate_tuning_from_spectrogram`] with its buffers supplied.
pub(crate) fn estimate_tuning_with(
    s: ArrayView2<'_, f32>,
    sr: f64,
    n_fft: usize,
    bins_per_octave: u32,
    params: PiptrackParams,
    work: &mut TuningWork,
) -> f64 {
    piptrack(s, sr, n_fft, params, work);
    tuning_from_peaks(work, bins_per_octave)
}

/// The median magnitude threshold and the histogram over `work.peaks`.
fn tuning_from_peaks(work: &mut TuningWork, bins_per_octave: u32) -> f64 {
    let TuningWork {
        peaks,
        mags,
        freqs,
        hist,
        ..
    } = work;
    mags.clear();
    mags.extend(peaks.iter().filter(|p| p.0 > 0.0).map(|p| p.1));
    let threshold = if mags.is_empty() {
        0.0
    } else {
        median_f32(mags)
    };
    freqs.clear();
    freqs.extend(
        peaks
            .iter()
            .filter(|(f, m)| *f > 0.0 && *m >= threshold)
            .map(|p| p.0),
    );
    pitch_tuning_with(freqs, 0.01, bins_per_octave, hist)
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
    sq: Aligned<f64>,
    sq2: Aligned<f64>,
    work: TuningWork,
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
            sq: Aligned::new(n),
            sq2: Aligned::new(n),
            work: TuningWork {
                row: vec![0.0; n],
                ..TuningWork::default()
            },
        })
    }

    /// Estimates the tuning of `x` at `sr` Hz, in fractions of a bin.
    ///
    /// # Errors
    /// A signal too short for the STFT (never with centring).
    pub fn estimate(&mut self, x: &[f32], sr: f64) -> Result<f64, aad_dsp::DspError> {
        let n_bins = self.stft.n_bins();
        let range = band(n_bins, sr, 2048, self.params);
        let TuningWork {
            scratch,
            row,
            peaks,
            ..
        } = &mut self.work;
        peaks.clear();
        let (sq, sq2, threshold) = (&mut self.sq, &mut self.sq2, self.params.threshold);
        if self.power {
            self.stft.process(x, |_, spec| {
                // |X|^2 as numpy computes abs(complex64)**2, for every bin.
                for (r, c) in row.iter_mut().zip(spec) {
                    let m = abs_c32(c.re as f32, c.im as f32);
                    *r = m * m;
                }
                let max = max_f32(row);
                piptrack_frame(row, max, range, sr, 2048, threshold, scratch, peaks);
            })?;
        } else {
            // Paired frames are separated and squared in one sweep, never written out.
            self.stft.process_raw(x, |_, raw| {
                let mut peaks_of = |q: &[f64], top: f64| {
                    band_peaks(q, top, row, range, sr, threshold, scratch, peaks);
                };
                match raw {
                    Transformed::Single(spec) => {
                        let top = single_powers(spec, sq);
                        peaks_of(sq, top);
                    }
                    Transformed::Pair(z) => {
                        let (ta, tb) = pair_powers(z, sq, sq2);
                        peaks_of(sq, ta);
                        peaks_of(sq2, tb);
                    }
                }
            })?;
        }
        Ok(tuning_from_peaks(&mut self.work, self.bins_per_octave))
    }

    /// Pitches the last [`estimate`](Self::estimate) put into its histogram. 0 is
    /// librosa's "empty frequency set" case: the tuning is 0.0, and librosa warns.
    pub fn last_pitch_count(&self) -> usize {
        self.work.freqs.len()
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

    /// xorshift in [0, 1), tests only.
    fn uniform(seed: u64) -> impl FnMut() -> f64 {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn local_maxima_equal_the_definition() {
        let mut u = uniform(7);
        for trial in 0..600 {
            let n = 3 + trial % 97;
            // Few distinct values, so ties and zeros are common.
            let x: Vec<f32> = (0..n).map(|_| (u() * 4.0).floor() as f32).collect();
            let lo = (u() * 3.0) as usize;
            let hi = if trial % 3 == 0 {
                n
            } else {
                lo + (u() * (n - lo) as f64) as usize
            };
            let expected: Vec<u32> = (lo..hi)
                .filter(|&k| {
                    k > 0
                        && if k == n - 1 {
                            x[k] > x[k - 1]
                        } else {
                            x[k] > x[k - 1] && x[k] >= x[k + 1]
                        }
                })
                .map(|k| k as u32)
                .collect();
            let mut scratch = PeakScratch {
                masked: x.clone(),
                ..PeakScratch::default()
            };
            scratch.resize(n);
            let m = scratch.local_maxima((lo, hi));
            assert_eq!(&scratch.idx[..m], &expected[..], "{x:?} in {lo}..{hi}");
        }
    }

    #[test]
    fn histogram_bins_equal_a_binary_search_over_the_edges() {
        let edges = linspace(-0.5, 0.5, 101);
        let bin_of = |r: f64| edges[1..100].partition_point(|&e| e <= r).min(99);
        let mut u = uniform(3);
        // Residuals at, just below and just above every edge, and at random.
        let mut rs: Vec<f32> = Vec::new();
        for &e in &edges[..100] {
            let e = e as f32;
            rs.extend([e, e.next_up(), e.next_down()]);
        }
        rs.extend((0..2000).map(|_| (u() - 0.5) as f32));
        for r in rs.into_iter().filter(|r| (-0.5..0.5).contains(r)) {
            // A pitch whose residual at 12 bins per octave is r (or within a few ulp).
            let f = (27.5 * 2f64.powf((5.0 + f64::from(r)) / 12.0)) as f32;
            let octs = (f64::from(f / 27.5f32)).log2() as f32;
            let x = 12.0 * octs;
            let mut rr = x % 1.0;
            if rr >= 0.5 {
                rr -= 1.0;
            }
            let t = pitch_tuning(&[f], 0.01, 12);
            assert_eq!(t, edges[bin_of(f64::from(rr))], "residual {rr}");
        }
    }

    #[test]
    fn median_is_numpys_for_even_and_odd_counts() {
        assert_eq!(median_f32(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_f32(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
