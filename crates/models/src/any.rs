//! Every detector behind one configuration enum and one fitted enum, for experiments
//! that run a grid of models.

use aad_core::{Detector, Fit};
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::autoencoder::{Autoencoder, AutoencoderConfig, TrainObserver};
use crate::classical::*;
use crate::fusion::{DomainBanks, DomainBanksConfig, Fusion, FusionConfig, Subband, SubbandConfig};
use crate::idclf::{IdClassifier, IdClassifierConfig};

/// Any detector configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DetectorConfig {
    /// Dense autoencoder.
    Autoencoder(AutoencoderConfig),
    /// k-nearest-neighbour distance.
    Knn(KnnConfig),
    /// Local outlier factor.
    Lof(LofConfig),
    /// Isolation Forest.
    IsolationForest(IsolationForestConfig),
    /// Gaussian mixture.
    Gmm(GmmConfig),
    /// Mahalanobis distance.
    Mahalanobis(MahalanobisConfig),
    /// PCA reconstruction error.
    Pca(PcaConfig),
    /// Standardised scores of several detectors, combined.
    Fusion(FusionConfig),
    /// The machine-ID classifier (needs contrast sets: see
    /// [`fit_set`](DetectorConfig::fit_set)).
    IdClassifier(IdClassifierConfig),
    /// One detector per band of feature columns, standardised and combined.
    Subband(SubbandConfig),
    /// One detector per recording domain, standardised; the nearest domain decides
    /// (see [`fit_set`](DetectorConfig::fit_set)).
    DomainBanks(DomainBanksConfig),
}

/// Any fitted detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AnyDetector {
    /// Dense autoencoder.
    Autoencoder(Box<Autoencoder>),
    /// k-nearest-neighbour distance.
    Knn(Knn),
    /// Local outlier factor.
    Lof(Lof),
    /// Isolation Forest.
    IsolationForest(IsolationForest),
    /// Gaussian mixture.
    Gmm(Gmm),
    /// Mahalanobis distance.
    Mahalanobis(Mahalanobis),
    /// PCA reconstruction error.
    Pca(Pca),
    /// Standardised scores of several detectors, combined.
    Fusion(Fusion),
    /// The machine-ID classifier.
    IdClassifier(IdClassifier),
    /// One detector per band of feature columns, standardised and combined.
    Subband(Subband),
    /// One detector per recording domain, standardised; the nearest domain decides.
    DomainBanks(DomainBanks),
}

