//! The constant-Q transform as `librosa.cqt` computes it (recursive octave decimation).
//!
//! Per octave, top first: the Hann wavelet bank (`filters.wavelet`, L1-normalised,
//! centre-padded to a power of two), scaled by `length / n_fft`, Fourier-transformed,
//! sparsified (the smallest coefficients holding 1 % of each row's L1 mass are dropped),
//! scaled by `sqrt(sr / sr_octave)`, and applied to a boxcar-window STFT of the octave's
//! signal; then the signal is decimated by 2 ([`HalfBand`]) and the hop halved. Octaves
//! are trimmed to a common frame count and every bin is divided by `sqrt(length)`.
//! Filter design runs in f64 and is rounded to complex64 where librosa stores complex64;
//! the responses are complex64 sums in librosa's order.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, OnceLock, RwLock};

use aad_dsp::{Aligned, Complex, Stft, StftConfig, WindowKind, abs_c32, window};
use ndarray::ArrayViewMut2;
use rustfft::FftPlanner;

use crate::CensError;
use crate::resample::HalfBand;
use crate::tuning::{Tuning, TuningEstimator};

/// C1, librosa's default CQT minimum frequency (`note_to_hz("C1")`).
pub const C1_HZ: f64 = 32.703_195_662_574_83;

/// `WINDOW_BANDWIDTHS["hann"]` in librosa.
const HANN_BANDWIDTH: f64 = 1.500_183_105_468_75;

/// Constant-Q transform parameters. `Default` is what `chroma_cqt` and `chroma_cens`
/// use at 16 kHz: 7 octaves x 36 bins from C1, tuning estimated, hop 512.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CqtConfig {
    /// Sample rate the transform is planned for.
    pub sample_rate: u32,
    /// Hop length in samples (must be divisible by 2 for each decimated octave to keep
    /// librosa's frame grid).
    pub hop_length: usize,
    /// Lowest bin centre before tuning (Hz).
    pub fmin: f64,
    /// Number of bins.
    pub n_bins: usize,
    /// Bins per octave.
    pub bins_per_octave: usize,
    /// Tuning: estimated per clip or fixed.
    pub tuning: Tuning,
    /// Filter-length scale (1 = librosa).
    pub filter_scale: f64,
    /// Fraction of each filter's L1 mass dropped by sparsification (librosa 0.01).
    pub sparsity: f64,
    /// Divide each bin by `sqrt(filter length)` (librosa's `scale=True`).
    pub scale: bool,
}

impl Default for CqtConfig {
    fn default() -> Self {
        CqtConfig {
            sample_rate: 16_000,
            hop_length: 512,
            fmin: C1_HZ,
            n_bins: 7 * 36,
            bins_per_octave: 36,
            tuning: Tuning::Estimate,
            filter_scale: 1.0,
            sparsity: 0.01,
            scale: true,
        }
    }
}

impl CqtConfig {
    /// Sets the sample rate.
    pub fn sample_rate(mut self, sr: u32) -> Self {
        self.sample_rate = sr;
        self
    }

    /// Sets the tuning.
    pub fn tuning(mut self, tuning: Tuning) -> Self {
        self.tuning = tuning;
        self
    }

    /// Sets the hop length.
    pub fn hop_length(mut self, hop: usize) -> Self {
        self.hop_length = hop;
        self
    }

