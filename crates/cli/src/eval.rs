//! `aad eval`: how well a model separates labelled recordings.

use std::path::PathBuf;

use aad_core::Label;

use crate::progress::{Mode, Progress};
use crate::{CliError, EXIT_BAD_INPUT, EXIT_OK, files};

/// AUC, pAUC (max FPR 0.1, McClish-standardised as scikit-learn and DCASE report it)
/// and the confusion counts at the model's threshold, on recordings known to be normal
/// and anomalous (not the training clips).
///
/// Example:
///   aad eval pump.aadm --normal test/ok --anomalous test/faulty --plot roc.png
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    after_help = "Example:\n  aad eval pump.aadm --normal test/ok --anomalous test/faulty --plot roc.png"
)]
pub struct Args {
    /// The model file (from `aad fit`).
    pub model: PathBuf,
    /// Normal recordings: folders or files.
    #[arg(long, required = true, num_args = 1..)]
    pub normal: Vec<PathBuf>,
    /// Anomalous recordings: folders or files.
    #[arg(long, required = true, num_args = 1..)]
    pub anomalous: Vec<PathBuf>,
    /// Draw the ROC curve (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Also write every score as CSV: file,label,score,threshold,anomaly.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// No progress on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `aad eval`.
///
/// # Errors
/// An invalid model or fewer than one readable clip of each class (exit 2).
pub fn run(a: Args) -> Result<u8, CliError> {
    let model = crate::load_model(&a.model)?;
    let (normal, p1) = files::collect(&a.normal);
    let (anomalous, p2) = files::collect(&a.anomalous);
    let mut failed = p1.len() + p2.len();
    for (p, why) in p1.iter().chain(&p2) {
        eprintln!("skipped {}: {why}", p.display());
    }
    let all: Vec<(PathBuf, Label)> = normal
        .into_iter()
        .map(|p| (p, Label::Normal))
        .chain(anomalous.into_iter().map(|p| (p, Label::Anomalous)))
        .collect();
    let paths: Vec<&PathBuf> = all.iter().map(|(p, _)| p).collect();
    let bar = Progress::new(Mode::detect(a.quiet), "score", paths.len() as u64);
    let results = model
        .score_files_observed(&paths, &|| bar.tick())
        .map_err(|e| CliError::failed(e.to_string()))?;
    bar.finish();
    let scored = Scored::collect(&all, results, &model);
    failed += scored.failed;
    let auc = scored.report()?;
    if let Some(p) = &a.csv {
        crate::write_output(Some(p), &scored.csv)?;
    }
    if let Some(p) = &a.plot {
        scored.plot(p, &model, auc)?;
    }
    Ok(if failed == 0 { EXIT_OK } else { EXIT_BAD_INPUT })
}

/// The clips that could be scored, their CSV rows, and how many could not.
struct Scored {
    scores: Vec<f64>,
    labels: Vec<Label>,
    threshold: f64,
    csv: String,
    failed: usize,
}

fn bad(e: aad_metrics::MetricsError) -> CliError {
    CliError::bad_input(e.to_string())
}

impl Scored {
    /// Keeps the scored clips; names each failure on stderr.
    fn collect(
        all: &[(PathBuf, Label)],
        results: Vec<Result<f64, aad_engine::model::ModelFileError>>,
        model: &aad_engine::model::Model,
    ) -> Scored {
        let t = model.threshold();
        let mut out = Scored {
            scores: Vec::new(),
            labels: Vec::new(),
            threshold: t,
            csv: String::from("file,label,score,threshold,anomaly\n"),
            failed: 0,
        };
        for ((p, l), r) in all.iter().zip(results) {
            match r {
                Ok(s) => {
                    out.scores.push(s);
                    out.labels.push(*l);
                    out.csv.push_str(&format!(
                        "{},{},{s},{t},{}\n",
                        crate::score::csv_field(&p.display().to_string()),
                        u8::from(l.is_anomalous()),
                        u8::from(model.decide(s))
                    ));
                }
                Err(e) => {
                    out.failed += 1;
                    eprintln!(
                        "failed {}: {}",
                        p.display(),
                        crate::one_line(&aad_engine::batch::reason(p, &e))
                    );
                }
            }
        }
        out
    }

    fn normal(&self) -> usize {
        self.labels.iter().filter(|l| !l.is_anomalous()).count()
    }

    /// Prints the metrics on stdout; returns the AUC.
    fn report(&self) -> Result<f64, CliError> {
        let (s, l, t) = (&self.scores, &self.labels, self.threshold);
        let auc = aad_metrics::roc_auc(s, l).map_err(bad)?;
        let pauc = aad_metrics::partial_auc(s, l, 0.1).map_err(bad)?;
        let r = aad_metrics::binary_report(s, l, t).map_err(bad)?;
        let n_norm = self.normal();
        println!("clips {} normal, {} anomalous", n_norm, l.len() - n_norm);
        println!("auc {auc:.4}");
        println!("pauc {pauc:.4}");
        println!("threshold {t}");
        println!("tp {} fp {} tn {} fn {}", r.tp, r.fp, r.tn, r.fn_);
        println!(
            "precision {:.4} recall {:.4} f1 {:.4} fpr {:.4}",
            r.precision, r.recall, r.f1, r.fpr
        );
        Ok(auc)
    }

    /// The ROC curve as a PNG.
    fn plot(
        &self,
        path: &std::path::Path,
        model: &aad_engine::model::Model,
        auc: f64,
    ) -> Result<(), CliError> {
        let roc = aad_metrics::roc_curve(&self.scores, &self.labels).map_err(bad)?;
        let n_norm = self.normal();
        // Where the model's threshold operates: its false alarms and catches.
        let r =
            aad_metrics::binary_report(&self.scores, &self.labels, self.threshold).map_err(bad)?;
        let marker = aad_plot::Marker {
            x: r.fpr,
            y: r.recall,
            label: format!(
                "threshold {:.4}: {} of {} caught, {} false alarms",
                self.threshold,
                r.tp,
                r.tp + r.fn_,
                r.fp
            ),
        };
        aad_plot::roc_curves_marked(
            path,
            &[aad_plot::Curve {
                label: format!(
                    "{} on {} (AUC {auc:.3})",
                    model.detector_name(),
                    model.feature().name
                ),
                x: &roc.fpr,
                y: &roc.tpr,
            }],
            &format!(
                "ROC, {} normal vs {} anomalous clips",
                n_norm,
                self.labels.len() - n_norm
            ),
            &[marker],
        )
        .map_err(|e| CliError::failed(e.to_string()))
    }
}
