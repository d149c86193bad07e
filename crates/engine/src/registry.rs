//! The registry: every named feature and detector, each one table entry.
//!
//! The experiment, the `aad` command (`aad list`, `--feature`, `--detector`), the Python
//! module and the docs read these two tables; nothing else maps names to code. Adding a
//! feature is one [`FeatureEntry`] in [`FEATURES`] (plus, for a new extractor type, its
//! [`FeatureKind`] variant and that variant's `Algorithm` impl); adding a detector is one
//! [`DetectorEntry`] in [`DETECTORS`], which carries its builder (plus, for a new
//! algorithm, its variant in `aad_models::DetectorConfig`).
//!
//! A feature gives a clip's `frames x dims` matrix; a detector decides what it sees of
//! it ([`Needs`]): autoencoders stack frames five at a time themselves (as the MIMII and
//! DCASE baselines), the classical detectors read single frames (`*_frames`) or the
//! clip's per-dimension time mean and standard deviation (the others).
//!
//! ```
//! use aad_engine::registry::{self, FeatureSpec, ModelSpec};
//! let logmel = FeatureSpec::parse("logmel_mimii", 16_000)?;
//! assert_eq!(logmel.dims(), 64);
//! assert!((logmel.seconds_per_frame() - 0.032).abs() < 1e-12);
//! let knn = ModelSpec::parse("knn")?;
//! assert!(!knn.is_autoencoder());
//! assert!(registry::list_text().contains("cens_seed"));
//! # Ok::<(), registry::RegistryError>(())
//! ```

use std::fmt;

use aad_core::{FeatureExtractor, Signal};
use aad_models::classical::{
    GmmConfig, Inputs, IsolationForestConfig, KnnConfig, LofConfig, MahalanobisConfig, PcaConfig,
};
use aad_models::{
    AeScoring, AeTarget, AutoencoderConfig, Combine, DetectorConfig, DomainBanksConfig,
    FusionConfig, IdClassifierConfig, Pooling, Representation, SubbandConfig,
};
use cens_features::{
    CensConfig, CensExtractor, ChromaCqtConfig, ChromaCqtExtractor, ChromaStftConfig,
    ChromaStftExtractor, Cqt, CqtConfig,
};
use mel_features::{MelConfig, MelExtractor, MfccConfig, MfccExtractor};
use ndarray::{Array2, ArrayViewMut2};
use thiserror::Error;

/// Errors of looking names up and planning extractors.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// No feature has this name.
    #[error("unknown feature {name:?}; known: {known}")]
    UnknownFeature {
        /// The name given.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// No detector has this name.
    #[error("unknown detector {name:?}; known: {known}")]
    UnknownDetector {
        /// The name given.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// A parametrised name with a bad parameter.
    #[error("{name}: {reason}")]
    InvalidParameter {
        /// The name given.
        name: String,
        /// What is required.
        reason: &'static str,
    },
    /// A list names an item twice.
    #[error("{what} {name:?} given twice")]
    Repeated {
        /// `feature` or `detector`.
        what: &'static str,
        /// The repeated name.
        name: String,
    },
    /// A list is empty.
    #[error("no {what} given")]
    EmptyList {
        /// `feature` or `detector`.
        what: &'static str,
    },
    /// The extractor rejects its configuration or the signal.
    #[error("{feature}: {source}")]
    Extractor {
        /// The feature's name.
        feature: String,
        /// The extractor's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Autoencoder presets of `aad-models`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AePreset {
    /// DCASE 2020 baseline.
    Dcase2020,
    /// MIMII baseline.
    Mimii,
    /// The seed project's.
    Seed,
    /// Small AE for 12-dim chroma frames x 5.
    Cens,
}

impl AePreset {
    fn config(self) -> AutoencoderConfig {
        match self {
            AePreset::Dcase2020 => AutoencoderConfig::dcase2020(),
            AePreset::Mimii => AutoencoderConfig::mimii(),
            AePreset::Seed => AutoencoderConfig::seed(),
            AePreset::Cens => AutoencoderConfig::cens(),
        }
    }
}

/// What computes a feature.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum FeatureKind {
    /// (log-)Mel spectrogram (no stacking: the model stacks).
    LogMel(MelConfig),
    /// Chroma energy normalised statistics.
    Cens(CensConfig),
    /// CQT chroma.
    ChromaCqt(ChromaCqtConfig),
    /// STFT chroma.
    ChromaStft(ChromaStftConfig),
    /// MFCC.
    Mfcc(MfccConfig),
    /// Log-magnitude constant-Q transform.
    LogCqt(CqtConfig),
    /// Several features side by side, frame by frame (`logmel_dcase+cens`): same hop,
    /// sample rate and frame count.
    Concat(Vec<FeatureKind>),
}

impl FeatureKind {
    /// The variant's algorithm: the one match over the variants (a new feature adds its
    /// variant, this arm, its [`Algorithm`] impl and its [`FeatureEntry`]).
    fn algorithm(&self) -> &dyn Algorithm {
        match self {
            FeatureKind::LogMel(c) => c,
            FeatureKind::Cens(c) => c,
            FeatureKind::ChromaCqt(c) => c,
            FeatureKind::ChromaStft(c) => c,
            FeatureKind::Mfcc(c) => c,
            FeatureKind::LogCqt(c) => c,
            FeatureKind::Concat(parts) => parts,
        }
    }

    /// (hop, sample rate, downsampling) of the output frames; a concatenation's are its
    /// first part's (parsing checks that the parts agree).
    fn framing(&self) -> (usize, u32, usize) {
        self.algorithm().framing()
    }

    /// Width of a frame.
    fn dims(&self) -> usize {
        self.algorithm().dims()
    }

    /// The algorithm version of the crate computing it (part of cache keys and model
    /// files: a change to the numbers bumps it).
    pub fn algorithm_version(&self) -> String {
        self.algorithm().version()
    }
}

/// What the registry needs to know of a feature's configuration: how its frames are laid
/// out, which crate version computes it, what its values mean, and how to plan its
/// extractor.
trait Algorithm {
    /// (hop, sample rate, downsampling) of the output frames.
    fn framing(&self) -> (usize, u32, usize);
    /// Width of a frame.
    fn dims(&self) -> usize;
    /// `crate/ALGORITHM_VERSION` of the computing crate.
    fn version(&self) -> String;
    /// The planned extractor.
    fn extractor(&self) -> Result<AnyExtractor, BoxError>;
    /// What a value is, with its unit.
    fn value_desc(&self) -> &'static str;
    /// What the rows are.
    fn row_desc(&self) -> &'static str;
    /// Whether the rows are pitch classes.
    fn is_chroma(&self) -> bool {
        false
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn mel_version() -> String {
    format!("mel-features/{}", mel_features::ALGORITHM_VERSION)
}

fn cens_version() -> String {
    format!("cens-features/{}", cens_features::ALGORITHM_VERSION)
}

impl Algorithm for MelConfig {
    fn framing(&self) -> (usize, u32, usize) {
        (self.stft.hop_length, self.sample_rate, 1)
    }
    fn dims(&self) -> usize {
        MelConfig::dims(self)
    }
    fn version(&self) -> String {
        mel_version()
    }
    fn extractor(&self) -> Result<AnyExtractor, BoxError> {
        Ok(AnyExtractor::new(MelExtractor::new(self.clone())?))
    }
    fn value_desc(&self) -> &'static str {
        if self.log == mel_features::LogScale::None {
            "Mel energy"
        } else {
            "Mel energy (dB)"
        }
    }
    fn row_desc(&self) -> &'static str {
        "Mel band"
    }
}

impl Algorithm for CensConfig {
    fn framing(&self) -> (usize, u32, usize) {
        (
            self.chroma.cqt.hop_length,
            self.chroma.cqt.sample_rate,
            self.downsample,
        )
    }
    fn dims(&self) -> usize {
        self.chroma.n_chroma
    }
    fn version(&self) -> String {
        cens_version()
    }
    fn extractor(&self) -> Result<AnyExtractor, BoxError> {
        Ok(AnyExtractor::new(CensExtractor::new(self.clone())?))
    }
    fn value_desc(&self) -> &'static str {
        "CENS (unit l2 norm)"
    }
    fn row_desc(&self) -> &'static str {
        "pitch class"
    }
    fn is_chroma(&self) -> bool {
        true
    }
}

