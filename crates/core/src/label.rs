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
