//! Figures for machine-sound anomaly detection, as PNG or SVG (chosen by the file
//! extension), drawn with plotters and an embedded DejaVu font, so no system font or
//! graphics library is needed. Every file is written atomically.
//!
//! - [`chromagram`]: a chroma or CENS matrix as an image, pitch-class names on the axis
//!   (like the seed project's `chroma_fan_sample.png`).
//! - [`spectrogram`]: a log-Mel (or any `frames x bins`) matrix as an image.
//! - [`roc_curves`], [`score_histogram`], [`line_series`], [`loss_curves`]: evaluation
//!   figures.
//! - [`explanation`]: why a clip scored as it did (band shares, spectrogram, departure
//!   over time).
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let chroma = ndarray::Array2::from_shape_fn((63, 12), |(t, c)| ((t + c) % 12) as f32 / 11.0);
//! let path = dir.path().join("cens.png");
//! let hop_s = 512.0 * 5.0 / 16_000.0;
//! aad_plot::chromagram(&path, chroma.view(), hop_s, "CENS (d = 5)", "CENS (unit norm)")?;
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

mod explain;
pub use explain::{BandBar, ExplanationFigure, explanation};

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

/// What drawing on the figure's backend can fail with (plotters' error over file I/O).
pub(crate) type DrawErr = DrawingAreaErrorKind<std::io::Error>;

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
    draw: impl FnOnce(DrawingArea<DynBackend<'_>, Shift>) -> Result<(), DrawErr>,
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
    // The shared temporary scheme, so a killed run's leftovers are removed next time.
    aad_core::atomic::remove_stale(dir, Some(&name), aad_core::atomic::STALE_AFTER);
    let tmp = aad_core::atomic::temporary_sibling(path);
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
pub(crate) enum DynBackend<'a> {
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

/// What an image's rows and colours mean, for its axis label and colour bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageAxes<'a> {
    /// How rows are labelled.
    pub rows: RowLabels<'a>,
    /// The row axis' name (e.g. "Mel band", "pitch class").
    pub row_desc: &'a str,
    /// What a colour stands for, with its unit (e.g. "log power (dB)").
    pub value_desc: &'a str,
}

/// Draws a `frames x bins` matrix as an image: time (seconds) across, bins upwards,
/// values mapped from `[min, max]` of the matrix onto [`viridis`], with a colour bar
/// naming the values.
///
/// # Errors
/// An empty matrix, an unsupported extension, or a drawing/writing failure.
pub fn image(
    path: &Path,
    m: ArrayView2<'_, f32>,
    seconds_per_frame: f64,
    title: &str,
    axes: ImageAxes<'_>,
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
    let (lo, hi) = if lo.is_finite() {
        (f64::from(lo), f64::from(hi))
    } else {
        (0.0, 1.0)
    };
    let span = if hi > lo { hi - lo } else { 1.0 };
    let duration = frames as f64 * seconds_per_frame.max(f64::MIN_POSITIVE);
    let labels: Vec<String> = match axes.rows {
        RowLabels::PitchClasses => PITCH_CLASSES.iter().map(|s| s.to_string()).collect(),
        RowLabels::Names(n) => n.iter().map(|s| s.to_string()).collect(),
        RowLabels::Index => (0..bins).map(|i| i.to_string()).collect(),
    };
    render(path, (980, if bins <= 24 { 380 } else { 480 }), |root| {
        root.fill(&WHITE)?;
        let root = root.titled(title, ("sans-serif", 20))?;
        let (main, bar) = root.split_horizontally(root.dim_in_pixel().0.saturating_sub(120));
        let mut chart = ChartBuilder::on(&main)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(65)
            .build_cartesian_2d(0.0..duration, (0..bins as i32 - 1).into_segmented())?;
        // At most ~16 labels, evenly spaced over the rows, each at its row's centre.
        let step = bins.div_ceil(16);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("time (s)")
            .y_desc(axes.row_desc)
            .y_labels(bins + 1)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) if *i >= 0 && (*i as usize).is_multiple_of(step) => {
                    labels.get(*i as usize).cloned().unwrap_or_default()
                }
                _ => String::new(),
            })
            .draw()?;
        chart.draw_series(m.indexed_iter().map(|((t, b), &v)| {
            let x0 = t as f64 * seconds_per_frame;
            let c = viridis((f64::from(v) - lo) / span);
            Rectangle::new(
                [
                    (x0, SegmentValue::Exact(b as i32)),
                    (x0 + seconds_per_frame, SegmentValue::Exact(b as i32 + 1)),
                ],
                c.filled(),
            )
        }))?;
        colour_bar(&bar, lo, lo + span, axes.value_desc)?;
        root.present()
    })
}

