//! Writes the librosa reference feature set of one clip as float32 `.npy` files shaped
//! `[bins, frames]` (an alias of `aad features`).
//!
//! ```text
//! cargo run --release --example extract_features -- [--channel N | --mix] [--timing N] WAV OUTDIR
//! ```
//! With `--timing N` it also computes each feature N times on the decoded signal (one
//! thread) and prints `timing <feature> <median_ms>` per feature.
use clap::Parser;

fn main() -> std::process::ExitCode {
    let a = aad_cli::features::Args::parse();
    aad_cli::finish(aad_cli::features::run(a))
}
