//! Mel scales and the mel filterbank, computed as `librosa.filters.mel` computes them.

use ndarray::Array2;

use crate::MelError;

/// The mel scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum MelScale {
    /// Slaney's Auditory Toolbox scale (librosa's default, `htk=False`): linear below
    /// 1 kHz, logarithmic above.
    #[default]
    Slaney,
    /// HTK: `2595 log10(1 + f / 700)`.
    Htk,
}

/// Filter normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum MelNorm {
    /// Slaney's area normalisation, `2 / (f[i+2] - f[i])` (librosa's default).
    #[default]
    Slaney,
    /// Peak 1 triangles.
    None,
}

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;

fn logstep() -> f64 {
    6.4f64.ln() / 27.0
}

/// `librosa.hz_to_mel`.
pub fn hz_to_mel(f: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 2595.0 * (1.0 + f / 700.0).log10(),
        MelScale::Slaney => {
            let min_log_mel = MIN_LOG_HZ / F_SP;
            if f >= MIN_LOG_HZ {
                min_log_mel + (f / MIN_LOG_HZ).ln() / logstep()
            } else {
                f / F_SP
            }
        }
    }
}

/// `librosa.mel_to_hz`.
pub fn mel_to_hz(m: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * (10f64.powf(m / 2595.0) - 1.0),
        MelScale::Slaney => {
            let min_log_mel = MIN_LOG_HZ / F_SP;
            if m >= min_log_mel {
                MIN_LOG_HZ * (logstep() * (m - min_log_mel)).exp()
            } else {
                F_SP * m
            }
        }
    }
}

/// `librosa.mel_frequencies(n, fmin, fmax)`: `n` frequencies evenly spaced in mel.
pub fn mel_frequencies(n: usize, fmin: f64, fmax: f64, scale: MelScale) -> Vec<f64> {
    aad_dsp::linspace(hz_to_mel(fmin, scale), hz_to_mel(fmax, scale), n)
        .into_iter()
        .map(|m| mel_to_hz(m, scale))
        .collect()
}

/// `numpy.fft.rfftfreq(n_fft, 1 / sr)`.
pub fn fft_frequencies(sr: f64, n_fft: usize) -> Vec<f64> {
    let d = 1.0 / sr;
    let val = 1.0 / (n_fft as f64 * d);
    (0..=n_fft / 2).map(|k| k as f64 * val).collect()
}

/// The mel filterbank `librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk, norm)` as
/// float32, shape `n_mels x (n_fft / 2 + 1)`. Triangles are computed in f64, stored as
/// f32 and normalised in f64 then stored again, as numpy's in-place float32 arithmetic
/// does.
///
/// ```
/// use mel_features::{MelNorm, MelScale, mel_filterbank};
/// let w = mel_filterbank(16_000.0, 1024, 128, 0.0, 8000.0, MelScale::Slaney, MelNorm::Slaney)?;
/// assert_eq!(w.dim(), (128, 513));
/// # Ok::<(), mel_features::MelError>(())
/// ```
///
/// # Errors
/// [`MelError::EmptyFilter`] when a filter covers no FFT bin (too many mels for `n_fft`),
/// or invalid frequencies.
pub fn mel_filterbank(
    sr: f64,
    n_fft: usize,
    n_mels: usize,
    fmin: f64,
    fmax: f64,
    scale: MelScale,
    norm: MelNorm,
) -> Result<Array2<f32>, MelError> {
    if !(sr > 0.0 && sr.is_finite()) {
        return Err(MelError::config("sample_rate", sr, "must be > 0"));
    }
    if n_mels == 0 {
        return Err(MelError::config("n_mels", 0, "must be >= 1"));
    }
    if !(fmin >= 0.0 && fmin < fmax && fmax <= sr / 2.0) {
        return Err(MelError::config(
            "fmin/fmax",
            format!("{fmin}/{fmax}"),
            format!("need 0 <= fmin < fmax <= sr/2 = {}", sr / 2.0),
        ));
    }
    let fftfreqs = fft_frequencies(sr, n_fft);
    let mel_f = mel_frequencies(n_mels + 2, fmin, fmax, scale);
    let fdiff: Vec<f64> = mel_f.windows(2).map(|w| w[1] - w[0]).collect();
    let mut weights = Array2::<f32>::zeros((n_mels, fftfreqs.len()));
    for i in 0..n_mels {
        let enorm = match norm {
            MelNorm::Slaney => Some(2.0 / (mel_f[i + 2] - mel_f[i])),
            MelNorm::None => None,
        };
        for (k, &f) in fftfreqs.iter().enumerate() {
            let lower = -(mel_f[i] - f) / fdiff[i];
            let upper = (mel_f[i + 2] - f) / fdiff[i + 1];
            let tri = 0f64.max(lower.min(upper)) as f32;
            weights[[i, k]] = match enorm {
                Some(e) => (f64::from(tri) * e) as f32,
                None => tri,
            };
        }
        let empty = weights.row(i).iter().all(|&v| v <= 0.0);
        if empty && mel_f[i] != 0.0 {
            return Err(MelError::EmptyFilter {
                index: i,
                n_mels,
                n_fft,
                low_hz: mel_f[i],
                high_hz: mel_f[i + 2],
            });
        }
    }
    Ok(weights)
}

