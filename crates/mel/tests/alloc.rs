//! After a warm-up call, `extract_into` on a clip of the same length allocates nothing
//! (the extractor trait's promise). One test function: the allocation counter is
//! process-wide.
#![allow(clippy::unwrap_used)]

use aad_core::{FeatureExtractor, Signal};
use aad_testutil::alloc::{Counting, allocations_during};
use mel_features::{MelConfig, MelExtractor, MfccConfig, MfccExtractor};
use ndarray::Array2;

#[global_allocator]
static GLOBAL: Counting = Counting;

fn check<E: FeatureExtractor>(name: &str, mut fx: E, sig: &Signal) {
    let mut out = Array2::zeros((fx.num_frames(sig.len()), fx.dims()));
    fx.extract_into(sig, out.view_mut()).unwrap();
    let n = allocations_during(|| fx.extract_into(sig, out.view_mut()).unwrap());
    assert_eq!(n, 0, "{name}: {n} allocations in a warm call");
}

#[test]
fn warm_calls_allocate_nothing() {
    let x: Vec<f32> = (0..48_000)
        .map(|i| (i as f32 * 0.037).sin() * 0.3 + ((i * 7919) % 257) as f32 / 2570.0)
        .collect();
    let sig = Signal::new(x, 16_000).unwrap();
    for (name, cfg) in [
        ("dcase2020", MelConfig::dcase2020()),
        ("mimii", MelConfig::mimii_baseline()),
        ("seed", MelConfig::seed()),
    ] {
        check(name, MelExtractor::new(cfg).unwrap(), &sig);
    }
    check(
        "mfcc",
        MfccExtractor::new(MfccConfig::seed()).unwrap(),
        &sig,
    );
}
