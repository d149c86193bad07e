use std::path::PathBuf;

use thiserror::Error;

/// Why a file could not be decoded. Every variant names the file.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AudioError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Not an audio file, or a container/codec this build cannot decode.
    #[error("{path}: unsupported or not audio: {reason}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What was not understood.
        reason: String,
    },
    /// The file is audio but its contents are corrupt.
    #[error("{path}: corrupt audio: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The header promises more audio than the file holds (an interrupted download or copy).
    #[error("{path}: truncated: header promises {expected} frames, file holds {found}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Frames announced by the header.
        expected: u64,
        /// Frames actually present.
        found: u64,
    },
    /// The file decodes to zero frames.
    #[error("{path}: no audio frames")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// Fewer frames than the options require.
    #[error("{path}: too short: {frames} frames ({seconds:.3} s), at least {min_frames} required")]
    TooShort {
        /// The file.
        path: PathBuf,
        /// Frames present.
        frames: usize,
        /// Duration present.
        seconds: f64,
        /// Frames required.
        min_frames: usize,
    },
    /// The requested channel does not exist.
    #[error("{path}: has {channels} channel(s), there is no channel {channel}")]
    ChannelOutOfRange {
        /// The file.
        path: PathBuf,
        /// Channel asked for.
        channel: usize,
        /// Channels present.
        channels: usize,
    },
    /// The file's sample rate is not the one expected (no silent resampling).
    #[error("{path}: sample rate is {found} Hz but {expected} Hz is expected")]
    SampleRateMismatch {
        /// The file.
        path: PathBuf,
        /// Rate required by the options.
        expected: u32,
        /// Rate of the file.
        found: u32,
    },
    /// A floating-point file holds NaN or infinite samples.
    #[error("{path}: sample {frame} of the decoded signal is not finite ({value})")]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// Frame index of the first bad sample.
        frame: usize,
        /// Its value.
        value: f32,
    },
    /// A floating-point file holds a sample of absurd magnitude (beyond
    /// [`MAX_SAMPLE_MAGNITUDE`](crate::MAX_SAMPLE_MAGNITUDE)): a flipped exponent bit, not
    /// sound. Its spectra would overflow to infinity.
    #[error(
        "{path}: sample {frame} of the decoded signal is {value}, beyond the +-{limit} accepted"
    )]
    AbsurdSample {
        /// The file.
        path: PathBuf,
        /// Frame index of the first bad sample.
        frame: usize,
        /// Its value.
        value: f32,
        /// The accepted magnitude.
        limit: f32,
    },
    /// Invalid decoding options (not tied to a file's contents).
    #[error("{path}: invalid option: {reason}")]
    InvalidOptions {
        /// The file being decoded.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl AudioError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            AudioError::Io { path, .. }
            | AudioError::Unsupported { path, .. }
            | AudioError::Malformed { path, .. }
            | AudioError::Truncated { path, .. }
            | AudioError::Empty { path }
            | AudioError::TooShort { path, .. }
            | AudioError::ChannelOutOfRange { path, .. }
            | AudioError::SampleRateMismatch { path, .. }
            | AudioError::NonFinite { path, .. }
            | AudioError::AbsurdSample { path, .. }
            | AudioError::InvalidOptions { path, .. } => path,
        }
    }
}