/// A vertical [`viridis`] scale from `lo` to `hi`, labelled `desc`.
fn colour_bar(
    area: &DrawingArea<DynBackend<'_>, Shift>,
    lo: f64,
    hi: f64,
    desc: &str,
) -> Result<(), DrawErr> {
    let mut bar = ChartBuilder::on(area)
        .margin_top(10)
        .margin_bottom(50)
        .margin_right(10)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(desc)
        .y_labels(6)
        .y_label_formatter(&|v| compact(*v))
        // Sizes in pixels: the defaults scale with this narrow strip and become unreadable.
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()?;
    let steps = 64;
    let h = (hi - lo) / f64::from(steps);
    bar.draw_series((0..steps).map(|i| {
        let y = lo + f64::from(i) * h;
        Rectangle::new(
            [(0.0, y), (1.0, y + h)],
            viridis((f64::from(i) + 0.5) / f64::from(steps)).filled(),
        )
    }))?;
    Ok(())
}

/// A chroma or CENS matrix (`frames x 12`) with pitch-class names on the axis;
/// `value_desc` names what a colour stands for.
///
/// # Errors
/// As [`image`].
pub fn chromagram(
    path: &Path,
    chroma: ArrayView2<'_, f32>,
    seconds_per_frame: f64,
    title: &str,
    value_desc: &str,
) -> Result<(), PlotError> {
    let (rows, row_desc) = if chroma.ncols() == 12 {
        (RowLabels::PitchClasses, "pitch class")
    } else {
        (RowLabels::Index, "chroma bin")
    };
    let axes = ImageAxes {
        rows,
        row_desc,
        value_desc,
    };
    image(path, chroma, seconds_per_frame, title, axes)
}

/// A (log-)Mel or other `frames x bins` spectrogram with bin numbers on the axis,
/// named `row_desc` (e.g. "Mel band"); `value_desc` names a colour's value and unit.
///
/// # Errors
/// As [`image`].
pub fn spectrogram(
    path: &Path,
    m: ArrayView2<'_, f32>,
    seconds_per_frame: f64,
    title: &str,
    row_desc: &str,
    value_desc: &str,
) -> Result<(), PlotError> {
    let axes = ImageAxes {
        rows: RowLabels::Index,
        row_desc,
        value_desc,
    };
    image(path, m, seconds_per_frame, title, axes)
}

/// The legend box every figure uses, at `position`.
fn legend<'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DynBackend<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<(), DrawErr> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .position(position)
        .draw()
}

/// A dashed black decision threshold from `ends[0]` to `ends[1]`, in the legend as
/// `label`.
fn threshold_line<'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DynBackend<'a>, Cartesian2d<X, Y>>,
    ends: [(X::ValueType, Y::ValueType); 2],
    label: &str,
) -> Result<(), DrawErr>
where
    X::ValueType: Clone + 'static,
    Y::ValueType: Clone + 'static,
{
    chart
        .draw_series(DashedLineSeries::new(ends, 8, 5, BLACK.stroke_width(2)))?
        .label(label)
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.stroke_width(2)));
    Ok(())
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

/// A marked point on a figure, in the legend as its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// x value.
    pub x: f64,
    /// y value.
    pub y: f64,
    /// Legend label.
    pub label: String,
}

