//! Turning clips (`frames x dims` matrices) into training matrices, checked.

use aad_core::ops;
use ndarray::{Array2, ArrayView2, Axis, s};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// What a detector sees of a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Representation {
    /// Every frame is a vector; a clip's score pools its frames' scores ([`Pooling`]).
    #[default]
    Frames,
    /// One vector per clip: `[mean over time, standard deviation over time]`.
    ClipStats,
    /// One vector per clip: the mean over time.
    ClipMean,
    /// One vector per clip: `[mean, standard deviation, maximum]` over time (the maximum
    /// keeps what a short event, a click, leaves in a band).
    ClipMeanStdMax,
}

impl Representation {
    /// Width of the vectors for clips of width `dims`.
    pub fn width(self, dims: usize) -> usize {
        match self {
            Representation::Frames | Representation::ClipMean => dims,
            Representation::ClipStats => 2 * dims,
            Representation::ClipMeanStdMax => 3 * dims,
        }
    }

    /// The vectors of one clip.
    ///
    /// # Errors
    /// An empty clip.
    pub fn vectors(self, clip: ArrayView2<'_, f32>) -> Result<Array2<f32>, ModelError> {
        let stats = || ops::clip_stats(clip).map_err(|_| ModelError::EmptyClip { clip: 0 });
        match self {
            Representation::Frames => Ok(clip.to_owned()),
            Representation::ClipStats => stats(),
            Representation::ClipMean => {
                let s = stats()?;
                Ok(s.slice(ndarray::s![.., ..clip.ncols()]).to_owned())
            }
            Representation::ClipMeanStdMax => {
                let s = stats()?;
                let d = clip.ncols();
                let mut out = Array2::zeros((1, 3 * d));
                out.slice_mut(ndarray::s![.., ..2 * d]).assign(&s);
                for (j, col) in clip.columns().into_iter().enumerate() {
                    out[[0, 2 * d + j]] = col.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                }
                Ok(out)
            }
        }
    }

    /// Whether a clip is one vector.
    pub fn is_clip_level(self) -> bool {
        self != Representation::Frames
    }
}

/// How a clip's score is made from its frames' scores (frame-level detectors; a
/// clip-level representation has one score per clip, which every pooling returns).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum Pooling {
    /// The mean (the 2020 baselines').
    #[default]
    Mean,
    /// The largest frame score: a short event decides.
    Max,
    /// The mean of the `k` largest frame scores.
    TopMean {
        /// Frames averaged (all when the clip has fewer).
        k: usize,
    },
    /// The `p`-th percentile (0-100, linear interpolation as numpy's default).
    Percentile {
        /// Percentile.
        p: f64,
    },
}

