//! Why a clip scored as it did: which band, which statistic, when, and what kind of
//! change, read from the detector's own arithmetic (not a second detector).
//!
//! For a kNN on clip summaries (`knn_msm`, the default, and its kin) the score is the
//! distance from the clip's summary (per feature band: the time mean, standard deviation
//! and maximum) to its nearest normal clips. [`explain`] splits that distance by band and
//! statistic ([`aad_models::classical::Knn::breakdown`]), names the band that carries
//! most of it, the statistic that carries it there (the mean: a level or a tone; the
//! standard deviation: fluctuation; the maximum: a transient such as a click), finds the
//! frames whose values in that band depart most from the neighbours' (the time span),
//! and says it in one sentence.
//!
//! For an autoencoder scored by its mean squared error (`ae`, `ae_dcase`, `ae_mimii`,
//! `ae_seed`, `ae_cens`, `idnn`) the score is the clip's reconstruction error:
//! [`aad_models::Autoencoder::breakdown`] puts each output's error back on the frame and
//! row it reconstructs; the band is the one carrying most of it, the span the frames
//! where that band's error stands out from its median in the clip, and the kind tells a
//! band error concentrated in a few frames (a transient) from one confined to a band
//! (tonal) or spread over many (broadband).
//!
//! With the signal at hand, a level change or a fluctuation whose band holds a fast train
//! of short events in the waveform (a click on every revolution, one in every frame, so
//! that the features see a steady level) is a transient too ([`PulseTrain`]).

use aad_core::{FeatureExtractor, Signal};
use aad_dsp::PadMode;
use aad_models::AnyDetector;
use aad_models::Representation;
use ndarray::ArrayView2;

use crate::cycle::{self, BANDS, band_level, band_rows, median};
use crate::model::{Model, ModelFileError};
use crate::registry::FeatureKind;

mod pulse;
pub use crate::cycle::CycleBreak;
pub use pulse::PulseTrain;

/// The statistic of a band that carries a distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// The band's time mean: a level or a tone.
    Mean,
    /// The band's standard deviation over time: fluctuation.
    Std,
    /// The band's maximum over time: a transient.
    Max,
    /// An autoencoder's reconstruction error.
    Error,
}

/// What kind of change the numbers point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A narrow band's level changed: a new or changed tone (a hum, a whine).
    Tonal,
    /// The level changed over a wide range of bands.
    BroadbandLevel,
    /// Short events: a band's maximum departs more than its mean (a click, a knock).
    Transient,
    /// A band's level fluctuates more (or less) than normal.
    Fluctuation,
}

impl Kind {
    /// The word used in tables and CSV columns.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Tonal => "tonal",
            Kind::BroadbandLevel => "broadband level",
            Kind::Transient => "transient",
            Kind::Fluctuation => "fluctuation",
        }
    }
}

/// One band's share of the distance.
#[derive(Debug, Clone, PartialEq)]
pub struct BandShare {
    /// The feature rows the band groups (`start..end`).
    pub rows: std::ops::Range<usize>,
    /// Lowest frequency of the band, Hz (row index for features without one).
    pub lo_hz: f64,
    /// Highest frequency of the band, Hz (row index for features without one).
    pub hi_hz: f64,
    /// Shares of the squared distance carried by the band's mean, standard deviation and
    /// maximum (all bands' shares sum to 1).
    pub mean: f64,
    /// See `mean`.
    pub std: f64,
    /// See `mean`.
    pub max: f64,
    /// The share of an autoencoder's reconstruction error (0 for the kNN detectors, whose
    /// shares are in `mean`, `std` and `max`).
    pub error: f64,
    /// The clip's band mean minus the normal clips', in the feature's units (dB for the
    /// log-Mel features).
    pub mean_change: f64,
    /// The same for the band's standard deviation over time (0 when the summary has
    /// none).
    pub std_change: f64,
    /// The same for the band's maximum over time (0 when the summary has none).
    pub max_change: f64,
}

impl BandShare {
    fn total(&self) -> f64 {
        self.mean + self.std + self.max + self.error
    }
}