impl DetectorConfig {
    /// Short name for reports: `ae`, `knn`, `lof`, `iforest`, `gmm`, `mahalanobis`, `pca`.
    pub fn kind(&self) -> &'static str {
        match self {
            DetectorConfig::Autoencoder(_) => "ae",
            DetectorConfig::Knn(_) => "knn",
            DetectorConfig::Lof(_) => "lof",
            DetectorConfig::IsolationForest(_) => "iforest",
            DetectorConfig::Gmm(_) => "gmm",
            DetectorConfig::Mahalanobis(_) => "mahalanobis",
            DetectorConfig::Pca(_) => "pca",
            DetectorConfig::Fusion(_) => "fusion",
            DetectorConfig::IdClassifier(_) => "idclf",
            DetectorConfig::Subband(_) => "subband",
            DetectorConfig::DomainBanks(_) => "banks",
        }
    }

    /// The same configuration with every autoencoder in it (members of fusions, bands
    /// and banks included) training on `threads` threads. The fitted model is the same
    /// bit for bit on any number of threads; only the time differs.
    pub fn with_threads(self, threads: usize) -> Self {
        match self {
            DetectorConfig::Autoencoder(c) => DetectorConfig::Autoencoder(c.threads(threads)),
            DetectorConfig::Fusion(mut f) => {
                f.members = f
                    .members
                    .into_iter()
                    .map(|m| m.with_threads(threads))
                    .collect();
                DetectorConfig::Fusion(f)
            }
            DetectorConfig::Subband(mut b) => {
                b.member = Box::new(b.member.with_threads(threads));
                DetectorConfig::Subband(b)
            }
            DetectorConfig::DomainBanks(mut b) => {
                b.member = Box::new(b.member.with_threads(threads));
                DetectorConfig::DomainBanks(b)
            }
            other => other,
        }
    }

    /// Whether fitting needs other machines' normal clips (a machine-ID classifier, or
    /// a fusion with one).
    pub fn needs_contrast(&self) -> bool {
        match self {
            DetectorConfig::IdClassifier(_) => true,
            DetectorConfig::Fusion(f) => f.members.iter().any(DetectorConfig::needs_contrast),
            DetectorConfig::Subband(b) => b.member.needs_contrast(),
            DetectorConfig::DomainBanks(b) => b.member.needs_contrast(),
            _ => false,
        }
    }

    /// Fits on a training set, reporting autoencoder training to `observer` (ignored by
    /// the others): the one way every caller fits a detector. A bank detector
    /// ([`DetectorConfig::DomainBanks`]) fits one bank per domain present in
    /// `set.domains` (a domain of one clip joins the largest bank); the machine-ID
    /// classifier and fusions with it learn against `set.contrast`; the others read
    /// `set.clips` alone.
    ///
    /// ```
    /// use aad_models::classical::KnnConfig;
    /// use aad_models::{Detector, DetectorConfig, TrainingSet};
    /// use ndarray::Array2;
    ///
    /// let clips: Vec<Array2<f32>> = (0..6).map(|i| Array2::from_elem((4, 3), i as f32)).collect();
    /// let views: Vec<_> = clips.iter().map(|c| c.view()).collect();
    /// let set = TrainingSet::new(&views);
    /// let det = DetectorConfig::Knn(KnnConfig::default()).fit_set(&set, 1, &mut ())?;
    /// let far = Array2::from_elem((4, 3), 50.0f32);
    /// assert!(det.score(far.view())? > det.score(views[2])?);
    /// # Ok::<(), aad_models::ModelError>(())
    /// ```
    ///
    /// # Errors
    /// `set.domains` of another length than `set.clips`; [`ModelError::NeedsContrast`]
    /// for a classifier without contrast sets; the detector's own errors.
    pub fn fit_set(
        &self,
        set: &TrainingSet<'_>,
        seed: u64,
        observer: &mut dyn TrainObserver,
    ) -> Result<AnyDetector, ModelError> {
        match self {
            DetectorConfig::DomainBanks(c) if !set.domains.is_empty() => {
                Ok(AnyDetector::DomainBanks(c.fit_domains(
                    set.clips,
                    set.domains,
                    set.contrast,
                    seed,
                )?))
            }
            _ => self.fit_contrast(set.clips, set.contrast, seed, observer),
        }
    }

    /// Fits on `normal` (this machine's normal clips), with `contrast` (normal clips of
    /// other machines of the type, one set per machine) for the detectors that learn
    /// this machine against others; the rest ignore it.
    ///
    /// # Errors
    /// The detector's own errors; [`ModelError::NeedsContrast`] for a classifier without
    /// contrast sets.
    pub(crate) fn fit_contrast(
        &self,
        normal: &[ArrayView2<'_, f32>],
        contrast: &[Vec<ArrayView2<'_, f32>>],
        seed: u64,
        observer: &mut dyn TrainObserver,
    ) -> Result<AnyDetector, ModelError> {
        Ok(match self {
            DetectorConfig::Autoencoder(c) => {
                AnyDetector::Autoencoder(Box::new(c.fit_observed(normal, seed, observer)?))
            }
            DetectorConfig::Knn(c) => AnyDetector::Knn(c.fit(normal, seed)?),
            DetectorConfig::Lof(c) => AnyDetector::Lof(c.fit(normal, seed)?),
            DetectorConfig::IsolationForest(c) => {
                AnyDetector::IsolationForest(c.fit(normal, seed)?)
            }
            DetectorConfig::Gmm(c) => AnyDetector::Gmm(c.fit(normal, seed)?),
            DetectorConfig::Mahalanobis(c) => AnyDetector::Mahalanobis(c.fit(normal, seed)?),
            DetectorConfig::Pca(c) => AnyDetector::Pca(c.fit(normal, seed)?),
            DetectorConfig::Fusion(c) => {
                AnyDetector::Fusion(c.fit_contrast(normal, contrast, seed)?)
            }
            DetectorConfig::IdClassifier(c) => {
                AnyDetector::IdClassifier(c.fit_contrast(normal, contrast, seed)?)
            }
            DetectorConfig::Subband(c) => {
                AnyDetector::Subband(c.fit_contrast(normal, contrast, seed)?)
            }
            DetectorConfig::DomainBanks(c) => {
                AnyDetector::DomainBanks(c.fit_banks(&[normal.to_vec()], contrast, seed)?)
            }
        })
    }
}

/// What a detector is fitted on, in one value: this machine's normal clips (frames ×
/// dims each) and, where a detector needs them, each clip's recording domain and other
/// machines' normal clips.
#[derive(Debug, Clone, Copy)]
pub struct TrainingSet<'a> {
    /// This machine's normal clips.
    pub clips: &'a [ArrayView2<'a, f32>],
    /// Each clip's recording domain (DCASE 2021+: 0 source, 1 target; any small
    /// integers), in order; empty for one domain.
    pub domains: &'a [usize],
    /// Other machines' normal clips of the same type, one set per machine; empty for
    /// none.
    pub contrast: &'a [Vec<ArrayView2<'a, f32>>],
}

