//! `figures/`: ROC curves per machine id, score histograms, training loss curves, and
//! log-Mel / chroma images of a normal and an anomalous clip per machine.
//!
//! All from the first seed. A figure that cannot be drawn is reported, never fatal.

use std::path::{Path, PathBuf};

use aad_core::Label;
use aad_plot::Curve;
use rayon::prelude::*;

use aad_core::FeatureExtractor;

use crate::config::ExperimentConfig;
use crate::outcome::{FigureData, GroupInfo, Outcome};
use crate::progress::StageProgress;
use crate::registry::FeatureSpec;

/// ROC curves drawn per figure at most (the best by AUC).
const MAX_ROC_CURVES: usize = 8;

enum Task {
    Roc(usize),
    Histogram(usize, String),
    Loss(usize),
    Clips(usize),
}

fn slug(g: &GroupInfo) -> String {
    let snr = g.key.snr_label();
    format!("{snr}_{}_{}", g.key.machine_type, g.key.machine_id)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn title(g: &GroupInfo) -> String {
    let snr = g
        .key
        .snr
        .map_or_else(|| "no SNR".to_string(), |s| s.to_string());
    format!("{} {} {snr}", g.key.machine_type, g.key.machine_id)
}

/// Draws every figure on the current rayon pool; returns what could not be drawn.
pub fn draw(cfg: &ExperimentConfig, o: &Outcome, bar: &dyn StageProgress) -> Vec<String> {
    let dir = cfg.out.join("figures");
    let mut tasks = Vec::new();
    let mut seen_machines: Vec<(Option<aad_data::Snr>, String)> = Vec::new();
    for (gi, g) in o.groups.iter().enumerate() {
        if !o.figure_data.iter().any(|d| d.group == gi) {
            continue;
        }
        tasks.push(Task::Roc(gi));
        for f in &cfg.features {
            tasks.push(Task::Histogram(gi, f.name.clone()));
        }
        if o.figure_data
            .iter()
            .any(|d| d.group == gi && !d.history.is_empty())
        {
            tasks.push(Task::Loss(gi));
        }
        let machine = (g.key.snr, g.key.machine_type.clone());
        if !seen_machines.contains(&machine) {
            seen_machines.push(machine);
            tasks.push(Task::Clips(gi));
        }
    }
    bar.set_total(tasks.len() as u64);
    tasks
        .par_iter()
        .flat_map_iter(|t| {
            let r = match t {
                Task::Roc(gi) => roc(cfg, &dir, &o.groups[*gi], data_of(o, *gi)),
                Task::Histogram(gi, f) => histogram(cfg, &dir, &o.groups[*gi], data_of(o, *gi), f),
                Task::Loss(gi) => loss(cfg, &dir, &o.groups[*gi], data_of(o, *gi)),
                Task::Clips(gi) => clips(cfg, &dir, &o.groups[*gi]),
            };
            bar.advance(1);
            r.err().map(|e| e.to_string())
        })
        .collect()
}

fn data_of(o: &Outcome, gi: usize) -> Vec<&FigureData> {
    o.figure_data.iter().filter(|d| d.group == gi).collect()
}

fn auc(d: &FigureData) -> f64 {
    aad_metrics::roc_auc(&d.scores, &d.labels).unwrap_or(f64::NAN)
}

/// Why one figure could not be drawn (the run reports it and goes on).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FigureError {
    /// Drawing or writing the image failed.
    #[error(transparent)]
    Plot(#[from] aad_plot::PlotError),
    /// A clip to draw could not be decoded.
    #[error(transparent)]
    Audio(#[from] aad_audio::AudioError),
    /// A feature to draw could not be planned.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// A feature to draw failed on its clip.
    #[error("{}: {source}", .path.display())]
    Feature {
        /// The clip.
        path: PathBuf,
        /// The extractor's error.
        source: crate::registry::ExtractError,
    },
}

/// ", seed N": the seed every figure's scores come from.
fn seed_note(cfg: &ExperimentConfig) -> String {
    cfg.seeds
        .first()
        .map(|s| format!(", seed {s}"))
        .unwrap_or_default()
}

fn roc(
    cfg: &ExperimentConfig,
    dir: &Path,
    g: &GroupInfo,
    data: Vec<&FigureData>,
) -> Result<(), FigureError> {
    let mut ranked: Vec<(&FigureData, f64)> = data.into_iter().map(|d| (d, auc(d))).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let n = ranked.len();
    ranked.truncate(MAX_ROC_CURVES);
    let curves: Vec<(String, aad_metrics::RocCurve)> = ranked
        .iter()
        .filter_map(|(d, a)| {
            aad_metrics::roc_curve(&d.scores, &d.labels)
                .ok()
                .map(|c| (format!("{} / {} (AUC {a:.3})", d.feature, d.model), c))
        })
        .collect();
    let plotted: Vec<Curve<'_>> = curves
        .iter()
        .map(|(label, c)| Curve {
            label: label.clone(),
            x: &c.fpr,
            y: &c.tpr,
        })
        .collect();
    let suffix = if n > MAX_ROC_CURVES {
        format!(", best {MAX_ROC_CURVES} of {n}")
    } else {
        String::new()
    };
    let path = dir.join("roc").join(format!("{}.png", slug(g)));
    let seed = seed_note(cfg);
    aad_plot::roc_curves(&path, &plotted, &format!("ROC {}{seed}{suffix}", title(g)))?;
    Ok(())
}

fn histogram(
    cfg: &ExperimentConfig,
    dir: &Path,
    g: &GroupInfo,
    data: Vec<&FigureData>,
    feature: &str,
) -> Result<(), FigureError> {
    // The first model (in --models order) that ran on this feature.
    let Some(d) = cfg.models.iter().find_map(|m| {
        data.iter()
            .find(|d| d.feature == feature && d.model == m.name)
    }) else {
        return Ok(());
    };
    let pick = |l: Label| -> Vec<f64> {
        d.scores
            .iter()
            .zip(&d.labels)
            .filter(|(_, x)| **x == l)
            .map(|(s, _)| *s)
            .collect()
    };
    let path = dir
        .join("histograms")
        .join(format!("{}_{}_{}.png", slug(g), d.feature, d.model));
    let threshold = best_balanced_threshold(d).map(|value| aad_plot::Threshold {
        value,
        label: "max TPR - FPR here (after the fact)",
    });
    aad_plot::score_histogram(
        &path,
        &pick(Label::Normal),
        &pick(Label::Anomalous),
        &format!(
            "{} / {}: {} (AUC {:.3}{})",
            d.feature,
            d.model,
            title(g),
            auc(d),
            seed_note(cfg)
        ),
        threshold,
    )?;
    Ok(())
}

/// The score threshold that best separates these test scores (largest TPR - FPR): it
/// shows how far apart the classes lie, and is chosen on the test set, so the figure
/// says so.
fn best_balanced_threshold(d: &FigureData) -> Option<f64> {
    let roc = aad_metrics::roc_curve(&d.scores, &d.labels).ok()?;
    let best = (0..roc.fpr.len())
        .filter(|&i| roc.thresholds[i].is_finite())
        .max_by(|&a, &b| (roc.tpr[a] - roc.fpr[a]).total_cmp(&(roc.tpr[b] - roc.fpr[b])))?;
    Some(roc.thresholds[best])
}

/// Train and validation loss of every autoencoder of the group, one figure each (their
/// inputs are scaled differently, so their losses do not share an axis).
fn loss(
    cfg: &ExperimentConfig,
    dir: &Path,
    g: &GroupInfo,
    data: Vec<&FigureData>,
) -> Result<(), FigureError> {
    for d in data.iter().filter(|d| !d.history.is_empty()) {
        let x: Vec<f64> = d.history.iter().map(|h| h.epoch as f64).collect();
        let train: Vec<f64> = d.history.iter().map(|h| h.train_loss).collect();
        let val: Vec<f64> = d
            .history
            .iter()
            .map(|h| h.val_loss.unwrap_or(f64::NAN))
            .collect();
        let mut curves = vec![Curve {
            label: "training".into(),
            x: &x,
            y: &train,
        }];
        if val.iter().all(|v| v.is_finite()) {
            curves.push(Curve {
                label: "validation".into(),
                x: &x,
                y: &val,
            });
        }
        let path = dir
            .join("loss")
            .join(format!("{}_{}_{}.png", slug(g), d.feature, d.model));
        aad_plot::loss_curves(
            &path,
            &curves,
            &format!(
                "{} / {} loss: {}{}",
                d.feature,
                d.model,
                title(g),
                seed_note(cfg)
            ),
            "MSE (scaled inputs)",
        )?;
    }
    Ok(())
}

/// A log-Mel and a chroma image of the first normal and first anomalous test clip.
fn clips(cfg: &ExperimentConfig, dir: &Path, g: &GroupInfo) -> Result<(), FigureError> {
    let mel = cfg
        .features
        .iter()
        .find(|f| matches!(f.kind, crate::registry::FeatureKind::LogMel(_)))
        .cloned()
        .map_or_else(|| FeatureSpec::parse("logmel_mimii", cfg.sample_rate), Ok)?;
    let chroma = cfg
        .features
        .iter()
        .find(|f| f.is_chroma())
        .cloned()
        .map_or_else(|| FeatureSpec::parse("cens", cfg.sample_rate), Ok)?;
    let decode = cfg.decode_options();
    for label in [Label::Normal, Label::Anomalous] {
        let Some(clip) = g.test.iter().find(|c| c.label == label) else {
            continue;
        };
        let signal = aad_audio::decode_file(&clip.path, &decode)?;
        let name = clip
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let what = match (&clip.anomaly_kind, label) {
            (Some(k), Label::Anomalous) => format!("anomalous ({k})"),
            (_, Label::Anomalous) => "anomalous".to_string(),
            _ => "normal".to_string(),
        };
        for f in [&mel, &chroma] {
            let m = f
                .extractor()?
                .extract(&signal)
                .map_err(|source| FigureError::Feature {
                    path: clip.path.clone(),
                    source,
                })?;
            let path: PathBuf = dir.join("clips").join(format!(
                "{}_{}_{}.png",
                slug(g),
                if label == Label::Normal {
                    "normal"
                } else {
                    "abnormal"
                },
                f.name
            ));
            let t = format!(
                "{} {} {what} {name}: {}",
                g.key.machine_type, g.key.machine_id, f.name
            );
            let spf = f.seconds_per_frame();
            let r = if f.is_chroma() {
                aad_plot::chromagram(&path, m.view(), spf, &t, f.value_desc())
            } else {
                aad_plot::spectrogram(&path, m.view(), spf, &t, f.row_desc(), f.value_desc())
            };
            r?;
        }
    }
    Ok(())
}
