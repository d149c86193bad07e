//! A planned short-time Fourier transform, numerically as librosa 0.11 computes it.

use std::fmt;
use std::sync::Arc;

use aad_core::check_output_shape;
use ndarray::ArrayViewMut2;
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};

use crate::{Aligned, DspError, WindowKind, pad_center, window};

/// Floating-point types the STFT runs in: `f32` (fast) or `f64` (what librosa does:
/// a float64 window times float32 samples, transformed in double precision).
pub trait StftFloat: realfft::FftNum + Copy + Default + PartialOrd {
    /// Conversion from f64 (window values).
    fn cast_f64(v: f64) -> Self;
    /// Conversion from f32 (samples).
    fn cast_f32(v: f32) -> Self;
    /// Conversion to f32.
    fn into_f32(self) -> f32;
    /// Conversion to f64.
    fn into_f64(self) -> f64;
}

impl StftFloat for f32 {
    fn cast_f64(v: f64) -> Self {
        v as f32
    }
    fn cast_f32(v: f32) -> Self {
        v
    }
    fn into_f32(self) -> f32 {
        self
    }
    fn into_f64(self) -> f64 {
        f64::from(self)
    }
}

impl StftFloat for f64 {
    fn cast_f64(v: f64) -> Self {
        v
    }
    fn cast_f32(v: f32) -> Self {
        f64::from(v)
    }
    fn into_f32(self) -> f32 {
        self as f32
    }
    fn into_f64(self) -> f64 {
        self
    }
}

/// How `center = true` pads the signal ends by `n_fft / 2` samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum PadMode {
    /// Zeros: librosa >= 0.10 (`pad_mode="constant"`).
    #[default]
    Constant,
    /// Mirror without repeating the edge sample (`numpy.pad(mode="reflect")`): librosa
    /// <= 0.9, including the 0.6.0 the DCASE 2020 baseline pinned.
    Reflect,
}

/// STFT parameters. `Default` is librosa's (`n_fft` 2048, hop 512, periodic Hann,
/// centred, zero padding).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct StftConfig {
    /// FFT size.
    pub n_fft: usize,
    /// Samples between frame starts.
    pub hop_length: usize,
    /// Window length (<= `n_fft`, centred in the frame); `None` = `n_fft`.
    pub win_length: Option<usize>,
    /// Window shape.
    pub window: WindowKind,
    /// Pad `n_fft / 2` samples at each end so that frame `t` is centred on `t * hop`.
    pub center: bool,
    /// Padding used when `center` is set.
    pub pad_mode: PadMode,
}

impl Default for StftConfig {
    fn default() -> Self {
        StftConfig {
            n_fft: 2048,
            hop_length: 512,
            win_length: None,
            window: WindowKind::Hann,
            center: true,
            pad_mode: PadMode::Constant,
        }
    }
}

impl StftConfig {
    /// `n_fft` and `hop_length` with the other defaults.
    pub fn new(n_fft: usize, hop_length: usize) -> Self {
        StftConfig {
            n_fft,
            hop_length,
            ..Default::default()
        }
    }

    /// Sets the window shape.
    pub fn window(mut self, window: WindowKind) -> Self {
        self.window = window;
        self
    }

    /// Sets the padding mode.
    pub fn pad_mode(mut self, pad_mode: PadMode) -> Self {
        self.pad_mode = pad_mode;
        self
    }

    /// Sets centring.
    pub fn center(mut self, center: bool) -> Self {
        self.center = center;
        self
    }

