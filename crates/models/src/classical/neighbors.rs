//! k-nearest-neighbour distance and the local outlier factor, by brute force.

use aad_core::{Detector, Fit};
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::{Inputs, Prepared};
use crate::linalg::{Mat, gemm};
use crate::{ModelError, Representation};

/// Euclidean distances between the rows of `q` (`nq x d`) and `t` (`nt x d`), via
/// `|a|^2 + |b|^2 - 2 a.b` (one matrix product), clamped at 0. Row-major `nq x nt`.
pub(crate) fn distances(q: &Array2<f32>, t: &Array2<f32>) -> Vec<f32> {
    let (nq, d) = q.dim();
    let nt = t.nrows();
    let qs = q.as_standard_layout();
    let ts = t.as_standard_layout();
    let (qd, td) = (
        qs.as_slice().unwrap_or_default(),
        ts.as_slice().unwrap_or_default(),
    );
    let mut out = vec![0.0f32; nq * nt];
    gemm(
        &mut out,
        Mat::rows(qd, nq, d),
        Mat::rows(td, nt, d).t(),
        -2.0,
        0.0,
    );
    let qn: Vec<f32> = qd
        .chunks_exact(d.max(1))
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect();
    let tn: Vec<f32> = td
        .chunks_exact(d.max(1))
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect();
    for (i, row) in out.chunks_exact_mut(nt).enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (*v + qn[i] + tn[j]).max(0.0).sqrt();
        }
    }
    out
}

/// The `k` smallest entries of `row` (excluding index `skip`) as (distance, index),
/// ascending, ties by index.
pub(crate) fn k_nearest(row: &[f32], k: usize, skip: Option<usize>) -> Vec<(f32, usize)> {
    let mut v: Vec<(f32, usize)> = row
        .iter()
        .copied()
        .enumerate()
        .filter(|(j, _)| Some(*j) != skip)
        .map(|(j, d)| (d, j))
        .collect();
    let k = k.min(v.len());
    if k == 0 {
        return Vec::new();
    }
    v.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    v.truncate(k);
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    v
}

/// The `k` nearest rows of `t` for every row of `q` (ascending (distance, index)),
/// excluding the row's own index when `exclude_self` (`q` is `t`). Distances are computed
/// 512 query rows at a time, so memory stays `512 x nt` however many queries there are
/// (an `n x n` matrix of 20,000 training frames would be 1.6 GB).
pub(crate) fn neighbours(
    q: &Array2<f32>,
    t: &Array2<f32>,
    k: usize,
    exclude_self: bool,
) -> Vec<Vec<(f32, usize)>> {
    const BLOCK: usize = 512;
    let nt = t.nrows();
    let mut out = Vec::with_capacity(q.nrows());
    for (b, block) in q.axis_chunks_iter(ndarray::Axis(0), BLOCK).enumerate() {
        let dist = distances(&block.to_owned(), t);
        for (i, row) in dist.chunks_exact(nt.max(1)).enumerate() {
            let own = exclude_self.then_some(b * BLOCK + i);
            out.push(k_nearest(row, k, own));
        }
    }
    out
}

/// How the `k` neighbour distances become a score (pyod's `method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum KnnAggregate {
    /// Distance to the k-th neighbour (pyod's default "largest").
    #[default]
    Largest,
    /// Mean distance to the k neighbours.
    Mean,
}

/// k-nearest-neighbour distance detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KnnConfig {
    /// Neighbours.
    pub k: usize,
    /// Aggregation.
    pub aggregate: KnnAggregate,
    /// Inputs.
    pub inputs: Inputs,
}

impl Default for KnnConfig {
    /// k = 5, distance to the 5th neighbour, clip statistics.
    fn default() -> Self {
        KnnConfig {
            k: 5,
            aggregate: KnnAggregate::Largest,
            inputs: Inputs::clip_stats(),
        }
    }
}

impl KnnConfig {
    /// Sets the inputs.
    pub fn inputs(mut self, inputs: Inputs) -> Self {
        self.inputs = inputs;
        self
    }
}

/// A fitted kNN detector.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Knn {
    config: KnnConfig,
    prep: Prepared,
    train: Array2<f32>,
}

impl Fit for KnnConfig {
    type Detector = Knn;
    type Error = ModelError;

    fn fit(&self, normal: &[ArrayView2<'_, f32>], seed: u64) -> Result<Knn, ModelError> {
        if self.k == 0 {
            return Err(ModelError::config("k", 0, "must be >= 1"));
        }
        let (prep, train) = Prepared::fit(self.inputs, normal, seed)?;
        if train.nrows() < self.k {
            return Err(ModelError::TooFewVectors {
                what: format!("kNN with k = {}", self.k),
                need: self.k,
                got: train.nrows(),
            });
        }
        Ok(Knn {
            config: self.clone(),
            prep,
            train,
        })
    }
}

/// What a clip-summary kNN's score is made of, in its own arithmetic: the clip's summary
/// vector against the mean of its `k` nearest training vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnBreakdown {
    /// The clip's score, as [`Detector::score`] gives it (the same computation).
    pub score: f64,
    /// What a summary vector holds (e.g. `[mean, std, max]` of every feature dimension).
    pub representation: Representation,
    /// Per dimension of the summary: the squared difference to each of the `k` nearest
    /// training vectors, averaged over them, in the scaled units the distance is taken in.
    pub per_dim: Vec<f64>,
    /// The clip's summary, in the feature's units.
    pub clip: Vec<f64>,
    /// The mean of its nearest training summaries, in the feature's units.
    pub normal: Vec<f64>,
}

