//! The train/score stage's schedule: every (group, feature, model, seed) job on a fixed
//! set of workers, the longest predicted job first, so that the autoencoders start early
//! and the short jobs fill the cores at the end. A worker that finds no job left lends
//! its core to an autoencoder still training (one extra thread each, taken at its next
//! epoch; its model does not depend on the threads).
//!
//! A (group, feature) batch's matrices are loaded when its first job starts and dropped
//! when its last job ends, with at most as many batches loaded as there are workers (the
//! bound the run had when each group worked through its features one at a time). Each
//! job computes what it did before, from the same inputs: results do not depend on the
//! order, and they are returned in the order of the configuration.

use std::sync::{Arc, Condvar, Mutex, OnceLock};

use aad_core::Label;

use crate::config::ExperimentConfig;
use crate::group::{
    Features, GroupError, GroupFeatures, JobKey, JobResult, load_contrast, load_group_features,
    run_job,
};
use crate::outcome::{GroupInfo, JobError};
use crate::progress::{EpochCounter, Progress, SpareCores, StageProgress};
use crate::registry::{FeatureSpec, ModelSpec};

/// Epochs a model trains (1 for the classical detectors): the training bar's unit.
pub(crate) fn epochs_of(cfg: &ExperimentConfig, m: &ModelSpec, f: &FeatureSpec) -> u64 {
    match m.config(f, cfg.epochs) {
        aad_models::DetectorConfig::Autoencoder(c) => c.epochs as u64,
        _ => 1,
    }
}

/// Predicted cost of a job, in arbitrary units: for an autoencoder, epochs x training clips
/// x the network's weights (its forward and backward products); for the other detectors,
/// training clips x the feature's width, a thousandth of the weight (they fit in
/// milliseconds against the autoencoders' seconds). Only the order matters.
pub(crate) fn predicted_cost(
    cfg: &ExperimentConfig,
    m: &ModelSpec,
    f: &FeatureSpec,
    n_train: usize,
) -> f64 {
    match m.config(f, cfg.epochs) {
        aad_models::DetectorConfig::Autoencoder(c) => {
            let dims = c.layer_dims(f.dims() * c.context.max(1));
            let mut inputs = f.dims() * c.context.max(1);
            let mut weights = 0usize;
            for &d in &dims {
                weights += inputs * d;
                inputs = d;
            }
            c.epochs as f64 * n_train as f64 * weights as f64
        }
        _ => n_train as f64 * f.dims() as f64 * 1e-3,
    }
}

/// A finished job: its place in configuration order, its key and what it gave.
type Done = (usize, JobKey, Result<JobResult, GroupError>);

/// One list per group, filled by the workers.
type PerGroup<T> = Mutex<Vec<Vec<T>>>;

/// One (group, feature) batch and its jobs.
struct Batch {
    gi: usize,
    fi: usize,
    /// (model index, seed index, predicted cost), longest first.
    jobs: Vec<(usize, usize, f64)>,
    /// Jobs handed out.
    next: usize,
    /// Jobs not finished.
    left: usize,
    /// The matrices, once a job opened the batch (`None` before, and after the last job).
    data: Option<Arc<OnceLock<Option<GroupFeatures>>>>,
}

struct State {
    batches: Vec<Batch>,
    loaded: usize,
    limit: usize,
}

/// A job handed to a worker.
struct Ticket {
    batch: usize,
    mi: usize,
    si: usize,
    data: Arc<OnceLock<Option<GroupFeatures>>>,
}

impl State {
    /// The longest job a worker may start now: of a loaded batch, or the first of a new
    /// batch while fewer than `limit` are loaded. `None` when nothing may start.
    fn pick(&mut self) -> Option<Ticket> {
        let top = |b: &Batch| b.jobs.get(b.next).map_or(f64::NEG_INFINITY, |j| j.2);
        let open = self.loaded < self.limit;
        let best = (0..self.batches.len())
            .filter(|&i| {
                let b = &self.batches[i];
                b.next < b.jobs.len() && (b.data.is_some() || (open && b.next == 0))
            })
            .max_by(|&a, &b| {
                top(&self.batches[a])
                    .total_cmp(&top(&self.batches[b]))
                    .then(b.cmp(&a))
            })?;
        let b = &mut self.batches[best];
        if b.data.is_none() {
            b.data = Some(Arc::new(OnceLock::new()));
            self.loaded += 1;
        }
        let (mi, si, _) = b.jobs[b.next];
        b.next += 1;
        Some(Ticket {
            batch: best,
            mi,
            si,
            data: b.data.clone()?,
        })
    }

    fn remaining(&self) -> bool {
        self.batches.iter().any(|b| b.next < b.jobs.len())
    }
}

/// What every group's run gave: its labels, the features that could not be loaded, and
/// each job's result in configuration order.
pub(crate) struct GroupRun {
    pub(crate) labels: Vec<Label>,
    pub(crate) load_failures: Vec<JobError>,
    pub(crate) jobs: Vec<(JobKey, Result<JobResult, GroupError>)>,
}

