//! The MIMII / DCASE experiment, end to end: discover → split → extract (cached, in
//! parallel) → fit and score every (SNR, machine type, machine id) × feature × model ×
//! seed → metrics, tables and figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use aad_audio::Decoder;
use aad_core::Label;
use aad_data::{Clip, GroupKey, Protocol, discover, generate, split};
use ndarray::Array2;

use crate::cache::{ContentHash, FeatureCache, FeatureDir};
use crate::group::{Features, GroupError, JobResult, checked_extract, result_row};
use crate::progress::{LogProgress, MessagesOnly, Progress, grouped};
use crate::registry::{AnyExtractor, FeatureSpec, ModelSpec};
use crate::schedule::epochs_of;

// The types a run takes and gives live in their own modules (the reports and figures
// read them without depending on this one); re-exported here under their old paths.
pub use crate::config::{ExperimentConfig, ExperimentError, SnrFilter, default_cache_dir};
pub use crate::group::{
    ClipError, ContrastSets, GroupJob, GroupRows, TrainTest, contrast_files, fit_score_group,
    fit_score_group_with_contrast,
};
pub use crate::outcome::{
    AeCost, Costs, FigureData, GroupInfo, GroupSkipReason, JobError, Outcome, ResultRow,
    SkipReason, StageTime, format_duration,
};
use crate::outcome::{StageStart, process_usage};

/// Runs the experiment and writes `results.csv`, `summary.md`, `results.json` and
/// `figures/` into `cfg.out`: the stages data (discover or generate), split,
/// extract (cached, in parallel), fit and score, figures, report.
///
/// # Errors
/// A bad configuration, an unreadable dataset root, no evaluable group, or an output
/// that cannot be written. Bad files, too-small groups and failed fits are reported in
/// the outcome and the run goes on.
pub fn run(cfg: &ExperimentConfig) -> Result<Outcome, ExperimentError> {
    if cfg.progress {
        run_with(cfg, &LogProgress::start())
    } else {
        run_with(cfg, &MessagesOnly)
    }
}

/// [`run`], reporting messages and stage progress to `ui` (the `aad` command passes
/// terminal bars; [`run`] plain timed lines, or messages only without
/// [`ExperimentConfig::progress`]).
///
/// # Errors
/// As [`run`].
pub fn run_with(cfg: &ExperimentConfig, ui: &dyn Progress) -> Result<Outcome, ExperimentError> {
    cfg.validate()?;
    let t_total = StageStart::now();
    if let Some(note) = prepare_out(&cfg.out, cfg.overwrite)? {
        ui.message(&note);
    }
    let threads = if cfg.jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        cfg.jobs
    };
    let pool = crate::batch::pool(threads)?;
    announce_backend(cfg, ui);
    let mut timings = Vec::new();
    let data = stage_data(cfg, ui, &mut timings)?;
    let t = StageStart::now();
    let report = split(&data.clips, Protocol::Auto);
    let mut skipped_groups = too_small(&report);
    grouped(ui, "skipped", "group", &skipped_groups);
    stage(&mut timings, "split", t);
    let t = StageStart::now();
    let mut skipped_files = data.skipped_files;
    let features = stage_extract(cfg, &report, &pool, ui, &mut skipped_files)?;
    stage(&mut timings, "extract", t);
    let groups = usable_or_empty(
        &report,
        &features.hashes,
        ui,
        &mut skipped_files,
        &mut skipped_groups,
    )?;
    let t = StageStart::now();
    let mut costs = features.costs.clone();
    let trained = stage_fit_score(cfg, &groups, &features, &pool, ui, &mut costs)?;
    stage(&mut timings, "train_score", t);
    let crossfit = cfg.crossfit.map(|k| {
        let t = StageStart::now();
        let cf = pool.install(|| crate::crossfit::run(cfg, k, &groups, &features, ui));
        stage(&mut timings, "crossfit", t);
        cf
    });
    let cache_rejected = features.cache.rejected();
    if cache_rejected > 0 {
        ui.message(&format!(
            "{cache_rejected} cache entries were made from other files or features (replaced by hand?): recomputed"
        ));
    }
    let mut outcome = Outcome {
        root: data.root,
        synthetic: data.synthetic,
        clips_found: data.clips_found,
        groups,
        rows: trained.rows,
        skipped_files,
        skipped_groups,
        failures: trained.failures,
        cache_hits: features.hits,
        cache_misses: features.misses,
        cache_rejected,
        timings: Vec::new(),
        costs,
        figure_data: trained.figure_data,
        threads,
        crossfit,
    };
    if cfg.figures {
        let t = StageStart::now();
        draw_figures(cfg, &outcome, &pool, ui);
        stage(&mut timings, "figures", t);
    }
    // Writing the reports takes milliseconds; the total is taken just before.
    stage(&mut timings, "total", t_total);
    outcome.timings = timings;
    write_reports(cfg, &outcome)?;
    drop(data.tmp);
    Ok(outcome)
}

