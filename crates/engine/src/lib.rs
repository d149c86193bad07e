//! The exploring-aad runtime: what fitting a detector on normal recordings and scoring
//! new ones needs, and nothing else (no plotting, no terminal UI, no study code).
//!
//! - [`registry`]: every named feature and detector (the tables `aad list` prints).
//! - [`model`](mod@model): a deployable model (feature + fitted detector + calibrated
//!   threshold in one file), behind `aad fit`, `aad score`, `aad monitor`, `aad eval`
//!   and Python's `Detector`.
//! - [`explain`](mod@explain): why a clip scored as it did (band, statistic, time span, kind).
//! - [`batch`]: decoding and feature extraction over many files on a thread pool.
//! - [`cache`]: the on-disk feature cache (file content × feature configuration).
//! - [`reference`](mod@reference): the feature set of the librosa reference harness, for
//!   parity checks and side-by-side timing.
//! - [`io`]: atomic writers (`.npy`, text).
//!
//! The study (`aad-experiment`: plan, split, cross-fitting, reports, figures) is built on
//! these modules.
//!
//! ```
//! use aad_core::Signal;
//! use aad_engine::model::{FitOptions, Model};
//!
//! let clip = |f: f32| {
//!     let x = (0..16_000).map(|i| (i as f32 * f * std::f32::consts::TAU / 16_000.0).sin());
//!     Signal::new(x.map(|v| 0.1 * v).collect(), 16_000)
//! };
//! let normal: Vec<Signal> = [440.0, 441.0, 442.0, 443.0, 444.0, 445.0]
//!     .iter()
//!     .map(|&f| clip(f))
//!     .collect::<Result<_, _>>()?;
//! let model = Model::fit_signals(&normal, &FitOptions::default())?;
//! let hum = model.score_signal(&clip(2_000.0)?)?;
//! assert!(model.decide(hum));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod batch;
pub mod cache;
mod cycle;
pub mod explain;
pub mod io;
pub mod model;
pub mod reference;
pub mod registry;
