//! Classical detectors on frame vectors or clip statistics.
//!
//! | detector | score (higher = more anomalous) | implementation |
//! |---|---|---|
//! | [`KnnConfig`] | distance to the k-th (or mean of k) nearest training vectors | brute force |
//! | [`LofConfig`] | local outlier factor in novelty mode (scikit-learn's definition) | brute force |
//! | [`IsolationForestConfig`] | `2^(-E[h(x)] / c(psi))` (Liu et al., scikit-learn's score) | hand-written |
//! | [`GmmConfig`] | negative log-likelihood under a Gaussian mixture (EM) | hand-written, nalgebra |
//! | [`MahalanobisConfig`] | squared Mahalanobis distance, Ledoit–Wolf or ridge covariance | nalgebra |
//! | [`PcaConfig`] | squared reconstruction error outside the principal subspace | nalgebra |
//!
//! Why hand-written: neighbour search brute-forces the distance matrix with a matrix
//! product, which beats tree indexes at these widths (12 to 640 dimensions) and needs no
//! dependency whose dimension is a compile-time constant; the Isolation Forest and the
//! EM loop are short, and the available crates either fix the dimension at compile time
//! or pull linfa's ndarray version. Linear algebra (eigen-decomposition, Cholesky) comes
//! from nalgebra.
//!
//! Every detector standardises its inputs by default (fitted on the training vectors),
//! draws all randomness from the seed passed to `fit`, and scores a clip as the mean of
//! its vectors' scores (one vector per clip for [`Representation::ClipStats`]).

mod gmm;
mod iforest;
mod mahalanobis;
mod neighbors;
mod pca;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::data::{Pooling, Representation, check_clip, concat_vectors};
use crate::scaler::{Scaler, Scaling};

pub use gmm::{CovarianceType, Gmm, GmmConfig};
pub use iforest::{IsolationForest, IsolationForestConfig};
pub use mahalanobis::{Mahalanobis, MahalanobisConfig, Shrinkage};
pub use neighbors::{Knn, KnnAggregate, KnnBreakdown, KnnConfig, Lof, LofConfig};
pub use pca::{Pca, PcaComponents, PcaConfig};

/// What every classical detector shares: which vectors it sees, how they are scaled and
/// how many training vectors are kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    /// Frames or clip statistics.
    pub representation: Representation,
    /// Scaling fitted on the training vectors.
    pub scaling: Scaling,
    /// Keep at most this many training vectors (seeded random subset).
    pub max_train_vectors: Option<usize>,
    /// How frame scores make a clip's score (files written before pooling existed
    /// read as the mean, which they used).
    #[serde(default)]
    pub pooling: Pooling,
}

impl Inputs {
    /// Frame vectors, standardised, at most `max` of them.
    pub fn frames(max: Option<usize>) -> Self {
        Inputs {
            representation: Representation::Frames,
            scaling: Scaling::Standardize,
            max_train_vectors: max,
            pooling: Pooling::Mean,
        }
    }

    /// The same inputs with frame scores pooled by `pooling`.
    pub fn pooled(mut self, pooling: Pooling) -> Self {
        self.pooling = pooling;
        self
    }

    /// The same inputs with another representation.
    pub fn represented(mut self, representation: Representation) -> Self {
        self.representation = representation;
        self
    }

    /// Clip statistics (time mean and standard deviation), standardised.
    pub fn clip_stats() -> Self {
        Inputs {
            representation: Representation::ClipStats,
            scaling: Scaling::Standardize,
            max_train_vectors: None,
            pooling: Pooling::Mean,
        }
    }
}

/// The fitted input side of a detector.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Prepared {
    pub inputs: Inputs,
    pub clip_dims: usize,
    pub scaler: Scaler,
}

