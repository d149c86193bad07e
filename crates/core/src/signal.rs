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
        if let Some(index) = first_non_finite(&samples) {
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

/// Index of the first NaN or infinite value. Scans blocks with a branch-free test on the
/// exponent bits (which vectorises) and only searches a block that holds a bad value.
pub(crate) fn first_non_finite(x: &[f32]) -> Option<usize> {
    const EXP: u32 = 0x7f80_0000;
    const BLOCK: usize = 256;
    for (b, block) in x.chunks(BLOCK).enumerate() {
        let bad = block
            .iter()
            .fold(0u32, |acc, v| acc | u32::from(v.to_bits() & EXP == EXP));
        if bad != 0 {
            return block
                .iter()
                .position(|v| !v.is_finite())
                .map(|i| b * BLOCK + i);
        }
    }
    None
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
    fn first_non_finite_finds_the_first_bad_value_in_any_block() {
        let mut x = vec![1.0f32; 1000];
        assert_eq!(first_non_finite(&x), None);
        for (i, v) in [
            (999, f32::NAN),
            (511, f32::NEG_INFINITY),
            (3, f32::INFINITY),
        ] {
            x[i] = v;
            assert_eq!(first_non_finite(&x), Some(i));
        }
        assert_eq!(first_non_finite(&[f32::MAX, f32::MIN_POSITIVE, -0.0]), None);
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
