//! The planned Mel and MFCC extractors.

use std::sync::Arc;

use aad_core::{FeatureExtractor, Signal, check_output_shape, ops};
use aad_dsp::{Stft, ln_fast, log10_fast, magnitude_of, power_of};
use ndarray::{Array2, ArrayViewMut2};

use crate::filters::{LANES, SparseBank, mel_filterbank};
use crate::{LogScale, MelConfig, MelError, MfccConfig};

/// A planned (log-)Mel spectrogram extractor: STFT plan, window and filterbank are built
/// once; [`extract_into`](FeatureExtractor::extract_into) writes `frames x (n_mels *
/// context)` and allocates nothing (after the first call for a given clip length, when
/// context stacking needs its frame buffer).
///
/// ```
/// use aad_core::{FeatureExtractor, Signal};
/// use mel_features::{MelConfig, MelExtractor};
/// let mut fx = MelExtractor::new(MelConfig::dcase2020())?;
/// let clip = Signal::new(vec![0.0; 160_000], 16_000)?; // 10 s of silence
/// let m = fx.extract(&clip)?;
/// assert_eq!(m.dim(), (309, 640));
/// // Silence gives the eps floor, never -inf or NaN.
/// assert!(m.iter().all(|v| (v + 156.536).abs() < 1e-3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct MelExtractor {
    config: MelConfig,
    stft: Stft<f32>,
    bank: Arc<SparseBank>,
    /// Power spectra of up to `LANES` frames, bin-major.
    block: Vec<f32>,
    /// Their mel energies, band-major.
    mel_block: Vec<f32>,
    frames: Array2<f32>,
}