impl Algorithm for ChromaCqtConfig {
    fn framing(&self) -> (usize, u32, usize) {
        (self.cqt.hop_length, self.cqt.sample_rate, 1)
    }
    fn dims(&self) -> usize {
        self.n_chroma
    }
    fn version(&self) -> String {
        cens_version()
    }
    fn extractor(&self) -> Result<AnyExtractor, BoxError> {
        Ok(AnyExtractor::new(ChromaCqtExtractor::new(self.clone())?))
    }
    fn value_desc(&self) -> &'static str {
        "chroma energy (max-normalised)"
    }
    fn row_desc(&self) -> &'static str {
        "pitch class"
    }
    fn is_chroma(&self) -> bool {
        true
    }
}

impl Algorithm for ChromaStftConfig {
    fn framing(&self) -> (usize, u32, usize) {
        (self.stft.hop_length, self.sample_rate, 1)
    }
    fn dims(&self) -> usize {
        self.n_chroma
    }
    fn version(&self) -> String {
        cens_version()
    }
    fn extractor(&self) -> Result<AnyExtractor, BoxError> {
        Ok(AnyExtractor::new(ChromaStftExtractor::new(self.clone())?))
    }
    fn value_desc(&self) -> &'static str {
        "chroma energy (max-normalised)"
    }
    fn row_desc(&self) -> &'static str {
        "pitch class"
    }
    fn is_chroma(&self) -> bool {
        true
    }
}

impl Algorithm for MfccConfig {
    fn framing(&self) -> (usize, u32, usize) {
        (self.mel.stft.hop_length, self.mel.sample_rate, 1)
    }
    fn dims(&self) -> usize {
        MfccConfig::dims(self)
    }
    fn version(&self) -> String {
        mel_version()
    }
    fn extractor(&self) -> Result<AnyExtractor, BoxError> {
        Ok(AnyExtractor::new(MfccExtractor::new(self.clone())?))
    }
    fn value_desc(&self) -> &'static str {
        "cepstral coefficient"
    }
    fn row_desc(&self) -> &'static str {
        "MFCC"
    }
}

impl Algorithm for CqtConfig {
    fn framing(&self) -> (usize, u32, usize) {
        (self.hop_length, self.sample_rate, 1)
    }
    fn dims(&self) -> usize {
        self.n_bins
    }
    fn version(&self) -> String {
        cens_version()
    }
    fn extractor(&self) -> Result<AnyExtractor, BoxError> {
        Ok(AnyExtractor::new(LogCqt {
            cqt: Cqt::new(self.clone())?,
            n_bins: self.n_bins,
        }))
    }
    fn value_desc(&self) -> &'static str {
        "CQT magnitude (dB)"
    }
    fn row_desc(&self) -> &'static str {
        "CQT bin"
    }
}

impl Algorithm for Vec<FeatureKind> {
    fn framing(&self) -> (usize, u32, usize) {
        self.first().map_or((0, 0, 1), FeatureKind::framing)
    }
    fn dims(&self) -> usize {
        self.iter().map(FeatureKind::dims).sum()
    }
    fn version(&self) -> String {
        self.iter()
            .map(FeatureKind::algorithm_version)
            .collect::<Vec<_>>()
            .join("+")
    }
    fn extractor(&self) -> Result<AnyExtractor, BoxError> {
        Ok(AnyExtractor::new(Concat {
            parts: self
                .iter()
                .map(|k| k.algorithm().extractor())
                .collect::<Result<_, _>>()?,
            buffers: Vec::new(),
        }))
    }
    fn value_desc(&self) -> &'static str {
        self.first().map_or("value", |k| k.algorithm().value_desc())
    }
    fn row_desc(&self) -> &'static str {
        "feature dimension"
    }
}

/// How an entry builds its configuration.
#[derive(Clone, Copy)]
enum Build {
    /// A fixed name.
    Fixed(fn(u32) -> FeatureKind),
    /// A family of names (`cens_l<L>_d<D>`): `None` when the name is not of the family.
    Pattern(fn(&str, u32) -> Option<Result<FeatureKind, RegistryError>>),
}

/// One named feature.
#[derive(Clone, Copy)]
pub struct FeatureEntry {
    /// The name (`logmel_mimii`), or the family's pattern (`cens_l<L>_d<D>`).
    pub name: &'static str,
    /// Other names for the same feature.
    pub aliases: &'static [&'static str],
    /// One line for `aad list`.
    pub description: &'static str,
    /// The reference it is checked against.
    pub faithful_to: &'static str,
    /// The autoencoder `ae` trains on it.
    pub ae_preset: AePreset,
    /// Whether `all` includes it.
    pub in_all: bool,
    build: Build,
}

impl fmt::Debug for FeatureEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeatureEntry")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn mel(c: MelConfig, sr: u32) -> FeatureKind {
    FeatureKind::LogMel(c.context(1).sample_rate(sr))
}

fn cens_ld(name: &str, sr: u32) -> Option<Result<FeatureKind, RegistryError>> {
    let rest = name.strip_prefix("cens_l")?;
    let (l, d) = rest.split_once("_d")?;
    let (l, d): (usize, usize) = (l.parse().ok()?, d.parse().ok()?);
    Some(if l >= 1 && d >= 1 {
        Ok(FeatureKind::Cens(
            CensConfig::librosa(sr).smoothing(Some(l)).downsample(d),
        ))
    } else {
        Err(RegistryError::InvalidParameter {
            name: name.to_string(),
            reason: "L and D must be >= 1",
        })
    })
}

