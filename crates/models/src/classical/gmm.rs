//! Gaussian mixture model fitted by expectation–maximisation.

use aad_core::{Detector, Fit};
use ndarray::{Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Inputs, Prepared, invert_spd};
use crate::ModelError;

/// Covariance structure of the components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CovarianceType {
    /// One variance per feature (fast, robust in high dimension).
    #[default]
    Diagonal,
    /// A full covariance matrix per component.
    Full,
}

/// Gaussian mixture detector: the score of a vector is its negative log-likelihood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GmmConfig {
    /// Mixture components.
    pub components: usize,
    /// Covariance structure.
    pub covariance: CovarianceType,
    /// EM iterations at most.
    pub max_iter: usize,
    /// Stop when the mean log-likelihood improves by less.
    pub tol: f64,
    /// Added to every variance (scikit-learn's `reg_covar`).
    pub reg_covar: f64,
    /// Inputs.
    pub inputs: Inputs,
}

impl Default for GmmConfig {
    fn default() -> Self {
        GmmConfig {
            components: 4,
            covariance: CovarianceType::Diagonal,
            max_iter: 100,
            tol: 1e-3,
            reg_covar: 1e-6,
            inputs: Inputs::clip_stats(),
        }
    }
}

impl GmmConfig {
    /// Sets the inputs.
    pub fn inputs(mut self, inputs: Inputs) -> Self {
        self.inputs = inputs;
        self
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Component {
    log_weight: f64,
    mean: Vec<f64>,
    /// Diagonal: variances. Full: row-major precision matrix.
    cov: Vec<f64>,
    /// `-0.5 (d ln 2 pi + ln |Sigma|)`.
    log_norm: f64,
}

/// A fitted Gaussian mixture.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Gmm {
    prep: Prepared,
    kind: CovarianceType,
    comps: Vec<Component>,
    iterations: usize,
}

impl Gmm {
    /// EM iterations run.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
}

fn log_density(c: &Component, kind: CovarianceType, x: &[f64]) -> f64 {
    let d = x.len();
    let q = match kind {
        CovarianceType::Diagonal => x
            .iter()
            .zip(&c.mean)
            .zip(&c.cov)
            .map(|((v, m), s)| (v - m).powi(2) / s)
            .sum::<f64>(),
        CovarianceType::Full => {
            let e: Vec<f64> = x.iter().zip(&c.mean).map(|(v, m)| v - m).collect();
            (0..d)
                .map(|i| {
                    e[i] * c.cov[i * d..(i + 1) * d]
                        .iter()
                        .zip(&e)
                        .map(|(p, ej)| p * ej)
                        .sum::<f64>()
                })
                .sum()
        }
    };
    c.log_weight + c.log_norm - 0.5 * q
}

fn logsumexp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// Weighted means and covariances from responsibilities `r` (`n x k`).
fn m_step(
    x: &[Vec<f64>],
    r: &[Vec<f64>],
    kind: CovarianceType,
    reg: f64,
) -> Result<Vec<Component>, ModelError> {
    let (n, d, k) = (x.len(), x[0].len(), r[0].len());
    let mut comps = Vec::with_capacity(k);
    for j in 0..k {
        let nk: f64 = r.iter().map(|ri| ri[j]).sum::<f64>() + 10.0 * f64::EPSILON;
        let mut mu = vec![0.0; d];
        for (xi, ri) in x.iter().zip(r) {
            mu.iter_mut().zip(xi).for_each(|(m, v)| *m += ri[j] * v);
        }
        mu.iter_mut().for_each(|m| *m /= nk);
        let (cov, log_det) = match kind {
            CovarianceType::Diagonal => {
                let mut var = vec![0.0; d];
                for (xi, ri) in x.iter().zip(r) {
                    var.iter_mut()
                        .zip(xi)
                        .zip(&mu)
                        .for_each(|((s, v), m)| *s += ri[j] * (v - m).powi(2));
                }
                var.iter_mut().for_each(|s| *s = *s / nk + reg);
                let ld = var.iter().map(|s| s.ln()).sum();
                (var, ld)
            }
            CovarianceType::Full => {
                let mut c = vec![0.0; d * d];
                for (xi, ri) in x.iter().zip(r) {
                    let e: Vec<f64> = xi.iter().zip(&mu).map(|(v, m)| v - m).collect();
                    for a in 0..d {
                        for b in 0..d {
                            c[a * d + b] += ri[j] * e[a] * e[b];
                        }
                    }
                }
                c.iter_mut().for_each(|v| *v /= nk);
                (0..d).for_each(|a| c[a * d + a] += reg);
                let chol = nalgebra::Cholesky::new(nalgebra::DMatrix::from_row_slice(d, d, &c))
                    .ok_or_else(|| {
                        ModelError::Numerical(
                            "a mixture covariance is not positive definite".into(),
                        )
                    })?;
                let ld = 2.0 * chol.l().diagonal().iter().map(|v| v.ln()).sum::<f64>();
                (invert_spd(&c, d)?, ld)
            }
        };
        comps.push(Component {
            log_weight: (nk / n as f64).ln(),
            mean: mu,
            cov,
            log_norm: -0.5 * (d as f64 * (2.0 * std::f64::consts::PI).ln() + log_det),
        });
    }
    Ok(comps)
}

impl Fit for GmmConfig {
    type Detector = Gmm;
    type Error = ModelError;

