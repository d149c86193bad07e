//! The named features and models of the experiment grid.
//!
//! A feature gives a clip's `frames x dims` matrix (cached on disk); a model decides what
//! it sees of it: autoencoders get frames stacked `context` at a time (5, as the MIMII
//! and DCASE baselines), the classical detectors get single frames (`*_frames`) or the
//! clip's per-dimension time mean and standard deviation (the others).
//!
//! | feature | what | AE preset (`ae`) |
//! |---|---|---|
//! | `logmel_dcase` | 128 log-Mel bands, n_fft 1024, hop 512, `10 log10(S + eps)` | DCASE 2020 (640 inputs, BatchNorm) |
//! | `logmel_mimii`, `logmel` | 64 bands, n_fft 1024, hop 512 | MIMII baseline (320 inputs) |
//! | `logmel_seed` | 64 bands, n_fft 2048, hop 512 (the seed's) | the seed's 64-64-32-16-8 |
//! | `cens` | librosa `chroma_cens` (l = 41, d = 1, 36 bins per octave, tuning estimated) | CENS preset (60 inputs) |
//! | `cens_seed` | the seed's code: librosa CENS, every 5th frame (d = 5) | the seed's |
//! | `cens_l<L>_d<D>` | librosa CENS with smoothing `L` and downsampling `D` | CENS preset |
//! | `cens_muller` | Müller's CENS (libfmp quantisation, l = 41, d = 10) | CENS preset |
//! | `chroma_cqt`, `chroma_stft` | librosa's chroma features | CENS preset |
//! | `mfcc` | the seed's torchaudio MFCC (12 coefficients, hop 1200) | CENS preset |

use std::fmt;

use aad_core::{FeatureExtractor, Signal};
use aad_models::classical::{
    GmmConfig, Inputs, IsolationForestConfig, KnnConfig, LofConfig, MahalanobisConfig, PcaConfig,
};
use aad_models::{AeScoring, AutoencoderConfig, DetectorConfig};
use cens_features::{
    CensConfig, CensExtractor, ChromaCqtConfig, ChromaCqtExtractor, ChromaStftConfig,
    ChromaStftExtractor,
};
use mel_features::{MelConfig, MelExtractor, MfccConfig, MfccExtractor};
use ndarray::Array2;

/// Every feature name `all` expands to, in report order.
pub const ALL_FEATURES: &[&str] = &[
    "logmel_dcase",
    "logmel_mimii",
    "logmel_seed",
    "cens",
    "cens_seed",
    "cens_muller",
    "chroma_cqt",
    "chroma_stft",
    "mfcc",
];

/// The default features: the seed's comparison (its log-Mel against librosa CENS, which
/// its autoencoder effectively used) plus the MIMII baseline's log-Mel.
pub const DEFAULT_FEATURES: &str = "logmel_mimii,logmel_seed,cens,cens_seed";

/// Every model name `all` expands to, in report order.
pub const ALL_MODELS: &[&str] = &[
    "ae",
    "ae_mahala",
    "knn",
    "lof",
    "iforest",
    "gmm",
    "mahalanobis",
    "pca",
    "knn_frames",
    "lof_frames",
    "iforest_frames",
    "gmm_frames",
    "mahalanobis_frames",
    "pca_frames",
];

/// The default models: the seed's (autoencoder, LOF, Isolation Forest) plus kNN.
pub const DEFAULT_MODELS: &str = "ae,lof,iforest,knn";

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
#[derive(Debug, Clone, PartialEq)]
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
}

/// A named feature of the grid.
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

/// Parses `cens_l<L>_d<D>`.
fn cens_ld(name: &str) -> Option<(usize, usize)> {
    let rest = name.strip_prefix("cens_l")?;
    let (l, d) = rest.split_once("_d")?;
    Some((l.parse().ok()?, d.parse().ok()?))
}