/// Every feature, in report order.
pub const FEATURES: &[FeatureEntry] = &[
    FeatureEntry {
        name: "logmel_dcase",
        aliases: &[],
        description: "128 log-Mel bands, n_fft 1024, hop 512, 10 log10(S + eps) (DCASE 2020 baseline)",
        faithful_to: "librosa.feature.melspectrogram + the baseline's log",
        ae_preset: AePreset::Dcase2020,
        in_all: true,
        build: Build::Fixed(|sr| mel(MelConfig::dcase2020(), sr)),
    },
    FeatureEntry {
        name: "logmel_mimii",
        aliases: &["logmel"],
        description: "64 log-Mel bands, n_fft 1024, hop 512 (MIMII baseline)",
        faithful_to: "librosa.feature.melspectrogram + the baseline's log",
        ae_preset: AePreset::Mimii,
        in_all: true,
        build: Build::Fixed(|sr| mel(MelConfig::mimii_baseline(), sr)),
    },
    FeatureEntry {
        name: "logmel_seed",
        aliases: &[],
        description: "64 log-Mel bands, n_fft 2048, hop 512 (the seed study's)",
        faithful_to: "librosa.feature.melspectrogram + the baseline's log",
        ae_preset: AePreset::Seed,
        in_all: true,
        build: Build::Fixed(|sr| mel(MelConfig::seed(), sr)),
    },
    FeatureEntry {
        name: "cens",
        aliases: &[],
        description: "librosa chroma_cens: 12 pitch classes, l = 41, d = 1, tuning estimated",
        faithful_to: "librosa.feature.chroma_cens",
        ae_preset: AePreset::Cens,
        in_all: true,
        build: Build::Fixed(|sr| FeatureKind::Cens(CensConfig::librosa(sr))),
    },
    FeatureEntry {
        name: "cens_seed",
        aliases: &[],
        description: "the seed study's CENS: librosa chroma_cens, every 5th frame (d = 5)",
        faithful_to: "librosa.feature.chroma_cens",
        ae_preset: AePreset::Seed,
        in_all: true,
        build: Build::Fixed(|sr| FeatureKind::Cens(CensConfig::seed(sr))),
    },
    FeatureEntry {
        name: "cens_muller",
        aliases: &[],
        description: "Mueller's CENS (libfmp quantisation), l = 41, d = 10",
        faithful_to: "libfmp.c3.compute_cens_from_chromagram",
        ae_preset: AePreset::Cens,
        in_all: true,
        build: Build::Fixed(|sr| FeatureKind::Cens(CensConfig::muller(sr, 41, 10))),
    },
    FeatureEntry {
        name: "chroma_cqt",
        aliases: &[],
        description: "librosa chroma_cqt: 12 pitch classes from a 36-bins-per-octave CQT",
        faithful_to: "librosa.feature.chroma_cqt",
        ae_preset: AePreset::Cens,
        in_all: true,
        build: Build::Fixed(|sr| FeatureKind::ChromaCqt(ChromaCqtConfig::with_sample_rate(sr))),
    },
    FeatureEntry {
        name: "logcqt",
        aliases: &[],
        description: "the CQT CENS is made from (7 octaves x 36 bins from C1, hop 512, tuning estimated), 10 log10(|C|^2 + eps)",
        faithful_to: "librosa.cqt (magnitude) + the DCASE baseline's log",
        ae_preset: AePreset::Dcase2020,
        in_all: true,
        build: Build::Fixed(|sr| FeatureKind::LogCqt(CqtConfig::default().sample_rate(sr))),
    },
    FeatureEntry {
        name: "chroma_stft",
        aliases: &[],
        description: "librosa chroma_stft: 12 pitch classes from a 2048-point STFT",
        faithful_to: "librosa.feature.chroma_stft",
        ae_preset: AePreset::Cens,
        in_all: true,
        build: Build::Fixed(|sr| FeatureKind::ChromaStft(ChromaStftConfig::with_sample_rate(sr))),
    },
    FeatureEntry {
        name: "mfcc",
        aliases: &[],
        description: "the seed's torchaudio MFCC: 12 coefficients, hop 1200",
        faithful_to: "torchaudio.transforms.MFCC (log_mels=True)",
        ae_preset: AePreset::Cens,
        in_all: true,
        build: Build::Fixed(|sr| {
            let mut c = MfccConfig::seed();
            c.mel = c.mel.sample_rate(sr);
            FeatureKind::Mfcc(c)
        }),
    },
    FeatureEntry {
        name: "cens_l<L>_d<D>",
        aliases: &[],
        description: "librosa chroma_cens with smoothing L and downsampling D (e.g. cens_l21_d10)",
        faithful_to: "librosa.feature.chroma_cens",
        ae_preset: AePreset::Cens,
        in_all: false,
        build: Build::Pattern(cens_ld),
    },
];

/// What a detector sees of a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Frames stacked five at a time (autoencoders).
    StackedFrames,
    /// Every frame a vector; the clip's score pools its frames' scores.
    Frames,
    /// One vector per clip: the time mean and standard deviation of every feature.
    ClipStats,
    /// One vector per clip: the time mean of every feature.
    ClipMean,
    /// One vector per clip: the time mean, standard deviation and maximum of every feature.
    ClipMeanStdMax,
    /// Several detectors on clip summaries (a fusion).
    ClipSummaries,
}

impl Needs {
    /// Short label for `aad list`.
    pub fn label(self) -> &'static str {
        match self {
            Needs::StackedFrames => "stacked frames",
            Needs::Frames => "frames",
            Needs::ClipStats => "clip statistics",
            Needs::ClipMean => "clip mean",
            Needs::ClipMeanStdMax => "clip mean, std, max",
            Needs::ClipSummaries => "clip summaries (fused)",
        }
    }
}

/// What a detector entry's builder is given: the feature it will read and the run's
/// settings.
#[derive(Debug, Clone, Copy)]
pub struct DetectorContext<'a> {
    /// The feature the detector reads.
    pub feature: &'a FeatureSpec,
    /// Autoencoder epochs overriding the presets' (`None`: each preset's).
    pub epochs: Option<usize>,
    /// What the detector reads of a clip, from the entry's `needs` and `pooling`.
    pub inputs: Inputs,
    /// How a frame-level detector pools its frame scores.
    pub pooling: Pooling,
}