    fn fit(&self, normal: &[ArrayView2<'_, f32>], seed: u64) -> Result<Gmm, ModelError> {
        if self.components == 0
            || self.max_iter == 0
            || self.reg_covar.is_nan()
            || self.reg_covar < 0.0
        {
            return Err(ModelError::config(
                "components/max_iter/reg_covar",
                format!("{}/{}/{}", self.components, self.max_iter, self.reg_covar),
                "need >= 1, >= 1, >= 0",
            ));
        }
        let (prep, x) = Prepared::fit(self.inputs, normal, seed)?;
        let n = x.nrows();
        if n < self.components * 2 {
            return Err(ModelError::TooFewVectors {
                what: format!("a {}-component mixture", self.components),
                need: self.components * 2,
                got: n,
            });
        }
        let xs: Vec<Vec<f64>> = x
            .rows()
            .into_iter()
            .map(|r| r.iter().map(|&v| f64::from(v)).collect())
            .collect();
        let mut r = kmeans_pp_assignment(&xs, self.components, seed);
        let mut comps = m_step(&xs, &r, self.covariance, self.reg_covar)?;
        let mut prev = f64::NEG_INFINITY;
        let mut iterations = 0;
        for _ in 0..self.max_iter {
            iterations += 1;
            let ll = e_step(&xs, &comps, self.covariance, &mut r);
            comps = m_step(&xs, &r, self.covariance, self.reg_covar)?;
            if (ll - prev).abs() < self.tol {
                break;
            }
            prev = ll;
        }
        Ok(Gmm {
            prep,
            kind: self.covariance,
            comps,
            iterations,
        })
    }
}

fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>()
}

/// k-means++ seeding (seeded), then each vector's hard assignment to its nearest seed,
/// as one-hot responsibilities.
fn kmeans_pp_assignment(xs: &[Vec<f64>], k: usize, seed: u64) -> Vec<Vec<f64>> {
    let n = xs.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut centres = vec![xs[rng.random_range(0..n)].clone()];
    while centres.len() < k {
        let d: Vec<f64> = xs
            .iter()
            .map(|p| {
                centres
                    .iter()
                    .map(|c| dist2(p, c))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        let total: f64 = d.iter().sum();
        let mut u = rng.random::<f64>() * total;
        let mut pick = n - 1;
        for (i, di) in d.iter().enumerate() {
            if u < *di {
                pick = i;
                break;
            }
            u -= di;
        }
        centres.push(xs[pick].clone());
    }
    xs.iter()
        .map(|p| {
            let best = (0..k)
                .min_by(|&a, &b| dist2(p, &centres[a]).total_cmp(&dist2(p, &centres[b])))
                .unwrap_or(0);
            (0..k).map(|j| if j == best { 1.0 } else { 0.0 }).collect()
        })
        .collect()
}

/// The E step: every vector's responsibilities into `r`; returns the mean
/// log-likelihood.
fn e_step(xs: &[Vec<f64>], comps: &[Component], kind: CovarianceType, r: &mut [Vec<f64>]) -> f64 {
    let mut ll = 0.0;
    for (xi, ri) in xs.iter().zip(r.iter_mut()) {
        let logs: Vec<f64> = comps.iter().map(|c| log_density(c, kind, xi)).collect();
        let lse = logsumexp(&logs);
        ll += lse;
        ri.iter_mut()
            .zip(&logs)
            .for_each(|(rv, l)| *rv = (l - lse).exp());
    }
    ll / xs.len() as f64
}

impl Gmm {
    /// Checks a loaded model's shapes.
    pub(crate) fn check(&self) -> Result<(), ModelError> {
        let d = self.prep.check()?;
        if self.comps.is_empty() {
            return Err(ModelError::Inconsistent(
                "mixture without components".into(),
            ));
        }
        let cov_len = match self.kind {
            CovarianceType::Diagonal => d,
            CovarianceType::Full => d * d,
        };
        for (i, c) in self.comps.iter().enumerate() {
            if c.mean.len() != d || c.cov.len() != cov_len {
                return Err(ModelError::Inconsistent(format!(
                    "component {i} has the wrong width"
                )));
            }
            if self.kind == CovarianceType::Diagonal && c.cov.iter().any(|v| *v <= 0.0) {
                return Err(ModelError::Inconsistent(format!(
                    "component {i} has a variance <= 0"
                )));
            }
        }
        Ok(())
    }
}

impl Detector for Gmm {
    type Error = ModelError;

    fn input_dims(&self) -> usize {
        self.prep.clip_dims
    }

    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, ModelError> {
        let v: Array2<f32> = self.prep.vectors(clip)?;
        let per: Vec<f64> = v
            .rows()
            .into_iter()
            .map(|r| {
                let x: Vec<f64> = r.iter().map(|&v| f64::from(v)).collect();
                let logs: Vec<f64> = self
                    .comps
                    .iter()
                    .map(|c| log_density(c, self.kind, &x))
                    .collect();
                -logsumexp(&logs)
            })
            .collect();
        Ok(self.prep.pool(&per))
    }
}