    /// Sets the window length.
    pub fn win_length(mut self, win_length: Option<usize>) -> Self {
        self.win_length = win_length;
        self
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// `n_fft < 2`, `hop_length == 0`, `win_length` of 0 or above `n_fft`.
    pub fn validate(&self) -> Result<(), DspError> {
        if self.n_fft < 2 {
            return Err(DspError::param("n_fft", self.n_fft, "must be >= 2"));
        }
        if self.n_fft > 1 << 24 {
            return Err(DspError::param("n_fft", self.n_fft, "must be <= 2^24"));
        }
        if self.hop_length == 0 {
            return Err(DspError::param("hop_length", 0, "must be >= 1"));
        }
        if let Some(w) = self.win_length
            && (w == 0 || w > self.n_fft)
        {
            return Err(DspError::param(
                "win_length",
                w,
                format!("must be in 1..={}", self.n_fft),
            ));
        }
        Ok(())
    }

    /// Frames for `n_samples` samples: `1 + n / hop` centred (even `n_fft`), else
    /// `1 + (n - n_fft) / hop` (0 when shorter than `n_fft`).
    pub fn num_frames(&self, n_samples: usize) -> usize {
        if self.hop_length == 0 {
            return 0;
        }
        if self.center {
            let padded = n_samples + 2 * (self.n_fft / 2);
            if padded < self.n_fft {
                0
            } else {
                1 + (padded - self.n_fft) / self.hop_length
            }
        } else if n_samples < self.n_fft {
            0
        } else {
            1 + (n_samples - self.n_fft) / self.hop_length
        }
    }

    /// Number of frequency bins, `n_fft / 2 + 1`.
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }
}

/// A planned STFT: FFT plan and window built once, scratch buffers owned, so
/// [`process`](Stft::process) allocates nothing. Cloning shares the plan and window.
///
/// ```
/// use aad_dsp::{Stft, StftConfig};
/// let mut stft = Stft::<f32>::new(StftConfig::new(1024, 512))?;
/// let x: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.2).sin()).collect();
/// let mut power = ndarray::Array2::zeros((stft.num_frames(x.len()), stft.n_bins()));
/// stft.power_into(&x, power.view_mut())?;
/// assert_eq!(power.dim(), (32, 513));
/// # Ok::<(), aad_dsp::DspError>(())
/// ```
pub struct Stft<T: StftFloat> {
    config: StftConfig,
    fft: Arc<dyn RealToComplex<T>>,
    cfft: Arc<dyn Fft<T>>,
    window: Arc<Aligned<T>>,
    frame: Vec<T>,
    spectrum: Vec<Complex<T>>,
    scratch: Vec<Complex<T>>,
    /// The pair buffers (and the window) are cache-line aligned, so that rustfft's and
    /// the dispatched loops' vector loads never straddle two lines.
    pair: Aligned<Complex<T>>,
    pair_scratch: Aligned<Complex<T>>,
    first: Aligned<Complex<T>>,
    second: Aligned<Complex<T>>,
    edge: Vec<f32>,
    edge2: Vec<f32>,
}

impl<T: StftFloat> fmt::Debug for Stft<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stft")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<T: StftFloat> Clone for Stft<T> {
    fn clone(&self) -> Self {
        Stft {
            config: self.config.clone(),
            fft: Arc::clone(&self.fft),
            cfft: Arc::clone(&self.cfft),
            window: Arc::clone(&self.window),
            frame: self.fft.make_input_vec(),
            spectrum: self.fft.make_output_vec(),
            scratch: self.fft.make_scratch_vec(),
            pair: self.pair.clone(),
            pair_scratch: self.pair_scratch.clone(),
            first: self.first.clone(),
            second: self.second.clone(),
            edge: Vec::with_capacity(self.config.n_fft),
            edge2: Vec::with_capacity(self.config.n_fft),
        }
    }
}

/// `numpy.pad(mode="reflect")` index for any integer position.
fn reflect_index(i: isize, len: usize) -> usize {
    if len == 1 {
        return 0;
    }
    let period = 2 * (len as isize - 1);
    let mut k = i.rem_euclid(period);
    if k >= len as isize {
        k = period - k;
    }
    k as usize
}

