//! `aad explain MODEL FILE`: why a recording scored as it did: the band, the statistic
//! and the time span that carry its distance from the normal recordings, the kind of
//! change, in one sentence and a table of every band's share.

use std::path::PathBuf;

use clap::Parser;

use crate::{CliError, EXIT_OK};

/// Arguments of `aad explain`.
#[derive(Parser, Debug)]
#[command(
    after_help = "Example:\n  aad explain demo/fan.aadm demo/test/anomalous/anomalous_00.wav"
)]
pub struct Args {
    /// The model file (from `aad fit`).
    pub model: PathBuf,
    /// The recording (WAV or FLAC).
    pub file: PathBuf,
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
    let e = aad_engine::explain::explain_signal(&model, &signal)
        .map_err(|e| CliError::bad_input(format!("{}: {e}", a.file.display())))?;
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
    println!("band_lo_hz,band_hi_hz,share_mean,share_std,share_max,mean_change");
    for b in &e.bands {
        println!(
            "{:.1},{:.1},{:.4},{:.4},{:.4},{:.3}",
            b.lo_hz, b.hi_hz, b.mean, b.std, b.max, b.mean_change
        );
    }
    Ok(EXIT_OK)
}
