//! Figures for machine-sound anomaly detection, as PNG or SVG (chosen by the file
//! extension), drawn with plotters and an embedded DejaVu font, so no system font or
//! graphics library is needed. Every file is written atomically.
//!
//! - [`chromagram`]: a chroma or CENS matrix as an image, pitch-class names on the axis
//!   (like the seed project's `chroma_fan_sample.png`).
//! - [`spectrogram`]: a log-Mel (or any `frames x bins`) matrix as an image.
//! - [`roc_curves`], [`score_histogram`], [`line_series`]: evaluation figures.
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let chroma = ndarray::Array2::from_shape_fn((63, 12), |(t, c)| ((t + c) % 12) as f32 / 11.0);
//! let path = dir.path().join("cens.png");
//! aad_plot::chromagram(&path, chroma.view(), 512.0 * 5.0 / 16_000.0, "CENS (d = 5)")?;
//! assert!(std::fs::metadata(&path)?.len() > 1000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ndarray::ArrayView2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_backend::{BackendColor, BackendCoord, BackendTextStyle, DrawingErrorKind};

/// Pitch-class names, C first (librosa's `base_c` order).
pub const PITCH_CLASSES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// Why a figure could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The extension is neither `.png` nor `.svg`.
    #[error("{0}: unsupported figure format (use .png or .svg)")]
    Format(PathBuf),
    /// Nothing to draw.
    #[error("{path}: nothing to draw ({what})")]
    Empty {
        /// The figure.
        path: PathBuf,
        /// What was empty.
        what: String,
    },
    /// Drawing or writing failed.
    #[error("{path}: {reason}")]
    Draw {
        /// The figure.
        path: PathBuf,
        /// The backend's message.
        reason: String,
    },
}

fn fonts() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // The embedded font is valid; a failure would only cost the labels.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

fn draw_err(path: &Path, e: impl std::fmt::Display) -> PlotError {
    PlotError::Draw {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Draws onto a PNG or SVG at a temporary sibling path, then renames it into place.
fn render(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<DynBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<(), PlotError> {
    fonts();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| draw_err(path, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".tmp{}-{name}", std::process::id()));
    let result = match ext.as_deref() {
        Some("png") => {
            let backend = BitMapBackend::new(&tmp, size);
            let area = DynBackend::Bitmap(backend).into_drawing_area();
            draw(area)
        }
        Some("svg") => {
            let backend = SVGBackend::new(&tmp, size);
            let area = DynBackend::Svg(backend).into_drawing_area();
            draw(area)
        }
        _ => return Err(PlotError::Format(path.to_path_buf())),
    };
    match result {
        Ok(()) => std::fs::rename(&tmp, path).map_err(|e| draw_err(path, e)),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(draw_err(path, e))
        }
    }
}

/// One backend type for both formats, so each figure is written once.
enum DynBackend<'a> {
    Bitmap(BitMapBackend<'a>),
    Svg(SVGBackend<'a>),
}

impl DrawingBackend for DynBackend<'_> {
    type ErrorType = std::io::Error;

    fn get_size(&self) -> (u32, u32) {
        match self {
            DynBackend::Bitmap(b) => b.get_size(),
            DynBackend::Svg(b) => b.get_size(),
        }
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        match self {
            DynBackend::Bitmap(b) => b.ensure_prepared().map_err(convert),
            DynBackend::Svg(b) => b.ensure_prepared().map_err(convert),
        }
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        match self {
            DynBackend::Bitmap(b) => b.present().map_err(convert),
            DynBackend::Svg(b) => b.present().map_err(convert),
        }
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        match self {
            DynBackend::Bitmap(b) => b.draw_pixel(point, color).map_err(convert),
            DynBackend::Svg(b) => b.draw_pixel(point, color).map_err(convert),
        }
    }

    fn draw_line<S: plotters_backend::BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        match self {
            DynBackend::Bitmap(b) => b.draw_line(from, to, style).map_err(convert),
            DynBackend::Svg(b) => b.draw_line(from, to, style).map_err(convert),
        }
    }

    fn draw_rect<S: plotters_backend::BackendStyle>(
        &mut self,
        ul: BackendCoord,
        br: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        match self {
            DynBackend::Bitmap(b) => b.draw_rect(ul, br, style, fill).map_err(convert),
            DynBackend::Svg(b) => b.draw_rect(ul, br, style, fill).map_err(convert),
        }
    }

    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        match self {
            DynBackend::Bitmap(b) => b.draw_path(path, style).map_err(convert),
            DynBackend::Svg(b) => b.draw_path(path, style).map_err(convert),
        }
    }

    fn fill_polygon<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        match self {
            DynBackend::Bitmap(b) => b.fill_polygon(vert, style).map_err(convert),
            DynBackend::Svg(b) => b.fill_polygon(vert, style).map_err(convert),
        }
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        match self {
            DynBackend::Bitmap(b) => b.draw_text(text, style, pos).map_err(convert),
            DynBackend::Svg(b) => b.draw_text(text, style, pos).map_err(convert),
        }
    }
}

