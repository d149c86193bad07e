//! The MIMII / DCASE experiment, end to end: discover → split → extract (cached, in
//! parallel) → fit and score every (SNR, machine type, machine id) × feature × model ×
//! seed → metrics, tables and figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aad_audio::{ChannelPolicy, DecodeOptions, Decoder};
use aad_core::{Detector, Label};
use aad_data::{Clip, GroupKey, Protocol, Snr, SyntheticConfig, discover, generate, split};
use aad_models::{EpochReport, TrainObserver};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::cache::{ContentHash, FeatureCache, FeatureDir, hash_bytes};
use aad_core::FeatureExtractor;

use crate::registry::{AnyExtractor, FeatureSpec, ModelInput, ModelSpec};

/// Why the experiment could not run at all (per-file and per-model problems are reported
/// and skipped instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExperimentError {
    /// A bad setting.
    #[error("invalid setting: {0}")]
    Config(String),
    /// A feature or detector name, or a feature's parameters.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// The dataset could not be read or generated.
    #[error(transparent)]
    Data(#[from] aad_data::DataError),
    /// An output could not be written.
    #[error(transparent)]
    Io(#[from] crate::io::IoError),
    /// Nothing to evaluate.
    #[error("nothing to evaluate: {0}")]
    Empty(String),
    /// The thread pool could not start.
    #[error("thread pool: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
}

/// Which SNR folders to keep.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SnrFilter {
    /// All of them (and data without SNR).
    #[default]
    All,
    /// These labels; `None` is data without SNR (`na`).
    Only(Vec<Option<Snr>>),
}

impl SnrFilter {
    /// Parses `all` or a comma list of labels (`-6dB`, `0_dB`, `-6_dB_fan`, `na`).
    ///
    /// # Errors
    /// A label that is not an SNR, or no label.
    pub fn parse(s: &str) -> Result<Self, aad_data::ParseError> {
        if s.trim() == "all" {
            return Ok(SnrFilter::All);
        }
        let labels: Result<Vec<_>, _> = s
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(aad_data::parse_snr_label)
            .collect();
        let labels = labels?;
        if labels.is_empty() {
            return Err(aad_data::ParseError::SnrLabel(s.to_string()));
        }
        Ok(SnrFilter::Only(labels))
    }

    pub(crate) fn keeps(&self, snr: Option<Snr>) -> bool {
        match self {
            SnrFilter::All => true,
            SnrFilter::Only(v) => v.contains(&snr),
        }
    }
}

impl std::fmt::Display for SnrFilter {
    /// `all`, or the labels as `--snr` takes them (`-6dB,na`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnrFilter::All => f.write_str("all"),
            SnrFilter::Only(v) => {
                let labels: Vec<String> = v
                    .iter()
                    .map(|s| s.map_or_else(|| "na".to_string(), |s| s.to_string()))
                    .collect();
                f.write_str(&labels.join(","))
            }
        }
    }
}

/// Everything a run needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExperimentConfig {
    /// Dataset root; `None` generates [`ExperimentConfig::synthetic`] into a temporary folder.
    pub data: Option<PathBuf>,
    /// The synthetic dataset used without `data`.
    pub synthetic: SyntheticConfig,
    /// Output folder.
    pub out: PathBuf,
    /// Feature cache folder (default [`default_cache_dir`]: shared by every run, outside
    /// the results).
    pub cache: Option<PathBuf>,
    /// Replace earlier results in `out` even when it holds files the experiment did not
    /// write (those are left alone; only the experiment's own outputs are removed).
    pub overwrite: bool,
    /// Machine types to keep (`None` = all found).
    pub machines: Option<Vec<String>>,
    /// SNRs to keep.
    pub snr: SnrFilter,
    /// Features, in report order.
    pub features: Vec<FeatureSpec>,
    /// Models, in report order.
    pub models: Vec<ModelSpec>,
    /// Seeds: every model is fitted once per seed.
    pub seeds: Vec<u64>,
    /// Overrides the autoencoder presets' epochs.
    pub epochs: Option<usize>,
    /// Channel policy for multi-channel files.
    pub channel: ChannelPolicy,
    /// Autoencoder training backend (`Candle` trains on a GPU when built with `cuda`).
    pub backend: aad_models::Backend,
    /// Required sample rate (files at another rate are skipped with an error).
    pub sample_rate: u32,
    /// Worker threads (0 = one per core).
    pub jobs: usize,
    /// Draw figures.
    pub figures: bool,
    /// Progress bars on stderr (hidden anyway when stderr is not a terminal).
    pub progress: bool,
}

impl ExperimentConfig {
    /// The defaults of the `mimii_fan_valve` example: synthetic data, fan and valve, all
    /// SNRs, the seed's comparison ([`DEFAULT_FEATURES`](crate::registry::DEFAULT_FEATURES)
    /// x [`DEFAULT_MODELS`](crate::registry::DEFAULT_MODELS)), seeds 1, 2, 3, channel 0.
    ///
    /// # Panics
    /// Never: the default names are known.
    #[allow(clippy::expect_used)]
    pub fn new(out: impl Into<PathBuf>) -> Self {
        ExperimentConfig {
            data: None,
            synthetic: SyntheticConfig::default(),
            out: out.into(),
            cache: None,
            overwrite: false,
            machines: Some(vec!["fan".into(), "valve".into()]),
            snr: SnrFilter::All,
            features: FeatureSpec::parse_list(crate::registry::DEFAULT_FEATURES, 16_000)
                .expect("default features parse"),
            models: ModelSpec::parse_list(crate::registry::DEFAULT_MODELS)
                .expect("default models parse"),
            seeds: vec![1, 2, 3],
            epochs: None,
            channel: ChannelPolicy::First,
            backend: aad_models::Backend::Native,
            sample_rate: 16_000,
            jobs: 0,
            figures: true,
            progress: true,
        }
    }