/// Why a clip scored as it did.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The clip's score, from the same computation as the model's (bit for bit).
    pub score: f64,
    /// Every band, low to high.
    pub bands: Vec<BandShare>,
    /// The band carrying most of the distance.
    pub band: usize,
    /// The statistic carrying most of that band's share.
    pub statistic: Statistic,
    /// The kind of change.
    pub kind: Kind,
    /// Where in the clip the band departs most from normal, seconds. The frames at either
    /// end that are partly zero padding (a centred STFT's first and last) are left out:
    /// they are low in every clip.
    pub span_s: (f64, f64),
    /// Per frame, how far the band departs from the normal clips: the largest over its
    /// rows of the distance from their mean, in their standard deviations, counted in the
    /// direction the statistic moved (up for risen peaks or a risen mean, down for a
    /// fallen mean, either way for a spread or fallen peaks; 0 for a frame that moved the
    /// other way). For an autoencoder or a frame-level kNN: the band's error over its
    /// normal error.
    pub departure: Vec<f64>,
    /// Where the band's repeating events (a valve's clicks) break: an event due one
    /// period from its neighbours did not come. When found, the kind is
    /// [`Kind::Transient`] and the span is where the event was due: a missing event
    /// leaves frames like the normal quiet between events, which no frame-by-frame
    /// departure can place. Read for the kNN detectors on clip summaries with a log-Mel
    /// feature, when the band's events are the normal clips' own (their peaks did not
    /// rise); `None` otherwise.
    pub cycle: Option<CycleBreak>,
    /// The fast train of short events in the band (a click on every revolution), read
    /// from 2 s of the waveform around the span. A train of 16 or more events a second
    /// puts an event in every 64 ms analysis frame, so the features see a steady level;
    /// when the kind would otherwise be a level change or a fluctuation and three in four
    /// of the band's 100 ms windows hold a peak 8 times their median power, the kind is
    /// [`Kind::Transient`]. Read for log-Mel features when the signal is at hand
    /// ([`explain_signal`], [`explain_with_signal`], [`explain_window`], [`explain_files`];
    /// not [`explain`], which has the features only), by every detector explained;
    /// `None` otherwise.
    pub pulses: Option<PulseTrain>,
    /// One plain sentence.
    pub sentence: String,
}

/// Explains a clip's features (`frames x dims` of the model's feature) by the model's
/// detector.
///
/// # Errors
/// A detector without a breakdown yet (explanations cover the kNN detectors on clip
/// summaries), or a clip the detector cannot read.
pub fn explain(
    model: &Model,
    features: ArrayView2<'_, f32>,
) -> Result<Explanation, ModelFileError> {
    explain_at(model, features, 0.0, None)
}

/// As [`explain`], for the features of `signal`, which is read too: the reported band's
/// waveform tells a fast train of short events from a steady level
/// ([`Explanation::pulses`]).
///
/// # Errors
/// As [`explain`].
pub fn explain_with_signal(
    model: &Model,
    features: ArrayView2<'_, f32>,
    signal: &Signal,
) -> Result<Explanation, ModelFileError> {
    explain_at(model, features, 0.0, Some(signal))
}

/// Explains one window of a longer recording, as `aad monitor --explain` does: the
/// window's features from `fx` (the errors [`Model::score_signal_with`] gives, naming
/// `path`), its span and sentence in the recording's time (`offset_s`, the window's
/// start). Its score is the one [`Model::score_signal_with`] gives, bit for bit.
///
/// # Errors
/// As [`Model::score_signal_with`], or a detector without a breakdown.
pub fn explain_window(
    model: &Model,
    fx: &mut crate::registry::AnyExtractor,
    signal: &Signal,
    path: &std::path::Path,
    offset_s: f64,
) -> Result<Explanation, ModelFileError> {
    let m = crate::model::extract(fx, signal, path)?;
    explain_at(model, m.view(), offset_s, Some(signal)).map_err(|e| match e {
        ModelFileError::Detector(d) => ModelFileError::Feature {
            path: path.to_path_buf(),
            reason: d.to_string(),
        },
        other => other,
    })
}

