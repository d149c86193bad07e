//! Score normalisation and label-free fusion: several detectors on the same features,
//! each member's score standardised against its own cross-fitted training scores, then
//! combined. The fused detector is a detector like any other (fit, score, save).

use aad_core::{Detector, Fit};
use ndarray::ArrayView2;
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
    contrast: &[Vec<ArrayView2<'_, f32>>],
    folds: usize,
    seed: u64,
) -> Result<Vec<f64>, ModelError> {
    let n = normal.len();
    let folds = folds.min(n);
    let fold = crate::deal_folds(n, folds, seed ^ 0xF05E_D5C0);
    let mut out = vec![0.0; n];
    for f in 0..folds {
        let train: Vec<ArrayView2<'_, f32>> = (0..n)
            .filter(|&i| fold[i] != f)
            .map(|i| normal[i])
            .collect();
        let det = member
            .adapted_to(&train)
            .fit_contrast(&train, contrast, seed, &mut ())?;
        for i in (0..n).filter(|&i| fold[i] == f) {
            out[i] = det.score(normal[i])?;
        }
    }
    Ok(out)
}

/// The centre and scale that standardise a member's scores: the mean and standard
/// deviation of its cross-fitted training scores (0 and 1 with one clip).
fn standardiser(
    member: &DetectorConfig,
    normal: &[ArrayView2<'_, f32>],
    contrast: &[Vec<ArrayView2<'_, f32>>],
    folds: usize,
    seed: u64,
) -> Result<(f64, f64), ModelError> {
    if normal.len() < 2 {
        return Ok((0.0, 1.0));
    }
    let held = cross_fitted(member, normal, contrast, folds, seed)?;
    let n = held.len() as f64;
    let mean = held.iter().sum::<f64>() / n;
    let sd = (held.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    // Equal held-out scores give no spread: fall back to the mean's size.
    let sd = if sd > 1e-12 * mean.abs().max(1e-300) {
        sd
    } else {
        mean.abs().max(1.0)
    };
    Ok((mean, sd))
}

fn combined(combine: Combine, z: &[f64]) -> f64 {
    match combine {
        Combine::Mean => z.iter().sum::<f64>() / z.len() as f64,
        Combine::Max => z.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    }
}

fn check_standardisers(n: usize, centre: &[f64], scale: &[f64]) -> Result<(), ModelError> {
    if n == 0 || centre.len() != n || scale.len() != n {
        return Err(ModelError::Inconsistent(format!(
            "{n} members with {} centres and {} scales",
            centre.len(),
            scale.len()
        )));
    }
    if centre.iter().any(|c| !c.is_finite()) || scale.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(ModelError::Inconsistent(
            "centres must be finite and scales positive".into(),
        ));
    }
    Ok(())
}

/// Every member's standardised score of `clip`.
fn standardised(
    members: &[AnyDetector],
    centre: &[f64],
    scale: &[f64],
    clip: ArrayView2<'_, f32>,
) -> Result<Vec<f64>, ModelError> {
    let mut z = Vec::with_capacity(members.len());
    for ((m, c), s) in members.iter().zip(centre).zip(scale) {
        z.push((m.score(clip)? - c) / s);
    }
    Ok(z)
}

/// Checks standardised members read from a file: as many centres and scales as
/// members, one input width, none of a `nested` kind, each valid itself.
fn check_members(
    what: &str,
    members: &[AnyDetector],
    centre: &[f64],
    scale: &[f64],
    nested: impl Fn(&AnyDetector) -> bool,
) -> Result<(), ModelError> {
    check_standardisers(members.len(), centre, scale).map_err(|e| e.within(what))?;
    let dims = members[0].input_dims();
    for m in members {
        if nested(m) {
            return Err(ModelError::Inconsistent(format!(
                "{what}: a member is itself a fusion"
            )));
        }
        if m.input_dims() != dims {
            return Err(ModelError::Inconsistent(format!(
                "{what}: members read {dims} and {} features",
                m.input_dims()
            )));
        }
        m.validate()?;
    }
    Ok(())
}

impl Fit for FusionConfig {
    type Detector = Fusion;
    type Error = ModelError;

    fn fit(&self, normal: &[ArrayView2<'_, f32>], seed: u64) -> Result<Fusion, ModelError> {
        self.fit_contrast(normal, &[], seed)
    }
}

impl FusionConfig {
    /// Fits with contrast sets for members that need them
    /// ([`DetectorConfig::fit_set`]); the standardisation cross-fits this machine's
    /// clips only, every fold seeing all contrast clips.
    ///
    /// # Errors
    /// An invalid configuration, or a member's errors.
    pub fn fit_contrast(
        &self,
        normal: &[ArrayView2<'_, f32>],
        contrast: &[Vec<ArrayView2<'_, f32>>],
        seed: u64,
    ) -> Result<Fusion, ModelError> {
        self.validate()?;
        crate::data::check_clips(normal, None)?;
        let mut centre = Vec::new();
        let mut scale = Vec::new();
        let mut members = Vec::new();
        for m in &self.members {
            let (c, s) = standardiser(m, normal, contrast, self.folds, seed)?;
            centre.push(c);
            scale.push(s);
            members.push(
                m.adapted_to(normal)
                    .fit_contrast(normal, contrast, seed, &mut ())?,
            );
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
    pub(crate) fn check(&self) -> Result<(), ModelError> {
        check_members("fusion", &self.members, &self.centre, &self.scale, |m| {
            matches!(m, AnyDetector::Fusion(_))
        })
    }
}

impl Detector for Fusion {
    type Error = ModelError;

    fn input_dims(&self) -> usize {
        self.members.first().map_or(0, AnyDetector::input_dims)
    }

    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, ModelError> {
        let z = standardised(&self.members, &self.centre, &self.scale, clip)?;
        Ok(combined(self.combine, &z))
    }
}

/// Sub-band matching: one detector per band of feature columns (contiguous, equal
/// widths), each band's score standardised by its cross-fitted training scores, then
/// combined: [`Combine::Max`] lets the worst band decide, so a fault confined to a
/// few bands is not averaged away by the many that stayed normal.
///
/// ```
/// use aad_core::{Detector, Fit};
/// use aad_models::classical::{Inputs, KnnConfig};
/// use aad_models::{Combine, DetectorConfig, Representation, SubbandConfig};
/// let clip = |bump: f32, seed: usize| {
///     ndarray::Array2::from_shape_fn((20, 16), |(t, j)| {
///         ((t * 7 + j * 3 + seed) % 11) as f32 / 11.0 + if j == 13 { bump } else { 0.0 }
///     })
/// };
/// let normal: Vec<_> = (0..8).map(|s| clip(0.0, s)).collect();
/// let views: Vec<_> = normal.iter().map(|c| c.view()).collect();
/// let knn = DetectorConfig::Knn(KnnConfig::default().inputs(Inputs::clip_stats().represented(Representation::ClipMeanStdMax)));
/// let det = SubbandConfig::new(knn, 4).combine(Combine::Max).fit(&views, 1)?;
/// assert!(det.score(clip(1.0, 3).view())? > det.score(clip(0.0, 3).view())?);
/// # Ok::<(), aad_models::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubbandConfig {
    /// The detector fitted on every band (not itself a fusion or sub-band detector).
    pub member: Box<DetectorConfig>,
    /// Bands (at most the feature's width).
    pub bands: usize,
    /// Cross-fitting folds of the standardisation.
    pub folds: usize,
    /// How the bands' standardised scores are combined.
    pub combine: Combine,
}

impl SubbandConfig {
    /// `member` on `bands` bands, the worst band deciding, 5 folds.
    pub fn new(member: DetectorConfig, bands: usize) -> Self {
        SubbandConfig {
            member: Box::new(member),
            bands,
            folds: 5,
            combine: Combine::Max,
        }
    }

    /// Sets the combination.
    pub fn combine(mut self, combine: Combine) -> Self {
        self.combine = combine;
        self
    }

    pub(crate) fn adapted_to(&self, normal: &[ArrayView2<'_, f32>]) -> SubbandConfig {
        SubbandConfig {
            member: Box::new(self.member.adapted_to(normal)),
            ..self.clone()
        }
    }

    /// Fits with contrast sets for a member that needs them, band by band.
    ///
    /// # Errors
    /// More bands than feature columns, no bands, fewer than 2 folds, a nested fusion,
    /// or the member's errors.
    pub fn fit_contrast(
        &self,
        normal: &[ArrayView2<'_, f32>],
        contrast: &[Vec<ArrayView2<'_, f32>>],
        seed: u64,
    ) -> Result<Subband, ModelError> {
        let dims = crate::data::check_clips(normal, None)?;
        if self.bands == 0 || self.bands > dims {
            return Err(ModelError::config(
                "bands",
                self.bands,
                format!("must be 1 to the feature width ({dims})"),
            ));
        }
        if self.folds < 2 {
            return Err(ModelError::config(
                "sub-band folds",
                self.folds,
                "must be >= 2",
            ));
        }
        if matches!(
            *self.member,
            DetectorConfig::Fusion(_) | DetectorConfig::Subband(_)
        ) {
            return Err(ModelError::config(
                "sub-band member",
                self.member.kind(),
                "cannot be a fusion or sub-band detector",
            ));
        }
        let edges: Vec<usize> = (0..=self.bands).map(|b| b * dims / self.bands).collect();
        let (mut members, mut centre, mut scale) = (Vec::new(), Vec::new(), Vec::new());
        for w in edges.windows(2) {
            let own = columns(normal, w[0], w[1]);
            let other: Vec<Vec<ArrayView2<'_, f32>>> =
                contrast.iter().map(|c| columns(c, w[0], w[1])).collect();
            let (c, s) = standardiser(&self.member, &own, &other, self.folds, seed)?;
            centre.push(c);
            scale.push(s);
            members.push(
                self.member
                    .adapted_to(&own)
                    .fit_contrast(&own, &other, seed, &mut ())?,
            );
        }
        Ok(Subband {
            members,
            edges,
            centre,
            scale,
            combine: self.combine,
        })
    }
}

/// Columns `lo..hi` of every clip (views, no copy).
fn columns<'a>(set: &[ArrayView2<'a, f32>], lo: usize, hi: usize) -> Vec<ArrayView2<'a, f32>> {
    set.iter()
        .map(|c| c.slice_move(ndarray::s![.., lo..hi]))
        .collect()
}

impl Fit for SubbandConfig {
    type Detector = Subband;
    type Error = ModelError;

    fn fit(&self, normal: &[ArrayView2<'_, f32>], seed: u64) -> Result<Subband, ModelError> {
        self.fit_contrast(normal, &[], seed)
    }
}

/// A fitted [`SubbandConfig`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subband {
    members: Vec<AnyDetector>,
    /// Band `b` is columns `edges[b]..edges[b + 1]`.
    edges: Vec<usize>,
    centre: Vec<f64>,
    scale: Vec<f64>,
    combine: Combine,
}

impl Subband {
    /// Each band's standardised score of a clip, low bands first.
    ///
    /// # Errors
    /// A clip of the wrong width, or a member's error.
    pub fn band_scores(&self, clip: ArrayView2<'_, f32>) -> Result<Vec<f64>, ModelError> {
        crate::data::check_clip(0, &clip, self.input_dims())?;
        let mut z = Vec::with_capacity(self.members.len());
        for (b, m) in self.members.iter().enumerate() {
            let band = clip.slice(ndarray::s![.., self.edges[b]..self.edges[b + 1]]);
            z.push((m.score(band)? - self.centre[b]) / self.scale[b]);
        }
        Ok(z)
    }

    pub(crate) fn check(&self) -> Result<(), ModelError> {
        let n = self.members.len();
        check_standardisers(n, &self.centre, &self.scale).map_err(|e| e.within("sub-band"))?;
        if self.edges.len() != n + 1 || self.edges[0] != 0 {
            return Err(ModelError::Inconsistent(format!(
                "{} band edges for {n} bands",
                self.edges.len()
            )));
        }
        for (b, m) in self.members.iter().enumerate() {
            if self.edges[b + 1] <= self.edges[b]
                || m.input_dims() != self.edges[b + 1] - self.edges[b]
            {
                return Err(ModelError::Inconsistent(format!(
                    "band {b} does not match its detector's width"
                )));
            }
            if matches!(m, AnyDetector::Fusion(_) | AnyDetector::Subband(_)) {
                return Err(ModelError::Inconsistent(
                    "a sub-band member is a fusion".into(),
                ));
            }
            m.validate()?;
        }
        Ok(())
    }
}

impl Detector for Subband {
    type Error = ModelError;

    fn input_dims(&self) -> usize {
        self.edges.last().copied().unwrap_or(0)
    }

    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, ModelError> {
        Ok(combined(self.combine, &self.band_scores(clip)?))
    }
}

/// Per-domain memory banks for domain-shift data (DCASE 2021+: many source-domain
/// training clips, a few target-domain ones). The member is fitted once per domain on
/// that domain's clips only, each bank's scores standardised by its cross-fitted
/// training scores, and a clip's score is the smallest: a clip is normal when it is
/// normal for either domain, and the few target clips are not drowned by the many
/// source ones. Fitted without domains ([`Fit::fit`]), it is the member with its scores
/// standardised.
///
/// ```
/// use aad_core::{Detector, Fit};
/// use aad_models::classical::{Inputs, KnnConfig};
/// use aad_models::{DetectorConfig, DomainBanksConfig, Representation};
/// let clip = |level: f32, seed: usize| {
///     ndarray::Array2::from_shape_fn((20, 4), |(t, j)| level + ((t * 7 + j * 3 + seed) % 11) as f32 / 11.0)
/// };
/// // 12 source clips at 0, 3 target clips at 5 (another speed, another room).
/// let source: Vec<_> = (0..12).map(|s| clip(0.0, s)).collect();
/// let target: Vec<_> = (0..3).map(|s| clip(5.0, s)).collect();
/// fn v(c: &[ndarray::Array2<f32>]) -> Vec<ndarray::ArrayView2<'_, f32>> {
///     c.iter().map(|m| m.view()).collect()
/// }
/// let knn = DetectorConfig::Knn(KnnConfig::default().inputs(Inputs::clip_stats().represented(Representation::ClipMean)));
/// let det = DomainBanksConfig::new(knn).fit_banks(&[v(&source), v(&target)], &[], 1)?;
/// // A target-domain normal clip is as normal as a source one; a clip at 2.5 is neither.
/// assert!(det.score(clip(2.5, 9).view())? > det.score(clip(5.0, 9).view())?);
/// # Ok::<(), aad_models::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainBanksConfig {
    /// The detector fitted on every domain's clips (not a fusion, sub-band or bank).
    pub member: Box<DetectorConfig>,
    /// Cross-fitting folds of each bank's standardisation.
    pub folds: usize,
}

impl DomainBanksConfig {
    /// `member` per domain, 5 folds.
    pub fn new(member: DetectorConfig) -> Self {
        DomainBanksConfig {
            member: Box::new(member),
            folds: 5,
        }
    }

    /// Fits one bank per set of clips (one set per domain), with contrast sets for a
    /// member that needs them.
    ///
    /// # Errors
    /// No bank, a bank of fewer than 2 clips (its scores cannot be standardised), fewer
    /// than 2 folds, a nested fusion, or the member's errors.
    pub fn fit_banks(
        &self,
        banks: &[Vec<ArrayView2<'_, f32>>],
        contrast: &[Vec<ArrayView2<'_, f32>>],
        seed: u64,
    ) -> Result<DomainBanks, ModelError> {
        if banks.is_empty() {
            return Err(ModelError::config("domain banks", 0, "need at least one"));
        }
        if let Some((i, b)) = banks.iter().enumerate().find(|(_, b)| b.len() < 2) {
            return Err(ModelError::config(
                "domain bank",
                format!("{i} of {} clip(s)", b.len()),
                "every domain needs 2 training clips at least",
            ));
        }
        if self.folds < 2 {
            return Err(ModelError::config("bank folds", self.folds, "must be >= 2"));
        }
        if matches!(
            *self.member,
            DetectorConfig::Fusion(_) | DetectorConfig::Subband(_) | DetectorConfig::DomainBanks(_)
        ) {
            return Err(ModelError::config(
                "domain bank member",
                self.member.kind(),
                "cannot be a fusion, sub-band or bank detector",
            ));
        }
        let (mut members, mut centre, mut scale) = (Vec::new(), Vec::new(), Vec::new());
        for bank in banks {
            let (c, s) = standardiser(&self.member, bank, contrast, self.folds, seed)?;
            centre.push(c);
            scale.push(s);
            members.push(self.member.adapted_to(bank).fit_contrast(
                bank,
                contrast,
                seed,
                &mut (),
            )?);
        }
        Ok(DomainBanks {
            members,
            centre,
            scale,
        })
    }
}

impl DomainBanksConfig {
    /// Fits one bank per domain of `normal` (clip `i` recorded in domain `domains[i]`).
    /// A domain of one clip cannot be standardised, and a fold of cross-fitting may
    /// leave one: its clips join the largest bank.
    ///
    /// # Errors
    /// `domains` of another length than `normal`, and those of
    /// [`fit_banks`](Self::fit_banks).
    pub fn fit_domains(
        &self,
        normal: &[ArrayView2<'_, f32>],
        domains: &[usize],
        contrast: &[Vec<ArrayView2<'_, f32>>],
        seed: u64,
    ) -> Result<DomainBanks, ModelError> {
        if domains.len() != normal.len() {
            return Err(ModelError::config(
                "domains",
                domains.len(),
                format!("one per training clip ({})", normal.len()),
            ));
        }
        let mut present: Vec<usize> = domains.to_vec();
        present.sort_unstable();
        present.dedup();
        let mut banks: Vec<Vec<ArrayView2<'_, f32>>> = present
            .iter()
            .map(|d| {
                normal
                    .iter()
                    .zip(domains)
                    .filter(|(_, x)| *x == d)
                    .map(|(c, _)| *c)
                    .collect()
            })
            .collect();
        // The first of the largest banks takes in every bank too small to stand alone.
        if let Some(largest) = (0..banks.len()).max_by_key(|&b| (banks[b].len(), usize::MAX - b)) {
            let mut merged = std::mem::take(&mut banks[largest]);
            let (mut kept, mut slot) = (Vec::new(), 0);
            for (b, bank) in banks.into_iter().enumerate() {
                if b == largest {
                    slot = kept.len();
                    kept.push(Vec::new());
                } else if bank.len() < 2 {
                    merged.extend(bank);
                } else {
                    kept.push(bank);
                }
            }
            kept[slot] = merged;
            banks = kept;
        }
        self.fit_banks(&banks, contrast, seed)
    }
}

impl Fit for DomainBanksConfig {
    type Detector = DomainBanks;
    type Error = ModelError;

    fn fit(&self, normal: &[ArrayView2<'_, f32>], seed: u64) -> Result<DomainBanks, ModelError> {
        self.fit_banks(&[normal.to_vec()], &[], seed)
    }
}

/// A fitted [`DomainBanksConfig`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainBanks {
    members: Vec<AnyDetector>,
    centre: Vec<f64>,
    scale: Vec<f64>,
}

impl DomainBanks {
    /// Banks (domains seen in training).
    pub fn banks(&self) -> usize {
        self.members.len()
    }

    pub(crate) fn check(&self) -> Result<(), ModelError> {
        check_members(
            "domain banks",
            &self.members,
            &self.centre,
            &self.scale,
            |m| {
                matches!(
                    m,
                    AnyDetector::Fusion(_) | AnyDetector::Subband(_) | AnyDetector::DomainBanks(_)
                )
            },
        )
    }
}

impl Detector for DomainBanks {
    type Error = ModelError;

    fn input_dims(&self) -> usize {
        self.members.first().map_or(0, AnyDetector::input_dims)
    }

    fn score(&self, clip: ArrayView2<'_, f32>) -> Result<f64, ModelError> {
        let z = standardised(&self.members, &self.centre, &self.scale, clip)?;
        Ok(z.into_iter().fold(f64::INFINITY, f64::min))
    }
}
