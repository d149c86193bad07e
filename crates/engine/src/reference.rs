//! The feature set of `shared/pyref/features.py` (the librosa reference harness), with the
//! same names and parameters, so our output can be compared file by file with
//! `compare.py` and timed side by side with `timing.py`:
//!
//! | name | computation |
//! |---|---|
//! | `stft_power` | `abs(stft(y, n_fft=1024, hop_length=512))**2` |
//! | `logmel` | 128 mels of that, `10 log10(S + eps)` (DCASE 2020 baseline) |
//! | `logmel_db` | `power_to_db` of the same mels |
//! | `chroma_stft` | `chroma_stft(n_fft=2048, hop_length=512)`, tuning estimated |
//! | `chroma_cqt` | `chroma_cqt()` defaults (36 bins/octave, 7 octaves, tuning estimated) |
//! | `chroma_cens` | `chroma_cens(hop_length=512, win_len_smooth=41)` |
//! | `chroma_cens_seed` | the same, every 5th frame |

use std::time::Instant;

use aad_core::{FeatureExtractor, Signal};
use aad_dsp::{Stft, StftConfig};
use cens_features::{
    CensConfig, CensExtractor, ChromaCqtConfig, ChromaCqtExtractor, ChromaStftConfig,
    ChromaStftExtractor,
};
use mel_features::{LogScale, MelConfig, MelExtractor};
use ndarray::Array2;

/// Errors of the reference feature set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// From the Mel extractors.
    #[error(transparent)]
    Mel(#[from] mel_features::MelError),
    /// From the STFT.
    #[error(transparent)]
    Dsp(#[from] aad_dsp::DspError),
    /// From the chroma extractors.
    #[error(transparent)]
    Cens(#[from] cens_features::CensError),
}

/// One planned feature of the reference set.
enum Planned {
    StftPower(Box<Stft<f32>>),
    Mel(Box<MelExtractor>),
    ChromaStft(Box<ChromaStftExtractor>),
    ChromaCqt(Box<ChromaCqtExtractor>),
    Cens(Box<CensExtractor>),
}

/// The planned reference feature set (see the module docs).
pub struct ReferenceFeatures {
    features: Vec<(&'static str, Planned)>,
}

impl ReferenceFeatures {
    /// Plans every feature for `sample_rate`.
    ///
    /// # Errors
    /// Invalid parameters for this rate.
    pub fn new(sample_rate: u32) -> Result<Self, ReferenceError> {
        let mel = MelConfig::dcase2020().context(1).sample_rate(sample_rate);
        Ok(ReferenceFeatures {
            features: vec![
                (
                    "stft_power",
                    Planned::StftPower(Box::new(Stft::new(StftConfig::new(1024, 512))?)),
                ),
                (
                    "logmel",
                    Planned::Mel(Box::new(MelExtractor::new(mel.clone())?)),
                ),
                (
                    "chroma_stft",
                    Planned::ChromaStft(Box::new(ChromaStftExtractor::new(
                        ChromaStftConfig::with_sample_rate(sample_rate),
                    )?)),
                ),
                (
                    "chroma_cqt",
                    Planned::ChromaCqt(Box::new(ChromaCqtExtractor::new(
                        ChromaCqtConfig::with_sample_rate(sample_rate),
                    )?)),
                ),
                (
                    "chroma_cens",
                    Planned::Cens(Box::new(CensExtractor::new(CensConfig::librosa(
                        sample_rate,
                    ))?)),
                ),
                (
                    "chroma_cens_seed",
                    Planned::Cens(Box::new(CensExtractor::new(CensConfig::seed(sample_rate))?)),
                ),
                (
                    "logmel_db",
                    Planned::Mel(Box::new(MelExtractor::new(mel.log(LogScale::POWER_TO_DB))?)),
                ),
            ],
        })
    }

    fn fill<E>(fx: &mut E, signal: &Signal, out: &mut Array2<f32>) -> Result<(), ReferenceError>
    where
        E: FeatureExtractor,
        ReferenceError: From<E::Error>,
    {
        let shape = (fx.num_frames(signal.len()), fx.dims());
        if out.dim() != shape {
            *out = Array2::zeros(shape);
        }
        fx.extract_into(signal, out.view_mut())?;
        Ok(())
    }

    /// Feature names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.features.iter().map(|(n, _)| *n).collect()
    }

    fn run(
        planned: &mut Planned,
        signal: &Signal,
        out: &mut Array2<f32>,
    ) -> Result<(), ReferenceError> {
        match planned {
            Planned::StftPower(stft) => {
                let shape = (stft.num_frames(signal.len()), stft.n_bins());
                if out.dim() != shape {
                    *out = Array2::zeros(shape);
                }
                stft.power_into(signal.samples(), out.view_mut())?;
            }
            Planned::Mel(fx) => Self::fill(fx.as_mut(), signal, out)?,
            Planned::ChromaStft(fx) => Self::fill(fx.as_mut(), signal, out)?,
            Planned::ChromaCqt(fx) => Self::fill(fx.as_mut(), signal, out)?,
            Planned::Cens(fx) => Self::fill(fx.as_mut(), signal, out)?,
        }
        Ok(())
    }

    /// Computes every feature, each as librosa lays it out: `[bins, frames]`.
    ///
    /// # Errors
    /// A sample-rate mismatch or a signal too short.
    pub fn compute(
        &mut self,
        signal: &Signal,
    ) -> Result<Vec<(&'static str, Array2<f32>)>, ReferenceError> {
        let mut out = Vec::new();
        for (name, planned) in &mut self.features {
            let mut m = Array2::zeros((0, 0));
            Self::run(planned, signal, &mut m)?;
            out.push((*name, m.reversed_axes()));
        }
        Ok(out)
    }

    /// Times each feature `repeats` times on `signal` (one thread, plans reused, output
    /// buffers reused) and returns `(name, median milliseconds)`.
    ///
    /// # Errors
    /// As [`compute`](Self::compute).
    pub fn time(
        &mut self,
        signal: &Signal,
        repeats: usize,
    ) -> Result<Vec<(&'static str, f64)>, ReferenceError> {
        let mut out = Vec::new();
        for (name, planned) in &mut self.features {
            let mut buf = Array2::zeros((0, 0));
            Self::run(planned, signal, &mut buf)?; // warm-up: caches, buffer sizes
            let mut ms: Vec<f64> = (0..repeats.max(1))
                .map(|_| {
                    let t = Instant::now();
                    let r = Self::run(planned, signal, &mut buf);
                    let e = t.elapsed().as_secs_f64() * 1e3;
                    r.map(|()| e)
                })
                .collect::<Result<_, _>>()?;
            ms.sort_by(f64::total_cmp);
            out.push((*name, ms[ms.len() / 2]));
        }
        Ok(out)
    }
}