impl FeatureSpec {
    /// The feature called `name` at `sample_rate`.
    ///
    /// # Errors
    /// An unknown name, or `cens_l<L>_d<D>` with L or D zero.
    pub fn parse(name: &str, sample_rate: u32) -> Result<Self, String> {
        let mel = |c: MelConfig| FeatureKind::LogMel(c.context(1).sample_rate(sample_rate));
        let (kind, preset) = match name {
            "logmel_dcase" => (mel(MelConfig::dcase2020()), AePreset::Dcase2020),
            "logmel_mimii" | "logmel" => (mel(MelConfig::mimii_baseline()), AePreset::Mimii),
            "logmel_seed" => (mel(MelConfig::seed()), AePreset::Seed),
            "cens" => (
                FeatureKind::Cens(CensConfig::librosa(sample_rate)),
                AePreset::Cens,
            ),
            "cens_seed" => (
                FeatureKind::Cens(CensConfig::seed(sample_rate)),
                AePreset::Seed,
            ),
            "cens_muller" => (
                FeatureKind::Cens(CensConfig::muller(sample_rate, 41, 10)),
                AePreset::Cens,
            ),
            "chroma_cqt" => (
                FeatureKind::ChromaCqt(ChromaCqtConfig::with_sample_rate(sample_rate)),
                AePreset::Cens,
            ),
            "chroma_stft" => (
                FeatureKind::ChromaStft(ChromaStftConfig::with_sample_rate(sample_rate)),
                AePreset::Cens,
            ),
            "mfcc" => {
                let mut c = MfccConfig::seed();
                c.mel = c.mel.sample_rate(sample_rate);
                (FeatureKind::Mfcc(c), AePreset::Cens)
            }
            other => match cens_ld(other) {
                Some((l, d)) if l >= 1 && d >= 1 => (
                    FeatureKind::Cens(
                        CensConfig::librosa(sample_rate)
                            .smoothing(Some(l))
                            .downsample(d),
                    ),
                    AePreset::Cens,
                ),
                Some(_) => return Err(format!("{other}: L and D must be >= 1")),
                None => {
                    return Err(format!(
                        "unknown feature {other:?}; known: {}, cens_l<L>_d<D>, all",
                        ALL_FEATURES.join(", ")
                    ));
                }
            },
        };
        Ok(FeatureSpec {
            name: name.to_string(),
            kind,
            ae_context: 5,
            ae_preset: preset,
        })
    }

    /// Parses a comma list (`all` = every named feature).
    ///
    /// # Errors
    /// An unknown or repeated name, or an empty list.
    pub fn parse_list(list: &str, sample_rate: u32) -> Result<Vec<Self>, String> {
        let names = expand(list, ALL_FEATURES, "feature")?;
        names
            .iter()
            .map(|n| FeatureSpec::parse(n, sample_rate))
            .collect()
    }

    /// A planned extractor.
    ///
    /// # Errors
    /// The extractor rejects its configuration.
    pub fn extractor(&self) -> Result<AnyExtractor, String> {
        let e = |e: &dyn std::error::Error| format!("{}: {e}", self.name);
        Ok(match &self.kind {
            FeatureKind::LogMel(c) => {
                AnyExtractor::Mel(Box::new(MelExtractor::new(c.clone()).map_err(|x| e(&x))?))
            }
            FeatureKind::Cens(c) => {
                AnyExtractor::Cens(Box::new(CensExtractor::new(c.clone()).map_err(|x| e(&x))?))
            }
            FeatureKind::ChromaCqt(c) => AnyExtractor::ChromaCqt(Box::new(
                ChromaCqtExtractor::new(c.clone()).map_err(|x| e(&x))?,
            )),
            FeatureKind::ChromaStft(c) => AnyExtractor::ChromaStft(Box::new(
                ChromaStftExtractor::new(c.clone()).map_err(|x| e(&x))?,
            )),
            FeatureKind::Mfcc(c) => {
                AnyExtractor::Mfcc(Box::new(MfccExtractor::new(c.clone()).map_err(|x| e(&x))?))
            }
        })
    }

    /// Everything that determines the feature's values, for the cache key. (Not the
    /// name: `logmel` and `logmel_mimii` share entries.)
    pub fn cache_key(&self) -> String {
        format!("{:?}", self.kind)
    }

    /// (hop, sample rate, downsampling) of the output frames.
    fn framing(&self) -> (usize, u32, usize) {
        match &self.kind {
            FeatureKind::LogMel(c) => (c.stft.hop_length, c.sample_rate, 1),
            FeatureKind::Cens(c) => (
                c.chroma.cqt.hop_length,
                c.chroma.cqt.sample_rate,
                c.downsample,
            ),
            FeatureKind::ChromaCqt(c) => (c.cqt.hop_length, c.cqt.sample_rate, 1),
            FeatureKind::ChromaStft(c) => (c.stft.hop_length, c.sample_rate, 1),
            FeatureKind::Mfcc(c) => (c.mel.stft.hop_length, c.mel.sample_rate, 1),
        }
    }

    /// The sample rate the extractor is planned for.
    pub fn sample_rate(&self) -> u32 {
        self.framing().1
    }

    /// Seconds between consecutive output frames.
    pub fn seconds_per_frame(&self) -> f64 {
        let (hop, sr, d) = self.framing();
        (hop * d.max(1)) as f64 / f64::from(sr.max(1))
    }

    /// Whether the rows are pitch classes (for figures).
    pub fn is_chroma(&self) -> bool {
        matches!(
            self.kind,
            FeatureKind::Cens(_) | FeatureKind::ChromaCqt(_) | FeatureKind::ChromaStft(_)
        )
    }
}

