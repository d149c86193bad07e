//! Features over numpy arrays, in librosa's layout (`[bins, frames]`, float32; the STFT
//! complex64).

use aad_core::{FeatureExtractor, Signal};
use aad_dsp::{PadMode, Stft, StftConfig, WindowKind, log10_fast};
use cens_features::{
    C1_HZ, CensConfig, CensExtractor, ChromaCqtConfig, ChromaCqtExtractor, ChromaNorm,
    ChromaStftConfig, ChromaStftExtractor, PiptrackParams, Tuning, TuningEstimator,
    estimate_tuning_from_spectrogram,
};
use mel_features::{
    LogScale, MelConfig, MelExtractor, MelNorm, MelScale, MfccConfig, MfccExtractor,
};
use ndarray::{Array2, ArrayD};
use numpy::{
    Complex32, IntoPyArray, PyArray1, PyArray2, PyArrayDyn, PyReadonlyArray1, PyReadonlyArray2,
    PyReadonlyArrayDyn,
};
use pyo3::prelude::*;
use std::any::Any;
use std::sync::Mutex;

use crate::errors::{file, param};

/// Adds the feature functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(stft, m)?)?;
    m.add_function(wrap_pyfunction!(melspectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(mfcc, m)?)?;
    m.add_function(wrap_pyfunction!(chroma_stft, m)?)?;
    m.add_function(wrap_pyfunction!(chroma_cqt, m)?)?;
    m.add_function(wrap_pyfunction!(chroma_cens, m)?)?;
    m.add_function(wrap_pyfunction!(estimate_tuning, m)?)?;
    m.add_function(wrap_pyfunction!(estimate_tuning_spectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(power_to_db, m)?)?;
    m.add_function(wrap_pyfunction!(power_to_db_f64, m)?)?;
    Ok(())
}

/// The samples of a 1-D float32 array, copied so the GIL can be released.
fn samples(y: &PyReadonlyArray1<'_, f32>) -> Vec<f32> {
    y.as_array().to_vec()
}

/// A checked signal (finite, non-empty, supported rate).
fn signal(y: Vec<f32>, sr: u32) -> PyResult<Signal> {
    Signal::new(y, sr).map_err(param)
}

/// frames x dims -> librosa's `[dims, frames]`, C-contiguous.
fn librosa_layout(py: Python<'_>, m: Array2<f32>) -> Bound<'_, PyArray2<f32>> {
    m.reversed_axes()
        .as_standard_layout()
        .into_owned()
        .into_pyarray(py)
}

fn window_kind(window: &str) -> PyResult<WindowKind> {
    match window {
        "hann" => Ok(WindowKind::Hann),
        "ones" => Ok(WindowKind::Ones),
        other => Err(param(format!("window {other:?}: hann or ones"))),
    }
}

fn pad_mode(mode: &str) -> PyResult<PadMode> {
    match mode {
        "constant" => Ok(PadMode::Constant),
        "reflect" => Ok(PadMode::Reflect),
        other => Err(param(format!("pad_mode {other:?}: constant or reflect"))),
    }
}

fn chroma_norm(norm: &str) -> PyResult<ChromaNorm> {
    match norm {
        "inf" => Ok(ChromaNorm::Inf),
        "1" => Ok(ChromaNorm::L1),
        "2" => Ok(ChromaNorm::L2),
        "none" => Ok(ChromaNorm::None),
        other => Err(param(format!("norm {other:?}: inf, 1, 2 or None"))),
    }
}

fn tuning(t: Option<f64>) -> Tuning {
    t.map_or(Tuning::Estimate, Tuning::Fixed)
}

fn stft_config(
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    window: &str,
    center: bool,
    pad: &str,
) -> PyResult<StftConfig> {
    let c = StftConfig::new(n_fft, hop_length)
        .win_length(win_length)
        .window(window_kind(window)?)
        .center(center)
        .pad_mode(pad_mode(pad)?);
    c.validate().map_err(param)?;
    Ok(c)
}

/// Planned extractors of recent calls, keyed by their configuration: planning (FFT plans,
/// filterbanks, CQT kernels) costs more than extracting a 10 s clip, and a Python caller
/// repeats the same parameters. An entry is taken out while in use, so concurrent calls
/// never share one (a second is planned instead).
static PLANS: Mutex<Vec<(String, Box<dyn Any + Send>)>> = Mutex::new(Vec::new());

/// Plans kept (the most recently used).
const PLANS_KEPT: usize = 16;

fn take_plan<E: Any + Send>(key: &str) -> Option<E> {
    let mut plans = PLANS.lock().ok()?;
    let i = plans.iter().position(|(k, p)| k == key && p.is::<E>())?;
    plans.remove(i).1.downcast::<E>().ok().map(|b| *b)
}

fn keep_plan<E: Any + Send>(key: String, plan: E) {
    if let Ok(mut plans) = PLANS.lock() {
        plans.insert(0, (key, Box::new(plan)));
        plans.truncate(PLANS_KEPT);
    }
}

/// Any extractor's planning or extraction error, as the Python exception's message.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Runs the extractor planned for `cfg` (from the cache, or planned now) with the GIL
/// released.
fn run<'py, C, E>(
    py: Python<'py>,
    cfg: C,
    plan: impl FnOnce(C) -> Result<E, BoxError> + Send,
    s: Signal,
) -> PyResult<Bound<'py, PyArray2<f32>>>
where
    C: std::fmt::Debug + Send,
    E: FeatureExtractor + Any + Send,
    E::Error: std::fmt::Display,
{
    let key = format!("{}:{cfg:?}", std::any::type_name::<E>());
    let m = py.detach(move || -> Result<Array2<f32>, BoxError> {
        let mut fx = match take_plan::<E>(&key) {
            Some(fx) => fx,
            None => plan(cfg)?,
        };
        let m = fx.extract(&s).map_err(|e| e.to_string().into());
        keep_plan(key, fx);
        m
    });
    Ok(librosa_layout(py, m.map_err(param)?))
}

/// `load(path, channel)`: decodes a file at its own rate; `channel` is an index or
/// `"mean"`. Returns `(y, sr)`.
#[pyfunction]
fn load<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    channel: &str,
) -> PyResult<(Bound<'py, PyArray1<f32>>, u32)> {
    let policy: aad_audio::ChannelPolicy = channel.parse().map_err(param)?;
    let opts = aad_audio::DecodeOptions::default().channel(policy);
    let s = py
        .detach(|| aad_audio::decode_file(&path, &opts))
        .map_err(file)?;
    let sr = s.sample_rate();
    Ok((s.into_samples().into_pyarray(py), sr))
}

