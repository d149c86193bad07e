//! The feature set of `shared/pyref/features.py` (the librosa reference harness), with the
//! same names and parameters, so our output can be compared file by file with
//! `compare.py` and timed side by side with `timing.py`.

use std::time::Instant;

use aad_core::{FeatureExtractor, Signal};
use aad_dsp::{Stft, StftConfig};
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
}

/// One planned feature of the reference set.
enum Planned {
    StftPower(Box<Stft<f32>>),
    Mel(Box<MelExtractor>),
}

/// The planned reference feature set: `stft_power` (1024/512), `logmel` (DCASE 2020,
/// 128 mels, `10 log10(S + eps)`), `logmel_db` (`power_to_db` of the same mels).
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
                    "logmel_db",
                    Planned::Mel(Box::new(MelExtractor::new(mel.log(LogScale::POWER_TO_DB))?)),
                ),
            ],
        })
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
            Planned::Mel(fx) => {
                let shape = (fx.num_frames(signal.len()), fx.dims());
                if out.dim() != shape {
                    *out = Array2::zeros(shape);
                }
                fx.extract_into(signal, out.view_mut())?;
            }
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