    /// Sets the bins: `n_octaves * bins_per_octave` bins from `fmin`.
    pub fn bins(mut self, fmin: f64, n_octaves: usize, bins_per_octave: usize) -> Self {
        self.fmin = fmin;
        self.n_bins = n_octaves * bins_per_octave;
        self.bins_per_octave = bins_per_octave;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), CensError> {
        if !aad_core::SUPPORTED_SAMPLE_RATES.contains(&self.sample_rate) {
            return Err(CensError::config(
                "sample_rate",
                self.sample_rate,
                aad_core::SAMPLE_RATE_RANGE_TEXT,
            ));
        }
        if self.hop_length == 0 {
            return Err(CensError::config("hop_length", 0, "must be >= 1"));
        }
        if !(self.fmin > 0.0 && self.fmin.is_finite()) {
            return Err(CensError::config("fmin", self.fmin, "must be > 0"));
        }
        if self.bins_per_octave == 0 {
            return Err(CensError::config("bins_per_octave", 0, "must be >= 1"));
        }
        if self.n_bins < 2 {
            return Err(CensError::config("n_bins", self.n_bins, "must be >= 2"));
        }
        if !(self.filter_scale > 0.0 && self.filter_scale.is_finite()) {
            return Err(CensError::config(
                "filter_scale",
                self.filter_scale,
                "must be > 0",
            ));
        }
        if !(0.0..1.0).contains(&self.sparsity) {
            return Err(CensError::config(
                "sparsity",
                self.sparsity,
                "must be in [0, 1)",
            ));
        }
        if let Tuning::Fixed(t) = self.tuning
            && !(-0.5..=0.5).contains(&t)
        {
            return Err(CensError::config(
                "tuning",
                t,
                "must be in [-0.5, 0.5] bins",
            ));
        }
        Ok(())
    }

    /// `n_octaves = ceil(n_bins / bins_per_octave)`.
    pub fn n_octaves(&self) -> usize {
        self.n_bins.div_ceil(self.bins_per_octave)
    }
}

/// One filter in the frequency domain: a span of FFT bins and its coefficients.
#[derive(Debug, Clone)]
struct Filter {
    start: usize,
    coefs: Vec<Complex<f32>>,
}

#[derive(Debug)]
struct Octave {
    /// FFT bins any filter reads, `[first, last)`.
    used: (usize, usize),
    n_fft: usize,
    hop: usize,
    /// Global index of this octave's lowest bin.
    first_bin: usize,
    filters: Vec<Filter>,
    /// Decimate the signal after this octave.
    decimate_after: bool,
}

/// Everything that depends on the tuning.
#[derive(Debug)]
struct Plan {
    early_count: u32,
    octaves: Vec<Octave>,
    /// `1 / sqrt(length)` per bin (or 1 without scaling).
    inv_sqrt_len: Vec<f64>,
    /// Bin centre frequencies.
    freqs: Vec<f64>,
}

/// Frames processed together by the response sums.
const LANES: usize = 8;

/// One filter applied to `LANES` frames stored bin-major in split re/im arrays:
/// `acc += c * x` in complex64, coefficient by coefficient, as scipy's sparse product
/// accumulates.
#[inline(always)]
fn filter_lanes(f: &Filter, re: &[f32], im: &[f32]) -> ([f32; LANES], [f32; LANES]) {
    let (mut ar, mut ai) = ([0.0f32; LANES], [0.0f32; LANES]);
    let span = f.start * LANES..(f.start + f.coefs.len()) * LANES;
    for ((c, xr), xi) in f
        .coefs
        .iter()
        .zip(re[span.clone()].chunks_exact(LANES))
        .zip(im[span].chunks_exact(LANES))
    {
        for l in 0..LANES {
            ar[l] += c.re * xr[l] - c.im * xi[l];
            ai[l] += c.re * xi[l] + c.im * xr[l];
        }
    }
    (ar, ai)
}

aad_core::simd_level_dispatch! {
    /// Applies every filter of `oct` to the `n` frames gathered in `re`/`im` and writes
    /// `|response| / sqrt(length)` to rows `first..first + n` of `out`.
    fn respond(
        oct: &Octave,
        re: &[f32],
        im: &[f32],
        inv: &[f64],
        out: &mut ArrayViewMut2<'_, f32>,
        first: usize,
        n: usize,
    ) {
        // Four filters' sums, then their magnitudes in one loop over 32 values: per
        // filter, the magnitude loop over eight lanes stayed scalar.
        const GROUP: usize = 4;
        for (g, group) in oct.filters.chunks(GROUP).enumerate() {
            let first_bin = oct.first_bin + g * GROUP;
            let (mut ar, mut ai) = ([0.0f32; GROUP * LANES], [0.0f32; GROUP * LANES]);
            let mut scale = [0.0f64; GROUP * LANES];
            for (j, f) in group.iter().enumerate() {
                let (r, i) = filter_lanes(f, re, im);
                let lanes = j * LANES..(j + 1) * LANES;
                ar[lanes.clone()].copy_from_slice(&r);
                ai[lanes.clone()].copy_from_slice(&i);
                scale[lanes].fill(inv[first_bin + j]);
            }
            // |r + i j| as numpy's complex64 abs (hypotf in double).
            let mut mag = [0.0f32; GROUP * LANES];
            for (((m, &r), &i), &s) in mag.iter_mut().zip(&ar).zip(&ai).zip(&scale) {
                let r = f64::from((f64::from(r) * s) as f32);
                let i = f64::from((f64::from(i) * s) as f32);
                *m = (r * r + i * i).sqrt() as f32;
            }
            for (j, lanes) in mag.chunks_exact(LANES).take(group.len()).enumerate() {
                for (l, &m) in lanes.iter().enumerate().take(n) {
                    out[[first + l, first_bin + j]] = m;
                }
            }
        }
    }

}