    /// How the run decodes files: its channel policy, its sample rate required, 0.5 s at least.
    pub fn decode_options(&self) -> DecodeOptions {
        DecodeOptions::default()
            .channel(self.channel)
            .expected_sample_rate(Some(self.sample_rate))
            .min_duration_s(0.5)
    }

    fn validate(&self) -> Result<(), ExperimentError> {
        let bad = |s: &str| Err(ExperimentError::Config(s.to_string()));
        if self.features.is_empty() {
            return bad("no features");
        }
        if self.models.is_empty() {
            return bad("no models");
        }
        if self.seeds.is_empty() {
            return bad("no seeds");
        }
        if self.epochs == Some(0) {
            return bad("--epochs must be >= 1");
        }
        let mut seeds = self.seeds.clone();
        seeds.sort_unstable();
        seeds.dedup();
        if seeds.len() != self.seeds.len() {
            return bad("a seed is given twice");
        }
        for f in &self.features {
            if f.sample_rate() != self.sample_rate {
                return Err(ExperimentError::Config(format!(
                    "feature {} is planned for {} Hz, the run reads {} Hz",
                    f.name,
                    f.sample_rate(),
                    self.sample_rate
                )));
            }
        }
        Ok(())
    }
}

/// One line of `results.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// `-6dB`, `0dB`, `6dB`, or `na` for data without SNR.
    pub snr: String,
    /// Machine type.
    pub machine_type: String,
    /// Machine id (`id_00`) or DCASE 2021+ section (`section_00`).
    pub machine_id: String,
    /// Feature name.
    pub feature: String,
    /// Model name.
    pub model: String,
    /// Seed.
    pub seed: u64,
    /// Training clips.
    pub n_train: usize,
    /// Normal test clips.
    pub n_test_normal: usize,
    /// Anomalous test clips.
    pub n_test_abnormal: usize,
    /// ROC AUC (as scikit-learn).
    pub auc: f64,
    /// McClish-standardised partial AUC at FPR 0.1 (as scikit-learn's `max_fpr=0.1`).
    pub pauc: f64,
}

/// A group's train/test clips after dropping unreadable files.
#[derive(Debug, Clone)]
pub struct GroupInfo {
    /// The machine.
    pub key: GroupKey,
    /// The protocol applied.
    pub protocol: Protocol,
    /// Training clips.
    pub train: Vec<Clip>,
    /// Test clips.
    pub test: Vec<Clip>,
}

/// Scores and training curves kept for the figures (first seed only).
#[derive(Debug, Clone)]
pub struct FigureData {
    /// Group index in [`Outcome::groups`].
    pub group: usize,
    /// Feature name.
    pub feature: String,
    /// Model name.
    pub model: String,
    /// Test scores.
    pub scores: Vec<f64>,
    /// Test labels.
    pub labels: Vec<Label>,
    /// Autoencoder losses per epoch.
    pub history: Vec<EpochReport>,
}

/// Wall time, CPU time and memory of one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageTime {
    /// Stage name.
    pub stage: &'static str,
    /// Wall seconds.
    pub seconds: f64,
    /// CPU seconds of the whole process (user + system, all threads) during the stage;
    /// `None` where the platform does not say (non-Unix).
    pub cpu_seconds: Option<f64>,
    /// The process's peak resident memory in bytes when the stage ended (a running
    /// maximum since the process started); `None` where the platform does not say.
    pub peak_rss_bytes: Option<u64>,
}

/// The process's CPU seconds so far and its peak resident memory in bytes.
#[cfg(unix)]
fn process_usage() -> Option<(f64, u64)> {
    use nix::sys::resource::{UsageWho, getrusage};
    let u = getrusage(UsageWho::RUSAGE_SELF).ok()?;
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6;
    let rss = u64::try_from(u.max_rss()).ok()?;
    // Linux reports kilobytes, macOS bytes.
    let rss = if cfg!(target_os = "macos") {
        rss
    } else {
        rss * 1024
    };
    Some((secs(u.user_time()) + secs(u.system_time()), rss))
}

#[cfg(not(unix))]
fn process_usage() -> Option<(f64, u64)> {
    None
}

/// When a stage started: wall clock and process CPU time.
#[derive(Clone, Copy)]
struct StageStart {
    wall: Instant,
    cpu: Option<f64>,
}

impl StageStart {
    fn now() -> StageStart {
        StageStart {
            wall: Instant::now(),
            cpu: process_usage().map(|u| u.0),
        }
    }
}

/// Summed thread time of the work inside the stages, for cost estimates.
#[derive(Debug, Clone, Default)]
pub struct Costs {
    /// Decoding: total seconds and files decoded.
    pub decode: (f64, usize),
    /// Per feature: total extraction seconds and clips extracted (cache misses).
    pub extract: BTreeMap<String, (f64, usize)>,
    /// Per model: total fit seconds and fits.
    pub fit: BTreeMap<String, (f64, usize)>,
    /// Per model: total scoring seconds and clips scored.
    pub score: BTreeMap<String, (f64, usize)>,
    /// Per (feature, model) autoencoder: epoch seconds, epochs and training vectors per epoch summed.
    pub ae_epochs: BTreeMap<(String, String), AeCost>,
}

