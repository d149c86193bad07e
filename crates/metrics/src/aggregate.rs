//! Aggregating scores over machine ids, domains and seeds, and the challenge scores.

use aad_core::Label;

use crate::sum::np_mean;
use crate::{MetricsError, partial_auc, roc_auc};

fn check_values(what: &'static str, values: &[f64], need: usize) -> Result<(), MetricsError> {
    if values.len() < need {
        return Err(MetricsError::TooFew {
            what,
            need,
            got: values.len(),
        });
    }
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(MetricsError::NonFinite {
            index,
            value: values[index],
        });
    }
    Ok(())
}

/// Arithmetic mean (the DCASE 2020 tables average AUC and pAUC over machine ids).
///
/// # Errors
/// No values or a non-finite value.
pub fn mean(values: &[f64]) -> Result<f64, MetricsError> {
    check_values("a mean", values, 1)?;
    Ok(np_mean(values))
}

/// Mean and **sample** standard deviation (`ddof = 1`), e.g. over seeds. The standard
/// deviation of a single value is reported as 0.
///
/// ```
/// let (m, sd) = aad_metrics::mean_std(&[0.7, 0.8, 0.9])?;
/// assert!((m - 0.8).abs() < 1e-15 && (sd - 0.1).abs() < 1e-15);
/// # Ok::<(), aad_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// No values or a non-finite value.
pub fn mean_std(values: &[f64]) -> Result<(f64, f64), MetricsError> {
    check_values("a mean and standard deviation", values, 1)?;
    let m = np_mean(values);
    if values.len() == 1 {
        return Ok((m, 0.0));
    }
    let ss: f64 = values.iter().map(|v| (v - m).powi(2)).sum();
    Ok((m, (ss / (values.len() - 1) as f64).sqrt()))
}

/// Harmonic mean after flooring every value at `eps`, as the DCASE 2021+ evaluators
/// compute it (`scipy.stats.hmean(np.maximum(x, eps))`), so one zero does not make the
/// whole score zero... only nearly so.
///
/// ```
/// let h = aad_metrics::harmonic_mean(&[0.5, 1.0], f64::EPSILON)?;
/// assert!((h - 2.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), aad_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// No values, a non-finite value, or a negative value, or `eps <= 0`.
pub fn harmonic_mean(values: &[f64], eps: f64) -> Result<f64, MetricsError> {
    check_values("a harmonic mean", values, 1)?;
    if !(eps > 0.0 && eps.is_finite()) {
        return Err(MetricsError::InvalidParameter {
            name: "eps",
            value: eps,
            reason: "must be > 0",
        });
    }
    if let Some(&v) = values.iter().find(|v| **v < 0.0) {
        return Err(MetricsError::InvalidParameter {
            name: "value",
            value: v,
            reason: "a harmonic mean needs non-negative values",
        });
    }
    let inv: Vec<f64> = values.iter().map(|v| 1.0 / v.max(eps)).collect();
    Ok(1.0 / np_mean(&inv))
}

/// ROC AUC of one domain as the DCASE 2022+ evaluators define it: the normal clips of
/// `domain` against **all** anomalies, of every domain.
///
/// # Errors
/// Length mismatch, or the errors of [`roc_auc`] on the selected clips.
pub fn domain_auc<D: PartialEq>(
    scores: &[f64],
    labels: &[Label],
    domains: &[D],
    domain: &D,
) -> Result<f64, MetricsError> {
    if domains.len() != scores.len() {
        return Err(MetricsError::LengthMismatch {
            scores: scores.len(),
            labels: domains.len(),
        });
    }
    let keep: Vec<usize> = (0..scores.len().min(labels.len()))
        .filter(|&i| labels[i].is_anomalous() || domains[i] == *domain)
        .collect();
    let s: Vec<f64> = keep.iter().map(|&i| scores[i]).collect();
    let l: Vec<Label> = keep.iter().map(|&i| labels[i]).collect();
    roc_auc(&s, &l)
}

/// Scores of one (machine type, section) of a DCASE 2022+ evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SectionScores {
    /// AUC on source-domain normals + all anomalies.
    pub auc_source: f64,
    /// AUC on target-domain normals + all anomalies.
    pub auc_target: f64,
    /// McClish pAUC on all clips of the section.
    pub pauc: f64,
}

impl SectionScores {
    /// Computes the three numbers from one section's scores; `is_target[i]` is the
    /// domain of clip `i`.
    ///
    /// # Errors
    /// As [`domain_auc`] and [`partial_auc`].
    pub fn compute(
        scores: &[f64],
        labels: &[Label],
        is_target: &[bool],
        max_fpr: f64,
    ) -> Result<Self, MetricsError> {
        Ok(SectionScores {
            auc_source: domain_auc(scores, labels, is_target, &false)?,
            auc_target: domain_auc(scores, labels, is_target, &true)?,
            pauc: partial_auc(scores, labels, max_fpr)?,
        })
    }
}

/// The DCASE 2022–2024 official score Ω: the harmonic mean (floored at machine epsilon)
/// over every section's source AUC, target AUC and pAUC together.
///
/// # Errors
/// No sections, or non-finite values.
pub fn official_score(sections: &[SectionScores]) -> Result<f64, MetricsError> {
    let mut all = Vec::with_capacity(3 * sections.len());
    all.extend(sections.iter().map(|s| s.auc_source));
    all.extend(sections.iter().map(|s| s.auc_target));
    all.extend(sections.iter().map(|s| s.pauc));
    harmonic_mean(&all, f64::EPSILON)
}
