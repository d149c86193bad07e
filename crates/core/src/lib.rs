//! Shared vocabulary for unsupervised anomaly detection in machine sounds.
//!
//! This crate is deliberately tiny (ndarray + thiserror): every other crate of the
//! workspace depends on it and on nothing else of the workspace, so an implementation
//! crate (a feature extractor, a detector) only needs to know these types:
//!
//! - [`Signal`]: a checked mono clip (finite `f32` samples, sample rate > 0, non-empty).
//! - [`Label`]: ground truth, normal or anomalous (used only for evaluation).
//! - [`FeatureExtractor`]: planned once, then turns a signal into a `frames x dims`
//!   matrix without allocating.
//! - [`Fit`] and [`Detector`]: a configuration fitted on normal clips gives a separate
//!   trained type that scores clips. **Higher score = more anomalous**, everywhere.
//! - [`ops`]: context stacking and clip statistics over `frames x dims` matrices.
//!
//! # Example
//!
//! A toy extractor (frame energy) and a toy detector (distance of a clip's mean
//! feature to the mean of the normal clips) wired through the traits:
//!
//! ```
//! use aad_core::{Detector, FeatureExtractor, Fit, Signal};
//! use ndarray::{Array1, ArrayView2, ArrayViewMut2};
//!
//! /// Mean square of non-overlapping frames of `len` samples.
//! struct Energy { len: usize, sr: u32 }
//!
//! impl FeatureExtractor for Energy {
//!     type Error = aad_core::CoreError;
//!     fn hop_length(&self) -> usize { self.len }
//!     fn sample_rate(&self) -> u32 { self.sr }
//!     fn dims(&self) -> usize { 1 }
//!     fn num_frames(&self, n: usize) -> usize { n / self.len }
//!     fn extract_into(&mut self, s: &Signal, mut out: ArrayViewMut2<'_, f32>)
//!         -> Result<(), Self::Error> {
//!         aad_core::check_output_shape(out.dim(), (self.num_frames(s.len()), 1))?;
//!         for (row, frame) in out.rows_mut().into_iter().zip(s.samples().chunks_exact(self.len)) {
//!             let mut row = row;
//!             row[0] = frame.iter().map(|x| x * x).sum::<f32>() / self.len as f32;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! /// Fitted: the mean training feature.
//! struct MeanDistance { mean: Array1<f32> }
//! struct MeanDistanceConfig;
//!
//! impl Fit for MeanDistanceConfig {
//!     type Detector = MeanDistance;
//!     type Error = aad_core::CoreError;
//!     fn fit(&self, normal: &[ArrayView2<'_, f32>], _seed: u64) -> Result<MeanDistance, Self::Error> {
//!         let n = normal.len() as f32;
//!         let mean = normal.iter().map(|c| c.mean_axis(ndarray::Axis(0)).unwrap()).fold(
//!             Array1::zeros(normal[0].ncols()), |acc, m| acc + m / n);
//!         Ok(MeanDistance { mean })
//!     }
//! }
//!
//! impl Detector for MeanDistance {
//!     type Error = aad_core::CoreError;
//!     fn input_dims(&self) -> usize { self.mean.len() }
//!     fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, Self::Error> {
//!         let m = clip.mean_axis(ndarray::Axis(0)).unwrap();
//!         Ok((&m - &self.mean).mapv(|d| (d * d) as f64).sum().sqrt())
//!     }
//! }
//!
//! let quiet = Signal::new(vec![0.1; 1600], 16_000)?;
//! let loud = Signal::new(vec![0.9; 1600], 16_000)?;
//! let mut fx = Energy { len: 160, sr: 16_000 };
//! let normal = [fx.extract(&quiet)?, fx.extract(&quiet)?];
//! let views: Vec<_> = normal.iter().map(|m| m.view()).collect();
//! let det = MeanDistanceConfig.fit(&views, 7)?;
//! assert!(det.score(fx.extract(&loud)?.view())? > det.score(normal[0].view())?);
//! # Ok::<(), aad_core::CoreError>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

/// Sample rates the feature extractors plan for, in Hz. Planning cost grows with the rate
/// (a CQT basis at 48 MHz took 13 s, at 4 GHz minutes), so a header's absurd rate is
/// refused before any work rather than honoured; 1 kHz to 384 kHz covers every recorder.
pub const SUPPORTED_SAMPLE_RATES: std::ops::RangeInclusive<u32> = 1_000..=384_000;

/// Why a rate is unsupported, for the extractors' configuration errors.
pub const SAMPLE_RATE_RANGE_TEXT: &str = "must be between 1000 and 384000 Hz";

pub mod atomic;
mod error;
mod label;
pub mod ops;
mod signal;
pub mod simd;
mod traits;

pub use error::CoreError;
pub use label::{Domain, Label};
pub use signal::Signal;
pub use traits::{Detector, FeatureExtractor, Fit, check_output_shape};