/// The groups the split could not use, with its reason.
fn too_small(report: &aad_data::SplitReport) -> Vec<(String, GroupSkipReason)> {
    report
        .unsplittable
        .iter()
        .map(|u| {
            let why = GroupSkipReason::TooSmall(u.reason.clone());
            (u.key.to_string(), why)
        })
        .collect()
}

/// Says where autoencoders train, and warns when candle was asked for and found no GPU.
fn announce_backend(cfg: &ExperimentConfig, ui: &dyn Progress) {
    if cfg.models.iter().any(ModelSpec::is_autoencoder) {
        let device = cfg.backend.device();
        ui.message(&format!(
            "autoencoders train on the {} backend ({device})",
            cfg.backend.name()
        ));
        if cfg.backend == aad_models::Backend::Candle && device != "cuda:0" {
            ui.message("warning: --backend candle found no GPU in this build or machine: training on the CPU");
        }
    }
}

fn draw_figures(cfg: &ExperimentConfig, o: &Outcome, pool: &rayon::ThreadPool, ui: &dyn Progress) {
    let bar = ui.stage("figures", 0);
    let warnings = pool.install(|| crate::figures::draw(cfg, o, &*bar));
    bar.finish();
    for w in warnings {
        ui.message(&format!("figure not drawn: {w}"));
    }
}

/// `results.csv`, `summary.md`, `results.json` and, when cross-fitted, `crossfit.*`.
fn write_reports(cfg: &ExperimentConfig, o: &Outcome) -> Result<(), ExperimentError> {
    crate::report::write_csv(&cfg.out.join("results.csv"), &o.rows)?;
    crate::report::write_jobs(&cfg.out.join("jobs.csv"), &o.costs.jobs)?;
    crate::report::write_summary(&cfg.out.join("summary.md"), cfg, o)?;
    crate::report::write_json(&cfg.out.join("results.json"), cfg, o)?;
    if let Some(cf) = &o.crossfit {
        crate::crossfit::write(&cfg.out, cf)?;
    }
    Ok(())
}

/// What the data stage found.
struct DataStage {
    /// The dataset root.
    pub root: PathBuf,
    /// Whether it was generated.
    pub synthetic: bool,
    /// Clips found before the machine and SNR filters.
    pub clips_found: usize,
    /// Clips kept.
    pub clips: Vec<Clip>,
    /// Files that are not clips: (path, reason).
    pub skipped_files: Vec<(String, SkipReason)>,
    /// The generated dataset's folder, removed when dropped.
    tmp: Option<tempfile::TempDir>,
}

/// Discovers the dataset of `cfg.data` (or generates the synthetic one) and keeps the
/// clips of the configured machine types and SNRs.
///
/// # Errors
/// An unreadable root, a generation failure, or no clip left after the filters.
fn stage_data(
    cfg: &ExperimentConfig,
    ui: &dyn Progress,
    timings: &mut Vec<StageTime>,
) -> Result<DataStage, ExperimentError> {
    let t = StageStart::now();
    let (root, tmp) = match &cfg.data {
        Some(d) => (d.clone(), None),
        None => {
            let tmp = tempfile::tempdir().map_err(|source| crate::io::IoError {
                path: std::env::temp_dir(),
                source,
            })?;
            ui.message(&format!(
                "no --data: generating the synthetic dataset (seed {}) in {}",
                cfg.synthetic.seed,
                tmp.path().display()
            ));
            generate(&cfg.synthetic, tmp.path())?;
            stage(timings, "generate", t);
            (tmp.path().to_path_buf(), Some(tmp))
        }
    };
    let t = StageStart::now();
    let (clips_found, clips, skipped_files) = discover_filtered(cfg, &root)?;
    grouped(ui, "skipped", "file", &skipped_files);
    stage(timings, "discover", t);
    Ok(DataStage {
        synthetic: tmp.is_some(),
        root,
        clips_found,
        clips,
        skipped_files,
        tmp,
    })
}

