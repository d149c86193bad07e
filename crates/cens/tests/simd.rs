//! The AVX2 and AVX-512 builds of the hot loops give bit-identical features to the
//! portable ones
//! (same operations in the same order per value). One test function: the switch is
//! process-wide.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aad_core::{FeatureExtractor, Signal, simd};
use cens_features::*;
use ndarray::Array2;

fn signals() -> Vec<Signal> {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let mut noise = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let sr = 16_000.0f32;
    let machine: Vec<f32> = (0..80_000)
        .map(|i| {
            let t = i as f32 / sr;
            let hum: f32 = (1..8)
                .map(|k| (std::f32::consts::TAU * 50.0 * k as f32 * t).sin() / k as f32)
                .sum();
            0.1 * hum + 0.05 * noise() + if i % 4000 < 40 { 0.5 } else { 0.0 }
        })
        .collect();
    let white: Vec<f32> = (0..48_001).map(|_| noise()).collect();
    let quiet: Vec<f32> = (0..20_003).map(|_| 1e-6 * noise()).collect();
    let mut gaps = white.clone();
    gaps[10_000..30_000].fill(0.0);
    [machine, white, quiet, gaps]
        .into_iter()
        .map(|x| Signal::new(x, 16_000).unwrap())
        .collect()
}

fn features(signals: &[Signal]) -> Vec<(String, Array2<f32>, f64)> {
    let mut out = Vec::new();
    for (i, sig) in signals.iter().enumerate() {
        let mut stft = ChromaStftExtractor::new(ChromaStftConfig::default()).unwrap();
        out.push((
            format!("{i} chroma_stft"),
            stft.extract(sig).unwrap(),
            stft.last_tuning(),
        ));
        let mut cqt = ChromaCqtExtractor::new(ChromaCqtConfig::default()).unwrap();
        out.push((format!("{i} chroma_cqt"), cqt.extract(sig).unwrap(), 0.0));
        for (name, cfg) in [
            ("cens", CensConfig::librosa(16_000)),
            ("cens_seed", CensConfig::seed(16_000)),
            ("cens_muller", CensConfig::muller(16_000, 41, 10)),
        ] {
            let mut fx = CensExtractor::new(cfg).unwrap();
            out.push((format!("{i} {name}"), fx.extract(sig).unwrap(), 0.0));
        }
        let mut tuner = TuningEstimator::new(36, false).unwrap();
        let t = tuner.estimate(sig.samples(), 16_000.0).unwrap();
        out.push((format!("{i} tuning"), Array2::zeros((0, 0)), t));
    }
    out
}

#[test]
fn every_simd_level_gives_identical_features() {
    let signals = signals();
    let detected = simd::detected();
    let mut runs = Vec::new();
    for level in simd::Level::ALL {
        simd::set_max_level(level);
        assert_eq!(simd::level(), level.min(detected));
        runs.push((level, features(&signals)));
    }
    simd::set_max_level(simd::Level::Avx512);
    if detected < simd::Level::Avx512 {
        eprintln!("this CPU stops at {detected:?}: the wider levels ran that build");
    }
    let (_, portable) = &runs[0];
    for (level, fast) in &runs[1..] {
        assert_eq!(fast.len(), portable.len());
        for ((name, a, ta), (_, b, tb)) in fast.iter().zip(portable) {
            assert_eq!(
                ta.to_bits(),
                tb.to_bits(),
                "{level:?} {name}: tuning {ta} vs {tb}"
            );
            assert_eq!(a.dim(), b.dim(), "{level:?} {name}");
            for (x, y) in a.iter().zip(b) {
                assert_eq!(x.to_bits(), y.to_bits(), "{level:?} {name}: {x} vs {y}");
            }
        }
    }
}
