//! Chroma and CENS features, numerically faithful to librosa 0.11 and fast.
//!
//! CENS (chroma energy normalized statistics) summarise the 12 pitch-class energies of a
//! sound: chroma frames are L1-normalised, quantised (0.4 / 0.2 / 0.1 / 0.05), smoothed
//! over `l` frames, optionally downsampled by `d` and L2-normalised. For machine sounds
//! they capture tonal structure (hum, blade-pass harmonics) robustly against level.
//!
//! | item | librosa |
//! |---|---|
//! | [`TuningEstimator`], [`estimate_tuning_from_spectrogram`], [`pitch_tuning`] | `estimate_tuning` → `piptrack` → `pitch_tuning`, reproduced exactly |
//! | [`Cqt`] | `cqt` (7 x 36 bins from C1, Hann wavelets, L1 norm, 1 % sparsity, octave decimation) |
//! | [`ChromaCqtExtractor`] | `feature.chroma_cqt` |
//! | [`ChromaStftExtractor`] | `feature.chroma_stft` (Ellis filterbank) |
//! | [`CensExtractor`], [`cens_from_chroma_into`] | `feature.chroma_cens`, plus `l`, `d`, quantisation and Müller's variant |
//!
//! The one deliberate difference: librosa decimates between CQT octaves with libsoxr
//! (C); we use FIR filters ([`HalfBand`]: a half-band filter inside the signal and one
//! with soxr's transition band at its ends). On the eleven real MIMII/DCASE reference
//! clips chroma_cqt stays within 4.5e-5 relative error of librosa and both CENS
//! variants are identical to librosa's.
//!
//! ```
//! use aad_core::{FeatureExtractor, Signal};
//! use cens_features::{CensConfig, CensExtractor};
//! // A hum at 100 Hz and its harmonics: 100 Hz is G2 + 35 cents, pitch class G.
//! let x: Vec<f32> = (0..80_000)
//!     .map(|i| (1..=4).map(|k| (std::f64::consts::TAU * 100.0 * k as f64 * i as f64 / 16_000.0).sin() as f32 / k as f32).sum())
//!     .collect();
//! let mut fx = CensExtractor::new(CensConfig::librosa(16_000))?;
//! let cens = fx.extract(&Signal::new(x, 16_000)?)?;
//! let mid = cens.row(cens.nrows() / 2);
//! let top = mid.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
//! assert_eq!(top, 7); // G
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

/// Version of the numbers this crate computes. Bump it with any change that alters an
/// output value (not for speed-ups that keep outputs bit-identical): feature caches key on
/// it, so a bump invalidates cached features. `tests/algorithm_version.rs` fails when the
/// outputs on its fixed signal change while this number does not.
pub const ALGORITHM_VERSION: u32 = 1;

mod cens;
mod chroma;
mod cqt;
mod error;
mod resample;
mod tuning;

pub use cens::{CensConfig, CensExtractor, CensWindow, SilentFrames, cens_from_chroma_into};
pub use chroma::{
    ChromaCqtConfig, ChromaCqtExtractor, ChromaNorm, ChromaStftConfig, ChromaStftExtractor,
    chroma_filterbank, cq_to_chroma_map,
};
pub use cqt::{C1_HZ, Cqt, CqtConfig, PLAN_CACHE_LIMIT};
pub use error::CensError;
pub use resample::HalfBand;
pub use tuning::{
    PiptrackParams, Tuning, TuningEstimator, estimate_tuning_from_spectrogram, pitch_tuning,
};
