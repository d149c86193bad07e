//! Chroma energy normalized statistics (CENS): librosa's `chroma_cens` and the variants a
//! study varies (Müller's original definition, smoothing length, downsampling,
//! quantisation).

use aad_core::{FeatureExtractor, Signal, check_output_shape};
use aad_dsp::{WindowKind, window};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::CensError;
use crate::chroma::{ChromaCqtConfig, ChromaCqtExtractor, ChromaNorm, TINY_F32, normalize_rows};

/// The smoothing window of CENS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum CensWindow {
    /// librosa: a symmetric Hann of `l + 2` points (zero end points, `l` non-zero taps)
    /// normalised to sum 1, centred as `scipy.ndimage.convolve` centres it.
    #[default]
    LibrosaHann,
    /// Müller (libfmp): a periodic Hann of `l` points divided by `l`, centred as
    /// `scipy.signal.convolve(mode="same")` centres it.
    MullerHann,
}

/// How a frame whose norm is (nearly) zero is handled.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub enum SilentFrames {
    /// librosa: frames with a norm below float32 `tiny` are left as they are (zeros).
    #[default]
    Keep,
    /// Müller: frames with a norm below `threshold` become the flat unit vector (before
    /// quantisation `1/n`, after smoothing `1/sqrt(n)`).
    Flat {
        /// Norm threshold (Müller uses 1e-4).
        threshold: f64,
    },
}

/// CENS parameters. `Default` is librosa's `chroma_cens` (smoothing 41, no downsampling,
/// quantisation at 0.4/0.2/0.1/0.05 with strict `>` and weights 0.25, L2 norm).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct CensConfig {
    /// The chroma front end (its own norm is ignored: CENS starts from raw chroma).
    pub chroma: ChromaCqtConfig,
    /// Smoothing length `l` in frames; `None` (or 1 with the librosa window) = none.
    pub win_len_smooth: Option<usize>,
    /// Smoothing window.
    pub window: CensWindow,
    /// Keep every `d`-th frame after smoothing (1 = all, librosa; the seed used 5).
    pub downsample: usize,
    /// Quantisation thresholds (each adds its weight when exceeded).
    pub quant_steps: Vec<f32>,
    /// Quantisation weights, one per step.
    pub quant_weights: Vec<f32>,
    /// Count a value equal to a step (`>=`, Müller) instead of strictly above (`>`, librosa).
    pub inclusive: bool,
    /// Final normalisation (librosa L2).
    pub norm: ChromaNorm,
    /// Silent-frame handling.
    pub silent: SilentFrames,
}

impl Default for CensConfig {
    fn default() -> Self {
        CensConfig {
            chroma: ChromaCqtConfig::default(),
            win_len_smooth: Some(41),
            window: CensWindow::LibrosaHann,
            downsample: 1,
            quant_steps: vec![0.4, 0.2, 0.1, 0.05],
            quant_weights: vec![0.25; 4],
            inclusive: false,
            norm: ChromaNorm::L2,
            silent: SilentFrames::Keep,
        }
    }
}

impl CensConfig {
    /// librosa's `chroma_cens` defaults at `sample_rate`.
    pub fn librosa(sample_rate: u32) -> Self {
        CensConfig {
            chroma: ChromaCqtConfig::with_sample_rate(sample_rate),
            ..Default::default()
        }
    }

    /// The seed project's variant: librosa's CENS, then every 5th frame (`cens[:, ::5]`).
    pub fn seed(sample_rate: u32) -> Self {
        CensConfig {
            downsample: 5,
            ..CensConfig::librosa(sample_rate)
        }
    }

    /// Müller's CENS^l_d (libfmp / FMP notebook C7S2): `>=` quantisation with integer
    /// levels, a periodic Hann of `l` points, downsampling by `d`, and flat vectors for
    /// frames with a norm below 1e-4. (The chroma front end stays the CQT chroma at the
    /// configured hop; Müller's 10 Hz pitch filterbank is not reproduced.)
    pub fn muller(sample_rate: u32, l: usize, d: usize) -> Self {
        CensConfig {
            win_len_smooth: Some(l),
            window: CensWindow::MullerHann,
            downsample: d,
            quant_weights: vec![1.0; 4],
            inclusive: true,
            silent: SilentFrames::Flat { threshold: 1e-4 },
            ..CensConfig::librosa(sample_rate)
        }
    }

    /// Sets the smoothing length.
    pub fn smoothing(mut self, l: Option<usize>) -> Self {
        self.win_len_smooth = l;
        self
    }

    /// Sets the downsampling factor.
    pub fn downsample(mut self, d: usize) -> Self {
        self.downsample = d;
        self
    }

