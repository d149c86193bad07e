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
    /// Every frame is a vector; a clip's score is the mean of its frames' scores.
    #[default]
    Frames,
    /// One vector per clip: `[mean over time, standard deviation over time]`.
    ClipStats,
}

impl Representation {
    /// Width of the vectors for clips of width `dims`.
    pub fn width(self, dims: usize) -> usize {
        match self {
            Representation::Frames => dims,
            Representation::ClipStats => 2 * dims,
        }
    }

    /// The vectors of one clip.
    ///
    /// # Errors
    /// An empty clip.
    pub fn vectors(self, clip: ArrayView2<'_, f32>) -> Result<Array2<f32>, ModelError> {
        match self {
            Representation::Frames => Ok(clip.to_owned()),
            Representation::ClipStats => {
                ops::clip_stats(clip).map_err(|_| ModelError::EmptyClip { clip: 0 })
            }
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

/// Stacks the clips' vectors under `rep` into one matrix (clip order kept), keeping at
/// most `max_vectors` rows chosen uniformly at random with `seed` (order preserved).
///
/// # Errors
/// As [`check_clips`].
pub fn stack(
    clips: &[ArrayView2<'_, f32>],
    rep: Representation,
    max_vectors: Option<usize>,
    seed: u64,
) -> Result<Array2<f32>, ModelError> {
    check_clips(clips, None)?;
    let parts: Vec<Array2<f32>> = clips
        .iter()
        .map(|c| rep.vectors(c.view()))
        .collect::<Result<_, _>>()?;
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    let all = ndarray::concatenate(Axis(0), &views)
        .map_err(|e| ModelError::EmptyTrainingSet(e.to_string()))?;
    match max_vectors {
        Some(m) if m < all.nrows() => {
            let mut idx: Vec<usize> = (0..all.nrows()).collect();
            idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_5A3B));
            idx.truncate(m);
            idx.sort_unstable();
            Ok(all.select(Axis(0), &idx))
        }
        _ => Ok(all),
    }
}

/// Rows `[start, end)` of a matrix, owned.
pub(crate) fn rows(m: &Array2<f32>, start: usize, end: usize) -> Array2<f32> {
    m.slice(s![start..end, ..]).to_owned()
}
