use thiserror::Error;

/// Errors of the STFT and framing.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum DspError {
    /// A configuration value is out of range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Value given.
        value: String,
        /// What is required.
        reason: String,
    },
    /// The signal is too short for even one frame.
    #[error(
        "signal has {samples} samples but at least {need} are needed (n_fft {n_fft}, center = false)"
    )]
    TooShort {
        /// Samples given.
        samples: usize,
        /// Samples needed.
        need: usize,
        /// FFT size.
        n_fft: usize,
    },
    /// A caller buffer has the wrong shape.
    #[error(transparent)]
    Core(#[from] aad_core::CoreError),
}

impl DspError {
    pub(crate) fn param(
        name: &'static str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        DspError::InvalidParameter {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