fn explain_at(
    model: &Model,
    features: ArrayView2<'_, f32>,
    offset_s: f64,
    signal: Option<&Signal>,
) -> Result<Explanation, ModelFileError> {
    let knn = match model.detector() {
        AnyDetector::Knn(knn) if knn.frame_breakdown_supported() => {
            let (score, errors) = knn.frame_breakdown(features)?;
            let source = ErrorSource::NearestFrames;
            let at = (offset_s, signal);
            return explain_errors(model, (score, &errors), &[], source, at);
        }
        AnyDetector::Knn(knn) => knn,
        AnyDetector::Autoencoder(ae) if ae.breakdown_supported() => {
            let b = ae.breakdown(features)?;
            let (profile, source) = (model.error_profile(), ErrorSource::Autoencoder);
            let at = (offset_s, signal);
            return explain_errors(model, (b.score, &b.errors), profile, source, at);
        }
        _ => return Err(unsupported(model)),
    };
    let b = knn.breakdown(features)?;
    let dims = features.ncols();
    let stats: &[Statistic] = match b.representation {
        Representation::ClipMeanStdMax => &[Statistic::Mean, Statistic::Std, Statistic::Max],
        Representation::ClipStats => &[Statistic::Mean, Statistic::Std],
        Representation::ClipMean => &[Statistic::Mean],
        Representation::Frames => return Err(unsupported(model)),
    };
    let bands = band_shares(model, &b, stats, dims);
    let (band, statistic) = strongest(&bands);
    let top = &bands[band];
    let rows = top.rows.clone();
    // The normal clips' spread over time in the band: the scale peaks are judged on.
    let normal_sd = if stats.contains(&Statistic::Std) {
        rows.clone().map(|r| b.normal[dims + r]).sum::<f64>() / rows.len().max(1) as f64
    } else {
        f64::INFINITY
    };
    let mut kind = kind_of(&bands, band, statistic, normal_sd);
    let direction = direction(statistic, top);
    let departure = departure(features, rows.clone(), &b.normal, dims, direction);
    let spf = model.feature().seconds_per_frame();
    let cycle = own_events(&b.normal, rows.clone(), dims, top.max_change)
        .then(|| cycle_break(model, features, (band, rows)))
        .flatten();
    let (a, z) = match cycle {
        Some(c) => {
            kind = Kind::Transient;
            due_span(c, spf)
        }
        None => span(&departure, spf, kind, padded_frames(model)),
    };
    let pulses = (kind != Kind::Transient && cycle.is_none())
        .then(|| pulses_in(model, signal, top, (a, z)))
        .flatten();
    if pulses.is_some() {
        kind = Kind::Transient;
    }
    let span_s = (a + offset_s, z + offset_s);
    let what = "the distance to the nearest normal clips";
    let sentence = match cycle {
        Some(c) => cycle_sentence(model, top, c, span_s, what),
        None => sentence(model, top, (kind, pulses), statistic, span_s),
    };
    Ok(Explanation {
        score: b.score,
        bands,
        band,
        statistic,
        kind,
        span_s,
        departure,
        cycle,
        pulses,
        sentence,
    })
}

/// The band carrying most of the distance, and the statistic carrying most of its share.
fn strongest(bands: &[BandShare]) -> (usize, Statistic) {
    let band = (0..bands.len())
        .max_by(|&a, &c| bands[a].total().total_cmp(&bands[c].total()))
        .unwrap_or(0);
    let statistic = bands.get(band).map_or(Statistic::Mean, |top| {
        [
            (Statistic::Mean, top.mean),
            (Statistic::Std, top.std),
            (Statistic::Max, top.max),
        ]
        .into_iter()
        .max_by(|a, c| a.1.total_cmp(&c.1))
        .map_or(Statistic::Mean, |x| x.0)
    });
    (band, statistic)
}

/// The direction frames count in (see [`departure`]): the one the statistic moved. Risen
/// peaks or a risen level are located where the band rose, not where it fell (the first
/// frame, half of it padding, is low in every clip); a fallen level where it fell. Fallen
/// peaks (weaker or missing events) and a changed spread have no one direction.
fn direction(statistic: Statistic, top: &BandShare) -> Option<f64> {
    match statistic {
        Statistic::Max if top.max_change > 0.0 => Some(1.0),
        Statistic::Mean => Some(top.mean_change),
        _ => None,
    }
}

/// A score and its error matrix.
struct ErrorsView<'a> {
    score: f64,
    errors: &'a ndarray::Array2<f64>,
}

/// What a per-frame error matrix measures, for the sentence.
#[derive(Clone, Copy)]
enum ErrorSource {
    /// An autoencoder's reconstruction error, above its training clips' profile.
    Autoencoder,
    /// A frame-level kNN's distance to the nearest normal frames.
    NearestFrames,
}