/// Frames processed together by [`SparseBank::apply_block`].
pub(crate) const LANES: usize = 8;

/// A filterbank stored as one contiguous run of non-zero weights per filter.
#[derive(Debug, Clone)]
pub(crate) struct SparseBank {
    bands: Vec<(usize, Vec<f32>)>,
}

impl SparseBank {
    pub(crate) fn new(dense: &Array2<f32>) -> Self {
        let bands = dense
            .rows()
            .into_iter()
            .map(|row| {
                let first = row.iter().position(|&v| v != 0.0).unwrap_or(0);
                let last = row.iter().rposition(|&v| v != 0.0).unwrap_or(0);
                let w = if last >= first {
                    row.iter()
                        .skip(first)
                        .take(last - first + 1)
                        .copied()
                        .collect()
                } else {
                    Vec::new()
                };
                (first, w)
            })
            .collect();
        SparseBank { bands }
    }

    /// Applies the bank to a block of [`LANES`] frames stored bin-major
    /// (`block[k * LANES + lane]`), writing `out[m * LANES + lane]`. Each output is the
    /// same sequential f32 sum as a per-frame dot product; the lanes let the compiler
    /// vectorise across frames.
    #[inline]
    pub(crate) fn apply_block(&self, block: &[f32], out: &mut [f32]) {
        for (o, (start, w)) in out.chunks_exact_mut(LANES).zip(&self.bands) {
            let mut acc = [0.0f32; LANES];
            let rows = &block[start * LANES..(start + w.len()) * LANES];
            for (&wv, row) in w.iter().zip(rows.chunks_exact(LANES)) {
                for l in 0..LANES {
                    acc[l] += wv * row[l];
                }
            }
            o.copy_from_slice(&acc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_is_linear_below_1khz_and_round_trips() {
        assert!((hz_to_mel(1000.0, MelScale::Slaney) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(200.0 / 3.0, MelScale::Slaney) - 1.0).abs() < 1e-12);
        for f in [0.0, 440.0, 999.0, 1000.0, 4000.0, 8000.0] {
            for s in [MelScale::Slaney, MelScale::Htk] {
                assert!(
                    (mel_to_hz(hz_to_mel(f, s), s) - f).abs() < 1e-9,
                    "{f} {s:?}"
                );
            }
        }
    }

    #[test]
    fn too_many_mels_for_the_fft_is_an_empty_filter_error() {
        let e = mel_filterbank(
            16_000.0,
            256,
            128,
            0.0,
            8000.0,
            MelScale::Slaney,
            MelNorm::Slaney,
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                MelError::EmptyFilter {
                    n_mels: 128,
                    n_fft: 256,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("n_fft 256"), "{e}");
    }
}
