//! Dense autoencoders trained on normal vectors only; the anomaly score of a clip is the
//! mean reconstruction error of its vectors (or the Mahalanobis distance of the errors).
//!
//! Training runs on the native CPU engine (single-threaded, deterministic, faster than
//! Keras on one core) or on candle ([`Backend::Candle`]), whose CUDA device is used when
//! the crate is built with the `cuda` feature. Both start from the same seeded
//! Glorot-uniform weights and use the same Keras conventions.

#[cfg(feature = "candle")]
mod candle_train;
pub(crate) mod native;
mod persist;
mod target;

use std::time::Instant;

use aad_core::{Detector, Fit};
use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::data::{Pooling, Representation, check_clip, concat_vectors};
use crate::linalg::{Mat, gemm};
use crate::scaler::{Scaler, Scaling};
pub use native::{Activation, Adam};
use native::{Eval, Net, Trainer};
pub use target::AeTarget;
use target::Pairs;

/// Stop when the monitored loss (validation, else training) has not improved by
/// `min_delta` for `patience` epochs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement tolerated.
    pub patience: usize,
    /// Smallest decrease that counts as an improvement.
    pub min_delta: f64,
    /// Keep the weights of the best epoch instead of the last.
    pub restore_best: bool,
}

/// How a clip is scored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub enum AeScoring {
    /// Mean over the clip's vectors of the per-vector mean squared error (the baselines).
    #[default]
    Mse,
    /// Mean over the clip's vectors of the squared Mahalanobis distance of the
    /// reconstruction-error vector, with the covariance of the training errors (the DCASE
    /// 2023 baseline's score for one domain), regularised by `ridge * trace / d` on the
    /// diagonal.
    Mahalanobis {
        /// Relative diagonal loading.
        ridge: f64,
    },
}

/// Where training runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Backend {
    /// The native engine on the CPU, one thread (train independent models in parallel).
    #[default]
    Native,
    /// candle's autograd on the first CUDA device when the `cuda` feature is enabled and a
    /// GPU is present, else on the CPU. Needs the `candle` (or `cuda`) feature; without
    /// it fitting returns [`ModelError::BackendUnavailable`].
    Candle,
}

impl Backend {
    /// Where this backend trains in this build on this machine: `cpu` for the native
    /// engine; for candle `cuda:0` when built with `cuda` and a GPU answers, else `cpu`
    /// (`unavailable` when the build has no candle).
    pub fn device(self) -> &'static str {
        match self {
            Backend::Native => "cpu",
            #[cfg(feature = "candle")]
            Backend::Candle => {
                if candle_train::device().is_cuda() {
                    "cuda:0"
                } else {
                    "cpu"
                }
            }
            #[cfg(not(feature = "candle"))]
            Backend::Candle => "unavailable",
        }
    }

    /// `native` or `candle`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Native => "native",
            Backend::Candle => "candle",
        }
    }
}

/// A dense autoencoder configuration. Decoder widths mirror the encoder; every layer but
/// the output has the activation (and BatchNorm when enabled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AutoencoderConfig {
    /// Encoder hidden widths before the bottleneck.
    pub hidden: Vec<usize>,
    /// Bottleneck width.
    pub bottleneck: usize,
    /// Hidden activation.
    pub activation: Activation,
    /// BatchNorm after every hidden dense layer.
    pub batch_norm: bool,
    /// Input scaling fitted on the training vectors.
    pub scaling: Scaling,
    /// Optimiser.
    pub adam: Adam,
    /// Training epochs.
    pub epochs: usize,
    /// Vectors per batch.
    pub batch_size: usize,
    /// Shuffle the training vectors every epoch.
    pub shuffle: bool,
    /// Fraction of the vectors, taken from the end as Keras does, held out for validation.
    pub validation_split: f64,
    /// Optional early stopping.
    pub early_stopping: Option<EarlyStopping>,
    /// Clip score.
    pub scoring: AeScoring,
    /// Train on at most this many vectors (a seeded random subset).
    pub max_train_vectors: Option<usize>,
    /// Training backend.
    pub backend: Backend,
    /// Threads the native engine trains on (default 1: train independent models in
    /// parallel instead, one per core). Not saved: the model is the same bit for bit on
    /// any number of threads.
    #[serde(default = "one", skip_serializing)]
    pub threads: usize,
    /// The input width the preset is made for (`None`: any). Fitting on vectors of
    /// another width is an error rather than a silently different network: the CENS
    /// preset given unstacked 12-bin frames once trained a 12-input net.
    #[serde(default)]
    pub input_dims: Option<usize>,
    /// What the network predicts: its input, or the centre frame (IDNN).
    #[serde(default)]
    pub target: AeTarget,
    /// How a clip's vector scores become its score.
    #[serde(default)]
    pub pooling: Pooling,
    /// Frames stacked into one vector (`aad_core::ops::stack_frames`): the network reads
    /// `context` consecutive frames of a clip at a time, so callers hand it the feature's
    /// frames as they are. 1 (files written before stacking moved here): the clips
    /// come stacked.
    #[serde(default = "one")]
    pub context: usize,
}