/// An explanation from a `frames x rows` error matrix that sums to what the detector
/// pools into its score: each row's error, above `profile` (the error on the training
/// clips; the raw error without one), grouped into bands; per frame, the reported band's
/// error over its normal error (over its median in the clip without a profile).
fn explain_errors(
    model: &Model,
    (score, errors): (f64, &ndarray::Array2<f64>),
    profile: &[f64],
    source: ErrorSource,
    (offset_s, signal): (f64, Option<&Signal>),
) -> Result<Explanation, ModelFileError> {
    let b = ErrorsView { score, errors };
    let (frames, dims) = b.errors.dim();
    let normal = |r: usize| profile.get(r).copied().unwrap_or(0.0);
    let per_row: Vec<f64> = b
        .errors
        .columns()
        .into_iter()
        .enumerate()
        .map(|(r, c)| c.sum() / frames.max(1) as f64 - normal(r))
        .collect();
    let bands = error_bands(model, &per_row, profile, dims);
    let band = (0..bands.len())
        .max_by(|&a, &c| bands[a].error.total_cmp(&bands[c].error))
        .unwrap_or(0);
    let rows = bands[band].rows.clone();
    let series: Vec<f64> = b
        .errors
        .rows()
        .into_iter()
        .map(|r| r.slice(ndarray::s![rows.clone()]).sum())
        .collect();
    let base = if profile.is_empty() {
        median(&series)
    } else {
        rows.clone().map(normal).sum()
    };
    let departure: Vec<f64> = series
        .iter()
        .map(|v| v / base.max(f64::MIN_POSITIVE))
        .collect();
    let mut kind = error_kind(&series, base, &bands, band);
    let spf = model.feature().seconds_per_frame();
    let (a, z) = span(&departure, spf, kind, padded_frames(model));
    let pulses = (kind != Kind::Transient)
        .then(|| pulses_in(model, signal, &bands[band], (a, z)))
        .flatten();
    if pulses.is_some() {
        kind = Kind::Transient;
    }
    let span_s = (a + offset_s, z + offset_s);
    let what = match source {
        ErrorSource::Autoencoder => "the autoencoder's reconstruction error above normal",
        ErrorSource::NearestFrames => "the distance to the nearest normal frames",
    };
    let sentence = format!(
        "{}: it carries {:.0} % of {what}",
        lead(model, &bands[band], (kind, pulses), span_s),
        100.0 * bands[band].total(),
    );
    Ok(Explanation {
        score: b.score,
        bands,
        band,
        statistic: Statistic::Error,
        kind,
        span_s,
        departure,
        cycle: None,
        pulses,
        sentence,
    })
}

/// An autoencoder's bands: each band's error above the training profile, as a share of
/// all bands' (where no band errs more than on the training clips, their raw errors).
fn error_bands(model: &Model, per_row: &[f64], profile: &[f64], dims: usize) -> Vec<BandShare> {
    let normal = |r: usize| profile.get(r).copied().unwrap_or(0.0);
    let edges = band_edges(model, dims);
    let per = dims.div_ceil(BANDS.min(dims).max(1)).max(1);
    let starts: Vec<usize> = (0..dims).step_by(per).collect();
    let band_sum = |v: &[f64], s: usize| v[s..(s + per).min(dims)].iter().sum::<f64>();
    let mut excess: Vec<f64> = starts
        .iter()
        .map(|&s| band_sum(per_row, s).max(0.0))
        .collect();
    if excess.iter().all(|&x| x <= 0.0) {
        // No band errs more than on the training clips: where it errs most, then.
        let raw: Vec<f64> = (0..dims).map(|r| per_row[r] + normal(r)).collect();
        excess = starts.iter().map(|&s| band_sum(&raw, s).max(0.0)).collect();
    }
    let total = excess.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let bands: Vec<BandShare> = starts
        .iter()
        .zip(&excess)
        .map(|(&start, &x)| {
            let rows = start..(start + per).min(dims);
            BandShare {
                rows: rows.clone(),
                lo_hz: edges[rows.start].0,
                hi_hz: edges[rows.end - 1].1,
                mean: 0.0,
                std: 0.0,
                max: 0.0,
                error: x / total,
                mean_change: 0.0,
                std_change: 0.0,
                max_change: 0.0,
            }
        })
        .collect();
    bands
}

/// The kind of an autoencoder's excess error: a tenth of the frames holding half of the
/// band's error above `base` is a transient; else tonal when the band and its neighbours
/// hold 60 % of all bands' excess, broadband otherwise.
fn error_kind(series: &[f64], base: f64, bands: &[BandShare], band: usize) -> Kind {
    let mut above: Vec<f64> = series.iter().map(|v| (v - base).max(0.0)).collect();
    above.sort_by(|a, b| b.total_cmp(a));
    let top: f64 = above.iter().take(above.len().div_ceil(10)).sum();
    if top >= 0.5 * above.iter().sum::<f64>() && top > 0.0 {
        return Kind::Transient;
    }
    let near: f64 = bands[band.saturating_sub(1)..(band + 2).min(bands.len())]
        .iter()
        .map(|x| x.error)
        .sum();
    if near >= 0.6 {
        Kind::Tonal
    } else {
        Kind::BroadbandLevel
    }
}