/// (clips found before filtering, clips kept, files that are not clips: (path, reason)).
type Discovered = (usize, Vec<Clip>, Vec<(String, SkipReason)>);

/// Discovers the clips under `root` and keeps those of the configured machine types and
/// SNRs: (clips found before filtering, clips kept, files that are not clips).
fn discover_filtered(cfg: &ExperimentConfig, root: &Path) -> Result<Discovered, ExperimentError> {
    let found = discover(root)?;
    let skipped_files: Vec<(String, SkipReason)> = found
        .skipped
        .iter()
        .map(|s| {
            let why = SkipReason::NotAClip(s.reason.clone());
            (s.path.display().to_string(), why)
        })
        .collect();
    let clips: Vec<Clip> = found
        .clips
        .iter()
        .filter(|c| {
            cfg.machines
                .as_ref()
                .is_none_or(|m| m.iter().any(|x| x == &c.machine_type))
        })
        .filter(|c| cfg.snr.keeps(c.snr))
        .cloned()
        .collect();
    if clips.is_empty() {
        return Err(ExperimentError::Empty(format!(
            "{} holds {} clips, none of machine types {} at SNR {}",
            root.display(),
            found.clips.len(),
            cfg.machines
                .as_ref()
                .map_or("(all)".into(), |m| m.join(", ")),
            cfg.snr
        )));
    }
    Ok((found.clips.len(), clips, skipped_files))
}

/// Every clip of a split's groups once, sorted by path.
fn unique_clips(report: &aad_data::SplitReport) -> Vec<&Clip> {
    let mut unique: Vec<&Clip> = report
        .groups
        .iter()
        .flat_map(|g| g.train.iter().chain(&g.test))
        .collect();
    unique.sort_by(|a, b| a.path.cmp(&b.path));
    unique.dedup_by(|a, b| a.path == b.path);
    unique
}

/// The experiment's first stage, for runners other than [`run`]: the dataset's clips of
/// the configured machine types and SNRs, split into groups.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Dataset root.
    pub root: PathBuf,
    /// Clips found before the machine and SNR filters.
    pub clips_found: usize,
    /// The groups' train/test splits, and the groups that cannot be split.
    pub report: aad_data::SplitReport,
    /// Files under the root that are not clips: (path, reason).
    pub skipped_files: Vec<(String, SkipReason)>,
}

impl Plan {
    /// Every clip to extract, once each, sorted by path.
    pub fn clips(&self) -> Vec<&Clip> {
        unique_clips(&self.report)
    }
}

/// Discovers and splits `cfg.data` as [`run`] does (without generating: `cfg.data` must
/// be set). Then extract [`Plan::clips`] ([`ClipExtractor`]), keep the
/// [`usable_groups`], and [`fit_score_group`] each.
///
/// # Errors
/// No `cfg.data`, an invalid configuration, an unreadable root, or no clip left after the
/// filters.
pub fn plan(cfg: &ExperimentConfig) -> Result<Plan, ExperimentError> {
    cfg.validate()?;
    let root = cfg
        .data
        .clone()
        .ok_or_else(|| ExperimentError::Config("a plan needs a dataset folder (data)".into()))?;
    let (clips_found, clips, skipped_files) = discover_filtered(cfg, &root)?;
    Ok(Plan {
        report: split(&clips, Protocol::Auto),
        root,
        clips_found,
        skipped_files,
    })
}