fn one() -> usize {
    1
}

impl Default for AutoencoderConfig {
    /// The DCASE 2020 baseline.
    fn default() -> Self {
        Self::dcase2020()
    }
}

impl AutoencoderConfig {
    /// DCASE 2020 Task 2 baseline: 640 → [128, BN, ReLU] x 4 → 8 → [128, BN, ReLU] x 4 →
    /// 640; Adam 1e-3, MSE, 100 epochs, batch 512, validation 0.1, raw log-Mel input.
    pub fn dcase2020() -> Self {
        AutoencoderConfig {
            hidden: vec![128; 4],
            bottleneck: 8,
            activation: Activation::Relu,
            batch_norm: true,
            scaling: Scaling::None,
            adam: Adam::default(),
            epochs: 100,
            batch_size: 512,
            shuffle: true,
            validation_split: 0.1,
            input_dims: Some(640),
            early_stopping: None,
            scoring: AeScoring::Mse,
            max_train_vectors: None,
            backend: Backend::Native,
            threads: 1,
            target: AeTarget::Reconstruct,
            pooling: Pooling::Mean,
            context: 1,
        }
    }

    /// MIMII baseline: 320 → 64 → 64 → 8 → 64 → 64 → 320, ReLU, 50 epochs, batch 512.
    pub fn mimii() -> Self {
        AutoencoderConfig {
            hidden: vec![64, 64],
            batch_norm: false,
            epochs: 50,
            input_dims: Some(320),
            ..Self::dcase2020()
        }
    }

    /// The seed project's autoencoder: 64-64-32-16-8 and mirror, ReLU, global min-max
    /// scaling, 50 epochs, batch 56.
    pub fn seed() -> Self {
        AutoencoderConfig {
            hidden: vec![64, 64, 32, 16],
            batch_norm: false,
            scaling: Scaling::MinMaxGlobal,
            // The seed used it on 64 log-Mel bands x 5 and on 12 CENS bins x 5.
            input_dims: None,
            epochs: 50,
            batch_size: 56,
            ..Self::dcase2020()
        }
    }

    /// For 12-dimensional CENS frames stacked 5 at a time (60 inputs): 60 → 32 → 16 → 4 →
    /// 16 → 32 → 60, ReLU, standardised inputs, 50 epochs, batch 256.
    pub fn cens() -> Self {
        AutoencoderConfig {
            hidden: vec![32, 16],
            bottleneck: 4,
            batch_norm: false,
            scaling: Scaling::Standardize,
            epochs: 50,
            batch_size: 256,
            input_dims: Some(60),
            ..Self::dcase2020()
        }
    }

    /// The interpolation network (IDNN, Suefusa et al., ICASSP 2020) for 5 stacked log-Mel
    /// frames of 64 bands: the 4 outer frames (256 values) → 64 → 32 → 16 → 32 → 64 → the
    /// centre frame (64), ReLU, raw log-Mel, Adam 1e-3, 50 epochs, batch 512; score = mean
    /// squared error of the predicted centre frames.
    ///
    /// ```
    /// use aad_models::{AeTarget, AutoencoderConfig};
    /// let c = AutoencoderConfig::idnn();
    /// assert_eq!(c.target, AeTarget::Interpolate { frames: 5 });
    /// assert_eq!(c.layer_dims(320), [256, 64, 32, 16, 32, 64, 64]);
    /// ```
    pub fn idnn() -> Self {
        AutoencoderConfig {
            hidden: vec![64, 32],
            bottleneck: 16,
            batch_norm: false,
            epochs: 50,
            input_dims: Some(320),
            target: AeTarget::Interpolate { frames: 5 },
            ..Self::dcase2020()
        }
    }

    /// Sets what the network predicts.
    pub fn target(mut self, target: AeTarget) -> Self {
        self.target = target;
        self
    }

    /// Sets how a clip's vector scores are pooled.
    pub fn pooling(mut self, pooling: Pooling) -> Self {
        self.pooling = pooling;
        self
    }

    /// Sets the number of epochs.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Sets the batch size.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Sets the scoring.
    pub fn scoring(mut self, scoring: AeScoring) -> Self {
        self.scoring = scoring;
        self
    }

    /// Sets the backend.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Sets early stopping.
    pub fn early_stopping(mut self, early: Option<EarlyStopping>) -> Self {
        self.early_stopping = early;
        self
    }

    /// Sets the validation split.
    pub fn validation_split(mut self, split: f64) -> Self {
        self.validation_split = split;
        self
    }

    /// Sets the threads of the native engine's matrix products.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Sets the input width the configuration requires (`None`: any width).
    pub fn input_dims(mut self, dims: Option<usize>) -> Self {
        self.input_dims = dims;
        self
    }

    /// Sets the frames stacked into one vector (1: none).
    pub fn context(mut self, frames: usize) -> Self {
        self.context = frames;
        self
    }