/// The breakdown grouped into [`BANDS`] bands of the feature's rows, each with its
/// share per statistic and its changes.
fn band_shares(
    model: &Model,
    b: &aad_models::classical::KnnBreakdown,
    stats: &[Statistic],
    dims: usize,
) -> Vec<BandShare> {
    let total: f64 = b.per_dim.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let edges = band_edges(model, dims);
    let mut bands = Vec::new();
    for rows in band_rows(dims) {
        let share = |s: usize| -> f64 {
            rows.clone().map(|r| b.per_dim[s * dims + r]).sum::<f64>() / total
        };
        let pick = |stat: Statistic| stats.iter().position(|&x| x == stat).map_or(0.0, share);
        let change = |stat: Statistic| {
            stats.iter().position(|&x| x == stat).map_or(0.0, |s| {
                rows.clone()
                    .map(|r| b.clip[s * dims + r] - b.normal[s * dims + r])
                    .sum::<f64>()
                    / rows.len() as f64
            })
        };
        bands.push(BandShare {
            rows: rows.clone(),
            lo_hz: edges[rows.start].0,
            hi_hz: edges[rows.end - 1].1,
            mean: pick(Statistic::Mean),
            std: pick(Statistic::Std),
            max: pick(Statistic::Max),
            error: 0.0,
            mean_change: change(Statistic::Mean),
            std_change: change(Statistic::Std),
            max_change: change(Statistic::Max),
        });
    }
    bands
}

/// Explains a signal: its features by the model's feature, then [`explain`].
///
/// ```
/// use aad_core::Signal;
/// use aad_engine::model::{FitOptions, Model};
///
/// // A 500 Hz hum in seeded noise; `tone` adds a 3 kHz tone.
/// let clip = |seed: u32, tone: f32| {
///     let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
///     let x = (0..32_000).map(|i| {
///         state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
///         let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
///         let t = i as f32 / 16_000.0;
///         0.05 * (t * 500.0 * std::f32::consts::TAU).sin()
///             + 0.05 * noise
///             + tone * (t * 3_000.0 * std::f32::consts::TAU).sin()
///     });
///     Signal::new(x.collect(), 16_000)
/// };
/// let normal: Vec<Signal> = (0..12).map(|s| clip(s, 0.0)).collect::<Result<_, _>>()?;
/// let model = Model::fit_signals(&normal, &FitOptions::default())?;
/// let e = aad_engine::explain::explain_signal(&model, &clip(99, 0.02)?)?;
/// let band = &e.bands[e.band];
/// assert!(band.lo_hz <= 3_000.0 && 3_000.0 <= band.hi_hz, "{}", e.sentence);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// The feature fails on the signal, or the detector has no breakdown yet.
pub fn explain_signal(model: &Model, signal: &Signal) -> Result<Explanation, ModelFileError> {
    let features = model
        .extractor()?
        .extract(signal)
        .map_err(|e| ModelFileError::Feature {
            path: "<signal>".into(),
            reason: e.to_string(),
        })?;
    explain_with_signal(model, features.view(), signal)
}

/// Whether the model's detector can be explained (a kNN on clip summaries).
pub fn supports(model: &Model) -> bool {
    match model.detector() {
        AnyDetector::Knn(_) => true,
        AnyDetector::Autoencoder(ae) => ae.breakdown_supported(),
        _ => false,
    }
}

/// Scores and explains files in parallel, in input order, each file decoded and its
/// feature extracted once; each file's own error on failure. `on_file` is called after
/// each file (from any worker), for progress.
///
/// # Errors
/// The model's feature cannot be planned.
#[allow(clippy::type_complexity)]
pub fn explain_files<P: AsRef<std::path::Path> + Sync>(
    model: &Model,
    paths: &[P],
    on_file: &(dyn Fn() + Sync),
) -> Result<Vec<Result<(f64, Explanation), ModelFileError>>, ModelFileError> {
    let fx = model.extractor()?;
    Ok(crate::batch::for_each_file(
        paths,
        &model.decode_options(),
        || fx.clone(),
        |fx, file| {
            let _done = crate::model::Done(on_file);
            let path = file.path().to_path_buf();
            let signal = file.signal()?;
            let features = crate::model::extract(fx, signal, &path)?;
            // The breakdown computes the score as scoring does: the summary once.
            let e = explain_with_signal(model, features.view(), signal)?;
            Ok((e.score, e))
        },
    ))
}

fn unsupported(model: &Model) -> ModelFileError {
    ModelFileError::Option {
        name: "detector",
        value: model.detector_name().to_string(),
        reason: "explanations cover the kNN detectors (knn, knn_mean, knn_msm, knn_msm_k1, \
                 knn_frames and its poolings) and the autoencoders scored by their squared \
                 error (ae, ae_dcase, ae_mimii, ae_seed, ae_cens, idnn) so far",
    }
}