#[allow(clippy::too_many_arguments)]
fn lines(
    path: &Path,
    curves: &[Curve<'_>],
    title: &str,
    axes: (&str, &str),
    x_range: (f64, f64),
    y_range: (f64, f64),
    diagonal: bool,
    markers: &[Marker],
) -> Result<(), PlotError> {
    if curves.is_empty() || curves.iter().all(|c| c.x.is_empty()) {
        return Err(PlotError::Empty {
            path: path.to_path_buf(),
            what: "no curve".into(),
        });
    }
    render(path, (640, 520), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
        chart
            .configure_mesh()
            .x_desc(axes.0)
            .y_desc(axes.1)
            .draw()?;
        if diagonal {
            chart.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.3)))?;
        }
        for (i, c) in curves.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    c.x.iter().copied().zip(c.y.iter().copied()),
                    color.stroke_width(2),
                ))?
                .label(c.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        for m in markers {
            chart
                .draw_series(std::iter::once(Circle::new((m.x, m.y), 6, BLACK.filled())))?
                .label(m.label.clone())
                .legend(|(x, y)| Circle::new((x + 9, y), 5, BLACK.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        root.present()
    })
}

/// [`roc_curves`] with points marked on them: where a decision threshold operates
/// (its false-positive and true-positive rates).
///
/// # Errors
/// As [`roc_curves`].
pub fn roc_curves_marked(
    path: &Path,
    curves: &[Curve<'_>],
    title: &str,
    markers: &[Marker],
) -> Result<(), PlotError> {
    lines(
        path,
        curves,
        title,
        ("false-positive rate", "true-positive rate"),
        (0.0, 1.0),
        (0.0, 1.0),
        true,
        markers,
    )
}

/// ROC curves (false-positive rate vs true-positive rate) with the chance diagonal.
///
/// # Errors
/// No curves, an unsupported extension, or a drawing/writing failure.
pub fn roc_curves(path: &Path, curves: &[Curve<'_>], title: &str) -> Result<(), PlotError> {
    roc_curves_marked(path, curves, title, &[])
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
        &[],
    )
}

/// A decision threshold to draw, with what it is (e.g. "threshold (95th percentile of
/// training scores)").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold<'a> {
    /// The score.
    pub value: f64,
    /// Its legend entry.
    pub label: &'a str,
}

/// Overlaid histograms of normal and anomalous clip scores: normal bars filled,
/// anomalous bars outlined, so overlaps stay readable; counts on an integer axis; an
/// optional threshold as a dashed line.
///
/// # Errors
/// No scores, an unsupported extension, or a drawing/writing failure.
pub fn score_histogram(
    path: &Path,
    normal: &[f64],
    anomalous: &[f64],
    title: &str,
    threshold: Option<Threshold<'_>>,
) -> Result<(), PlotError> {
    let all: Vec<f64> = normal
        .iter()
        .chain(anomalous)
        .copied()
        .chain(threshold.map(|t| t.value))
        .filter(|v| v.is_finite())
        .collect();
    if all.is_empty() {
        return Err(PlotError::Empty {
            path: path.to_path_buf(),
            what: "no scores".into(),
        });
    }
    let bins = Bins::spanning(&all);
    let (cn, ca) = (bins.count(normal), bins.count(anomalous));
    let (lo, hi) = (bins.lo, bins.hi);
    let top = cn.iter().chain(&ca).copied().max().unwrap_or(1).max(1);
    let y_max = top + (top + 7) / 8;
    render(path, (680, 440), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(45)
            .build_cartesian_2d(lo..hi, 0i64..y_max)?;
        chart
            .configure_mesh()
            .x_desc("anomaly score")
            .y_desc("clips")
            .y_labels(usize::try_from(y_max + 1).unwrap_or(10).min(10))
            .draw()?;
        let bars = |counts: &[i64]| bins.bars(counts);
        let (blue, red) = (PALETTE[0], PALETTE[3]);
        chart
            .draw_series(
                bars(&cn)
                    .into_iter()
                    .map(|(x0, x1, c)| Rectangle::new([(x0, 0), (x1, c)], blue.mix(0.4).filled())),
            )?
            .label("normal (filled)")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 12, y + 5)], blue.mix(0.4).filled())
            });
        chart
            .draw_series(
                bars(&ca)
                    .into_iter()
                    .map(|(x0, x1, c)| Rectangle::new([(x0, 0), (x1, c)], red.stroke_width(2))),
            )?
            .label("anomalous (outlined)")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 12, y + 5)], red.stroke_width(2))
            });
        if let Some(t) = threshold.filter(|t| t.value.is_finite()) {
            threshold_line(&mut chart, [(t.value, 0), (t.value, y_max)], t.label)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present()
    })
}

/// 30 equal bins over the range of some finite values.
struct Bins {
    lo: f64,
    hi: f64,
    width: f64,
}