impl Knn {
    /// Whether [`breakdown`](Self::breakdown) applies: a kNN on clip summaries.
    pub fn breakdown_supported(&self) -> bool {
        self.prep.inputs.representation.is_clip_level()
    }

    /// The per-dimension make-up of a clip's distance to its nearest normal clips, for a
    /// kNN on clip summaries (one vector per clip).
    ///
    /// # Errors
    /// A frame-level kNN (its score pools many vectors), or a clip of the wrong width.
    pub fn breakdown(&self, clip: ArrayView2<'_, f32>) -> Result<KnnBreakdown, ModelError> {
        let representation = self.prep.inputs.representation;
        if !representation.is_clip_level() {
            return Err(ModelError::config(
                "representation",
                format!("{representation:?}"),
                "a breakdown needs one summary vector per clip",
            ));
        }
        let q = self.prep.vectors(clip)?;
        let all = neighbours(&q, &self.train, self.config.k, false);
        let score = self.score_of(&all);
        let nn = &all[0];
        let w = q.ncols();
        let mut per_dim = vec![0.0f64; w];
        let mut centre = vec![0.0f64; w];
        for &(_, i) in nn {
            for (d, (&x, &t)) in q.row(0).iter().zip(self.train.row(i)).enumerate() {
                per_dim[d] += f64::from(x - t).powi(2) / nn.len() as f64;
                centre[d] += f64::from(t) / nn.len() as f64;
            }
        }
        let centre: Vec<f32> = centre.iter().map(|&c| c as f32).collect();
        let clip_row: Vec<f32> = q.row(0).to_vec();
        Ok(KnnBreakdown {
            score,
            representation,
            per_dim,
            clip: self.prep.scaler.unscale(&clip_row),
            normal: self.prep.scaler.unscale(&centre),
        })
    }

    /// Whether [`frame_breakdown`](Self::frame_breakdown) applies: a kNN on frames.
    pub fn frame_breakdown_supported(&self) -> bool {
        !self.prep.inputs.representation.is_clip_level()
    }

    /// Where a frame-level kNN's score lies in a clip: `frames x dims`, each frame's
    /// squared difference to each of its `k` nearest training frames, averaged over them,
    /// per dimension (in the scaled units the distance is taken in), and the score
    /// [`Detector::score`] gives (the same computation).
    ///
    /// # Errors
    /// A clip-summary kNN (see [`breakdown`](Self::breakdown)), or a clip of the wrong
    /// width.
    pub fn frame_breakdown(
        &self,
        clip: ArrayView2<'_, f32>,
    ) -> Result<(f64, ndarray::Array2<f64>), ModelError> {
        let q = self.prep.vectors(clip)?;
        if !self.frame_breakdown_supported() || q.dim() != clip.dim() {
            return Err(ModelError::config(
                "representation",
                format!("{:?}", self.prep.inputs.representation),
                "a frame breakdown needs one vector per frame",
            ));
        }
        let all = neighbours(&q, &self.train, self.config.k, false);
        let score = self.score_of(&all);
        let mut errors = ndarray::Array2::<f64>::zeros(q.dim());
        for ((t, nn), mut row) in all.iter().enumerate().zip(errors.rows_mut()) {
            for &(_, i) in nn {
                for (e, (&x, &y)) in row.iter_mut().zip(q.row(t).iter().zip(self.train.row(i))) {
                    *e += f64::from(x - y).powi(2) / nn.len() as f64;
                }
            }
        }
        Ok((score, errors))
    }

    /// Checks a loaded model's shapes.
    pub(crate) fn check(&self) -> Result<(), ModelError> {
        let d = self.prep.check()?;
        if self.train.ncols() != d {
            return Err(ModelError::Inconsistent(format!(
                "training vectors are not {d} wide"
            )));
        }
        if self.config.k == 0 || self.config.k > self.train.nrows() {
            return Err(ModelError::Inconsistent(format!(
                "k = {} with {} training vectors",
                self.config.k,
                self.train.nrows()
            )));
        }
        Ok(())
    }
}

impl Detector for Knn {
    type Error = ModelError;

    fn input_dims(&self) -> usize {
        self.prep.clip_dims
    }

    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, ModelError> {
        let q = self.prep.vectors(clip)?;
        Ok(self.score_of(&neighbours(&q, &self.train, self.config.k, false)))
    }
}

