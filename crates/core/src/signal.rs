use crate::CoreError;

/// A mono audio clip: finite `f32` samples at a sample rate > 0.
///
/// The invariants are checked once in [`Signal::new`], so every consumer may rely on
/// them (no NaN reaches an FFT, no division by a zero rate). Samples are scaled as
/// librosa scales them (`int16 / 32768`), so full scale is `[-1, 1)`.
///
/// ```
/// use aad_core::Signal;
/// let s = Signal::new(vec![0.0, 0.5, -0.5], 16_000)?;
/// assert_eq!(s.len(), 3);
/// assert!((s.duration_secs() - 3.0 / 16_000.0).abs() < 1e-12);
/// assert!(Signal::new(vec![f32::NAN], 16_000).is_err());
/// # Ok::<(), aad_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    samples: Vec<f32>,
    sample_rate: u32,
}

impl Signal {
    /// Checks and wraps `samples`.
    ///
    /// # Errors
    /// [`CoreError::ZeroSampleRate`], [`CoreError::EmptySignal`], or
    /// [`CoreError::NonFinite`] naming the first NaN/infinite sample.
    pub fn new(samples: Vec<f32>, sample_rate: u32) -> Result<Self, CoreError> {
        if sample_rate == 0 {
            return Err(CoreError::ZeroSampleRate);
        }
        if samples.is_empty() {
            return Err(CoreError::EmptySignal);
        }
        if let Some(index) = samples.iter().position(|x| !x.is_finite()) {
            return Err(CoreError::NonFinite {
                index,
                value: samples[index],
            });
        }
        Ok(Signal {
            samples,
            sample_rate,
        })
    }

    /// The samples.
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    /// Gives the samples back, e.g. to reuse the allocation.
    pub fn into_samples(self) -> Vec<f32> {
        self.samples
    }

    /// Samples per second.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Number of samples (never 0).
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Always `false`: a signal has at least one sample. Present for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Duration in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_each_invalid_input_with_its_own_error() {
        assert_eq!(Signal::new(vec![0.0], 0), Err(CoreError::ZeroSampleRate));
        assert_eq!(Signal::new(vec![], 16_000), Err(CoreError::EmptySignal));
        match Signal::new(vec![0.0, 1.0, f32::INFINITY], 16_000) {
            Err(CoreError::NonFinite { index: 2, .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
        let msg = Signal::new(vec![f32::NAN], 8).unwrap_err().to_string();
        assert!(msg.contains("sample 0"), "{msg}");
    }

    #[test]
    fn accessors_report_what_was_given() {
        let s = Signal::new(vec![0.25; 8000], 16_000).unwrap();
        assert_eq!(s.sample_rate(), 16_000);
        assert_eq!(s.len(), 8000);
        assert!(!s.is_empty());
        assert_eq!(s.duration_secs(), 0.5);
        assert_eq!(s.into_samples().len(), 8000);
    }
}
