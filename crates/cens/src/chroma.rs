//! Chroma from the STFT (Ellis filterbank) and from the CQT, as librosa computes them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aad_core::{FeatureExtractor, Signal, check_output_shape};
use aad_dsp::{Stft, StftConfig};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::CensError;
use crate::cqt::{Cqt, CqtConfig};
use crate::tuning::{PiptrackParams, Tuning, TuningWork, estimate_tuning_with};

/// Per-frame normalisation, `librosa.util.normalize(S, norm, axis=-2)`: the norm is taken
/// in float64, frames whose norm is below float32 `tiny` are left unchanged (all-zero
/// frames stay zero), the quotient is rounded to float32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum ChromaNorm {
    /// No normalisation.
    None,
    /// Sum of magnitudes.
    L1,
    /// Euclidean.
    L2,
    /// Maximum (librosa's chroma default).
    #[default]
    Inf,
}

/// Normalises every row (frame) of `x` in place; rows with a norm below `threshold` are
/// replaced by `fill` when given, else left as they are.
pub(crate) fn normalize_rows(
    mut x: ArrayViewMut2<'_, f32>,
    norm: ChromaNorm,
    threshold: f64,
    fill: Option<f32>,
) {
    if norm == ChromaNorm::None {
        return;
    }
    for mut row in x.rows_mut() {
        let length = match norm {
            ChromaNorm::None => 1.0,
            ChromaNorm::L1 => row.iter().fold(0.0f64, |a, v| a + f64::from(v.abs())),
            ChromaNorm::L2 => row
                .iter()
                .fold(0.0f64, |a, v| a + f64::from(v.abs()).powi(2))
                .sqrt(),
            ChromaNorm::Inf => row.iter().fold(0.0f64, |a, v| a.max(f64::from(v.abs()))),
        };
        if length < threshold {
            if let Some(f) = fill {
                row.fill(f);
            }
            continue;
        }
        row.iter_mut()
            .for_each(|v| *v = (f64::from(*v) / length) as f32);
    }
}

/// float32 `tiny`, librosa's default normalisation threshold for float32 features.
pub(crate) const TINY_F32: f64 = f32::MIN_POSITIVE as f64;

/// `librosa.filters.cq_to_chroma`: the chroma index of each CQT bin (weight 1).
///
/// # Errors
/// `bins_per_octave` not a multiple of `n_chroma`.
pub fn cq_to_chroma_map(
    n_input: usize,
    bins_per_octave: usize,
    n_chroma: usize,
    fmin: f64,
) -> Result<Vec<usize>, CensError> {
    if n_chroma == 0 || !bins_per_octave.is_multiple_of(n_chroma) {
        return Err(CensError::config(
            "bins_per_octave",
            bins_per_octave,
            format!("must be a multiple of n_chroma = {n_chroma}"),
        ));
    }
    let n_merge = bins_per_octave / n_chroma;
    // np.roll(repeat(eye), -(n_merge // 2), axis=1): column b of an octave belongs to
    // chroma floor(((b + n_merge // 2) mod bpo) / n_merge).
    let midi_0 = (12.0 * (fmin.log2() - 440f64.log2()) + 69.0).rem_euclid(12.0);
    let roll = (midi_0 * (n_chroma as f64 / 12.0)).round() as i64;
    Ok((0..n_input)
        .map(|b| {
            let c = ((b + n_merge / 2) % bins_per_octave) / n_merge;
            (c as i64 + roll).rem_euclid(n_chroma as i64) as usize
        })
        .collect())
}

/// How [`fold_chroma`] sums CQT bins into chroma: `idx[j * n_chroma + k]` is the `j`-th
/// bin of chroma `k` in increasing bin order, or `n_bins` (a zero slot) past its last.
#[derive(Debug, Clone)]
pub(crate) struct FoldPlan {
    n_chroma: usize,
    n_bins: usize,
    idx: Vec<usize>,
}

