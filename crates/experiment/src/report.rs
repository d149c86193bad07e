//! `results.csv`, `summary.md` and `results.json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::json;

use crate::config::ExperimentConfig;
use crate::io::{IoError, write_text};
use crate::outcome::{Outcome, ResultRow, format_duration};

/// The header of `results.csv` (a fixed interface).
pub const CSV_HEADER: &str =
    "snr,machine_type,machine_id,feature,model,seed,n_train,n_test_normal,n_test_abnormal,auc,pauc";

/// Quotes a CSV field when it needs it.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The CSV text of `rows` (AUC and pAUC in the shortest form that reads back exactly).
pub fn csv(rows: &[ResultRow]) -> String {
    let mut s = String::with_capacity(64 * (rows.len() + 1));
    s.push_str(CSV_HEADER);
    s.push('\n');
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{}",
            field(&r.snr),
            field(&r.machine_type),
            field(&r.machine_id),
            field(&r.feature),
            field(&r.model),
            r.seed,
            r.n_train,
            r.n_test_normal,
            r.n_test_abnormal,
            r.auc,
            r.pauc
        );
    }
    s
}

/// Writes `results.csv` atomically.
///
/// # Errors
/// An I/O error naming the file.
pub fn write_csv(path: &Path, rows: &[ResultRow]) -> Result<(), IoError> {
    write_text(path, &csv(rows))
}

/// `jobs.csv`: every job's size and times, one row per `results.csv` row (timings, so
/// not byte-identical between runs, unlike `results.csv`).
///
/// # Errors
/// The file cannot be written.
pub fn write_jobs(path: &Path, jobs: &[crate::outcome::JobTime]) -> Result<(), IoError> {
    let mut s =
        String::from("group,feature,model,seed,train_clips,train_vectors,epochs,fit_s,score_s\n");
    for j in jobs {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{:.6},{:.6}",
            j.group,
            j.feature,
            j.model,
            j.seed,
            j.train_clips,
            j.train_vectors,
            j.epochs,
            j.fit_s,
            j.score_s
        );
    }
    write_text(path, &s)
}

/// Mean and sample standard deviation (0 for one value).
fn mean_sd(v: &[f64]) -> (f64, f64) {
    aad_metrics::mean_std(v).unwrap_or((f64::NAN, f64::NAN))
}

/// Order of first appearance.
fn ordered<'a>(it: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in it {
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    }
    out
}

/// Mean, sd and the number of results averaged.
type Cell = (f64, f64, usize);

/// Label cells, then one [`Cell`] per column (`None`: no result).
type TableRow = (Vec<String>, Vec<Option<Cell>>);

fn cell(v: &[f64]) -> Option<Cell> {
    (!v.is_empty()).then(|| {
        let (m, sd) = mean_sd(v);
        (m, sd, v.len())
    })
}

/// A Markdown table whose rows are `(label cells, values per column)`; the best mean of
/// each row is bold. A cell that averages fewer results than the fullest cell of its row
/// (a fit failed, or a feature could not be computed for a group) says so, `(k of n)`,
/// and a note under the table explains it: such means are not comparable.
fn table(head: &[&str], columns: &[String], rows: &[TableRow], with_sd: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "| {} | {} |", head.join(" | "), columns.join(" | "));
    let _ = writeln!(
        s,
        "|{}{}",
        "---|".repeat(head.len()),
        "---:|".repeat(columns.len())
    );
    let mut partial = false;
    for (labels, values) in rows {
        let best = values
            .iter()
            .flatten()
            .map(|v| v.0)
            .fold(f64::NEG_INFINITY, f64::max);
        let full = values.iter().flatten().map(|v| v.2).max().unwrap_or(0);
        let cells: Vec<String> = values
            .iter()
            .map(|v| match v {
                None => "–".to_string(),
                Some((m, sd, n)) => {
                    let mut t = if with_sd {
                        format!("{m:.3} ± {sd:.3}")
                    } else {
                        format!("{m:.3}")
                    };
                    if *m == best {
                        t = format!("**{t}**");
                    }
                    if *n < full {
                        partial = true;
                        t = format!("{t} ({n} of {full})");
                    }
                    t
                }
            })
            .collect();
        let _ = writeln!(s, "| {} | {} |", labels.join(" | "), cells.join(" | "));
    }
    if partial {
        let _ = writeln!(
            s,
            "\n(k of n): this cell averages k results where its row's fullest cell averages \
             n (fits failed or groups were left out for it; see below): its mean covers other \
             machines or seeds and is not directly comparable."
        );
    }
    s
}

