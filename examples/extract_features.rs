//! Writes the librosa reference feature set of one clip as float32 `.npy` files shaped
//! `[bins, frames]`, named and parameterised as `shared/pyref/features.py` does.
//!
//! ```text
//! cargo run --release --example extract_features -- [--channel N | --mix] [--timing N] WAV OUTDIR
//! ```
//! With `--timing N` it also computes each feature N times on the decoded signal (one
//! thread) and prints `timing <feature> <median_ms>` per feature.
use std::path::PathBuf;

use aad::audio::{ChannelPolicy, DecodeOptions, decode_file};
use aad::experiment::{io::write_npy, reference::ReferenceFeatures};
use anyhow::{Context, bail};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

fn run() -> anyhow::Result<()> {
    let (mut channel, mut timing, mut pos) = (ChannelPolicy::First, None, Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mix" => channel = ChannelPolicy::Mean,
            "--channel" => {
                let v = args.next().context("--channel needs a number")?;
                channel =
                    ChannelPolicy::Index(v.parse().with_context(|| format!("--channel {v}"))?);
            }
            "--timing" => {
                let v = args.next().context("--timing needs a count")?;
                timing = Some(
                    v.parse::<usize>()
                        .with_context(|| format!("--timing {v}"))?,
                );
            }
            s if s.starts_with("--") => bail!("unknown option {s}"),
            s => pos.push(PathBuf::from(s)),
        }
    }
    let [wav, out] = pos.as_slice() else {
        bail!("usage: extract_features [--channel N | --mix] [--timing N] WAV OUTDIR");
    };
    let signal = decode_file(wav, &DecodeOptions::default().channel(channel))?;
    let mut features = ReferenceFeatures::new(signal.sample_rate())?;
    for (name, array) in features.compute(&signal)? {
        write_npy(&out.join(format!("{name}.npy")), array.view())?;
    }
    if let Some(n) = timing {
        for (name, ms) in features.time(&signal, n)? {
            println!("timing {name} {ms:.4}");
        }
    }
    Ok(())
}