/// `librosa.util.sparsify_rows` on one row, in numpy's float32 arithmetic.
fn sparsify(row: &[Complex<f32>], quantile: f64) -> Filter {
    let mags: Vec<f32> = row.iter().map(|c| abs_c32(c.re, c.im)).collect();
    let norm = aad_core::ops::pairwise_sum(&mags, 0.0f32);
    let mut sorted = mags.clone();
    sorted.sort_by(f32::total_cmp);
    let q = quantile as f32;
    let mut cum = 0.0f32;
    let mut idx = 0;
    for (j, m) in sorted.iter().enumerate() {
        cum += m / norm;
        if cum >= q || cum.is_nan() {
            idx = j;
            break;
        }
    }
    let threshold = sorted[idx];
    let keep = |k: usize| mags[k] >= threshold;
    let first = (0..row.len()).find(|&k| keep(k)).unwrap_or(0);
    let last = (0..row.len()).rev().find(|&k| keep(k)).unwrap_or(0);
    let coefs = (first..=last)
        .map(|k| {
            if keep(k) {
                row[k]
            } else {
                Complex::new(0.0, 0.0)
            }
        })
        .collect();
    Filter {
        start: first,
        coefs,
    }
}

/// `filters._relative_bandwidth`.
fn relative_bandwidth(freqs: &[f64]) -> Vec<f64> {
    let n = freqs.len();
    let logf: Vec<f64> = freqs.iter().map(|f| f.log2()).collect();
    let bpo: Vec<f64> = (0..n)
        .map(|k| {
            if k == 0 {
                1.0 / (logf[1] - logf[0])
            } else if k == n - 1 {
                1.0 / (logf[n - 1] - logf[n - 2])
            } else {
                2.0 / (logf[k + 1] - logf[k - 1])
            }
        })
        .collect();
    bpo.iter()
        .map(|b| {
            let r = 2f64.powf(2.0 / b);
            (r - 1.0) / (r + 1.0)
        })
        .collect()
}

fn twos(mut x: usize) -> u32 {
    let mut n = 0;
    while x > 0 && x.is_multiple_of(2) {
        n += 1;
        x /= 2;
    }
    n
}

/// The bins' centre frequencies (librosa's `cqt_frequencies` at the tuned `fmin`, in
/// the order of its multirate filter bank).
fn center_frequencies(cfg: &CqtConfig, tuning: f64) -> Vec<f64> {
    let bpo = cfg.bins_per_octave;
    let fmin = cfg.fmin * 2f64.powf(tuning / bpo as f64);
    let ratios: Vec<f64> = (0..bpo).map(|j| 2f64.powf(j as f64 / bpo as f64)).collect();
    let mut freqs: Vec<f64> = (0..cfg.n_octaves())
        .flat_map(|o| ratios.iter().map(move |r| 2f64.powi(o as i32) * r))
        .take(cfg.n_bins)
        .collect();
    freqs.sort_by(f64::total_cmp);
    freqs.iter().map(|r| r * fmin).collect()
}