/// How an entry builds its detector's configuration (before any adaptation to the
/// training set's size).
pub type BuildDetector = fn(&DetectorContext<'_>) -> DetectorConfig;

/// One named detector.
#[derive(Debug, Clone, Copy)]
pub struct DetectorEntry {
    /// The name.
    pub name: &'static str,
    /// One line for `aad list`.
    pub description: &'static str,
    /// What it sees of a clip.
    pub needs: Needs,
    /// Whether `all` includes it.
    pub in_all: bool,
    /// How a frame-level detector pools its frame scores.
    pub pooling: Pooling,
    /// Whether fitting needs the normal training clips of the type's other machines (the
    /// machine-ID classifier and fusions with it).
    pub contrast: bool,
    /// Builds its configuration.
    pub build: BuildDetector,
}

const fn ae(
    name: &'static str,
    description: &'static str,
    in_all: bool,
    build: BuildDetector,
) -> DetectorEntry {
    DetectorEntry {
        name,
        description,
        needs: Needs::StackedFrames,
        in_all,
        pooling: Pooling::Mean,
        contrast: false,
        build,
    }
}

const fn idnn(
    name: &'static str,
    description: &'static str,
    pooling: Pooling,
    in_all: bool,
) -> DetectorEntry {
    DetectorEntry {
        name,
        description,
        needs: Needs::StackedFrames,
        in_all,
        pooling,
        contrast: false,
        build: idnn_config,
    }
}

/// A classical detector on clip statistics, or on frames with their scores averaged.
const fn classical(
    name: &'static str,
    description: &'static str,
    build: BuildDetector,
    frames: bool,
) -> DetectorEntry {
    DetectorEntry {
        name,
        description,
        needs: if frames {
            Needs::Frames
        } else {
            Needs::ClipStats
        },
        in_all: true,
        pooling: Pooling::Mean,
        contrast: false,
        build,
    }
}

/// A classical detector on another clip summary, or on frames pooled otherwise.
const fn classical_on(
    name: &'static str,
    description: &'static str,
    build: BuildDetector,
    needs: Needs,
    pooling: Pooling,
    in_all: bool,
) -> DetectorEntry {
    DetectorEntry {
        name,
        description,
        needs,
        in_all,
        pooling,
        contrast: false,
        build,
    }
}

/// [`classical_on`] for a detector that learns against the type's other machines.
const fn with_contrast(mut e: DetectorEntry) -> DetectorEntry {
    e.contrast = true;
    e
}

/// Every detector, in report order.
pub const DETECTORS: &[DetectorEntry] = &[
    ae(
        "ae",
        "dense autoencoder, the feature's preset; score = mean reconstruction error",
        true,
        |c| ae_config(c, None, false),
    ),
    ae(
        "ae_mahala",
        "the same autoencoder scored by the Mahalanobis distance of its errors",
        true,
        |c| ae_config(c, None, true),
    ),
    ae(
        "ae_seed",
        "the seed study's autoencoder (64-64-32-16-8)",
        false,
        |c| ae_config(c, Some(AePreset::Seed), false),
    ),
    ae(
        "ae_mimii",
        "the MIMII baseline autoencoder (64-64-8-64-64)",
        false,
        |c| ae_config(c, Some(AePreset::Mimii), false),
    ),
    ae(
        "ae_dcase",
        "the DCASE 2020 baseline autoencoder (128 x 4 BatchNorm, 8)",
        false,
        |c| ae_config(c, Some(AePreset::Dcase2020), false),
    ),
    ae(
        "ae_cens",
        "the small CENS autoencoder (60 inputs)",
        false,
        |c| ae_config(c, Some(AePreset::Cens), false),
    ),
    idnn(
        "idnn",
        "interpolation network (IDNN): predicts each centre frame from the 4 around it",
        Pooling::Mean,
        true,
    ),
    idnn(
        "idnn_p90",
        "the interpolation network, clip score = 90th percentile of its frame errors",
        Pooling::Percentile { p: 90.0 },
        false,
    ),
    classical(
        "knn",
        "distance to the 5th nearest training clip",
        knn_config,
        false,
    ),
    classical(
        "lof",
        "local outlier factor (k = 20, novelty mode)",
        lof_config,
        false,
    ),
    classical(
        "iforest",
        "Isolation Forest (100 trees, 256 samples)",
        iforest_config,
        false,
    ),
    classical(
        "gmm",
        "negative log-likelihood under a Gaussian mixture",
        gmm_config,
        false,
    ),
    classical(
        "mahalanobis",
        "Mahalanobis distance, Ledoit-Wolf covariance",
        mahalanobis_config,
        false,
    ),
    classical(
        "pca",
        "reconstruction error outside 90 % of the variance",
        pca_config,
        false,
    ),
    classical(
        "knn_frames",
        "distance to the 5th nearest training frame, mean over the clip",
        knn_config,
        true,
    ),
    classical(
        "lof_frames",
        "local outlier factor of frames, mean over the clip",
        lof_config,
        true,
    ),
    classical(
        "iforest_frames",
        "Isolation Forest on frames, mean over the clip",
        iforest_config,
        true,
    ),
    classical(
        "gmm_frames",
        "Gaussian-mixture negative log-likelihood of frames, mean over the clip",
        gmm_config,
        true,
    ),
    classical(
        "mahalanobis_frames",
        "Mahalanobis distance of frames, mean over the clip",
        mahalanobis_config,
        true,
    ),
    classical(
        "pca_frames",
        "PCA reconstruction error of frames, mean over the clip",
        pca_config,
        true,
    ),
    classical_on(
        "knn_mean",
        "distance to the 5th nearest training clip, clips as their time mean",
        knn_config,
        Needs::ClipMean,
        Pooling::Mean,
        true,
    ),
    classical_on(
        "knn_msm",
        "distance to the 5th nearest training clip, clips as time mean, std and max",
        knn_config,
        Needs::ClipMeanStdMax,
        Pooling::Mean,
        true,
    ),
    classical_on(
        "knn_msm_k1",
        "distance to the nearest training clip, clips as time mean, std and max",
        |c| {
            let mut knn = KnnConfig::default().inputs(c.inputs);
            knn.k = 1;
            DetectorConfig::Knn(knn)
        },
        Needs::ClipMeanStdMax,
        Pooling::Mean,
        false,
    ),
    classical_on(
        "mahalanobis_msm",
        "Mahalanobis distance (Ledoit-Wolf) of the clip's time mean, std and max",
        mahalanobis_config,
        Needs::ClipMeanStdMax,
        Pooling::Mean,
        true,
    ),
    classical_on(
        "knn_fusion",
        "mean of knn_mean's and knn_msm's scores, each standardised by its cross-fitted training scores",
        knn_fusion_config,
        Needs::ClipSummaries,
        Pooling::Mean,
        true,
    ),
    with_contrast(classical_on(
        "idclf",
        "machine-ID classifier: logistic regression telling this machine's frames from the type's other machines'; score = mean -log p(own machine)",
        |c| DetectorConfig::IdClassifier(id_classifier(c.inputs)),
        Needs::Frames,
        Pooling::Mean,
        true,
    )),
    with_contrast(classical_on(
        "knn_idclf",
        "mean of knn_msm's and idclf's scores, each standardised by its cross-fitted training scores",
        knn_idclf_config,
        Needs::ClipSummaries,
        Pooling::Mean,
        true,
    )),
    classical_on(
        "knn_subband",
        "sub-band matching: knn_msm on each of 8 frequency bands, standardised by its cross-fitted training scores; the worst band decides",
        |c| knn_subband_config(c, Combine::Max),
        Needs::ClipSummaries,
        Pooling::Mean,
        true,
    ),
    classical_on(
        "knn_subband_mean",
        "knn_subband with the bands' standardised scores averaged",
        |c| knn_subband_config(c, Combine::Mean),
        Needs::ClipSummaries,
        Pooling::Mean,
        false,
    ),
    classical_on(
        "knn_domains",
        "knn_msm with one memory bank per recording domain (DCASE 2021+ source and target training clips), each standardised by its cross-fitted training scores; the nearer domain decides",
        |_| DetectorConfig::DomainBanks(DomainBanksConfig::new(knn_msm())),
        Needs::ClipSummaries,
        Pooling::Mean,
        true,
    ),
    classical_on(
        "knn_frames_max",
        "distance to the 5th nearest training frame, the clip's largest",
        knn_config,
        Needs::Frames,
        Pooling::Max,
        false,
    ),
    classical_on(
        "knn_frames_p90",
        "distance to the 5th nearest training frame, the clip's 90th percentile",
        knn_config,
        Needs::Frames,
        Pooling::Percentile { p: 90.0 },
        false,
    ),
];

/// The default features of the experiment: the seed's comparison (its log-Mel against
/// librosa CENS, which its autoencoder effectively used) plus the MIMII baseline's log-Mel.
pub const DEFAULT_FEATURES: &str = "logmel_mimii,logmel_seed,cens,cens_seed";

/// The default detectors of the experiment: the seed's (autoencoder, LOF, Isolation
/// Forest), kNN on clip statistics, and `aad fit`'s default detector (kNN on the clip's
/// mean, standard deviation and maximum).
pub const DEFAULT_MODELS: &str = "ae,lof,iforest,knn,knn_msm";

/// The feature entry called `name` (or one of its aliases, or of its family).
pub fn feature(name: &str) -> Option<&'static FeatureEntry> {
    FEATURES.iter().find(|e| match e.build {
        Build::Fixed(_) => e.name == name || e.aliases.contains(&name),
        Build::Pattern(p) => p(name, 16_000).is_some(),
    })
}