fn convert<E: std::error::Error + Send + Sync + 'static>(
    e: DrawingErrorKind<E>,
) -> DrawingErrorKind<std::io::Error> {
    match e {
        DrawingErrorKind::DrawingError(e) => {
            DrawingErrorKind::DrawingError(std::io::Error::other(e.to_string()))
        }
        DrawingErrorKind::FontError(f) => DrawingErrorKind::FontError(f),
    }
}

/// A perceptually uniform dark-blue → yellow colour map (viridis control points).
pub fn viridis(x: f64) -> RGBColor {
    const P: [(f64, f64, f64); 6] = [
        (68.0, 1.0, 84.0),
        (65.0, 68.0, 135.0),
        (42.0, 120.0, 142.0),
        (34.0, 168.0, 132.0),
        (122.0, 209.0, 81.0),
        (253.0, 231.0, 37.0),
    ];
    let x = if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = x * (P.len() - 1) as f64;
    let i = (pos.floor() as usize).min(P.len() - 2);
    let t = pos - i as f64;
    let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(
        lerp(P[i].0, P[i + 1].0),
        lerp(P[i].1, P[i + 1].1),
        lerp(P[i].2, P[i + 1].2),
    )
}

/// How the rows of an image are labelled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RowLabels<'a> {
    /// Pitch-class names (12 rows).
    PitchClasses,
    /// Row numbers.
    Index,
    /// Given names.
    Names(&'a [&'a str]),
}

/// Draws a `frames x bins` matrix as an image: time (seconds) across, bins upwards,
/// values mapped from `[min, max]` of the matrix onto [`viridis`].
///
/// # Errors
/// An empty matrix, an unsupported extension, or a drawing/writing failure.
pub fn image(
    path: &Path,
    m: ArrayView2<'_, f32>,
    seconds_per_frame: f64,
    title: &str,
    rows: RowLabels<'_>,
) -> Result<(), PlotError> {
    let (frames, bins) = m.dim();
    if frames == 0 || bins == 0 {
        return Err(PlotError::Empty {
            path: path.to_path_buf(),
            what: format!("{frames} x {bins} matrix"),
        });
    }
    let finite = m.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let span = if hi > lo { f64::from(hi - lo) } else { 1.0 };
    let duration = frames as f64 * seconds_per_frame.max(f64::MIN_POSITIVE);
    let labels: Vec<String> = match rows {
        RowLabels::PitchClasses => PITCH_CLASSES.iter().map(|s| s.to_string()).collect(),
        RowLabels::Names(n) => n.iter().map(|s| s.to_string()).collect(),
        RowLabels::Index => (0..bins).map(|i| i.to_string()).collect(),
    };
    render(path, (900, if bins <= 24 { 360 } else { 480 }), |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..duration, (0..bins as i32 - 1).into_segmented())
            .map_err(|e| e.to_string())?;
        // At most ~16 labels, evenly spaced over the rows, each at its row's centre.
        let step = bins.div_ceil(16);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("time (s)")
            .y_labels(bins + 1)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) if *i >= 0 && (*i as usize).is_multiple_of(step) => {
                    labels.get(*i as usize).cloned().unwrap_or_default()
                }
                _ => String::new(),
            })
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(m.indexed_iter().map(|((t, b), &v)| {
                let x0 = t as f64 * seconds_per_frame;
                let c = viridis((f64::from(v) - f64::from(lo)) / span);
                Rectangle::new(
                    [
                        (x0, SegmentValue::Exact(b as i32)),
                        (x0 + seconds_per_frame, SegmentValue::Exact(b as i32 + 1)),
                    ],
                    c.filled(),
                )
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    })
}

/// A chroma or CENS matrix (`frames x 12`) with pitch-class names on the axis.
///
/// # Errors
/// As [`image`].
pub fn chromagram(
    path: &Path,
    chroma: ArrayView2<'_, f32>,
    seconds_per_frame: f64,
    title: &str,
) -> Result<(), PlotError> {
    let rows = if chroma.ncols() == 12 {
        RowLabels::PitchClasses
    } else {
        RowLabels::Index
    };
    image(path, chroma, seconds_per_frame, title, rows)
}

/// A (log-)Mel or other `frames x bins` spectrogram with bin numbers on the axis.
///
/// # Errors
/// As [`image`].
pub fn spectrogram(
    path: &Path,
    m: ArrayView2<'_, f32>,
    seconds_per_frame: f64,
    title: &str,
) -> Result<(), PlotError> {
    image(path, m, seconds_per_frame, title, RowLabels::Index)
}

