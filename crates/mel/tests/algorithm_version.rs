//! `mel_features::ALGORITHM_VERSION` must change when the numbers do (feature caches and
//! model files key on it). Regenerate the record with `AAD_BLESS=1` after a bump.
#![allow(clippy::unwrap_used)]

use aad_core::FeatureExtractor;
use aad_testutil::{algorithm_version_signal, check_algorithm_version, feature_summary};
use mel_features::{MelConfig, MelExtractor, MfccConfig, MfccExtractor};

#[test]
fn outputs_match_the_recorded_numbers_of_this_algorithm_version() {
    let sig = algorithm_version_signal();
    let mut out = Vec::new();
    for (name, cfg) in [
        ("dcase2020", MelConfig::dcase2020()),
        ("mimii", MelConfig::mimii_baseline()),
        ("seed", MelConfig::seed()),
    ] {
        let m = MelExtractor::new(cfg).unwrap().extract(&sig).unwrap();
        out.push((name, feature_summary(m.view())));
    }
    let m = MfccExtractor::new(MfccConfig::seed())
        .unwrap()
        .extract(&sig)
        .unwrap();
    out.push(("mfcc", feature_summary(m.view())));
    check_algorithm_version("mel-features", mel_features::ALGORITHM_VERSION, &out);
}