/// Each feature row's frequency range in Hz: the mel filters' edges for a log-Mel
/// feature; the row index otherwise.
fn band_edges(model: &Model, dims: usize) -> Vec<(f64, f64)> {
    if let FeatureKind::LogMel(c) = &model.feature().kind
        && c.n_mels == dims
    {
        let fmax = c.fmax.unwrap_or(f64::from(c.sample_rate) / 2.0);
        let f = mel_features::mel_frequencies(c.n_mels + 2, c.fmin, fmax, c.scale);
        return (0..dims).map(|j| (f[j], f[j + 2])).collect();
    }
    (0..dims).map(|j| (j as f64, j as f64)).collect()
}

/// How far a band's peaks must rise beyond its level, in the normal clips' standard
/// deviations over time in the band, for a change carried by the spread to count as
/// transient events. Chosen on the synthetic set of seed 1 (where per-revolution clicks
/// and friction bursts clear it and leaks and hums do not) and checked on seed 2.
const PEAK_RISE_SD: f64 = 0.3;

/// The kind of change: a maximum that departs most is a transient; a standard deviation
/// is a transient too when the band's peaks rose more than its level (by over
/// [`PEAK_RISE_SD`] of the normal clips' spread in the band: short events, not a
/// fluctuating level), else a fluctuation; a mean is tonal when one band carries most of
/// the means' share, a broadband level when it is spread.
fn kind_of(bands: &[BandShare], band: usize, statistic: Statistic, normal_sd: f64) -> Kind {
    let top = &bands[band];
    if statistic == Statistic::Std && top.max_change - top.mean_change > PEAK_RISE_SD * normal_sd {
        return Kind::Transient;
    }
    // A level that changes for part of the clip (a tone switched on) moves the band's
    // standard deviation most, and its mean too; a fluctuation leaves the mean.
    let level =
        statistic == Statistic::Mean || (statistic == Statistic::Std && top.mean >= top.std / 3.0);
    match statistic {
        Statistic::Max => Kind::Transient,
        _ if !level => Kind::Fluctuation,
        _ => {
            let means: f64 = bands.iter().map(|b| b.mean).sum();
            let near: f64 = bands[band.saturating_sub(1)..(band + 2).min(bands.len())]
                .iter()
                .map(|b| b.mean)
                .sum();
            if near >= 0.6 * means {
                Kind::Tonal
            } else {
                Kind::BroadbandLevel
            }
        }
    }
}

/// Per frame, how far its values in `rows` depart from the normal clips' (their mean and
/// standard deviation over time, from the neighbours' summaries): the largest over the
/// band's rows, in standard deviations; with a `direction`, only departures with its sign
/// count (0 for a frame that moved the other way).
fn departure(
    features: ArrayView2<'_, f32>,
    rows: std::ops::Range<usize>,
    normal: &[f64],
    dims: usize,
    direction: Option<f64>,
) -> Vec<f64> {
    let has_std = normal.len() >= 2 * dims;
    let sign = |z: f64| match direction {
        Some(d) if d < 0.0 => -z,
        Some(_) => z,
        None => z.abs(),
    };
    features
        .rows()
        .into_iter()
        .map(|frame| {
            rows.clone()
                .map(|r| {
                    let sd = if has_std { normal[dims + r] } else { 1.0 };
                    sign((f64::from(frame[r]) - normal[r]) / sd.max(1e-6))
                })
                .fold(0.0, f64::max)
        })
        .collect()
}

/// The break in the repeating events of band `band` (its `rows`), for a log-Mel feature
/// (the band's level per frame: the mean of its rows, dB), with the period of its events
/// in the normal clips where the model recorded one.
fn cycle_break(
    model: &Model,
    features: ArrayView2<'_, f32>,
    (band, rows): (usize, std::ops::Range<usize>),
) -> Option<CycleBreak> {
    let level = band_level(model.feature(), features, rows)?;
    let normal = model.event_periods().get(band).copied().flatten();
    cycle::find(&level, model.feature().seconds_per_frame(), normal)
}

