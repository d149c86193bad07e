//! The figure of one explanation: the clip's spectrogram with the reported band and span
//! outlined, each band's share of the distance beside it, and the band's departure from
//! normal over time beneath.

use std::path::Path;

use ndarray::ArrayView2;
use plotters::prelude::*;

use crate::{PALETTE, PlotError, compact, legend, render, viridis};

/// One band of an explanation, as drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct BandBar {
    /// The feature rows the band covers (`start..end`).
    pub rows: (usize, usize),
    /// Its label (e.g. `2.45-3.05 kHz`).
    pub label: String,
    /// Shares of the distance carried by its mean, standard deviation and maximum, and of
    /// an autoencoder's reconstruction error.
    pub shares: [f64; 4],
}

/// What [`explanation`] draws.
#[derive(Debug, Clone)]
pub struct ExplanationFigure<'a> {
    /// The clip's features, `frames x rows`.
    pub features: ArrayView2<'a, f32>,
    /// Seconds between frames.
    pub seconds_per_frame: f64,
    /// Every band, low to high.
    pub bands: &'a [BandBar],
    /// The reported band (an index into `bands`).
    pub band: usize,
    /// The reported time span, seconds.
    pub span_s: (f64, f64),
    /// Per frame: how far the reported band departs from normal (standard deviations).
    pub departure: &'a [f64],
    /// The title (the sentence fits under it).
    pub title: &'a str,
    /// What the rows are (e.g. "Mel band").
    pub row_desc: &'a str,
}

/// Draws an explanation (PNG or SVG by extension): top left the features as an image with
/// the reported band and span outlined in red; top right each band's share of the
/// distance, stacked by statistic (mean, standard deviation, maximum) on the same rows;
/// below, the reported band's departure from normal per frame with the span shaded.
///
/// # Errors
/// An empty matrix, an unsupported extension, or a drawing/writing failure.
pub fn explanation(path: &Path, f: &ExplanationFigure<'_>) -> Result<(), PlotError> {
    let (frames, rows) = f.features.dim();
    if frames == 0 || rows == 0 || f.bands.is_empty() {
        return Err(PlotError::Empty {
            path: path.to_path_buf(),
            what: format!("{frames} x {rows} matrix, {} bands", f.bands.len()),
        });
    }
    let duration = frames as f64 * f.seconds_per_frame.max(f64::MIN_POSITIVE);
    let (lo, hi) = f
        .features
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (lo, span) = if lo.is_finite() && hi > lo {
        (f64::from(lo), f64::from(hi - lo))
    } else {
        (0.0, 1.0)
    };
    let rows_f = rows as f64;
    render(path, (1100, 720), |root| {
        root.fill(&WHITE)?;
        let root = root.titled(f.title, ("sans-serif", 18))?;
        let (top, bottom) = root.split_vertically(470);
        let (image, shares) = top.split_horizontally(780);
        let b = &f.bands[f.band.min(f.bands.len() - 1)];
        draw_features(&image, f, b, (lo, span), (duration, rows_f))?;
        draw_shares(&shares, f, rows_f)?;
        draw_departure(&bottom, f, b, duration)?;
        root.present()
    })
}

type Area<'a> = DrawingArea<crate::DynBackend<'a>, plotters::coord::Shift>;

/// The features as an image, the reported band and span outlined in red.
fn draw_features(
    area: &Area<'_>,
    f: &ExplanationFigure<'_>,
    b: &BandBar,
    (lo, span): (f64, f64),
    (duration, rows_f): (f64, f64),
) -> Result<(), crate::DrawErr> {
    let spf = f.seconds_per_frame.max(f64::MIN_POSITIVE);
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..duration, 0.0..rows_f)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("time (s)")
        .y_desc(f.row_desc)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    chart.draw_series(f.features.indexed_iter().map(|((t, r), &v)| {
        let x0 = t as f64 * spf;
        Rectangle::new(
            [(x0, r as f64), (x0 + spf, r as f64 + 1.0)],
            viridis((f64::from(v) - lo) / span).filled(),
        )
    }))?;
    chart.draw_series(std::iter::once(Rectangle::new(
        [(f.span_s.0, b.rows.0 as f64), (f.span_s.1, b.rows.1 as f64)],
        RED.stroke_width(3),
    )))?;
    Ok(())
}

/// Each band's share, stacked by statistic, on the features' rows, labelled in Hz.
fn draw_shares(
    area: &Area<'_>,
    f: &ExplanationFigure<'_>,
    rows_f: f64,
) -> Result<(), crate::DrawErr> {
    let top_share = f
        .bands
        .iter()
        .map(|b| b.shares.iter().sum::<f64>())
        .fold(0.0, f64::max)
        .max(1e-9);
    let mut bars = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(85)
        .build_cartesian_2d(0.0..top_share * 1.05, 0.0..rows_f)?;
    bars.configure_mesh()
        .disable_mesh()
        .x_desc("share of the score")
        .x_labels(3)
        .x_label_formatter(&|v| compact(*v))
        .y_labels(0)
        .draw()?;
    // Band labels at the bands' centres (every other one when they would collide).
    let step = if f.bands.len() > 10 { 2 } else { 1 };
    let style =
        ("sans-serif", 11)
            .into_font()
            .color(&BLACK)
            .pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Right,
                plotters::style::text_anchor::VPos::Center,
            ));
    let base = area.get_base_pixel();
    for (i, b) in f.bands.iter().enumerate() {
        if i % step == 0 || i == f.band {
            let (x, y) = bars.backend_coord(&(0.0, (b.rows.0 + b.rows.1) as f64 / 2.0));
            area.draw_text(&b.label, &style, (x - 4 - base.0, y - base.1))?;
        }
    }
    for (s, name) in ["mean", "std", "max", "error"].iter().enumerate() {
        if f.bands.iter().all(|b| b.shares[s] == 0.0) {
            continue;
        }
        let colour = PALETTE[s];
        bars.draw_series(f.bands.iter().map(|b| {
            let x0: f64 = b.shares[..s].iter().sum();
            Rectangle::new(
                [
                    (x0, b.rows.0 as f64 + 0.1),
                    (x0 + b.shares[s], b.rows.1 as f64 - 0.1),
                ],
                colour.filled(),
            )
        }))?
        .label(*name)
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    legend(&mut bars, SeriesLabelPosition::LowerRight)
}

/// The reported band's departure per frame, the span shaded.
fn draw_departure(
    area: &Area<'_>,
    f: &ExplanationFigure<'_>,
    b: &BandBar,
    duration: f64,
) -> Result<(), crate::DrawErr> {
    let spf = f.seconds_per_frame.max(f64::MIN_POSITIVE);
    let dmax = f.departure.iter().copied().fold(0.0, f64::max).max(1.0) * 1.05;
    let mut dep = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..duration, 0.0..dmax)?;
    dep.configure_mesh()
        .light_line_style(WHITE)
        .x_desc("time (s)")
        .y_desc("departure (sd)")
        .draw()?;
    dep.draw_series(std::iter::once(Rectangle::new(
        [(f.span_s.0, 0.0), (f.span_s.1, dmax)],
        RED.mix(0.15).filled(),
    )))?
    .label("reported span")
    .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], RED.mix(0.3).filled()));
    dep.draw_series(LineSeries::new(
        f.departure
            .iter()
            .enumerate()
            .map(|(t, &v)| ((t as f64 + 0.5) * spf, v)),
        PALETTE[0].stroke_width(2),
    ))?
    .label(format!("departure of the {} band", b.label))
    .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], PALETTE[0].stroke_width(2)));
    legend(&mut dep, SeriesLabelPosition::UpperRight)
}