/// The complex STFT, `[1 + n_fft/2, frames]` complex64.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn stft<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    window: &str,
    center: bool,
    pad_mode: &str,
) -> PyResult<Bound<'py, PyArray2<Complex32>>> {
    let cfg = stft_config(n_fft, hop_length, win_length, window, center, pad_mode)?;
    let x = signal(samples(&y), 1_000)?.into_samples();
    let out = py.detach(move || -> Result<Array2<Complex32>, aad_dsp::DspError> {
        let mut st = Stft::<f32>::new(cfg)?;
        let mut out = Array2::zeros((st.n_bins(), st.num_frames(x.len())));
        st.process(&x, |t, bins| {
            for (o, b) in out.column_mut(t).iter_mut().zip(bins) {
                *o = *b;
            }
        })?;
        Ok(out)
    });
    Ok(out.map_err(param)?.into_pyarray(py))
}

#[allow(clippy::too_many_arguments)]
fn mel_config(
    sr: u32,
    stft: StftConfig,
    power: f32,
    n_mels: usize,
    fmin: f64,
    fmax: Option<f64>,
    htk: bool,
    slaney_norm: bool,
) -> MelConfig {
    let mut c = MelConfig::default()
        .sample_rate(sr)
        .stft(stft)
        .n_mels(n_mels)
        .freq_range(fmin, fmax)
        .scale(
            if htk { MelScale::Htk } else { MelScale::Slaney },
            if slaney_norm {
                MelNorm::Slaney
            } else {
                MelNorm::None
            },
        )
        .log(LogScale::None)
        .context(1);
    c.power = power;
    c
}

/// `feature.melspectrogram`, `[n_mels, frames]`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn melspectrogram<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    sr: u32,
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    window: &str,
    center: bool,
    pad_mode: &str,
    power: f32,
    n_mels: usize,
    fmin: f64,
    fmax: Option<f64>,
    htk: bool,
    slaney_norm: bool,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let st = stft_config(n_fft, hop_length, win_length, window, center, pad_mode)?;
    let cfg = mel_config(sr, st, power, n_mels, fmin, fmax, htk, slaney_norm);
    let s = signal(samples(&y), sr)?;
    run(py, cfg, |c| MelExtractor::new(c).map_err(BoxError::from), s)
}