/// Reads, hashes, decodes and extracts every clip of the split's groups once (in
/// parallel, through the cache). Unreadable clips are added to `skipped_files`.
///
/// # Errors
/// A feature that cannot be planned, or a cache folder that cannot be written.
fn stage_extract(
    cfg: &ExperimentConfig,
    report: &aad_data::SplitReport,
    pool: &rayon::ThreadPool,
    ui: &dyn Progress,
    skipped_files: &mut Vec<(String, SkipReason)>,
) -> Result<Features, ExperimentError> {
    let decode = cfg.decode_options();
    let cache = FeatureCache::new(
        cfg.cache
            .clone()
            .unwrap_or_else(|| default_cache_dir(&cfg.out)),
    );
    let dirs: Vec<FeatureDir> = cfg
        .features
        .iter()
        .map(|f| cache.feature_dir(f, &decode))
        .collect();
    for f in &cfg.features {
        cache.describe(f, &decode)?;
    }
    let orphans: usize = dirs.iter().map(|d| cache.remove_orphans(&d.path)).sum();
    if orphans > 0 {
        ui.message(&format!(
            "removed {orphans} temporary files an interrupted run left in the cache"
        ));
    }
    let extractors: Vec<AnyExtractor> = cfg
        .features
        .iter()
        .map(FeatureSpec::extractor)
        .collect::<Result<_, _>>()?;
    let unique = unique_clips(report);
    let bar = ui.stage("extract", unique.len() as u64);
    let paths: Vec<&Path> = unique.iter().map(|c| c.path.as_path()).collect();
    let extracted: Vec<Result<ExtractedClip, GroupError>> = pool.install(|| {
        crate::batch::for_each_file(
            &paths,
            &decode,
            || extractors.clone(),
            |fxs, file| {
                let r = extract_clip(file, &cache, &dirs, fxs);
                bar.advance(1);
                r
            },
        )
    });
    bar.finish();
    let mut out = Features {
        cache,
        dirs,
        decode,
        hashes: BTreeMap::new(),
        costs: Costs::default(),
        hits: 0,
        misses: 0,
    };
    let mut unreadable = Vec::new();
    for (clip, r) in unique.iter().zip(extracted) {
        match r {
            Ok(e) => out.record(clip, e, &cfg.features),
            Err(why) => {
                let why = crate::batch::reason(&clip.path, &why);
                let file = clip.path.display().to_string();
                unreadable.push((file, SkipReason::Unreadable(why)));
            }
        }
    }
    grouped(ui, "skipped", "file", &unreadable);
    skipped_files.extend(unreadable);
    ui.message(&format!(
        "features: {} clips x {} features, {} from the cache ({}), {} extracted",
        out.hashes.len(),
        cfg.features.len(),
        out.hits,
        out.cache.root().display(),
        out.misses
    ));
    Ok(out)
}

impl Features {
    /// Adds one extracted clip's hash and costs.
    fn record(&mut self, clip: &Clip, e: ExtractedClip, features: &[FeatureSpec]) {
        self.hashes.insert(clip.path.clone(), e.hash);
        if let Some(s) = e.decode_s {
            self.costs.decode.0 += s;
            self.costs.decode.1 += 1;
        }
        for (f, s) in features.iter().zip(&e.extract_s) {
            match s {
                Some(s) => {
                    self.misses += 1;
                    let c = self.costs.extract.entry(f.name.clone()).or_default();
                    c.0 += s;
                    c.1 += 1;
                }
                None => self.hits += 1,
            }
        }
    }
}

/// What [`usable_groups`] keeps and leaves out.
#[derive(Debug, Clone, Default)]
pub struct UsableGroups {
    /// The groups to evaluate.
    pub groups: Vec<GroupInfo>,
    /// Groups left out, as (group, reason).
    pub skipped: Vec<(String, GroupSkipReason)>,
    /// Files left out because another file holds the same audio, as (file, reason).
    pub duplicates: Vec<(String, SkipReason)>,
}

