//! ROC curve, ROC AUC and partial AUC, step for step as scikit-learn computes them.

use aad_core::Label;

use crate::MetricsError;
use crate::sum::pairwise_sum;

/// A ROC curve as `sklearn.metrics.roc_curve` returns it: points sorted by decreasing
/// threshold, starting at `(0, 0)` with threshold `+inf`.
#[derive(Debug, Clone, PartialEq)]
pub struct RocCurve {
    /// False-positive rates (normal clips scored at or above the threshold).
    pub fpr: Vec<f64>,
    /// True-positive rates (anomalous clips scored at or above the threshold).
    pub tpr: Vec<f64>,
    /// Thresholds, decreasing; the first is `f64::INFINITY`.
    pub thresholds: Vec<f64>,
}

/// Checks inputs and counts the classes: (negatives, positives).
pub(crate) fn validate(scores: &[f64], labels: &[Label]) -> Result<(usize, usize), MetricsError> {
    if scores.len() != labels.len() {
        return Err(MetricsError::LengthMismatch {
            scores: scores.len(),
            labels: labels.len(),
        });
    }
    if scores.is_empty() {
        return Err(MetricsError::Empty);
    }
    if let Some(index) = scores.iter().position(|s| !s.is_finite()) {
        return Err(MetricsError::NonFinite {
            index,
            value: scores[index],
        });
    }
    let pos = labels.iter().filter(|l| l.is_anomalous()).count();
    let neg = labels.len() - pos;
    if pos == 0 {
        return Err(MetricsError::OneClass {
            class: "normal",
            n: neg,
        });
    }
    if neg == 0 {
        return Err(MetricsError::OneClass {
            class: "anomalous",
            n: pos,
        });
    }
    Ok((neg, pos))
}

/// `_binary_clf_curve`: false and true positive counts at each distinct score, scores
/// decreasing.
fn clf_curve(scores: &[f64], labels: &[Label]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut fps, mut tps, mut thr) = (Vec::new(), Vec::new(), Vec::new());
    let mut tp = 0.0f64;
    for (k, &i) in order.iter().enumerate() {
        if labels[i].is_anomalous() {
            tp += 1.0;
        }
        let last = k + 1 == order.len();
        if last || scores[order[k + 1]] != scores[i] {
            tps.push(tp);
            fps.push((k + 1) as f64 - tp);
            thr.push(scores[i]);
        }
    }
    (fps, tps, thr)
}

/// The ROC curve of `scores` (higher = more anomalous) against `labels` (anomalous =
/// positive), as `sklearn.metrics.roc_curve(y, s, drop_intermediate=True)`: collinear
/// intermediate points are dropped, which changes no area.
///
/// ```
/// use aad_core::Label::{Anomalous as A, Normal as N};
/// let roc = aad_metrics::roc_curve(&[0.1, 0.4, 0.35, 0.8], &[N, N, A, A])?;
/// assert_eq!(roc.fpr, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
/// assert_eq!(roc.tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
/// assert_eq!(roc.thresholds[0], f64::INFINITY);
/// # Ok::<(), aad_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// Empty input, length mismatch, a non-finite score, or a single class.
pub fn roc_curve(scores: &[f64], labels: &[Label]) -> Result<RocCurve, MetricsError> {
    roc_curve_with(scores, labels, true)
}

/// [`roc_curve`] with scikit-learn's `drop_intermediate` switch: `false` keeps a point
/// for every distinct score.
///
/// # Errors
/// As [`roc_curve`].
pub fn roc_curve_with(
    scores: &[f64],
    labels: &[Label],
    drop_intermediate: bool,
) -> Result<RocCurve, MetricsError> {
    validate(scores, labels)?;
    let (mut fps, mut tps, mut thr) = clf_curve(scores, labels);
    if drop_intermediate && fps.len() > 2 {
        let n = fps.len();
        let keep: Vec<usize> = (0..n)
            .filter(|&i| {
                i == 0
                    || i == n - 1
                    || fps[i + 1] - 2.0 * fps[i] + fps[i - 1] != 0.0
                    || tps[i + 1] - 2.0 * tps[i] + tps[i - 1] != 0.0
            })
            .collect();
        fps = keep.iter().map(|&i| fps[i]).collect();
        tps = keep.iter().map(|&i| tps[i]).collect();
        thr = keep.iter().map(|&i| thr[i]).collect();
    }
    let (fmax, tmax) = (fps[fps.len() - 1], tps[tps.len() - 1]);
    let mut out = RocCurve {
        fpr: Vec::with_capacity(fps.len() + 1),
        tpr: Vec::with_capacity(fps.len() + 1),
        thresholds: Vec::with_capacity(fps.len() + 1),
    };
    out.fpr.push(0.0);
    out.tpr.push(0.0);
    out.thresholds.push(f64::INFINITY);
    out.fpr.extend(fps.iter().map(|f| f / fmax));
    out.tpr.extend(tps.iter().map(|t| t / tmax));
    out.thresholds.extend(thr);
    Ok(out)
}

