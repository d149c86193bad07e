use thiserror::Error;

/// Invalid input to a metric. Messages carry the numbers.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// No scores at all.
    #[error("no scores given")]
    Empty,
    /// Scores and labels differ in length.
    #[error("{scores} scores but {labels} labels")]
    LengthMismatch {
        /// Number of scores.
        scores: usize,
        /// Number of labels.
        labels: usize,
    },
    /// Only one class is present: ROC AUC is not defined (scikit-learn raises too).
    #[error("only one class present ({n} {class} clips): ROC AUC is not defined")]
    OneClass {
        /// The class present.
        class: &'static str,
        /// How many clips.
        n: usize,
    },
    /// A score is NaN or infinite.
    #[error("score {index} is not finite ({value})")]
    NonFinite {
        /// Index of the first bad score.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// `max_fpr` outside (0, 1].
    #[error("max_fpr must be in (0, 1], got {0}")]
    InvalidMaxFpr(f64),
    /// Another parameter out of range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter.
        name: &'static str,
        /// Value given.
        value: f64,
        /// What is required.
        reason: &'static str,
    },
    /// Too few values for the statistic.
    #[error("{what} needs at least {need} values, got {got}")]
    TooFew {
        /// The statistic.
        what: &'static str,
        /// Values needed.
        need: usize,
        /// Values given.
        got: usize,
    },
}
