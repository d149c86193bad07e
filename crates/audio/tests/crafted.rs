//! The crafted inputs of the fuzz seed corpus (`fuzz/corpus/decode_extract`), each with
//! its expected outcome: a typed error of a given kind naming the file, or accepted.
#![allow(clippy::unwrap_used)]

use aad_audio::{AudioError, DecodeOptions, Decoder};

#[test]
fn each_crafted_file_gets_its_expected_outcome() {
    let dir = aad_testutil::workspace_root().join("fuzz/corpus/decode_extract");
    // (file, expected: Ok(samples) or Err(kind))
    let cases: &[(&str, Result<usize, &str>)] = &[
        ("pcm16_mono.wav", Ok(800)),
        ("float32_mono.wav", Ok(800)),
        ("pcm16_stereo_ext.wav", Ok(800)),
        ("pcm8_mono.wav", Ok(800)),
        // The decoder keeps a header's rate; extractors refuse it (see cens/mel tests).
        ("rate_48mhz.wav", Ok(800)),
        ("claims_2gib.wav", Err("truncated")),
        ("huge_float.wav", Err("absurd")),
    ];
    for (name, want) in cases {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).unwrap();
        let got = Decoder::new(DecodeOptions::default()).decode_bytes(&path, bytes);
        match (want, got) {
            (Ok(n), Ok(s)) => assert_eq!(s.len(), *n, "{name}"),
            (Err(kind), Err(e)) => {
                let ok = match *kind {
                    "truncated" => {
                        matches!(
                            e,
                            AudioError::Truncated { .. } | AudioError::Malformed { .. }
                        )
                    }
                    "absurd" => matches!(e, AudioError::AbsurdSample { .. }),
                    _ => false,
                };
                assert!(ok, "{name}: expected {kind}, got {e:?}");
                assert!(e.to_string().contains(name), "{name}: {e}");
            }
            (w, g) => panic!("{name}: expected {w:?}, got {g:?}"),
        }
    }
}
