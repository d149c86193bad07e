use thiserror::Error;

/// Errors of the Mel feature extractors. Messages carry the numbers.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum MelError {
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
    /// A mel filter covers no FFT bin: too many mels for this `n_fft`.
    #[error(
        "mel filter {index} of {n_mels} ({low_hz:.1}-{high_hz:.1} Hz) covers no FFT bin with n_fft {n_fft}: use fewer mels or a larger n_fft"
    )]
    EmptyFilter {
        /// Filter index.
        index: usize,
        /// Filters requested.
        n_mels: usize,
        /// FFT size.
        n_fft: usize,
        /// Lower edge.
        low_hz: f64,
        /// Upper edge.
        high_hz: f64,
    },
    /// The signal's sample rate is not the one the extractor was planned for.
    #[error("signal is sampled at {got} Hz but the extractor was planned for {expected} Hz")]
    SampleRate {
        /// Planned rate.
        expected: u32,
        /// Signal rate.
        got: u32,
    },
    /// Too few frames for the context stacking.
    #[error("signal of {samples} samples gives {frames} frames, {need} are needed")]
    TooShort {
        /// Samples given.
        samples: usize,
        /// Frames they give.
        frames: usize,
        /// Frames needed.
        need: usize,
    },
    /// From the STFT.
    #[error(transparent)]
    Dsp(#[from] aad_dsp::DspError),
    /// From the core helpers.
    #[error(transparent)]
    Core(#[from] aad_core::CoreError),
}

impl MelError {
    pub(crate) fn config(
        name: &'static str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        MelError::InvalidConfig {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
