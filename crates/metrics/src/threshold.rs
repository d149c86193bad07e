//! Decision thresholds fitted on normal training scores, and what a threshold achieves.

use aad_core::Label;
use statrs::distribution::{ContinuousCDF, Gamma};
use statrs::function::gamma::digamma;

use crate::MetricsError;
use crate::sum::np_mean;

fn check_scores(what: &'static str, scores: &[f64], need: usize) -> Result<(), MetricsError> {
    if scores.len() < need {
        return Err(MetricsError::TooFew {
            what,
            need,
            got: scores.len(),
        });
    }
    if let Some(index) = scores.iter().position(|s| !s.is_finite()) {
        return Err(MetricsError::NonFinite {
            index,
            value: scores[index],
        });
    }
    Ok(())
}

/// `mean + k * std` of the normal training scores (population standard deviation, as
/// `numpy.std`): the seed project's rule with `k = 1`.
///
/// ```
/// let t = aad_metrics::threshold_mean_std(&[1.0, 2.0, 3.0, 4.0], 1.0)?;
/// assert!((t - (2.5 + 1.25f64.sqrt())).abs() < 1e-15);
/// # Ok::<(), aad_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// No scores, a non-finite score or `k`.
pub fn threshold_mean_std(normal_scores: &[f64], k: f64) -> Result<f64, MetricsError> {
    check_scores("mean + k std", normal_scores, 1)?;
    if !k.is_finite() {
        return Err(MetricsError::InvalidParameter {
            name: "k",
            value: k,
            reason: "must be finite",
        });
    }
    let mean = np_mean(normal_scores);
    let sq: Vec<f64> = normal_scores
        .iter()
        .map(|x| (x - mean).abs().powi(2))
        .collect();
    Ok(mean + k * np_mean(&sq).sqrt())
}

/// The `q` quantile of the normal training scores with linear interpolation between
/// order statistics (`numpy.quantile`'s default, R type 7).
///
/// ```
/// assert_eq!(aad_metrics::threshold_quantile(&[4.0, 1.0, 3.0, 2.0], 0.5)?, 2.5);
/// # Ok::<(), aad_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// No scores, a non-finite score, or `q` outside [0, 1].
pub fn threshold_quantile(normal_scores: &[f64], q: f64) -> Result<f64, MetricsError> {
    check_scores("a quantile", normal_scores, 1)?;
    if !(0.0..=1.0).contains(&q) {
        return Err(MetricsError::InvalidParameter {
            name: "q",
            value: q,
            reason: "must be in [0, 1]",
        });
    }
    let mut x = normal_scores.to_vec();
    x.sort_by(f64::total_cmp);
    let h = (x.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(x.len() - 1);
    let t = h - lo as f64;
    let (a, b) = (x[lo], x[hi]);
    // numpy's _lerp: from the nearer end, so q = 1 gives the maximum exactly.
    let d = b - a;
    Ok(if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    })
}

/// A gamma distribution fitted to scores by maximum likelihood with the location fixed
/// at 0 (`scipy.stats.gamma.fit(x, floc=0)`).
///
/// The DCASE 2021+ baselines call `scipy.stats.gamma.fit(x)` with a free location, whose
/// Nelder–Mead optimum depends on its starting point and is often degenerate; anomaly
/// scores (reconstruction errors, distances) are non-negative, so the two-parameter fit
/// is the stable choice. Both are compared in this crate's tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaFit {
    /// Shape `a`.
    pub shape: f64,
    /// Scale `θ` (mean = `a θ`).
    pub scale: f64,
}

impl GammaFit {
    /// Fits by maximum likelihood: `ln a - ψ(a) = ln mean(x) - mean(ln x)` solved by
    /// Newton's method in `ln a`, then `θ = mean / a`.
    ///
    /// ```
    /// let fit = aad_metrics::GammaFit::fit(&[1.0, 2.0, 3.0, 4.0, 5.0])?;
    /// assert!((fit.shape * fit.scale - 3.0).abs() < 1e-12); // the mean is preserved
    /// # Ok::<(), aad_metrics::MetricsError>(())
    /// ```
    ///
    /// # Errors
    /// Fewer than 2 scores, a score that is not finite and positive, or all scores equal.
    pub fn fit(scores: &[f64]) -> Result<GammaFit, MetricsError> {
        check_scores("a gamma fit", scores, 2)?;
        if let Some(index) = scores.iter().position(|&s| s <= 0.0) {
            return Err(MetricsError::InvalidParameter {
                name: "score",
                value: scores[index],
                reason: "a gamma fit needs positive scores",
            });
        }
        let mean = np_mean(scores);
        let logs: Vec<f64> = scores.iter().map(|x| x.ln()).collect();
        let s = mean.ln() - np_mean(&logs);
        if s <= 1e-14 {
            return Err(MetricsError::InvalidParameter {
                name: "scores",
                value: mean,
                reason: "all scores (nearly) equal: the gamma shape diverges",
            });
        }
        // Minka's starting point, then Newton on f(a) = ln a - ψ(a) - s.
        let mut a = (3.0 - s + ((s - 3.0).powi(2) + 24.0 * s).sqrt()) / (12.0 * s);
        for _ in 0..100 {
            let f = a.ln() - digamma(a) - s;
            let df = 1.0 / a - trigamma(a);
            let next = a - f / df;
            let next = if next > 0.0 { next } else { a / 2.0 };
            let done = (next - a).abs() <= 1e-15 * a;
            a = next;
            if done {
                break;
            }
        }
        Ok(GammaFit {
            shape: a,
            scale: mean / a,
        })
    }