/// The detector entry called `name`.
pub fn detector(name: &str) -> Option<&'static DetectorEntry> {
    DETECTORS.iter().find(|e| e.name == name)
}

/// `aad list`: a line `features:`, one line per feature (`NAME  description`), a line
/// `detectors:`, one line per detector.
pub fn list_text() -> String {
    let w = FEATURES
        .iter()
        .map(|e| e.name.len())
        .chain(DETECTORS.iter().map(|e| e.name.len()))
        .max()
        .unwrap_or(0);
    let mut s = String::from("features:\n");
    for e in FEATURES {
        let alias = if e.aliases.is_empty() {
            String::new()
        } else {
            format!(" (also: {})", e.aliases.join(", "))
        };
        s.push_str(&format!("{:w$}  {}{alias}\n", e.name, e.description));
    }
    s.push_str("detectors:\n");
    for e in DETECTORS {
        s.push_str(&format!(
            "{:w$}  {} [{}]\n",
            e.name,
            e.description,
            e.needs.label()
        ));
    }
    s
}

/// Every feature name (aliases in brackets), comma separated: for help texts and errors.
pub fn feature_names() -> String {
    FEATURES
        .iter()
        .map(|e| match e.aliases {
            [] => e.name.to_string(),
            a => format!("{} (= {})", e.name, a.join(", ")),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every detector name, comma separated: for help texts and errors.
pub fn detector_names() -> String {
    DETECTORS
        .iter()
        .map(|e| e.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn known_features() -> String {
    feature_names()
}

fn known_detectors() -> String {
    detector_names()
}

/// A named feature at a sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSpec {
    /// The name as given (`logmel`, `cens_l21_d10`, ...), used in reports.
    pub name: String,
    /// Its configuration.
    pub kind: FeatureKind,
    /// Frames an autoencoder input stacks.
    pub ae_context: usize,
    /// The autoencoder `ae` trains on it.
    pub ae_preset: AePreset,
}

impl fmt::Display for FeatureSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl FeatureSpec {
    /// The feature called `name` at `sample_rate`.
    ///
    /// # Errors
    /// An unknown name, or `cens_l<L>_d<D>` with L or D zero.
    pub fn parse(name: &str, sample_rate: u32) -> Result<Self, RegistryError> {
        let unknown = || RegistryError::UnknownFeature {
            name: name.to_string(),
            known: known_features(),
        };
        if name.contains('+') {
            return Self::parse_concat(name, sample_rate);
        }
        let entry = feature(name).ok_or_else(unknown)?;
        let kind = match entry.build {
            Build::Fixed(f) => f(sample_rate),
            Build::Pattern(p) => p(name, sample_rate).ok_or_else(unknown)??,
        };
        Ok(FeatureSpec {
            name: name.to_string(),
            kind,
            ae_context: 5,
            ae_preset: entry.ae_preset,
        })
    }

    /// `a+b+...`: the named features side by side, frame by frame; the autoencoder
    /// preset is the first part's.
    fn parse_concat(name: &str, sample_rate: u32) -> Result<Self, RegistryError> {
        let bad = |reason: &'static str| RegistryError::InvalidParameter {
            name: name.to_string(),
            reason,
        };
        let parts: Vec<FeatureSpec> = name
            .split('+')
            .map(|p| FeatureSpec::parse(p.trim(), sample_rate))
            .collect::<Result<_, _>>()?;
        if parts.len() < 2 || parts.iter().any(|p| p.name.is_empty()) {
            return Err(bad("a concatenation needs two or more feature names"));
        }
        let framing = parts[0].framing();
        if parts.iter().any(|p| p.framing() != framing) {
            return Err(bad(
                "concatenated features need the same hop, sample rate and downsampling",
            ));
        }
        Ok(FeatureSpec {
            name: name.to_string(),
            ae_context: parts[0].ae_context,
            ae_preset: parts[0].ae_preset,
            kind: FeatureKind::Concat(parts.into_iter().map(|p| p.kind).collect()),
        })
    }

    /// Parses a comma list (`all` = every named feature).
    ///
    /// # Errors
    /// An unknown or repeated name, or an empty list.
    pub fn parse_list(list: &str, sample_rate: u32) -> Result<Vec<Self>, RegistryError> {
        let all: Vec<&str> = FEATURES
            .iter()
            .filter(|e| e.in_all)
            .map(|e| e.name)
            .collect();
        expand(list, &all, "feature")?
            .iter()
            .map(|n| FeatureSpec::parse(n, sample_rate))
            .collect()
    }

    /// A planned extractor.
    ///
    /// # Errors
    /// The extractor rejects its configuration.
    pub fn extractor(&self) -> Result<AnyExtractor, RegistryError> {
        self.kind
            .algorithm()
            .extractor()
            .map_err(|source| RegistryError::Extractor {
                feature: self.name.clone(),
                source,
            })
    }

    /// Everything that determines the feature's values, for cache keys and model files:
    /// the computing crate's algorithm version and the full parameters as JSON (a stable
    /// serialisation: field names and values, not `Debug` text). Not the name: `logmel`
    /// and `logmel_mimii` share entries.
    pub fn key(&self) -> String {
        let params = serde_json::to_string(&self.kind)
            .unwrap_or_else(|e| format!("<parameters not serialisable: {e}>"));
        format!("{} {params}", self.kind.algorithm_version())
    }

    /// The key model files of format 1 carry (the parameters' `Debug` text), checked only
    /// when such a file is loaded: a file whose key this build no longer makes was made
    /// by another computation, and is refused with "re-fit".
    pub fn legacy_key(&self) -> String {
        format!("{} {:?}", self.kind.algorithm_version(), self.kind)
    }

    /// The parameters alone, as in `results.json` (without the algorithm version): a
    /// JSON object per extractor, e.g. `{"LogMel": {"n_mels": 64, ...}}`.
    pub fn parameters(&self) -> serde_json::Value {
        serde_json::to_value(&self.kind).unwrap_or(serde_json::Value::Null)
    }

    /// (hop, sample rate, downsampling) of the output frames.
    fn framing(&self) -> (usize, u32, usize) {
        self.kind.framing()
    }

    /// The sample rate the extractor is planned for.
    pub fn sample_rate(&self) -> u32 {
        self.framing().1
    }

    /// Width of a frame.
    pub fn dims(&self) -> usize {
        self.kind.dims()
    }

    /// Seconds between consecutive output frames.
    pub fn seconds_per_frame(&self) -> f64 {
        let (hop, sr, d) = self.framing();
        (hop * d.max(1)) as f64 / f64::from(sr.max(1))
    }

    /// Whether the rows are pitch classes (for figures).
    pub fn is_chroma(&self) -> bool {
        self.kind.algorithm().is_chroma()
    }

    /// What a value of the feature is, with its unit (for figure axes and colour bars).
    pub fn value_desc(&self) -> &'static str {
        self.kind.algorithm().value_desc()
    }

    /// What the rows of the feature are (for figure axes).
    pub fn row_desc(&self) -> &'static str {
        self.kind.algorithm().row_desc()
    }
}

/// Any of the feature extractors (each worker thread owns one of each), with one error
/// type.
pub struct AnyExtractor(Box<dyn DynExtractor>);

impl AnyExtractor {
    /// Wraps an extractor; its errors are boxed into [`ExtractError`].
    pub fn new<E>(extractor: E) -> Self
    where
        E: FeatureExtractor + Clone + Sync + 'static,
    {
        AnyExtractor(Box::new(extractor))
    }
}

impl Clone for AnyExtractor {
    fn clone(&self) -> Self {
        AnyExtractor(self.0.box_clone())
    }
}

/// [`FeatureExtractor`] with the error boxed, as a trait object.
trait DynExtractor: Send + Sync {
    fn dyn_hop_length(&self) -> usize;
    fn dyn_sample_rate(&self) -> u32;
    fn dyn_dims(&self) -> usize;
    fn dyn_num_frames(&self, n_samples: usize) -> usize;
    fn dyn_extract_into(
        &mut self,
        signal: &Signal,
        out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), ExtractError>;
    fn box_clone(&self) -> Box<dyn DynExtractor>;
}

impl<E: FeatureExtractor + Clone + Sync + 'static> DynExtractor for E {
    fn dyn_hop_length(&self) -> usize {
        FeatureExtractor::hop_length(self)
    }
    fn dyn_sample_rate(&self) -> u32 {
        FeatureExtractor::sample_rate(self)
    }
    fn dyn_dims(&self) -> usize {
        FeatureExtractor::dims(self)
    }
    fn dyn_num_frames(&self, n_samples: usize) -> usize {
        FeatureExtractor::num_frames(self, n_samples)
    }
    fn dyn_extract_into(
        &mut self,
        signal: &Signal,
        out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), ExtractError> {
        FeatureExtractor::extract_into(self, signal, out).map_err(|e| ExtractError(e.into()))
    }
    fn box_clone(&self) -> Box<dyn DynExtractor> {
        Box::new(self.clone())
    }
}

