//! Mahalanobis distance to the training distribution, with a shrunk covariance.

use aad_core::{Detector, Fit};
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::{Inputs, Moments, Prepared, invert_spd, mean_centred_score};
use crate::ModelError;

/// How the covariance is regularised. CENS vectors lie on the unit sphere, so their
/// plain covariance is singular; some shrinkage is always needed there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Shrinkage {
    /// Ledoit–Wolf's optimal shrinkage towards `mu I` (scikit-learn's `LedoitWolf`), plus a
    /// 1e-9 relative ridge so a degenerate estimate stays invertible.
    LedoitWolf,
    /// `cov + ridge * trace / d * I`.
    Ridge(f64),
}

/// Mahalanobis-distance detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MahalanobisConfig {
    /// Covariance regularisation.
    pub shrinkage: Shrinkage,
    /// Inputs.
    pub inputs: Inputs,
}

impl Default for MahalanobisConfig {
    fn default() -> Self {
        MahalanobisConfig {
            shrinkage: Shrinkage::LedoitWolf,
            inputs: Inputs::clip_stats(),
        }
    }
}

impl MahalanobisConfig {
    /// Sets the inputs.
    pub fn inputs(mut self, inputs: Inputs) -> Self {
        self.inputs = inputs;
        self
    }
}

/// A fitted Mahalanobis detector.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mahalanobis {
    prep: Prepared,
    mean: Vec<f64>,
    precision: Vec<f64>,
    shrinkage: f64,
}

impl Mahalanobis {
    /// The shrinkage intensity used (Ledoit–Wolf's estimate, or 0 for a ridge).
    pub fn shrinkage(&self) -> f64 {
        self.shrinkage
    }
}

/// scikit-learn's `ledoit_wolf_shrinkage` on centred data `x` (`n x p`, row-major).
pub(crate) fn ledoit_wolf(x: &[f64], n: usize, p: usize) -> f64 {
    let m = nalgebra::DMatrix::from_row_slice(n, p, x);
    let x2 = m.map(|v| v * v);
    let emp_trace: Vec<f64> = (0..p).map(|j| x2.column(j).sum() / n as f64).collect();
    let mu = emp_trace.iter().sum::<f64>() / p as f64;
    let beta_ = x2.tr_mul(&x2).sum();
    let xtx = m.tr_mul(&m);
    let delta_ = xtx.iter().map(|v| v * v).sum::<f64>() / (n * n) as f64;
    let beta = 1.0 / (p * n) as f64 * (beta_ / n as f64 - delta_);
    let delta = (delta_ - 2.0 * mu * emp_trace.iter().sum::<f64>() + p as f64 * mu * mu) / p as f64;
    let beta = beta.min(delta);
    if beta == 0.0 { 0.0 } else { beta / delta }
}

impl Fit for MahalanobisConfig {
    type Detector = Mahalanobis;
    type Error = ModelError;

    fn fit(&self, normal: &[ArrayView2<'_, f32>], seed: u64) -> Result<Mahalanobis, ModelError> {
        let (prep, x) = Prepared::fit(self.inputs, normal, seed)?;
        let Moments {
            n,
            d,
            mean: mu,
            centred,
            mut cov,
        } = Moments::of(&x, "a covariance")?;
        let trace: f64 = (0..d).map(|i| cov[i * d + i]).sum();
        let avg = (trace / d as f64).max(f64::MIN_POSITIVE);
        let (s, ridge) = match self.shrinkage {
            Shrinkage::LedoitWolf => (ledoit_wolf(&centred, n, d), 1e-9),
            Shrinkage::Ridge(r) if r >= 0.0 && r.is_finite() => (0.0, r),
            Shrinkage::Ridge(r) => return Err(ModelError::config("ridge", r, "must be >= 0")),
        };
        for i in 0..d {
            for j in 0..d {
                cov[i * d + j] *= 1.0 - s;
            }
            cov[i * d + i] += s * avg + ridge * avg;
        }
        let precision = invert_spd(&cov, d)?;
        Ok(Mahalanobis {
            prep,
            mean: mu,
            precision,
            shrinkage: s,
        })
    }
}

impl Mahalanobis {
    /// Checks a loaded model's shapes.
    pub(crate) fn check(&self) -> Result<(), ModelError> {
        let d = self.prep.check()?;
        if self.mean.len() != d || self.precision.len() != d * d {
            return Err(ModelError::Inconsistent(format!(
                "mean/precision do not match {d} inputs"
            )));
        }
        Ok(())
    }
}

impl Detector for Mahalanobis {
    type Error = ModelError;

    fn input_dims(&self) -> usize {
        self.prep.clip_dims
    }

    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, ModelError> {
        let v = self.prep.vectors(clip)?;
        let d = self.mean.len();
        Ok(mean_centred_score(&self.prep, &v, &self.mean, |e| {
            (0..d)
                .map(|i| {
                    e[i] * self.precision[i * d..(i + 1) * d]
                        .iter()
                        .zip(e)
                        .map(|(p, ej)| p * ej)
                        .sum::<f64>()
                })
                .sum()
        }))
    }
}