/// The Markdown summary: per machine type and SNR, mean ± sd over ids and seeds of AUC
/// and pAUC for every feature × model (best per row in bold), the per-id table, the
/// overall feature comparison, skipped files and groups, and stage timings.
pub fn summary(cfg: &ExperimentConfig, o: &Outcome) -> String {
    let cols = Columns::new(cfg, &o.rows);
    let mut s = summary_header(cfg, o);
    s.push_str(&per_type_and_snr(&cols));
    s.push_str(&features_compared(&cols));
    s.push_str(&per_machine_id(&cols, o));
    s.push_str(&skipped(o));
    let _ = writeln!(s, "## Stage timings ({} threads)\n", o.threads);
    s.push_str(&timing_table(o));
    s
}

/// The feature × model pairs that have rows (in configuration order), the summary's
/// table columns.
struct Columns<'a> {
    rows: &'a [ResultRow],
    combos: Vec<(String, String)>,
    names: Vec<String>,
}

impl<'a> Columns<'a> {
    fn new(cfg: &ExperimentConfig, rows: &'a [ResultRow]) -> Self {
        let mut combos = Vec::new();
        for f in &cfg.features {
            for m in &cfg.models {
                if rows
                    .iter()
                    .any(|r| r.feature == f.name && r.model == m.name)
                {
                    combos.push((f.name.clone(), m.name.clone()));
                }
            }
        }
        let names = combos.iter().map(|(f, m)| format!("{f} / {m}")).collect();
        Columns {
            rows,
            combos,
            names,
        }
    }

    /// Mean ± sd (and count) of `metric` per column over the rows `pred` keeps (`None`:
    /// no row).
    fn collect(
        &self,
        pred: &dyn Fn(&ResultRow) -> bool,
        metric: fn(&ResultRow) -> f64,
    ) -> Vec<Option<Cell>> {
        self.combos
            .iter()
            .map(|(f, m)| {
                let v: Vec<f64> = self
                    .rows
                    .iter()
                    .filter(|r| &r.feature == f && &r.model == m && pred(r))
                    .map(metric)
                    .collect();
                cell(&v)
            })
            .collect()
    }
}

/// The title, the data and settings line, and the protocol paragraph.
fn summary_header(cfg: &ExperimentConfig, o: &Outcome) -> String {
    let mut s = String::new();
    let data = if o.synthetic {
        format!(
            "built-in synthetic machine sounds (seed {})",
            cfg.synthetic.seed
        )
    } else {
        format!("`{}`", o.root.display())
    };
    let _ = writeln!(s, "# Anomaly detection results\n");
    let _ = writeln!(
        s,
        "Data: {data}; {} clips found, {} machine groups evaluated, {} files and {} groups skipped. \
         Channel {}, seeds {:?}, epochs {}.\n",
        o.clips_found,
        o.groups.len(),
        o.skipped_files.len(),
        o.skipped_groups.len(),
        cfg.channel.label(),
        cfg.seeds,
        cfg.epochs
            .map_or_else(|| "as each preset".to_string(), |e| e.to_string())
    );
    let _ = writeln!(
        s,
        "Protocol: one model per (SNR, machine type, machine id), trained on normal clips only; \
         test = held-out normals + anomalies (MIMII baseline split, or the DCASE folders). \
         AUC is ROC-AUC on continuous scores; pAUC is scikit-learn's `max_fpr=0.1` \
         (McClish-standardised: 0.5 = chance). ± is the sample standard deviation over \
         machine ids and seeds. Bold: the best mean in the row.\n"
    );
    s
}

/// AUC and pAUC per machine type and SNR.
fn per_type_and_snr(cols: &Columns<'_>) -> String {
    let rows = cols.rows;
    let types = ordered(rows.iter().map(|r| r.machine_type.as_str()));
    let snrs = ordered(rows.iter().map(|r| r.snr.as_str()));
    let mut s = String::new();
    for (metric_name, metric) in [
        ("AUC", (|r: &ResultRow| r.auc) as fn(&ResultRow) -> f64),
        ("pAUC (p = 0.1)", |r: &ResultRow| r.pauc),
    ] {
        let _ = writeln!(s, "## {metric_name} per machine type and SNR\n");
        let mut trows = Vec::new();
        for t in &types {
            for snr in &snrs {
                if !rows.iter().any(|r| &r.machine_type == t && &r.snr == snr) {
                    continue;
                }
                let vals = cols.collect(&|r| &r.machine_type == t && &r.snr == snr, metric);
                trows.push((vec![t.clone(), snr.clone()], vals));
            }
        }
        s.push_str(&table(&["machine", "SNR"], &cols.names, &trows, true));
        s.push('\n');
    }
    s
}

