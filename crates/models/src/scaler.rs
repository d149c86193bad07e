//! Input scaling fitted on the training vectors.

use crate::ModelError;
use ndarray::{Array1, Array2, ArrayViewMut2, Axis};
use serde::{Deserialize, Serialize};

/// How inputs are scaled before a detector sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Scaling {
    /// Raw features (the MIMII and DCASE baselines).
    None,
    /// Per-feature z-score from the training vectors (features whose standard deviation
    /// is below 1e-8 are only centred).
    #[default]
    Standardize,
    /// One global `(x - min) / (max - min)` over all training values (the seed project).
    MinMaxGlobal,
}

/// A fitted scaler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Scaler {
    /// Identity.
    None,
    /// `(x - mean) / std` per feature.
    Standard {
        /// Per-feature mean.
        mean: Vec<f32>,
        /// Per-feature standard deviation (1 where it was ~0).
        std: Vec<f32>,
    },
    /// `(x - min) / range`.
    MinMax {
        /// Global minimum.
        min: f32,
        /// Global `max - min` (1 when 0).
        range: f32,
    },
}

impl Scaler {
    /// Fits `kind` on the rows of `x` (computed in f64).
    pub fn fit(kind: Scaling, x: &Array2<f32>) -> Scaler {
        match kind {
            Scaling::None => Scaler::None,
            Scaling::Standardize => {
                let n = x.nrows().max(1) as f64;
                let mut mean = Array1::<f64>::zeros(x.ncols());
                for row in x.rows() {
                    mean.zip_mut_with(&row, |m, &v| *m += f64::from(v));
                }
                mean /= n;
                let mut var = Array1::<f64>::zeros(x.ncols());
                for row in x.rows() {
                    for (j, &v) in row.iter().enumerate() {
                        var[j] += (f64::from(v) - mean[j]).powi(2);
                    }
                }
                var /= n;
                Scaler::Standard {
                    mean: mean.iter().map(|&m| m as f32).collect(),
                    std: var
                        .iter()
                        .map(|&v| {
                            if v.sqrt() < 1e-8 {
                                1.0
                            } else {
                                v.sqrt() as f32
                            }
                        })
                        .collect(),
                }
            }
            Scaling::MinMaxGlobal => {
                let min = x.iter().copied().fold(f32::INFINITY, f32::min);
                let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let range = if max > min { max - min } else { 1.0 };
                Scaler::MinMax { min, range }
            }
        }
    }

    /// One scaled vector back in the units it was fitted on.
    pub fn unscale(&self, v: &[f32]) -> Vec<f64> {
        match self {
            Scaler::Standard { mean, std } => v
                .iter()
                .zip(mean)
                .zip(std)
                .map(|((x, m), s)| f64::from(*x) * f64::from(*s) + f64::from(*m))
                .collect(),
            _ => v.iter().map(|x| f64::from(*x)).collect(),
        }
    }

    /// Scales `x` in place.
    pub fn transform(&self, mut x: ArrayViewMut2<'_, f32>) {
        match self {
            Scaler::None => {}
            Scaler::Standard { mean, std } => {
                for mut row in x.axis_iter_mut(Axis(0)) {
                    for ((v, m), s) in row.iter_mut().zip(mean).zip(std) {
                        *v = (*v - m) / s;
                    }
                }
            }
            Scaler::MinMax { min, range } => x.mapv_inplace(|v| (v - min) / range),
        }
    }

    /// Checks a loaded scaler: `width` values, finite, positive scales.
    pub(crate) fn check(&self, width: usize) -> Result<(), ModelError> {
        match self {
            Scaler::None => Ok(()),
            Scaler::Standard { mean, std } => {
                if mean.len() != width || std.len() != width {
                    return Err(ModelError::Inconsistent(format!(
                        "scaler has {} means and {} scales for {width} inputs",
                        mean.len(),
                        std.len()
                    )));
                }
                if let Some(i) = std.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
                    return Err(ModelError::Inconsistent(format!(
                        "scaler scale {i} is {} (must be > 0)",
                        std[i]
                    )));
                }
                Ok(())
            }
            Scaler::MinMax { min, range } => {
                if min.is_finite() && range.is_finite() && *range > 0.0 {
                    Ok(())
                } else {
                    Err(ModelError::Inconsistent(format!(
                        "scaler min {min}, range {range} (range must be > 0)"
                    )))
                }
            }
        }
    }

    /// Width the scaler was fitted on (`None` for width-free scalers).
    pub fn width(&self) -> Option<usize> {
        match self {
            Scaler::Standard { mean, .. } => Some(mean.len()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardize_centres_and_scales_and_keeps_constant_features_finite() {
        let x = ndarray::array![[1.0f32, 5.0], [3.0, 5.0]];
        let s = Scaler::fit(Scaling::Standardize, &x);
        let mut y = x.clone();
        s.transform(y.view_mut());
        assert_eq!(y, ndarray::array![[-1.0, 0.0], [1.0, 0.0]]);
        let m = Scaler::fit(Scaling::MinMaxGlobal, &x);
        let mut z = x.clone();
        m.transform(z.view_mut());
        assert_eq!(z, ndarray::array![[0.0, 1.0], [0.5, 1.0]]);
    }
}