/// Autoencoder training cost.
#[derive(Debug, Clone, Copy, Default)]
pub struct AeCost {
    /// Seconds in epochs.
    pub seconds: f64,
    /// Epochs run.
    pub epochs: usize,
    /// Training vectors × epochs.
    pub vector_epochs: f64,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Dataset root (a temporary folder, now deleted, for synthetic data).
    pub root: PathBuf,
    /// Whether the data was generated.
    pub synthetic: bool,
    /// Clips found by discovery before filtering.
    pub clips_found: usize,
    /// Evaluated groups.
    pub groups: Vec<GroupInfo>,
    /// One row per group × feature × model × seed that ran.
    pub rows: Vec<ResultRow>,
    /// Files skipped, with the reason.
    pub skipped_files: Vec<(String, String)>,
    /// Groups skipped, with the reason.
    pub skipped_groups: Vec<(String, String)>,
    /// Fits or scorings that failed (the rest of the grid went on).
    pub failures: Vec<String>,
    /// Cache hits and misses (clip × feature).
    pub cache_hits: usize,
    /// Cache misses.
    pub cache_misses: usize,
    /// Cache entries made from other content or for another feature (recomputed).
    pub cache_rejected: usize,
    /// Stage wall times.
    pub timings: Vec<StageTime>,
    /// Work costs.
    pub costs: Costs,
    /// Scores kept for figures.
    pub figure_data: Vec<FigureData>,
    /// Worker threads used.
    pub threads: usize,
}

/// Messages and progress on stderr: bars on a terminal; when stderr is a file or a pipe,
/// a plain line per running stage every 10 s (stage, done/total, rate, ETA) and one when
/// it ends, so a log is never silent for long.
struct Ui {
    mp: MultiProgress,
    lines: Option<LineTicker>,
}

