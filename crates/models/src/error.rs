use std::path::PathBuf;

use thiserror::Error;

/// Errors of fitting, scoring and persisting detectors. Messages carry the numbers.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A configuration value is out of range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidConfig {
        /// Parameter.
        name: &'static str,
        /// Value given.
        value: String,
        /// What is required.
        reason: String,
    },
    /// Frames could not be stacked (a clip shorter than the context).
    #[error(transparent)]
    Stack(#[from] aad_core::CoreError),
    /// No training clips, or clips without frames.
    #[error("empty training set: {0}")]
    EmptyTrainingSet(String),
    /// A clip has no frames.
    #[error("clip {clip} has no frames")]
    EmptyClip {
        /// Index of the clip.
        clip: usize,
    },
    /// A clip's width differs from the detector's.
    #[error("clip {clip} has {got} features per frame, the detector expects {expected}")]
    WidthMismatch {
        /// Index of the clip.
        clip: usize,
        /// Expected width.
        expected: usize,
        /// Width given.
        got: usize,
    },
    /// A feature value is NaN or infinite.
    #[error("clip {clip}, frame {row}, feature {col} is not finite ({value})")]
    NonFinite {
        /// Index of the clip.
        clip: usize,
        /// Frame.
        row: usize,
        /// Feature.
        col: usize,
        /// The value.
        value: f32,
    },
    /// Too few training vectors for the method.
    #[error("{what} needs at least {need} training vectors, got {got}")]
    TooFewVectors {
        /// The method or step.
        what: String,
        /// Vectors needed.
        need: usize,
        /// Vectors given.
        got: usize,
    },
    /// Training diverged (the loss became NaN or infinite).
    #[error("training diverged at epoch {epoch}: loss {loss}")]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// The loss.
        loss: f64,
    },
    /// A detector that learns this machine against others (the machine-ID classifier)
    /// was given no other machines' clips.
    #[error(
        "the machine-ID classifier needs normal clips of at least one other machine of the type (contrast sets); none were given"
    )]
    NeedsContrast,
    /// A linear-algebra step failed (e.g. a covariance that stays singular).
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// From candle.
    #[cfg(feature = "candle")]
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A fitted detector whose parts do not fit together (read from a damaged file).
    #[error("inconsistent detector: {0}")]
    Inconsistent(String),
    /// The configuration asks for a training backend this build does not include.
    #[error("backend {0} is not in this build (rebuild with `--features {0}`)")]
    BackendUnavailable(&'static str),
    /// A model file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A model file is corrupt or does not match its metadata.
    #[error("{path}: not a valid model: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A model file of an unsupported format version.
    #[error("{path}: model format version {found}, this build reads version {supported}")]
    Version {
        /// The file.
        path: PathBuf,
        /// Version found, as written in the file (`missing` when absent).
        found: String,
        /// Version supported.
        supported: u32,
    },
}

impl ModelError {
    pub(crate) fn config(
        name: &'static str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        ModelError::InvalidConfig {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

impl ModelError {
    /// The same inconsistency, said of a part of the model (`what: ...`); other errors
    /// unchanged.
    pub(crate) fn within(self, what: &str) -> ModelError {
        match self {
            ModelError::Inconsistent(s) => ModelError::Inconsistent(format!("{what}: {s}")),
            other => other,
        }
    }
}