/// Whether the band's events are the machine's own, so that one missing says more than
/// the events do: the normal clips peak in the band (their maximum over time stands
/// above their mean), and the clip's peaks rose by less than half that height. Events a
/// fault adds (a rubbing burst, new clicks) raise the peaks, and the time they end is no
/// missing event. `normal` is the neighbours' summary (means, standard deviations,
/// maxima); without maxima it cannot be told.
fn own_events(normal: &[f64], rows: std::ops::Range<usize>, dims: usize, max_change: f64) -> bool {
    if normal.len() < 3 * dims || rows.is_empty() {
        return false;
    }
    let height = rows
        .clone()
        .map(|r| normal[2 * dims + r] - normal[r])
        .sum::<f64>()
        / rows.len() as f64;
    height > 0.0 && max_change < 0.5 * height
}

/// The stretch of the signal read for a pulse train, seconds: twenty of its 100 ms
/// windows. It bounds the cost (a tenth of a clip's scoring) and, on a long recording, the
/// memory.
const PULSE_EXCERPT_S: f64 = 2.0;

/// The train of short events in band `b` of `signal` (at most [`PULSE_EXCERPT_S`] of it,
/// centred on `span`, seconds from the signal's start), for a log-Mel feature.
fn pulses_in(
    model: &Model,
    signal: Option<&Signal>,
    b: &BandShare,
    span: (f64, f64),
) -> Option<PulseTrain> {
    let signal = signal?;
    if !matches!(model.feature().kind, FeatureKind::LogMel(_)) {
        return None;
    }
    let x = signal.samples();
    let sr = f64::from(signal.sample_rate());
    let len = ((PULSE_EXCERPT_S * sr) as usize).min(x.len());
    let centre = (0.5 * (span.0 + span.1) * sr).max(0.0) as usize;
    let start = centre.saturating_sub(len / 2).min(x.len() - len);
    pulse::find(
        &x[start..start + len],
        signal.sample_rate(),
        (b.lo_hz, b.hi_hz),
    )
}

/// The frame where a missing event was due (frames are centred on their times).
fn due_span(c: CycleBreak, spf: f64) -> (f64, f64) {
    ((c.at_s - 0.5 * spf).max(0.0), c.at_s + 0.5 * spf)
}

/// The sentence for a break in a band's repeating events.
fn cycle_sentence(
    model: &Model,
    b: &BandShare,
    c: CycleBreak,
    span: (f64, f64),
    what: &str,
) -> String {
    format!(
        "Transient events in the {} band repeat every {:.2} s but the one due from {:.2} s \
         to {:.2} s did not come (the band stayed {:.0} % of the way down to its floor); \
         the band carries {:.0} % of {what}",
        band_name(model, b),
        c.period_s,
        span.0,
        span.1,
        100.0 * c.depth,
        100.0 * b.total(),
    )
}

/// How many frames at each end of a clip are partly zero padding (a centred STFT padded
/// with zeros, librosa's default): their level is low in every clip, so they depart by
/// construction, not by anything the clip holds.
fn padded_frames(model: &Model) -> usize {
    match &model.feature().kind {
        FeatureKind::LogMel(c) if c.stft.center && c.stft.pad_mode == PadMode::Constant => {
            (c.stft.n_fft / 2).div_ceil(c.stft.hop_length.max(1))
        }
        _ => 0,
    }
}

/// The stretch of frames that depart most: the frames above half the clip's largest
/// departure (and above 2), the longest run with gaps of at most 3 frames; the single
/// most deviant frame when no run is longer. For transients the frames must stand out
/// from the clip's own typical departure too (above halfway from its median to its
/// maximum): peaks, not the band's general level. The `edge` frames at either end (partly
/// padding) are left out while any others remain.
fn span(z: &[f64], spf: f64, kind: Kind, edge: usize) -> (f64, f64) {
    let inner = if z.len() > 2 * edge { edge } else { 0 };
    let z: Vec<f64> = z
        .iter()
        .enumerate()
        .map(|(t, &v)| {
            if t < inner || t + inner >= z.len() {
                0.0
            } else {
                v
            }
        })
        .collect();
    let z = z.as_slice();
    let max = z.iter().copied().fold(0.0, f64::max);
    let mut threshold = (0.5 * max).max(2.0);
    if kind == Kind::Transient && !z.is_empty() {
        let median = median(z);
        threshold = threshold.max(median + 0.5 * (max - median));
    }
    let peak = (0..z.len())
        .max_by(|&a, &b| z[a].total_cmp(&z[b]))
        .unwrap_or(0);
    let (mut best, mut run, mut gap) = ((peak, peak), None::<(usize, usize)>, 0);
    for (t, &v) in z.iter().enumerate() {
        if v > threshold {
            run = Some(run.map_or((t, t), |(s, _)| (s, t)));
            gap = 0;
        } else if let Some((s, e)) = run {
            gap += 1;
            if gap > 3 {
                if e - s > best.1 - best.0 {
                    best = (s, e);
                }
                run = None;
            }
        }
    }
    if let Some((s, e)) = run
        && e - s > best.1 - best.0
    {
        best = (s, e);
    }
    (best.0 as f64 * spf, (best.1 + 1) as f64 * spf)
}

