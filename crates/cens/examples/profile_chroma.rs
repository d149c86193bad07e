//! Times one chroma feature on one clip in batches of 50 calls and prints the best
//! batch's mean: a steady loop to run under `perf record`.
//!
//! ```text
//! cargo run --release -p cens-features --example profile_chroma -- WAV [cens|cqt|cqt0|stft|tuning|plan] [N]
//! ```
//! `AAD_DISABLE_AVX2=1` times the portable loops, `AAD_DISABLE_AVX512=1` the AVX2 ones
//! (on an AMD CPU with AVX-512, which runs by default). With `cqt` it also prints the time to
//! plan the extractor (CQT bases for tuning 0, and 0.5 as a check).
use aad_audio::{DecodeOptions, decode_file};
use aad_core::FeatureExtractor;
use cens_features::{
    CensConfig, CensExtractor, ChromaCqtConfig, ChromaCqtExtractor, ChromaStftConfig,
    ChromaStftExtractor, TuningEstimator,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: profile_chroma WAV [cens|cqt|cqt0|stft|tuning|plan] [N]")?;
    let which = args.next().unwrap_or_else(|| "cens".into());
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let sig = decode_file(std::path::Path::new(&path), &DecodeOptions::default())?;
    let sr = sig.sample_rate();
    let mut call: Box<dyn FnMut() -> Result<(), Box<dyn std::error::Error>>> = match which.as_str()
    {
        "cens" => {
            let mut fx = CensExtractor::new(CensConfig::librosa(sr))?;
            Box::new(move || {
                std::hint::black_box(fx.extract(&sig)?);
                Ok(())
            })
        }
        "cqt" => {
            let t = std::time::Instant::now();
            let mut fx = ChromaCqtExtractor::new(ChromaCqtConfig::default())?;
            println!(
                "planning (tuning 0, and 0.5 checked): {:.1} ms",
                t.elapsed().as_secs_f64() * 1e3
            );
            Box::new(move || {
                std::hint::black_box(fx.extract(&sig)?);
                Ok(())
            })
        }
        "cqt0" => {
            // chroma_cqt at a fixed tuning: the CQT and chroma without the estimate.
            let cfg = ChromaCqtConfig::default().tuning(cens_features::Tuning::Fixed(0.0));
            let mut fx = ChromaCqtExtractor::new(cfg)?;
            Box::new(move || {
                std::hint::black_box(fx.extract(&sig)?);
                Ok(())
            })
        }
        "stft" => {
            let mut fx = ChromaStftExtractor::new(ChromaStftConfig::default())?;
            Box::new(move || {
                std::hint::black_box(fx.extract(&sig)?);
                Ok(())
            })
        }
        "tuning" => {
            let mut t = TuningEstimator::new(36, false)?;
            Box::new(move || {
                std::hint::black_box(t.estimate(sig.samples(), f64::from(sr))?);
                Ok(())
            })
        }
        "plan" => {
            // A CQT basis for a new fixed tuning per call (the cache keys on the tuning).
            let mut k = 0u32;
            Box::new(move || {
                k += 1;
                let t = f64::from(k % 1_000_000) * 1e-7 - 0.05;
                let cfg =
                    cens_features::CqtConfig::default().tuning(cens_features::Tuning::Fixed(t));
                std::hint::black_box(cens_features::Cqt::new(cfg)?);
                Ok(())
            })
        }
        other => return Err(format!("unknown feature {other}").into()),
    };
    let t0 = std::time::Instant::now();
    call()?; // plans the bases for this clip's tuning
    let first = t0.elapsed().as_secs_f64() * 1e3;
    let mut best = f64::MAX;
    for _ in 0..(n / 50).max(1) {
        let t = std::time::Instant::now();
        for _ in 0..50 {
            call()?;
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e3 / 50.0);
    }
    println!(
        "{which} {best:.4} ms (best batch of 50; first call, planning included, {first:.1} ms)"
    );
    Ok(())
}