    /// Sets the quantisation steps and weights.
    pub fn quantisation(mut self, steps: Vec<f32>, weights: Vec<f32>) -> Self {
        self.quant_steps = steps;
        self.quant_weights = weights;
        self
    }

    /// Sets the chroma front end.
    pub fn chroma(mut self, chroma: ChromaCqtConfig) -> Self {
        self.chroma = chroma;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), CensError> {
        if self.downsample == 0 {
            return Err(CensError::config("downsample", 0, "must be >= 1"));
        }
        if self.win_len_smooth == Some(0) {
            return Err(CensError::config(
                "win_len_smooth",
                0,
                "must be >= 1 (or None for no smoothing)",
            ));
        }
        if self.quant_steps.is_empty() || self.quant_steps.len() != self.quant_weights.len() {
            return Err(CensError::config(
                "quant_steps",
                format!(
                    "{} steps, {} weights",
                    self.quant_steps.len(),
                    self.quant_weights.len()
                ),
                "need as many weights as steps, at least one",
            ));
        }
        if self
            .quant_steps
            .iter()
            .chain(&self.quant_weights)
            .any(|v| !v.is_finite())
        {
            return Err(CensError::config(
                "quant_steps",
                format!("{:?}", self.quant_steps),
                "must be finite",
            ));
        }
        if let SilentFrames::Flat { threshold } = self.silent
            && !(threshold > 0.0 && threshold.is_finite())
        {
            return Err(CensError::config(
                "silent threshold",
                threshold,
                "must be > 0",
            ));
        }
        Ok(())
    }

    /// Frames after downsampling, `ceil(frames / d)`.
    pub fn output_frames(&self, chroma_frames: usize) -> usize {
        chroma_frames.div_ceil(self.downsample)
    }

    /// The normalised smoothing kernel and its centre offset.
    fn kernel(&self) -> Option<(Vec<f64>, usize)> {
        let l = self.win_len_smooth?;
        match self.window {
            CensWindow::LibrosaHann => {
                let mut w = window(WindowKind::HannSymmetric, l + 2);
                let s: f64 = w.iter().sum();
                w.iter_mut().for_each(|v| *v /= s);
                let c = w.len() / 2;
                Some((w, c))
            }
            CensWindow::MullerHann => {
                let mut w = window(WindowKind::Hann, l);
                w.iter_mut().for_each(|v| *v /= l as f64);
                Some((w, (l - 1) / 2))
            }
        }
    }
}

/// CENS of a raw (unnormalised) chroma matrix `frames x n_chroma`, written to `out`
/// (`ceil(frames / d) x n_chroma`). `work` is scratch of the input's shape.
///
/// # Errors
/// Invalid parameters or a wrong output shape.
pub fn cens_from_chroma_into(
    chroma: ArrayView2<'_, f32>,
    config: &CensConfig,
    work: &mut Array2<f32>,
    out: ArrayViewMut2<'_, f32>,
) -> Result<(), CensError> {
    config.validate()?;
    let kernel = config.kernel();
    cens_with_kernel(chroma, config, kernel.as_ref(), work, out)
}

/// [`cens_from_chroma_into`] with the smoothing kernel (`config.kernel()`) built once.
fn cens_with_kernel(
    chroma: ArrayView2<'_, f32>,
    config: &CensConfig,
    kernel: Option<&(Vec<f64>, usize)>,
    work: &mut Array2<f32>,
    mut out: ArrayViewMut2<'_, f32>,
) -> Result<(), CensError> {
    let (t, nc) = chroma.dim();
    check_output_shape(out.dim(), (config.output_frames(t), nc))?;
    if work.dim() != (t, nc) || !work.is_standard_layout() {
        *work = Array2::zeros((t, nc));
    }
    work.assign(&chroma);
    // 1. L1 normalisation.
    let (threshold, fill_l1, fill_final) = match config.silent {
        SilentFrames::Keep => (TINY_F32, None, None),
        SilentFrames::Flat { threshold } => (
            threshold,
            Some(1.0 / nc as f32),
            Some((1.0 / (nc as f64).sqrt()) as f32),
        ),
    };
    normalize_rows(work.view_mut(), ChromaNorm::L1, threshold, fill_l1);
    quantize(work, config);
    // 3. Smoothing along time (zero-extended, accumulated in f64), 4. downsampling,
    // 5. normalisation.
    smooth_downsample(work, kernel, config.downsample, out.view_mut());
    let final_threshold = if fill_final.is_some() {
        threshold
    } else {
        TINY_F32
    };
    normalize_rows(out, config.norm, final_threshold, fill_final);
    Ok(())
}