/// One of the feature extractors (each worker thread owns one of each).
#[derive(Clone)]
pub enum AnyExtractor {
    /// Log-Mel.
    Mel(Box<MelExtractor>),
    /// CENS.
    Cens(Box<CensExtractor>),
    /// CQT chroma.
    ChromaCqt(Box<ChromaCqtExtractor>),
    /// STFT chroma.
    ChromaStft(Box<ChromaStftExtractor>),
    /// MFCC.
    Mfcc(Box<MfccExtractor>),
}

impl AnyExtractor {
    /// The `frames x dims` features of `signal`.
    ///
    /// # Errors
    /// The extractor's error, as text.
    pub fn extract(&mut self, signal: &Signal) -> Result<Array2<f32>, String> {
        fn run<E: FeatureExtractor>(fx: &mut E, s: &Signal) -> Result<Array2<f32>, String> {
            fx.extract(s).map_err(|e| e.to_string())
        }
        match self {
            AnyExtractor::Mel(x) => run(x.as_mut(), signal),
            AnyExtractor::Cens(x) => run(x.as_mut(), signal),
            AnyExtractor::ChromaCqt(x) => run(x.as_mut(), signal),
            AnyExtractor::ChromaStft(x) => run(x.as_mut(), signal),
            AnyExtractor::Mfcc(x) => run(x.as_mut(), signal),
        }
    }
}

/// What a model sees of a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelInput {
    /// Frames stacked `FeatureSpec::ae_context` at a time.
    Stacked,
    /// The feature matrix as it is (the detector picks frames or clip statistics).
    Frames,
}

/// Which detector a model name means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ModelKind {
    Ae {
        preset: Option<AePreset>,
        mahalanobis: bool,
    },
    Knn,
    Lof,
    IForest,
    Gmm,
    Mahalanobis,
    Pca,
}

/// A named model of the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// The name as given.
    pub name: String,
    kind: ModelKind,
    frames: bool,
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
    /// The model called `name`: `ae` (the feature's preset), `ae_mahala` (the same with
    /// selective Mahalanobis scoring), `ae_seed`, `ae_mimii`, `ae_dcase`, `ae_cens`, and
    /// `knn`, `lof`, `iforest`, `gmm`, `mahalanobis`, `pca` on clip statistics, each also
    /// with `_frames` on frame vectors.
    ///
    /// # Errors
    /// An unknown name.
    pub fn parse(name: &str) -> Result<Self, String> {
        let (base, frames) = match name.strip_suffix("_frames") {
            Some(b) => (b, true),
            None => (name, false),
        };
        let ae = |preset, mahalanobis| ModelKind::Ae {
            preset,
            mahalanobis,
        };
        let kind = match base {
            "ae" => ae(None, false),
            "ae_mahala" => ae(None, true),
            "ae_seed" => ae(Some(AePreset::Seed), false),
            "ae_mimii" => ae(Some(AePreset::Mimii), false),
            "ae_dcase" => ae(Some(AePreset::Dcase2020), false),
            "ae_cens" => ae(Some(AePreset::Cens), false),
            "knn" => ModelKind::Knn,
            "lof" => ModelKind::Lof,
            "iforest" => ModelKind::IForest,
            "gmm" => ModelKind::Gmm,
            "mahalanobis" => ModelKind::Mahalanobis,
            "pca" => ModelKind::Pca,
            _ => return Err(unknown_model(name)),
        };
        if frames && matches!(kind, ModelKind::Ae { .. }) {
            return Err(unknown_model(name));
        }
        Ok(ModelSpec {
            name: name.to_string(),
            kind,
            frames,
        })
    }

    /// Parses a comma list (`all` = every named model).
    ///
    /// # Errors
    /// An unknown or repeated name, or an empty list.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, String> {
        expand(list, ALL_MODELS, "model")?
            .iter()
            .map(|n| ModelSpec::parse(n))
            .collect()
    }

    /// Whether it is an autoencoder.
    pub fn is_autoencoder(&self) -> bool {
        matches!(self.kind, ModelKind::Ae { .. })
    }

    /// What it sees of a clip.
    pub fn input(&self) -> ModelInput {
        if self.is_autoencoder() {
            ModelInput::Stacked
        } else {
            ModelInput::Frames
        }
    }

    /// Its detector configuration for `feature`; `epochs` overrides the autoencoder
    /// presets' epochs. The training set's size (`n_clips`, and `n_vectors` rows of this
    /// model's input) adapts settings a small machine id cannot meet: the autoencoder
    /// batch is capped at the training part of the vectors, kNN's k at the number of
    /// training vectors (2 clips give 2 clip-statistics vectors), and the mixture's
    /// components at half of them.
    pub fn config(
        &self,
        feature: &FeatureSpec,
        epochs: Option<usize>,
        n_clips: usize,
        n_vectors: usize,
    ) -> DetectorConfig {
        let n_train = if self.frames || self.is_autoencoder() {
            n_vectors
        } else {
            n_clips
        };
        let inputs = if self.frames {
            Inputs::frames(Some(MAX_FRAME_VECTORS))
        } else {
            Inputs::clip_stats()
        };
        match self.kind {
            ModelKind::Ae {
                preset,
                mahalanobis,
            } => {
                let mut c = preset.unwrap_or(feature.ae_preset).config();
                if let Some(e) = epochs {
                    c = c.epochs(e);
                }
                let fit_part = (n_train as f64 * (1.0 - c.validation_split)) as usize;
                let batch = c.batch_size.min(fit_part.max(1));
                c = c.batch_size(batch);
                if mahalanobis {
                    c = c.scoring(AeScoring::Mahalanobis { ridge: 1e-3 });
                }
                DetectorConfig::Autoencoder(c)
            }
            ModelKind::Knn => {
                let mut c = KnnConfig::default().inputs(inputs);
                c.k = c.k.min(n_train.max(1));
                DetectorConfig::Knn(c)
            }
            ModelKind::Lof => DetectorConfig::Lof(LofConfig::default().inputs(inputs)),
            ModelKind::IForest => {
                let base = IsolationForestConfig::default();
                // Trees ignore scaling; keep the default's unscaled inputs.
                let inputs = Inputs {
                    scaling: base.inputs.scaling,
                    ..inputs
                };
                DetectorConfig::IsolationForest(base.inputs(inputs))
            }
            ModelKind::Gmm => {
                // Each component needs two vectors at least.
                let mut c = GmmConfig::default().inputs(inputs);
                c.components = c.components.min(n_train / 2).max(1);
                DetectorConfig::Gmm(c)
            }
            ModelKind::Mahalanobis => {
                DetectorConfig::Mahalanobis(MahalanobisConfig::default().inputs(inputs))
            }
            ModelKind::Pca => DetectorConfig::Pca(PcaConfig::default().inputs(inputs)),
        }
    }
}

