use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::{CoreError, Signal};

/// Plan-once, run-many feature extraction over a mono [`Signal`].
///
/// An implementation builds everything expensive (FFT plan, window, filterbank, scratch
/// buffers) when it is constructed; [`extract_into`](Self::extract_into) then writes a
/// `frames x dims` matrix (one row per frame) into a caller-supplied buffer and
/// allocates nothing. [`extract`](Self::extract) is the allocating convenience.
///
/// Extractors take `&mut self` so they can own their scratch space; clone one per
/// thread (implementations keep their plans behind `Arc`, so a clone is cheap).
pub trait FeatureExtractor: Send {
    /// The error type of this extractor.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Samples of the input between the starts of consecutive output rows (the STFT hop
    /// times any downsampling).
    fn hop_length(&self) -> usize;

    /// The sample rate the extractor was planned for; other rates are an error.
    fn sample_rate(&self) -> u32;

    /// Seconds between consecutive output rows: [`hop_length`](Self::hop_length) over
    /// [`sample_rate`](Self::sample_rate).
    fn frame_period(&self) -> f64 {
        self.hop_length() as f64 / f64::from(self.sample_rate().max(1))
    }

    /// Number of columns of every output row.
    fn dims(&self) -> usize;

    /// Number of rows produced for a signal of `n_samples` samples (0 when too short).
    fn num_frames(&self, n_samples: usize) -> usize;

    /// Writes the features of `signal` into `out`, which must be
    /// `num_frames(signal.len()) x dims()`.
    ///
    /// # Errors
    /// A sample-rate mismatch, a wrong output shape or a signal too short for one frame.
    ///
    /// # Allocation
    /// None: all scratch space is owned by the extractor.
    fn extract_into(
        &mut self,
        signal: &Signal,
        out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), Self::Error>;

    /// Allocates a `num_frames x dims` matrix and fills it with
    /// [`extract_into`](Self::extract_into).
    ///
    /// # Errors
    /// As [`extract_into`](Self::extract_into).
    fn extract(&mut self, signal: &Signal) -> Result<Array2<f32>, Self::Error> {
        let mut out = Array2::zeros((self.num_frames(signal.len()), self.dims()));
        self.extract_into(signal, out.view_mut())?;
        Ok(out)
    }
}

/// An unfitted detector configuration. Fitting sees normal clips only and returns a
/// separate trained type, so scoring before fitting cannot compile.
pub trait Fit {
    /// The trained detector.
    type Detector: Detector;
    /// The error type of fitting.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Fits on `normal` clips, each a `frames x dims` matrix with the same `dims`.
    /// Every random choice (initial weights, shuffling, subsampling, validation split)
    /// is drawn from `seed`: the same data and seed give the same detector.
    ///
    /// # Errors
    /// Empty training set, inconsistent widths, non-finite features, or a failure of
    /// the underlying algorithm.
    fn fit(&self, normal: &[ArrayView2<'_, f32>], seed: u64)
    -> Result<Self::Detector, Self::Error>;
}

/// A trained detector. **Higher score = more anomalous.**
pub trait Detector: Send + Sync {
    /// The error type of scoring.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Width of the rows [`score`](Self::score) accepts.
    fn input_dims(&self) -> usize;

    /// Anomaly score of one clip (`frames x input_dims`).
    ///
    /// # Errors
    /// Wrong width, no frames, non-finite features.
    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, Self::Error>;

    /// Scores several clips; implementations may batch. Results are in input order.
    ///
    /// # Errors
    /// The first error of [`score`](Self::score).
    fn score_batch(&self, clips: &[ArrayView2<'_, f32>]) -> Result<Vec<f64>, Self::Error> {
        clips.iter().map(|c| self.score(c.view())).collect()
    }
}

/// Checks a caller-supplied output buffer shape, for `extract_into` implementations.
///
/// # Errors
/// [`CoreError::OutputShape`] with both shapes.
pub fn check_output_shape(got: (usize, usize), want: (usize, usize)) -> Result<(), CoreError> {
    if got == want {
        Ok(())
    } else {
        Err(CoreError::OutputShape {
            got_rows: got.0,
            got_cols: got.1,
            want_rows: want.0,
            want_cols: want.1,
        })
    }
}
