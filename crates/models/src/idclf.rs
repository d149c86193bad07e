//! The machine-ID classifier: a detector that learns to tell one machine from others of
//! its type, trained on normal clips only.
//!
//! The DCASE 2020–2022 winners trained a network to recognise which machine (id) a
//! normal clip came from; a clip whose own machine the classifier no longer recognises is
//! anomalous. This is the linear form of that idea: multinomial logistic regression on
//! standardised frames (or clip summaries), classes = this machine plus each contrast
//! machine, fitted to convergence by L-BFGS (convex, so the fit does not depend on a
//! seed beyond the frame subsample). A clip's score pools `-log p(own machine | frame)`
//! over its frames.
//!
//! The contrast sets are the *normal* training clips of the other machines of the type
//! (MIMII's other ids, DCASE's other sections); no anomalous clip is ever used.

use aad_core::{Detector, Fit};
use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::classical::{Inputs, Prepared};
use crate::data::concat_vectors;
use crate::scaler::Scaler;

/// Configuration of [`IdClassifier`].
///
/// ```
/// use aad_core::Detector;
/// use aad_models::IdClassifierConfig;
/// // Three machines that hum at different bands; the anomaly of machine 0 sounds like
/// // neither machine 0 nor the others.
/// let clip = |band: usize, s: usize| {
///     ndarray::Array2::from_shape_fn((30, 6), |(t, j)| {
///         (if j == band { 1.0 } else { 0.0 }) + ((t * 7 + j * 3 + s) % 11) as f32 * 0.05
///     })
/// };
/// let own: Vec<_> = (0..6).map(|s| clip(0, s)).collect();
/// let others: Vec<Vec<_>> = [2, 4].iter().map(|&b| (0..6).map(|s| clip(b, s)).collect()).collect();
/// fn v(c: &[ndarray::Array2<f32>]) -> Vec<ndarray::ArrayView2<'_, f32>> {
///     c.iter().map(|m| m.view()).collect()
/// }
/// let contrast: Vec<_> = others.iter().map(|c| v(c)).collect();
/// let det = IdClassifierConfig::default().fit_contrast(&v(&own), &contrast, 1)?;
/// assert!(det.score(clip(5, 9).view())? > det.score(clip(0, 9).view())?);
/// # Ok::<(), aad_models::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdClassifierConfig {
    /// What the classifier sees (frames by default), scaled on all classes' vectors;
    /// `max_train_vectors` caps each class's vectors (seeded subsample).
    pub inputs: Inputs,
    /// Ridge on the weights: the loss is the class-balanced mean cross-entropy plus
    /// `l2 / 2 * |W|^2`.
    pub l2: f64,
    /// L-BFGS iterations at most.
    pub max_iter: usize,
}

impl Default for IdClassifierConfig {
    fn default() -> Self {
        IdClassifierConfig {
            inputs: Inputs::frames(Some(8_000)),
            l2: 1e-3,
            max_iter: 200,
        }
    }
}

impl IdClassifierConfig {
    /// Sets the inputs.
    pub fn inputs(mut self, inputs: Inputs) -> Self {
        self.inputs = inputs;
        self
    }

    /// Fits on `normal` (this machine) against `contrast` (one set of normal clips per
    /// other machine).
    ///
    /// # Errors
    /// [`ModelError::NeedsContrast`] without a non-empty contrast set; the usual errors
    /// for empty, ragged or non-finite clips; an invalid `l2` or `max_iter`.
    pub fn fit_contrast(
        &self,
        normal: &[ArrayView2<'_, f32>],
        contrast: &[Vec<ArrayView2<'_, f32>>],
        seed: u64,
    ) -> Result<IdClassifier, ModelError> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(ModelError::config("l2", self.l2, "must be finite and >= 0"));
        }
        if self.max_iter == 0 {
            return Err(ModelError::config("max_iter", 0, "must be >= 1"));
        }
        if self.inputs.max_train_vectors == Some(0) {
            return Err(ModelError::config("max_train_vectors", 0, "must be >= 1"));
        }
        self.inputs.pooling.validate()?;
        let contrast: Vec<&Vec<ArrayView2<'_, f32>>> =
            contrast.iter().filter(|c| !c.is_empty()).collect();
        if contrast.is_empty() {
            return Err(ModelError::NeedsContrast);
        }
        let clip_dims = crate::data::check_clips(normal, None)?;
        let rep = self.inputs.representation;
        let mut parts = vec![concat_vectors(
            normal,
            rep,
            self.inputs.max_train_vectors,
            seed,
        )?];
        for (c, set) in contrast.iter().enumerate() {
            let d = crate::data::check_clips(set, None)?;
            if d != clip_dims {
                return Err(ModelError::WidthMismatch {
                    clip: 0,
                    expected: clip_dims,
                    got: d,
                });
            }
            let class_seed = seed ^ (c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            parts.push(concat_vectors(
                set,
                rep,
                self.inputs.max_train_vectors,
                class_seed,
            )?);
        }
        let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
        let mut x = ndarray::concatenate(Axis(0), &views)
            .map_err(|e| ModelError::EmptyTrainingSet(e.to_string()))?;
        let scaler = Scaler::fit(self.inputs.scaling, &x);
        scaler.transform(x.view_mut());
        let labels: Vec<usize> = parts
            .iter()
            .enumerate()
            .flat_map(|(c, p)| std::iter::repeat_n(c, p.nrows()))
            .collect();
        let problem = Softmax::new(x.mapv(f64::from), labels, parts.len(), self.l2);
        let theta = lbfgs(
            vec![0.0; problem.params()],
            |t| problem.loss_grad(t),
            self.max_iter,
        )?;
        let (weights, bias) = problem.split(theta);
        Ok(IdClassifier {
            prep: Prepared {
                inputs: self.inputs,
                clip_dims,
                scaler,
            },
            classes: parts.len(),
            weights,
            bias,
        })
    }
}

impl Fit for IdClassifierConfig {
    type Detector = IdClassifier;
    type Error = ModelError;