/// `feature.mfcc` (DCT-II, orthonormal, no liftering) of `power_to_db(melspectrogram)`,
/// `[n_mfcc, frames]`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn mfcc<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    sr: u32,
    n_mfcc: usize,
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    window: &str,
    center: bool,
    pad_mode: &str,
    power: f32,
    n_mels: usize,
    fmin: f64,
    fmax: Option<f64>,
    htk: bool,
    slaney_norm: bool,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let st = stft_config(n_fft, hop_length, win_length, window, center, pad_mode)?;
    let mut cfg = MfccConfig::default();
    cfg.mel =
        mel_config(sr, st, power, n_mels, fmin, fmax, htk, slaney_norm).log(LogScale::POWER_TO_DB);
    cfg.n_mfcc = n_mfcc;
    let s = signal(samples(&y), sr)?;
    run(
        py,
        cfg,
        |c| MfccExtractor::new(c).map_err(BoxError::from),
        s,
    )
}

/// `feature.chroma_stft`, `[n_chroma, frames]`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn chroma_stft<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    sr: u32,
    n_fft: usize,
    hop_length: usize,
    win_length: Option<usize>,
    window: &str,
    center: bool,
    pad_mode: &str,
    tuning: Option<f64>,
    n_chroma: usize,
    norm: &str,
    ctroct: f64,
    octwidth: Option<f64>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let mut cfg = ChromaStftConfig::with_sample_rate(sr).tuning(self::tuning(tuning));
    cfg.stft = stft_config(n_fft, hop_length, win_length, window, center, pad_mode)?;
    cfg.n_chroma = n_chroma;
    cfg.norm = chroma_norm(norm)?;
    cfg.ctroct = ctroct;
    cfg.octwidth = octwidth;
    let s = signal(samples(&y), sr)?;
    run(
        py,
        cfg,
        |c| ChromaStftExtractor::new(c).map_err(BoxError::from),
        s,
    )
}

#[allow(clippy::too_many_arguments)]
fn chroma_cqt_config(
    sr: u32,
    hop_length: usize,
    fmin: Option<f64>,
    tuning: Option<f64>,
    n_chroma: usize,
    n_octaves: usize,
    bins_per_octave: usize,
) -> ChromaCqtConfig {
    let mut cfg = ChromaCqtConfig::with_sample_rate(sr);
    cfg.cqt = cfg
        .cqt
        .hop_length(hop_length)
        .bins(fmin.unwrap_or(C1_HZ), n_octaves, bins_per_octave)
        .tuning(self::tuning(tuning));
    cfg.n_chroma = n_chroma;
    cfg
}

/// `feature.chroma_cqt`, `[n_chroma, frames]`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn chroma_cqt<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    sr: u32,
    hop_length: usize,
    fmin: Option<f64>,
    norm: &str,
    threshold: f32,
    tuning: Option<f64>,
    n_chroma: usize,
    n_octaves: usize,
    bins_per_octave: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let mut cfg = chroma_cqt_config(
        sr,
        hop_length,
        fmin,
        tuning,
        n_chroma,
        n_octaves,
        bins_per_octave,
    );
    cfg.threshold = threshold;
    cfg.norm = chroma_norm(norm)?;
    let s = signal(samples(&y), sr)?;
    run(
        py,
        cfg,
        |c| ChromaCqtExtractor::new(c).map_err(BoxError::from),
        s,
    )
}

/// `feature.chroma_cens`, `[n_chroma, frames]`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn chroma_cens<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    sr: u32,
    hop_length: usize,
    fmin: Option<f64>,
    tuning: Option<f64>,
    n_chroma: usize,
    n_octaves: usize,
    bins_per_octave: usize,
    norm: &str,
    win_len_smooth: Option<usize>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let chroma = chroma_cqt_config(
        sr,
        hop_length,
        fmin,
        tuning,
        n_chroma,
        n_octaves,
        bins_per_octave,
    );
    let mut cfg = CensConfig::librosa(sr)
        .chroma(chroma)
        .smoothing(win_len_smooth);
    cfg.norm = chroma_norm(norm)?;
    let s = signal(samples(&y), sr)?;
    run(
        py,
        cfg,
        |c| CensExtractor::new(c).map_err(BoxError::from),
        s,
    )
}

