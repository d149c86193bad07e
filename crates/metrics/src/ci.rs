//! Confidence intervals for an AUC: the DCASE evaluators' jackknife and a stratified
//! bootstrap.

use aad_core::Label;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::roc::validate;
use crate::sum::np_mean;
use crate::{MetricsError, roc_auc};

/// A point estimate with a two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The (bias-corrected, for the jackknife) estimate.
    pub estimate: f64,
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// Jackknife CI of the ROC AUC as the DCASE Task 2 evaluators compute it (Turpault's
/// `jackknife_estimation`): leave-one-clip-out AUCs `θ_i`, bias `(n-1)(mean θ_i - θ)`,
/// standard error `sqrt((n-1) mean (θ_i - mean θ_i)²)`, estimate `θ - bias`, interval
/// `estimate ± t_{1-α/2, n-1} se`.
///
/// # Errors
/// Fewer than two clips of either class (a leave-one-out set would have one class), plus
/// the errors of [`roc_auc`]; `confidence` outside (0, 1).
pub fn jackknife_auc(
    scores: &[f64],
    labels: &[Label],
    confidence: f64,
) -> Result<Interval, MetricsError> {
    let (neg, pos) = validate(scores, labels)?;
    if neg < 2 || pos < 2 {
        return Err(MetricsError::TooFew {
            what: "a jackknife AUC interval (clips of the rarer class)",
            need: 2,
            got: neg.min(pos),
        });
    }
    check_confidence(confidence)?;
    let global = roc_auc(scores, labels)?;
    let n = scores.len();
    let mut partial = Vec::with_capacity(n);
    let mut s = Vec::with_capacity(n - 1);
    let mut l = Vec::with_capacity(n - 1);
    for i in 0..n {
        s.clear();
        l.clear();
        for j in (0..n).filter(|&j| j != i) {
            s.push(scores[j]);
            l.push(labels[j]);
        }
        partial.push(roc_auc(&s, &l)?);
    }
    let mean_jack = np_mean(&partial);
    let bias = (n - 1) as f64 * (mean_jack - global);
    let sq: Vec<f64> = partial
        .iter()
        .map(|p| (p - mean_jack) * (p - mean_jack))
        .collect();
    let std_err = ((n - 1) as f64 * np_mean(&sq)).sqrt();
    let estimate = global - bias;
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map_err(|_| MetricsError::TooFew {
            what: "a t distribution",
            need: 2,
            got: n,
        })?
        .inverse_cdf(1.0 - (1.0 - confidence) / 2.0);
    Ok(Interval {
        estimate,
        lo: estimate - t * std_err,
        hi: estimate + t * std_err,
    })
}

fn check_confidence(confidence: f64) -> Result<(), MetricsError> {
    if confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(MetricsError::InvalidParameter {
            name: "confidence",
            value: confidence,
            reason: "must be in (0, 1)",
        })
    }
}

/// Percentile bootstrap CI of the ROC AUC, resampling normals and anomalies separately
/// (stratified, so every resample has both classes). `estimate` is the AUC of the data.
/// The same seed gives the same interval.
///
/// # Errors
/// The errors of [`roc_auc`]; `confidence` outside (0, 1); `resamples < 10`.
pub fn bootstrap_auc(
    scores: &[f64],
    labels: &[Label],
    resamples: usize,
    confidence: f64,
    seed: u64,
) -> Result<Interval, MetricsError> {
    validate(scores, labels)?;
    check_confidence(confidence)?;
    if resamples < 10 {
        return Err(MetricsError::TooFew {
            what: "a bootstrap interval (resamples)",
            need: 10,
            got: resamples,
        });
    }
    let estimate = roc_auc(scores, labels)?;
    let neg: Vec<f64> = scores
        .iter()
        .zip(labels)
        .filter(|(_, l)| !l.is_anomalous())
        .map(|(s, _)| *s)
        .collect();
    let pos: Vec<f64> = scores
        .iter()
        .zip(labels)
        .filter(|(_, l)| l.is_anomalous())
        .map(|(s, _)| *s)
        .collect();
    let mut lab = vec![Label::Normal; neg.len()];
    lab.extend(std::iter::repeat_n(Label::Anomalous, pos.len()));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = vec![0.0; lab.len()];
    let mut aucs = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for v in s.iter_mut().take(neg.len()) {
            *v = neg[rng.random_range(0..neg.len())];
        }
        for v in s.iter_mut().skip(neg.len()) {
            *v = pos[rng.random_range(0..pos.len())];
        }
        aucs.push(crate::rank_auc(&s, &lab)?);
    }
    let alpha = (1.0 - confidence) / 2.0;
    Ok(Interval {
        estimate,
        lo: crate::threshold_quantile(&aucs, alpha)?,
        hi: crate::threshold_quantile(&aucs, 1.0 - alpha)?,
    })
}