/// The groups to evaluate once extraction has shown which files decode and what they
/// hold (`content`: the file's content hash, `None` when it did not decode). The
/// readable clips of a split's groups are split again, so an unreadable clip never
/// changes who trains (with the MIMII split, a broken anomalous file would otherwise
/// move a normal clip from training to test). The same audio reached through several
/// files of a group counts once (the first path is kept), so it can never sit in
/// training and in test; audio labelled both normal and anomalous there is left out
/// altogether. Groups left
/// without a training clip or without both classes in test are returned with the
/// reason. The same rule for every runner.
pub fn usable_groups(
    report: &aad_data::SplitReport,
    content: impl Fn(&Path) -> Option<ContentHash>,
) -> UsableGroups {
    let mut readable: Vec<(Clip, ContentHash)> = report
        .groups
        .iter()
        .flat_map(|g| g.train.iter().chain(&g.test))
        .filter_map(|c| content(&c.path).map(|h| (c.clone(), h)))
        .collect();
    readable.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    let (clips, duplicates) = drop_duplicates(readable);
    let again = split(&clips, Protocol::Auto);
    let mut skipped: Vec<(String, GroupSkipReason)> = report
        .groups
        .iter()
        .filter(|g| {
            !again.groups.iter().any(|h| h.key == g.key)
                && !again.unsplittable.iter().any(|u| u.key == g.key)
        })
        .map(|g| (g.key.to_string(), GroupSkipReason::NoReadableClip))
        .collect();
    skipped.extend(again.unsplittable.iter().map(|u| {
        (
            u.key.to_string(),
            GroupSkipReason::TooSmallWhenReadable(u.reason.clone()),
        )
    }));
    let mut groups = Vec::new();
    for g in again.groups {
        let n_abn = g.n_test_abnormal();
        let why = if g.train.is_empty() {
            Some(GroupSkipReason::NoReadableTrainingClip)
        } else if n_abn == 0 || n_abn == g.test.len() {
            Some(GroupSkipReason::OneClassTest)
        } else {
            None
        };
        match why {
            Some(w) => skipped.push((g.key.to_string(), w)),
            None => groups.push(GroupInfo {
                key: g.key,
                protocol: g.protocol,
                train: g.train,
                test: g.test,
            }),
        }
    }
    // The order of the former (group, reason text) pairs.
    skipped.sort_by_cached_key(|(g, w)| (g.clone(), w.to_string()));
    UsableGroups {
        groups,
        skipped,
        duplicates,
    }
}

/// Keeps one clip per content hash within each group (`clips` sorted by path: the
/// first path wins); audio found under both labels in a group is dropped in every copy.
/// Across groups copies stay: each group is evaluated on its own, and the DCASE 2020
/// development set, for one, reuses MIMII recordings.
fn drop_duplicates(clips: Vec<(Clip, ContentHash)>) -> (Vec<Clip>, Vec<(String, SkipReason)>) {
    let mut first: BTreeMap<(GroupKey, ContentHash), (PathBuf, Label)> = BTreeMap::new();
    let mut conflicting = std::collections::BTreeSet::new();
    for (c, h) in &clips {
        let k = (c.group(), *h);
        match first.get(&k) {
            Some((_, label)) if *label != c.label => {
                conflicting.insert(k);
            }
            Some(_) => {}
            None => {
                first.insert(k, (c.path.clone(), c.label));
            }
        }
    }
    let mut kept = Vec::with_capacity(clips.len());
    let mut dropped = Vec::new();
    for (c, h) in clips {
        let k = (c.group(), h);
        let (path, _) = &first[&k];
        if conflicting.contains(&k) {
            let first = path.clone();
            dropped.push((
                c.path.display().to_string(),
                SkipReason::ConflictingLabels { first },
            ));
        } else if *path != c.path {
            let kept = path.clone();
            dropped.push((c.path.display().to_string(), SkipReason::Duplicate { kept }));
        } else {
            kept.push(c);
        }
    }
    (kept, dropped)
}

/// [`usable_groups`] with the skipped groups reported; an error when none is left.
fn usable_or_empty(
    report: &aad_data::SplitReport,
    hashes: &BTreeMap<PathBuf, ContentHash>,
    ui: &dyn Progress,
    skipped_files: &mut Vec<(String, SkipReason)>,
    skipped_groups: &mut Vec<(String, GroupSkipReason)>,
) -> Result<Vec<GroupInfo>, ExperimentError> {
    let UsableGroups {
        groups,
        skipped,
        duplicates,
    } = usable_groups(report, |p| hashes.get(p).copied());
    grouped(ui, "left out", "file", &duplicates);
    skipped_files.extend(duplicates);
    grouped(ui, "skipped", "group", &skipped);
    skipped_groups.extend(skipped);
    if groups.is_empty() {
        return Err(ExperimentError::Empty(
            "no machine group has readable training clips and both classes in its test set".into(),
        ));
    }
    Ok(groups)
}

/// What fitting and scoring gave.
struct Trained {
    /// One row per fit.
    pub rows: Vec<ResultRow>,
    /// Jobs that failed.
    pub failures: Vec<JobError>,
    /// Scores and curves of the first seed.
    pub figure_data: Vec<FigureData>,
}

