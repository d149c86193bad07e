//! After a warm-up call, `extract_into` on a clip of the same length allocates nothing
//! (the extractor trait's promise). One test function: the allocation counter is
//! process-wide.
#![allow(clippy::unwrap_used)]

use aad_core::Signal;
use aad_testutil::alloc::{Counting, assert_warm_call_allocates_nothing as check};
use mel_features::{MelConfig, MelExtractor, MfccConfig, MfccExtractor};

#[global_allocator]
static GLOBAL: Counting = Counting;

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
        check(name, &mut MelExtractor::new(cfg).unwrap(), &sig);
    }
    check(
        "mfcc",
        &mut MfccExtractor::new(MfccConfig::seed()).unwrap(),
        &sig,
    );
}
