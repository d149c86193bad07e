//! `aad score`: score recordings with a model.

use std::path::PathBuf;

use aad_engine::explain::Explanation;
use aad_engine::model::ModelFileError;

use crate::progress::{Mode, Progress};
use crate::{CliError, EXIT_BAD_INPUT, EXIT_OK, files};

/// Score recordings with a model: one row per file, `file,score,threshold,anomaly`
/// (anomaly is 1 when score > threshold). Unreadable files are reported on stderr and
/// make the exit code 2; the rows of the others are still written. Scoring never
/// modifies the model file.
///
/// Example:
///   aad score pump.aadm recordings/pump/today --csv today.csv
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    after_help = "Example:\n  aad score pump.aadm recordings/pump/today --csv today.csv"
)]
pub struct Args {
    /// The model file (from `aad fit`).
    pub model: PathBuf,
    /// Recordings: folders (searched recursively for .wav/.flac) or files.
    #[arg(required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    /// Write the CSV here (atomically) instead of stdout.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// No progress on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Also say why: adds the columns kind, band_lo_hz, band_hi_hz, start_s, end_s and
    /// explanation (see `aad explain`; the kNN detectors, the default among them, and the
    /// autoencoders scored by their squared error). Scores and thresholds do not change.
    #[arg(long)]
    pub explain: bool,
}

/// Runs `aad score`.
///
/// # Errors
/// An invalid model (exit 2), an unwritable output (exit 1).
pub fn run(a: Args) -> Result<u8, CliError> {
    let model = crate::load_model(&a.model)?;
    let (paths, problems) = files::collect(&a.paths);
    for (p, why) in &problems {
        eprintln!("skipped {}: {why}", p.display());
    }
    if paths.is_empty() {
        return Err(CliError::bad_input("no .wav or .flac files found to score"));
    }
    if a.explain {
        check_explainable(&model)?;
    }
    let pool = aad_engine::batch::pool(a.jobs).map_err(CliError::failed)?;
    let bar = Progress::new(Mode::detect(a.quiet), "score", paths.len() as u64);
    let results: Vec<Result<(f64, Option<Explanation>), ModelFileError>> = pool
        .install(|| -> Result<_, ModelFileError> {
            Ok(if a.explain {
                aad_engine::explain::explain_files(&model, &paths, &|| bar.tick())?
                    .into_iter()
                    .map(|r| r.map(|(s, e)| (s, Some(e))))
                    .collect()
            } else {
                model
                    .score_files_observed(&paths, &|| bar.tick())?
                    .into_iter()
                    .map(|r| r.map(|s| (s, None)))
                    .collect()
            })
        })
        .map_err(|e| CliError::failed(e.to_string()))?;
    bar.finish();
    let t = model.threshold();
    let mut csv = String::from(if a.explain {
        "file,score,threshold,anomaly,kind,band_lo_hz,band_hi_hz,start_s,end_s,explanation\n"
    } else {
        "file,score,threshold,anomaly\n"
    });
    let mut failed = problems.len();
    for (p, r) in paths.iter().zip(results) {
        if r.is_ok() {
            warn_short(p);
        }
        match r {
            Ok((s, e)) => csv.push_str(&format!(
                "{},{s},{t},{}{}\n",
                csv_field(&p.display().to_string()),
                u8::from(model.decide(s)),
                e.map_or_else(String::new, |e| explanation_columns(&e))
            )),
            Err(e) => {
                failed += 1;
                eprintln!(
                    "failed {}: {}",
                    p.display(),
                    crate::one_line(&aad_engine::batch::reason(p, &e))
                );
            }
        }
    }
    crate::write_output(a.csv.as_deref(), &csv)?;
    if failed > 0 {
        eprintln!("{failed} file(s) could not be scored");
    }
    Ok(if failed == 0 { EXIT_OK } else { EXIT_BAD_INPUT })
}

/// Refuses `--explain` up front (exit 2) for a detector without explanations.
pub(crate) fn check_explainable(model: &aad_engine::model::Model) -> Result<(), CliError> {
    if aad_engine::explain::supports(model) {
        return Ok(());
    }
    Err(CliError::bad_input(format!(
        "--explain: the model's detector ({}) has no explanations yet; they cover the \
         kNN detectors (on clip summaries or frames) and the autoencoders scored by their \
         squared error (ae, ae_dcase, ae_mimii, ae_seed, ae_cens, idnn)",
        model.detector_name()
    )))
}

/// Quotes a CSV field when it needs it (RFC 4180).
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A warning (stderr) for a clip under [`SHORT_CLIP_S`]: scored, but on too few frames
/// for its score to be trusted.
pub(crate) fn warn_short(path: &std::path::Path) {
    use aad_engine::model::SHORT_CLIP_S;
    if let Ok(info) = aad_audio::probe(path)
        && let Some(frames) = info.frames
    {
        let seconds = frames as f64 / f64::from(info.sample_rate.max(1));
        if seconds < SHORT_CLIP_S {
            eprintln!(
                "warning: {}: {seconds:.3} s long; scores of clips under {SHORT_CLIP_S} s are unreliable",
                path.display()
            );
        }
    }
}

/// The `--explain` columns of one clip, each after a comma.
pub(crate) fn explanation_columns(e: &Explanation) -> String {
    let b = &e.bands[e.band];
    format!(
        ",{},{:.1},{:.1},{:.3},{:.3},{}",
        e.kind.label(),
        b.lo_hz,
        b.hi_hz,
        e.span_s.0,
        e.span_s.1,
        csv_field(&e.sentence)
    )
}