    /// Sets the training-vector cap.
    pub fn max_train_vectors(mut self, max: Option<usize>) -> Self {
        self.max_train_vectors = max;
        self
    }

    /// Layer widths from input to output for vectors `input` wide (an interpolation
    /// network sees all frames but the centre one and outputs one frame).
    pub fn layer_dims(&self, input: usize) -> Vec<usize> {
        let (n_in, n_out) = self.target.io_widths(input);
        let mut d = vec![n_in];
        d.extend(&self.hidden);
        d.push(self.bottleneck);
        d.extend(self.hidden.iter().rev());
        d.push(n_out);
        d
    }

    fn validate(&self) -> Result<(), ModelError> {
        if self.bottleneck == 0 || self.hidden.contains(&0) {
            return Err(ModelError::config(
                "hidden/bottleneck",
                format!("{:?}/{}", self.hidden, self.bottleneck),
                "widths must be >= 1",
            ));
        }
        if self.batch_size == 0 {
            return Err(ModelError::config("batch_size", 0, "must be >= 1"));
        }
        if self.context == 0 {
            return Err(ModelError::config("context", 0, "must be >= 1"));
        }
        if self.epochs == 0 {
            return Err(ModelError::config("epochs", 0, "must be >= 1"));
        }
        if !(0.0..1.0).contains(&self.validation_split) {
            return Err(ModelError::config(
                "validation_split",
                self.validation_split,
                "must be in [0, 1)",
            ));
        }
        let a = self.adam;
        if !(a.lr > 0.0
            && a.lr.is_finite()
            && (0.0..1.0).contains(&a.beta1)
            && (0.0..1.0).contains(&a.beta2)
            && a.eps > 0.0)
        {
            return Err(ModelError::config(
                "adam",
                format!("{a:?}"),
                "need lr > 0, betas in [0, 1), eps > 0",
            ));
        }
        if let AeScoring::Mahalanobis { ridge } = self.scoring
            && !(ridge > 0.0 && ridge.is_finite())
        {
            return Err(ModelError::config("ridge", ridge, "must be > 0"));
        }
        if self.max_train_vectors == Some(0) {
            return Err(ModelError::config("max_train_vectors", 0, "must be >= 1"));
        }
        self.pooling.validate()?;
        self.target.validate(self.input_dims)
    }
}

/// What happened in one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based epoch.
    pub epoch: usize,
    /// Epochs configured.
    pub epochs: usize,
    /// Mean training loss (MSE) over the epoch's batches, weighted by batch size.
    pub train_loss: f64,
    /// Validation loss, when there is a validation split.
    pub val_loss: Option<f64>,
    /// Wall time of the epoch.
    pub seconds: f64,
}

/// Watches training: a progress bar, a loss curve, a stop button.
pub trait TrainObserver {
    /// Training starts.
    fn on_start(&mut self, _epochs: usize, _batches_per_epoch: usize) {}
    /// A batch finished (1-based indices).
    fn on_batch(&mut self, _epoch: usize, _batch: usize) {}
    /// An epoch finished; return `false` to stop training.
    fn on_epoch(&mut self, _report: &EpochReport) -> bool {
        true
    }
    /// Asked before each epoch of the native engine: the threads it may use from then on
    /// (`None` keeps the configured [`AutoencoderConfig::threads`]). The trained model
    /// does not depend on the answer (the engine splits every product the same way on any
    /// number of threads), so a scheduler can lend an autoencoder cores that fall idle.
    fn threads(&mut self) -> Option<usize> {
        None
    }
}

/// No observation.
impl TrainObserver for () {}

/// The covariance model of the reconstruction errors, for Mahalanobis scoring.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ErrorGaussian {
    pub mean: Vec<f32>,
    /// Row-major `d x d` precision matrix.
    pub precision: Vec<f32>,
}

/// A trained autoencoder. Scores are higher for more anomalous clips.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Autoencoder {
    config: AutoencoderConfig,
    net: Net,
    scaler: Scaler,
    gaussian: Option<ErrorGaussian>,
    history: Vec<EpochReport>,
    seed: u64,
}

