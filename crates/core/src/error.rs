use thiserror::Error;

/// Errors of the core types and helpers.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum CoreError {
    /// A sample rate of zero was given.
    #[error("sample rate must be > 0, got 0")]
    ZeroSampleRate,
    /// A signal with no samples was given.
    #[error("signal has no samples")]
    EmptySignal,
    /// A sample is NaN or infinite.
    #[error("sample {index} is not finite ({value})")]
    NonFinite {
        /// Index of the first offending sample.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// A caller-supplied output buffer has the wrong shape.
    #[error("output buffer is {got_rows} x {got_cols} but {want_rows} x {want_cols} is needed")]
    OutputShape {
        /// Rows of the buffer given.
        got_rows: usize,
        /// Columns of the buffer given.
        got_cols: usize,
        /// Rows needed.
        want_rows: usize,
        /// Columns needed.
        want_cols: usize,
    },
    /// A frame operation was given too few frames.
    #[error("{what} needs at least {need} frames, the clip has {got}")]
    TooFewFrames {
        /// The operation.
        what: &'static str,
        /// Frames needed.
        need: usize,
        /// Frames given.
        got: usize,
    },
    /// A parameter is out of its valid range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// The value given, formatted.
        value: String,
        /// What is required.
        reason: &'static str,
    },
}