/// The background printer of [`Ui`]'s plain-line mode.
struct LineTicker {
    bars: std::sync::Arc<std::sync::Mutex<Vec<ProgressBar>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn progress_line(pb: &ProgressBar) -> String {
    let (pos, len) = (pb.position(), pb.length().unwrap_or(0));
    let s = pb.elapsed().as_secs_f64();
    let rate = pos as f64 / s.max(1e-9);
    let eta = if pos > 0 && len > pos {
        format!(", eta {}", format_duration((len - pos) as f64 / rate))
    } else {
        String::new()
    };
    let msg = pb.message();
    let msg = if msg.is_empty() {
        String::new()
    } else {
        format!(" [{msg}]")
    };
    format!(
        "{}: {pos}/{len} ({rate:.1}/s, {}{eta}){msg}",
        pb.prefix(),
        format_duration(s)
    )
}

impl LineTicker {
    fn start() -> LineTicker {
        use std::sync::atomic::Ordering;
        let bars = std::sync::Arc::new(std::sync::Mutex::new(Vec::<ProgressBar>::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (b, st) = (bars.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut last = std::time::Instant::now();
            loop {
                let stopping = st.load(Ordering::Relaxed);
                let due = last.elapsed() >= std::time::Duration::from_secs(10);
                if let Ok(mut v) = b.lock() {
                    v.retain(|pb| {
                        if pb.is_finished() {
                            eprintln!("{}", progress_line(pb));
                            false
                        } else {
                            if due {
                                eprintln!("{}", progress_line(pb));
                            }
                            true
                        }
                    });
                }
                if due {
                    last = std::time::Instant::now();
                }
                if stopping {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
        LineTicker {
            bars,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for LineTicker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Ui {
    fn new(progress: bool) -> Self {
        use std::io::IsTerminal;
        let terminal = std::io::stderr().is_terminal();
        let target = if progress && terminal {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Ui {
            mp: MultiProgress::with_draw_target(target),
            lines: (progress && !terminal).then(LineTicker::start),
        }
    }

    fn line(&self, s: &str) {
        if self.mp.is_hidden() {
            eprintln!("{s}");
        } else {
            let _ = self.mp.println(s);
        }
    }

    /// Prints what was left out, one line per item while a reason holds few, else one
    /// line per reason with the count and the first item (a wrong `--channel` once made
    /// a line per file). `verb` is e.g. "skipped", `noun` "file" or "group".
    fn grouped(&self, verb: &str, noun: &str, items: &[(String, String)]) {
        let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
        for (item, why) in items {
            match reasons.iter_mut().find(|(w, _)| *w == why.as_str()) {
                Some((_, v)) => v.push(item),
                None => reasons.push((why, vec![item])),
            }
        }
        for (why, its) in reasons {
            if its.len() <= 3 {
                for it in its {
                    self.line(&format!("{verb} {noun} {it}: {why}"));
                }
            } else {
                let n = its.len();
                self.line(&format!("{verb} {n} {noun}s: {why} (first: {})", its[0]));
            }
        }
    }

    fn bar(&self, len: u64, what: &str) -> ProgressBar {
        let pb = self.mp.add(ProgressBar::new(len));
        pb.set_style(
            ProgressStyle::with_template(
                "{prefix:>10} [{bar:32}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        pb.set_prefix(what.to_string());
        if let Some(t) = &self.lines
            && let Ok(mut v) = t.bars.lock()
        {
            v.push(pb.clone());
        }
        pb
    }
}

/// Runs the experiment and writes `results.csv`, `summary.md`, `results.json` and
/// `figures/` into `cfg.out`: the stages data (discover or generate), split,
/// extract (cached, in parallel), fit and score, figures, report.
///
/// # Errors
/// A bad configuration, an unreadable dataset root, no evaluable group, or an output
/// that cannot be written. Bad files, too-small groups and failed fits are reported in
/// the outcome and the run goes on.
pub fn run(cfg: &ExperimentConfig) -> Result<Outcome, ExperimentError> {
    cfg.validate()?;
    let t_total = StageStart::now();
    let ui = Ui::new(cfg.progress);
    if let Some(note) = prepare_out(&cfg.out, cfg.overwrite)? {
        ui.line(&note);
    }
    let threads = if cfg.jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        cfg.jobs
    };
    let pool = crate::batch::pool(threads)?;
    if cfg.models.iter().any(ModelSpec::is_autoencoder) {
        let device = cfg.backend.device();
        ui.line(&format!(
            "autoencoders train on the {} backend ({device})",
            cfg.backend.name()
        ));
        if cfg.backend == aad_models::Backend::Candle && device != "cuda:0" {
            ui.line("warning: --backend candle found no GPU in this build or machine: training on the CPU");
        }
    }
    let mut timings = Vec::new();
    let data = stage_data(cfg, &ui, &mut timings)?;
    let t = StageStart::now();
    let report = split(&data.clips, Protocol::Auto);
    let mut skipped_groups: Vec<(String, String)> = report
        .unsplittable
        .iter()
        .map(|u| (u.key.to_string(), u.reason.clone()))
        .collect();
    ui.grouped("skipped", "group", &skipped_groups);
    stage(&mut timings, "split", t);
    let t = StageStart::now();
    let mut skipped_files = data.skipped_files;
    let features = stage_extract(cfg, &report, &pool, &ui, &mut skipped_files)?;
    stage(&mut timings, "extract", t);
    let groups = usable_or_empty(
        &report,
        &features.hashes,
        &ui,
        &mut skipped_files,
        &mut skipped_groups,
    )?;
    let t = StageStart::now();
    let mut costs = features.costs.clone();
    let trained = stage_fit_score(cfg, &groups, &features, &pool, &ui, &mut costs)?;
    stage(&mut timings, "train_score", t);
    let cache_rejected = features.cache.rejected();
    if cache_rejected > 0 {
        ui.line(&format!(
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
    };
    if cfg.figures {
        let t = StageStart::now();
        let bar = ui.bar(0, "figures");
        let warnings = pool.install(|| crate::figures::draw(cfg, &outcome, &bar));
        bar.finish_and_clear();
        for w in warnings {
            ui.line(&format!("figure not drawn: {w}"));
        }
        stage(&mut timings, "figures", t);
    }
    // Writing the three reports takes milliseconds; the total is taken just before.
    stage(&mut timings, "total", t_total);
    outcome.timings = timings;
    crate::report::write_csv(&cfg.out.join("results.csv"), &outcome.rows)?;
    crate::report::write_summary(&cfg.out.join("summary.md"), cfg, &outcome)?;
    crate::report::write_json(&cfg.out.join("results.json"), cfg, &outcome)?;
    drop(data.tmp);
    Ok(outcome)
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
    pub skipped_files: Vec<(String, String)>,
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
    ui: &Ui,
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
            ui.line(&format!(
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
    ui.grouped("skipped", "file", &skipped_files);
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
type Discovered = (usize, Vec<Clip>, Vec<(String, String)>);

/// Discovers the clips under `root` and keeps those of the configured machine types and
/// SNRs: (clips found before filtering, clips kept, files that are not clips).
fn discover_filtered(cfg: &ExperimentConfig, root: &Path) -> Result<Discovered, ExperimentError> {
    let found = discover(root)?;
    let skipped_files: Vec<(String, String)> = found
        .skipped
        .iter()
        .map(|s| (s.path.display().to_string(), s.reason.clone()))
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
    pub skipped_files: Vec<(String, String)>,
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

/// What the extraction stage leaves: every readable clip's content hash, whose features
/// are now in the cache.
struct Features {
    cache: FeatureCache,
    dirs: Vec<FeatureDir>,
    decode: DecodeOptions,
    /// Content hash of every readable clip.
    pub hashes: BTreeMap<PathBuf, ContentHash>,
    /// Decoding and extraction costs.
    pub costs: Costs,
    /// Clip × feature pairs read from the cache.
    pub hits: usize,
    /// Clip × feature pairs extracted.
    pub misses: usize,
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
    ui: &Ui,
    skipped_files: &mut Vec<(String, String)>,
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
        ui.line(&format!(
            "removed {orphans} temporary files an interrupted run left in the cache"
        ));
    }
    let extractors: Vec<AnyExtractor> = cfg
        .features
        .iter()
        .map(FeatureSpec::extractor)
        .collect::<Result<_, _>>()?;
    let unique = unique_clips(report);
    let bar = ui.bar(unique.len() as u64, "extract");
    let extracted: Vec<Result<ExtractedClip, String>> = pool.install(|| {
        unique
            .par_iter()
            .map_init(
                || (Decoder::new(decode.clone()), extractors.clone()),
                |(dec, fxs), clip| {
                    let r = extract_clip(&clip.path, &cache, &dirs, dec, fxs);
                    bar.inc(1);
                    r
                },
            )
            .collect()
    });
    bar.finish_and_clear();
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
                let file = clip.path.display().to_string();
                // The decoder's message starts with the path; the list already says it.
                let why = why
                    .strip_prefix(&format!("{file}: "))
                    .map_or(why.clone(), str::to_string);
                unreadable.push((file, why));
            }
        }
    }
    ui.grouped("skipped", "file", &unreadable);
    skipped_files.extend(unreadable);
    ui.line(&format!(
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
    pub skipped: Vec<(String, String)>,
    /// Files left out because another file holds the same audio, as (file, reason).
    pub duplicates: Vec<(String, String)>,
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
    let mut skipped: Vec<(String, String)> = report
        .groups
        .iter()
        .filter(|g| {
            !again.groups.iter().any(|h| h.key == g.key)
                && !again.unsplittable.iter().any(|u| u.key == g.key)
        })
        .map(|g| (g.key.to_string(), "no readable clip".to_string()))
        .collect();
    skipped.extend(again.unsplittable.iter().map(|u| {
        (
            u.key.to_string(),
            format!("with its readable clips: {}", u.reason),
        )
    }));
    let mut groups = Vec::new();
    for g in again.groups {
        let n_abn = g.n_test_abnormal();
        let why = if g.train.is_empty() {
            Some("no readable training clip")
        } else if n_abn == 0 || n_abn == g.test.len() {
            Some("the readable test clips are all of one class")
        } else {
            None
        };
        match why {
            Some(w) => skipped.push((g.key.to_string(), w.to_string())),
            None => groups.push(GroupInfo {
                key: g.key,
                protocol: g.protocol,
                train: g.train,
                test: g.test,
            }),
        }
    }
    skipped.sort();
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
fn drop_duplicates(clips: Vec<(Clip, ContentHash)>) -> (Vec<Clip>, Vec<(String, String)>) {
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
            dropped.push((
                c.path.display().to_string(),
                format!(
                    "the same audio as {} is labelled both normal and anomalous",
                    path.display()
                ),
            ));
        } else if *path != c.path {
            dropped.push((
                c.path.display().to_string(),
                format!("the same audio as {} (counted once)", path.display()),
            ));
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
    ui: &Ui,
    skipped_files: &mut Vec<(String, String)>,
    skipped_groups: &mut Vec<(String, String)>,
) -> Result<Vec<GroupInfo>, ExperimentError> {
    let UsableGroups {
        groups,
        skipped,
        duplicates,
    } = usable_groups(report, |p| hashes.get(p).copied());
    ui.grouped("left out", "file", &duplicates);
    skipped_files.extend(duplicates);
    ui.grouped("skipped", "group", &skipped);
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
    /// Jobs that failed, in words.
    pub failures: Vec<String>,
    /// Scores and curves of the first seed.
    pub figure_data: Vec<FigureData>,
}

/// Epochs a model trains (1 for the classical detectors): the training bar's unit.
fn epochs_of(cfg: &ExperimentConfig, m: &ModelSpec, f: &FeatureSpec) -> u64 {
    match m.config(f, cfg.epochs) {
        aad_models::DetectorConfig::Autoencoder(c) => c.epochs as u64,
        _ => 1,
    }
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
    ui: &Ui,
    costs: &mut Costs,
) -> Result<Trained, ExperimentError> {
    let units_per_group: u64 = cfg
        .features
        .iter()
        .flat_map(|f| cfg.models.iter().map(move |m| (f, m)))
        .map(|(f, m)| epochs_of(cfg, m, f) * cfg.seeds.len() as u64)
        .sum();
    let bar = ui.bar(units_per_group * groups.len() as u64, "train");
    // Groups run in parallel as well as the jobs inside them: a group alone may hold
    // fewer jobs than threads (3 seeds of one autoencoder), and rayon's work stealing
    // keeps about one group per thread in memory.
    let runs: Vec<GroupRun> = pool.install(|| {
        groups
            .par_iter()
            .map(|g| run_group(cfg, g, features, ui, &bar))
            .collect()
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
                Err(why) => out.failures.push(format!(
                    "{} / {} / {} / seed {seed}: {why}",
                    g.key, f.name, m.name
                )),
            }
        }
    }
    bar.finish_and_clear();
    if out.rows.is_empty() {
        return Err(ExperimentError::Empty(format!(
            "every fit failed; first failure: {}",
            out.failures.first().map_or("none", String::as_str)
        )));
    }
    Ok(out)
}

/// One group's jobs: its features loaded (and stacked where a model needs it), then every
/// feature × model × seed fitted and scored in parallel.
fn run_group(
    cfg: &ExperimentConfig,
    g: &GroupInfo,
    features: &Features,
    ui: &Ui,
    bar: &ProgressBar,
) -> GroupRun {
    bar.set_message(g.key.to_string());
    let labels: Vec<Label> = g.test.iter().map(|c| c.label).collect();
    let mut load_failures = Vec::new();
    let mut jobs = Vec::new();
    // One feature at a time: its matrices (and the autoencoders' stacked training set)
    // are dropped before the next is loaded, so a group holds one feature's working set.
    for (fi, f) in cfg.features.iter().enumerate() {
        let x = match load_group_features(g, f, fi, features, &cfg.models) {
            Ok(x) => x,
            Err(why) => {
                let msg = format!("{} / {}: {why}", g.key, f.name);
                ui.line(&format!("failed {msg}"));
                load_failures.push(msg);
                bar.inc(
                    cfg.models.iter().map(|m| epochs_of(cfg, m, f)).sum::<u64>()
                        * cfg.seeds.len() as u64,
                );
                continue;
            }
        };
        jobs.extend(feature_jobs(cfg, fi, |mi, seed| {
            let m = &cfg.models[mi];
            let mut obs = BarObserver { bar, done: 0 };
            let r = run_job(f, m, seed, cfg, &x, &labels, &mut obs);
            bar.inc(epochs_of(cfg, m, f).saturating_sub(obs.done));
            if let Err(why) = &r {
                ui.line(&format!(
                    "failed {} / {} / {} / seed {seed}: {why}",
                    g.key, f.name, m.name
                ));
            }
            r
        }));
    }
    GroupRun {
        labels,
        load_failures,
        jobs,
    }
}

/// Every model x seed of feature `fi`, in parallel, in (model, seed) order.
fn feature_jobs(
    cfg: &ExperimentConfig,
    fi: usize,
    run: impl Fn(usize, u64) -> Result<JobResult, String> + Sync,
) -> Vec<(JobKey, Result<JobResult, String>)> {
    let keys: Vec<JobKey> = (0..cfg.models.len())
        .flat_map(|mi| cfg.seeds.iter().map(move |&seed| (fi, mi, seed)))
        .collect();
    let results: Vec<_> = keys
        .par_iter()
        .map(|&(_, mi, seed)| run(mi, seed))
        .collect();
    keys.into_iter().zip(results).collect()
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

/// The `results.csv` line of one job.
fn result_row(
    key: &GroupKey,
    n_train: usize,
    f: &FeatureSpec,
    m: &ModelSpec,
    seed: u64,
    j: &JobResult,
    labels: &[Label],
) -> ResultRow {
    ResultRow {
        snr: key.snr_label(),
        machine_type: key.machine_type.clone(),
        machine_id: key.machine_id.clone(),
        feature: f.name.clone(),
        model: m.name.clone(),
        seed,
        n_train,
        n_test_normal: labels.len() - j.n_abnormal,
        n_test_abnormal: j.n_abnormal,
        auc: j.auc,
        pauc: j.pauc,
    }
}

/// What fitting and scoring one group needs besides its features: a [`GroupInfo`]
/// without the clips, small enough to ship to another process.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupJob {
    /// The machine.
    pub key: GroupKey,
    /// Training clips.
    pub n_train: usize,
    /// Test clips' labels, in order.
    pub labels: Vec<Label>,
}

impl From<&GroupInfo> for GroupJob {
    fn from(g: &GroupInfo) -> Self {
        GroupJob {
            key: g.key.clone(),
            n_train: g.train.len(),
            labels: g.test.iter().map(|c| c.label).collect(),
        }
    }
}

/// One feature's matrices of a group: (training clips, test clips).
pub type TrainTest = (Vec<Array2<f32>>, Vec<Array2<f32>>);

/// What [`fit_score_group`] gives: the group's rows in job order (feature, model, seed:
/// the order of `results.csv`), and the jobs that failed, in words.
#[derive(Debug, Clone, Default)]
pub struct GroupRows {
    /// One row per job that ran.
    pub rows: Vec<ResultRow>,
    /// `group / feature / model / seed N: why` for each job that failed.
    pub failures: Vec<String>,
}

/// Fits and scores every feature × model × seed of one group from features in memory:
/// the fit stage for runners that move features themselves (the Ray example of the Python
/// module). `features[i]` holds `cfg.features[i]`'s matrices (frames × dims) for
/// the group's training and test clips, in their order. Jobs run in the current rayon pool; the rows
/// equal [`run`]'s for the same configuration, whatever the thread count (every fit is
/// seeded and single-threaded).
///
/// # Errors
/// `features` does not hold one pair per configured feature, or a pair's lengths differ
/// from the group's clip counts.
pub fn fit_score_group(
    cfg: &ExperimentConfig,
    g: &GroupJob,
    features: Vec<TrainTest>,
) -> Result<GroupRows, ExperimentError> {
    if features.len() != cfg.features.len() {
        return Err(ExperimentError::Config(format!(
            "{} feature sets given for {} configured features",
            features.len(),
            cfg.features.len()
        )));
    }
    if let Some((tr, te)) = features
        .iter()
        .find(|(tr, te)| tr.len() != g.n_train || te.len() != g.labels.len())
    {
        return Err(ExperimentError::Config(format!(
            "group {}: {} + {} feature matrices for {} training and {} test clips",
            g.key,
            tr.len(),
            te.len(),
            g.n_train,
            g.labels.len()
        )));
    }
    let labels = &g.labels;
    let mut out = GroupRows::default();
    for (fi, (f, (train, test))) in cfg.features.iter().zip(features).enumerate() {
        let x = match GroupFeatures::new(train, test, f, &cfg.models) {
            Ok(x) => x,
            Err(why) => {
                out.failures.push(format!("{} / {}: {why}", g.key, f.name));
                continue;
            }
        };
        let jobs = feature_jobs(cfg, fi, |mi, seed| {
            run_job(f, &cfg.models[mi], seed, cfg, &x, labels, &mut ())
        });
        for ((_, mi, seed), r) in jobs {
            let m = &cfg.models[mi];
            match r {
                Ok(j) => out
                    .rows
                    .push(result_row(&g.key, g.n_train, f, m, seed, &j, labels)),
                Err(why) => out.failures.push(format!(
                    "{} / {} / {} / seed {seed}: {why}",
                    g.key, f.name, m.name
                )),
            }
        }
    }
    Ok(out)
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
    /// The file cannot be read or decoded, or a feature fails or is not finite; the
    /// message names the file (the clip is skipped, as [`run`] skips it).
    pub fn extract(&mut self, path: &Path) -> Result<Vec<Array2<f32>>, String> {
        let signal = self.decoder.decode(path).map_err(|e| e.to_string())?;
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

/// One feature of a decoded clip, refused when a value is not finite.
fn checked_extract(
    fx: &mut AnyExtractor,
    signal: &aad_core::Signal,
    path: &Path,
) -> Result<Array2<f32>, String> {
    let m = fx
        .extract(signal)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(i) = m.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "{}: feature value not finite at frame {}",
            path.display(),
            i / m.ncols().max(1)
        ));
    }
    Ok(m)
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

/// Advances the training bar by one unit per epoch.
struct BarObserver<'a> {
    bar: &'a ProgressBar,
    done: u64,
}

impl TrainObserver for BarObserver<'_> {
    fn on_epoch(&mut self, _report: &EpochReport) -> bool {
        self.bar.inc(1);
        self.done += 1;
        true
    }
}

struct ExtractedClip {
    hash: ContentHash,
    decode_s: Option<f64>,
    /// Per feature: extraction seconds, `None` on a cache hit.
    extract_s: Vec<Option<f64>>,
}

fn extract_clip(
    path: &Path,
    cache: &FeatureCache,
    dirs: &[FeatureDir],
    dec: &mut Decoder,
    fxs: &mut [AnyExtractor],
) -> Result<ExtractedClip, String> {
    // One read: the bytes are hashed, then decoded from memory on a cache miss.
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let hash = hash_bytes(&bytes);
    let mut bytes = Some(bytes);
    let mut signal = None;
    let mut decode_s = None;
    let mut extract_s = Vec::with_capacity(dirs.len());
    for (dir, fx) in dirs.iter().zip(fxs.iter_mut()) {
        let entry = cache.entry(dir, hash);
        if entry.path.is_file() {
            extract_s.push(None);
            continue;
        }
        // Decoded once, at the first feature the cache lacks.
        let s = match signal {
            Some(ref s) => s,
            None => {
                let t = Instant::now();
                let b = bytes.take().unwrap_or_default();
                let decoded = dec.decode_bytes(path, b).map_err(|e| e.to_string())?;
                decode_s = Some(t.elapsed().as_secs_f64());
                signal.insert(decoded)
            }
        };
        let t = Instant::now();
        let m = checked_extract(fx, s, path)?;
        extract_s.push(Some(t.elapsed().as_secs_f64()));
        cache.store(&entry, m.view()).map_err(|e| e.to_string())?;
    }
    if let Some(s) = signal {
        dec.recycle(s);
    }
    Ok(ExtractedClip {
        hash,
        decode_s,
        extract_s,
    })
}

/// One feature's matrices for one group: raw frames, and the training frames stacked
/// into one matrix when an autoencoder needs them (test clips are stacked one at a time
/// as they are scored: holding every clip stacked would multiply a group's memory by
/// the context, five).
struct GroupFeatures {
    train: Vec<Array2<f32>>,
    test: Vec<Array2<f32>>,
    /// The training clips' frames stacked `ae_context` at a time, clip after clip.
    stacked_train: Option<Array2<f32>>,
    /// The stacking context.
    context: usize,
}

fn load_group_features(
    g: &GroupInfo,
    f: &FeatureSpec,
    fi: usize,
    features: &Features,
    models: &[ModelSpec],
) -> Result<GroupFeatures, String> {
    let (dir, cache, hashes, decode) = (
        &features.dirs[fi],
        &features.cache,
        &features.hashes,
        &features.decode,
    );
    let load = |c: &Clip| -> Result<Array2<f32>, String> {
        let h = hashes
            .get(&c.path)
            .ok_or_else(|| format!("{}: not extracted", c.path.display()))?;
        let entry = cache.entry(dir, *h);
        if let Some(m) = cache.load(&entry) {
            return Ok(m);
        }
        // A damaged or vanished entry (lost in a power cut, deleted meanwhile): extract
        // again rather than fail the group.
        let signal = aad_audio::decode_file(&c.path, decode).map_err(|e| e.to_string())?;
        let m = f
            .extractor()
            .map_err(|e| e.to_string())?
            .extract(&signal)
            .map_err(|e| format!("{}: {e}", c.path.display()))?;
        cache.store(&entry, m.view()).map_err(|e| e.to_string())?;
        Ok(m)
    };
    let train: Vec<Array2<f32>> = g.train.iter().map(load).collect::<Result<_, _>>()?;
    let test: Vec<Array2<f32>> = g.test.iter().map(load).collect::<Result<_, _>>()?;
    GroupFeatures::new(train, test, f, models)
}

impl GroupFeatures {
    /// One feature's matrices of a group, the training set stacked too when a model
    /// needs it.
    fn new(
        train: Vec<Array2<f32>>,
        test: Vec<Array2<f32>>,
        f: &FeatureSpec,
        models: &[ModelSpec],
    ) -> Result<GroupFeatures, String> {
        let context = f.ae_context;
        let stacked_train = if models.iter().any(|m| m.input() == ModelInput::Stacked) {
            // Checked here as before: a test clip too short to stack fails the group.
            if let Some(m) = test.iter().find(|m| m.nrows() < context) {
                aad_core::ops::stack_frames(m.view(), context).map_err(|e| e.to_string())?;
            }
            Some(stack_clips(&train, context).map_err(|e| e.to_string())?)
        } else {
            None
        };
        Ok(GroupFeatures {
            train,
            test,
            stacked_train,
            context,
        })
    }
}

/// Every clip's frames stacked `context` at a time, written clip after clip straight
/// into one matrix (no per-clip copy).
fn stack_clips(clips: &[Array2<f32>], context: usize) -> Result<Array2<f32>, aad_core::CoreError> {
    use aad_core::ops::{stack_frames_into, stacked_len};
    let d = clips.first().map_or(0, Array2::ncols) * context;
    let n = clips.iter().map(|m| stacked_len(m.nrows(), context)).sum();
    let mut all = Array2::zeros((n, d));
    let mut at = 0;
    for m in clips {
        let rows = stacked_len(m.nrows(), context);
        stack_frames_into(
            m.view(),
            context,
            all.slice_mut(ndarray::s![at..at + rows, ..]),
        )?;
        at += rows;
    }
    Ok(all)
}

type JobKey = (usize, usize, u64);

/// A group's job outcomes, in job order.
struct GroupRun {
    labels: Vec<Label>,
    load_failures: Vec<String>,
    /// (feature index, model index, seed) and what the job gave.
    jobs: Vec<(JobKey, Result<JobResult, String>)>,
}

struct JobResult {
    scores: Vec<f64>,
    n_abnormal: usize,
    auc: f64,
    pauc: f64,
    history: Vec<EpochReport>,
    fit_s: f64,
    score_s: f64,
    train_vectors: usize,
}

fn views(v: &[Array2<f32>]) -> Vec<ArrayView2<'_, f32>> {
    v.iter().map(|m| m.view()).collect()
}

fn run_job(
    f: &FeatureSpec,
    m: &ModelSpec,
    seed: u64,
    run: &ExperimentConfig,
    x: &GroupFeatures,
    labels: &[Label],
    obs: &mut dyn TrainObserver,
) -> Result<JobResult, String> {
    let stacked = match (m.input(), &x.stacked_train) {
        (ModelInput::Stacked, Some(a)) => Some(a),
        _ => None,
    };
    let train = match stacked {
        Some(a) => vec![a.view()],
        None => views(&x.train),
    };
    let n_vectors: usize = train.iter().map(|v| v.nrows()).sum();
    let mut cfg = m.config(f, run.epochs).adapted_to(&train);
    if let aad_models::DetectorConfig::Autoencoder(c) = &mut cfg {
        *c = c.clone().backend(run.backend);
    }
    let t = Instant::now();
    let det = cfg
        .fit_observed(&train, seed, obs)
        .map_err(|e| e.to_string())?;
    let fit_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let scores = match stacked {
        Some(_) => x
            .test
            .iter()
            .map(|c| {
                let s =
                    aad_core::ops::stack_frames(c.view(), x.context).map_err(|e| e.to_string())?;
                det.score(s.view()).map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<f64>, String>>()?,
        None => det
            .score_batch(&views(&x.test))
            .map_err(|e| e.to_string())?,
    };
    let score_s = t.elapsed().as_secs_f64();
    let auc = aad_metrics::roc_auc(&scores, labels).map_err(|e| e.to_string())?;
    let pauc = aad_metrics::partial_auc(&scores, labels, 0.1).map_err(|e| e.to_string())?;
    let history = match &det {
        aad_models::AnyDetector::Autoencoder(a) => a.history().to_vec(),
        _ => Vec::new(),
    };
    let train_vectors = match &cfg {
        aad_models::DetectorConfig::Autoencoder(c) => {
            ((n_vectors as f64) * (1.0 - c.validation_split)) as usize
        }
        _ => n_vectors,
    };
    Ok(JobResult {
        n_abnormal: labels.iter().filter(|l| **l == Label::Anomalous).count(),
        scores,
        auc,
        pauc,
        history,
        fit_s,
        score_s,
        train_vectors,
    })
}

/// What a run writes into its output folder (and the cache folder of earlier versions),
/// besides the temporaries of an interrupted write.
const OWNED: &[&str] = &[
    "results.csv",
    "summary.md",
    "results.json",
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

/// The feature cache when none is given: `$AAD_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/aad/features`, else `~/.cache/aad/features`, else `OUT/.cache`.
/// Entries are keyed by file content and feature parameters, so runs share it safely.
pub fn default_cache_dir(out: &Path) -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("AAD_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("aad").join("features")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("aad").join("features")))
        .unwrap_or_else(|| out.join(".cache"))
}

/// Formats seconds for the timing table.
pub fn format_duration(s: f64) -> String {
    let d = Duration::from_secs_f64(s.max(0.0));
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}