impl std::fmt::Debug for MelExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MelExtractor")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for MfccExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfccExtractor")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl MelExtractor {
    /// Plans the extractor.
    ///
    /// # Errors
    /// Invalid parameters, or a filterbank with empty filters.
    pub fn new(config: MelConfig) -> Result<Self, MelError> {
        config.validate()?;
        let dense = mel_filterbank(
            f64::from(config.sample_rate),
            config.stft.n_fft,
            config.n_mels,
            config.fmin,
            config.fmax_hz(),
            config.scale,
            config.norm,
        )?;
        let stft = Stft::new(config.stft.clone())?;
        Ok(MelExtractor {
            block: vec![0.0; stft.n_bins() * LANES],
            mel_block: vec![0.0; config.n_mels * LANES],
            bank: Arc::new(SparseBank::new(&dense)),
            stft,
            frames: Array2::zeros((0, config.n_mels)),
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MelConfig {
        &self.config
    }

    /// Mel frames (before stacking) for `n_samples` samples.
    pub fn num_mel_frames(&self, n_samples: usize) -> usize {
        self.stft.num_frames(n_samples)
    }

    /// Writes the unstacked `frames x n_mels` (log-)Mel spectrogram into `out`.
    ///
    /// # Errors
    /// Sample-rate mismatch or a wrong output shape.
    pub fn mel_into(
        &mut self,
        signal: &Signal,
        mut out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), MelError> {
        if signal.sample_rate() != self.config.sample_rate {
            return Err(MelError::SampleRate {
                expected: self.config.sample_rate,
                got: signal.sample_rate(),
            });
        }
        let n = self.num_mel_frames(signal.len());
        check_output_shape(out.dim(), (n, self.config.n_mels))?;
        let power = self.config.power;
        let log = self.config.log;
        let (block, mel_block, bank) = (&mut self.block, &mut self.mel_block, &self.bank);
        self.stft.process(signal.samples(), |t, bins| {
            let lane = t % LANES;
            let column = block.iter_mut().skip(lane).step_by(LANES);
            if power == 2.0 {
                column.zip(bins).for_each(|(s, c)| *s = power_of(*c));
            } else if power == 1.0 {
                column.zip(bins).for_each(|(s, c)| *s = magnitude_of(*c));
            } else {
                column
                    .zip(bins)
                    .for_each(|(s, c)| *s = magnitude_of(*c).powf(power));
            }
            if lane == LANES - 1 || t + 1 == n {
                bank.apply_block(block, mel_block);
                compress(mel_block, log);
                let first = t - lane;
                for l in 0..=lane {
                    let mut row = out.row_mut(first + l);
                    let src = mel_block.iter().skip(l).step_by(LANES);
                    match row.as_slice_mut() {
                        Some(r) => r.iter_mut().zip(src).for_each(|(o, v)| *o = *v),
                        None => row.iter_mut().zip(src).for_each(|(o, v)| *o = *v),
                    }
                }
            }
        })?;
        if let LogScale::PowerToDb {
            top_db: Some(top), ..
        } = log
        {
            let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let floor = max - top as f32;
            out.iter_mut().for_each(|v| *v = v.max(floor));
        }
        Ok(())
    }
}

/// Applies the per-value part of the log (the `top_db` clip needs the whole clip).
#[inline]
fn compress(values: &mut [f32], log: LogScale) {
    match log {
        LogScale::None => {}
        LogScale::Eps { eps } => {
            let eps = eps as f32;
            values
                .iter_mut()
                .for_each(|v| *v = 10.0 * log10_fast(*v + eps));
        }
        LogScale::PowerToDb {
            ref_value, amin, ..
        } => {
            let amin32 = amin as f32;
            let offset = (10.0 * amin.max(ref_value.abs()).log10()) as f32;
            values
                .iter_mut()
                .for_each(|v| *v = 10.0 * log10_fast(v.max(amin32)) - offset);
        }
        LogScale::Ln { offset } => {
            let offset = offset as f32;
            values.iter_mut().for_each(|v| *v = ln_fast(*v + offset));
        }
    }
}

impl FeatureExtractor for MelExtractor {
    type Error = MelError;

    fn hop_length(&self) -> usize {
        self.config.stft.hop_length
    }

    fn sample_rate(&self) -> u32 {
        self.config.sample_rate
    }

    fn dims(&self) -> usize {
        self.config.dims()
    }

    fn num_frames(&self, n_samples: usize) -> usize {
        ops::stacked_len(self.num_mel_frames(n_samples), self.config.context)
    }

    fn extract_into(
        &mut self,
        signal: &Signal,
        mut out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), MelError> {
        let context = self.config.context;
        let n = self.num_mel_frames(signal.len());
        if n < context {
            return Err(MelError::TooShort {
                samples: signal.len(),
                frames: n,
                need: context,
            });
        }
        check_output_shape(out.dim(), (self.num_frames(signal.len()), self.dims()))?;
        if context == 1 {
            return self.mel_into(signal, out);
        }
        if self.frames.nrows() != n {
            self.frames = Array2::zeros((n, self.config.n_mels));
        }
        let mut frames = std::mem::take(&mut self.frames);
        let r = self.mel_into(signal, frames.view_mut());
        if r.is_ok() {
            ops::stack_frames_into(frames.view(), context, out.view_mut())?;
        }
        self.frames = frames;
        r
    }
}

/// A planned MFCC extractor: log-Mel frames, then an orthonormal DCT-II
/// (`scipy.fft.dct(type=2, norm="ortho")`), keeping `n_mfcc` coefficients (optionally
/// without the 0th). Output `frames x dims`.
///
/// ```
/// use aad_core::{FeatureExtractor, Signal};
/// use mel_features::{MfccConfig, MfccExtractor};
/// let mut fx = MfccExtractor::new(MfccConfig::default())?;
/// let x: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.3).sin() * 0.1).collect();
/// let m = fx.extract(&Signal::new(x, 16_000)?)?;
/// assert_eq!(m.dim(), (32, 20));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct MfccExtractor {
    config: MfccConfig,
    mel: MelExtractor,
    /// `n_mfcc x n_mels`, row k = orthonormal DCT-II basis vector k.
    basis: Arc<Array2<f64>>,
    frames: Array2<f32>,
}

impl MfccExtractor {
    /// Plans the extractor.
    ///
    /// # Errors
    /// Invalid mel parameters, `n_mfcc` of 0 or above `n_mels`, or `n_mfcc = 1` with
    /// `drop_first`.
    pub fn new(config: MfccConfig) -> Result<Self, MelError> {
        let n_mels = config.mel.n_mels;
        if config.n_mfcc == 0 || config.n_mfcc > n_mels {
            return Err(MelError::config(
                "n_mfcc",
                config.n_mfcc,
                format!("must be in 1..={n_mels}"),
            ));
        }
        if config.drop_first && config.n_mfcc < 2 {
            return Err(MelError::config(
                "n_mfcc",
                config.n_mfcc,
                "must be >= 2 when dropping the 0th",
            ));
        }
        let mel = MelExtractor::new(config.mel.clone().context(1))?;
        let nm = n_mels as f64;
        let basis = Array2::from_shape_fn((config.n_mfcc, n_mels), |(k, n)| {
            let scale = if k == 0 {
                (1.0 / nm).sqrt()
            } else {
                (2.0 / nm).sqrt()
            };
            scale * (std::f64::consts::PI * k as f64 * (2 * n + 1) as f64 / (2.0 * nm)).cos()
        });
        Ok(MfccExtractor {
            config,
            mel,
            basis: Arc::new(basis),
            frames: Array2::zeros((0, n_mels)),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MfccConfig {
        &self.config
    }
}

impl FeatureExtractor for MfccExtractor {
    type Error = MelError;

    fn hop_length(&self) -> usize {
        self.config.mel.stft.hop_length
    }

    fn sample_rate(&self) -> u32 {
        self.config.mel.sample_rate
    }

    fn dims(&self) -> usize {
        self.config.dims()
    }

    fn num_frames(&self, n_samples: usize) -> usize {
        self.mel.num_mel_frames(n_samples)
    }

    fn extract_into(
        &mut self,
        signal: &Signal,
        mut out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), MelError> {
        let n = self.num_frames(signal.len());
        check_output_shape(out.dim(), (n, self.dims()))?;
        if self.frames.nrows() != n {
            self.frames = Array2::zeros((n, self.config.mel.n_mels));
        }
        let mut frames = std::mem::take(&mut self.frames);
        let r = self.mel.mel_into(signal, frames.view_mut());
        if r.is_ok() {
            let skip = usize::from(self.config.drop_first);
            for (src, mut dst) in frames.rows().into_iter().zip(out.rows_mut()) {
                for (k, d) in dst.iter_mut().enumerate() {
                    let b = self.basis.row(k + skip);
                    *d = b
                        .iter()
                        .zip(src.iter())
                        .map(|(w, &x)| w * f64::from(x))
                        .sum::<f64>() as f32;
                }
            }
        }
        self.frames = frames;
        r
    }
}