/// One bin's filter in the frequency domain, as librosa builds it: a Hann-windowed
/// complex exponential of `len` taps at `freq`, l1-normalised, centred in `n_fft`,
/// stored in complex64 and scaled by `len / n_fft`, transformed, sparsified, and scaled
/// by `scale` (the octave's resampling gain).
fn filter(
    freq: f64,
    len: f64,
    sr: f64,
    n_fft: usize,
    fft: &dyn rustfft::Fft<f64>,
    scale: f64,
    sparsity: f64,
) -> Filter {
    let a = (-len / 2.0).floor() as i64;
    let b = (len / 2.0).floor() as i64;
    let taps = (b - a) as usize;
    let w = window(WindowKind::Hann, taps);
    let mut sig: Vec<Complex<f64>> = (0..taps)
        .map(|j| {
            let n = (a + j as i64) as f64;
            let x = n * 2.0 * std::f64::consts::PI * freq / sr;
            Complex::new(x.cos() * w[j], x.sin() * w[j])
        })
        .collect();
    let l1: f64 = sig.iter().map(|c| c.re.hypot(c.im)).sum();
    sig.iter_mut().for_each(|c| *c /= l1);
    // pad_center, complex64 storage, then scaled by length / n_fft.
    let lpad = (n_fft - taps) / 2;
    let mut buf = vec![Complex::new(0.0f64, 0.0); n_fft];
    let s = len / n_fft as f64;
    for (j, c) in sig.iter().enumerate() {
        let c32 = Complex::new(c.re as f32, c.im as f32);
        buf[lpad + j] = Complex::new(
            f64::from((f64::from(c32.re) * s) as f32),
            f64::from((f64::from(c32.im) * s) as f32),
        );
    }
    fft.process(&mut buf);
    let row: Vec<Complex<f32>> = buf[..n_fft / 2 + 1]
        .iter()
        .map(|c| Complex::new(c.re as f32, c.im as f32))
        .collect();
    let mut filt = sparsify(&row, sparsity);
    filt.coefs.iter_mut().for_each(|c| {
        *c = Complex::new(
            (f64::from(c.re) * scale) as f32,
            (f64::from(c.im) * scale) as f32,
        )
    });
    filt
}

/// How many times librosa halves the signal before the first octave: as often as the
/// highest filter's cutoff and the hop's factors of two allow.
///
/// # Errors
/// A filter reaches above Nyquist.
fn early_downsampling(cfg: &CqtConfig, freqs: &[f64], q: &[f64]) -> Result<u32, CensError> {
    let cutoff = freqs
        .iter()
        .zip(q)
        .map(|(f, q)| f * (1.0 + 0.5 * HANN_BANDWIDTH / q))
        .fold(f64::NEG_INFINITY, f64::max);
    let nyquist = f64::from(cfg.sample_rate) / 2.0;
    if cutoff > nyquist {
        return Err(CensError::AboveNyquist {
            cutoff_hz: cutoff,
            nyquist_hz: nyquist,
            sample_rate: cfg.sample_rate,
        });
    }
    let count1 = (((nyquist / cutoff).log2().ceil() as i64) - 1 - 1).max(0);
    let count2 = (i64::from(twos(cfg.hop_length)) - cfg.n_octaves() as i64 + 1).max(0);
    Ok(count1.min(count2) as u32)
}