/// Fits and scores every group × feature × model × seed, groups and jobs in parallel.
///
/// # Errors
/// Every fit failed.
fn stage_fit_score(
    cfg: &ExperimentConfig,
    groups: &[GroupInfo],
    features: &Features,
    pool: &rayon::ThreadPool,
    ui: &dyn Progress,
    costs: &mut Costs,
) -> Result<Trained, ExperimentError> {
    let units_per_group: u64 = cfg
        .features
        .iter()
        .flat_map(|f| cfg.models.iter().map(move |m| (f, m)))
        .map(|(f, m)| epochs_of(cfg, m, f) * cfg.seeds.len() as u64)
        .sum();
    let bar = ui.stage("train", units_per_group * groups.len() as u64);
    // Every job of every group on the pool's threads, the longest predicted first (see
    // `schedule`): at most one (group, feature) batch's matrices per thread in memory.
    let runs = pool.install(|| {
        crate::schedule::run_all(cfg, groups, features, pool.current_num_threads(), ui, &*bar)
    });
    let mut out = Trained {
        rows: Vec::new(),
        failures: Vec::new(),
        figure_data: Vec::new(),
    };
    for (gi, (g, run)) in groups.iter().zip(runs).enumerate() {
        out.failures.extend(run.load_failures);
        for ((fi, mi, seed), r) in run.jobs {
            let (f, m) = (&cfg.features[fi], &cfg.models[mi]);
            match r {
                Ok(j) => out.add(cfg, gi, g, f, m, seed, j, &run.labels, costs),
                Err(reason) => out
                    .failures
                    .push(JobError::job(&g.key, &f.name, &m.name, seed, &reason)),
            }
        }
    }
    bar.finish();
    if out.rows.is_empty() {
        return Err(ExperimentError::Empty(format!(
            "every fit failed; first failure: {}",
            out.failures
                .first()
                .map_or_else(|| "none".to_string(), ToString::to_string)
        )));
    }
    Ok(out)
}

impl Trained {
    /// Adds one successful job: its row, its costs, and its scores for the figures when
    /// it is of the first seed.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        cfg: &ExperimentConfig,
        gi: usize,
        g: &GroupInfo,
        f: &FeatureSpec,
        m: &ModelSpec,
        seed: u64,
        j: JobResult,
        labels: &[Label],
        costs: &mut Costs,
    ) {
        let c = costs.fit.entry(m.name.clone()).or_default();
        c.0 += j.fit_s;
        c.1 += 1;
        let c = costs.score.entry(m.name.clone()).or_default();
        c.0 += j.score_s;
        c.1 += labels.len();
        if !j.history.is_empty() {
            let c = costs
                .ae_epochs
                .entry((f.name.clone(), m.name.clone()))
                .or_default();
            c.seconds += j.history.iter().map(|h| h.seconds).sum::<f64>();
            c.epochs += j.history.len();
            c.vector_epochs += j.train_vectors as f64 * j.history.len() as f64;
        }
        costs.jobs.push(crate::outcome::JobTime {
            group: g.key.to_string(),
            feature: f.name.clone(),
            model: m.name.clone(),
            seed,
            train_clips: g.train.len(),
            train_vectors: j.train_vectors,
            epochs: j.history.len(),
            fit_s: j.fit_s,
            score_s: j.score_s,
        });
        self.rows
            .push(result_row(&g.key, g.train.len(), f, m, seed, &j, labels));
        if seed == cfg.seeds[0] {
            self.figure_data.push(FigureData {
                group: gi,
                feature: f.name.clone(),
                model: m.name.clone(),
                scores: j.scores,
                labels: labels.to_vec(),
                history: j.history,
            });
        }
    }
}

/// Decodes a clip and computes every configured feature: the extraction stage for
/// runners that shard files themselves. Planned once ([`new`](Self::new)), used for
/// many clips; the matrices equal those [`run`] caches.
pub struct ClipExtractor {
    decoder: Decoder,
    extractors: Vec<AnyExtractor>,
    features: Vec<FeatureSpec>,
}

impl ClipExtractor {
    /// Plans `cfg`'s features and decoding (channel, sample rate, minimum length).
    ///
    /// # Errors
    /// A feature that cannot be planned.
    pub fn new(cfg: &ExperimentConfig) -> Result<Self, ExperimentError> {
        Ok(ClipExtractor {
            decoder: Decoder::new(cfg.decode_options()),
            extractors: cfg
                .features
                .iter()
                .map(FeatureSpec::extractor)
                .collect::<Result<_, _>>()?,
            features: cfg.features.clone(),
        })
    }

