//! `cens_features::ALGORITHM_VERSION` must change when the numbers do (feature caches and
//! model files key on it). Regenerate the record with `AAD_BLESS=1` after a bump.
#![allow(clippy::unwrap_used)]

use aad_core::FeatureExtractor;
use aad_testutil::{algorithm_version_signal, check_algorithm_version, feature_summary};
use cens_features::*;

#[test]
fn outputs_match_the_recorded_numbers_of_this_algorithm_version() {
    let sig = algorithm_version_signal();
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
