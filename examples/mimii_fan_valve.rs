//! The MIMII fan/valve experiment (an alias of `aad experiment`): log-Mel vs CENS (and
//! friends) under autoencoders and classical detectors, per SNR, machine type and machine
//! id, from audio to `results.csv`, `summary.md`, `results.json` and `figures/`.
//!
//! ```text
//! cargo run --release --example mimii_fan_valve -- [--data DIR] [--out DIR]
//!     [--machines fan,valve] [--snr all|-6dB,0dB,...] [--features logmel,cens,...|all]
//!     [--models ae,lof,...|all] [--seeds 1,2,3] [--epochs N] [--channel 0|mean] [--jobs N]
//! ```
//! Without `--data` it generates the built-in synthetic machine sounds and runs on them.
use clap::Parser;

fn main() -> std::process::ExitCode {
    let a = aad_cli::experiment::Args::parse();
    aad_cli::finish(aad_cli::experiment::run(a))
}