/// `estimate_tuning(y=y, sr=sr, bins_per_octave=b)` (n_fft 2048, resolution 0.01):
/// (tuning, pitches in the histogram; 0 is librosa's empty-set case).
#[pyfunction]
fn estimate_tuning(
    py: Python<'_>,
    y: PyReadonlyArray1<'_, f32>,
    sr: u32,
    bins_per_octave: u32,
) -> PyResult<(f64, usize)> {
    if bins_per_octave == 0 {
        return Err(param("bins_per_octave must be >= 1"));
    }
    let s = signal(samples(&y), sr)?;
    py.detach(move || {
        let mut t = TuningEstimator::new(bins_per_octave, false).map_err(|e| e.to_string())?;
        let tuning = t
            .estimate(s.samples(), f64::from(sr))
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((tuning, t.last_pitch_count()))
    })
    .map_err(param)
}

/// `estimate_tuning(S=S, sr=sr, bins_per_octave=b)` on a `[bins, frames]` magnitude or
/// power spectrogram (n_fft = 2 (bins - 1)).
#[pyfunction]
fn estimate_tuning_spectrogram(
    py: Python<'_>,
    s: PyReadonlyArray2<'_, f32>,
    sr: u32,
    bins_per_octave: u32,
) -> PyResult<f64> {
    let spec = s.as_array().t().as_standard_layout().into_owned();
    if spec.ncols() < 2 || bins_per_octave == 0 || sr == 0 {
        return Err(param(
            "S needs at least 2 frequency bins; sr and bins_per_octave must be >= 1",
        ));
    }
    if spec.iter().any(|v| !v.is_finite()) {
        return Err(param("S holds a value that is not finite"));
    }
    let n_fft = 2 * (spec.ncols() - 1);
    Ok(py.detach(move || {
        estimate_tuning_from_spectrogram(
            spec.view(),
            f64::from(sr),
            n_fft,
            bins_per_octave,
            PiptrackParams::default(),
        )
    }))
}

/// `power_to_db(S, ref=ref_value, amin, top_db)` in float32, as the log-Mel extractors
/// compute it.
#[pyfunction]
fn power_to_db<'py>(
    py: Python<'py>,
    s: PyReadonlyArrayDyn<'py, f32>,
    ref_value: f64,
    amin: f64,
    top_db: Option<f64>,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    if !(amin > 0.0 && amin.is_finite()) {
        return Err(param(format!("amin {amin} must be strictly positive")));
    }
    if top_db.is_some_and(|t| t.is_nan() || t < 0.0) {
        return Err(param("top_db must be non-negative"));
    }
    let mut x: ArrayD<f32> = s.as_array().to_owned();
    if x.iter().any(|v| !v.is_finite()) {
        return Err(param("S holds a value that is not finite"));
    }
    let out = py.detach(move || {
        let amin32 = amin as f32;
        let offset = (10.0 * amin.max(ref_value.abs()).log10()) as f32;
        x.iter_mut()
            .for_each(|v| *v = 10.0 * log10_fast(v.abs().max(amin32)) - offset);
        if let Some(top) = top_db {
            let floor = x.iter().copied().fold(f32::NEG_INFINITY, f32::max) - top as f32;
            x.iter_mut().for_each(|v| *v = v.max(floor));
        }
        x
    });
    Ok(out.into_pyarray(py))
}

/// `power_to_db` in float64 (librosa's precision for float64 and integer input).
#[pyfunction]
fn power_to_db_f64<'py>(
    py: Python<'py>,
    s: PyReadonlyArrayDyn<'py, f64>,
    ref_value: f64,
    amin: f64,
    top_db: Option<f64>,
) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    if !(amin > 0.0 && amin.is_finite()) {
        return Err(param(format!("amin {amin} must be strictly positive")));
    }
    if top_db.is_some_and(|t| t.is_nan() || t < 0.0) {
        return Err(param("top_db must be non-negative"));
    }
    let mut x: ArrayD<f64> = s.as_array().to_owned();
    if x.iter().any(|v| !v.is_finite()) {
        return Err(param("S holds a value that is not finite"));
    }
    let out = py.detach(move || {
        let offset = 10.0 * amin.max(ref_value.abs()).log10();
        x.iter_mut()
            .for_each(|v| *v = 10.0 * v.abs().max(amin).log10() - offset);
        if let Some(top) = top_db {
            let floor = x.iter().copied().fold(f64::NEG_INFINITY, f64::max) - top;
            x.iter_mut().for_each(|v| *v = v.max(floor));
        }
        x
    });
    Ok(out.into_pyarray(py))
}