impl AutoencoderConfig {
    /// Fits on the vectors of `normal` clips, reporting to `observer`.
    ///
    /// # Errors
    /// Invalid configuration, empty or inconsistent clips, non-finite features, fewer
    /// training vectors than the batch size, divergence, or a backend failure.
    pub fn fit_observed(
        &self,
        normal: &[ArrayView2<'_, f32>],
        seed: u64,
        observer: &mut dyn TrainObserver,
    ) -> Result<Autoencoder, ModelError> {
        self.validate()?;
        let stacked = stack_clips(normal, self.context)?;
        let normal: Vec<ArrayView2<'_, f32>> = match &stacked {
            Some(s) => s.iter().map(|m| m.view()).collect(),
            None => normal.to_vec(),
        };
        let mut x = concat_vectors(
            &normal,
            Representation::Frames,
            self.max_train_vectors,
            seed,
        )?;
        if let Some(want) = self.input_dims
            && want != x.ncols()
        {
            return Err(ModelError::config(
                "input width",
                x.ncols(),
                format!(
                    "this autoencoder configuration expects {want}-wide vectors (frames \
                     stacked, e.g. 12 CENS bins x 5 = 60): stack frames with \
                     aad_core::ops::stack_frames, or call .input_dims(None)"
                ),
            ));
        }
        self.target.validate(Some(x.ncols()))?;
        let scaler = Scaler::fit(self.scaling, &x);
        scaler.transform(x.view_mut());
        let n = x.nrows();
        // Keras' validation_split: the last fraction, before shuffling.
        let split_at = ((n as f64) * (1.0 - self.validation_split)) as usize;
        if split_at < self.batch_size {
            return Err(ModelError::TooFewVectors {
                what: format!("training with batch size {}", self.batch_size),
                need: self.batch_size,
                got: split_at,
            });
        }
        let dims = self.layer_dims(x.ncols());
        let (train, val) = split_rows(x, split_at);
        let (train, val) = (self.target.split(train), val.map(|v| self.target.split(v)));
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let net = Net::new(&dims, self.activation, self.batch_norm, &mut rng);
        let (net, history) = match self.backend {
            Backend::Native => train_native(self, net, &train, val.as_ref(), &mut rng, observer)?,
            #[cfg(feature = "candle")]
            Backend::Candle => {
                candle_train::train(self, net, &train, val.as_ref(), &mut rng, observer)?
            }
            #[cfg(not(feature = "candle"))]
            Backend::Candle => return Err(ModelError::BackendUnavailable("candle")),
        };
        let gaussian = match self.scoring {
            AeScoring::Mse => None,
            AeScoring::Mahalanobis { ridge } => Some(error_gaussian(&net, &train, ridge)?),
        };
        Ok(Autoencoder {
            config: self.clone(),
            net,
            scaler,
            gaussian,
            history,
            seed,
        })
    }
}

/// Rows `..at` and `at..` (`None` when empty) of `x`: the first part keeps `x`'s buffer
/// (`slice_move` does not copy, and leading rows of a row-major matrix stay contiguous),
/// so a training set is never held twice.
fn split_rows(x: Array2<f32>, at: usize) -> (Array2<f32>, Option<Array2<f32>>) {
    let val = (at < x.nrows()).then(|| x.slice(ndarray::s![at.., ..]).to_owned());
    (x.slice_move(ndarray::s![..at, ..]), val)
}

/// The order of training vectors in one epoch.
pub(crate) fn epoch_order(n: usize, shuffle: bool, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        order.shuffle(rng);
    }
    order
}

/// The epoch bookkeeping both training loops share: divergence check, history, early
/// stopping on the monitored loss (validation if any, else training), the observer.
pub(crate) struct EpochLog {
    epochs: usize,
    early: Option<EarlyStopping>,
    best: f64,
    since: usize,
    history: Vec<EpochReport>,
}

/// What a training loop does after an epoch.
pub(crate) struct AfterEpoch {
    /// Keep a copy of the network (best so far, to be restored).
    pub(crate) keep_best: bool,
    /// Stop training (patience used up, or the observer asked).
    pub(crate) stop: bool,
}

impl EpochLog {
    pub(crate) fn new(cfg: &AutoencoderConfig) -> Self {
        EpochLog {
            epochs: cfg.epochs,
            early: cfg.early_stopping,
            best: f64::INFINITY,
            since: 0,
            history: Vec::with_capacity(cfg.epochs),
        }
    }

    /// Records a finished epoch.
    ///
    /// # Errors
    /// A non-finite training or validation loss.
    pub(crate) fn record(
        &mut self,
        epoch: usize,
        train_loss: f64,
        val_loss: Option<f64>,
        started: Instant,
        observer: &mut dyn TrainObserver,
    ) -> Result<AfterEpoch, ModelError> {
        if !train_loss.is_finite() || val_loss.is_some_and(|v| !v.is_finite()) {
            return Err(ModelError::Diverged {
                epoch,
                loss: train_loss,
            });
        }
        let report = EpochReport {
            epoch,
            epochs: self.epochs,
            train_loss,
            val_loss,
            seconds: started.elapsed().as_secs_f64(),
        };
        self.history.push(report);
        let (improved, patience_out) = match self.early {
            None => (false, false),
            Some(cfg) => {
                let loss = val_loss.unwrap_or(train_loss);
                if loss < self.best - cfg.min_delta {
                    self.best = loss;
                    self.since = 0;
                    (true, false)
                } else {
                    self.since += 1;
                    (false, self.since > cfg.patience)
                }
            }
        };
        Ok(AfterEpoch {
            keep_best: improved && self.early.is_some_and(|e| e.restore_best),
            stop: !observer.on_epoch(&report) || patience_out,
        })
    }

