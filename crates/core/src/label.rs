use std::fmt;
use std::str::FromStr;

/// Ground truth of a clip: normal operation or an anomaly.
///
/// Detectors never see labels; they are used to split datasets and to evaluate scores.
/// In metrics the anomalous class is the positive class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    /// Normal operation.
    Normal,
    /// Anomalous operation (MIMII "abnormal", DCASE "anomaly").
    Anomalous,
}

impl Label {
    /// `true` for [`Label::Anomalous`].
    pub fn is_anomalous(self) -> bool {
        self == Label::Anomalous
    }

    /// 1 for anomalous, 0 for normal (the convention of scikit-learn and the DCASE tools).
    pub fn as_u8(self) -> u8 {
        u8::from(self.is_anomalous())
    }

    /// The MIMII folder name: `normal` or `abnormal`.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Normal => "normal",
            Label::Anomalous => "abnormal",
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `normal`, `abnormal`, `anomaly`, `anomalous`, `0` and `1` (ASCII case-insensitive).
impl FromStr for Label {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "normal" | "0" => Ok(Label::Normal),
            "abnormal" | "anomaly" | "anomalous" | "1" => Ok(Label::Anomalous),
            other => Err(format!("not a label: {other:?}")),
        }
    }
}

/// Recording domain of DCASE 2021+ clips (domain-shift tasks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Domain {
    /// Source domain.
    Source,
    /// Target domain.
    Target,
}

impl Domain {
    /// The domain a DCASE 2021+ file name states (`..._section_00_target_train_normal_...`),
    /// or `None` for a name without one.
    ///
    /// ```
    /// use aad_core::Domain;
    /// let p = std::path::Path::new("fan/train/section_00_target_train_normal_0007_x.wav");
    /// assert_eq!(Domain::of_file(p), Some(Domain::Target));
    /// assert_eq!(Domain::of_file(std::path::Path::new("normal/00000001.wav")), None);
    /// ```
    pub fn of_file(path: &std::path::Path) -> Option<Domain> {
        let stem = path.file_stem()?.to_str()?;
        let start = stem.find("section_")?;
        match stem[start..].split('_').nth(2)? {
            "source" => Some(Domain::Source),
            "target" => Some(Domain::Target),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling_and_round_trips() {
        for (s, l) in [
            ("normal", Label::Normal),
            ("Abnormal", Label::Anomalous),
            ("anomaly", Label::Anomalous),
            ("1", Label::Anomalous),
            ("0", Label::Normal),
        ] {
            assert_eq!(s.parse::<Label>().unwrap(), l);
        }
        assert_eq!(
            Label::Anomalous.to_string().parse::<Label>().unwrap(),
            Label::Anomalous
        );
        assert!("broken".parse::<Label>().is_err());
        assert_eq!(Label::Anomalous.as_u8(), 1);
        assert_eq!(Label::Normal.as_u8(), 0);
    }
}