    /// Always [`ModelError::NeedsContrast`]: use
    /// [`fit_contrast`](IdClassifierConfig::fit_contrast).
    fn fit(&self, normal: &[ArrayView2<'_, f32>], seed: u64) -> Result<IdClassifier, ModelError> {
        self.fit_contrast(normal, &[], seed)
    }
}

/// A fitted machine-ID classifier (class 0 is the machine it watches).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdClassifier {
    prep: Prepared,
    classes: usize,
    /// `classes x width`, row-major.
    weights: Vec<f64>,
    bias: Vec<f64>,
}

impl IdClassifier {
    /// The classes: this machine and the contrast machines.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// `p(own machine)` of every vector of `clip` (frames, or the one clip summary).
    ///
    /// # Errors
    /// A clip of the wrong width, or without frames.
    pub fn own_probability(&self, clip: ArrayView2<'_, f32>) -> Result<Vec<f64>, ModelError> {
        Ok(self
            .own_nll(clip)?
            .into_iter()
            .map(|v| (-v).exp())
            .collect())
    }

    fn own_nll(&self, clip: ArrayView2<'_, f32>) -> Result<Vec<f64>, ModelError> {
        let v = self.prep.vectors(clip)?;
        let w = v.ncols();
        let mut z = vec![0.0; self.classes];
        Ok(v.rows()
            .into_iter()
            .map(|r| {
                for (c, zc) in z.iter_mut().enumerate() {
                    let row = &self.weights[c * w..(c + 1) * w];
                    *zc = self.bias[c]
                        + row
                            .iter()
                            .zip(r.iter())
                            .map(|(a, b)| a * f64::from(*b))
                            .sum::<f64>();
                }
                log_sum_exp(&z) - z[0]
            })
            .collect())
    }

    pub(crate) fn check(&self) -> Result<(), ModelError> {
        let w = self.prep.check()?;
        if self.classes < 2 {
            return Err(ModelError::Inconsistent(format!(
                "{} classes (need 2 at least)",
                self.classes
            )));
        }
        if self.weights.len() != self.classes * w || self.bias.len() != self.classes {
            return Err(ModelError::Inconsistent(format!(
                "{} weights and {} biases for {} classes of width {w}",
                self.weights.len(),
                self.bias.len(),
                self.classes
            )));
        }
        if self
            .weights
            .iter()
            .chain(&self.bias)
            .any(|v| !v.is_finite())
        {
            return Err(ModelError::Inconsistent(
                "non-finite classifier weights".into(),
            ));
        }
        Ok(())
    }
}

impl Detector for IdClassifier {
    type Error = ModelError;