impl<'a> TrainingSet<'a> {
    /// Normal clips alone: one domain, no other machines.
    pub fn new(clips: &'a [ArrayView2<'a, f32>]) -> Self {
        TrainingSet {
            clips,
            domains: &[],
            contrast: &[],
        }
    }

    /// With each clip's recording domain.
    pub fn with_domains(self, domains: &'a [usize]) -> Self {
        TrainingSet { domains, ..self }
    }

    /// With other machines' normal clips, one set per machine.
    pub fn with_contrast(self, contrast: &'a [Vec<ArrayView2<'a, f32>>]) -> Self {
        TrainingSet { contrast, ..self }
    }
}

impl DetectorConfig {
    /// The configuration adapted to a training set a small machine id may give: the
    /// autoencoder's batch capped at its training part of the vectors, kNN's `k` at the
    /// number of training vectors (2 clips give 2 clip-statistics vectors), the mixture's
    /// components at half of them. Everything else is unchanged; a large enough training
    /// set leaves the configuration as it is.
    pub fn adapted_to(&self, normal: &[ArrayView2<'_, f32>]) -> DetectorConfig {
        let rows: usize = normal.iter().map(|c| c.nrows()).sum();
        let vectors = |inputs: &Inputs| {
            if inputs.representation.is_clip_level() {
                normal.len()
            } else {
                rows
            }
        };
        let mut c = self.clone();
        match &mut c {
            DetectorConfig::Autoencoder(a) => {
                // The vectors it trains on are the clips' frames stacked `context` at a time.
                let rows: usize = normal
                    .iter()
                    .map(|c| aad_core::ops::stacked_len(c.nrows(), a.context))
                    .sum();
                let fit_part = (rows as f64 * (1.0 - a.validation_split)) as usize;
                a.batch_size = a.batch_size.min(fit_part.max(1));
            }
            DetectorConfig::Knn(k) => k.k = k.k.min(vectors(&k.inputs).max(1)),
            DetectorConfig::Gmm(g) => {
                // Each component needs two vectors at least.
                g.components = g.components.min(vectors(&g.inputs) / 2).max(1);
            }
            DetectorConfig::Fusion(f) => *f = f.adapted_to(normal),
            DetectorConfig::Subband(b) => *b = b.adapted_to(normal),
            // Each bank adapts its member to its own clips when it is fitted.
            DetectorConfig::DomainBanks(_) => {}
            _ => {}
        }
        c
    }
}

impl AnyDetector {
    /// Checks a detector read from a file: widths agree, scales are positive, indexes
    /// stay inside their arrays (values are finite by construction of the file format).
    ///
    /// # Errors
    /// [`ModelError::Inconsistent`], saying what is.
    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            AnyDetector::Autoencoder(d) => d.check(),
            AnyDetector::Knn(d) => d.check(),
            AnyDetector::Lof(d) => d.check(),
            AnyDetector::IsolationForest(d) => d.check(),
            AnyDetector::Gmm(d) => d.check(),
            AnyDetector::Mahalanobis(d) => d.check(),
            AnyDetector::Pca(d) => d.check(),
            AnyDetector::Fusion(d) => d.check(),
            AnyDetector::IdClassifier(d) => d.check(),
            AnyDetector::Subband(d) => d.check(),
            AnyDetector::DomainBanks(d) => d.check(),
        }
    }
}