/// Fills `out` with `len` samples of `x` zero-extended on both sides, starting at
/// position `start` (negative before the signal), and returns the positions of `out`
/// that lie inside `x`. The inside part is copied as one slice: the low octaves of a CQT
/// have dozens of edge frames per clip, and a per-sample bounds test showed up.
///
/// ```
/// let mut out = Vec::new();
/// let inside = aad_dsp::zero_extended(&[1.0, 2.0, 3.0], -2, 4, &mut out);
/// assert_eq!(out, [0.0, 0.0, 1.0, 2.0]);
/// assert_eq!(inside, 2..4);
/// ```
pub fn zero_extended(
    x: &[f32],
    start: isize,
    len: usize,
    out: &mut Vec<f32>,
) -> std::ops::Range<usize> {
    let a = start.unsigned_abs().min(len) * usize::from(start < 0);
    let b = (x.len() as isize - start).clamp(a as isize, len as isize) as usize;
    out.clear();
    out.resize(len, 0.0);
    if a < b {
        let src = (start + a as isize) as usize;
        out[a..b].copy_from_slice(&x[src..src + (b - a)]);
    }
    a..b
}

impl<T: StftFloat> Stft<T> {
    /// Plans the FFT and builds the window.
    ///
    /// # Errors
    /// Invalid parameters (see [`StftConfig::validate`]).
    pub fn new(config: StftConfig) -> Result<Self, DspError> {
        config.validate()?;
        let fft = RealFftPlanner::<T>::new().plan_fft_forward(config.n_fft);
        let cfft = FftPlanner::<T>::new().plan_fft_forward(config.n_fft);
        let win_len = config.win_length.unwrap_or(config.n_fft);
        let w = pad_center(&window(config.window, win_len), config.n_fft);
        let mut window = Aligned::new(config.n_fft);
        for (d, &v) in window.iter_mut().zip(&w) {
            *d = T::cast_f64(v);
        }
        let window = Arc::new(window);
        let zero = Complex::new(T::default(), T::default());
        Ok(Stft {
            frame: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            pair: Aligned::filled(config.n_fft, zero),
            pair_scratch: Aligned::filled(cfft.get_inplace_scratch_len(), zero),
            first: Aligned::filled(config.n_fft / 2 + 1, zero),
            second: Aligned::filled(config.n_fft / 2 + 1, zero),
            edge: Vec::with_capacity(config.n_fft),
            edge2: Vec::with_capacity(config.n_fft),
            fft,
            cfft,
            window,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &StftConfig {
        &self.config
    }

    /// Number of frequency bins, `n_fft / 2 + 1`.
    pub fn n_bins(&self) -> usize {
        self.config.n_bins()
    }

    /// Frames produced for `n_samples` samples.
    pub fn num_frames(&self, n_samples: usize) -> usize {
        self.config.num_frames(n_samples)
    }

    /// The padded (not yet windowed) samples of frame `t`: a slice of `x` for interior
    /// frames, else `edge` filled with the padding rule.
    #[inline]
    fn raw_frame<'a>(&self, x: &'a [f32], t: usize, edge: &'a mut Vec<f32>) -> &'a [f32] {
        let n_fft = self.config.n_fft;
        let offset = if self.config.center {
            (n_fft / 2) as isize
        } else {
            0
        };
        let len = x.len();
        let start = (t * self.config.hop_length) as isize - offset;
        if start >= 0 && start as usize + n_fft <= len {
            return &x[start as usize..start as usize + n_fft];
        }
        let inside = zero_extended(x, start, n_fft, edge);
        if self.config.pad_mode == PadMode::Reflect {
            for (n, e) in edge.iter_mut().enumerate() {
                if !inside.contains(&n) {
                    *e = x[reflect_index(start + n as isize, len)];
                }
            }
        }
        edge
    }

    /// One frame through the real FFT into `self.spectrum`.
    fn single(&mut self, x: &[f32], t: usize) -> Result<(), DspError> {
        let mut edge = std::mem::take(&mut self.edge);
        let src = self.raw_frame(x, t, &mut edge);
        for ((d, &s), &w) in self.frame.iter_mut().zip(src).zip(self.window.iter()) {
            *d = T::cast_f32(s) * w;
        }
        self.edge = edge;
        self.fft
            .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch)
            .map_err(|e| DspError::param("fft", "", e.to_string()))
    }

    /// Computes every frame's spectrum and hands it to `f(frame_index, bins)`, in frame
    /// order. Returns the number of frames.
    ///
    /// Two consecutive real frames share one complex FFT (`a + i b`, separated by
    /// conjugate symmetry), which halves the FFT work. The separation leaks rounding
    /// error of the louder frame into the quieter one, so frames whose energies differ by
    /// more than 30 dB are transformed on their own.
    ///
    /// # Errors
    /// [`DspError::TooShort`] when no frame fits (only possible with `center = false`).
    ///
    /// # Allocation
    /// None.
    pub fn process(
        &mut self,
        x: &[f32],
        f: impl FnMut(usize, &[Complex<T>]),
    ) -> Result<usize, DspError> {
        let n_bins = self.n_bins();
        self.process_bins(x, 0..n_bins, f)
    }

    aad_core::simd_level_dispatch_method! {
        /// [`process`](Self::process) for callers that read only the bins in `bins`: the
        /// slice handed to `f` is still `n_bins` long, but only `bins` hold this frame's
        /// values (the rest are stale), which saves separating paired frames elsewhere.
        ///
        /// # Errors
        /// As [`process`](Self::process); also a range beyond `n_bins`.
        ///
        /// # Allocation
        /// None.
        pub fn process_bins / process_bins_avx512 / process_bins_avx2 => process_bins_impl(
            &mut self,
            x: &[f32],
            bins: std::ops::Range<usize>,
            f: impl FnMut(usize, &[Complex<T>]),
        ) -> Result<usize, DspError>
    }

    #[inline(always)]
    fn process_bins_impl(
        &mut self,
        x: &[f32],
        bins: std::ops::Range<usize>,
        mut f: impl FnMut(usize, &[Complex<T>]),
    ) -> Result<usize, DspError> {
        if bins.start > bins.end || bins.end > self.n_bins() {
            return Err(DspError::param(
                "bins",
                format!("{bins:?}"),
                format!("must lie within 0..{}", self.n_bins()),
            ));
        }
        // `spectrum` holds single frames' transforms, so paired ones go elsewhere.
        let (mut first, mut second) = (
            std::mem::take(&mut self.first),
            std::mem::take(&mut self.second),
        );
        let n_fft = self.config.n_fft;
        let result = self.process_raw_impl(x, |t, raw| match raw {
            Transformed::Single(spec) => f(t, spec),
            Transformed::Pair(pair) => {
                separate_pair(pair, n_fft, &bins, &mut first, &mut second);
                f(t, &first);
                f(t + 1, &second);
            }
        });
        self.first = first;
        self.second = second;
        result
    }

    aad_core::simd_level_dispatch_method! {
        /// Every frame's transform, unseparated: [`Transformed::Pair`] for frames `t` and
        /// `t + 1` transformed together (`f` is then called once for both), else
        /// [`Transformed::Single`]. For callers that read the two spectra in one sweep
        /// (see [`separate`]) instead of having them written out first.
        ///
        /// # Errors
        /// As [`process`](Self::process).
        ///
        /// # Allocation
        /// None.
        pub fn process_raw / process_raw_avx512 / process_raw_avx2 => process_raw_impl(
            &mut self,
            x: &[f32],
            f: impl FnMut(usize, Transformed<'_, T>),
        ) -> Result<usize, DspError>
    }

    #[inline(always)]
    fn process_raw_impl(
        &mut self,
        x: &[f32],
        mut f: impl FnMut(usize, Transformed<'_, T>),
    ) -> Result<usize, DspError> {
        let n_frames = self.num_frames(x.len());
        if n_frames == 0 {
            return Err(DspError::TooShort {
                samples: x.len(),
                need: self.config.n_fft,
                n_fft: self.config.n_fft,
            });
        }
        let mut t = 0;
        while t < n_frames {
            if t + 1 == n_frames {
                self.single(x, t)?;
                f(t, Transformed::Single(&self.spectrum));
                break;
            }
            let mut pair = std::mem::take(&mut self.pair);
            if !self.window_pair(x, t, &mut pair) {
                self.pair = pair;
                self.single(x, t)?;
                f(t, Transformed::Single(&self.spectrum));
                self.single(x, t + 1)?;
                f(t + 1, Transformed::Single(&self.spectrum));
                t += 2;
                continue;
            }
            self.cfft
                .process_with_scratch(&mut pair, &mut self.pair_scratch);
            f(t, Transformed::Pair(&pair));
            self.pair = pair;
            t += 2;
        }
        Ok(n_frames)
    }

    /// Frames `t` and `t + 1`, windowed, packed as the real and imaginary parts of `pair`
    /// (one complex FFT computes both). Returns whether their energies are within a
    /// factor 1000 of each other; when not, the quiet frame would lose precision to the
    /// loud one, and the caller transforms them one at a time.
    #[inline(always)]
    fn window_pair(&mut self, x: &[f32], t: usize, pair: &mut [Complex<T>]) -> bool {
        let ratio = T::cast_f64(1000.0);
        let zero = T::default();
        let (mut edge_a, mut edge_b) = (
            std::mem::take(&mut self.edge),
            std::mem::take(&mut self.edge2),
        );
        let a = self.raw_frame(x, t, &mut edge_a);
        let b = self.raw_frame(x, t + 1, &mut edge_b);
        for (((p, &sa), &sb), &w) in pair.iter_mut().zip(a).zip(b).zip(self.window.iter()) {
            *p = Complex::new(T::cast_f32(sa) * w, T::cast_f32(sb) * w);
        }
        let (ea, eb) = (energy(a, &self.window), energy(b, &self.window));
        self.edge = edge_a;
        self.edge2 = edge_b;
        (ea == zero && eb == zero) || (ea <= eb * ratio && eb <= ea * ratio)
    }

    /// Power spectrogram `|X|^2` into `out` (`frames x bins`).
    ///
    /// With `T = f64` the spectrum is rounded to complex float32 and its magnitude taken
    /// as numpy takes `abs` of complex64 (`hypotf`), then squared in float32: librosa's
    /// `np.abs(stft(y)) ** 2` bit for bit up to FFT rounding. With `T = f32` it is
    /// `re² + im²` in float32.
    ///
    /// # Errors
    /// A wrong output shape, or a signal too short.
    pub fn power_into(&mut self, x: &[f32], out: ArrayViewMut2<'_, f32>) -> Result<(), DspError> {
        self.map_into(x, out, power_of)
    }

    /// Magnitude spectrogram `|X|` into `out` (`frames x bins`), rounded as
    /// [`power_into`](Self::power_into) describes.
    ///
    /// # Errors
    /// A wrong output shape, or a signal too short.
    pub fn magnitude_into(
        &mut self,
        x: &[f32],
        out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), DspError> {
        self.map_into(x, out, magnitude_of)
    }

    /// Writes `f` of every spectrum value into `out` (`frames x bins`).
    fn map_into(
        &mut self,
        x: &[f32],
        mut out: ArrayViewMut2<'_, f32>,
        f: impl Fn(Complex<T>) -> f32,
    ) -> Result<(), DspError> {
        check_output_shape(out.dim(), (self.num_frames(x.len()), self.n_bins()))?;
        self.process(x, |t, spec| {
            let mut row = out.row_mut(t);
            match row.as_slice_mut() {
                Some(r) => r.iter_mut().zip(spec).for_each(|(o, c)| *o = f(*c)),
                None => row.iter_mut().zip(spec).for_each(|(o, c)| *o = f(*c)),
            }
        })?;
        Ok(())
    }
}

/// What [`Stft::process_raw`] hands over.
#[derive(Debug, Clone, Copy)]
pub enum Transformed<'a, T> {
    /// One frame's real FFT, `n_fft / 2 + 1` bins.
    Single(&'a [Complex<T>]),
    /// The complex FFT (`n_fft` values) of frames `t` and `t + 1` packed as `a + i b`:
    /// bin `k` of each is [`separate`]`(z[k], z[(n_fft - k) % n_fft])`.
    Pair(&'a [Complex<T>]),
}

/// Bin `k` of the two real frames packed in a complex FFT, from `z = Z[k]` and
/// `c = Z[n_fft - k]` (`Z[0]` for `k = 0`): `((z + conj c) / 2, (z - conj c) / 2i)`.
/// Exactly the values [`Stft::process`] hands out for paired frames.
#[inline(always)]
pub fn separate<T: StftFloat>(z: Complex<T>, c: Complex<T>) -> (Complex<T>, Complex<T>) {
    let zero = T::default();
    let half = T::cast_f64(0.5);
    let c = c.conj();
    let (s, d) = (z + c, z - c);
    (
        Complex::new(s.re * half, s.im * half),
        Complex::new(d.im * half, zero - d.re * half),
    )
}

/// The two real spectra in the bins `bins` out of the transformed `pair`: the first
/// frame's into `first`, the second's into `second`.
#[inline(always)]
fn separate_pair<T: StftFloat>(
    pair: &[Complex<T>],
    n_fft: usize,
    bins: &std::ops::Range<usize>,
    first: &mut [Complex<T>],
    second: &mut [Complex<T>],
) {
    // Bin 0 pairs with itself, bin k with bin n_fft - k.
    let (b0, b1) = (bins.start.max(1), bins.end.max(1));
    if bins.start == 0 {
        (first[0], second[0]) = separate(pair[0], pair[0]);
    }
    let lo = &pair[b0..b1];
    let hi = &pair[n_fft + 1 - b1..n_fft + 1 - b0];
    for (((z, c), a), b) in lo
        .iter()
        .zip(hi.iter().rev())
        .zip(first[b0..b1].iter_mut())
        .zip(second[b0..b1].iter_mut())
    {
        (*a, *b) = separate(*z, *c);
    }
}

/// Energy of the windowed frame `x * w` (the values a pair packs), with 16 partial sums
/// so the loop vectorises over the contiguous samples (only compared against another
/// frame's, so the summation order does not matter; summed over the packed complex
/// values, the loop spent its time taking them apart).
#[inline(always)]
fn energy<T: StftFloat>(x: &[f32], w: &[T]) -> T {
    let zero = T::default();
    let mut acc = [zero; 16];
    let (xs, xr) = x.as_chunks::<16>();
    let (ws, wr) = w.as_chunks::<16>();
    for (c, w) in xs.iter().zip(ws) {
        for l in 0..16 {
            let v = T::cast_f32(c[l]) * w[l];
            acc[l] = acc[l] + v * v;
        }
    }
    let mut e = zero;
    for a in acc {
        e = e + a;
    }
    for (&c, &w) in xr.iter().zip(wr) {
        let v = T::cast_f32(c) * w;
        e = e + v * v;
    }
    e
}

/// `abs` of a complex64 as numpy computes it (`hypotf`, which glibc evaluates in double).
#[inline]
pub fn abs_c32(re: f32, im: f32) -> f32 {
    let (r, i) = (f64::from(re), f64::from(im));
    (r * r + i * i).sqrt() as f32
}

/// Magnitude of a spectrum value: librosa's rounding for f64, plain f32 otherwise.
#[inline]
pub fn magnitude_of<T: StftFloat>(c: Complex<T>) -> f32 {
    abs_c32(c.re.into_f32(), c.im.into_f32())
}

/// Power of a spectrum value (see [`Stft::power_into`]).
#[inline]
pub fn power_of<T: StftFloat>(c: Complex<T>) -> f32 {
    if std::mem::size_of::<T>() == 4 {
        let (re, im) = (c.re.into_f32(), c.im.into_f32());
        re * re + im * im
    } else {
        let m = magnitude_of(c);
        m * m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_frames_follow_the_padding_rule_sample_by_sample() {
        for mode in [PadMode::Constant, PadMode::Reflect] {
            for (n_fft, hop) in [(8, 2), (16, 5), (64, 16)] {
                for len in [1usize, 3, 7, 8, 9, 20, 33, 100] {
                    let x: Vec<f32> = (0..len).map(|i| i as f32 + 1.0).collect();
                    let stft = Stft::<f32>::new(StftConfig::new(n_fft, hop).pad_mode(mode))
                        .unwrap_or_else(|e| panic!("{e}"));
                    let mut edge = Vec::new();
                    for t in 0..stft.num_frames(len) {
                        let start = (t * hop) as isize - (n_fft / 2) as isize;
                        let want: Vec<f32> = (0..n_fft as isize)
                            .map(|n| {
                                let i = start + n;
                                if (0..len as isize).contains(&i) {
                                    x[i as usize]
                                } else if mode == PadMode::Reflect {
                                    x[reflect_index(i, len)]
                                } else {
                                    0.0
                                }
                            })
                            .collect();
                        let got = stft.raw_frame(&x, t, &mut edge);
                        assert_eq!(got, &want[..], "{mode:?} {n_fft}/{hop} len {len} t {t}");
                    }
                }
            }
        }
    }

    #[test]
    fn reflect_index_mirrors_without_repeating_the_edge() {
        // numpy.pad([0, 1, 2, 3], 5, mode="reflect") -> 1 2 3 2 1 | 0 1 2 3 | 2 1 0 1 2
        let got: Vec<usize> = (-5..9).map(|i| reflect_index(i, 4)).collect();
        assert_eq!(got, vec![1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2]);
        assert_eq!(reflect_index(-3, 1), 0);
    }

    #[test]
    fn frame_counts_match_librosa() {
        let c = StftConfig::new(1024, 512);
        for n in [160_000, 159_999, 160_007] {
            assert_eq!(c.num_frames(n), 313, "{n}");
        }
        assert_eq!(c.num_frames(1), 1);
        let nc = c.clone().center(false);
        assert_eq!(nc.num_frames(1023), 0);
        assert_eq!(nc.num_frames(1024), 1);
        assert_eq!(nc.num_frames(1536), 2);
    }

    #[test]
    fn invalid_configs_are_rejected_with_the_value() {
        assert!(Stft::<f32>::new(StftConfig::new(1, 1)).is_err());
        let e = Stft::<f32>::new(StftConfig::new(1024, 0)).unwrap_err();
        assert!(e.to_string().contains("hop_length = 0"), "{e}");
        assert!(Stft::<f32>::new(StftConfig::new(512, 128).win_length(Some(600))).is_err());
    }

    #[test]
    fn raw_pairs_separate_into_exactly_the_processed_spectra() {
        // Silence from a frame edge on, so frames are both paired and single.
        let x: Vec<f32> = (0..9_000)
            .map(|i| {
                let v = (i as f32 * 0.37).sin() + 0.3 * (i as f32 * 2.9).cos();
                if (2_872..5_000).contains(&i) { 0.0 } else { v }
            })
            .collect();
        let mut stft = Stft::<f64>::new(StftConfig::new(512, 128)).unwrap();
        let n_fft = 512;
        let mut want = Vec::new();
        stft.process(&x, |t, s| want.push((t, s.to_vec()))).unwrap();
        let (mut got, mut kinds) = (Vec::new(), [0usize; 2]);
        stft.process_raw(&x, |t, raw| match raw {
            Transformed::Single(s) => {
                kinds[0] += 1;
                got.push((t, s.to_vec()));
            }
            Transformed::Pair(z) => {
                kinds[1] += 1;
                let (a, b): (Vec<_>, Vec<_>) = (0..=n_fft / 2)
                    .map(|k| separate(z[k], z[(n_fft - k) % n_fft]))
                    .unzip();
                got.push((t, a));
                got.push((t + 1, b));
            }
        })
        .unwrap();
        assert!(kinds[0] > 1 && kinds[1] > 1, "{kinds:?}");
        assert_eq!(got.len(), want.len());
        for ((tg, g), (tw, w)) in got.iter().zip(&want) {
            assert_eq!(tg, tw);
            assert!(
                g.iter()
                    .zip(w)
                    .all(|(a, b)| a.re.to_bits() == b.re.to_bits()
                        && a.im.to_bits() == b.im.to_bits()),
                "frame {tg}"
            );
        }
    }
}
