//! `aad features` (and the `extract_features` example): librosa's reference feature set
//! of one clip as `.npy` files.

use std::path::PathBuf;

use aad_audio::{ChannelPolicy, DecodeOptions, decode_file};
use aad_engine::{io::write_npy, reference::ReferenceFeatures};

use crate::{CliError, EXIT_OK};

/// Writes the librosa reference feature set of one clip as float32 `.npy` files shaped
/// `[bins, frames]`, named and parameterised as `shared/pyref/features.py` does.
///
/// With `--timing N` it also computes each feature N times on the decoded signal (one
/// thread) and prints `timing <feature> <median_ms>` per feature.
///
/// Example:
///   aad features clip.wav out/ --timing 21
#[derive(clap::Parser, Debug)]
#[command(
    version,
    verbatim_doc_comment,
    after_help = "Example:\n  aad features clip.wav out/ --timing 21"
)]
pub struct Args {
    /// Channel of a multi-channel file.
    #[arg(long, conflicts_with = "mix")]
    pub channel: Option<usize>,
    /// Mean of all channels.
    #[arg(long)]
    pub mix: bool,
    /// Also time each feature over N runs.
    #[arg(long)]
    pub timing: Option<usize>,
    /// The audio file.
    pub wav: PathBuf,
    /// Output folder (created).
    pub out: PathBuf,
}

/// Runs `aad features`.
///
/// # Errors
/// An unreadable clip (exit 2) or an unwritable output (exit 1).
pub fn run(a: Args) -> Result<u8, CliError> {
    let channel = match (a.mix, a.channel) {
        (true, _) => ChannelPolicy::Mean,
        (false, Some(c)) => ChannelPolicy::Index(c),
        (false, None) => ChannelPolicy::First,
    };
    let signal = decode_file(&a.wav, &DecodeOptions::default().channel(channel))
        .map_err(|e| CliError::bad_input(e.to_string()))?;
    let named =
        |e: &dyn std::fmt::Display| CliError::bad_input(format!("{}: {e}", a.wav.display()));
    let mut features = ReferenceFeatures::new(signal.sample_rate()).map_err(|e| named(&e))?;
    let computed = features.compute(&signal).map_err(|e| named(&e))?;
    for (name, array) in &computed {
        if let Some(i) = array.iter().position(|v| !v.is_finite()) {
            return Err(named(&format!(
                "{name} has a non-finite value at index {i} (absurd sample values?)"
            )));
        }
        write_npy(&a.out.join(format!("{name}.npy")), array.view())
            .map_err(|e| CliError::failed(e.to_string()))?;
    }
    eprintln!(
        "wrote {} features of {} ({} Hz, {:.2} s) to {}",
        computed.len(),
        a.wav.display(),
        signal.sample_rate(),
        signal.len() as f64 / f64::from(signal.sample_rate()),
        a.out.display()
    );
    if let Some(n) = a.timing {
        for (name, ms) in features.time(&signal, n).map_err(|e| named(&e))? {
            println!("timing {name} {ms:.4}");
        }
    }
    Ok(EXIT_OK)
}