impl Knn {
    /// The score of a clip from its vectors' nearest training vectors: the one rule of
    /// [`Detector::score`] and [`Knn::breakdown`].
    fn score_of(&self, nn: &[Vec<(f32, usize)>]) -> f64 {
        let per: Vec<f64> = nn
            .iter()
            .map(|nn| match self.config.aggregate {
                KnnAggregate::Largest => f64::from(nn[nn.len() - 1].0),
                KnnAggregate::Mean => {
                    nn.iter().map(|p| f64::from(p.0)).sum::<f64>() / nn.len() as f64
                }
            })
            .collect();
        self.prep.pool(&per)
    }
}

/// Local outlier factor in novelty mode (`sklearn.neighbors.LocalOutlierFactor(novelty=True)`):
/// the score of a vector is the mean local reachability density of its `k` nearest
/// training vectors divided by its own (1 = as dense as its neighbours, larger = more
/// isolated). scikit-learn's `score_samples` returns the negative of this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LofConfig {
    /// Neighbours (scikit-learn's default 20; capped at the training size minus one).
    pub k: usize,
    /// Inputs.
    pub inputs: Inputs,
}

impl Default for LofConfig {
    /// k = 20 on clip statistics.
    fn default() -> Self {
        LofConfig {
            k: 20,
            inputs: Inputs::clip_stats(),
        }
    }
}

impl LofConfig {
    /// Sets the inputs.
    pub fn inputs(mut self, inputs: Inputs) -> Self {
        self.inputs = inputs;
        self
    }
}

/// A fitted LOF detector.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Lof {
    prep: Prepared,
    train: Array2<f32>,
    k: usize,
    /// Distance of each training vector to its k-th neighbour.
    k_distance: Vec<f32>,
    /// Local reachability density of each training vector.
    lrd: Vec<f64>,
}

fn lrd_of(neigh: &[(f32, usize)], k_distance: &[f32]) -> f64 {
    let reach: f64 = neigh
        .iter()
        .map(|&(d, j)| f64::from(d.max(k_distance[j])))
        .sum::<f64>()
        / neigh.len() as f64;
    1.0 / (reach + 1e-10)
}

impl Fit for LofConfig {
    type Detector = Lof;
    type Error = ModelError;

    fn fit(&self, normal: &[ArrayView2<'_, f32>], seed: u64) -> Result<Lof, ModelError> {
        if self.k == 0 {
            return Err(ModelError::config("k", 0, "must be >= 1"));
        }
        let (prep, train) = Prepared::fit(self.inputs, normal, seed)?;
        let n = train.nrows();
        if n < 2 {
            return Err(ModelError::TooFewVectors {
                what: "LOF".into(),
                need: 2,
                got: n,
            });
        }
        let k = self.k.min(n - 1);
        let neigh = neighbours(&train, &train, k, true);
        let k_distance: Vec<f32> = neigh.iter().map(|v| v[v.len() - 1].0).collect();
        let lrd = neigh.iter().map(|v| lrd_of(v, &k_distance)).collect();
        Ok(Lof {
            prep,
            train,
            k,
            k_distance,
            lrd,
        })
    }
}

impl Lof {
    /// Checks a loaded model's shapes.
    pub(crate) fn check(&self) -> Result<(), ModelError> {
        let d = self.prep.check()?;
        let n = self.train.nrows();
        if self.train.ncols() != d || self.k_distance.len() != n || self.lrd.len() != n {
            return Err(ModelError::Inconsistent(format!(
                "training vectors do not match {d} inputs"
            )));
        }
        if self.k == 0 || self.k >= n {
            return Err(ModelError::Inconsistent(format!(
                "k = {} with {n} training vectors",
                self.k
            )));
        }
        Ok(())
    }
}

impl Detector for Lof {
    type Error = ModelError;

    fn input_dims(&self) -> usize {
        self.prep.clip_dims
    }

    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, ModelError> {
        let q = self.prep.vectors(clip)?;
        let per: Vec<f64> = neighbours(&q, &self.train, self.k, false)
            .into_iter()
            .map(|nn| {
                let own = lrd_of(&nn, &self.k_distance);
                let neigh = nn.iter().map(|&(_, j)| self.lrd[j]).sum::<f64>() / nn.len() as f64;
                neigh / own
            })
            .collect();
        Ok(self.prep.pool(&per))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_neighbours_match_the_full_distance_matrix() {
        // 1,100 rows spans three blocks, the last one partial.
        let t = Array2::from_shape_fn((1100, 6), |(i, j)| {
            ((i * 31 + j * 17) % 101) as f32 * 0.03 - (j as f32) * 0.1
        });
        let full = distances(&t, &t);
        let blocked = neighbours(&t, &t, 4, true);
        assert_eq!(blocked.len(), 1100);
        for (i, nn) in blocked.iter().enumerate() {
            assert_eq!(
                nn,
                &k_nearest(&full[i * 1100..(i + 1) * 1100], 4, Some(i)),
                "row {i}"
            );
            assert!(nn.iter().all(|&(_, j)| j != i));
        }
    }
}
