//! Decoding arbitrary bytes from memory never panics, and never allocates beyond what the
//! input can hold (run with `-rss_limit_mb` to check the latter).
#![no_main]

use aad_audio::{ChannelPolicy, DecodeOptions, Decoder};
use libfuzzer_sys::fuzz_target;

#[path = "symphonia_panics.rs"]
mod symphonia_panics;

fuzz_target!(|data: &[u8]| {
    symphonia_panics::caught();
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    // The first byte picks the format hint and the channel policy.
    let name = if mode & 1 == 0 { "f.wav" } else { "f.flac" };
    let channel = match (mode >> 1) & 3 {
        0 => ChannelPolicy::First,
        1 => ChannelPolicy::Mean,
        2 => ChannelPolicy::Index(1),
        _ => ChannelPolicy::Index(7),
    };
    let mut dec = Decoder::new(DecodeOptions::default().channel(channel));
    if let Ok(s) = dec.decode_bytes(name, bytes.to_vec()) {
        assert!(s.samples().iter().all(|x| x.is_finite()));
    }
});
