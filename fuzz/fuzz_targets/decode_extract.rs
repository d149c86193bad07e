//! Decode, then extract log-Mel (and CENS at 16 kHz): never a panic, never a non-finite
//! feature returned as Ok.
#![no_main]

use aad_audio::{DecodeOptions, Decoder};
use aad_core::FeatureExtractor;
use aad_engine::registry::FeatureSpec;
use libfuzzer_sys::fuzz_target;

#[path = "symphonia_panics.rs"]
mod symphonia_panics;

fuzz_target!(|data: &[u8]| {
    symphonia_panics::caught();
    let mut dec = Decoder::new(DecodeOptions::default());
    let Ok(s) = dec.decode_bytes("f.wav", data.to_vec()) else {
        return;
    };
    if s.len() > 160_000 {
        return; // longer clips add time, not paths
    }
    let mut names = vec!["logmel_mimii"];
    if s.sample_rate() == 16_000 {
        names.push("cens");
    }
    for name in names {
        let Ok(f) = FeatureSpec::parse(name, s.sample_rate()) else {
            continue;
        };
        let Ok(mut fx) = f.extractor() else {
            continue; // a rate outside the supported range
        };
        if let Ok(m) = fx.extract(&s) {
            assert!(
                m.iter().all(|v| v.is_finite()),
                "{name}: non-finite feature"
            );
        }
    }
});
