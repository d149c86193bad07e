//! Isolation Forest (Liu, Ting & Zhou 2008), as scikit-learn builds and scores it.

use aad_core::{Detector, Fit};
use ndarray::{Array2, ArrayView2};
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Inputs, Prepared};
use crate::ModelError;
use crate::scaler::Scaling;

/// Isolation Forest parameters (scikit-learn defaults: 100 trees, 256 samples per tree).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IsolationForestConfig {
    /// Trees.
    pub n_trees: usize,
    /// Vectors drawn (without replacement) per tree, capped at the training size.
    pub max_samples: usize,
    /// Inputs (scaling does not change a tree's partitions; the default leaves it off).
    pub inputs: Inputs,
}

impl Default for IsolationForestConfig {
    fn default() -> Self {
        IsolationForestConfig {
            n_trees: 100,
            max_samples: 256,
            inputs: Inputs {
                scaling: Scaling::None,
                ..Inputs::clip_stats()
            },
        }
    }
}

impl IsolationForestConfig {
    /// Sets the inputs.
    pub fn inputs(mut self, inputs: Inputs) -> Self {
        self.inputs = inputs;
        self
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Node {
    Leaf {
        size: usize,
    },
    Split {
        feature: usize,
        threshold: f32,
        left: usize,
        right: usize,
    },
}

/// A fitted Isolation Forest.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IsolationForest {
    prep: Prepared,
    trees: Vec<Vec<Node>>,
    psi: usize,
}

/// Average path length of an unsuccessful search in a binary search tree of `n` nodes.
fn c(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        n => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + 0.577_215_664_901_532_9) - 2.0 * (n - 1.0) / n
        }
    }
}

fn build(
    x: &Array2<f32>,
    idx: &mut [usize],
    depth: usize,
    max_depth: usize,
    rng: &mut ChaCha8Rng,
    nodes: &mut Vec<Node>,
) -> usize {
    let me = nodes.len();
    nodes.push(Node::Leaf { size: idx.len() });
    if depth >= max_depth || idx.len() <= 1 {
        return me;
    }
    // Draw features without replacement until one varies inside the node.
    let d = x.ncols();
    let mut features: Vec<usize> = (0..d).collect();
    let mut chosen = None;
    while !features.is_empty() {
        let f = features.swap_remove(rng.random_range(0..features.len()));
        let (lo, hi) = idx
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &i| {
                (a.min(x[[i, f]]), b.max(x[[i, f]]))
            });
        if hi > lo {
            chosen = Some((f, lo, hi));
            break;
        }
    }
    let Some((feature, lo, hi)) = chosen else {
        return me;
    };
    let mut threshold = rng.random_range(lo..hi);
    if threshold >= hi {
        threshold = lo;
    }
    let split = partition(idx, |i| x[[i, feature]] <= threshold);
    let (l, r) = idx.split_at_mut(split);
    let left = build(x, l, depth + 1, max_depth, rng, nodes);
    let right = build(x, r, depth + 1, max_depth, rng, nodes);
    nodes[me] = Node::Split {
        feature,
        threshold,
        left,
        right,
    };
    me
}

/// Moves the elements satisfying `pred` to the front; returns their count.
fn partition(v: &mut [usize], pred: impl Fn(usize) -> bool) -> usize {
    let mut k = 0;
    for i in 0..v.len() {
        if pred(v[i]) {
            v.swap(i, k);
            k += 1;
        }
    }
    k
}

fn path_length(tree: &[Node], x: &[f32]) -> f64 {
    let mut node = 0;
    let mut depth = 0.0;
    loop {
        match &tree[node] {
            Node::Leaf { size } => return depth + c(*size),
            Node::Split {
                feature,
                threshold,
                left,
                right,
            } => {
                node = if x[*feature] <= *threshold {
                    *left
                } else {
                    *right
                };
                depth += 1.0;
            }
        }
    }
}

impl Fit for IsolationForestConfig {
    type Detector = IsolationForest;
    type Error = ModelError;

    fn fit(
        &self,
        normal: &[ArrayView2<'_, f32>],
        seed: u64,
    ) -> Result<IsolationForest, ModelError> {
        if self.n_trees == 0 || self.max_samples < 2 {
            return Err(ModelError::config(
                "n_trees/max_samples",
                format!("{}/{}", self.n_trees, self.max_samples),
                "need >= 1 tree and >= 2 samples",
            ));
        }
        let (prep, x) = Prepared::fit(self.inputs, normal, seed)?;
        let n = x.nrows();
        if n < 2 {
            return Err(ModelError::TooFewVectors {
                what: "an isolation forest".into(),
                need: 2,
                got: n,
            });
        }
        let psi = self.max_samples.min(n);
        let max_depth = (psi as f64).log2().ceil() as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let trees = (0..self.n_trees)
            .map(|_| {
                let mut idx = sample(&mut rng, n, psi).into_vec();
                let mut nodes = Vec::new();
                build(&x, &mut idx, 0, max_depth, &mut rng, &mut nodes);
                nodes
            })
            .collect();
        Ok(IsolationForest { prep, trees, psi })
    }
}

impl IsolationForest {
    /// Checks a loaded model's shapes.
    pub(crate) fn check(&self) -> Result<(), ModelError> {
        let d = self.prep.check()?;
        if self.trees.is_empty() || self.psi == 0 {
            return Err(ModelError::Inconsistent("a forest without trees".into()));
        }
        for (t, tree) in self.trees.iter().enumerate() {
            let n = tree.len();
            for (i, node) in tree.iter().enumerate() {
                if let Node::Split {
                    feature,
                    left,
                    right,
                    ..
                } = *node
                    && (feature >= d || left >= n || right >= n || left <= i || right <= i)
                {
                    return Err(ModelError::Inconsistent(format!(
                        "tree {t}, node {i} points outside the tree"
                    )));
                }
            }
        }
        Ok(())
    }
}

impl Detector for IsolationForest {
    type Error = ModelError;

    fn input_dims(&self) -> usize {
        self.prep.clip_dims
    }

    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, ModelError> {
        let v = self.prep.vectors(clip)?;
        let norm = c(self.psi);
        let per: Vec<f64> = v
            .rows()
            .into_iter()
            .map(|r| {
                let r = r.to_vec();
                let h = self.trees.iter().map(|t| path_length(t, &r)).sum::<f64>()
                    / self.trees.len() as f64;
                2f64.powf(-h / norm)
            })
            .collect();
        Ok(self.prep.pool(&per))
    }
}