/// Area under a curve by the trapezoidal rule, as `sklearn.metrics.auc` (x must be
/// monotonic; a decreasing x gives the area with the sign flipped back to positive).
///
/// ```
/// assert_eq!(aad_metrics::trapezoid_auc(&[0.0, 0.5, 1.0], &[0.0, 1.0, 1.0])?, 0.75);
/// # Ok::<(), aad_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// Fewer than 2 points, lengths differing, or x not monotonic.
pub fn trapezoid_auc(x: &[f64], y: &[f64]) -> Result<f64, MetricsError> {
    if x.len() != y.len() {
        return Err(MetricsError::LengthMismatch {
            scores: x.len(),
            labels: y.len(),
        });
    }
    if x.len() < 2 {
        return Err(MetricsError::TooFew {
            what: "the trapezoidal rule",
            need: 2,
            got: x.len(),
        });
    }
    let d: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let direction = if d.iter().all(|&v| v >= 0.0) {
        1.0
    } else if d.iter().all(|&v| v <= 0.0) {
        -1.0
    } else {
        return Err(MetricsError::InvalidParameter {
            name: "x",
            value: f64::NAN,
            reason: "x must be monotonic increasing or decreasing",
        });
    };
    let terms: Vec<f64> = d
        .iter()
        .zip(y.windows(2))
        .map(|(dx, w)| dx * (w[1] + w[0]) / 2.0)
        .collect();
    Ok(direction * pairwise_sum(&terms))
}

/// ROC AUC, identical to `sklearn.metrics.roc_auc_score(y, s)`: ties count one half,
/// 0.5 is chance, 1 a perfect separation of anomalies (higher scores) from normals.
///
/// ```
/// use aad_core::Label::{Anomalous as A, Normal as N};
/// let auc = aad_metrics::roc_auc(&[0.1, 0.4, 0.35, 0.8], &[N, N, A, A])?;
/// assert_eq!(auc, 0.75);
/// # Ok::<(), aad_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// Empty input, length mismatch, a non-finite score, or a single class.
pub fn roc_auc(scores: &[f64], labels: &[Label]) -> Result<f64, MetricsError> {
    let roc = roc_curve(scores, labels)?;
    trapezoid_auc(&roc.fpr, &roc.tpr)
}

/// `numpy.interp(x, [x0, x1], [y0, y1])` for `x0 <= x <= x1` (exact at the ends).
fn interp2(x: f64, x0: f64, x1: f64, y0: f64, y1: f64) -> f64 {
    if x >= x1 {
        y1
    } else if x == x0 {
        y0
    } else {
        let slope = (y1 - y0) / (x1 - x0);
        slope * (x - x0) + y0
    }
}

/// The ROC truncated at `max_fpr`, with a point interpolated linearly at `max_fpr`
/// (scikit-learn's `_binary_roc_auc_score`).
fn truncated_area(scores: &[f64], labels: &[Label], max_fpr: f64) -> Result<f64, MetricsError> {
    if !(max_fpr > 0.0 && max_fpr <= 1.0) {
        return Err(MetricsError::InvalidMaxFpr(max_fpr));
    }
    let roc = roc_curve(scores, labels)?;
    let stop = roc.fpr.partition_point(|&f| f <= max_fpr);
    let mut fpr = roc.fpr[..stop].to_vec();
    let mut tpr = roc.tpr[..stop].to_vec();
    let y = if stop < roc.fpr.len() {
        interp2(
            max_fpr,
            roc.fpr[stop - 1],
            roc.fpr[stop],
            roc.tpr[stop - 1],
            roc.tpr[stop],
        )
    } else {
        roc.tpr[stop - 1]
    };
    fpr.push(max_fpr);
    tpr.push(y);
    trapezoid_auc(&fpr, &tpr)
}

