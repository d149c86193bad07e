//! The deployable model behind `aad`: scoring one 10 s window (what `aad monitor` does per
//! window, extraction included), fitting the default (feature + detector, 5-fold
//! cross-fitting, threshold) on 20 normal clips, and the default detector alone on the
//! cached features of a full MIMII machine id (700 clips of 313 x 128 log-Mel frames),
//! and the machine-ID classifier fitted on such an id against three others.
#![allow(clippy::expect_used, clippy::unwrap_used)]
use std::hint::black_box;

use aad::core::Signal;
use aad::experiment::model::{FitOptions, Model};
use criterion::{Criterion, criterion_group, criterion_main};

/// A 10 s fan-like signal: a hum, a harmonic and seeded noise.
fn clip(seed: u64, hum_hz: f32) -> Signal {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let x = (0..160_000)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let t = i as f32 / 16_000.0;
            0.2 * (std::f32::consts::TAU * hum_hz * t).sin()
                + 0.05 * (std::f32::consts::TAU * 3.0 * hum_hz * t).sin()
                + ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.2
        })
        .collect();
    Signal::new(x, 16_000).expect("finite samples")
}

/// Seeded uniform values in [0, 1) (xorshift), for feature matrices of a given size.
fn uniform_01() -> impl FnMut() -> f32 {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 24) as f32
    }
}

fn model(c: &mut Criterion) {
    let normal: Vec<Signal> = (0..20).map(|s| clip(s, 120.0)).collect();
    let opts = FitOptions::default();
    let mut g = c.benchmark_group("model");
    g.sample_size(10);
    g.bench_function("fit_default_20_clips", |b| {
        b.iter(|| Model::fit_signals(black_box(&normal), &opts).expect("fit"))
    });
    let m = Model::fit_signals(&normal, &opts).expect("fit");
    let mut fx = m.extractor().expect("extractor");
    let window = clip(99, 125.0);
    g.sample_size(50);
    g.bench_function("score_10s_window", |b| {
        b.iter(|| {
            m.score_signal_with(&mut fx, black_box(&window), std::path::Path::new("w"))
                .expect("score")
        })
    });
    g.finish();
}

fn default_detector_on_a_full_machine_id(c: &mut Criterion) {
    use aad::core::{Detector, Fit};
    use aad::experiment::registry::{FeatureSpec, ModelSpec};
    let feature = FeatureSpec::parse(aad::experiment::model::DEFAULT_FEATURE, 16_000).unwrap();
    let spec = ModelSpec::parse(aad::experiment::model::DEFAULT_DETECTOR).unwrap();
    let dims = feature.dims();
    let mut next = uniform_01();
    let clips: Vec<ndarray::Array2<f32>> = (0..700)
        .map(|_| ndarray::Array2::from_shape_simple_fn((313, dims), &mut next))
        .collect();
    let views: Vec<_> = clips.iter().map(|m| m.view()).collect();
    let config = spec.config(&feature, None).adapted_to(&views);
    let mut g = c.benchmark_group("default_detector");
    g.sample_size(10);
    g.bench_function("fit_700_clips", |b| {
        b.iter(|| config.fit(black_box(&views), 1).expect("fit"))
    });
    let det = config.fit(&views, 1).expect("fit");
    g.bench_function("score_one_clip_features", |b| {
        b.iter(|| det.score(black_box(views[3])).expect("score"))
    });
    g.finish();
}

/// The machine-ID classifier against the other 3 ids of a full MIMII machine type: 4 x
/// 700 clips of 313 x 128 log-Mel frames (each id's frames lifted in a band of its own,
/// so there is something to learn), capped at 8,000 frames per id as the registry does.
fn id_classifier_on_a_full_machine_type(c: &mut Criterion) {
    use aad::core::Detector;
    use aad::experiment::registry::{FeatureSpec, ModelSpec};
    let feature = FeatureSpec::parse(aad::experiment::model::DEFAULT_FEATURE, 16_000).unwrap();
    let dims = feature.dims();
    let mut next = uniform_01();
    let machines: Vec<Vec<ndarray::Array2<f32>>> = (0..4)
        .map(|m| {
            (0..700)
                .map(|_| {
                    ndarray::Array2::from_shape_fn((313, dims), |(_, j)| {
                        next() + if j / 8 == m { 0.3 } else { 0.0 }
                    })
                })
                .collect()
        })
        .collect();
    let views: Vec<Vec<_>> = machines
        .iter()
        .map(|c| c.iter().map(|m| m.view()).collect())
        .collect();
    let spec = ModelSpec::parse("idclf").unwrap();
    let config = spec.config(&feature, None).adapted_to(&views[0]);
    let mut g = c.benchmark_group("id_classifier");
    g.sample_size(10);
    g.bench_function("fit_700_clips_against_3x700", |b| {
        b.iter(|| {
            config
                .fit_set(
                    &aad_models::TrainingSet::new(black_box(&views[0])).with_contrast(&views[1..]),
                    1,
                    &mut (),
                )
                .expect("fit")
        })
    });
    let det = config
        .fit_set(
            &aad_models::TrainingSet::new(&views[0]).with_contrast(&views[1..]),
            1,
            &mut (),
        )
        .expect("fit");
    g.bench_function("score_one_clip_features", |b| {
        b.iter(|| det.score(black_box(views[0][3])).expect("score"))
    });
    g.finish();
}

criterion_group!(
    benches,
    model,
    default_detector_on_a_full_machine_id,
    id_classifier_on_a_full_machine_type
);
criterion_main!(benches);
