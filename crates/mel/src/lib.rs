//! Log-Mel spectrograms and MFCC, numerically faithful to librosa 0.11 and fast.
//!
//! - [`MelExtractor`]: STFT (periodic Hann, centred, zero or reflect padding) → `|X|^p` →
//!   Slaney or HTK mel filterbank (applied sparsely) → `10 log10(S + eps)`,
//!   `power_to_db`, `ln(S + c)` or linear → optional context stacking.
//! - [`MfccExtractor`]: orthonormal DCT-II of the log-Mel frames, first coefficient
//!   optionally dropped.
//! - Presets: [`MelConfig::dcase2020`] (1024/512, 128 mels, 5 frames → 640),
//!   [`MelConfig::mimii_baseline`] (64 mels → 320), [`MelConfig::seed`] (2048/512, 64 mels).
//!
//! Both implement [`aad_core::FeatureExtractor`]: planned once, `frames x dims` output
//! into a caller buffer. Parity with librosa is tested on committed fixtures and on real
//! MIMII/DCASE clips (relative Frobenius error < 1e-5, log-Mel max error < 1e-3 dB).
//!
//! ```
//! use aad_core::{FeatureExtractor, Signal};
//! use mel_features::{MelConfig, MelExtractor};
//! let x: Vec<f32> = (0..160_000).map(|i| (i as f32 * 0.0785).sin() * 0.3).collect();
//! let mut fx = MelExtractor::new(MelConfig::mimii_baseline())?;
//! let v = fx.extract(&Signal::new(x, 16_000)?)?;
//! assert_eq!(v.dim(), (309, 320)); // 313 frames, 5 stacked
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod config;

/// Version of the numbers this crate computes. Bump it with any change that alters an
/// output value (not for speed-ups that keep outputs bit-identical): feature caches key on
/// it, so a bump invalidates cached features. `tests/algorithm_version.rs` fails when the
/// outputs on its fixed signal change while this number does not.
pub const ALGORITHM_VERSION: u32 = 1;

mod error;
mod extractor;
mod filters;

pub use config::{LogScale, MelConfig, MfccConfig};
pub use error::MelError;
pub use extractor::{MelExtractor, MfccExtractor};
pub use filters::{
    MelNorm, MelScale, fft_frequencies, hz_to_mel, mel_filterbank, mel_frequencies, mel_to_hz,
};