/// `10 log10(|CQT|^2 + eps)` (see [`FeatureKind::LogCqt`]).
#[derive(Clone)]
pub struct LogCqt {
    cqt: Cqt,
    n_bins: usize,
}

impl FeatureExtractor for LogCqt {
    type Error = cens_features::CensError;

    fn hop_length(&self) -> usize {
        self.cqt.config().hop_length
    }

    fn sample_rate(&self) -> u32 {
        self.cqt.config().sample_rate
    }

    fn dims(&self) -> usize {
        self.n_bins
    }

    fn num_frames(&self, n_samples: usize) -> usize {
        self.cqt.num_frames(n_samples)
    }

    fn extract_into(
        &mut self,
        signal: &Signal,
        mut out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), cens_features::CensError> {
        self.cqt
            .magnitude_into(signal.samples(), signal.sample_rate(), out.view_mut())?;
        let eps = f64::EPSILON as f32;
        out.iter_mut()
            .for_each(|v| *v = 10.0 * aad_dsp::log10_fast(*v * *v + eps));
        Ok(())
    }
}

/// Extractors whose frames are concatenated (see [`FeatureKind::Concat`]).
#[derive(Clone)]
pub struct Concat {
    parts: Vec<AnyExtractor>,
    buffers: Vec<Array2<f32>>,
}

impl FeatureExtractor for Concat {
    type Error = ExtractError;

    fn hop_length(&self) -> usize {
        self.parts.first().map_or(1, FeatureExtractor::hop_length)
    }

    fn sample_rate(&self) -> u32 {
        self.parts.first().map_or(0, FeatureExtractor::sample_rate)
    }

    fn dims(&self) -> usize {
        self.parts.iter().map(FeatureExtractor::dims).sum()
    }

    fn num_frames(&self, n_samples: usize) -> usize {
        self.parts
            .iter()
            .map(|p| p.num_frames(n_samples))
            .min()
            .unwrap_or(0)
    }

    fn extract_into(
        &mut self,
        signal: &Signal,
        mut out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), ExtractError> {
        let n = self.num_frames(signal.len());
        if out.dim() != (n, self.dims()) {
            return Err(ExtractError(
                format!(
                    "output is {:?}, the concatenation gives {:?}",
                    out.dim(),
                    (n, self.dims())
                )
                .into(),
            ));
        }
        self.buffers
            .resize_with(self.parts.len(), || Array2::zeros((0, 0)));
        let mut col = 0;
        for (p, buf) in self.parts.iter_mut().zip(&mut self.buffers) {
            let shape = (p.num_frames(signal.len()), p.dims());
            if buf.dim() != shape {
                *buf = Array2::zeros(shape);
            }
            p.extract_into(signal, buf.view_mut())?;
            out.slice_mut(ndarray::s![.., col..col + shape.1])
                .assign(&buf.slice(ndarray::s![..n, ..]));
            col += shape.1;
        }
        Ok(())
    }
}

/// The extractor's own error, boxed.
#[derive(Debug, Error)]
#[error(transparent)]
pub struct ExtractError(#[from] Box<dyn std::error::Error + Send + Sync>);

/// Why [`AnyExtractor::extract_finite`] gave no matrix.
#[derive(Debug, Error)]
pub enum CheckedExtractError {
    /// The extractor refused the signal.
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// A value came out NaN or infinite (absurd sample values in the audio).
    #[error("feature value not finite at frame {frame}")]
    NotFinite {
        /// The first frame holding one.
        frame: usize,
    },
}

impl AnyExtractor {
    /// [`FeatureExtractor::extract`], refused when a value is not finite: the one check
    /// the deployable model, the experiment and the cache repair share.
    ///
    /// # Errors
    /// The extractor's error, or the first frame holding a non-finite value.
    pub fn extract_finite(&mut self, signal: &Signal) -> Result<Array2<f32>, CheckedExtractError> {
        let m = self.extract(signal)?;
        match m.iter().position(|v| !v.is_finite()) {
            Some(i) => Err(CheckedExtractError::NotFinite {
                frame: i / m.ncols().max(1),
            }),
            None => Ok(m),
        }
    }
}

impl FeatureExtractor for AnyExtractor {
    type Error = ExtractError;

    fn hop_length(&self) -> usize {
        self.0.dyn_hop_length()
    }

    fn sample_rate(&self) -> u32 {
        self.0.dyn_sample_rate()
    }

    fn dims(&self) -> usize {
        self.0.dyn_dims()
    }

    fn num_frames(&self, n_samples: usize) -> usize {
        self.0.dyn_num_frames(n_samples)
    }

    fn extract_into(
        &mut self,
        signal: &Signal,
        out: ArrayViewMut2<'_, f32>,
    ) -> Result<(), ExtractError> {
        self.0.dyn_extract_into(signal, out)
    }
}

/// A named detector.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// The name as given.
    pub name: String,
    entry: &'static DetectorEntry,
}

impl PartialEq for ModelSpec {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Training frames the frame-level classical detectors keep (a seeded random subset):
/// LOF and kNN cost grows with the square of it.
pub const MAX_FRAME_VECTORS: usize = 10_000;

impl ModelSpec {
    /// The detector called `name` (see [`DETECTORS`]).
    ///
    /// # Errors
    /// An unknown name.
    pub fn parse(name: &str) -> Result<Self, RegistryError> {
        let e = detector(name).ok_or_else(|| RegistryError::UnknownDetector {
            name: name.to_string(),
            known: known_detectors(),
        })?;
        Ok(ModelSpec {
            name: name.to_string(),
            entry: e,
        })
    }