impl Plan {
    fn build(cfg: &CqtConfig, tuning: f64) -> Result<Plan, CensError> {
        let bpo = cfg.bins_per_octave;
        let n_bins = cfg.n_bins;
        let n_octaves = cfg.n_octaves();
        let n_filters = bpo.min(n_bins);
        let sr = f64::from(cfg.sample_rate);
        let freqs = center_frequencies(cfg, tuning);
        let alpha = relative_bandwidth(&freqs);
        let q: Vec<f64> = alpha.iter().map(|a| cfg.filter_scale / a).collect();
        let early_count = early_downsampling(cfg, &freqs, &q)?;
        let sr_eff = sr / f64::from(1u32 << early_count);
        let hop_eff = cfg.hop_length >> early_count;
        let inv_sqrt_len = freqs
            .iter()
            .zip(&q)
            .map(|(f, q)| {
                if cfg.scale {
                    1.0 / (q * sr_eff / f).sqrt()
                } else {
                    1.0
                }
            })
            .collect();

        let mut planner = FftPlanner::<f64>::new();
        let mut octaves = Vec::with_capacity(n_octaves);
        let (mut my_sr, mut my_hop) = (sr_eff, hop_eff);
        for i in 0..n_octaves {
            let hi = n_bins.saturating_sub(n_filters * i);
            let lo = n_bins.saturating_sub(n_filters * (i + 1));
            if hi == 0 {
                break;
            }
            let lengths: Vec<f64> = (lo..hi).map(|k| q[k] * my_sr / freqs[k]).collect();
            let max_len = lengths.iter().copied().fold(0.0, f64::max);
            let n_fft = 2f64.powf(max_len.log2().ceil()) as usize;
            let fft = planner.plan_fft_forward(n_fft);
            let mut filters = Vec::with_capacity(hi - lo);
            for (k, &len) in (lo..hi).zip(&lengths) {
                let scale = (sr_eff / my_sr).sqrt();
                let filt = filter(freqs[k], len, my_sr, n_fft, &*fft, scale, cfg.sparsity);
                filters.push(filt);
            }
            // Nothing reads the signal after the last octave.
            let decimate_after = my_hop % 2 == 0 && i + 1 < n_octaves;
            let used = (
                filters.iter().map(|f| f.start).min().unwrap_or(0),
                filters
                    .iter()
                    .map(|f| f.start + f.coefs.len())
                    .max()
                    .unwrap_or(0),
            );
            octaves.push(Octave {
                used,
                n_fft,
                hop: my_hop,
                first_bin: lo,
                filters,
                decimate_after,
            });
            if decimate_after {
                my_hop /= 2;
                my_sr /= 2.0;
            }
        }
        Ok(Plan {
            early_count,
            octaves,
            inv_sqrt_len,
            freqs,
        })
    }

    /// Frames librosa keeps: the minimum over octaves of `1 + len_i / hop_i`.
    fn num_frames(&self, n_samples: usize) -> usize {
        let mut len = n_samples;
        for _ in 0..self.early_count {
            len = HalfBand::output_len(len);
        }
        let mut frames = usize::MAX;
        for o in &self.octaves {
            frames = frames.min(1 + len / o.hop);
            if o.decimate_after {
                len = HalfBand::output_len(len);
            }
        }
        frames
    }
}

/// Decimates the current signal by 2 into `y`: the undecimated `input` while there is
/// one (it is then used up), else `y` itself, through `next` (the two buffers swap).
fn decimate_step(
    decimator: &mut HalfBand,
    input: &mut Option<&[f32]>,
    (y, next): (&mut Vec<f32>, &mut Vec<f32>),
) {
    match input.take() {
        Some(x) => decimator.decimate(x, y),
        None => {
            decimator.decimate(y, next);
            std::mem::swap(y, next);
        }
    }
}

/// A planned constant-Q transform. Bases are built per tuning value on first use and
/// shared by every `Cqt` of the process with the same parameters (tuning estimates take
/// at most 101 distinct values; the cache holds at most [`PLAN_CACHE_LIMIT`] bases), so
/// after warm-up a call allocates nothing.
///
/// ```
/// use cens_features::{Cqt, CqtConfig, Tuning};
/// let sr = 16_000.0;
/// // A 440 Hz sine: with 36 bins per octave from C1 it peaks in bin 36 * log2(440 / C1).
/// let x: Vec<f32> = (0..16_000).map(|i| (std::f64::consts::TAU * 440.0 * i as f64 / sr).sin() as f32).collect();
/// let mut cqt = Cqt::new(CqtConfig::default().tuning(Tuning::Fixed(0.0)))?;
/// let mut c = ndarray::Array2::zeros((cqt.num_frames(x.len()), 252));
/// cqt.magnitude_into(&x, 16_000, c.view_mut())?;
/// let peak = c.row(16).iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
/// assert_eq!(peak, 135); // 36 * log2(440 / 32.703) = 135.0
/// # Ok::<(), cens_features::CensError>(())
/// ```
pub struct Cqt {
    config: CqtConfig,
    base: Arc<Plan>,
    tuner: Option<TuningEstimator>,
    stfts: HashMap<(usize, usize), Stft<f32>>,
    decimator: HalfBand,
    y: Vec<f32>,
    next: Vec<f32>,
    lanes_re: Aligned<f32>,
    lanes_im: Aligned<f32>,
    last_tuning: f64,
}