impl FoldPlan {
    /// The plan of a bin-to-chroma map with values below `n_chroma`.
    pub(crate) fn new(map: &[usize], n_chroma: usize) -> FoldPlan {
        let mut members = vec![Vec::new(); n_chroma];
        for (b, &k) in map.iter().enumerate() {
            members[k].push(b);
        }
        let depth = members.iter().map(Vec::len).max().unwrap_or(0);
        let mut idx = vec![map.len(); depth * n_chroma];
        for (k, bins) in members.iter().enumerate() {
            for (j, &b) in bins.iter().enumerate() {
                idx[j * n_chroma + k] = b;
            }
        }
        FoldPlan {
            n_chroma,
            n_bins: map.len(),
            idx,
        }
    }
}

/// Sums CQT bins into chroma (frames x n_bins -> frames x n_chroma), in float32: each
/// chroma is the sum of its bins from 0.0 in increasing bin order. Twelve chroma
/// advance together, one bin each per step, in registers: summed one chroma after
/// another, or added into the output bin by bin, each sum was a chain of dependent
/// additions.
pub(crate) fn fold_chroma(
    c: ndarray::ArrayView2<'_, f32>,
    plan: &FoldPlan,
    row: &mut Vec<f32>,
    mut out: ArrayViewMut2<'_, f32>,
) {
    const W: usize = 12;
    let nc = plan.n_chroma;
    // The row with a zero after it, for the chroma with fewer bins (x + 0.0 == x for
    // the non-negative magnitudes summed here).
    row.clear();
    row.resize(plan.n_bins + 1, 0.0);
    for (src, mut dst) in c.rows().into_iter().zip(out.rows_mut()) {
        match src.as_slice() {
            Some(s) => row[..plan.n_bins].copy_from_slice(s),
            None => row.iter_mut().zip(src).for_each(|(r, &v)| *r = v),
        }
        for k0 in (0..nc).step_by(W) {
            let w = W.min(nc - k0);
            let mut acc = [0.0f32; W];
            if w == W {
                for step in plan.idx.chunks_exact(nc) {
                    let step: &[usize; W] = step[k0..k0 + W].try_into().unwrap_or(&[0; W]);
                    for (a, &b) in acc.iter_mut().zip(step) {
                        *a += row[b];
                    }
                }
            } else {
                for step in plan.idx.chunks_exact(nc) {
                    for (a, &b) in acc.iter_mut().zip(&step[k0..k0 + w]) {
                        *a += row[b];
                    }
                }
            }
            for (d, &a) in dst.iter_mut().skip(k0).zip(&acc[..w]) {
                *d = a;
            }
        }
    }
}

/// `chroma_cqt` parameters. `Default` is librosa's (the CQT default, 12 chroma,
/// threshold 0, infinity norm).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ChromaCqtConfig {
    /// The constant-Q transform.
    pub cqt: CqtConfig,
    /// Pitch classes.
    pub n_chroma: usize,
    /// Values below this are set to 0 before normalising.
    pub threshold: f32,
    /// Per-frame normalisation.
    pub norm: ChromaNorm,
}

impl Default for ChromaCqtConfig {
    fn default() -> Self {
        ChromaCqtConfig {
            cqt: CqtConfig::default(),
            n_chroma: 12,
            threshold: 0.0,
            norm: ChromaNorm::Inf,
        }
    }
}

impl ChromaCqtConfig {
    /// The defaults at another sample rate.
    pub fn with_sample_rate(sr: u32) -> Self {
        ChromaCqtConfig {
            cqt: CqtConfig::default().sample_rate(sr),
            ..Default::default()
        }
    }

    /// Sets the tuning.
    pub fn tuning(mut self, tuning: Tuning) -> Self {
        self.cqt.tuning = tuning;
        self
    }
}

