//! Score normalisation and label-free fusion: several detectors on the same features,
//! each member's score standardised against its own cross-fitted training scores, then
//! combined. The fused detector is a detector like any other (fit, score, save).

use aad_core::{Detector, Fit};
use ndarray::ArrayView2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::{AnyDetector, DetectorConfig, ModelError};

/// How standardised member scores are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Combine {
    /// The mean: every member counts.
    #[default]
    Mean,
    /// The maximum: the most alarmed member decides.
    Max,
}

/// A fusion of detectors. With one member it is that detector with its scores
/// standardised (score normalisation).
///
/// Fitting: the training clips are split into `folds` (seeded); every clip is scored by
/// each member fitted without its fold, and the mean and standard deviation of those
/// held-out scores standardise the member; then every member is fitted on all clips.
/// A clip's score is `combine((score_i - mean_i) / std_i)`.
///
/// ```
/// use aad_core::{Detector, Fit};
/// use aad_models::classical::{Inputs, KnnConfig};
/// use aad_models::{Combine, DetectorConfig, FusionConfig, Representation};
/// let clip = |shift: f32, seed: usize| {
///     ndarray::Array2::from_shape_fn((20, 4), |(t, j)| ((t * 7 + j * 3 + seed) % 11) as f32 / 11.0 + shift)
/// };
/// let normal: Vec<_> = (0..8).map(|s| clip(0.0, s)).collect();
/// let views: Vec<_> = normal.iter().map(|c| c.view()).collect();
/// let members = vec![
///     DetectorConfig::Knn(KnnConfig::default().inputs(Inputs::clip_stats().represented(Representation::ClipMean))),
///     DetectorConfig::Knn(KnnConfig::default().inputs(Inputs::clip_stats().represented(Representation::ClipMeanStdMax))),
/// ];
/// let fused = FusionConfig::new(members).combine(Combine::Mean).fit(&views, 1)?;
/// assert!(fused.score(clip(2.0, 3).view())? > fused.score(clip(0.0, 3).view())?);
/// # Ok::<(), aad_models::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FusionConfig {
    /// The members (not themselves fusions).
    pub members: Vec<DetectorConfig>,
    /// Cross-fitting folds (capped at the number of training clips).
    pub folds: usize,
    /// How standardised scores are combined.
    pub combine: Combine,
}

impl FusionConfig {
    /// A mean fusion of `members` with 5 folds.
    pub fn new(members: Vec<DetectorConfig>) -> Self {
        FusionConfig {
            members,
            folds: 5,
            combine: Combine::Mean,
        }
    }

    /// Sets the combination.
    pub fn combine(mut self, combine: Combine) -> Self {
        self.combine = combine;
        self
    }

    /// Sets the folds.
    pub fn folds(mut self, folds: usize) -> Self {
        self.folds = folds;
        self
    }

    fn validate(&self) -> Result<(), ModelError> {
        if self.members.is_empty() {
            return Err(ModelError::config("fusion members", 0, "need at least one"));
        }
        if self.folds < 2 {
            return Err(ModelError::config(
                "fusion folds",
                self.folds,
                "must be >= 2",
            ));
        }
        if self
            .members
            .iter()
            .any(|m| matches!(m, DetectorConfig::Fusion(_)))
        {
            return Err(ModelError::config(
                "fusion members",
                "fusion",
                "a member cannot be a fusion",
            ));
        }
        Ok(())
    }

    /// The configuration adapted to a training set's size, member by member.
    pub(crate) fn adapted_to(&self, normal: &[ArrayView2<'_, f32>]) -> FusionConfig {
        FusionConfig {
            members: self.members.iter().map(|m| m.adapted_to(normal)).collect(),
            ..self.clone()
        }
    }
}

/// A fitted [`FusionConfig`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fusion {
    members: Vec<AnyDetector>,
    centre: Vec<f64>,
    scale: Vec<f64>,
    combine: Combine,
}

/// Held-out scores of every clip, for one member: clips in `folds` groups (seeded),
/// each scored by the member fitted on the other groups.
fn cross_fitted(
    member: &DetectorConfig,
    normal: &[ArrayView2<'_, f32>],
    folds: usize,
    seed: u64,
) -> Result<Vec<f64>, ModelError> {
    let n = normal.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0xF05E_D5C0));
    let folds = folds.min(n);
    let mut out = vec![0.0; n];
    for f in 0..folds {
        let held: Vec<usize> = order.iter().copied().skip(f).step_by(folds).collect();
        let mut is_held = vec![false; n];
        held.iter().for_each(|&i| is_held[i] = true);
        let train: Vec<ArrayView2<'_, f32>> =
            (0..n).filter(|&i| !is_held[i]).map(|i| normal[i]).collect();
        let det = member.adapted_to(&train).fit(&train, seed)?;
        for &i in &held {
            out[i] = det.score(normal[i])?;
        }
    }
    Ok(out)
}

impl Fit for FusionConfig {
    type Detector = Fusion;
    type Error = ModelError;

    fn fit(&self, normal: &[ArrayView2<'_, f32>], seed: u64) -> Result<Fusion, ModelError> {
        self.validate()?;
        crate::data::check_clips(normal, None)?;
        let mut centre = Vec::new();
        let mut scale = Vec::new();
        let mut members = Vec::new();
        for m in &self.members {
            let (c, s) = if normal.len() >= 2 {
                let held = cross_fitted(m, normal, self.folds, seed)?;
                let n = held.len() as f64;
                let mean = held.iter().sum::<f64>() / n;
                let sd = (held.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
                // Equal held-out scores give no spread: fall back to the mean's size.
                let sd = if sd > 1e-12 * mean.abs().max(1e-300) {
                    sd
                } else {
                    mean.abs().max(1.0)
                };
                (mean, sd)
            } else {
                (0.0, 1.0)
            };
            centre.push(c);
            scale.push(s);
            members.push(m.adapted_to(normal).fit(normal, seed)?);
        }
        Ok(Fusion {
            members,
            centre,
            scale,
            combine: self.combine,
        })
    }
}

impl Fusion {
    /// Checks a fusion read from a file.
    pub(crate) fn check(&self) -> Result<(), String> {
        let n = self.members.len();
        if n == 0 || self.centre.len() != n || self.scale.len() != n {
            return Err(format!(
                "fusion of {n} members with {} centres and {} scales",
                self.centre.len(),
                self.scale.len()
            ));
        }
        if self.centre.iter().any(|c| !c.is_finite())
            || self.scale.iter().any(|s| !(s.is_finite() && *s > 0.0))
        {
            return Err("fusion centres must be finite and scales positive".into());
        }
        let dims = self.members[0].input_dims();
        for m in &self.members {
            if matches!(m, AnyDetector::Fusion(_)) {
                return Err("a fusion member is itself a fusion".into());
            }
            if m.input_dims() != dims {
                return Err(format!(
                    "fusion members read {dims} and {} features",
                    m.input_dims()
                ));
            }
            m.validate().map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

impl Detector for Fusion {
    type Error = ModelError;

    fn input_dims(&self) -> usize {
        self.members.first().map_or(0, AnyDetector::input_dims)
    }

    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, ModelError> {
        let mut z = Vec::with_capacity(self.members.len());
        for ((m, c), s) in self.members.iter().zip(&self.centre).zip(&self.scale) {
            z.push((m.score(clip)? - c) / s);
        }
        Ok(match self.combine {
            Combine::Mean => z.iter().sum::<f64>() / z.len() as f64,
            Combine::Max => z.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }
}