/// The research question in one table: each feature's mean AUC under each model.
fn features_compared(cols: &Columns<'_>) -> String {
    let features = ordered(cols.combos.iter().map(|(f, _)| f.as_str()));
    let models = ordered(cols.combos.iter().map(|(_, m)| m.as_str()));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## Features compared: AUC per model (mean ± sd over all machines, SNRs, ids, seeds)\n"
    );
    let mut trows = Vec::new();
    for m in &models {
        let vals = features
            .iter()
            .map(|f| {
                let v: Vec<f64> = cols
                    .rows
                    .iter()
                    .filter(|r| &r.feature == f && &r.model == m)
                    .map(|r| r.auc)
                    .collect();
                cell(&v)
            })
            .collect();
        trows.push((vec![m.clone()], vals));
    }
    s.push_str(&table(&["model"], &features, &trows, true));
    s.push('\n');
    s
}

/// AUC per machine id, with its training and test sizes.
fn per_machine_id(cols: &Columns<'_>, o: &Outcome) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## AUC per machine id (mean over seeds)\n");
    let mut trows = Vec::new();
    for g in &o.groups {
        let snr = g.key.snr_label();
        let in_group = |r: &ResultRow| {
            r.snr == snr && r.machine_type == g.key.machine_type && r.machine_id == g.key.machine_id
        };
        if !cols.rows.iter().any(in_group) {
            continue;
        }
        let n_abn = g
            .test
            .iter()
            .filter(|c| c.label == aad_core::Label::Anomalous)
            .count();
        let vals = cols.collect(&in_group, |r| r.auc);
        trows.push((
            vec![
                snr.clone(),
                g.key.machine_type.clone(),
                g.key.machine_id.clone(),
                g.train.len().to_string(),
                format!("{}+{}", g.test.len() - n_abn, n_abn),
            ],
            vals,
        ));
    }
    s.push_str(&table(
        &["SNR", "machine", "id", "train", "test n+a"],
        &cols.names,
        &trows,
        false,
    ));
    s.push('\n');
    s
}

/// Skipped files and groups and failed fits (empty when there are none).
fn skipped(o: &Outcome) -> String {
    let mut s = String::new();
    if !o.skipped_files.is_empty() || !o.skipped_groups.is_empty() || !o.failures.is_empty() {
        let _ = writeln!(s, "## Skipped\n");
        for (p, why) in &o.skipped_files {
            let _ = writeln!(s, "- file `{p}`: {why}");
        }
        for (g, why) in &o.skipped_groups {
            let _ = writeln!(s, "- group {g}: {why}");
        }
        for f in &o.failures {
            let _ = writeln!(s, "- failed: {f}");
        }
        s.push('\n');
    }
    s
}

/// The stage timing table (Markdown; also printed at the end of a run): wall time, the
/// process's CPU time (all threads; twice the wall time means two busy cores) and its
/// peak resident memory so far.
pub fn timing_table(o: &Outcome) -> String {
    let total = o
        .timings
        .iter()
        .find(|t| t.stage == "total")
        .map_or(0.0, |t| t.seconds);
    let mut s = String::from(
        "| stage | wall time | share | CPU time | peak RSS |\n|---|---:|---:|---:|---:|\n",
    );
    for t in &o.timings {
        let share = if total > 0.0 && t.stage != "total" {
            format!("{:.0} %", 100.0 * t.seconds / total)
        } else {
            String::new()
        };
        let cpu = t.cpu_seconds.map_or(String::new(), format_duration);
        let rss = t
            .peak_rss_bytes
            .map_or(String::new(), |b| format!("{:.0} MB", b as f64 / 1e6));
        let _ = writeln!(
            s,
            "| {} | {} | {share} | {cpu} | {rss} |",
            t.stage,
            format_duration(t.seconds)
        );
    }
    s
}

/// Writes `summary.md` atomically.
///
/// # Errors
/// An I/O error naming the file.
pub fn write_summary(path: &Path, cfg: &ExperimentConfig, o: &Outcome) -> Result<(), IoError> {
    write_text(path, &summary(cfg, o))
}

/// Writes `results.json`: the configuration, versions, dataset accounting, cache use,
/// stage timings and per-unit costs.
///
/// # Errors
/// An I/O error naming the file.
pub fn write_json(path: &Path, cfg: &ExperimentConfig, o: &Outcome) -> Result<(), IoError> {
    let v = json!({
        "tool": format!("aad-experiment {}", env!("CARGO_PKG_VERSION")),
        "versions": {
            "aad-experiment": env!("CARGO_PKG_VERSION"),
            "rust_target": format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        },
        "config": config_json(cfg, o),
        "dataset": dataset_json(o),
        "cache": { "hits": o.cache_hits, "misses": o.cache_misses, "rejected": o.cache_rejected },
        "timings_s": o.timings.iter().map(|t| (t.stage.to_string(), json!(t.seconds))).collect::<serde_json::Map<_, _>>(),
        "stage_usage": o.timings.iter().map(|t| (t.stage.to_string(), json!({
            "wall_s": t.seconds,
            "cpu_s": t.cpu_seconds,
            "peak_rss_bytes": t.peak_rss_bytes,
        }))).collect::<serde_json::Map<_, _>>(),
        "costs": costs_json(o),
        "failures": o.failures.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "rows": o.rows.len(),
    });
    let text = serde_json::to_string_pretty(&v).unwrap_or_default();
    write_text(path, &(text + "\n"))
}

