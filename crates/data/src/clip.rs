use aad_core::Domain;
use std::fmt;
use std::path::PathBuf;

use aad_core::Label;

/// Which naming convention a clip was recognised by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layout {
    /// `<snr>/<type>/id_XX/{normal,abnormal}/NNNNNNNN.wav` (the MIMII release).
    Mimii,
    /// `<type>/{train,test}/{normal,anomaly}_id_XX_NNNNNNNN.wav` (DCASE 2020 Task 2).
    Dcase2020,
    /// `section_XX_{source,target}_{train,test}_{normal,anomaly}_...` (DCASE 2021 and later).
    Dcase2021,
    /// Your own recordings: `<machine>/<label>/*.wav` or `<machine>/{train,test}/<label>/*.wav`
    /// (`<label>`: normal, ok, good; abnormal, anomaly, anomalous, faulty, fault, bad, ng),
    /// or `<machine>/train/*.wav` (training clips are normal). One group per machine
    /// folder, machine id `all`.
    Plain,
    /// Listed in a manifest CSV ([`discover`](fn@crate::discover) given a `.csv` file).
    Manifest,
}

/// The split a DCASE layout puts a file in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FolderSplit {
    /// Training data (normal clips only in the challenge sets).
    Train,
    /// Test data.
    Test,
}

/// Signal-to-noise ratio of a MIMII folder, in dB (`-6_dB_fan`, `-6dB` and `-6_dB` all give -6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Snr(pub i32);

impl fmt::Display for Snr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}dB", self.0)
    }
}

impl Snr {
    /// Parses an SNR folder name: an optional sign, digits, an optional `_`, then `dB`
    /// (any case), optionally followed by `_<anything>`. `None` when it is not one.
    ///
    /// ```
    /// use aad_data::Snr;
    /// assert_eq!(Snr::parse("-6_dB_fan"), Some(Snr(-6)));
    /// assert_eq!(Snr::parse("0_dB"), Some(Snr(0)));
    /// assert_eq!(Snr::parse("6dB"), Some(Snr(6)));
    /// assert_eq!(Snr::parse("+6db_valve"), Some(Snr(6)));
    /// assert_eq!(Snr::parse("fan"), None);
    /// assert_eq!(Snr(-6).to_string(), "-6dB");
    /// ```
    pub fn parse(name: &str) -> Option<Snr> {
        let lower = name.to_ascii_lowercase();
        let (sign, rest) = match lower.as_bytes().first()? {
            b'-' => (-1, &lower[1..]),
            b'+' => (1, &lower[1..]),
            _ => (1, &lower[..]),
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        let value: i32 = rest[..digits].parse().ok()?;
        let tail = rest[digits..].strip_prefix('_').unwrap_or(&rest[digits..]);
        let after = tail.strip_prefix("db")?;
        (after.is_empty() || after.starts_with('_')).then_some(Snr(sign * value))
    }
}

/// Parses an SNR label as written on the command line and in reports (`-6dB`, `0dB`, `na`).
///
/// # Errors
/// [`ParseError::SnrLabel`](crate::ParseError::SnrLabel) for anything else.
pub fn parse_snr_label(label: &str) -> Result<Option<Snr>, crate::ParseError> {
    match label {
        "na" | "" => Ok(None),
        s => Snr::parse(s)
            .map(Some)
            .ok_or_else(|| crate::ParseError::SnrLabel(s.to_string())),
    }
}

/// One audio file of a dataset and what its path says about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Clip {
    /// Path to the file (as found under the discovery root).
    pub path: PathBuf,
    /// Path relative to the discovery root, `/`-separated (stable across machines).
    pub rel_path: String,
    /// `fan`, `valve`, `pump`, `slider`, ...
    pub machine_type: String,
    /// `id_00` (MIMII, DCASE 2020) or `section_00` (DCASE 2021+).
    pub machine_id: String,
    /// Ground truth.
    pub label: Label,
    /// SNR of the MIMII folder; `None` for DCASE data.
    pub snr: Option<Snr>,
    /// The naming convention it matched.
    pub layout: Layout,
    /// The DCASE folder split, when the layout gives one.
    pub folder_split: Option<FolderSplit>,
    /// The DCASE 2021+ domain.
    pub domain: Option<Domain>,
    /// Anomaly kind from a synthetic dataset's `anomaly_kinds.csv` (`humming`, ...).
    pub anomaly_kind: Option<String>,
}

impl Clip {
    /// The SNR label used in reports: `-6dB`, or `na` when the layout has none.
    pub fn snr_label(&self) -> String {
        snr_label(self.snr)
    }

    /// The group the clip belongs to for per-machine training and evaluation.
    pub fn group(&self) -> GroupKey {
        GroupKey {
            snr: self.snr,
            machine_type: self.machine_type.clone(),
            machine_id: self.machine_id.clone(),
        }
    }
}

/// One machine at one SNR: the unit the baselines train a model for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    /// SNR (MIMII), `None` for DCASE data.
    pub snr: Option<Snr>,
    /// Machine type.
    pub machine_type: String,
    /// Machine id or section.
    pub machine_id: String,
}

impl GroupKey {
    /// The SNR label used in reports: `-6dB`, or `na` when the layout has none.
    pub fn snr_label(&self) -> String {
        snr_label(self.snr)
    }
}

/// `-6dB`, or `na` for no SNR.
fn snr_label(snr: Option<Snr>) -> String {
    snr.map_or_else(|| "na".to_string(), |s| s.to_string())
}

impl fmt::Display for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.snr_label(),
            self.machine_type,
            self.machine_id
        )
    }
}
