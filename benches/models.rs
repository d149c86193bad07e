//! Detector training and scoring.
//!
//! - `ae_train_epoch`: one epoch of the DCASE 2020 baseline autoencoder (640 → 128 x4 → 8,
//!   BatchNorm, batch 512, validation split 0.1) over 20,480 vectors, on the native engine
//!   with one and two threads and on candle (CPU). Throughput is vectors, so the seconds per
//!   epoch of the yardstick (300,000 vectors) are `300000 / throughput`; the full
//!   measurement against Keras is `crates/models/examples/ae_epoch.rs`.
//! - `ae_score_clip`: scoring one 10 s clip (309 vectors of 640) with MSE and selective
//!   Mahalanobis.
//! - `classical`: fitting and scoring kNN, LOF, Isolation Forest, Mahalanobis, GMM and PCA
//!   on 12-dim CENS-like frames (40 clips of 50 frames) and on clip statistics.
#![allow(clippy::expect_used, clippy::unwrap_used)]
use std::hint::black_box;

use aad::core::{Detector, Fit};
use aad::models::classical::{
    GmmConfig, Inputs, IsolationForestConfig, KnnConfig, LofConfig, MahalanobisConfig, PcaConfig,
};
use aad::models::{AeScoring, AutoencoderConfig, Backend, DetectorConfig};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array2, ArrayView2};

mod common;

/// Deterministic pseudo-random clips.
fn clips(n: usize, frames: usize, dims: usize, seed: u64) -> Vec<Array2<f32>> {
    let mut next = common::noise(seed);
    (0..n)
        .map(|_| Array2::from_shape_fn((frames, dims), |(_, j)| next() * (1.0 + j as f32 * 0.1)))
        .collect()
}

fn views(c: &[Array2<f32>]) -> Vec<ArrayView2<'_, f32>> {
    c.iter().map(|m| m.view()).collect()
}

fn ae_train(c: &mut Criterion) {
    let mut g = c.benchmark_group("ae_train_epoch");
    g.sample_size(10);
    let data = clips(20_480 / 320, 320, 640, 1);
    let v = views(&data);
    g.throughput(Throughput::Elements(20_480));
    let mut cases = vec![
        ("native_1thread", Backend::Native, 1),
        ("native_2threads", Backend::Native, 2),
    ];
    if cfg!(feature = "candle") {
        cases.push(("candle_cpu", Backend::Candle, 1));
    }
    for (name, backend, threads) in cases {
        let cfg = AutoencoderConfig::dcase2020()
            .epochs(1)
            .backend(backend)
            .threads(threads);
        g.bench_function(BenchmarkId::new("dcase2020", name), |b| {
            b.iter(|| cfg.fit(black_box(&v), 1).unwrap())
        });
    }
    g.finish();
}

fn ae_score(c: &mut Criterion) {
    let mut g = c.benchmark_group("ae_score_clip");
    let train = clips(16, 309, 640, 2);
    let probe = clips(1, 309, 640, 3).remove(0);
    g.throughput(Throughput::Elements(309));
    for (name, scoring) in [
        ("mse", AeScoring::Mse),
        ("mahalanobis", AeScoring::Mahalanobis { ridge: 1e-3 }),
    ] {
        let ae = AutoencoderConfig::dcase2020()
            .epochs(1)
            .scoring(scoring)
            .fit(&views(&train), 1)
            .unwrap();
        g.bench_function(BenchmarkId::new("dcase2020", name), |b| {
            b.iter(|| ae.score(black_box(probe.view())).unwrap())
        });
    }
    g.finish();
}

fn classical(c: &mut Criterion) {
    let train = clips(40, 50, 12, 4);
    let test = clips(20, 50, 12, 5);
    let (tv, sv) = (views(&train), views(&test));
    let frames = Inputs::frames(None);
    let configs: Vec<(&str, DetectorConfig)> = vec![
        ("knn_stats", DetectorConfig::Knn(KnnConfig::default())),
        (
            "knn_frames",
            DetectorConfig::Knn(KnnConfig::default().inputs(frames)),
        ),
        ("lof_stats", DetectorConfig::Lof(LofConfig::default())),
        (
            "lof_frames",
            DetectorConfig::Lof(LofConfig::default().inputs(frames)),
        ),
        (
            "iforest_stats",
            DetectorConfig::IsolationForest(IsolationForestConfig::default()),
        ),
        (
            "iforest_frames",
            DetectorConfig::IsolationForest(IsolationForestConfig::default().inputs(frames)),
        ),
        (
            "mahalanobis_frames",
            DetectorConfig::Mahalanobis(MahalanobisConfig::default().inputs(frames)),
        ),
        (
            "gmm_frames",
            DetectorConfig::Gmm(GmmConfig::default().inputs(frames)),
        ),
        (
            "pca_frames",
            DetectorConfig::Pca(PcaConfig::default().inputs(frames)),
        ),
    ];
    let mut g = c.benchmark_group("classical_fit_40clips");
    for (name, cfg) in &configs {
        g.bench_function(*name, |b| b.iter(|| cfg.fit(black_box(&tv), 1).unwrap()));
    }
    g.finish();
    let mut g = c.benchmark_group("classical_score_20clips");
    g.throughput(Throughput::Elements(sv.len() as u64));
    for (name, cfg) in &configs {
        let det = cfg.fit(&tv, 1).unwrap();
        g.bench_function(*name, |b| {
            b.iter(|| det.score_batch(black_box(&sv)).unwrap())
        });
    }
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = ae_train, ae_score, classical }
criterion_main!(benches);
