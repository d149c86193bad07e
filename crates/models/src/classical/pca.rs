//! PCA reconstruction error.

use aad_core::{Detector, Fit};
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::{Inputs, Moments, Prepared, mean_centred_score};
use crate::ModelError;

/// How many principal components are kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum PcaComponents {
    /// The fewest components explaining more than this fraction of the variance
    /// (scikit-learn's `PCA(0.9)`).
    Variance(f64),
    /// A fixed number.
    Count(usize),
}

/// PCA reconstruction-error detector: the squared distance of a (centred, scaled) vector
/// from the principal subspace of the training vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PcaConfig {
    /// Components kept.
    pub components: PcaComponents,
    /// Inputs.
    pub inputs: Inputs,
}

impl Default for PcaConfig {
    fn default() -> Self {
        PcaConfig {
            components: PcaComponents::Variance(0.9),
            inputs: Inputs::clip_stats(),
        }
    }
}

impl PcaConfig {
    /// Sets the inputs.
    pub fn inputs(mut self, inputs: Inputs) -> Self {
        self.inputs = inputs;
        self
    }
}

/// A fitted PCA detector.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pca {
    prep: Prepared,
    mean: Vec<f64>,
    /// Kept components, each of length d.
    components: Vec<Vec<f64>>,
}

impl Pca {
    /// Number of components kept.
    pub fn n_components(&self) -> usize {
        self.components.len()
    }
}

impl Fit for PcaConfig {
    type Detector = Pca;
    type Error = ModelError;

    fn fit(&self, normal: &[ArrayView2<'_, f32>], seed: u64) -> Result<Pca, ModelError> {
        let (prep, x) = Prepared::fit(self.inputs, normal, seed)?;
        let Moments {
            d, mean: mu, cov, ..
        } = Moments::of(&x, "PCA")?;
        let eig = nalgebra::SymmetricEigen::new(nalgebra::DMatrix::from_row_slice(d, d, &cov));
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        let total: f64 = eig.eigenvalues.iter().map(|v| v.max(0.0)).sum();
        let k = match self.components {
            PcaComponents::Count(k) if k >= 1 => k.min(d),
            PcaComponents::Count(k) => {
                return Err(ModelError::config("components", k, "must be >= 1"));
            }
            PcaComponents::Variance(f) if f > 0.0 && f < 1.0 => {
                let mut cum = 0.0;
                let mut k = d;
                for (i, &j) in order.iter().enumerate() {
                    cum += eig.eigenvalues[j].max(0.0) / total.max(f64::MIN_POSITIVE);
                    if cum > f {
                        k = i + 1;
                        break;
                    }
                }
                k
            }
            PcaComponents::Variance(f) => {
                return Err(ModelError::config(
                    "components",
                    f,
                    "variance fraction must be in (0, 1)",
                ));
            }
        };
        let components = order[..k]
            .iter()
            .map(|&j| eig.eigenvectors.column(j).iter().copied().collect())
            .collect();
        Ok(Pca {
            prep,
            mean: mu,
            components,
        })
    }
}

impl Pca {
    /// Checks a loaded model's shapes.
    pub(crate) fn check(&self) -> Result<(), ModelError> {
        let d = self.prep.check()?;
        if self.mean.len() != d || self.components.iter().any(|c| c.len() != d) {
            return Err(ModelError::Inconsistent(format!(
                "mean/components do not match {d} inputs"
            )));
        }
        Ok(())
    }
}

impl Detector for Pca {
    type Error = ModelError;

    fn input_dims(&self) -> usize {
        self.prep.clip_dims
    }

    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, ModelError> {
        let v = self.prep.vectors(clip)?;
        Ok(mean_centred_score(&self.prep, &v, &self.mean, |e| {
            let norm2: f64 = e.iter().map(|v| v * v).sum();
            let proj2: f64 = self
                .components
                .iter()
                .map(|c| c.iter().zip(e).map(|(a, b)| a * b).sum::<f64>().powi(2))
                .sum();
            (norm2 - proj2).max(0.0)
        }))
    }
}
