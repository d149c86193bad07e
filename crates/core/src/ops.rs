//! Operations on `frames x dims` feature matrices shared by every feature family.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};

use crate::{CoreError, check_output_shape};

/// Number of context vectors [`stack_frames`] makes from `n_frames` frames.
pub fn stacked_len(n_frames: usize, context: usize) -> usize {
    if context == 0 || n_frames < context {
        0
    } else {
        n_frames - context + 1
    }
}

/// Concatenates `context` consecutive frames into one row, as the MIMII and DCASE
/// baselines do: row `t` is `[x[t], x[t+1], ..., x[t+context-1]]`, so `T` frames give
/// `T - context + 1` rows of `context * dims` (313 log-Mel frames, 5 frames of 64 mels:
/// 309 rows of 320).
///
/// ```
/// use ndarray::array;
/// let x = array![[1.0f32, 10.0], [2.0, 20.0], [3.0, 30.0]];
/// let s = aad_core::ops::stack_frames(x.view(), 2)?;
/// assert_eq!(s, array![[1.0, 10.0, 2.0, 20.0], [2.0, 20.0, 3.0, 30.0]]);
/// # Ok::<(), aad_core::CoreError>(())
/// ```
///
/// # Errors
/// `context == 0`, or fewer frames than `context`.
pub fn stack_frames(x: ArrayView2<'_, f32>, context: usize) -> Result<Array2<f32>, CoreError> {
    let mut out = Array2::zeros((stacked_len(x.nrows(), context), context * x.ncols()));
    stack_frames_into(x, context, out.view_mut())?;
    Ok(out)
}

/// [`stack_frames`] into a caller-supplied buffer (no allocation).
///
/// # Errors
/// As [`stack_frames`], plus a wrong output shape.
pub fn stack_frames_into(
    x: ArrayView2<'_, f32>,
    context: usize,
    mut out: ArrayViewMut2<'_, f32>,
) -> Result<(), CoreError> {
    if context == 0 {
        return Err(CoreError::InvalidParameter {
            name: "context",
            value: "0".into(),
            reason: "must be >= 1",
        });
    }
    if x.nrows() < context {
        return Err(CoreError::TooFewFrames {
            what: "frame stacking",
            need: context,
            got: x.nrows(),
        });
    }
    let d = x.ncols();
    check_output_shape(out.dim(), (stacked_len(x.nrows(), context), context * d))?;
    for (t, mut row) in out.rows_mut().into_iter().enumerate() {
        for c in 0..context {
            row.slice_mut(ndarray::s![c * d..(c + 1) * d])
                .assign(&x.row(t + c));
        }
    }
    Ok(())
}

/// Clip statistics: one row `[mean over time (dims), standard deviation over time (dims)]`
/// (population standard deviation, computed in f64).
///
/// This turns a variable-length clip into one fixed vector for detectors that work on
/// clips rather than frames (the seed's "means" features, pyod's audio encoder).
///
/// ```
/// use ndarray::array;
/// let x = array![[1.0f32, 0.0], [3.0, 0.0]];
/// assert_eq!(aad_core::ops::clip_stats(x.view())?, array![[2.0, 0.0, 1.0, 0.0]]);
/// # Ok::<(), aad_core::CoreError>(())
/// ```
///
/// # Errors
/// A clip with no frames.
pub fn clip_stats(x: ArrayView2<'_, f32>) -> Result<Array2<f32>, CoreError> {
    if x.nrows() == 0 {
        return Err(CoreError::TooFewFrames {
            what: "clip statistics",
            need: 1,
            got: 0,
        });
    }
    let d = x.ncols();
    let n = x.nrows() as f64;
    let mut out = Array2::zeros((1, 2 * d));
    for (j, col) in x.axis_iter(Axis(1)).enumerate() {
        let mean = col.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = col
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        out[[0, j]] = mean as f32;
        out[[0, d + j]] = var.sqrt() as f32;
    }
    Ok(out)
}

