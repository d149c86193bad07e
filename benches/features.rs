//! Feature extraction: STFT power and log-Mel per clip (sweeping clip length, n_fft and
//! n_mels), and extraction over many files on one vs two threads.
#![allow(clippy::expect_used, clippy::unwrap_used)]
use std::hint::black_box;

use aad::core::{FeatureExtractor, Signal};
use aad::dsp::{Stft, StftConfig};
use aad::mel::{LogScale, MelConfig, MelExtractor};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

mod common;

fn clip(seconds: f64) -> Signal {
    Signal::new(
        common::machine_like((seconds * 16_000.0) as usize, 3),
        common::SR,
    )
    .unwrap()
}

fn stft_power(c: &mut Criterion) {
    let mut g = c.benchmark_group("stft_power");
    for n_fft in [512usize, 1024, 2048] {
        let sig = clip(10.0);
        let mut stft = Stft::<f32>::new(StftConfig::new(n_fft, 512)).unwrap();
        let mut out = ndarray::Array2::zeros((stft.num_frames(sig.len()), stft.n_bins()));
        g.bench_with_input(BenchmarkId::new("n_fft_10s", n_fft), &sig, |b, s| {
            b.iter(|| {
                stft.power_into(black_box(s.samples()), out.view_mut())
                    .unwrap()
            })
        });
    }
    g.finish();
}

fn logmel(c: &mut Criterion) {
    let mut g = c.benchmark_group("logmel");
    for seconds in [1.0, 10.0, 60.0] {
        let sig = clip(seconds);
        let mut fx = MelExtractor::new(MelConfig::dcase2020().context(1)).unwrap();
        let mut out = ndarray::Array2::zeros((fx.num_frames(sig.len()), fx.dims()));
        g.throughput(Throughput::Elements(sig.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("dcase2020_clip_seconds", seconds),
            &sig,
            |b, s| b.iter(|| fx.extract_into(black_box(s), out.view_mut()).unwrap()),
        );
    }
    g.throughput(Throughput::Elements(160_000));
    let sig = clip(10.0);
    for (n_fft, n_mels) in [
        (1024usize, 64usize),
        (1024, 128),
        (2048, 64),
        (2048, 128),
        (2048, 256),
    ] {
        let cfg = MelConfig::dcase2020()
            .context(1)
            .n_mels(n_mels)
            .stft(StftConfig::new(n_fft, 512));
        let mut fx = MelExtractor::new(cfg).unwrap();
        let mut out = ndarray::Array2::zeros((fx.num_frames(sig.len()), fx.dims()));
        g.bench_with_input(
            BenchmarkId::new("n_fft_n_mels_10s", format!("{n_fft}_{n_mels}")),
            &sig,
            |b, s| b.iter(|| fx.extract_into(black_box(s), out.view_mut()).unwrap()),
        );
    }
    let mut db =
        MelExtractor::new(MelConfig::dcase2020().context(1).log(LogScale::POWER_TO_DB)).unwrap();
    let mut out = ndarray::Array2::zeros((db.num_frames(sig.len()), db.dims()));
    g.bench_function("power_to_db_10s", |b| {
        b.iter(|| db.extract_into(black_box(&sig), out.view_mut()).unwrap())
    });
    let mut stacked = MelExtractor::new(MelConfig::dcase2020()).unwrap();
    let mut out = ndarray::Array2::zeros((stacked.num_frames(sig.len()), stacked.dims()));
    g.bench_function("dcase2020_stacked_640_10s", |b| {
        b.iter(|| {
            stacked
                .extract_into(black_box(&sig), out.view_mut())
                .unwrap()
        })
    });
    g.finish();
}

fn extract_files(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<_> = (0..32)
        .map(|i| {
            let p = dir.path().join(format!("{i:03}.wav"));
            aad::audio::write_wav_i16(
                &p,
                &common::machine_like(160_000, i),
                aad::audio::WavFormat::mono(common::SR),
            )
            .unwrap();
            p
        })
        .collect();
    let fx = MelExtractor::new(MelConfig::dcase2020()).unwrap();
    let opts = aad::audio::DecodeOptions::default();
    let mut g = c.benchmark_group("extract_files_32x10s_logmel");
    g.throughput(Throughput::Elements(paths.len() as u64));
    for threads in [1usize, 2] {
        let pool = aad::experiment::batch::pool(threads).unwrap();
        g.bench_with_input(BenchmarkId::new("threads", threads), &paths, |b, p| {
            b.iter(|| black_box(aad::experiment::batch::extract_files(&pool, p, &opts, &fx)))
        });
    }
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = stft_power, logmel, extract_files }
criterion_main!(benches);