    pub(crate) fn into_history(self) -> Vec<EpochReport> {
        self.history
    }
}

fn train_native(
    cfg: &AutoencoderConfig,
    mut net: Net,
    train: &Pairs,
    val: Option<&Pairs>,
    rng: &mut ChaCha8Rng,
    observer: &mut dyn TrainObserver,
) -> Result<(Net, Vec<EpochReport>), ModelError> {
    let not_contiguous = || ModelError::Numerical("training matrix not contiguous".into());
    let (n, d) = train.x.dim();
    let data = train.x.as_slice().ok_or_else(not_contiguous)?;
    let target = train.target();
    let (targets, e) = (
        target.as_slice().ok_or_else(not_contiguous)?,
        target.ncols(),
    );
    let batches = n.div_ceil(cfg.batch_size);
    observer.on_start(cfg.epochs, batches);
    let mut threads = cfg.threads.max(1);
    let mut runner = Runner::new(threads)?;
    let mut trainer = Trainer::new(&net, cfg.adam);
    let mut batch = vec![0.0f32; cfg.batch_size * d];
    let mut batch_target = vec![0.0f32; cfg.batch_size * e];
    let mut log = EpochLog::new(cfg);
    let mut best = None;
    let mut eval = Eval::default();
    for epoch in 1..=cfg.epochs {
        if let Some(t) = observer.threads().map(|t| t.max(1))
            && t != threads
        {
            runner = Runner::new(t)?;
            threads = t;
        }
        let t0 = Instant::now();
        let order = epoch_order(n, cfg.shuffle, rng);
        let mut sum = 0.0f64;
        for (b, chunk) in order.chunks(cfg.batch_size).enumerate() {
            let rows = chunk.len();
            let loss = runner.run(|| {
                gather(&mut batch, data, chunk, d);
                if train.y.is_some() {
                    gather(&mut batch_target, targets, chunk, e);
                    let (x, y) = (&batch[..rows * d], &batch_target[..rows * e]);
                    trainer.step(&mut net, x, y, rows)
                } else {
                    let x = &batch[..rows * d];
                    trainer.step(&mut net, x, x, rows)
                }
            });
            sum += loss * chunk.len() as f64;
            observer.on_batch(epoch, b + 1);
        }
        let train_loss = sum / n as f64;
        let val_loss = val.map(|v| runner.run(|| mse(&net, v, &mut eval)));
        let after = log.record(epoch, train_loss, val_loss, t0, observer)?;
        if after.keep_best {
            best = Some(net.clone());
        }
        if after.stop {
            break;
        }
    }
    Ok((best.unwrap_or(net), log.into_history()))
}

/// Copies the `d`-wide rows `idx` of `src` into the first rows of `dst`, in two halves
/// when the engine has a second thread.
fn gather(dst: &mut [f32], src: &[f32], idx: &[usize], d: usize) {
    let copy = |dst: &mut [f32], idx: &[usize]| {
        for (out, &i) in dst.chunks_exact_mut(d).zip(idx) {
            out.copy_from_slice(&src[i * d..(i + 1) * d]);
        }
    };
    if crate::linalg::threads() > 1 && idx.len() >= 64 {
        let h = idx.len() / 2;
        let (first, second) = dst.split_at_mut(h * d);
        crate::linalg::join(|| copy(first, &idx[..h]), || copy(second, &idx[h..]));
    } else {
        copy(dst, idx);
    }
}

/// Where the native engine's steps run: on the calling thread; with a spinning helper
/// thread for two (a rayon worker woken per product cost 12 % of the cycles); or, for
/// more, in a pool of its own whose workers split each matrix product into row blocks
/// (forked from inside the pool: from outside, every product waits for a worker to wake).
enum Runner {
    Here,
    /// Two threads: the caller and a spinning helper (see `linalg::HelperThread`).
    Pair(crate::linalg::HelperThread),
    Pool(rayon::ThreadPool, usize),
}

impl Runner {
    fn new(threads: usize) -> Result<Self, ModelError> {
        if threads <= 1 {
            return Ok(Runner::Here);
        }
        if threads == 2 {
            return crate::linalg::HelperThread::start()
                .map(Runner::Pair)
                .map_err(|e| ModelError::Numerical(format!("cannot start a second thread: {e}")));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("aad-ae-{i}"))
            .build()
            .map(|p| Runner::Pool(p, threads))
            .map_err(|e| ModelError::Numerical(format!("cannot start {threads} threads: {e}")))
    }

    fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match self {
            Runner::Here => f(),
            Runner::Pair(helper) => helper.run(f),
            Runner::Pool(pool, threads) => pool.install(|| {
                crate::linalg::set_threads(*threads);
                f()
            }),
        }
    }
}

/// Mean squared error over all target values of `p`, in chunks.
fn mse(net: &Net, p: &Pairs, eval: &mut Eval) -> f64 {
    let mut sum = 0.0f64;
    for_each_error(net, p, eval, |e| {
        sum += e.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>();
    });
    sum / (p.rows() * p.target().ncols()).max(1) as f64
}