/// A planned `chroma_cqt` extractor (`frames x n_chroma`).
///
/// ```
/// use aad_core::{FeatureExtractor, Signal};
/// use cens_features::{ChromaCqtConfig, ChromaCqtExtractor};
/// // An A (440 Hz) tone: pitch class A (index 9) is the loudest, normalised to 1.
/// let x: Vec<f32> = (0..32_000).map(|i| (std::f64::consts::TAU * 440.0 * i as f64 / 16_000.0).sin() as f32).collect();
/// let mut fx = ChromaCqtExtractor::new(ChromaCqtConfig::default())?;
/// let chroma = fx.extract(&Signal::new(x, 16_000)?)?;
/// assert_eq!(chroma.dim(), (63, 12));
/// assert_eq!(chroma[[30, 9]], 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ChromaCqtExtractor {
    config: ChromaCqtConfig,
    cqt: Cqt,
    /// How the CQT bins are summed into chroma.
    fold: Arc<FoldPlan>,
    /// A CQT row and a zero slot (see [`fold_chroma`]).
    row: Vec<f32>,
    c: Array2<f32>,
}

impl ChromaCqtExtractor {
    /// Plans the CQT and the chroma map.
    ///
    /// # Errors
    /// Invalid parameters (see [`Cqt::new`], [`cq_to_chroma_map`]).
    pub fn new(config: ChromaCqtConfig) -> Result<Self, CensError> {
        let map = cq_to_chroma_map(
            config.cqt.n_bins,
            config.cqt.bins_per_octave,
            config.n_chroma,
            config.cqt.fmin,
        )?;
        Ok(ChromaCqtExtractor {
            cqt: Cqt::new(config.cqt.clone())?,
            fold: FoldPlan::new(&map, config.n_chroma).into(),
            row: Vec::new(),
            c: Array2::zeros((0, config.cqt.n_bins)),
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ChromaCqtConfig {
        &self.config
    }

    /// The tuning of the last clip (fractions of a CQT bin).
    pub fn last_tuning(&self) -> f64 {
        self.cqt.last_tuning()
    }

    /// Chroma without normalisation or threshold (what `chroma_cens` starts from).
    pub(crate) fn raw_into(
        &mut self,
        signal: &Signal,
        out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), CensError> {
        let n = self.cqt.num_frames(signal.len());
        if self.c.nrows() != n {
            self.c = Array2::zeros((n, self.config.cqt.n_bins));
        }
        self.cqt
            .magnitude_into(signal.samples(), signal.sample_rate(), self.c.view_mut())?;
        fold_chroma(self.c.view(), &self.fold, &mut self.row, out);
        Ok(())
    }
}

impl FeatureExtractor for ChromaCqtExtractor {
    type Error = CensError;

    fn hop_length(&self) -> usize {
        self.config.cqt.hop_length
    }

    fn sample_rate(&self) -> u32 {
        self.config.cqt.sample_rate
    }

    fn dims(&self) -> usize {
        self.config.n_chroma
    }

    fn num_frames(&self, n_samples: usize) -> usize {
        self.cqt.num_frames(n_samples)
    }

    fn extract_into(
        &mut self,
        signal: &Signal,
        mut out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), CensError> {
        check_output_shape(out.dim(), (self.num_frames(signal.len()), self.dims()))?;
        self.raw_into(signal, out.view_mut())?;
        let thr = self.config.threshold;
        out.iter_mut().for_each(|v| {
            if *v < thr {
                *v = 0.0
            }
        });
        normalize_rows(out, self.config.norm, TINY_F32, None);
        Ok(())
    }
}

/// `chroma_stft` parameters. `Default` is librosa's (n_fft 2048, hop 512, 12 chroma,
/// tuning estimated from the power spectrogram, Ellis filterbank with ctroct 5 and
/// octwidth 2, infinity norm).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ChromaStftConfig {
    /// Sample rate.
    pub sample_rate: u32,
    /// The STFT (power spectrogram).
    pub stft: StftConfig,
    /// Pitch classes.
    pub n_chroma: usize,
    /// Tuning, in fractions of a chroma bin.
    pub tuning: Tuning,
    /// Centre octave of the Gaussian octave weighting (librosa 5.0).
    pub ctroct: f64,
    /// Width of the octave weighting in octaves; `None` = flat (librosa 2.0).
    pub octwidth: Option<f64>,
    /// Per-frame normalisation.
    pub norm: ChromaNorm,
}

impl Default for ChromaStftConfig {
    fn default() -> Self {
        ChromaStftConfig {
            sample_rate: 16_000,
            stft: StftConfig::new(2048, 512),
            n_chroma: 12,
            tuning: Tuning::Estimate,
            ctroct: 5.0,
            octwidth: Some(2.0),
            norm: ChromaNorm::Inf,
        }
    }
}

impl ChromaStftConfig {
    /// The defaults at another sample rate.
    pub fn with_sample_rate(sr: u32) -> Self {
        ChromaStftConfig {
            sample_rate: sr,
            ..Default::default()
        }
    }

    /// Sets the tuning.
    pub fn tuning(mut self, tuning: Tuning) -> Self {
        self.tuning = tuning;
        self
    }
}

/// `librosa.filters.chroma(sr, n_fft, n_chroma, tuning, ctroct, octwidth, norm=2,
/// base_c=True)` as float32, `n_chroma x (n_fft / 2 + 1)`.
pub fn chroma_filterbank(
    sr: f64,
    n_fft: usize,
    n_chroma: usize,
    tuning: f64,
    ctroct: f64,
    octwidth: Option<f64>,
) -> Array2<f32> {
    let nc = n_chroma as f64;
    let a440 = 440.0 * 2f64.powf(tuning / nc);
    let step = sr / n_fft as f64;
    let mut frqbins: Vec<f64> = (1..n_fft)
        .map(|k| nc * ((k as f64 * step) / (a440 / 16.0)).log2())
        .collect();
    frqbins.insert(0, frqbins[0] - 1.5 * nc);
    let n = frqbins.len();
    let mut width: Vec<f64> = frqbins.windows(2).map(|w| (w[1] - w[0]).max(1.0)).collect();
    width.push(1.0);
    let half = (nc / 2.0).round();
    let mut wts = Array2::<f64>::zeros((n_chroma, n));
    for c in 0..n_chroma {
        for k in 0..n {
            let d = frqbins[k] - c as f64;
            let x = d + half + 10.0 * nc;
            let mut r = x % nc;
            if r != 0.0 && r < 0.0 {
                r += nc;
            }
            let d = r - half;
            wts[[c, k]] = (-0.5 * (2.0 * d / width[k]).powi(2)).exp();
        }
    }
    // L2 over chroma (axis 0), float64 threshold.
    for k in 0..n {
        let len = (0..n_chroma)
            .map(|c| wts[[c, k]].powi(2))
            .sum::<f64>()
            .sqrt();
        if len >= f64::MIN_POSITIVE {
            for c in 0..n_chroma {
                wts[[c, k]] /= len;
            }
        }
    }
    if let Some(ow) = octwidth {
        for k in 0..n {
            let g = (-0.5 * ((frqbins[k] / nc - ctroct) / ow).powi(2)).exp();
            for c in 0..n_chroma {
                wts[[c, k]] *= g;
            }
        }
    }
    // base_c: roll by -3 * (n_chroma / 12) along chroma.
    let shift = 3 * (n_chroma / 12);
    Array2::from_shape_fn((n_chroma, n_fft / 2 + 1), |(c, k)| {
        wts[[(c + shift) % n_chroma, k]] as f32
    })
}

/// A planned `chroma_stft` extractor (`frames x n_chroma`).
#[derive(Debug, Clone)]
pub struct ChromaStftExtractor {
    config: ChromaStftConfig,
    stft: Stft<f64>,
    banks: Arc<RwLock<HashMap<i64, Arc<Array2<f32>>>>>,
    power: Array2<f32>,
    block: Vec<f32>,
    tuning_work: TuningWork,
    last_tuning: f64,
}

/// Frames processed together by the chroma filterbank product.
const LANES: usize = 8;

aad_core::simd_level_dispatch! {
    /// `out[t][c] = Σ_k bank[c][k] power[t][k]` from the transposed bank (`bins x
    /// n_chroma`), `LANES` frames at a time so the inner loop vectorises across frames;
    /// each sum runs over `k` in ascending order.
    fn chroma_product(
        bank_t: &Array2<f32>,
        power: ArrayView2<'_, f32>,
        block: &mut [f32],
        out: &mut ArrayViewMut2<'_, f32>,
    ) {
        let (n, n_bins) = power.dim();
        let nc = bank_t.ncols();
        for t0 in (0..n).step_by(LANES) {
            let lanes = LANES.min(n - t0);
            for l in 0..lanes {
                for (k, v) in power.row(t0 + l).iter().enumerate() {
                    block[k * LANES + l] = *v;
                }
            }
            let block = &block[..n_bins * LANES];
            match (bank_t.as_slice(), nc) {
                (Some(w), 12) => {
                    // Twelve chroma in two halves of six: the accumulators stay in registers
                    // (also with SSE2's sixteen), each column of the block is loaded twice.
                    for half in 0..2 {
                        let mut acc = [[0.0f32; LANES]; 6];
                        for (wk, col) in w.chunks_exact(12).zip(block.chunks_exact(LANES)) {
                            for (a, &wc) in acc.iter_mut().zip(&wk[6 * half..6 * half + 6]) {
                                for l in 0..LANES {
                                    a[l] += wc * col[l];
                                }
                            }
                        }
                        for (c, a) in acc.iter().enumerate() {
                            for l in 0..lanes {
                                out[[t0 + l, 6 * half + c]] = a[l];
                            }
                        }
                    }
                }
                _ => {
                    for c in 0..nc {
                        let mut acc = [0.0f32; LANES];
                        for (&wc, col) in bank_t.column(c).iter().zip(block.chunks_exact(LANES)) {
                            for l in 0..LANES {
                                acc[l] += wc * col[l];
                            }
                        }
                        for l in 0..lanes {
                            out[[t0 + l, c]] = acc[l];
                        }
                    }
                }
            }
        }
    }

}

impl ChromaStftExtractor {
    /// Plans the STFT.
    ///
    /// # Errors
    /// Invalid parameters.
    pub fn new(config: ChromaStftConfig) -> Result<Self, CensError> {
        if !aad_core::SUPPORTED_SAMPLE_RATES.contains(&config.sample_rate) {
            return Err(CensError::config(
                "sample_rate",
                config.sample_rate,
                aad_core::SAMPLE_RATE_RANGE_TEXT,
            ));
        }
        if config.n_chroma == 0 {
            return Err(CensError::config("n_chroma", 0, "must be >= 1"));
        }
        if let Some(w) = config.octwidth
            && (w.is_nan() || w <= 0.0)
        {
            return Err(CensError::config("octwidth", w, "must be > 0"));
        }
        Ok(ChromaStftExtractor {
            stft: Stft::new(config.stft.clone())?,
            banks: Arc::new(RwLock::new(HashMap::new())),
            power: Array2::zeros((0, config.stft.n_bins())),
            block: vec![0.0; config.stft.n_bins() * LANES],
            tuning_work: TuningWork::default(),
            last_tuning: 0.0,
            config,
        })
    }

    /// The tuning of the last clip (fractions of a chroma bin).
    pub fn last_tuning(&self) -> f64 {
        self.last_tuning
    }

    /// The filterbank for `tuning`, transposed (`bins x n_chroma`, row-major).
    fn bank(&self, tuning: f64) -> Arc<Array2<f32>> {
        let key = (tuning * 1e9).round() as i64;
        if let Ok(map) = self.banks.read()
            && let Some(b) = map.get(&key)
        {
            return Arc::clone(b);
        }
        let c = &self.config;
        let bank = Arc::new(
            chroma_filterbank(
                f64::from(c.sample_rate),
                c.stft.n_fft,
                c.n_chroma,
                tuning,
                c.ctroct,
                c.octwidth,
            )
            .t()
            .as_standard_layout()
            .into_owned(),
        );
        if let Ok(mut map) = self.banks.write() {
            map.entry(key).or_insert_with(|| Arc::clone(&bank));
        }
        bank
    }
}

impl FeatureExtractor for ChromaStftExtractor {
    type Error = CensError;

    fn hop_length(&self) -> usize {
        self.config.stft.hop_length
    }

    fn sample_rate(&self) -> u32 {
        self.config.sample_rate
    }

    fn dims(&self) -> usize {
        self.config.n_chroma
    }

    fn num_frames(&self, n_samples: usize) -> usize {
        self.stft.num_frames(n_samples)
    }

    fn extract_into(
        &mut self,
        signal: &Signal,
        mut out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), CensError> {
        if signal.sample_rate() != self.config.sample_rate {
            return Err(CensError::SampleRate {
                expected: self.config.sample_rate,
                got: signal.sample_rate(),
            });
        }
        let n = self.num_frames(signal.len());
        check_output_shape(out.dim(), (n, self.dims()))?;
        if self.power.nrows() != n {
            self.power = Array2::zeros((n, self.stft.n_bins()));
        }
        self.stft
            .power_into(signal.samples(), self.power.view_mut())?;
        let tuning = match self.config.tuning {
            Tuning::Fixed(t) => t,
            Tuning::Estimate => estimate_tuning_with(
                self.power.view(),
                f64::from(self.config.sample_rate),
                self.config.stft.n_fft,
                self.config.n_chroma as u32,
                PiptrackParams::default(),
                &mut self.tuning_work,
            ),
        };
        self.last_tuning = tuning;
        let bank = self.bank(tuning);
        chroma_product(&bank, self.power.view(), &mut self.block, &mut out);
        normalize_rows(out, self.config.norm, TINY_F32, None);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: each bin added into its chroma in increasing bin order.
    fn fold_by_definition(
        c: ndarray::ArrayView2<'_, f32>,
        map: &[usize],
        nc: usize,
    ) -> Array2<f32> {
        let mut out = Array2::zeros((c.nrows(), nc));
        for (src, mut dst) in c.rows().into_iter().zip(out.rows_mut()) {
            for (v, &k) in src.iter().zip(map) {
                dst[k] += v;
            }
        }
        out
    }

    #[test]
    fn fold_chroma_adds_in_the_order_of_the_definition() {
        let mut s = 0x1234_5678_9abc_def1u64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        // 5 chroma (fewer than twelve), 12, and 29 (two full blocks and a partial one);
        // uneven memberships, and chroma with no bin at all.
        for nc in [5usize, 12, 29] {
            let n_bins = 97;
            let map: Vec<usize> = (0..n_bins).map(|_| (next() % nc as u64) as usize).collect();
            let c = Array2::from_shape_fn((11, n_bins), |_| (next() >> 40) as f32 * 1e-3);
            let want = fold_by_definition(c.view(), &map, nc);
            let plan = FoldPlan::new(&map, nc);
            let mut row = Vec::new();
            // Contiguous rows, and rows that are not (a transposed copy viewed back).
            let t = c.t().to_owned();
            for (view, rows) in [(c.view(), "contiguous"), (t.t(), "strided")] {
                let mut got = Array2::from_elem((11, nc), f32::NAN);
                fold_chroma(view, &plan, &mut row, got.view_mut());
                assert_eq!(
                    got.mapv(f32::to_bits),
                    want.mapv(f32::to_bits),
                    "{nc} chroma, {rows} rows"
                );
            }
        }
    }
}
