//! Anomaly detectors for machine sounds behind one interface: fit on normal clips only,
//! score clips (**higher = more anomalous**).
//!
//! - [`AutoencoderConfig`] → [`Autoencoder`]: dense autoencoders with the seed's, the
//!   MIMII baseline's, the DCASE 2020 baseline's and a CENS preset; MSE or selective
//!   Mahalanobis scoring; trained on a fast native CPU engine or on candle (CUDA with the
//!   `cuda` feature); saved as safetensors + JSON.
//! - [`classical`]: k-NN distance, LOF (novelty), Isolation Forest, Gaussian mixture,
//!   Mahalanobis distance and PCA reconstruction error, on frame vectors or clip
//!   statistics.
//! - [`IdClassifierConfig`] → [`IdClassifier`]: the machine-ID classifier, trained to tell
//!   one machine from the others of its type (their normal clips); score = `-log p(own)`.
//! - [`FusionConfig`] → [`Fusion`]: several detectors' scores, each standardised by its
//!   cross-fitted training scores, combined; [`SubbandConfig`] → [`Subband`]: one
//!   detector per band of feature columns, the worst band deciding; [`DomainBanksConfig`]
//!   → [`DomainBanks`]: one detector per recording domain, the nearest deciding.
//! - [`DetectorConfig`] / [`AnyDetector`]: all of them as one type, for experiment grids.
//!
//! A clip is a `frames x dims` matrix from any feature extractor. Every random choice
//! (initial weights, shuffling, subsampling, trees) comes from the seed passed to `fit`:
//! the same data and seed give bit-identical scores on the CPU.
//!
//! ```
//! use aad_core::{Detector, Fit};
//! use aad_models::{AutoencoderConfig, DetectorConfig, classical::KnnConfig};
//! use ndarray::Array2;
//!
//! // Normal clips: noise around 0; the anomaly sits at 3.
//! let clip = |c: f32, s: u64| Array2::from_shape_fn((40, 6), |(t, j)| c + ((t * 7 + j * 3 + s as usize) % 11) as f32 * 0.02);
//! let normal: Vec<Array2<f32>> = (0..8).map(|s| clip(0.0, s)).collect();
//! let views: Vec<_> = normal.iter().map(|c| c.view()).collect();
//! // Presets check the input width (320 = 64 log-Mel bands x 5 frames); these toy
//! // clips are 6 wide.
//! let ae = AutoencoderConfig::mimii().input_dims(None).epochs(30).batch_size(32).fit(&views, 7)?;
//! assert!(ae.score(clip(3.0, 1).view())? > ae.score(clip(0.0, 99).view())?);
//! let knn = DetectorConfig::Knn(KnnConfig::default()).fit(&views, 7)?;
//! assert!(knn.score(clip(3.0, 1).view())? > knn.score(clip(0.0, 99).view())?);
//! # Ok::<(), aad_models::ModelError>(())
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod any;
pub mod autoencoder;
pub mod classical;
mod data;
mod error;
mod folds;
mod fusion;
mod idclf;
mod linalg;
mod persist;
mod scaler;

pub use aad_core::{Detector, Fit};
pub use any::{AnyDetector, DetectorConfig, TrainingSet};
pub use autoencoder::{
    Activation, Adam, AeBreakdown, AeScoring, AeTarget, Autoencoder, AutoencoderConfig, Backend,
    EarlyStopping, EpochReport, TrainObserver,
};
#[allow(deprecated)]
pub use data::stack;
pub use data::{Pooling, Representation, check_clips, concat_vectors};
pub use error::ModelError;
pub use folds::deal_folds;
pub use fusion::{
    Combine, DomainBanks, DomainBanksConfig, Fusion, FusionConfig, Subband, SubbandConfig,
};
pub use idclf::{IdClassifier, IdClassifierConfig};
pub use persist::{DETECTOR_FORMAT_VERSION, write_atomic};
pub use scaler::{Scaler, Scaling};
