//! `cens_features::ALGORITHM_VERSION` must change when the numbers do (feature caches and
//! model files key on it). Regenerate the record with `AAD_BLESS=1` after a bump.
#![allow(clippy::unwrap_used)]

use aad_core::{FeatureExtractor, Signal};
use aad_testutil::{check_algorithm_version, feature_summary};
use cens_features::*;

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
    let cqt = ChromaCqtExtractor::new(ChromaCqtConfig::with_sample_rate(16_000))
        .unwrap()
        .extract(&sig)
        .unwrap();
    let stft = ChromaStftExtractor::new(ChromaStftConfig::with_sample_rate(16_000))
        .unwrap()
        .extract(&sig)
        .unwrap();
    let cens = CensExtractor::new(CensConfig::librosa(16_000))
        .unwrap()
        .extract(&sig)
        .unwrap();
    let seed = CensExtractor::new(CensConfig::seed(16_000))
        .unwrap()
        .extract(&sig)
        .unwrap();
    let muller = CensExtractor::new(CensConfig::muller(16_000, 41, 10))
        .unwrap()
        .extract(&sig)
        .unwrap();
    check_algorithm_version(
        "cens-features",
        cens_features::ALGORITHM_VERSION,
        &[
            ("chroma_cqt", feature_summary(cqt.view())),
            ("chroma_stft", feature_summary(stft.view())),
            ("cens", feature_summary(cens.view())),
            ("cens_seed", feature_summary(seed.view())),
            ("cens_muller", feature_summary(muller.view())),
        ],
    );
}