/// Calls `f` with the errors `target - output` of chunks of up to 4,096 vectors
/// (row-major, one row per vector).
fn for_each_error(net: &Net, p: &Pairs, eval: &mut Eval, mut f: impl FnMut(&[f32])) {
    let mut errors = Vec::new();
    let target = p.target();
    for (chunk, t) in
        p.x.axis_chunks_iter(ndarray::Axis(0), 4096)
            .zip(target.axis_chunks_iter(ndarray::Axis(0), 4096))
    {
        let input = chunk.as_standard_layout();
        let out = net.forward_eval(input.as_slice().unwrap_or_default(), chunk.nrows(), eval);
        errors.clear();
        errors.extend(out.iter().zip(t.iter()).map(|(o, t)| t - o));
        f(&errors);
    }
}

/// Mean and regularised precision of the training reconstruction errors.
fn error_gaussian(net: &Net, p: &Pairs, ridge: f64) -> Result<ErrorGaussian, ModelError> {
    let (n, d) = (p.rows(), p.target().ncols());
    if n < 2 {
        return Err(ModelError::TooFewVectors {
            what: "a Mahalanobis error model".into(),
            need: 2,
            got: n,
        });
    }
    let mut eval = Eval::default();
    let mut mean = vec![0.0f64; d];
    let mut errors = Vec::with_capacity(n * d);
    for_each_error(net, p, &mut eval, |e| {
        errors.extend(e.iter().map(|&v| f64::from(v)));
    });
    for row in errors.chunks_exact(d) {
        mean.iter_mut().zip(row).for_each(|(m, e)| *m += e);
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let precision = crate::classical::regularised_precision(&errors, &mean, n, d, ridge)?;
    Ok(ErrorGaussian {
        mean: mean.iter().map(|&m| m as f32).collect(),
        precision: precision.iter().map(|&p| p as f32).collect(),
    })
}

impl Fit for AutoencoderConfig {
    type Detector = Autoencoder;
    type Error = ModelError;

    fn fit(&self, normal: &[ArrayView2<'_, f32>], seed: u64) -> Result<Autoencoder, ModelError> {
        self.fit_observed(normal, seed, &mut ())
    }
}

impl Autoencoder {
    /// The configuration it was trained with.
    pub fn config(&self) -> &AutoencoderConfig {
        &self.config
    }

    /// Per-epoch losses.
    pub fn history(&self) -> &[EpochReport] {
        &self.history
    }

    /// The seed it was trained with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Trainable parameters.
    pub fn n_params(&self) -> usize {
        self.net.n_params()
    }

    /// Per-vector anomaly scores of one clip (MSE or Mahalanobis, see [`AeScoring`]).
    ///
    /// # Errors
    /// A wrong width, an empty clip or non-finite features.
    pub fn vector_scores(&self, clip: ArrayView2<'_, f32>) -> Result<Vec<f64>, ModelError> {
        let (p, out) = self.forward(clip)?;
        let target = p.target();
        let (flat, d) = (target.as_slice().unwrap_or_default(), target.ncols());
        let Some(g) = &self.gaussian else {
            return Ok(mse_per_vector(&out, flat, d));
        };
        // Centred errors E (rows = vectors), then q_i = e_i' P e_i = rowsum(E ∘ (E P)):
        // one matrix product instead of a quadratic form per vector.
        let e: Vec<f32> = out
            .chunks_exact(d)
            .zip(flat.chunks_exact(d))
            .flat_map(|(o, t)| o.iter().zip(t).zip(&g.mean).map(|((o, t), m)| t - o - m))
            .collect();
        let rows = p.rows();
        let mut ep = vec![0.0f32; rows * d];
        gemm(
            &mut ep,
            Mat::rows(&e, rows, d),
            Mat::rows(&g.precision, d, d),
            1.0,
            0.0,
        );
        Ok(e.chunks_exact(d)
            .zip(ep.chunks_exact(d))
            .map(|(e, ep)| {
                e.iter()
                    .zip(ep)
                    .map(|(a, b)| f64::from(*a) * f64::from(*b))
                    .sum::<f64>()
            })
            .collect())
    }
}

/// Where an autoencoder's reconstruction error lies in one clip (see
/// [`Autoencoder::breakdown`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AeBreakdown {
    /// The clip's score, as [`Detector::score`] gives it (the same computation).
    pub score: f64,
    /// `frames x rows` of the clip: the squared reconstruction errors (in the scaler's
    /// standardised units) that fall on each frame's row, summed over the stacked vectors
    /// that hold it, each divided by the output width as the vector's error is.
    pub errors: Array2<f64>,
}

impl Autoencoder {
    /// Whether [`breakdown`](Self::breakdown) applies: the mean squared error scoring
    /// (a Mahalanobis score mixes the outputs).
    pub fn breakdown_supported(&self) -> bool {
        self.gaussian.is_none()
    }

    /// Splits a clip's reconstruction error by frame and feature row: each stacked
    /// vector's squared output errors go back to the frame and row they reconstruct (for
    /// an interpolating network, the centre frame). The score is [`Detector::score`]'s.
    ///
    /// # Errors
    /// A Mahalanobis-scoring model, or a clip it cannot score.
    pub fn breakdown(&self, clip: ArrayView2<'_, f32>) -> Result<AeBreakdown, ModelError> {
        if !self.breakdown_supported() {
            return Err(ModelError::config(
                "scoring",
                "mahalanobis",
                "a breakdown needs the mean squared error scoring",
            ));
        }
        let (p, out) = self.forward(clip)?;
        let target = p.target();
        let (flat, d) = (target.as_slice().unwrap_or_default(), target.ncols());
        // The score from the same outputs, by the rule `vector_scores` and `score` use.
        let score = self.config.pooling.pool(&mse_per_vector(&out, flat, d));
        let centre = match self.config.target {
            AeTarget::Interpolate { frames } => Some(frames / 2),
            AeTarget::Reconstruct => None,
        };
        let rows = clip.ncols();
        let mut errors = Array2::<f64>::zeros((clip.nrows(), rows));
        for (v, (o, t)) in out.chunks_exact(d).zip(flat.chunks_exact(d)).enumerate() {
            for (j, (o, t)) in o.iter().zip(t).enumerate() {
                let (offset, row) = centre.map_or((j / rows, j % rows), |c| (c, j % rows));
                if let Some(e) = errors.get_mut((v + offset, row)) {
                    *e += f64::from(o - t).powi(2) / d as f64;
                }
            }
        }
        Ok(AeBreakdown { score, errors })
    }
}

impl Autoencoder {
    /// One clip through the network: its vectors stacked, scaled and split (the targets
    /// are `Pairs::target`), and the outputs, row-major, one row per vector.
    fn forward(&self, clip: ArrayView2<'_, f32>) -> Result<(Pairs, Vec<f32>), ModelError> {
        let mut x = match self.config.context {
            1 => clip.as_standard_layout().into_owned(),
            c => {
                check_clip(0, &clip, self.vector_width() / c)?;
                aad_core::ops::stack_frames(clip, c)?
            }
        };
        check_clip(0, &x.view(), self.vector_width())?;
        self.scaler.transform(x.view_mut());
        let p = self.config.target.split(x);
        let mut eval = Eval::default();
        let out = self
            .net
            .forward_eval(p.x.as_slice().unwrap_or_default(), p.rows(), &mut eval)
            .to_vec();
        Ok((p, out))
    }
}

/// Each vector's mean squared error: the outputs against the targets, `d` per vector.
fn mse_per_vector(out: &[f32], target: &[f32], d: usize) -> Vec<f64> {
    out.chunks_exact(d)
        .zip(target.chunks_exact(d))
        .map(|(o, t)| {
            o.iter()
                .zip(t)
                .map(|(o, t)| f64::from(o - t).powi(2))
                .sum::<f64>()
                / d as f64
        })
        .collect()
}

/// Each clip's frames stacked `context` at a time (`None` for 1: as they are).
fn stack_clips(
    clips: &[ArrayView2<'_, f32>],
    context: usize,
) -> Result<Option<Vec<Array2<f32>>>, ModelError> {
    if context <= 1 {
        return Ok(None);
    }
    Ok(Some(
        clips
            .iter()
            .map(|c| aad_core::ops::stack_frames(*c, context))
            .collect::<Result<_, _>>()?,
    ))
}

impl Autoencoder {
    /// Reads clips of unstacked frames, stacking `context` of them itself: a model saved
    /// before stacking moved into the autoencoder was fitted on clips stacked by its
    /// caller (`context` 1). Its numbers do not change.
    ///
    /// # Errors
    /// The model already stacks, or its input is not `context` frames wide.
    pub fn stack_internally(&mut self, context: usize) -> Result<(), ModelError> {
        if self.config.context != 1 || context < 1 || !self.vector_width().is_multiple_of(context) {
            return Err(ModelError::Inconsistent(format!(
                "cannot read {context} stacked frames: the model stacks {} frames of {} inputs",
                self.config.context,
                self.vector_width()
            )));
        }
        self.config.context = context;
        Ok(())
    }

    /// The width of the stacked vectors it scores.
    fn vector_width(&self) -> usize {
        self.config.target.vector_width(self.net.n_in())
    }

    /// Checks a loaded model's shapes.
    pub(crate) fn check(&self) -> Result<(), ModelError> {
        let l = &self.net.layers;
        self.config.target.validate(None)?;
        self.config.pooling.validate()?;
        if l.is_empty()
            || l.windows(2).any(|w| w[0].n_out != w[1].n_in)
            || l.iter().any(|x| x.n_in == 0 || x.n_out == 0)
            || self.config.target.io_widths(self.vector_width())
                != (l[0].n_in, l[l.len() - 1].n_out)
        {
            return Err(ModelError::Inconsistent("inconsistent layer shapes".into()));
        }
        for (i, x) in l.iter().enumerate() {
            if x.w.len() != x.n_in * x.n_out || x.b.len() != x.n_out {
                return Err(ModelError::Inconsistent(format!(
                    "layer {i} weights do not match its shape"
                )));
            }
            if let Some(bn) = &x.bn
                && ([&bn.gamma, &bn.beta, &bn.mean, &bn.var]
                    .iter()
                    .any(|v| v.len() != x.n_out)
                    || bn.var.iter().any(|v| *v < 0.0))
            {
                return Err(ModelError::Inconsistent(format!(
                    "layer {i} BatchNorm does not match its shape"
                )));
            }
        }
        self.scaler.check(self.vector_width())?;
        let d = l[l.len() - 1].n_out;
        if let Some(g) = &self.gaussian
            && (g.mean.len() != d || g.precision.len() != d * d)
        {
            return Err(ModelError::Inconsistent(
                "Mahalanobis statistics do not match the output width".into(),
            ));
        }
        Ok(())
    }
}

impl Detector for Autoencoder {
    type Error = ModelError;

    /// The width of the frames it reads (before it stacks `context` of them).
    fn input_dims(&self) -> usize {
        self.vector_width() / self.config.context.max(1)
    }

    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, ModelError> {
        let v = self.vector_scores(clip)?;
        Ok(self.config.pooling.pool(&v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Six deterministic clips of `frames x dims` with some structure to learn.
    fn toy_clips(frames: usize, dims: usize) -> Vec<Array2<f32>> {
        (0..6)
            .map(|c| {
                Array2::from_shape_fn((frames, dims), |(t, j)| {
                    ((t * 13 + j * 7 + c * 5) % 17) as f32 * 0.1 - 0.8 + j as f32 * 0.05
                })
            })
            .collect()
    }

    #[test]
    fn the_breakdown_puts_every_vector_error_back_on_its_frames_and_rows() {
        let clips = toy_clips(30, 8);
        let views: Vec<_> = clips.iter().map(|c| c.view()).collect();
        for (target, context) in [
            (AeTarget::Reconstruct, 3),
            (AeTarget::Interpolate { frames: 3 }, 3),
        ] {
            let ae = AutoencoderConfig::mimii()
                .input_dims(None)
                .context(context)
                .target(target)
                .epochs(2)
                .batch_size(32)
                .fit(&views, 3)
                .unwrap();
            let probe = clips[1].map(|v| v * 1.2 + 0.1);
            let b = ae.breakdown(probe.view()).unwrap();
            assert_eq!(b.score.to_bits(), ae.score(probe.view()).unwrap().to_bits());
            assert_eq!(b.errors.dim(), (30, 8));
            // Mean pooling: the vectors' errors, summed, are the score times their count.
            let v = ae.vector_scores(probe.view()).unwrap();
            let total: f64 = v.iter().sum();
            assert!((b.errors.sum() - total).abs() < 1e-6 * total, "{target:?}");
            if let AeTarget::Interpolate { .. } = target {
                // Only centre frames are predicted: the first and the last are not.
                assert!(b.errors.row(0).iter().all(|&e| e == 0.0));
                assert!(b.errors.row(29).iter().all(|&e| e == 0.0));
            }
        }
    }

    #[test]
    fn mahalanobis_scores_are_the_quadratic_form_of_the_centred_errors() {
        let clips = toy_clips(40, 10);
        let views: Vec<_> = clips.iter().map(|c| c.view()).collect();
        let ae = AutoencoderConfig::mimii()
            .input_dims(None)
            .epochs(3)
            .batch_size(32)
            .scoring(AeScoring::Mahalanobis { ridge: 1e-2 })
            .fit(&views, 3)
            .unwrap();
        let g = ae.gaussian.as_ref().unwrap();
        let probe = clips[2].map(|v| v * 1.3 + 0.2);
        let fast = ae.vector_scores(probe.view()).unwrap();
        // Direct evaluation, in f64, of (e - m)' P (e - m) per vector.
        let mut x = probe.clone();
        ae.scaler.transform(x.view_mut());
        let flat = x.as_slice().unwrap();
        let mut eval = Eval::default();
        let out = ae.net.forward_eval(flat, x.nrows(), &mut eval);
        let d = 10;
        for (i, f) in fast.iter().enumerate() {
            let e: Vec<f64> = (0..d)
                .map(|j| f64::from(flat[i * d + j] - out[i * d + j] - g.mean[j]))
                .collect();
            let q: f64 = (0..d)
                .map(|a| {
                    (0..d)
                        .map(|b| e[a] * f64::from(g.precision[a * d + b]) * e[b])
                        .sum::<f64>()
                })
                .sum();
            assert!(
                (f - q).abs() <= 1e-4 * q.abs().max(1.0),
                "vector {i}: {f} vs {q}"
            );
        }
    }
}