impl Pooling {
    /// Pools frame scores (an empty slice gives NaN, which detectors turn into an error).
    pub fn pool(self, scores: &[f64]) -> f64 {
        if scores.is_empty() {
            return f64::NAN;
        }
        match self {
            Pooling::Mean => scores.iter().sum::<f64>() / scores.len() as f64,
            Pooling::Max => scores.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Pooling::TopMean { k } => {
                let mut v = scores.to_vec();
                v.sort_by(|a, b| b.total_cmp(a));
                let k = k.clamp(1, v.len());
                v[..k].iter().sum::<f64>() / k as f64
            }
            Pooling::Percentile { p } => {
                let mut v = scores.to_vec();
                v.sort_by(f64::total_cmp);
                let pos = (p.clamp(0.0, 100.0) / 100.0) * (v.len() - 1) as f64;
                let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
                v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
            }
        }
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// `k == 0` or a percentile outside 0-100.
    pub fn validate(self) -> Result<(), ModelError> {
        match self {
            Pooling::TopMean { k: 0 } => {
                Err(ModelError::config("pooling top-k", 0, "must be >= 1"))
            }
            Pooling::Percentile { p } if !(0.0..=100.0).contains(&p) => Err(ModelError::config(
                "pooling percentile",
                p,
                "must be in 0..=100",
            )),
            _ => Ok(()),
        }
    }
}

/// Checks that every clip is non-empty, `dims` wide (the first clip's width when `None`)
/// and finite. Returns the width.
///
/// # Errors
/// [`ModelError::EmptyTrainingSet`], [`ModelError::EmptyClip`],
/// [`ModelError::WidthMismatch`] or [`ModelError::NonFinite`] with the clip index.
pub fn check_clips(
    clips: &[ArrayView2<'_, f32>],
    dims: Option<usize>,
) -> Result<usize, ModelError> {
    let Some(first) = clips.first() else {
        return Err(ModelError::EmptyTrainingSet("no clips".into()));
    };
    let dims = dims.unwrap_or(first.ncols());
    if dims == 0 {
        return Err(ModelError::EmptyTrainingSet(
            "clips have zero features".into(),
        ));
    }
    for (i, c) in clips.iter().enumerate() {
        check_clip(i, c, dims)?;
    }
    Ok(dims)
}

/// Checks one clip (see [`check_clips`]).
///
/// # Errors
/// As [`check_clips`].
pub fn check_clip(index: usize, c: &ArrayView2<'_, f32>, dims: usize) -> Result<(), ModelError> {
    if c.nrows() == 0 {
        return Err(ModelError::EmptyClip { clip: index });
    }
    if c.ncols() != dims {
        return Err(ModelError::WidthMismatch {
            clip: index,
            expected: dims,
            got: c.ncols(),
        });
    }
    if let Some(((row, col), &value)) = c.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(ModelError::NonFinite {
            clip: index,
            row,
            col,
            value,
        });
    }
    Ok(())
}

/// Concatenates the clips' vectors under `rep` into one matrix (clip order kept),
/// keeping at most `max_vectors` rows chosen uniformly at random with `seed` (order
/// preserved). Not context stacking: that is `aad_core::ops::stack_frames`.
///
/// # Errors
/// As [`check_clips`].
pub fn concat_vectors(
    clips: &[ArrayView2<'_, f32>],
    rep: Representation,
    max_vectors: Option<usize>,
    seed: u64,
) -> Result<Array2<f32>, ModelError> {
    check_clips(clips, None)?;
    if rep == Representation::Frames {
        return Ok(gather_frames(clips, max_vectors, seed));
    }
    let parts: Vec<Array2<f32>> = clips
        .iter()
        .map(|c| rep.vectors(c.view()))
        .collect::<Result<_, _>>()?;
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    let all = ndarray::concatenate(Axis(0), &views)
        .map_err(|e| ModelError::EmptyTrainingSet(e.to_string()))?;
    match kept_rows(all.nrows(), max_vectors, seed) {
        Some(idx) => Ok(all.select(Axis(0), &idx)),
        None => Ok(all),
    }
}

/// The rows `max_vectors` keeps of `n` (sorted), or `None` for all of them.
fn kept_rows(n: usize, max_vectors: Option<usize>, seed: u64) -> Option<Vec<usize>> {
    match max_vectors {
        Some(m) if m < n => {
            let mut idx: Vec<usize> = (0..n).collect();
            idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_5A3B));
            idx.truncate(m);
            idx.sort_unstable();
            Some(idx)
        }
        _ => None,
    }
}

/// Frames of checked, equally wide clips copied once into one matrix (the rows
/// [`kept_rows`] keeps): a training set of a full machine id is hundreds of MB, and
/// copying clip by clip before concatenating would hold it twice.
fn gather_frames(
    clips: &[ArrayView2<'_, f32>],
    max_vectors: Option<usize>,
    seed: u64,
) -> Array2<f32> {
    let d = clips[0].ncols();
    let n: usize = clips.iter().map(|c| c.nrows()).sum();
    let idx = kept_rows(n, max_vectors, seed);
    let mut out = Array2::zeros((idx.as_ref().map_or(n, Vec::len), d));
    match idx {
        None => {
            let mut at = 0;
            for c in clips {
                out.slice_mut(s![at..at + c.nrows(), ..]).assign(c);
                at += c.nrows();
            }
        }
        Some(idx) => {
            // Both the kept rows and the clips' rows are in order: one pass.
            let (mut clip, mut first) = (0, 0);
            for (dst, &i) in idx.iter().enumerate() {
                while i >= first + clips[clip].nrows() {
                    first += clips[clip].nrows();
                    clip += 1;
                }
                out.row_mut(dst).assign(&clips[clip].row(i - first));
            }
        }
    }
    out
}

/// The former name of [`concat_vectors`].
///
/// # Errors
/// As [`concat_vectors`].
#[deprecated(
    since = "0.1.0",
    note = "renamed concat_vectors: it concatenates, it does not stack context"
)]
pub fn stack(
    clips: &[ArrayView2<'_, f32>],
    rep: Representation,
    max_vectors: Option<usize>,
    seed: u64,
) -> Result<Array2<f32>, ModelError> {
    concat_vectors(clips, rep, max_vectors, seed)
}