impl Fit for DetectorConfig {
    type Detector = AnyDetector;
    type Error = ModelError;

    fn fit(&self, normal: &[ArrayView2<'_, f32>], seed: u64) -> Result<AnyDetector, ModelError> {
        self.fit_set(&TrainingSet::new(normal), seed, &mut ())
    }
}

impl Detector for AnyDetector {
    type Error = ModelError;

    fn input_dims(&self) -> usize {
        match self {
            AnyDetector::Autoencoder(d) => d.input_dims(),
            AnyDetector::Knn(d) => d.input_dims(),
            AnyDetector::Lof(d) => d.input_dims(),
            AnyDetector::IsolationForest(d) => d.input_dims(),
            AnyDetector::Gmm(d) => d.input_dims(),
            AnyDetector::Mahalanobis(d) => d.input_dims(),
            AnyDetector::Pca(d) => d.input_dims(),
            AnyDetector::Fusion(d) => d.input_dims(),
            AnyDetector::IdClassifier(d) => d.input_dims(),
            AnyDetector::Subband(d) => d.input_dims(),
            AnyDetector::DomainBanks(d) => d.input_dims(),
        }
    }

    /// # Errors
    /// The detector's own errors, and [`ModelError::Numerical`] for a score that is not
    /// finite (a distance or likelihood that overflowed): never `Ok(NaN)` or `Ok(inf)`.
    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, ModelError> {
        let s = match self {
            AnyDetector::Autoencoder(d) => d.score(clip),
            AnyDetector::Knn(d) => d.score(clip),
            AnyDetector::Lof(d) => d.score(clip),
            AnyDetector::IsolationForest(d) => d.score(clip),
            AnyDetector::Gmm(d) => d.score(clip),
            AnyDetector::Mahalanobis(d) => d.score(clip),
            AnyDetector::Pca(d) => d.score(clip),
            AnyDetector::Fusion(d) => d.score(clip),
            AnyDetector::IdClassifier(d) => d.score(clip),
            AnyDetector::Subband(d) => d.score(clip),
            AnyDetector::DomainBanks(d) => d.score(clip),
        }?;
        if s.is_finite() {
            Ok(s)
        } else {
            Err(ModelError::Numerical(format!(
                "the {} score of this clip is {s} (its features are far outside the training range)",
                self.kind()
            )))
        }
    }
}

impl AnyDetector {
    /// Short name: `ae`, `knn`, `lof`, `iforest`, `gmm`, `mahalanobis`, `pca`.
    pub fn kind(&self) -> &'static str {
        match self {
            AnyDetector::Autoencoder(_) => "ae",
            AnyDetector::Knn(_) => "knn",
            AnyDetector::Lof(_) => "lof",
            AnyDetector::IsolationForest(_) => "iforest",
            AnyDetector::Gmm(_) => "gmm",
            AnyDetector::Mahalanobis(_) => "mahalanobis",
            AnyDetector::Pca(_) => "pca",
            AnyDetector::Fusion(_) => "fusion",
            AnyDetector::IdClassifier(_) => "idclf",
            AnyDetector::Subband(_) => "subband",
            AnyDetector::DomainBanks(_) => "banks",
        }
    }
}
