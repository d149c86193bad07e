//! Decoding 10 s clips: mono and 8-channel (MIMII original) with each channel policy,
//! through the PCM WAV fast path and through symphonia.
#![allow(clippy::expect_used, clippy::unwrap_used)]
use std::hint::black_box;

use aad::audio::{ChannelPolicy, DecodeOptions, Decoder};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

mod common;

fn decode(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mono = common::wav_file(dir.path(), 1, 10.0);
    let multi = common::wav_file(dir.path(), 8, 10.0);
    let mut g = c.benchmark_group("decode_10s");
    for (name, path, policy) in [
        ("mono", &mono, ChannelPolicy::First),
        ("8ch_channel0", &multi, ChannelPolicy::First),
        ("8ch_mean", &multi, ChannelPolicy::Mean),
    ] {
        for (path_name, fast) in [("fast_path", true), ("symphonia", false)] {
            let mut dec = Decoder::new(DecodeOptions::default().channel(policy));
            if !fast {
                dec = dec.symphonia_only();
            }
            g.bench_with_input(BenchmarkId::new(path_name, name), path, |b, p| {
                b.iter(|| {
                    let s = dec.decode(black_box(p)).expect("decode");
                    dec.recycle(black_box(s));
                })
            });
        }
    }
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = decode }
criterion_main!(benches);