/// Keeps every `step`-th frame starting with the first (`x[::step]`), as the seed project
/// subsampled CENS.
///
/// # Errors
/// `step == 0`.
pub fn every_nth_frame(x: ArrayView2<'_, f32>, step: usize) -> Result<Array2<f32>, CoreError> {
    if step == 0 {
        return Err(CoreError::InvalidParameter {
            name: "step",
            value: "0".into(),
            reason: "must be >= 1",
        });
    }
    Ok(x.slice(ndarray::s![..;step, ..]).to_owned())
}

/// numpy's pairwise summation (`np.add.reduce` over a contiguous array): sequential
/// below 8 values (from `start`: numpy starts float sums at -0.0), eight interleaved
/// partial sums up to 128, halves (at a multiple of 8) above. Sums, means and trapezoid
/// areas computed with it round exactly as numpy's.
///
/// ```
/// let v: Vec<f64> = (0..1000).map(|i| (i % 17) as f64 * 0.5).collect();
/// assert_eq!(aad_core::ops::pairwise_sum(&v, -0.0), v.iter().sum::<f64>());
/// ```
pub fn pairwise_sum<T: Copy + std::ops::Add<Output = T>>(a: &[T], start: T) -> T {
    let n = a.len();
    if n < 8 {
        a.iter().fold(start, |acc, &x| acc + x)
    } else if n <= 128 {
        let mut r = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]];
        let mut i = 8;
        while i < n - (n % 8) {
            for (k, rk) in r.iter_mut().enumerate() {
                *rk = *rk + a[i + k];
            }
            i += 8;
        }
        let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        a[i..].iter().fold(res, |acc, &x| acc + x)
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2], start) + pairwise_sum(&a[n2..], start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array;

    #[test]
    fn stacking_matches_the_mimii_shape_and_order() {
        let x = Array::from_shape_fn((313, 64), |(t, d)| (t * 1000 + d) as f32);
        let s = stack_frames(x.view(), 5).unwrap();
        assert_eq!(s.dim(), (309, 320));
        // Row 7, block 3 is frame 10.
        assert_eq!(s[[7, 3 * 64 + 5]], x[[10, 5]]);
        assert_eq!(s[[308, 319]], x[[312, 63]]);
    }

    #[test]
    fn stacking_rejects_short_clips_and_zero_context() {
        let x = Array2::<f32>::zeros((4, 3));
        assert!(matches!(
            stack_frames(x.view(), 5),
            Err(CoreError::TooFewFrames {
                need: 5,
                got: 4,
                ..
            })
        ));
        assert!(stack_frames(x.view(), 0).is_err());
        assert_eq!(stack_frames(x.view(), 1).unwrap(), x);
        let mut wrong = Array2::<f32>::zeros((3, 3));
        assert!(matches!(
            stack_frames_into(x.view(), 2, wrong.view_mut()),
            Err(CoreError::OutputShape { .. })
        ));
    }

    #[test]
    fn clip_stats_are_mean_then_population_std() {
        let x = Array::from_shape_vec((4, 1), vec![1.0f32, 2.0, 3.0, 4.0]).unwrap();
        let s = clip_stats(x.view()).unwrap();
        assert_eq!(s[[0, 0]], 2.5);
        assert!((s[[0, 1]] - 1.25f32.sqrt()).abs() < 1e-7);
        assert!(clip_stats(Array2::<f32>::zeros((0, 3)).view()).is_err());
    }

    #[test]
    fn every_nth_frame_keeps_the_first_and_rounds_up() {
        let x = Array::from_shape_fn((313, 2), |(t, _)| t as f32);
        let y = every_nth_frame(x.view(), 5).unwrap();
        assert_eq!(y.nrows(), 63);
        assert_eq!(y[[62, 0]], 310.0);
        assert!(every_nth_frame(x.view(), 0).is_err());
    }
}
