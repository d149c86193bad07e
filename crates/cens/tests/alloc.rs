//! After a warm-up call on a clip, `extract_into` on a clip of the same length and tuning
//! allocates nothing (the trait's promise). Counted with a global allocator wrapper, in
//! its own test binary with one test function so that no other test allocates meanwhile.
#![allow(clippy::unwrap_used)]

use aad_core::Signal;
use aad_testutil::alloc::{
    Counting, allocations_during as allocations_of, assert_warm_call_allocates_nothing as check,
};
use cens_features::*;
use ndarray::Array2;

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn warm_calls_allocate_nothing() {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let x: Vec<f32> = (0..48_000)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let hum = (std::f32::consts::TAU * 100.0 * i as f32 / 16_000.0).sin();
            0.2 * hum + ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
        })
        .collect();
    let sig = Signal::new(x, 16_000).unwrap();
    check(
        "chroma_stft",
        &mut ChromaStftExtractor::new(ChromaStftConfig::default()).unwrap(),
        &sig,
    );
    check(
        "chroma_cqt",
        &mut ChromaCqtExtractor::new(ChromaCqtConfig::default()).unwrap(),
        &sig,
    );
    for cfg in [
        CensConfig::librosa(16_000),
        CensConfig::seed(16_000),
        CensConfig::muller(16_000, 41, 10),
    ] {
        check("chroma_cens", &mut CensExtractor::new(cfg).unwrap(), &sig);
    }
    for tuning in [Tuning::Fixed(0.0), Tuning::Estimate] {
        let mut cqt = Cqt::new(CqtConfig::default().tuning(tuning)).unwrap();
        let mut c = Array2::zeros((cqt.num_frames(sig.len()), 252));
        cqt.magnitude_into(sig.samples(), 16_000, c.view_mut())
            .unwrap();
        let n = allocations_of(|| {
            cqt.magnitude_into(sig.samples(), 16_000, c.view_mut())
                .unwrap();
        });
        assert_eq!(n, 0, "cqt ({tuning:?}): {n} allocations in a warm call");
    }
    let mut tuner = TuningEstimator::new(36, false).unwrap();
    tuner.estimate(sig.samples(), 16_000.0).unwrap();
    let n = allocations_of(|| {
        tuner.estimate(sig.samples(), 16_000.0).unwrap();
    });
    assert_eq!(n, 0, "estimate_tuning: {n} allocations in a warm call");
}
