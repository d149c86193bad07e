//! Chroma and CENS per clip, sweeping clip length: chroma_stft, chroma_cqt and
//! chroma_cens with librosa's defaults (tuning estimated per clip), the seed's CENS, and
//! the tuning estimator alone.
#![allow(clippy::expect_used, clippy::unwrap_used)]
use std::hint::black_box;

use aad::core::{FeatureExtractor, Signal};
use cens_features::{
    CensConfig, CensExtractor, ChromaCqtConfig, ChromaCqtExtractor, ChromaStftConfig,
    ChromaStftExtractor, TuningEstimator,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

mod common;

fn bench<E: FeatureExtractor>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    fx: &mut E,
    sig: &Signal,
    seconds: f64,
) {
    let mut out = ndarray::Array2::zeros((fx.num_frames(sig.len()), fx.dims()));
    fx.extract_into(sig, out.view_mut()).unwrap(); // plan the bases for this clip's tuning
    g.bench_with_input(BenchmarkId::new(name, seconds), sig, |b, s| {
        b.iter(|| fx.extract_into(black_box(s), out.view_mut()).unwrap())
    });
}

fn chroma(c: &mut Criterion) {
    let mut g = c.benchmark_group("chroma_per_clip");
    for seconds in [1.0, 10.0, 30.0] {
        let sig = Signal::new(
            common::machine_like((seconds * 16_000.0) as usize, 5),
            common::SR,
        )
        .unwrap();
        g.throughput(Throughput::Elements(sig.len() as u64));
        bench(
            &mut g,
            "chroma_stft",
            &mut ChromaStftExtractor::new(ChromaStftConfig::default()).unwrap(),
            &sig,
            seconds,
        );
        bench(
            &mut g,
            "chroma_cqt",
            &mut ChromaCqtExtractor::new(ChromaCqtConfig::default()).unwrap(),
            &sig,
            seconds,
        );
        bench(
            &mut g,
            "chroma_cens",
            &mut CensExtractor::new(CensConfig::librosa(16_000)).unwrap(),
            &sig,
            seconds,
        );
        bench(
            &mut g,
            "chroma_cens_seed",
            &mut CensExtractor::new(CensConfig::seed(16_000)).unwrap(),
            &sig,
            seconds,
        );
        let mut tuner = TuningEstimator::new(36, false).unwrap();
        g.bench_with_input(
            BenchmarkId::new("estimate_tuning", seconds),
            &sig,
            |b, s| b.iter(|| tuner.estimate(black_box(s.samples()), 16_000.0).unwrap()),
        );
    }
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = chroma }
criterion_main!(benches);