    fn input_dims(&self) -> usize {
        self.prep.clip_dims
    }

    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, ModelError> {
        Ok(self.prep.pool(&self.own_nll(clip)?))
    }
}

fn log_sum_exp(z: &[f64]) -> f64 {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// Class-balanced multinomial logistic regression: `theta` is the `classes x dims`
/// weights (row-major) followed by the `classes` biases.
struct Softmax {
    x: Array2<f64>,
    labels: Vec<usize>,
    classes: usize,
    /// Each vector's weight: `1 / (classes * vectors of its class)`.
    weight: Vec<f64>,
    l2: f64,
}

impl Softmax {
    fn new(x: Array2<f64>, labels: Vec<usize>, classes: usize, l2: f64) -> Self {
        let mut count = vec![0usize; classes];
        labels.iter().for_each(|&c| count[c] += 1);
        let weight = labels
            .iter()
            .map(|&c| 1.0 / (classes * count[c]) as f64)
            .collect();
        Softmax {
            x,
            labels,
            classes,
            weight,
            l2,
        }
    }

    fn params(&self) -> usize {
        self.classes * (self.x.ncols() + 1)
    }

    fn split(&self, mut theta: Vec<f64>) -> (Vec<f64>, Vec<f64>) {
        let bias = theta.split_off(self.classes * self.x.ncols());
        (theta, bias)
    }

    fn loss_grad(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let (c, d) = (self.classes, self.x.ncols());
        let w = Array2::from_shape_fn((c, d), |(i, j)| theta[i * d + j]);
        let b = &theta[c * d..];
        let mut z = self.x.dot(&w.t());
        let mut loss = 0.0;
        for ((mut row, &y), &wt) in z.rows_mut().into_iter().zip(&self.labels).zip(&self.weight) {
            row.iter_mut().zip(b).for_each(|(v, bc)| *v += bc);
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            loss += wt * (lse - row[y]);
            // The row becomes the gradient of the loss at the logits.
            row.mapv_inplace(|v| wt * (v - lse).exp());
            row[y] -= wt;
        }
        let gw = z.t().dot(&self.x);
        let mut grad = Vec::with_capacity(self.params());
        grad.extend(gw.iter().zip(w.iter()).map(|(g, wv)| g + self.l2 * wv));
        grad.extend(z.sum_axis(Axis(0)).iter());
        loss += 0.5 * self.l2 * w.iter().map(|v| v * v).sum::<f64>();
        (loss, grad)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises a smooth function by L-BFGS (10 pairs, Armijo backtracking). Stops at
/// `max_iter`, when the gradient vanishes, or when a step no longer lowers the loss.
///
/// # Errors
/// A loss that is not finite.
fn lbfgs(
    mut x: Vec<f64>,
    f: impl Fn(&[f64]) -> (f64, Vec<f64>),
    max_iter: usize,
) -> Result<Vec<f64>, ModelError> {
    const PAIRS: usize = 10;
    let (mut fx, mut g) = f(&x);
    let mut hist: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    for _ in 0..max_iter {
        if !fx.is_finite() {
            return Err(ModelError::Numerical(format!(
                "the classifier's loss is {fx}"
            )));
        }
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < 1e-7 {
            break;
        }
        let mut d = two_loop(&g, &hist);
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            hist.clear();
            d = g.iter().map(|v| -v).collect();
            slope = dot(&g, &d);
        }
        let mut step = 1.0;
        let accepted = loop {
            let xn: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + step * b).collect();
            let (fn_, gn) = f(&xn);
            if fn_.is_finite() && fn_ <= fx + 1e-4 * step * slope {
                break Some((xn, fn_, gn));
            }
            step *= 0.5;
            if step < 1e-10 {
                break None;
            }
        };
        let Some((xn, fn_, gn)) = accepted else { break };
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if hist.len() == PAIRS {
                hist.pop_front();
            }
            hist.push_back((s, y, 1.0 / sy));
        }
        let done = fx - fn_ <= 1e-10 * fx.abs().max(1.0);
        (x, fx, g) = (xn, fn_, gn);
        if done {
            break;
        }
    }
    Ok(x)
}

/// `-H g` for the L-BFGS inverse-Hessian estimate of the stored pairs.
fn two_loop(g: &[f64], hist: &std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)>) -> Vec<f64> {
    let mut q = g.to_vec();
    let mut alpha = Vec::with_capacity(hist.len());
    for (s, y, rho) in hist.iter().rev() {
        let a = rho * dot(s, &q);
        q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
        alpha.push(a);
    }
    let gamma = match hist.back() {
        Some((s, y, _)) => dot(s, y) / dot(y, y),
        None => 1.0 / dot(g, g).sqrt().max(1.0),
    };
    q.iter_mut().for_each(|v| *v *= gamma);
    for ((s, y, rho), a) in hist.iter().zip(alpha.iter().rev()) {
        let b = rho * dot(y, &q);
        q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
    }
    q.iter_mut().for_each(|v| *v = -*v);
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lbfgs_finds_the_minimum_of_a_quadratic() {
        // f = sum_i (i + 1) (x_i - i)^2
        let f = |x: &[f64]| {
            let v = x
                .iter()
                .enumerate()
                .map(|(i, v)| (i as f64 + 1.0) * (v - i as f64).powi(2))
                .sum();
            let g = x
                .iter()
                .enumerate()
                .map(|(i, v)| 2.0 * (i as f64 + 1.0) * (v - i as f64))
                .collect();
            (v, g)
        };
        let x = lbfgs(vec![10.0; 6], f, 100).unwrap();
        for (i, v) in x.iter().enumerate() {
            assert!((v - i as f64).abs() < 1e-5, "x[{i}] = {v}");
        }
    }

    #[test]
    fn softmax_gradient_matches_finite_differences() {
        let x = Array2::from_shape_fn((9, 3), |(i, j)| ((i * 5 + j * 3) % 7) as f64 / 7.0 - 0.4);
        let labels = vec![0, 1, 2, 0, 1, 2, 0, 0, 1];
        let p = Softmax::new(x, labels, 3, 0.1);
        let theta: Vec<f64> = (0..p.params()).map(|i| (i as f64 * 0.37).sin()).collect();
        let (_, g) = p.loss_grad(&theta);
        for i in 0..theta.len() {
            let h = 1e-6;
            let mut a = theta.clone();
            a[i] += h;
            let mut b = theta.clone();
            b[i] -= h;
            let fd = (p.loss_grad(&a).0 - p.loss_grad(&b).0) / (2.0 * h);
            assert!((fd - g[i]).abs() < 1e-6, "param {i}: {fd} vs {}", g[i]);
        }
    }
}
