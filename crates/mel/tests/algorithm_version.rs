//! `mel_features::ALGORITHM_VERSION` must change when the numbers do (feature caches and
//! model files key on it). Regenerate the record with `AAD_BLESS=1` after a bump.
#![allow(clippy::unwrap_used)]

use aad_core::{FeatureExtractor, Signal};
use aad_testutil::{check_algorithm_version, feature_summary};
use mel_features::{MelConfig, MelExtractor, MfccConfig, MfccExtractor};

#[test]
fn outputs_match_the_recorded_numbers_of_this_algorithm_version() {
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let x: Vec<f32> = (0..40_000)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let t = i as f32 / 16_000.0;
            0.3 * (std::f32::consts::TAU * 440.0 * t).sin()
                + 0.1 * (std::f32::consts::TAU * 3100.0 * t).sin()
                + ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.05
        })
        .collect();
    let sig = Signal::new(x, 16_000).unwrap();
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
