//! Short-time Fourier transform and framing, faithful to librosa 0.11, shared by the
//! `mel-features` and `cens-features` crates.
//!
//! - [`Stft`] is planned once (FFT plan, window) and then runs without allocating. It
//!   works in `f32` (fast) or `f64` (librosa's own precision: a float64 window times
//!   float32 samples, a double-precision FFT, the result rounded to complex64).
//! - Centring pads `n_fft / 2` samples at each end with zeros (librosa >= 0.10) or by
//!   reflection (librosa <= 0.9, the DCASE 2020 era), so a clip of `n` samples gives
//!   `1 + n / hop` frames.
//! - Windows are computed in f64 as scipy computes them ([`window`]).
//!
//! ```
//! use aad_dsp::{PadMode, Stft, StftConfig};
//! // A 1 kHz tone at 16 kHz falls in bin 64 of a 1024-point FFT.
//! let x: Vec<f32> = (0..16_000)
//!     .map(|i| (std::f32::consts::TAU * 1000.0 * i as f32 / 16_000.0).sin())
//!     .collect();
//! let mut stft = Stft::<f32>::new(StftConfig::new(1024, 512).pad_mode(PadMode::Reflect))?;
//! let mut p = ndarray::Array2::zeros((stft.num_frames(x.len()), stft.n_bins()));
//! stft.power_into(&x, p.view_mut())?;
//! let peak = p.row(10).iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
//! assert_eq!(peak, 64);
//! # Ok::<(), aad_dsp::DspError>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod aligned;
mod error;
mod fastlog;
mod stft;
mod window;

pub use aligned::Aligned;
pub use error::DspError;
pub use fastlog::{ln_fast, log10_fast};
pub use realfft::num_complex::Complex;
pub use stft::{
    PadMode, Stft, StftConfig, StftFloat, Transformed, abs_c32, magnitude_of, power_of, separate,
    zero_extended,
};
pub use window::{WindowKind, linspace, pad_center, window};