/// Partial AUC over FPR in `[0, max_fpr]` with the **McClish standardisation**, identical
/// to `sklearn.metrics.roc_auc_score(y, s, max_fpr=p)`: `0.5 * (1 + (A - p²/2) / (p - p²/2))`
/// where `A` is the area under the ROC up to `p`. Chance gives 0.5, a perfect detector 1.
/// This is the "pAUC" the DCASE baselines and official evaluators publish (p = 0.1).
/// `max_fpr = 1` returns the full AUC.
///
/// ```
/// use aad_core::Label::{Anomalous as A, Normal as N};
/// let (s, l) = ([0.9, 0.8, 0.1, 0.2], [A, A, N, N]);
/// assert_eq!(aad_metrics::partial_auc(&s, &l, 0.1)?, 1.0);
/// # Ok::<(), aad_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// `max_fpr` outside (0, 1], plus the errors of [`roc_auc`].
pub fn partial_auc(scores: &[f64], labels: &[Label], max_fpr: f64) -> Result<f64, MetricsError> {
    if max_fpr == 1.0 {
        return roc_auc(scores, labels);
    }
    let area = truncated_area(scores, labels, max_fpr)?;
    let min_area = 0.5 * max_fpr.powi(2);
    let max_area = max_fpr;
    Ok(0.5 * (1.0 + (area - min_area) / (max_area - min_area)))
}

/// Partial AUC **without** standardisation: the area under the ROC over FPR in
/// `[0, max_fpr]` divided by `max_fpr` (chance `max_fpr / 2`, perfect 1), the quantity the
/// DCASE task page defines. Convert with
/// `mcclish = 0.5 * (1 + (raw * p - p²/2) / (p - p²/2))`.
///
/// ```
/// use aad_core::Label::{Anomalous as A, Normal as N};
/// let (s, l) = ([0.9, 0.8, 0.1, 0.2], [A, A, N, N]);
/// assert_eq!(aad_metrics::partial_auc_raw(&s, &l, 0.1)?, 1.0);
/// # Ok::<(), aad_metrics::MetricsError>(())
/// ```
///
/// # Errors
/// As [`partial_auc`].
pub fn partial_auc_raw(
    scores: &[f64],
    labels: &[Label],
    max_fpr: f64,
) -> Result<f64, MetricsError> {
    Ok(truncated_area(scores, labels, max_fpr)? / max_fpr)
}

/// The DCASE task-page pAUC formula: the `floor(p N-)` highest-scoring normal clips
/// against every anomaly, `1/(floor(p N-) N+) Σ Σ H(s+ - s-)` with `H(0) = 0`. It equals
/// [`partial_auc_raw`] when `p N-` is an integer and no scores tie.
///
/// # Errors
/// `floor(p N-) = 0` (too few normal clips for this `p`), plus the errors of [`roc_auc`].
pub fn partial_auc_dcase_formula(
    scores: &[f64],
    labels: &[Label],
    max_fpr: f64,
) -> Result<f64, MetricsError> {
    let (neg_n, _) = validate(scores, labels)?;
    if !(max_fpr > 0.0 && max_fpr <= 1.0) {
        return Err(MetricsError::InvalidMaxFpr(max_fpr));
    }
    let k = (max_fpr * neg_n as f64).floor() as usize;
    if k == 0 {
        return Err(MetricsError::TooFew {
            what: "the DCASE pAUC formula at this max_fpr (floor(p * normals))",
            need: (1.0 / max_fpr).ceil() as usize,
            got: neg_n,
        });
    }
    let mut neg: Vec<f64> = scores
        .iter()
        .zip(labels)
        .filter(|(_, l)| !l.is_anomalous())
        .map(|(s, _)| *s)
        .collect();
    neg.sort_by(|a, b| b.total_cmp(a));
    let pos: Vec<f64> = scores
        .iter()
        .zip(labels)
        .filter(|(_, l)| l.is_anomalous())
        .map(|(s, _)| *s)
        .collect();
    let hits: usize = neg[..k]
        .iter()
        .map(|n| pos.iter().filter(|&&p| p > *n).count())
        .sum();
    Ok(hits as f64 / (k * pos.len()) as f64)
}

/// ROC AUC by the Mann–Whitney rank formula (average ranks for ties), O(n log n). Equal
/// to [`roc_auc`] up to rounding; used as an independent check and where speed matters.
///
/// # Errors
/// As [`roc_auc`].
pub fn rank_auc(scores: &[f64], labels: &[Label]) -> Result<f64, MetricsError> {
    let (neg, pos) = validate(scores, labels)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0f64;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            if labels[k].is_anomalous() {
                rank_sum += avg;
            }
        }
        i = j + 1;
    }
    let (p, n) = (pos as f64, neg as f64);
    Ok((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}