impl std::fmt::Debug for Cqt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cqt")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Clone for Cqt {
    fn clone(&self) -> Self {
        Cqt {
            config: self.config.clone(),
            base: Arc::clone(&self.base),
            tuner: self.tuner.clone(),
            stfts: self.stfts.clone(),
            decimator: self.decimator.clone(),
            y: Vec::new(),
            next: Vec::new(),
            lanes_re: Aligned::default(),
            lanes_im: Aligned::default(),
            last_tuning: self.last_tuning,
        }
    }
}

fn tuning_key(t: f64) -> i64 {
    (t * 1e9).round() as i64
}

/// Most bases the process-wide cache keeps (a basis is a few tens of kB); past it, new
/// bases are built for the call and dropped.
pub const PLAN_CACHE_LIMIT: usize = 4096;

/// Everything a [`Plan`] depends on besides the tuning, and the tuning.
type PlanKey = (u32, usize, u64, usize, usize, u64, u64, bool, i64);

static PLANS: OnceLock<RwLock<HashMap<PlanKey, Arc<Plan>>>> = OnceLock::new();

/// The basis for `cfg` at `tuning`, from the process-wide cache or built now.
fn shared_plan(cfg: &CqtConfig, tuning: f64) -> Result<Arc<Plan>, CensError> {
    let key = (
        cfg.sample_rate,
        cfg.hop_length,
        cfg.fmin.to_bits(),
        cfg.n_bins,
        cfg.bins_per_octave,
        cfg.filter_scale.to_bits(),
        cfg.sparsity.to_bits(),
        cfg.scale,
        tuning_key(tuning),
    );
    let cache = PLANS.get_or_init(Default::default);
    if let Ok(map) = cache.read()
        && let Some(p) = map.get(&key)
    {
        return Ok(Arc::clone(p));
    }
    let plan = Arc::new(Plan::build(cfg, tuning)?);
    if let Ok(mut map) = cache.write()
        && (map.len() < PLAN_CACHE_LIMIT || map.contains_key(&key))
    {
        return Ok(Arc::clone(map.entry(key).or_insert(plan)));
    }
    Ok(plan)
}