/// `results.json`'s `config`: what the run was asked to do.
fn config_json(cfg: &ExperimentConfig, o: &Outcome) -> serde_json::Value {
    json!({
        "data": cfg.data.as_ref().map(|p| p.display().to_string()),
        "synthetic_seed": (cfg.data.is_none()).then_some(cfg.synthetic.seed),
        "machines": cfg.machines,
        "snr": cfg.snr.to_string(),
        "features": cfg.features.iter().map(|f| json!({
            "name": f.name,
            "ae_context": f.ae_context,
            "parameters": f.parameters(),
        })).collect::<Vec<_>>(),
        "models": cfg.models.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        "seeds": cfg.seeds,
        "epochs": cfg.epochs,
        "channel": cfg.channel.label(),
        "sample_rate": cfg.sample_rate,
        "backend": cfg.backend.name(),
        "device": cfg.backend.device(),
        "threads": o.threads,
        "max_fpr": 0.1,
        "crossfit_folds": cfg.crossfit,
    })
}

/// `results.json`'s `dataset`: what was found, evaluated and skipped.
fn dataset_json(o: &Outcome) -> serde_json::Value {
    json!({
        "root": o.root.display().to_string(),
        "synthetic": o.synthetic,
        "clips_found": o.clips_found,
        "groups": o.groups.iter().map(|g| json!({
            "snr": g.key.snr_label(),
            "machine_type": g.key.machine_type,
            "machine_id": g.key.machine_id,
            "protocol": format!("{:?}", g.protocol),
            "n_train": g.train.len(),
            "n_test": g.test.len(),
        })).collect::<Vec<_>>(),
        "skipped_files": o.skipped_files.iter().map(|(p, w)| json!({"path": p, "kind": w.kind(), "reason": w.to_string()})).collect::<Vec<_>>(),
        "skipped_groups": o.skipped_groups.iter().map(|(g, w)| json!({"group": g, "kind": w.kind(), "reason": w.to_string()})).collect::<Vec<_>>(),
    })
}

/// `results.json`'s `costs`: per-unit times of each stage and model.
fn costs_json(o: &Outcome) -> serde_json::Value {
    let per = |m: &BTreeMap<String, (f64, usize)>, scale: f64| -> serde_json::Value {
        m.iter()
            .map(|(k, (s, n))| {
                (
                    k.clone(),
                    json!(if *n > 0 { s / *n as f64 * scale } else { 0.0 }),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let ae: serde_json::Map<String, serde_json::Value> = o
        .costs
        .ae_epochs
        .iter()
        .map(|((f, m), c)| {
            (
                format!("{f} / {m}"),
                json!({
                    "epochs": c.epochs,
                    "seconds_per_epoch": if c.epochs > 0 { c.seconds / c.epochs as f64 } else { 0.0 },
                    "seconds_per_epoch_per_1k_vectors":
                        if c.vector_epochs > 0.0 { c.seconds / c.vector_epochs * 1000.0 } else { 0.0 },
                }),
            )
        })
        .collect();
    json!({
        "decode_ms_per_file": if o.costs.decode.1 > 0 { o.costs.decode.0 / o.costs.decode.1 as f64 * 1e3 } else { 0.0 },
        "extract_ms_per_clip": per(&o.costs.extract, 1e3),
        "fit_s_per_model": per(&o.costs.fit, 1.0),
        "score_ms_per_clip": per(&o.costs.score, 1e3),
        "autoencoder_training": ae,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_averaging_fewer_results_than_its_row_says_so() {
        let cols = ["knn".to_string(), "ae".to_string()];
        let full = cell(&[0.8, 0.6, 0.7, 0.9]);
        let rows = vec![(vec!["fan".to_string()], vec![full, cell(&[0.9, 0.95])])];
        let t = table(&["machine"], &cols, &rows, true);
        assert!(
            t.contains("| 0.750 ± 0.129 | **0.925 ± 0.035** (2 of 4) |"),
            "{t}"
        );
        assert!(t.contains("not directly comparable"), "{t}");
        let even = vec![(
            vec!["fan".to_string()],
            vec![full, cell(&[0.1, 0.2, 0.3, 0.4])],
        )];
        let t = table(&["machine"], &cols, &even, true);
        assert!(!t.contains(" of ") && !t.contains("comparable"), "{t}");
    }
}
