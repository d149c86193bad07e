//! The small-data protocol: k-fold cross-fitting of each group's normal clips, so that
//! every normal clip is a test clip (scored by a model that did not see it), and a
//! percentile bootstrap interval of the mean AUC per machine type.
//!
//! With the MIMII split a machine id of a small set tests on 5 normal and 5 anomalous
//! clips, and one clip moves its AUC by up to 0.2. Cross-fitting uses every normal clip:
//! the normals are dealt into `k` folds (seeded); the model of fold `i` trains on the
//! other folds and scores fold `i`'s normals and every anomalous clip. The AUC counts the
//! (normal, anomalous) pairs scored by the same model, so scores of different models are
//! never compared. The interval resamples clips with replacement within each group and
//! class (the same draw for every seed of a group) and averages the groups' AUCs again.
//! A difference between two configurations that lies inside these intervals is no
//! difference.

use aad_core::Label;
use ndarray::Array2;
use rayon::prelude::*;

use crate::config::ExperimentConfig;
use crate::group::{
    Contrast, Features, GroupError, GroupFeatures, domain_index, fit_score, load_contrast,
    load_group_features,
};
use crate::outcome::GroupInfo;
use crate::progress::{Progress, StageProgress};
use crate::registry::{FeatureSpec, ModelSpec};

// The data this stage produces, under this module's name as before.
use crate::heldout::summarise;
pub use crate::heldout::{
    CSV_HEADER, CrossFit, CrossFitRow, CrossFitSummary, HeldOut, RESAMPLES, folds,
    mean_auc_interval, write,
};

/// Cross-fits every group × feature × model × seed with `k` folds (groups in parallel on
/// the current pool) and summarises per machine type.
pub(crate) fn run(
    cfg: &ExperimentConfig,
    k: usize,
    groups: &[GroupInfo],
    features: &Features,
    ui: &dyn Progress,
) -> CrossFit {
    let jobs = cfg.features.len() * cfg.models.len() * cfg.seeds.len();
    let bar = ui.stage("crossfit", (groups.len() * jobs) as u64);
    let results: Vec<(Vec<CrossFitRow>, Vec<String>)> = groups
        .par_iter()
        .enumerate()
        .map(|(gi, _)| {
            let r = group_rows(cfg, k, (gi, groups), features, &*bar);
            bar.advance(jobs as u64);
            r
        })
        .collect();
    bar.finish();
    let mut out = CrossFit::default();
    for (rows, failures) in results {
        out.rows.extend(rows);
        out.failures.extend(failures);
    }
    for f in &out.failures {
        ui.message(&format!("crossfit failed {f}"));
    }
    out.summary = summarise(&out.rows);
    out
}

/// One group's cross-fitted jobs, one feature's matrices in memory at a time.
fn group_rows(
    cfg: &ExperimentConfig,
    k: usize,
    (gi, groups): (usize, &[GroupInfo]),
    features: &Features,
    bar: &dyn StageProgress,
) -> (Vec<CrossFitRow>, Vec<String>) {
    let g = &groups[gi];
    bar.set_detail(&g.key.to_string());
    let (mut rows, mut failures) = (Vec::new(), Vec::new());
    for (fi, f) in cfg.features.iter().enumerate() {
        let loaded = load_group_features(g, f, fi, features, &[])
            .and_then(|x| Ok((x, load_contrast(groups, g, f, fi, features, &cfg.models)?)));
        let (x, contrast) = match loaded {
            Ok(x) => x,
            Err(why) => {
                failures.push(format!("{} / {}: {why}", g.key, f.name));
                continue;
            }
        };
        let clips = by_class(g, x);
        let keys: Vec<(usize, u64)> = (0..cfg.models.len())
            .flat_map(|mi| cfg.seeds.iter().map(move |&s| (mi, s)))
            .collect();
        let done: Vec<_> = keys
            .par_iter()
            .map(|&(mi, seed)| {
                let m = &cfg.models[mi];
                held_out(cfg, f, m, seed, k, (&clips, &contrast)).map_err(|why| {
                    format!("{} / {} / {} / seed {seed}: {why}", g.key, f.name, m.name)
                })
            })
            .collect();
        for (&(mi, seed), r) in keys.iter().zip(done) {
            match r {
                Ok((held_out, folds)) => rows.push(CrossFitRow {
                    group: gi,
                    snr: g.key.snr_label(),
                    machine_type: g.key.machine_type.clone(),
                    machine_id: g.key.machine_id.clone(),
                    feature: f.name.clone(),
                    model: cfg.models[mi].name.clone(),
                    seed,
                    folds,
                    held_out,
                }),
                Err(e) => failures.push(e),
            }
        }
    }
    (rows, failures)
}

/// A group's matrices by class: (every normal clip, every anomalous clip).
fn by_class(g: &GroupInfo, x: GroupFeatures) -> ByClass {
    let mut normal = x.train;
    let mut domains = x.train_domains;
    let mut anomalous = Vec::new();
    for (c, m) in g.test.iter().zip(x.test) {
        match c.label {
            Label::Normal => {
                normal.push(m);
                domains.push(domain_index(c));
            }
            Label::Anomalous => anomalous.push(m),
        }
    }
    ByClass {
        normal,
        domains,
        anomalous,
    }
}

/// A group's clips by class, with each normal clip's domain.
struct ByClass {
    normal: Vec<Array2<f32>>,
    domains: Vec<usize>,
    anomalous: Vec<Array2<f32>>,
}

/// Fits one model per fold and collects the held-out scores; returns them and the number
/// of folds used (at most one per normal clip).
fn held_out(
    cfg: &ExperimentConfig,
    f: &FeatureSpec,
    m: &ModelSpec,
    seed: u64,
    k: usize,
    (clips, contrast): (&ByClass, &Contrast),
) -> Result<(HeldOut, usize), GroupError> {
    let (normal, anomalous) = (&clips.normal, &clips.anomalous);
    let k = k.min(normal.len());
    if k < 2 || anomalous.is_empty() {
        return Err(GroupError::TooFewForCrossFitting {
            normal: normal.len(),
            anomalous: anomalous.len(),
        });
    }
    let fold = folds(normal.len(), k, seed);
    let mut out = HeldOut {
        normal: vec![(0, f64::NAN); normal.len()],
        anomalous: vec![vec![f64::NAN; k]; anomalous.len()],
    };
    for i in 0..k {
        let pick = |want: bool| -> Vec<Array2<f32>> {
            (0..normal.len())
                .filter(|&j| (fold[j] == i) == want)
                .map(|j| normal[j].clone())
                .collect()
        };
        let mut test = pick(true);
        let n_held = test.len();
        test.extend(anomalous.iter().cloned());
        let mut x = GroupFeatures::new(pick(false), test, f, std::slice::from_ref(m))?;
        x.contrast = contrast.clone();
        x.train_domains = (0..normal.len())
            .filter(|&j| fold[j] != i)
            .map(|j| clips.domains[j])
            .collect();
        let scores = fit_score(f, m, seed, cfg, &x, &mut ())?.scores;
        let held = (0..normal.len()).filter(|&j| fold[j] == i);
        for (j, &s) in held.zip(&scores[..n_held]) {
            out.normal[j] = (i, s);
        }
        for (a, &s) in out.anomalous.iter_mut().zip(&scores[n_held..]) {
            a[i] = s;
        }
    }
    Ok((out, k))
}