    /// The `p` quantile (`scipy.stats.gamma.ppf(p, a, scale=θ)`).
    ///
    /// # Errors
    /// `p` outside (0, 1).
    pub fn quantile(&self, p: f64) -> Result<f64, MetricsError> {
        if !(p > 0.0 && p < 1.0) {
            return Err(MetricsError::InvalidParameter {
                name: "p",
                value: p,
                reason: "must be in (0, 1)",
            });
        }
        let g = Gamma::new(self.shape, 1.0 / self.scale).map_err(|_| {
            MetricsError::InvalidParameter {
                name: "shape",
                value: self.shape,
                reason: "invalid gamma parameters",
            }
        })?;
        Ok(g.inverse_cdf(p))
    }
}

/// ψ'(x) by recurrence to x >= 6 and the asymptotic series (error < 1e-15).
fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 6.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let x2 = 1.0 / (x * x);
    acc + 1.0 / x
        + x2 / 2.0
        + (1.0 / x) * x2 * (1.0 / 6.0 - x2 * (1.0 / 30.0 - x2 * (1.0 / 42.0 - x2 / 30.0)))
}

/// The gamma-fit threshold of the DCASE 2021+ baselines: fit [`GammaFit`] to the normal
/// training scores and take its `percentile` quantile (the baselines use 0.9).
///
/// # Errors
/// As [`GammaFit::fit`] and [`GammaFit::quantile`].
pub fn threshold_gamma(normal_scores: &[f64], percentile: f64) -> Result<f64, MetricsError> {
    GammaFit::fit(normal_scores)?.quantile(percentile)
}

/// Confusion counts and rates at a threshold: a clip is predicted anomalous when its
/// score is **strictly above** the threshold (as the DCASE 2021+ baselines decide).
/// Anomalous is the positive class. Rates with a zero denominator are 0 (scikit-learn's
/// `zero_division=0`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinaryReport {
    /// Anomalies predicted anomalous.
    pub tp: usize,
    /// Normals predicted anomalous.
    pub fp: usize,
    /// Normals predicted normal.
    pub tn: usize,
    /// Anomalies predicted normal.
    pub fn_: usize,
    /// `tp / (tp + fp)`.
    pub precision: f64,
    /// `tp / (tp + fn)` (true-positive rate).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// `(recall + tn / (tn + fp)) / 2`.
    pub balanced_accuracy: f64,
    /// `fp / (fp + tn)`.
    pub fpr: f64,
}

/// Precision, recall, F1 and balanced accuracy at `threshold`.
///
/// ```
/// use aad_core::Label::{Anomalous as A, Normal as N};
/// let r = aad_metrics::binary_report(&[0.1, 0.9, 0.6, 0.2], &[N, A, N, A], 0.5)?;
/// assert_eq!((r.tp, r.fp, r.tn, r.fn_), (1, 1, 1, 1));
/// assert_eq!(r.balanced_accuracy, 0.5);
/// # Ok::<(), aad_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// Empty input, length mismatch, non-finite scores or threshold. One class is allowed.
pub fn binary_report(
    scores: &[f64],
    labels: &[Label],
    threshold: f64,
) -> Result<BinaryReport, MetricsError> {
    if scores.len() != labels.len() {
        return Err(MetricsError::LengthMismatch {
            scores: scores.len(),
            labels: labels.len(),
        });
    }
    check_scores("a binary report", scores, 1)?;
    if !threshold.is_finite() {
        return Err(MetricsError::InvalidParameter {
            name: "threshold",
            value: threshold,
            reason: "must be finite",
        });
    }
    let (mut tp, mut fp, mut tn, mut fn_) = (0, 0, 0, 0);
    for (&s, l) in scores.iter().zip(labels) {
        match (s > threshold, l.is_anomalous()) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, false) => tn += 1,
            (false, true) => fn_ += 1,
        }
    }
    let div = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let precision = div(tp, tp + fp);
    let recall = div(tp, tp + fn_);
    let f1 = div(2 * tp, 2 * tp + fp + fn_);
    let tnr = div(tn, tn + fp);
    // scikit-learn averages the recall of the classes present.
    let present = usize::from(tp + fn_ > 0) + usize::from(tn + fp > 0);
    let balanced_accuracy = (recall + tnr) / present.max(1) as f64;
    Ok(BinaryReport {
        tp,
        fp,
        tn,
        fn_,
        precision,
        recall,
        f1,
        balanced_accuracy,
        fpr: div(fp, fp + tn),
    })
}
