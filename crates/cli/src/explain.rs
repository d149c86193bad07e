//! `aad explain MODEL FILE`: why a recording scored as it did: the band, the statistic
//! and the time span that carry its distance from the normal recordings, the kind of
//! change, in one sentence and a table of every band's share.

use std::path::PathBuf;

use clap::Parser;

use crate::{CliError, EXIT_OK};

/// Arguments of `aad explain`.
#[derive(Parser, Debug)]
#[command(
    after_help = "Example:\n  aad explain demo/fan.aadm demo/test/anomalous/anomalous_00.wav --plot why.png"
)]
pub struct Args {
    /// The model file (from `aad fit`).
    pub model: PathBuf,
    /// The recording (WAV or FLAC).
    pub file: PathBuf,
    /// Also draw the explanation (PNG or SVG): the recording's features with the band and
    /// span outlined, every band's share of the distance, and the band's departure from
    /// normal over time.
    #[arg(long, value_name = "OUT.png")]
    pub plot: Option<PathBuf>,
}

/// Runs `aad explain`: the score and decision, the sentence, then each band's share of
/// the distance (mean, standard deviation, maximum) and its mean's change.
///
/// # Errors
/// An invalid model or unreadable file, or a detector without explanations yet (exit 2).
pub fn run(a: Args) -> Result<u8, CliError> {
    let model = crate::load_model(&a.model)?;
    let signal = aad_audio::decode_file(&a.file, &model.decode_options())
        .map_err(|e| CliError::bad_input(e.to_string()))?;
    let score = model
        .score_signal(&signal)
        .map_err(|e| CliError::bad_input(e.to_string()))?;
    let in_file =
        |e: &dyn std::fmt::Display| CliError::bad_input(format!("{}: {e}", a.file.display()));
    let features = model
        .extractor()
        .map_err(|e| in_file(&e))?
        .extract_finite(&signal)
        .map_err(|e| in_file(&e))?;
    let e = aad_engine::explain::explain_with_signal(&model, features.view(), &signal)
        .map_err(|e| in_file(&e))?;
    let verdict = if model.decide(score) {
        "anomalous"
    } else {
        "normal"
    };
    println!("file {}", a.file.display());
    println!("score {score} threshold {} ({verdict})", model.threshold());
    println!("kind {}", e.kind.label());
    println!("span_s {:.3} {:.3}", e.span_s.0, e.span_s.1);
    println!("{}", e.sentence);
    println!();
    println!(
        "band_lo_hz,band_hi_hz,share_mean,share_std,share_max,mean_change,std_change,max_change"
    );
    for b in &e.bands {
        println!(
            "{:.1},{:.1},{:.4},{:.4},{:.4},{:.3},{:.3},{:.3}",
            b.lo_hz, b.hi_hz, b.mean, b.std, b.max, b.mean_change, b.std_change, b.max_change
        );
    }
    if let Some(out) = &a.plot {
        plot(out, &model, features.view(), &e, &a.file)?;
        eprintln!("wrote {}", out.display());
    }
    Ok(EXIT_OK)
}

/// Draws the explanation with [`aad_plot::explanation`].
fn plot(
    out: &std::path::Path,
    model: &aad_engine::model::Model,
    features: ndarray::ArrayView2<'_, f32>,
    e: &aad_engine::explain::Explanation,
    file: &std::path::Path,
) -> Result<(), CliError> {
    let bands: Vec<aad_plot::BandBar> = e
        .bands
        .iter()
        .map(|b| aad_plot::BandBar {
            rows: (b.rows.start, b.rows.end),
            label: aad_engine::explain::band_name(model, b),
            shares: [b.mean, b.std, b.max, b.error],
        })
        .collect();
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let title = format!("{name}: {} ({})", e.kind.label(), model.feature().name);
    let fig = aad_plot::ExplanationFigure {
        features,
        seconds_per_frame: model.feature().seconds_per_frame(),
        bands: &bands,
        band: e.band,
        span_s: e.span_s,
        departure: &e.departure,
        title: &title,
        row_desc: model.feature().row_desc(),
    };
    aad_plot::explanation(out, &fig).map_err(|e| CliError::bad_input(e.to_string()))
}