impl Cqt {
    /// Plans the transform (the bases for tuning 0, or the fixed tuning, are built now,
    /// which also validates the parameters against the sample rate).
    ///
    /// # Errors
    /// Invalid parameters, or a top filter above the Nyquist frequency.
    pub fn new(config: CqtConfig) -> Result<Self, CensError> {
        config.validate()?;
        let t0 = match config.tuning {
            Tuning::Fixed(t) => t,
            Tuning::Estimate => 0.0,
        };
        let base = shared_plan(&config, t0)?;
        // Both ends of the tuning range must be plannable too.
        if config.tuning == Tuning::Estimate {
            shared_plan(&config, 0.5)?;
        }
        let tuner = match config.tuning {
            Tuning::Estimate => Some(TuningEstimator::new(config.bins_per_octave as u32, false)?),
            Tuning::Fixed(_) => None,
        };
        Ok(Cqt {
            config,
            base,
            tuner,
            stfts: HashMap::new(),
            decimator: HalfBand::new(),
            y: Vec::new(),
            next: Vec::new(),
            lanes_re: Aligned::default(),
            lanes_im: Aligned::default(),
            last_tuning: t0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CqtConfig {
        &self.config
    }

    /// The tuning used by the last call (estimated or fixed), in fractions of a bin.
    pub fn last_tuning(&self) -> f64 {
        self.last_tuning
    }

    /// Bin centre frequencies at tuning 0 (or the fixed tuning).
    pub fn frequencies(&self) -> &[f64] {
        &self.base.freqs
    }

    /// Frames for `n_samples` samples (`1 + n / hop` for the default parameters).
    pub fn num_frames(&self, n_samples: usize) -> usize {
        self.base.num_frames(n_samples)
    }

    /// Writes `|CQT|` of `x` (sampled at `sample_rate`) into `out` (`frames x n_bins`) and
    /// returns the tuning used.
    ///
    /// # Errors
    /// Sample-rate mismatch or wrong output shape.
    pub fn magnitude_into(
        &mut self,
        x: &[f32],
        sample_rate: u32,
        mut out: ArrayViewMut2<'_, f32>,
    ) -> Result<f64, CensError> {
        self.check_input(x, sample_rate)?;
        let tuning = match (&mut self.tuner, self.config.tuning) {
            (_, Tuning::Fixed(t)) => t,
            (Some(tuner), Tuning::Estimate) => tuner.estimate(x, f64::from(sample_rate))?,
            (None, Tuning::Estimate) => 0.0,
        };
        self.last_tuning = tuning;
        let plan = shared_plan(&self.config, tuning)?;
        let n_frames = plan.num_frames(x.len());
        aad_core::check_output_shape(out.dim(), (n_frames, self.config.n_bins))?;
        if n_frames != self.base.num_frames(x.len()) {
            return Err(CensError::TooShort {
                samples: x.len(),
                reason: format!(
                    "tuning {tuning} changes the early decimation and so the frame count ({n_frames} vs {})",
                    self.base.num_frames(x.len())
                ),
            });
        }

        let mut y = std::mem::take(&mut self.y);
        let mut next = std::mem::take(&mut self.next);
        // The signal is read in place until the first decimation; then the two buffers
        // swap roles at every decimation (each holds at most half the clip).
        y.clear();
        next.clear();
        y.reserve(x.len() / 2 + 1);
        next.reserve(x.len() / 2 + 1);
        let mut input = Some(x);
        for _ in 0..plan.early_count {
            decimate_step(&mut self.decimator, &mut input, (&mut y, &mut next));
        }
        let result = self.octaves(&plan, input, (&mut y, &mut next), n_frames, out.view_mut());
        self.y = y;
        self.next = next;
        result.map(|()| tuning)
    }

    fn check_input(&self, x: &[f32], sample_rate: u32) -> Result<(), CensError> {
        if sample_rate != self.config.sample_rate {
            return Err(CensError::SampleRate {
                expected: self.config.sample_rate,
                got: sample_rate,
            });
        }
        if x.is_empty() {
            return Err(CensError::TooShort {
                samples: 0,
                reason: "the CQT needs at least one sample".into(),
            });
        }
        Ok(())
    }

    /// Every octave's filter responses into `out`, top octave first. The first octave
    /// reads `input` when given (the undecimated signal), else `y`; the signal is
    /// decimated into `next` after each octave that asks for it, and the buffers swap.
    fn octaves(
        &mut self,
        plan: &Plan,
        mut input: Option<&[f32]>,
        (y, next): (&mut Vec<f32>, &mut Vec<f32>),
        n_frames: usize,
        mut out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), CensError> {
        for oct in &plan.octaves {
            // One planned STFT per (n_fft, hop): octaves share n_fft but not hops.
            let stft = match self.stfts.entry((oct.n_fft, oct.hop)) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(Stft::new(
                    StftConfig::new(oct.n_fft, oct.hop).window(WindowKind::Ones),
                )?),
            };
            let inv = &plan.inv_sqrt_len;
            let n_bins_oct = oct.n_fft / 2 + 1;
            let (re, im) = (&mut self.lanes_re, &mut self.lanes_im);
            if re.len() != n_bins_oct * LANES {
                *re = Aligned::new(n_bins_oct * LANES);
                *im = Aligned::new(n_bins_oct * LANES);
            }
            let sig: &[f32] = input.unwrap_or(y);
            let total = stft.num_frames(sig.len()).min(n_frames);
            stft.process_bins(sig, oct.used.0..oct.used.1, |t, spec| {
                if t >= total {
                    return;
                }
                // Gather LANES frames bin-major, then apply every filter to all of them:
                // the same complex64 sums per frame, vectorised across frames.
                let lane = t % LANES;
                let (b0, b1) = oct.used;
                let (re_used, im_used) = (
                    &mut re[b0 * LANES..b1 * LANES],
                    &mut im[b0 * LANES..b1 * LANES],
                );
                for ((r, i), c) in re_used
                    .chunks_exact_mut(LANES)
                    .zip(im_used.chunks_exact_mut(LANES))
                    .zip(&spec[b0..b1])
                {
                    r[lane] = c.re;
                    i[lane] = c.im;
                }
                if lane + 1 < LANES && t + 1 < total {
                    return;
                }
                respond(oct, re, im, inv, &mut out, t - lane, lane + 1);
            })?;
            if oct.decimate_after {
                decimate_step(&mut self.decimator, &mut input, (y, next));
            }
        }
        Ok(())
    }
}