    /// The clip's features, one matrix (frames × dims) per configured feature.
    ///
    /// # Errors
    /// [`ClipError`]: the file cannot be read or decoded, or a feature fails or is not
    /// finite; it names the file (the clip is skipped, as [`run`] skips it).
    pub fn extract(&mut self, path: &Path) -> Result<Vec<Array2<f32>>, ClipError> {
        let signal = self.decoder.decode(path)?;
        let out = self
            .extractors
            .iter_mut()
            .map(|fx| checked_extract(fx, &signal, path))
            .collect();
        self.decoder.recycle(signal);
        out
    }

    /// The configured features, in order.
    pub fn features(&self) -> &[FeatureSpec] {
        &self.features
    }
}

fn stage(timings: &mut Vec<StageTime>, name: &'static str, t: StageStart) {
    let usage = process_usage();
    timings.push(StageTime {
        stage: name,
        seconds: t.wall.elapsed().as_secs_f64(),
        cpu_seconds: usage.zip(t.cpu).map(|((now, _), then)| now - then),
        peak_rss_bytes: usage.map(|u| u.1),
    });
}

struct ExtractedClip {
    hash: ContentHash,
    decode_s: Option<f64>,
    /// Per feature: extraction seconds, `None` on a cache hit.
    extract_s: Vec<Option<f64>>,
}

fn extract_clip(
    file: &mut crate::batch::FileInput<'_>,
    cache: &FeatureCache,
    dirs: &[FeatureDir],
    fxs: &mut [AnyExtractor],
) -> Result<ExtractedClip, GroupError> {
    // One read: the bytes are hashed, then decoded from memory on a cache miss, once.
    let hash = file.hash()?;
    let mut extract_s = Vec::with_capacity(dirs.len());
    for (dir, fx) in dirs.iter().zip(fxs.iter_mut()) {
        let entry = cache.entry(dir, hash);
        if entry.path.is_file() {
            extract_s.push(None);
            continue;
        }
        let path = file.path().to_path_buf();
        let s = file.signal()?;
        let t = Instant::now();
        let m = checked_extract(fx, s, &path)?;
        extract_s.push(Some(t.elapsed().as_secs_f64()));
        cache.store(&entry, m.view())?;
    }
    Ok(ExtractedClip {
        hash,
        decode_s: file.decode_seconds(),
        extract_s,
    })
}

/// What a run writes into its output folder (and the cache folder of earlier versions),
/// besides the temporaries of an interrupted write.
const OWNED: &[&str] = &[
    "results.csv",
    "summary.md",
    "results.json",
    "crossfit.csv",
    "crossfit.md",
    "figures",
    "cache",
];

/// Makes `out` ready for a run, so outputs of different runs never mix: an absent or
/// empty folder is fine; one holding only an earlier run's outputs has them removed (the
/// returned note says so); one holding anything else is refused unless `overwrite`, which
/// still removes only the experiment's own outputs.
///
/// # Errors
/// A folder with foreign files (without `overwrite`), or one that cannot be read or
/// cleared.
pub fn prepare_out(out: &Path, overwrite: bool) -> Result<Option<String>, ExperimentError> {
    let io = |e: std::io::Error| {
        ExperimentError::Io(crate::io::IoError {
            path: out.to_path_buf(),
            source: e,
        })
    };
    let entries: Vec<String> = match std::fs::read_dir(out) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let (owned, foreign): (Vec<&String>, Vec<&String>) = entries
        .iter()
        .filter(|n| n.as_str() != ".cache")
        // A killed run's temporaries (`.results.csv.<pid>.<n>.tmp`) are its outputs too.
        .partition(|n| OWNED.contains(&n.as_str()) || aad_core::atomic::is_temporary(n));
    if !foreign.is_empty() && !overwrite {
        let mut names: Vec<&str> = foreign.iter().map(|s| s.as_str()).collect();
        names.sort_unstable();
        names.truncate(5);
        return Err(ExperimentError::Config(format!(
            "{} holds files this experiment did not write ({}); choose another --out, or \
             pass --overwrite to replace only the experiment's own outputs",
            out.display(),
            names.join(", ")
        )));
    }
    if owned.is_empty() {
        return Ok(None);
    }
    for n in &owned {
        let p = out.join(n);
        if p.is_dir() {
            std::fs::remove_dir_all(&p).map_err(io)?;
        } else {
            std::fs::remove_file(&p).map_err(io)?;
        }
    }
    Ok(Some(format!(
        "replacing the previous results in {}",
        out.display()
    )))
}
