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

/// One acceptance rule for both decode paths: on every seeded mutation of a WAV header
/// (one to three flipped bits in the first 44 bytes: RIFF length, chunk sizes, format
/// fields), the fast path and symphonia alone accept the same files with the same
/// samples, and refuse the same files. Before the fast path checked the RIFF length,
/// 288 of these 20,000 disagreed (a RIFF length shorter than the chunks was accepted).
/// Files over 18 channels are left out: symphonia does not read them at all, the fast
/// path does.
#[test]
fn both_decode_paths_accept_and_refuse_the_same_mutated_headers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mutant.wav");
    let x: Vec<f32> = (0..1000).map(|i| (i as f32 / 1000.0) - 0.5).collect();
    aad_audio::write_wav_i16(
        &path,
        &x,
        aad_audio::WavFormat::mono(16_000).with_channels(2),
    )
    .unwrap();
    let original = std::fs::read(&path).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let decode = |bytes: Vec<u8>, symphonia_only: bool| {
        let mut d = Decoder::new(DecodeOptions::default());
        if symphonia_only {
            d = d.symphonia_only();
        }
        d.decode_bytes(&path, bytes).map(|s| s.samples().to_vec())
    };
    let (mut compared, mut accepted) = (0, 0);
    for _ in 0..20_000 {
        let mut bytes = original.clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() % 44) as usize;
            bytes[at] ^= 1 << (next() % 8);
        }
        if u16::from_le_bytes([bytes[22], bytes[23]]) > 18 {
            continue;
        }
        let fast = decode(bytes.clone(), false);
        let slow = decode(bytes.clone(), true);
        match (&fast, &slow) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "header {:02x?}", &bytes[..44]);
                accepted += 1;
            }
            (Err(_), Err(_)) => {}
            _ => panic!(
                "paths disagree on header {:02x?}: fast {:?}, symphonia {:?}",
                &bytes[..44],
                fast.map(|v| v.len()),
                slow.map(|v| v.len())
            ),
        }
        compared += 1;
    }
    assert!(
        compared > 18_000 && accepted > 1_000 && accepted < compared,
        "{compared} compared, {accepted} accepted"
    );
}

/// The RIFF length must cover every chunk up to the end of `data` (or be 0xFFFFFFFF,
/// "unknown", as streaming writers leave it); longer than the file is fine.
#[test]
fn a_riff_length_shorter_than_the_chunks_is_refused_by_the_fast_path_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("riff.wav");
    aad_audio::write_wav_i16(&path, &[0.25; 1000], aad_audio::WavFormat::mono(16_000)).unwrap();
    let original = std::fs::read(&path).unwrap();
    let riff = u32::from_le_bytes(original[4..8].try_into().unwrap());
    for (len, ok) in [
        (0, false),
        (4, false),
        (36, false),
        (riff - 1, false),
        (riff, true),
        (riff + 1000, true),
        (u32::MAX, true),
    ] {
        let mut bytes = original.clone();
        bytes[4..8].copy_from_slice(&len.to_le_bytes());
        let got = Decoder::new(DecodeOptions::default()).decode_bytes(&path, bytes);
        assert_eq!(got.is_ok(), ok, "RIFF length {len}: {got:?}");
        if let Err(e) = got {
            assert!(e.to_string().contains("riff.wav"), "{e}");
        }
    }
}