fn unknown_model(name: &str) -> String {
    format!(
        "unknown model {name:?}; known: {}, ae_seed, ae_mimii, ae_dcase, ae_cens, all",
        ALL_MODELS.join(", ")
    )
}

/// Splits a comma list, expanding `all`; rejects empty lists and repeats.
fn expand(list: &str, all: &[&str], what: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let items: Vec<String> = if item == "all" {
            all.iter().map(|s| s.to_string()).collect()
        } else {
            vec![item.to_string()]
        };
        for i in items {
            if out.contains(&i) {
                return Err(format!("{what} {i:?} given twice"));
            }
            out.push(i);
        }
    }
    if out.is_empty() {
        return Err(format!("no {what} given"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_parses_and_unknown_names_are_rejected() {
        let f = FeatureSpec::parse_list("all", 16_000).unwrap();
        assert_eq!(f.len(), ALL_FEATURES.len());
        let m = ModelSpec::parse_list("all").unwrap();
        assert_eq!(m.len(), ALL_MODELS.len());
        assert!(FeatureSpec::parse("cens_l21_d10", 16_000).is_ok());
        assert!(FeatureSpec::parse("cens_l0_d10", 16_000).is_err());
        assert!(FeatureSpec::parse("mel", 16_000).is_err());
        assert!(ModelSpec::parse("ae_frames").is_err());
        assert!(ModelSpec::parse("svm").is_err());
        assert!(ModelSpec::parse_list("knn,knn").is_err());
        assert!(ModelSpec::parse_list(" , ").is_err());
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
        let b = FeatureSpec::parse("logmel_mimii", 16_000).unwrap();
        assert_eq!(a.cache_key(), b.cache_key());
        assert_ne!(
            a.cache_key(),
            FeatureSpec::parse("logmel_dcase", 16_000)
                .unwrap()
                .cache_key()
        );
        let DetectorConfig::Autoencoder(ae) =
            ModelSpec::parse("ae").unwrap().config(&a, Some(3), 1, 112)
        else {
            panic!("not an AE")
        };
        assert_eq!(
            (ae.epochs, ae.batch_size, ae.hidden.clone()),
            (3, 100, vec![64, 64])
        );
        let DetectorConfig::Knn(knn) = ModelSpec::parse("knn").unwrap().config(&a, None, 2, 600)
        else {
            panic!("not kNN")
        };
        assert_eq!(knn.k, 2, "k is capped at the 2 clip-statistics vectors");
    }
}