/// Step 2: each value replaced by the summed weights of the steps it passes (float32
/// comparisons, as numpy compares float32 with a Python float).
fn quantize(work: &mut Array2<f32>, config: &CensConfig) {
    for v in work.iter_mut() {
        let x = *v;
        let mut q = 0.0f32;
        for (&s, &w) in config.quant_steps.iter().zip(&config.quant_weights) {
            if (config.inclusive && x >= s) || (!config.inclusive && x > s) {
                q += w;
            }
        }
        *v = q;
    }
}

/// Steps 3 and 4: every `d`-th frame of `work` smoothed along time by `kernel` (weights
/// and centre; zero-extended, accumulated in f64), or taken as it is without one.
fn smooth_downsample(
    work: &Array2<f32>,
    kernel: Option<&(Vec<f64>, usize)>,
    d: usize,
    mut out: ArrayViewMut2<'_, f32>,
) {
    let (t, nc) = work.dim();
    let Some((w, c)) = kernel else {
        for (o, mut dst) in out.rows_mut().into_iter().enumerate() {
            dst.assign(&work.row(o * d));
        }
        return;
    };
    let c = *c;
    // Row-wise: each output accumulates w[k] * x[src] over the valid k in ascending
    // order (the zero padding contributes nothing), f64 per channel.
    let mut stack = [0.0f64; 48];
    let mut heap = Vec::new();
    let acc: &mut [f64] = if nc <= stack.len() {
        &mut stack[..nc]
    } else {
        heap.resize(nc, 0.0);
        &mut heap
    };
    for (o, mut dst) in out.rows_mut().into_iter().enumerate() {
        let i = o * d + c;
        // src = i - k must lie in [0, t).
        let k_lo = (i + 1).saturating_sub(t);
        let k_hi = w.len().min(i + 1);
        acc.fill(0.0);
        for (k, &wk) in w.iter().enumerate().take(k_hi).skip(k_lo) {
            if let Some(src) = work.row(i - k).as_slice() {
                for (a, &x) in acc.iter_mut().zip(src) {
                    *a += wk * f64::from(x);
                }
            }
        }
        for (dv, &a) in dst.iter_mut().zip(acc.iter()) {
            *dv = a as f32;
        }
    }
}

/// A planned CENS extractor: CQT chroma (tuning estimated per clip by default), then
/// [`cens_from_chroma_into`]. Output `ceil(frames / d) x n_chroma`.
///
/// ```
/// use aad_core::{FeatureExtractor, Signal};
/// use cens_features::{CensConfig, CensExtractor};
/// let x: Vec<f32> = (0..160_000).map(|i| ((i as f32) * 0.0171).sin() * 0.2).collect();
/// let mut fx = CensExtractor::new(CensConfig::seed(16_000))?;
/// let cens = fx.extract(&Signal::new(x, 16_000)?)?;
/// assert_eq!(cens.dim(), (63, 12)); // 313 frames, every 5th
/// for row in cens.rows() {
///     let norm: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
///     assert!((norm - 1.0).abs() < 1e-5);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CensExtractor {
    config: CensConfig,
    chroma: ChromaCqtExtractor,
    raw: Array2<f32>,
    work: Array2<f32>,
    kernel: Option<(Vec<f64>, usize)>,
}

impl CensExtractor {
    /// Plans the extractor.
    ///
    /// # Errors
    /// Invalid parameters.
    pub fn new(config: CensConfig) -> Result<Self, CensError> {
        config.validate()?;
        Ok(CensExtractor {
            chroma: ChromaCqtExtractor::new(config.chroma.clone())?,
            raw: Array2::zeros((0, config.chroma.n_chroma)),
            work: Array2::zeros((0, config.chroma.n_chroma)),
            kernel: config.kernel(),
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CensConfig {
        &self.config
    }

    /// The tuning of the last clip.
    pub fn last_tuning(&self) -> f64 {
        self.chroma.last_tuning()
    }
}

impl FeatureExtractor for CensExtractor {
    type Error = CensError;

    fn hop_length(&self) -> usize {
        self.config.chroma.cqt.hop_length * self.config.downsample.max(1)
    }

    fn sample_rate(&self) -> u32 {
        self.config.chroma.cqt.sample_rate
    }

    fn dims(&self) -> usize {
        self.config.chroma.n_chroma
    }

    fn num_frames(&self, n_samples: usize) -> usize {
        self.config.output_frames(self.chroma.num_frames(n_samples))
    }

    fn extract_into(
        &mut self,
        signal: &Signal,
        out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), CensError> {
        let n = self.chroma.num_frames(signal.len());
        check_output_shape(out.dim(), (self.config.output_frames(n), self.dims()))?;
        if self.raw.nrows() != n {
            self.raw = Array2::zeros((n, self.dims()));
        }
        self.chroma.raw_into(signal, self.raw.view_mut())?;
        cens_with_kernel(
            self.raw.view(),
            &self.config,
            self.kernel.as_ref(),
            &mut self.work,
            out,
        )
    }
}