/// One ROC curve to draw.
#[derive(Debug, Clone)]
pub struct Curve<'a> {
    /// Legend label.
    pub label: String,
    /// x values (false-positive rate for ROC curves).
    pub x: &'a [f64],
    /// y values.
    pub y: &'a [f64],
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn lines(
    path: &Path,
    curves: &[Curve<'_>],
    title: &str,
    axes: (&str, &str),
    x_range: (f64, f64),
    y_range: (f64, f64),
    diagonal: bool,
) -> Result<(), PlotError> {
    if curves.is_empty() || curves.iter().all(|c| c.x.is_empty()) {
        return Err(PlotError::Empty {
            path: path.to_path_buf(),
            what: "no curve".into(),
        });
    }
    render(path, (640, 520), |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(axes.0)
            .y_desc(axes.1)
            .draw()
            .map_err(|e| e.to_string())?;
        if diagonal {
            chart
                .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.3)))
                .map_err(|e| e.to_string())?;
        }
        for (i, c) in curves.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    c.x.iter().copied().zip(c.y.iter().copied()),
                    color.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(c.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    })
}

/// ROC curves (false-positive rate vs true-positive rate) with the chance diagonal.
///
/// # Errors
/// No curves, an unsupported extension, or a drawing/writing failure.
pub fn roc_curves(path: &Path, curves: &[Curve<'_>], title: &str) -> Result<(), PlotError> {
    lines(
        path,
        curves,
        title,
        ("false-positive rate", "true-positive rate"),
        (0.0, 1.0),
        (0.0, 1.0),
        true,
    )
}

/// Line series over an index (e.g. training and validation loss per epoch); the y axis
/// spans the data.
///
/// # Errors
/// No data, an unsupported extension, or a drawing/writing failure.
pub fn line_series(
    path: &Path,
    curves: &[Curve<'_>],
    title: &str,
    axes: (&str, &str),
) -> Result<(), PlotError> {
    let all = || {
        curves
            .iter()
            .flat_map(|c| c.x.iter().zip(c.y.iter()))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    let (x0, x1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (x, _)| {
        (a.min(*x), b.max(*x))
    });
    let (y0, y1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, y)| {
        (a.min(*y), b.max(*y))
    });
    if !x0.is_finite() {
        return Err(PlotError::Empty {
            path: path.to_path_buf(),
            what: "no finite points".into(),
        });
    }
    let pad = ((y1 - y0) * 0.05).max(1e-12);
    lines(
        path,
        curves,
        title,
        axes,
        (x0, x1.max(x0 + 1e-12)),
        (y0 - pad, y1 + pad),
        false,
    )
}

/// Overlaid histograms of normal and anomalous clip scores, with an optional threshold.
///
/// # Errors
/// No scores, an unsupported extension, or a drawing/writing failure.
pub fn score_histogram(
    path: &Path,
    normal: &[f64],
    anomalous: &[f64],
    title: &str,
    threshold: Option<f64>,
) -> Result<(), PlotError> {
    let all: Vec<f64> = normal
        .iter()
        .chain(anomalous)
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if all.is_empty() {
        return Err(PlotError::Empty {
            path: path.to_path_buf(),
            what: "no scores".into(),
        });
    }
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let n_bins = 30usize;
    let width = (hi - lo) / n_bins as f64;
    let count = |v: &[f64]| {
        let mut c = vec![0usize; n_bins];
        for x in v.iter().filter(|x| x.is_finite()) {
            c[(((x - lo) / width) as usize).min(n_bins - 1)] += 1;
        }
        c
    };
    let (cn, ca) = (count(normal), count(anomalous));
    let top = cn.iter().chain(&ca).copied().max().unwrap_or(1).max(1);
    render(path, (640, 420), |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(45)
            .build_cartesian_2d(lo..hi, 0.0..top as f64 * 1.1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("anomaly score")
            .y_desc("clips")
            .draw()
            .map_err(|e| e.to_string())?;
        for (counts, color, label) in [(&cn, PALETTE[0], "normal"), (&ca, PALETTE[3], "anomalous")]
        {
            chart
                .draw_series(counts.iter().enumerate().map(|(i, &c)| {
                    let x0 = lo + i as f64 * width;
                    Rectangle::new(
                        [(x0, 0.0), (x0 + width, c as f64)],
                        color.mix(0.45).filled(),
                    )
                }))
                .map_err(|e| e.to_string())?
                .label(label)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.mix(0.45).filled())
                });
        }
        if let Some(t) = threshold.filter(|t| t.is_finite()) {
            chart
                .draw_series(LineSeries::new(
                    [(t, 0.0), (t, top as f64 * 1.1)],
                    BLACK.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label("threshold")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    })
}

/// One scored window of a long recording.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Start, seconds from the beginning.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// Anomaly score.
    pub score: f64,
}

/// Anomaly score over time (one point per window, at its centre) with the decision
/// threshold as a dashed line and the windows above it shaded.
///
/// # Errors
/// No finite scores, an unsupported extension, or a drawing/writing failure.
pub fn score_timeline(
    path: &Path,
    windows: &[Window],
    threshold: f64,
    title: &str,
) -> Result<(), PlotError> {
    let finite: Vec<&Window> = windows.iter().filter(|w| w.score.is_finite()).collect();
    if finite.is_empty() {
        return Err(PlotError::Empty {
            path: path.to_path_buf(),
            what: "no finite scores".into(),
        });
    }
    let x0 = finite
        .iter()
        .map(|w| w.start_s)
        .fold(f64::INFINITY, f64::min);
    let x1 = finite
        .iter()
        .map(|w| w.end_s)
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = finite
        .iter()
        .map(|w| w.score)
        .chain(threshold.is_finite().then_some(threshold))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    let pad = ((hi - lo) * 0.08).max(1e-9);
    let (y0, y1) = (lo - pad, hi + pad);
    render(path, (900, 380), |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1.max(x0 + 1e-9), y0..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc("anomaly score")
            .draw()
            .map_err(|e| e.to_string())?;
        let shade = PALETTE[3];
        chart
            .draw_series(finite.iter().filter(|w| w.score > threshold).map(|w| {
                Rectangle::new([(w.start_s, y0), (w.end_s, y1)], shade.mix(0.18).filled())
            }))
            .map_err(|e| e.to_string())?
            .label("anomalous window")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 12, y + 5)], shade.mix(0.3).filled())
            });
        chart
            .draw_series(LineSeries::new(
                finite
                    .iter()
                    .map(|w| ((w.start_s + w.end_s) / 2.0, w.score)),
                PALETTE[0].stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label("score")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], PALETTE[0].stroke_width(2)));
        if threshold.is_finite() {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x0, threshold), (x1, threshold)],
                    8,
                    5,
                    BLACK.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label("threshold")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_writes_png_and_svg_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let m = ndarray::Array2::from_shape_fn((40, 64), |(t, b)| (t * b) as f32);
        let x = [0.0, 0.2, 1.0];
        let y = [0.0, 0.7, 1.0];
        for ext in ["png", "svg"] {
            let p = |n: &str| dir.path().join(format!("{n}.{ext}"));
            spectrogram(&p("mel"), m.view(), 0.032, "log-Mel").unwrap();
            chromagram(
                &p("chroma"),
                m.slice(ndarray::s![.., ..12]),
                0.032,
                "chroma",
            )
            .unwrap();
            roc_curves(
                &p("roc"),
                &[Curve {
                    label: "AE (AUC 0.85)".into(),
                    x: &x,
                    y: &y,
                }],
                "ROC",
            )
            .unwrap();
            line_series(
                &p("loss"),
                &[Curve {
                    label: "train".into(),
                    x: &[1.0, 2.0, 3.0],
                    y: &[0.9, 0.5, 0.4],
                }],
                "loss",
                ("epoch", "MSE"),
            )
            .unwrap();
            score_timeline(
                &p("timeline"),
                &[
                    Window {
                        start_s: 0.0,
                        end_s: 10.0,
                        score: 1.0,
                    },
                    Window {
                        start_s: 10.0,
                        end_s: 20.0,
                        score: 3.0,
                    },
                ],
                2.0,
                "monitor",
            )
            .unwrap();
            score_histogram(
                &p("hist"),
                &[0.1, 0.2, 0.25],
                &[0.5, 0.7],
                "scores",
                Some(0.3),
            )
            .unwrap();
        }
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 12, "{names:?}");
        assert!(names.iter().all(|n| !n.starts_with(".tmp")));
        let svg = std::fs::read_to_string(dir.path().join("chroma.svg")).unwrap();
        assert!(
            svg.contains("C#") && svg.contains("time (s)"),
            "pitch-class labels in the SVG"
        );
    }

    #[test]
    fn bad_requests_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let m = ndarray::Array2::<f32>::zeros((0, 12));
        assert!(matches!(
            chromagram(&dir.path().join("a.png"), m.view(), 0.1, "x"),
            Err(PlotError::Empty { .. })
        ));
        let m = ndarray::Array2::<f32>::zeros((4, 12));
        assert!(matches!(
            chromagram(&dir.path().join("a.jpg"), m.view(), 0.1, "x"),
            Err(PlotError::Format(_))
        ));
        assert!(score_histogram(&dir.path().join("h.png"), &[], &[], "x", None).is_err());
        assert!(roc_curves(&dir.path().join("r.png"), &[], "x").is_err());
        // A constant matrix still draws.
        chromagram(&dir.path().join("c.png"), m.view(), 0.1, "flat").unwrap();
    }
}
