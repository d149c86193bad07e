//! Analysis windows, computed in f64 as scipy computes them.

/// Window shapes used by the feature crates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum WindowKind {
    /// Periodic Hann (`scipy.signal.get_window('hann', N, fftbins=True)`), librosa's STFT
    /// default: `0.5 - 0.5 cos(2 pi n / N)`.
    #[default]
    Hann,
    /// Symmetric Hann (`fftbins=False`): `0.5 - 0.5 cos(2 pi n / (N - 1))`.
    HannSymmetric,
    /// Rectangular (all ones), as librosa's CQT uses for its per-octave STFTs.
    Ones,
}

/// `numpy.linspace(start, stop, num)` (endpoint included).
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 0 {
        return Vec::new();
    }
    if num == 1 {
        return vec![start];
    }
    let div = (num - 1) as f64;
    let step = (stop - start) / div;
    let mut y: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    y[num - 1] = stop;
    y
}

/// `scipy.signal.windows.general_cosine(M, [0.5, 0.5], sym)`: the Hann window.
fn hann(m: usize, periodic: bool) -> Vec<f64> {
    if m <= 1 {
        return vec![1.0; m];
    }
    let ext = if periodic { m + 1 } else { m };
    let fac = linspace(-std::f64::consts::PI, std::f64::consts::PI, ext);
    fac.iter().take(m).map(|f| 0.5 + 0.5 * f.cos()).collect()
}

/// A window of length `n` in f64.
///
/// ```
/// use aad_dsp::{WindowKind, window};
/// let w = window(WindowKind::Hann, 4);
/// assert!((w[0] - 0.0).abs() < 1e-15 && (w[2] - 1.0).abs() < 1e-15);
/// let s = window(WindowKind::HannSymmetric, 5);
/// assert!((s[4] - 0.0).abs() < 1e-15 && (s[2] - 1.0).abs() < 1e-15);
/// ```
pub fn window(kind: WindowKind, n: usize) -> Vec<f64> {
    match kind {
        WindowKind::Hann => hann(n, true),
        WindowKind::HannSymmetric => hann(n, false),
        WindowKind::Ones => vec![1.0; n],
    }
}

/// `librosa.util.pad_center`: zero-pads `w` on both sides to length `size`, the extra
/// sample (odd difference) going to the right.
pub fn pad_center(w: &[f64], size: usize) -> Vec<f64> {
    let lpad = (size - w.len().min(size)) / 2;
    let mut out = vec![0.0; size];
    out[lpad..lpad + w.len().min(size)].copy_from_slice(&w[..w.len().min(size)]);
    out
}