impl Prepared {
    /// Training vectors, scaled, with the fitted scaler.
    pub(crate) fn fit(
        inputs: Inputs,
        clips: &[ArrayView2<'_, f32>],
        seed: u64,
    ) -> Result<(Prepared, Array2<f32>), ModelError> {
        if inputs.max_train_vectors == Some(0) {
            return Err(ModelError::config("max_train_vectors", 0, "must be >= 1"));
        }
        inputs.pooling.validate()?;
        let clip_dims = crate::data::check_clips(clips, None)?;
        let mut x = concat_vectors(clips, inputs.representation, inputs.max_train_vectors, seed)?;
        let scaler = Scaler::fit(inputs.scaling, &x);
        scaler.transform(x.view_mut());
        Ok((
            Prepared {
                inputs,
                clip_dims,
                scaler,
            },
            x,
        ))
    }

    /// Checks a loaded input side; returns the vector width.
    pub(crate) fn check(&self) -> Result<usize, ModelError> {
        if self.clip_dims == 0 {
            return Err(ModelError::Inconsistent("zero input width".into()));
        }
        let w = self.inputs.representation.width(self.clip_dims);
        self.scaler.check(w)?;
        Ok(w)
    }

    /// The scaled vectors of one clip.
    pub(crate) fn vectors(&self, clip: ArrayView2<'_, f32>) -> Result<Array2<f32>, ModelError> {
        check_clip(0, &clip, self.clip_dims)?;
        let mut v = self
            .inputs
            .representation
            .vectors(clip)?
            .as_standard_layout()
            .into_owned();
        self.scaler.transform(v.view_mut());
        Ok(v)
    }
}

impl Prepared {
    /// A clip's score from its vectors' scores.
    pub(crate) fn pool(&self, per: &[f64]) -> f64 {
        self.inputs.pooling.pool(per)
    }
}

/// `score(row - centre)` of every row of `v` (centred in f64), pooled.
pub(crate) fn mean_centred_score(
    prep: &Prepared,
    v: &Array2<f32>,
    centre: &[f64],
    score: impl Fn(&[f64]) -> f64,
) -> f64 {
    let per: Vec<f64> = v
        .rows()
        .into_iter()
        .map(|r| {
            let e: Vec<f64> = r
                .iter()
                .zip(centre)
                .map(|(x, m)| f64::from(*x) - m)
                .collect();
            score(&e)
        })
        .collect();
    prep.pool(&per)
}

/// The precision matrix (row-major `d x d`) of the rows of `x` (`n x d`, row-major)
/// around `mean`, with `ridge * trace / d` added to the diagonal.
///
/// # Errors
/// A covariance that is not positive definite even after loading.
pub(crate) fn regularised_precision(
    x: &[f64],
    mean: &[f64],
    n: usize,
    d: usize,
    ridge: f64,
) -> Result<Vec<f64>, ModelError> {
    let mut cov = covariance(x, mean, n, d);
    let trace: f64 = (0..d).map(|i| cov[i * d + i]).sum();
    let load = ridge * (trace / d as f64).max(f64::MIN_POSITIVE);
    for i in 0..d {
        cov[i * d + i] += load;
    }
    invert_spd(&cov, d)
}

/// The covariance `(x - mean)^T (x - mean) / n`, accumulated in f64.
pub(crate) fn covariance(x: &[f64], mean: &[f64], n: usize, d: usize) -> Vec<f64> {
    covariance_of_centred(&centre(x, mean, d), n, d)
}

/// Rows of `x` (row-major, width `d`) minus `mean`.
fn centre(x: &[f64], mean: &[f64], d: usize) -> Vec<f64> {
    x.chunks_exact(d)
        .flat_map(|r| r.iter().zip(mean).map(|(v, m)| v - m))
        .collect()
}

/// `c^T c / n` of centred rows `c` (`n x d`, row-major).
fn covariance_of_centred(centred: &[f64], n: usize, d: usize) -> Vec<f64> {
    let c = nalgebra::DMatrix::from_row_slice(n, d, centred);
    let cov = c.tr_mul(&c) / n as f64;
    let mut out = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            out[i * d + j] = cov[(i, j)];
        }
    }
    out
}

/// Mean, centred rows and covariance of the training vectors, in f64.
pub(crate) struct Moments {
    /// Vectors.
    pub n: usize,
    /// Width.
    pub d: usize,
    /// Per-dimension mean.
    pub mean: Vec<f64>,
    /// Rows minus the mean, row-major.
    pub centred: Vec<f64>,
    /// Row-major `d x d` covariance (divided by `n`).
    pub cov: Vec<f64>,
}

impl Moments {
    /// The moments of `x`; `what` names the estimate in the error for fewer than two rows.
    pub(crate) fn of(x: &Array2<f32>, what: &str) -> Result<Self, ModelError> {
        let (n, d) = x.dim();
        if n < 2 {
            return Err(ModelError::TooFewVectors {
                what: what.into(),
                need: 2,
                got: n,
            });
        }
        let flat: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let mut mean = vec![0.0; d];
        for r in flat.chunks_exact(d) {
            mean.iter_mut().zip(r).for_each(|(m, v)| *m += v);
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let centred = centre(&flat, &mean, d);
        let cov = covariance_of_centred(&centred, n, d);
        Ok(Moments {
            n,
            d,
            mean,
            centred,
            cov,
        })
    }
}

/// Inverse of a symmetric positive-definite matrix by Cholesky.
pub(crate) fn invert_spd(a: &[f64], d: usize) -> Result<Vec<f64>, ModelError> {
    let m = nalgebra::DMatrix::from_row_slice(d, d, a);
    let chol = nalgebra::Cholesky::new(m).ok_or_else(|| {
        ModelError::Numerical(format!("a {d} x {d} covariance is not positive definite"))
    })?;
    let inv = chol.inverse();
    let mut out = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            out[i * d + j] = inv[(i, j)];
        }
    }
    Ok(out)
}
