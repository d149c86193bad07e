use thiserror::Error;

/// Errors of the chroma and CENS extractors. Messages carry the numbers.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum CensError {
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
    /// The highest CQT filter reaches past the Nyquist frequency of the sample rate.
    #[error(
        "the CQT's top filter reaches {cutoff_hz:.1} Hz, beyond the Nyquist frequency {nyquist_hz} Hz of {sample_rate} Hz audio: use fewer bins or octaves"
    )]
    AboveNyquist {
        /// Upper edge of the top filter.
        cutoff_hz: f64,
        /// Half the sample rate.
        nyquist_hz: f64,
        /// The sample rate.
        sample_rate: u32,
    },
    /// The signal's sample rate is not the one the extractor was planned for.
    #[error("signal is sampled at {got} Hz but the extractor was planned for {expected} Hz")]
    SampleRate {
        /// Planned rate.
        expected: u32,
        /// Signal rate.
        got: u32,
    },
    /// The signal is too short for the transform.
    #[error("signal of {samples} samples is too short: {reason}")]
    TooShort {
        /// Samples given.
        samples: usize,
        /// What it is too short for.
        reason: String,
    },
    /// From the STFT.
    #[error(transparent)]
    Dsp(#[from] aad_dsp::DspError),
    /// From the core helpers.
    #[error(transparent)]
    Core(#[from] aad_core::CoreError),
}

impl CensError {
    pub(crate) fn config(
        name: &'static str,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        CensError::InvalidConfig {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