impl Bins {
    const N: usize = 30;

    fn spanning(all: &[f64]) -> Bins {
        let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let hi = if hi > lo { hi } else { lo + 1.0 };
        Bins {
            lo,
            hi,
            width: (hi - lo) / Self::N as f64,
        }
    }

    /// How many of the finite values fall in each bin (the top one closed).
    fn count(&self, v: &[f64]) -> Vec<i64> {
        let mut c = vec![0i64; Self::N];
        for x in v.iter().filter(|x| x.is_finite()) {
            c[(((x - self.lo) / self.width) as usize).min(Self::N - 1)] += 1;
        }
        c
    }

    /// `(left, right, count)` of every bin with a count.
    fn bars(&self, counts: &[i64]) -> Vec<(f64, f64, i64)> {
        counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, &c)| {
                (
                    self.lo + i as f64 * self.width,
                    self.lo + (i + 1) as f64 * self.width,
                    c,
                )
            })
            .collect()
    }
}

/// A tick label without trailing zeros: 0.05, 4, 350, 1.2e5.
fn compact(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e5).contains(&v.abs()) {
        return format!("{v:.1e}");
    }
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Training curves: loss per epoch on a logarithmic axis (a loss falling from 350 to 4
/// in five epochs stays readable afterwards), whole epochs on the x axis, the legend
/// in the upper right, where falling curves leave room.
///
/// # Errors
/// No positive finite loss, an unsupported extension, or a drawing/writing failure.
pub fn loss_curves(
    path: &Path,
    curves: &[Curve<'_>],
    title: &str,
    loss_desc: &str,
) -> Result<(), PlotError> {
    let points = |c: &Curve<'_>| -> Vec<(f64, f64)> {
        c.x.iter()
            .zip(c.y.iter())
            .filter(|(x, y)| x.is_finite() && y.is_finite() && **y > 0.0)
            .map(|(x, y)| (*x, *y))
            .collect()
    };
    let all: Vec<(f64, f64)> = curves.iter().flat_map(points).collect();
    if all.is_empty() {
        return Err(PlotError::Empty {
            path: path.to_path_buf(),
            what: "no positive finite loss".into(),
        });
    }
    let fold = |f: fn(&(f64, f64)) -> f64| {
        all.iter()
            .map(f)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            })
    };
    let (x0, x1) = fold(|p| p.0);
    let (y0, y1) = fold(|p| p.1);
    let (x0, x1) = (
        x0.floor() as i64,
        (x1.ceil() as i64).max(x0.floor() as i64 + 1),
    );
    let (y0, y1) = (y0 / 1.25, y1 * 1.25);
    render(path, (640, 460), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(65)
            .build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(format!("{loss_desc} (log scale)"))
            .x_labels(usize::try_from(x1 - x0 + 1).unwrap_or(10).min(12))
            .y_labels(8)
            .y_label_formatter(&|v| compact(*v))
            .draw()?;
        for (i, c) in curves.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    points(c).into_iter().map(|(x, y)| (x.round() as i64, y)),
                    color.stroke_width(2),
                ))?
                .label(c.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present()
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
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1.max(x0 + 1e-9), y0..y1)?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc("anomaly score")
            .draw()?;
        let shade = PALETTE[3];
        chart
            .draw_series(finite.iter().filter(|w| w.score > threshold).map(|w| {
                Rectangle::new([(w.start_s, y0), (w.end_s, y1)], shade.mix(0.18).filled())
            }))?
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
            ))?
            .label("score")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], PALETTE[0].stroke_width(2)));
        if threshold.is_finite() {
            threshold_line(&mut chart, [(x0, threshold), (x1, threshold)], "threshold")?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        root.present()
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
            spectrogram(
                &p("mel"),
                m.view(),
                0.032,
                "log-Mel",
                "Mel band",
                "log power (dB)",
            )
            .unwrap();
            chromagram(
                &p("chroma"),
                m.slice(ndarray::s![.., ..12]),
                0.032,
                "chroma",
                "CENS (unit norm)",
            )
            .unwrap();
            roc_curves_marked(
                &p("roc"),
                &[Curve {
                    label: "AE (AUC 0.85)".into(),
                    x: &x,
                    y: &y,
                }],
                "ROC",
                &[Marker {
                    x: 0.1,
                    y: 0.8,
                    label: "threshold 1.5".into(),
                }],
            )
            .unwrap();
            let bands: Vec<BandBar> = (0..4)
                .map(|b| BandBar {
                    rows: (b * 16, b * 16 + 16),
                    label: format!("band {b}"),
                    shares: [0.1, 0.05, 0.05 * b as f64, 0.0],
                })
                .collect();
            explanation(
                &p("why"),
                &ExplanationFigure {
                    features: m.view(),
                    seconds_per_frame: 0.032,
                    bands: &bands,
                    band: 3,
                    span_s: (0.5, 0.9),
                    departure: &vec![1.0; m.nrows()],
                    title: "why",
                    row_desc: "Mel band",
                },
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
            loss_curves(
                &p("log_loss"),
                &[Curve {
                    label: "training".into(),
                    x: &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                    y: &[350.0, 40.0, 9.0, 4.1, 4.0, 3.9],
                }],
                "AE loss",
                "MSE",
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
                &[10.1, 10.2, 10.25, 10.22],
                &[10.24, 13.7],
                "scores",
                Some(Threshold {
                    value: 11.0,
                    label: "threshold (test)",
                }),
            )
            .unwrap();
        }
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 16, "{names:?}");
        assert!(names.iter().all(|n| !aad_core::atomic::is_temporary(n)));
        // Every text element of an SVG, trimmed.
        let texts = |n: &str| -> Vec<String> {
            let svg = std::fs::read_to_string(dir.path().join(n)).unwrap();
            svg.split("<text")
                .skip(1)
                .filter_map(|t| {
                    let body = &t[t.find('>')? + 1..];
                    Some(body[..body.find("</text>")?].trim().to_string())
                })
                .collect()
        };
        let has = |t: &[String], s: &str| t.iter().any(|x| x == s);
        let chroma = texts("chroma.svg");
        for text in ["C#", "time (s)", "pitch class", "CENS (unit norm)"] {
            assert!(has(&chroma, text), "{text} in the chromagram: {chroma:?}");
        }
        let mel = texts("mel.svg");
        assert!(
            has(&mel, "Mel band") && has(&mel, "log power (dB)"),
            "{mel:?}"
        );
        let loss = texts("log_loss.svg");
        assert!(has(&loss, "MSE (log scale)") && has(&loss, "6"), "{loss:?}");
        assert!(
            !has(&loss, "5.5") && has(&loss, "100"),
            "whole epochs: {loss:?}"
        );
        assert!(has(&texts("roc.svg"), "threshold 1.5"));
        let why = texts("why.svg");
        for text in ["band 3", "share of the score", "reported span", "max"] {
            assert!(has(&why, text), "{text} in the explanation: {why:?}");
        }
        assert!(!has(&why, "error"), "no autoencoder share drawn: {why:?}");
        let hist = texts("hist.svg");
        for text in ["anomalous (outlined)", "threshold (test)", "1", "3"] {
            assert!(has(&hist, text), "{text} in the histogram: {hist:?}");
        }
        assert!(
            !has(&hist, "0.5") && !has(&hist, "1.5"),
            "whole counts: {hist:?}"
        );
    }

    #[test]
    fn bad_requests_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let m = ndarray::Array2::<f32>::zeros((0, 12));
        assert!(matches!(
            chromagram(&dir.path().join("a.png"), m.view(), 0.1, "x", "v"),
            Err(PlotError::Empty { .. })
        ));
        let m = ndarray::Array2::<f32>::zeros((4, 12));
        assert!(matches!(
            chromagram(&dir.path().join("a.jpg"), m.view(), 0.1, "x", "v"),
            Err(PlotError::Format(_))
        ));
        assert!(score_histogram(&dir.path().join("h.png"), &[], &[], "x", None).is_err());
        assert!(roc_curves(&dir.path().join("r.png"), &[], "x").is_err());
        // A constant matrix still draws.
        chromagram(&dir.path().join("c.png"), m.view(), 0.1, "flat", "v").unwrap();
        let no_loss = Curve {
            label: "zero".into(),
            x: &[1.0],
            y: &[0.0],
        };
        assert!(matches!(
            loss_curves(&dir.path().join("l.png"), &[no_loss], "x", "MSE"),
            Err(PlotError::Empty { .. })
        ));
    }
}
