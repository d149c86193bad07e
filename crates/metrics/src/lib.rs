//! Evaluation metrics for anomaly detection, identical to scikit-learn and the DCASE
//! evaluators.
//!
//! Free functions over slices; `f64` inside; inputs with NaN or infinite scores are
//! rejected (never silently ordered). Anomalous is the **positive** class and a higher
//! score means **more anomalous**.
//!
//! | function | reference |
//! |---|---|
//! | [`roc_curve`], [`roc_auc`] | `sklearn.metrics.roc_curve`, `roc_auc_score` (ties count 1/2) |
//! | [`partial_auc`] | `roc_auc_score(max_fpr=p)`: McClish-standardised pAUC, what DCASE publishes |
//! | [`partial_auc_raw`] | partial area / p (unstandardised) |
//! | [`partial_auc_dcase_formula`] | the DCASE task-page formula |
//! | [`threshold_mean_std`], [`threshold_quantile`], [`threshold_gamma`] | the seed's mean + k std, `numpy.quantile`, the DCASE 2021+ gamma-fit percentile |
//! | [`binary_report`] | precision, recall, F1, balanced accuracy (`zero_division=0`) |
//! | [`mean`], [`mean_std`], [`harmonic_mean`], [`domain_auc`], [`official_score`] | DCASE 2020 averages, DCASE 2021+ harmonic means and domain AUCs |
//! | [`jackknife_auc`], [`bootstrap_auc`] | the evaluators' jackknife CI, a stratified bootstrap CI |
//!
//! # Example
//!
//! ```
//! use aad_core::Label::{Anomalous as A, Normal as N};
//! let scores = [0.12, 0.30, 0.08, 0.95, 0.41, 0.25];
//! let labels = [N, N, N, A, A, A];
//! assert!((aad_metrics::roc_auc(&scores, &labels)? - 8.0 / 9.0).abs() < 1e-15);
//! let pauc = aad_metrics::partial_auc(&scores, &labels, 0.1)?;
//! assert!(pauc > 0.5 && pauc <= 1.0);
//! # Ok::<(), aad_metrics::MetricsError>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod aggregate;
mod ci;
mod error;
pub mod io;
mod roc;
mod sum;
mod threshold;

pub use aggregate::{SectionScores, domain_auc, harmonic_mean, mean, mean_std, official_score};
pub use ci::{Interval, bootstrap_auc, jackknife_auc};
pub use error::MetricsError;
pub use roc::{
    RocCurve, partial_auc, partial_auc_dcase_formula, partial_auc_raw, rank_auc, roc_auc,
    roc_curve, roc_curve_with, trapezoid_auc,
};
pub use threshold::{
    BinaryReport, GammaFit, binary_report, threshold_gamma, threshold_mean_std, threshold_quantile,
};