fn khz(hz: f64) -> String {
    if hz >= 1000.0 {
        format!("{:.2} kHz", hz / 1000.0)
    } else {
        format!("{hz:.0} Hz")
    }
}

/// A band's name as sentences and figures give it: its Hz range (`2.45 kHz-3.05 kHz`) for
/// a log-Mel feature, its rows otherwise.
pub fn band_name(model: &Model, b: &BandShare) -> String {
    if matches!(model.feature().kind, FeatureKind::LogMel(_)) {
        format!("{}-{}", khz(b.lo_hz), khz(b.hi_hz))
    } else {
        format!("rows {}-{}", b.lo_hz, b.hi_hz)
    }
}

/// How a sentence names a kind.
fn kind_words(kind: Kind) -> &'static str {
    match kind {
        Kind::Tonal => "Tonal change",
        Kind::BroadbandLevel => "Broadband level change",
        Kind::Transient => "Transient events",
        Kind::Fluctuation => "Fluctuating level",
    }
}

/// The sentence's opening: the kind, the band (with a pulse train's rate and height) and
/// the span.
fn lead(
    model: &Model,
    b: &BandShare,
    (kind, pulses): (Kind, Option<PulseTrain>),
    span: (f64, f64),
) -> String {
    let band = band_name(model, b);
    match pulses {
        Some(p) => format!(
            "Transient events in the {band} band, {:.1} a second with peaks {:.0} times the \
             band's power between them, from {:.2} s to {:.2} s",
            p.rate_hz, p.peak_ratio, span.0, span.1,
        ),
        None => format!(
            "{} in the {band} band from {:.2} s to {:.2} s",
            kind_words(kind),
            span.0,
            span.1
        ),
    }
}

fn sentence(
    model: &Model,
    b: &BandShare,
    kind: (Kind, Option<PulseTrain>),
    s: Statistic,
    span: (f64, f64),
) -> String {
    let lead = lead(model, b, kind, span);
    let stat = match s {
        Statistic::Mean => "mean carries",
        Statistic::Std => "fluctuation carries",
        Statistic::Max => "peaks carry",
        Statistic::Error => {
            return format!(
                "{lead}: it carries {:.0} % of the autoencoder's reconstruction error above \
                 normal",
                100.0 * b.total(),
            );
        }
    };
    let dir = if b.mean_change >= 0.0 {
        "above"
    } else {
        "below"
    };
    let unit = match &model.feature().kind {
        FeatureKind::LogMel(c) if c.log != mel_features::LogScale::None => "dB",
        _ => "(feature units)",
    };
    format!(
        "{lead}: its {stat} {:.0} % of the distance to the nearest normal clips; the band's \
         mean is {:.1} {unit} {dir} normal",
        100.0 * b.total(),
        b.mean_change.abs(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_padded_edge_frames_are_no_span_while_others_depart() {
        // The first and last frames depart most (partly padding, low in every clip); a
        // peak at frame 6.
        let mut z = vec![0.5; 20];
        z[0] = 9.0;
        z[6] = 5.0;
        z[19] = 8.0;
        let spf = 0.032;
        assert_eq!(span(&z, spf, Kind::Transient, 1), (6.0 * spf, 7.0 * spf));
        assert_eq!(span(&z, spf, Kind::Transient, 0), (0.0, spf));
        // Too few frames to leave the edges out: they count.
        assert_eq!(span(&[9.0, 1.0], spf, Kind::Transient, 1), (0.0, spf));
    }

    #[test]
    fn a_direction_counts_only_the_frames_that_moved_its_way() {
        // Two rows whose normal means are 0 and standard deviations 1.
        let normal = [0.0, 0.0, 1.0, 1.0];
        let f = ndarray::array![[-6.0f32, 0.0], [3.0, 1.0], [0.0, -2.0]];
        let up = departure(f.view(), 0..2, &normal, 2, Some(1.0));
        assert_eq!(up, vec![0.0, 3.0, 0.0]);
        let down = departure(f.view(), 0..2, &normal, 2, Some(-0.5));
        assert_eq!(down, vec![6.0, 0.0, 2.0]);
        let either = departure(f.view(), 0..2, &normal, 2, None);
        assert_eq!(either, vec![6.0, 3.0, 2.0]);
    }
}
