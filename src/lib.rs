//! # exploring-aad
//!
//! Unsupervised anomaly detection in machine operating sounds, end to end: decode audio,
//! extract log-Mel or chroma/CENS features, fit detectors on normal clips only, score
//! test clips, report AUC and pAUC. This facade re-exports the workspace's crates so an
//! application needs one dependency; each crate can also be used on its own.
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`core`] | `aad-core` | `Signal`, `Label`, the feature-extractor and detector traits |
//! | [`audio`] | `aad-audio` | WAV/FLAC decoding to mono, channel policy |
//! | [`data`] | `aad-data` | MIMII/DCASE discovery, splits, synthetic machine sounds |
//! | [`dsp`] | `aad-dsp` | planned STFT faithful to librosa |
//! | [`mel`] | `mel-features` | log-Mel, power_to_db, MFCC, presets |
//! | [`cens`] | `cens-features` | tuning, CQT, chroma_stft, chroma_cqt, CENS |
//! | [`models`] | `aad-models` | autoencoders and classical detectors |
//! | [`plot`] | `aad-plot` | chromagrams, spectrograms, ROC curves, histograms |
//! | [`metrics`] | `aad-metrics` | ROC, AUC, McClish pAUC, thresholds, challenge scores |
//! | [`engine`] | `aad-engine` | registry, deployable model, batch extraction, feature cache |
//! | [`experiment`] | `aad-experiment` | the MIMII/DCASE study on the engine |
#![deny(missing_docs)]

pub use aad_audio as audio;
pub use aad_core as core;
pub use aad_data as data;
pub use aad_dsp as dsp;
pub use aad_engine as engine;
pub use aad_experiment as experiment;
pub use aad_metrics as metrics;
pub use aad_models as models;
pub use aad_plot as plot;
pub use cens_features as cens;
pub use mel_features as mel;

/// The README's code, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The experiment guide's code, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../docs/experiment.md")]
pub struct ExperimentDocDoctests;
