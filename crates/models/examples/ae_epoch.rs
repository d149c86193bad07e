//! Seconds per epoch of the DCASE 2020 baseline autoencoder, the yardstick of
//! `scripts/bench/keras_dcase_ae.py` (same network, batch 512, validation split 0.1).
//!
//! ```text
//! cargo run --release -p aad-models --example ae_epoch -- [VECTORS] [EPOCHS] [native|candle] [bn|nobn] [THREADS]
//! ```
use std::time::Instant;

use aad_models::{AutoencoderConfig, Backend, EpochReport, TrainObserver};
use ndarray::Array2;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

struct Print;

impl TrainObserver for Print {
    fn on_epoch(&mut self, r: &EpochReport) -> bool {
        println!(
            "epoch {}: {:.2} s, loss {:.4}, val {:.4}",
            r.epoch,
            r.seconds,
            r.train_loss,
            r.val_loss.unwrap_or(f64::NAN)
        );
        true
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(Ok(300_000), |s| s.parse())?;
    let epochs: usize = args.get(2).map_or(Ok(3), |s| s.parse())?;
    let backend = if args.get(3).is_some_and(|s| s == "candle") {
        Backend::Candle
    } else {
        Backend::Native
    };
    let bn = args.get(4).is_none_or(|s| s != "nobn");
    let threads: usize = args.get(5).map_or(Ok(1), |s| s.parse())?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    // One "clip" per 309 vectors, like log-Mel x 5 frames of 10 s clips.
    let clips: Vec<Array2<f32>> = (0..n.div_ceil(309))
        .map(|_| Array2::from_shape_simple_fn((309, 640), || StandardNormal.sample(&mut rng)))
        .collect();
    let views: Vec<_> = clips.iter().map(|c| c.view()).collect();
    let mut cfg = AutoencoderConfig::dcase2020()
        .epochs(epochs)
        .backend(backend)
        .max_train_vectors(Some(n))
        .threads(threads);
    cfg.batch_norm = bn;
    let t = Instant::now();
    let ae = cfg.fit_observed(&views, 1, &mut Print)?;
    let mut secs: Vec<f64> = ae.history().iter().map(|r| r.seconds).collect();
    secs.sort_by(f64::total_cmp);
    println!(
        "{:?} bn {bn} threads {threads}: median {:.2} s/epoch over {n} vectors ({} parameters, total {:.1} s)",
        backend,
        secs[secs.len() / 2],
        ae.n_params(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