    /// Parses a comma list (`all` = every detector marked for it).
    ///
    /// # Errors
    /// An unknown or repeated name, or an empty list.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, RegistryError> {
        let all: Vec<&str> = DETECTORS
            .iter()
            .filter(|e| e.in_all)
            .map(|e| e.name)
            .collect();
        expand(list, &all, "detector")?
            .iter()
            .map(|n| ModelSpec::parse(n))
            .collect()
    }

    /// Whether fitting it needs the normal training clips of the other machines of the
    /// type (the machine-ID classifier and fusions with it).
    pub fn needs_contrast(&self) -> bool {
        self.entry.contrast
    }

    /// Whether it is an autoencoder (it reads stacked frames).
    pub fn is_autoencoder(&self) -> bool {
        self.entry.needs == Needs::StackedFrames
    }

    /// What it sees of a clip.
    pub fn needs(&self) -> Needs {
        self.entry.needs
    }

    /// Its registry entry.
    pub fn entry(&self) -> &'static DetectorEntry {
        self.entry
    }

    /// Its detector configuration for `feature`, before any adaptation to the training
    /// set's size (`aad_models::DetectorConfig::adapted_to`); `epochs` overrides the
    /// autoencoder presets' epochs.
    pub fn config(&self, feature: &FeatureSpec, epochs: Option<usize>) -> DetectorConfig {
        let (needs, pooling) = (self.entry.needs, self.entry.pooling);
        let inputs = match needs {
            Needs::Frames | Needs::StackedFrames => {
                Inputs::frames(Some(MAX_FRAME_VECTORS)).pooled(pooling)
            }
            Needs::ClipStats => Inputs::clip_stats(),
            Needs::ClipMean => Inputs::clip_stats().represented(Representation::ClipMean),
            Needs::ClipMeanStdMax | Needs::ClipSummaries => {
                Inputs::clip_stats().represented(Representation::ClipMeanStdMax)
            }
        };
        (self.entry.build)(&DetectorContext {
            feature,
            epochs,
            inputs,
            pooling,
        })
    }
}

/// An autoencoder preset (`None`: the feature's) reading the feature's stacked frames.
fn ae_config(
    c: &DetectorContext<'_>,
    preset: Option<AePreset>,
    mahalanobis: bool,
) -> DetectorConfig {
    // The network stacks `ae_context` frames of the feature: that width, not the
    // preset's reference one, is what it sees.
    let f = c.feature;
    let mut a = preset
        .unwrap_or(f.ae_preset)
        .config()
        .input_dims(Some(f.dims() * f.ae_context))
        .context(f.ae_context);
    if let Some(e) = c.epochs {
        a = a.epochs(e);
    }
    if mahalanobis {
        a = a.scoring(AeScoring::Mahalanobis { ridge: 1e-3 });
    }
    DetectorConfig::Autoencoder(a.pooling(c.pooling))
}

/// The interpolation network over the feature's stacked frames.
fn idnn_config(c: &DetectorContext<'_>) -> DetectorConfig {
    let f = c.feature;
    let mut a = AutoencoderConfig::idnn()
        .input_dims(Some(f.dims() * f.ae_context))
        .context(f.ae_context)
        .target(AeTarget::Interpolate {
            frames: f.ae_context,
        })
        .pooling(c.pooling);
    if let Some(e) = c.epochs {
        a = a.epochs(e);
    }
    DetectorConfig::Autoencoder(a)
}

fn knn_config(c: &DetectorContext<'_>) -> DetectorConfig {
    DetectorConfig::Knn(KnnConfig::default().inputs(c.inputs))
}

fn lof_config(c: &DetectorContext<'_>) -> DetectorConfig {
    DetectorConfig::Lof(LofConfig::default().inputs(c.inputs))
}

fn iforest_config(c: &DetectorContext<'_>) -> DetectorConfig {
    let base = IsolationForestConfig::default();
    // Trees ignore scaling; keep the default's unscaled inputs.
    let inputs = Inputs {
        scaling: base.inputs.scaling,
        ..c.inputs
    };
    DetectorConfig::IsolationForest(base.inputs(inputs))
}

fn gmm_config(c: &DetectorContext<'_>) -> DetectorConfig {
    DetectorConfig::Gmm(GmmConfig::default().inputs(c.inputs))
}

fn mahalanobis_config(c: &DetectorContext<'_>) -> DetectorConfig {
    DetectorConfig::Mahalanobis(MahalanobisConfig::default().inputs(c.inputs))
}

fn pca_config(c: &DetectorContext<'_>) -> DetectorConfig {
    DetectorConfig::Pca(PcaConfig::default().inputs(c.inputs))
}

/// kNN on the clip mean and kNN on mean, std and max, standardised and averaged.
fn knn_fusion_config(_: &DetectorContext<'_>) -> DetectorConfig {
    DetectorConfig::Fusion(FusionConfig::new(vec![
        DetectorConfig::Knn(
            KnnConfig::default().inputs(Inputs::clip_stats().represented(Representation::ClipMean)),
        ),
        knn_msm(),
    ]))
}

/// kNN on mean, std and max per frequency band, standardised, combined.
fn knn_subband_config(c: &DetectorContext<'_>, combine: Combine) -> DetectorConfig {
    DetectorConfig::Subband(
        SubbandConfig::new(knn_msm(), SUBBANDS.min(c.feature.dims())).combine(combine),
    )
}

/// kNN on mean, std and max and the machine-ID classifier, standardised and averaged.
fn knn_idclf_config(c: &DetectorContext<'_>) -> DetectorConfig {
    DetectorConfig::Fusion(FusionConfig::new(vec![
        knn_msm(),
        DetectorConfig::IdClassifier(id_classifier(
            Inputs::frames(Some(MAX_FRAME_VECTORS)).pooled(c.pooling),
        )),
    ]))
}

/// Bands of sub-band matching (fewer for a narrower feature).
const SUBBANDS: usize = 8;

fn knn_msm() -> DetectorConfig {
    DetectorConfig::Knn(
        KnnConfig::default()
            .inputs(Inputs::clip_stats().represented(Representation::ClipMeanStdMax)),
    )
}

fn id_classifier(inputs: Inputs) -> IdClassifierConfig {
    IdClassifierConfig::default().inputs(inputs)
}