/// Runs every job of every group on `workers` workers of the current rayon pool, longest
/// predicted first; returns one [`GroupRun`] per group, in order.
pub(crate) fn run_all(
    cfg: &ExperimentConfig,
    groups: &[GroupInfo],
    features: &Features,
    workers: usize,
    ui: &dyn Progress,
    bar: &dyn StageProgress,
) -> Vec<GroupRun> {
    let mut batches = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        for (fi, f) in cfg.features.iter().enumerate() {
            let mut jobs: Vec<(usize, usize, f64)> = (0..cfg.models.len())
                .flat_map(|mi| (0..cfg.seeds.len()).map(move |si| (mi, si)))
                .map(|(mi, si)| {
                    (
                        mi,
                        si,
                        predicted_cost(cfg, &cfg.models[mi], f, g.train.len()),
                    )
                })
                .collect();
            jobs.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
            let left = jobs.len();
            batches.push(Batch {
                gi,
                fi,
                jobs,
                next: 0,
                left,
                data: None,
            });
        }
    }
    let state = Mutex::new(State {
        batches,
        loaded: 0,
        limit: workers.max(1),
    });
    let wake = Condvar::new();
    let spare = SpareCores::default();
    let results: PerGroup<Done> = Mutex::new((0..groups.len()).map(|_| Vec::new()).collect());
    let failures: PerGroup<(usize, JobError)> =
        Mutex::new((0..groups.len()).map(|_| Vec::new()).collect());
    let ctx = Ctx {
        cfg,
        groups,
        features,
        ui,
        bar,
        state: &state,
        wake: &wake,
        spare: &spare,
        results: &results,
        failures: &failures,
    };
    rayon::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|_| ctx.work());
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    groups
        .iter()
        .enumerate()
        .map(|(gi, g)| {
            let mut jobs = std::mem::take(&mut results[gi]);
            jobs.sort_by_key(|j| j.0);
            let mut lf = std::mem::take(&mut failures[gi]);
            lf.sort_by_key(|f| f.0);
            GroupRun {
                labels: g.test.iter().map(|c| c.label).collect(),
                load_failures: lf.into_iter().map(|f| f.1).collect(),
                jobs: jobs.into_iter().map(|j| (j.1, j.2)).collect(),
            }
        })
        .collect()
}

/// What the workers share.
struct Ctx<'a> {
    cfg: &'a ExperimentConfig,
    groups: &'a [GroupInfo],
    features: &'a Features,
    ui: &'a dyn Progress,
    bar: &'a dyn StageProgress,
    state: &'a Mutex<State>,
    wake: &'a Condvar,
    /// Cores of the workers that found no job left, lent to autoencoders still training.
    spare: &'a SpareCores,
    results: &'a PerGroup<Done>,
    failures: &'a PerGroup<(usize, JobError)>,
}

impl Ctx<'_> {
    /// Takes jobs until none is left; waits while the loaded batches are at the limit
    /// and none of them has a job to start.
    fn work(&self) {
        loop {
            let ticket = {
                let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    if let Some(t) = st.pick() {
                        break Some(t);
                    }
                    if !st.remaining() {
                        break None;
                    }
                    st = self.wake.wait(st).unwrap_or_else(|e| e.into_inner());
                }
            };
            let Some(t) = ticket else {
                self.spare.release(1);
                self.wake.notify_all();
                return;
            };
            self.run(&t);
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let b = &mut st.batches[t.batch];
            b.left -= 1;
            if b.left == 0 {
                // The batch's matrices go with its last job.
                b.data = None;
                st.loaded -= 1;
                drop(st);
                self.wake.notify_all();
            }
        }
    }

    fn run(&self, t: &Ticket) {
        let (gi, fi) = {
            let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            (st.batches[t.batch].gi, st.batches[t.batch].fi)
        };
        let (cfg, g) = (self.cfg, &self.groups[gi]);
        let (f, m) = (&cfg.features[fi], &cfg.models[t.mi]);
        let seed = cfg.seeds[t.si];
        let x = t.data.get_or_init(|| self.load(gi, fi));
        let units = epochs_of(cfg, m, f);
        let Some(x) = x else {
            // The feature could not be loaded: said once, by the loader.
            self.bar.advance(units);
            return;
        };
        let labels: Vec<Label> = g.test.iter().map(|c| c.label).collect();
        let mut obs = EpochCounter {
            stage: self.bar,
            done: 0,
            spare: Some(self.spare.lease()),
        };
        let r = run_job(f, m, seed, cfg, x, &labels, &mut obs);
        self.bar.advance(units.saturating_sub(obs.done));
        if let Err(why) = &r {
            self.ui.message(&format!(
                "failed {} / {} / {} / seed {seed}: {why}",
                g.key, f.name, m.name
            ));
        }
        let order = (fi * cfg.models.len() + t.mi) * cfg.seeds.len() + t.si;
        self.results.lock().unwrap_or_else(|e| e.into_inner())[gi].push((
            order,
            (fi, t.mi, seed),
            r,
        ));
    }

    /// Loads one group's feature (and the contrast sets where a model needs them); a
    /// failure is recorded and said once.
    fn load(&self, gi: usize, fi: usize) -> Option<GroupFeatures> {
        let (cfg, g) = (self.cfg, &self.groups[gi]);
        let f = &cfg.features[fi];
        self.bar.set_detail(&g.key.to_string());
        let loaded = load_group_features(g, f, fi, self.features, &cfg.models).and_then(|mut x| {
            x.contrast = load_contrast(self.groups, g, f, fi, self.features, &cfg.models)?;
            Ok(x)
        });
        match loaded {
            Ok(x) => Some(x),
            Err(reason) => {
                let e = JobError::Features {
                    group: g.key.to_string(),
                    feature: f.name.clone(),
                    reason: reason.to_string(),
                };
                self.ui.message(&format!("failed {e}"));
                self.failures.lock().unwrap_or_else(|e| e.into_inner())[gi].push((fi, e));
                None
            }
        }
    }
}