/// Splits a comma list, expanding `all`; rejects empty lists and repeats.
fn expand(list: &str, all: &[&str], what: &'static str) -> Result<Vec<String>, RegistryError> {
    let mut out: Vec<String> = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let items: Vec<String> = if item == "all" {
            all.iter().map(|s| s.to_string()).collect()
        } else {
            vec![item.to_string()]
        };
        for i in items {
            if out.contains(&i) {
                return Err(RegistryError::Repeated { what, name: i });
            }
            out.push(i);
        }
    }
    if out.is_empty() {
        return Err(RegistryError::EmptyList { what });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aad_core::Detector;

    #[test]
    fn every_listed_name_parses_and_unknown_names_are_rejected() {
        let f = FeatureSpec::parse_list("all", 16_000).unwrap();
        assert_eq!(f.len(), FEATURES.iter().filter(|e| e.in_all).count());
        let m = ModelSpec::parse_list("all").unwrap();
        assert_eq!(m.len(), DETECTORS.iter().filter(|e| e.in_all).count());
        assert!(FeatureSpec::parse("cens_l21_d10", 16_000).is_ok());
        assert!(matches!(
            FeatureSpec::parse("cens_l0_d10", 16_000),
            Err(RegistryError::InvalidParameter { .. })
        ));
        assert!(matches!(
            FeatureSpec::parse("mel", 16_000),
            Err(RegistryError::UnknownFeature { .. })
        ));
        assert!(ModelSpec::parse("ae_frames").is_err());
        assert!(ModelSpec::parse("svm").is_err());
        assert!(matches!(
            ModelSpec::parse_list("knn,knn"),
            Err(RegistryError::Repeated { .. })
        ));
        assert!(ModelSpec::parse_list(" , ").is_err());
    }

    #[test]
    fn every_feature_plans_and_reports_its_framing() {
        let sig = Signal::new(
            (0..32_000)
                .map(|i| (i as f32 * 0.05).sin() * 0.1 + ((i * 7919) % 101) as f32 * 1e-4)
                .collect(),
            16_000,
        )
        .unwrap();
        for e in FEATURES.iter().filter(|e| e.in_all) {
            let f = FeatureSpec::parse(e.name, 16_000).unwrap();
            let mut x = f.extractor().unwrap();
            assert_eq!(x.dims(), f.dims(), "{}", e.name);
            assert!(
                (x.frame_period() - f.seconds_per_frame()).abs() < 1e-12,
                "{}",
                e.name
            );
            let m = x.extract(&sig).unwrap();
            assert_eq!(m.dim(), (x.num_frames(sig.len()), f.dims()), "{}", e.name);
        }
    }

    #[test]
    fn every_detector_fits_saves_and_loads() {
        let clip = |c: f32, s: usize| {
            Array2::from_shape_fn((40, 12), |(t, j)| {
                c + ((t * 7 + j * 3 + s) % 11) as f32 * 0.02 + (j as f32 * 0.01)
            })
        };
        let normal: Vec<Array2<f32>> = (0..12).map(|s| clip(0.0, s)).collect();
        // Another machine, for the machine-ID classifier.
        let other: Vec<Array2<f32>> = (0..12).map(|s| clip(0.3, s)).collect();
        let other = vec![other.iter().map(|c| c.view()).collect::<Vec<_>>()];
        let feature = FeatureSpec::parse("cens", 16_000).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for e in DETECTORS {
            let m = ModelSpec::parse(e.name).unwrap();
            let v: Vec<_> = normal.iter().map(|c| c.view()).collect();
            let cfg = m.config(&feature, Some(2)).adapted_to(&v);
            assert_eq!(cfg.needs_contrast(), m.needs_contrast(), "{}", e.name);
            let det = cfg
                .fit_set(
                    &aad_models::TrainingSet::new(&v).with_contrast(&other),
                    3,
                    &mut (),
                )
                .unwrap();
            let path = dir.path().join(format!("{}.aadm", e.name));
            det.save(&path).unwrap();
            let back = aad_models::AnyDetector::load(&path).unwrap();
            let probe = &v[0];
            assert_eq!(
                det.score(probe.view()).unwrap().to_bits(),
                back.score(probe.view()).unwrap().to_bits(),
                "{}",
                e.name
            );
        }
    }

    #[test]
    fn cache_keys_carry_the_algorithm_version() {
        let a = FeatureSpec::parse("logmel", 16_000).unwrap();
        let b = FeatureSpec::parse("logmel_mimii", 16_000).unwrap();
        assert_eq!(a.key(), b.key());
        assert!(a.key().starts_with("mel-features/"));
        let c = FeatureSpec::parse("cens", 16_000).unwrap();
        assert!(c.key().starts_with("cens-features/"));
        assert_ne!(
            a.key(),
            FeatureSpec::parse("logmel_dcase", 16_000).unwrap().key()
        );
    }

    #[test]
    fn feature_parameters_are_the_documented_ones() {
        let cens = FeatureSpec::parse("cens_l21_d10", 16_000).unwrap();
        let FeatureKind::Cens(c) = &cens.kind else {
            panic!("not CENS")
        };
        assert_eq!((c.win_len_smooth, c.downsample), (Some(21), 10));
        assert!((cens.seconds_per_frame() - 5120.0 / 16_000.0).abs() < 1e-12);
        let a = FeatureSpec::parse("logmel", 16_000).unwrap();
        // 116 frames of 64 bands stack into 112 vectors, 100 of them for training.
        let frames: Vec<Array2<f32>> = vec![Array2::zeros((116, 64))];
        let v: Vec<_> = frames.iter().map(|c| c.view()).collect();
        let DetectorConfig::Autoencoder(ae) = ModelSpec::parse("ae")
            .unwrap()
            .config(&a, Some(3))
            .adapted_to(&v)
        else {
            panic!("not an AE")
        };
        assert_eq!(
            (ae.epochs, ae.batch_size, ae.hidden.clone()),
            (3, 100, vec![64, 64])
        );
        let two: Vec<Array2<f32>> = vec![Array2::zeros((300, 64)); 2];
        let v: Vec<_> = two.iter().map(|c| c.view()).collect();
        let DetectorConfig::Knn(knn) = ModelSpec::parse("knn")
            .unwrap()
            .config(&a, None)
            .adapted_to(&v)
        else {
            panic!("not kNN")
        };
        assert_eq!(knn.k, 2, "k is capped at the 2 clip-statistics vectors");
    }
}

#[cfg(test)]
mod concat_tests {
    use super::*;

    #[test]
    fn a_concatenation_is_its_parts_side_by_side() {
        let f = FeatureSpec::parse("logmel_dcase+cens", 16_000).unwrap();
        assert_eq!(f.dims(), 128 + 12);
        assert_eq!(f.sample_rate(), 16_000);
        let x: Vec<f32> = (0..32_000u32)
            .map(|i| ((i as f32 * 0.07).sin() + ((i * 7919) % 101) as f32 / 500.0) * 0.3)
            .collect();
        let s = Signal::new(x, 16_000).unwrap();
        let both = f.extractor().unwrap().extract(&s).unwrap();
        let mel = FeatureSpec::parse("logmel_dcase", 16_000)
            .unwrap()
            .extractor()
            .unwrap()
            .extract(&s)
            .unwrap();
        let cens = FeatureSpec::parse("cens", 16_000)
            .unwrap()
            .extractor()
            .unwrap()
            .extract(&s)
            .unwrap();
        assert_eq!(both.nrows(), mel.nrows());
        assert_eq!(both.slice(ndarray::s![.., ..128]), mel);
        assert_eq!(both.slice(ndarray::s![.., 128..]), cens);
        // Different cache keys from either part.
        assert_ne!(
            f.key(),
            FeatureSpec::parse("logmel_dcase", 16_000).unwrap().key()
        );
        let logcqt = FeatureSpec::parse("logcqt", 16_000).unwrap();
        assert_eq!(logcqt.dims(), 252);
        let c = logcqt.extractor().unwrap().extract(&s).unwrap();
        assert_eq!(c.dim(), (mel.nrows(), 252));
        assert!(c.iter().all(|v| v.is_finite()));
        // Parts with another hop, empty parts and unknown parts are errors.
        for bad in ["logmel_dcase+mfcc", "logmel_dcase+", "logmel_dcase+nope"] {
            assert!(FeatureSpec::parse(bad, 16_000).is_err(), "{bad}");
        }
    }
}
