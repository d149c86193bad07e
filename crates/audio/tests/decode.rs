//! Decoding tests: real MIMII/DCASE files (when ../shared is present), committed FLAC/WAV
//! fixtures, every class of bad input, and agreement of the fast path with symphonia.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use aad_audio::{AudioError, ChannelPolicy, DecodeOptions, Decoder, decode_all, decode_file};

fn fixture(name: &str) -> PathBuf {
    aad_testutil::fixtures_dir().join("audio").join(name)
}

fn both_paths(path: &Path, opts: &DecodeOptions) -> (Vec<f32>, Vec<f32>) {
    let fast = Decoder::new(opts.clone()).decode(path).unwrap();
    let slow = Decoder::new(opts.clone())
        .symphonia_only()
        .decode(path)
        .unwrap();
    assert_eq!(fast.sample_rate(), slow.sample_rate());
    (fast.into_samples(), slow.into_samples())
}

#[test]
fn every_manifest_file_decodes_with_its_channels_and_duration() {
    let Some(shared) = aad_testutil::shared_dir("every_manifest_file_decodes") else {
        return;
    };
    let rows = aad_testutil::manifest(&shared);
    assert!(rows.len() > 200, "manifest has {} rows", rows.len());
    for row in &rows {
        let path = shared.join("data").join(&row.file);
        // The last channel exists exactly when the manifest says so.
        let last = ChannelPolicy::Index(row.channels - 1);
        let s = decode_file(&path, &DecodeOptions::default().channel(last)).unwrap();
        assert_eq!(s.sample_rate(), row.sample_rate, "{}", row.file);
        assert!(
            (s.duration_secs() - row.duration_s).abs() < 1e-9,
            "{}",
            row.file
        );
        let over = ChannelPolicy::Index(row.channels);
        match decode_file(&path, &DecodeOptions::default().channel(over)) {
            Err(AudioError::ChannelOutOfRange { channels, .. }) => {
                assert_eq!(channels, row.channels)
            }
            other => panic!("{}: expected ChannelOutOfRange, got {other:?}", row.file),
        }
    }
}

#[test]
fn channel_0_of_each_8_channel_original_equals_its_mono_copy() {
    let Some(shared) = aad_testutil::shared_dir("channel_0_equals_mono_copy") else {
        return;
    };
    let data = shared.join("data");
    let mut compared = 0;
    for row in aad_testutil::manifest(&shared)
        .iter()
        .filter(|r| r.channels == 8)
    {
        let mono_rel = row.file.replacen("multichannel/", "mimii/", 1);
        let multi = decode_file(data.join(&row.file), &DecodeOptions::default()).unwrap();
        let mono = decode_file(data.join(&mono_rel), &DecodeOptions::default()).unwrap();
        assert_eq!(
            multi.samples(),
            mono.samples(),
            "{} vs {mono_rel}",
            row.file
        );
        compared += 1;
    }
    assert_eq!(compared, 4);
}

#[test]
fn fast_path_and_symphonia_agree_on_every_real_file_and_policy() {
    let Some(shared) = aad_testutil::shared_dir("fast_path_and_symphonia_agree") else {
        return;
    };
    for row in aad_testutil::manifest(&shared) {
        let path = shared.join("data").join(&row.file);
        let mut policies = vec![ChannelPolicy::First, ChannelPolicy::Mean];
        if row.channels > 1 {
            policies.push(ChannelPolicy::Index(row.channels - 1));
        }
        for p in policies {
            let (fast, slow) = both_paths(&path, &DecodeOptions::default().channel(p));
            assert_eq!(fast, slow, "{} {p:?}", row.file);
        }
    }
}

#[test]
fn the_8_channel_mean_is_librosas_to_mono() {
    let Some(shared) = aad_testutil::shared_dir("the_8_channel_mean_is_librosas_to_mono") else {
        return;
    };
    let data = shared
        .join("data")
        .join("multichannel/-6dB/fan/id_00/abnormal/00000000.wav");
    let mean = decode_file(
        &data,
        &DecodeOptions::default().channel(ChannelPolicy::Mean),
    )
    .unwrap();
    // Sequential f32 sum over the channels, then / 8, recomputed from the channels.
    let chans: Vec<_> = (0..8)
        .map(|c| {
            decode_file(
                &data,
                &DecodeOptions::default().channel(ChannelPolicy::Index(c)),
            )
            .unwrap()
            .into_samples()
        })
        .collect();
    for i in (0..mean.len()).step_by(997) {
        let mut acc = 0.0f32;
        for ch in &chans {
            acc += ch[i];
        }
        assert_eq!(mean.samples()[i], acc / 8.0, "frame {i}");
    }
}

#[test]
fn wav_samples_are_scaled_exactly_as_librosa_scales_them() {
    let expected = aad_testutil::read_json(&fixture("expected.json"));
    for name in ["stereo16.wav", "mono24.wav"] {
        let e = &expected[name];
        let channels = e["channels"].as_u64().unwrap() as usize;
        for c in 0..channels {
            let s = decode_file(
                fixture(name),
                &DecodeOptions::default().channel(ChannelPolicy::Index(c)),
            )
            .unwrap();
            assert_eq!(s.len() as u64, e["frames"].as_u64().unwrap());
            for (i, v) in e["head"][c].as_array().unwrap().iter().enumerate() {
                assert_eq!(
                    s.samples()[i],
                    v.as_f64().unwrap() as f32,
                    "{name} ch{c} [{i}]"
                );
            }
        }
        let m = decode_file(
            fixture(name),
            &DecodeOptions::default().channel(ChannelPolicy::Mean),
        )
        .unwrap();
        for (i, v) in e["mean_head"].as_array().unwrap().iter().enumerate() {
            assert_eq!(
                m.samples()[i],
                v.as_f64().unwrap() as f32,
                "{name} mean [{i}]"
            );
        }
    }
}

#[test]
fn flac_decodes_to_the_same_samples_as_the_wav() {
    for (flac, wav, channels) in [
        ("stereo16.flac", "stereo16.wav", 2),
        ("mono24.flac", "mono24.wav", 1),
    ] {
        for c in 0..channels {
            let opts = DecodeOptions::default().channel(ChannelPolicy::Index(c));
            let a = decode_file(fixture(flac), &opts).unwrap();
            let b = decode_file(fixture(wav), &opts).unwrap();
            assert_eq!(a, b, "{flac} channel {c}");
            let bytes = std::fs::read(fixture(flac)).unwrap();
            let m = Decoder::new(opts)
                .decode_bytes(fixture(flac), bytes)
                .unwrap();
            assert_eq!(a, m, "{flac} channel {c} from memory");
        }
    }
}

/// Every PCM width and float, mono and 8-channel (hound writes >2 channels and >16 bits as
/// WAVE_FORMAT_EXTENSIBLE), through both paths.
#[test]
fn every_pcm_width_and_float_round_trips_through_both_paths() {
    let dir = tempfile::tempdir().unwrap();
    let frames = 777;
    for channels in [1u16, 2, 8] {
        let interleaved: Vec<f32> = (0..frames * usize::from(channels))
            .map(|i| ((i * 7919) % 2001) as f32 / 1000.0 - 1.0)
            .collect();
        for (bits, float) in [
            (8u16, false),
            (16, false),
            (24, false),
            (32, false),
            (32, true),
        ] {
            let path = dir.path().join(format!("c{channels}_b{bits}_{float}.wav"));
            let spec = hound::WavSpec {
                channels,
                sample_rate: 8000,
                bits_per_sample: bits,
                sample_format: if float {
                    hound::SampleFormat::Float
                } else {
                    hound::SampleFormat::Int
                },
            };
            let mut w = hound::WavWriter::create(&path, spec).unwrap();
            let full = f64::from(1u32 << (bits - 1));
            for &x in &interleaved {
                if float {
                    w.write_sample(x).unwrap();
                } else {
                    let v = (f64::from(x) * full).round().clamp(-full, full - 1.0);
                    w.write_sample(v as i32).unwrap();
                }
            }
            w.finalize().unwrap();
            for policy in [
                ChannelPolicy::First,
                ChannelPolicy::Mean,
                ChannelPolicy::Index(usize::from(channels) - 1),
            ] {
                let (fast, slow) = both_paths(&path, &DecodeOptions::default().channel(policy));
                assert_eq!(fast, slow, "{} {policy:?}", path.display());
                assert_eq!(fast.len(), frames);
                // Quantisation error of the format, at most.
                let c = match policy {
                    ChannelPolicy::Index(c) => c,
                    _ => 0,
                };
                if policy != ChannelPolicy::Mean {
                    let tol = if float { 0.0 } else { 1.01 / full as f32 };
                    for (i, &v) in fast.iter().enumerate().step_by(31) {
                        let want = interleaved[i * usize::from(channels) + c];
                        assert!((v - want).abs() <= tol, "{bits} bits: {v} vs {want}");
                    }
                }
            }
        }
    }
}

fn write_ok_wav(dir: &Path, name: &str, frames: usize, rate: u32) -> PathBuf {
    let path = dir.join(name);
    let x: Vec<f32> = (0..frames).map(|i| (i as f32 * 0.01).sin() * 0.5).collect();
    aad_audio::write_wav_i16(&path, &x, aad_audio::WavFormat::mono(rate)).unwrap();
    path
}

#[test]
fn truncated_files_are_reported_by_both_paths() {
    let dir = tempfile::tempdir().unwrap();
    let ok = write_ok_wav(dir.path(), "ok.wav", 4000, 16_000);
    let bytes = std::fs::read(&ok).unwrap();
    let cut = dir.path().join("cut.wav");
    std::fs::write(&cut, &bytes[..bytes.len() - 1001]).unwrap();
    for dec in [
        Decoder::new(DecodeOptions::default()),
        Decoder::new(DecodeOptions::default()).symphonia_only(),
    ] {
        let mut dec = dec;
        match dec.decode(&cut) {
            Err(AudioError::Truncated {
                expected,
                found,
                path,
            }) => {
                assert_eq!(expected, 4000);
                assert!(found < 4000);
                assert_eq!(path, cut);
            }
            other => panic!("expected Truncated, got {other:?}"),
        }
    }
}

#[test]
fn each_class_of_bad_file_gets_its_typed_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let empty = d.join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let text = d.join("notes.wav");
    std::fs::write(&text, "this is not audio, just text\n".repeat(50)).unwrap();
    let header_only = write_ok_wav(d, "header_only.wav", 0, 16_000);
    let short = write_ok_wav(d, "short.wav", 100, 16_000);
    let rate = write_ok_wav(d, "rate.wav", 20_000, 44_100);
    let nan = d.join("nan.wav");
    let mut x = vec![0.1f32; 20_000];
    x[12_345] = f32::NAN;
    aad_audio::write_wav_f32(&nan, &x, aad_audio::WavFormat::mono(16_000)).unwrap();
    // A WAV with an ADPCM format tag (0x0002): a codec this build does not decode.
    let adpcm = d.join("adpcm.wav");
    let mut b = std::fs::read(write_ok_wav(d, "base.wav", 1000, 16_000)).unwrap();
    b[20] = 0x02;
    std::fs::write(&adpcm, &b).unwrap();
    let missing = d.join("does_not_exist.wav");

    let mimii = DecodeOptions::mimii();
    type Check = fn(&AudioError) -> bool;
    let cases: Vec<(&Path, Check)> = vec![
        (&empty, |e| {
            matches!(
                e,
                AudioError::Unsupported { .. } | AudioError::Malformed { .. }
            )
        }),
        (&text, |e| matches!(e, AudioError::Unsupported { .. })),
        (&header_only, |e| matches!(e, AudioError::Empty { .. })),
        (&short, |e| {
            matches!(
                e,
                AudioError::TooShort {
                    frames: 100,
                    min_frames: 16_000,
                    ..
                }
            )
        }),
        (&rate, |e| {
            matches!(
                e,
                AudioError::SampleRateMismatch {
                    expected: 16_000,
                    found: 44_100,
                    ..
                }
            )
        }),
        (&nan, |e| {
            matches!(e, AudioError::NonFinite { frame: 12_345, .. })
        }),
        (&adpcm, |e| {
            matches!(
                e,
                AudioError::Unsupported { .. } | AudioError::Malformed { .. }
            )
        }),
        (&missing, |e| matches!(e, AudioError::Io { .. })),
    ];
    for (path, check) in &cases {
        for fast in [true, false] {
            let mut dec = Decoder::new(mimii.clone());
            if !fast {
                dec = dec.symphonia_only();
            }
            let err = dec.decode(path).expect_err("bad file decoded");
            assert!(check(&err), "{}: unexpected {err:?}", path.display());
            assert_eq!(err.path(), *path);
            assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
        }
    }
    // A batch reports each bad file and still decodes the good one.
    let good = write_ok_wav(d, "good.wav", 16_000, 16_000);
    let mut list: Vec<&Path> = cases.iter().map(|(p, _)| *p).collect();
    list.insert(3, &good);
    let batch = decode_all(&list, &mimii);
    assert_eq!(batch.decoded.len(), 1);
    assert_eq!(batch.decoded[0].0, good);
    assert_eq!(batch.skipped.len(), cases.len());
}

/// Seeded byte mutations and every truncation length of a small WAV: decoding returns
/// `Ok` or `Err`, never panics, and an `Ok` signal is finite.
#[test]
fn mutated_and_truncated_bytes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read(fixture("stereo16.wav")).unwrap();
    let path = dir.path().join("m.wav");
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..300 {
        let mut b = base.clone();
        if round % 3 == 0 {
            b.truncate((next() as usize) % b.len());
        }
        for _ in 0..(1 + next() % 6) {
            let i = (next() as usize) % b.len().clamp(1, 96);
            if i < b.len() {
                b[i] = next() as u8;
            }
        }
        std::fs::write(&path, &b).unwrap();
        for fast in [true, false] {
            let mut dec = Decoder::new(DecodeOptions::default().channel(ChannelPolicy::Mean));
            if !fast {
                dec = dec.symphonia_only();
            }
            let from_file = dec.decode(&path);
            if let Ok(s) = &from_file {
                assert!(s.samples().iter().all(|x| x.is_finite()));
            }
            // Decoding the same bytes from memory gives the same signal or the same error.
            let from_memory = dec.decode_bytes(&path, b.clone());
            match (&from_file, &from_memory) {
                (Ok(a), Ok(m)) => assert_eq!(a, m, "round {round}"),
                (Err(a), Err(m)) => assert_eq!(a.to_string(), m.to_string(), "round {round}"),
                _ => panic!("round {round}: file {from_file:?} vs memory {from_memory:?}"),
            }
        }
    }
    for len in (0..base.len()).step_by(7) {
        std::fs::write(&path, &base[..len]).unwrap();
        let _ = decode_file(&path, &DecodeOptions::default());
    }
}

#[test]
fn decoders_and_errors_cross_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Decoder>();
    assert_send_sync::<AudioError>();
    assert_send_sync::<DecodeOptions>();
}

#[test]
fn a_float_sample_of_absurd_magnitude_is_rejected_naming_the_file_and_frame() {
    let dir = tempfile::tempdir().unwrap();
    for (name, value, absurd) in [
        ("huge.wav", 1e20f32, true),
        ("max.wav", f32::MAX, true),
        ("loud_but_fine.wav", 30_000.0, false),
    ] {
        let p = dir.path().join(name);
        let mut x = vec![0.25f32; 16_000];
        x[1234] = value;
        aad_audio::write_wav_f32(&p, &x, aad_audio::WavFormat::mono(16_000)).unwrap();
        let r = aad_audio::decode_file(&p, &DecodeOptions::default());
        let s = aad_audio::WavStream::open(&p, aad_audio::ChannelPolicy::First)
            .unwrap()
            .read(20_000, &mut Vec::new());
        if absurd {
            for e in [r.unwrap_err(), s.unwrap_err()] {
                assert!(
                    matches!(e, AudioError::AbsurdSample { frame: 1234, .. }),
                    "{name}: {e}"
                );
                assert!(e.to_string().contains(name));
            }
        } else {
            assert_eq!(r.unwrap().samples()[1234], value);
            assert_eq!(s.unwrap(), 16_000);
        }
    }
}

#[test]
fn formats_no_recorder_makes_are_refused_and_nothing_is_written() {
    // `WavFormat`'s named fields keep channels and rate apart; what a swap used to
    // produce (48,000 channels at 1 Hz) is still refused at run time.
    let dir = tempfile::tempdir().unwrap();
    let x = vec![0.1f32; 48_000];
    for (channels, rate) in [
        (48_000u32, 1u32),
        (16_000, 8),
        (65, 16_000),
        (1, 999),
        (1, 400_000),
    ] {
        let path = dir.path().join(format!("{channels}_{rate}.wav"));
        let ch = u16::try_from(channels).unwrap_or(u16::MAX);
        for r in [
            aad_audio::write_wav_i16(
                &path,
                &x,
                aad_audio::WavFormat::mono(rate).with_channels(ch),
            ),
            aad_audio::write_wav_f32(
                &path,
                &x,
                aad_audio::WavFormat::mono(rate).with_channels(ch),
            ),
        ] {
            let e = r.unwrap_err();
            assert!(
                matches!(e, aad_audio::AudioError::InvalidOptions { .. }),
                "{channels} x {rate}: {e}"
            );
            assert!(e.to_string().contains("channels must be 1 to 64"), "{e}");
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no file left"
        );
    }
    // The edges of the ranges are accepted.
    for (channels, rate) in [(64u16, 1_000u32), (8, 384_000), (1, 16_000)] {
        let path = dir.path().join(format!("ok_{channels}_{rate}.wav"));
        aad_audio::write_wav_i16(
            &path,
            &x[..64 * 10],
            aad_audio::WavFormat::mono(rate).with_channels(channels),
        )
        .unwrap();
        let s = aad_audio::decode_file(&path, &aad_audio::DecodeOptions::default()).unwrap();
        assert_eq!(s.sample_rate(), rate);
    }
}

/// A folder or a FIFO given as audio is refused by name before it is opened: a folder
/// used to reach the format probe ("no suitable format reader"), and opening a FIFO
/// blocks until something writes to it.
#[test]
fn folders_and_fifos_are_refused_before_they_are_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("stream.wav");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo");
    let folder = dir.path().join("clips.wav");
    std::fs::create_dir(&folder).unwrap();
    for (path, want) in [(fifo, "not a regular file"), (folder, "a folder")] {
        let (tx, rx) = std::sync::mpsc::channel();
        let p = path.clone();
        std::thread::spawn(move || {
            let d = aad_audio::decode_file(&p, &DecodeOptions::default()).map(|_| ());
            let s = aad_audio::WavStream::open(&p, aad_audio::ChannelPolicy::First).map(|_| ());
            let _ = tx.send((d, s));
        });
        // Generous: the answer takes microseconds; a blocked open never comes back.
        let (d, s) = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{} blocked", path.display()));
        for e in [d.unwrap_err(), s.unwrap_err()] {
            assert!(
                matches!(e, aad_audio::AudioError::Unsupported { .. }),
                "{e:?}"
            );
            let msg = e.to_string();
            assert!(
                msg.contains(want) && msg.contains(&*path.to_string_lossy()),
                "{msg}"
            );
        }
    }
}

#[test]
fn probe_reads_rate_channels_and_length_of_wav_and_flac_alike() {
    for (name, channels) in [
        ("stereo16.flac", 2),
        ("stereo16.wav", 2),
        ("mono24.flac", 1),
        ("mono24.wav", 1),
    ] {
        let info = aad_audio::probe(fixture(name)).unwrap();
        let decoded = decode_file(fixture(name), &DecodeOptions::default()).unwrap();
        assert_eq!(info.sample_rate, decoded.sample_rate(), "{name}");
        assert_eq!(info.channels, channels, "{name}");
        assert_eq!(info.frames, Some(decoded.len() as u64), "{name}");
    }
}

#[test]
fn empty_and_non_audio_files_are_named_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.path().join("notes.wav");
    std::fs::write(&text, b"hello, this is not a recording\n").unwrap();
    for (path, words) in [
        (&empty, "an empty file (0 bytes)"),
        (&text, "not a WAV or FLAC file"),
    ] {
        for e in [
            aad_audio::probe(path).unwrap_err(),
            decode_file(path, &DecodeOptions::default()).unwrap_err(),
        ] {
            let msg = e.to_string();
            assert!(
                msg.contains(words) && msg.contains(&*path.to_string_lossy()),
                "{msg}"
            );
            assert!(
                !msg.contains("probe") && !msg.contains("format reader"),
                "{msg}"
            );
        }
    }
}

/// symphonia-format-riff 0.6.1 multiplies the channel count by the bytes per sample in
/// 16 bits (`chunks.rs`): with debug assertions a header declaring 65,535 channels of 32
/// bits panicked there. The header check refuses it first, with a reason.
#[test]
fn a_wav_header_whose_frame_overflows_is_refused_before_the_decoder_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.wav");
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&44u32.to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&u16::MAX.to_le_bytes()); // channels
    b.extend_from_slice(&16_000u32.to_le_bytes());
    b.extend_from_slice(&(16_000u32 * 4).to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes()); // block align, inconsistent on purpose
    b.extend_from_slice(&32u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&8u32.to_le_bytes());
    b.extend_from_slice(&[0u8; 8]);
    std::fs::write(&path, &b).unwrap();
    for e in [
        aad_audio::probe(&path).unwrap_err(),
        decode_file(&path, &DecodeOptions::default()).unwrap_err(),
        Decoder::new(DecodeOptions::default())
            .decode_bytes(&path, b.clone())
            .unwrap_err(),
    ] {
        assert!(matches!(e, AudioError::Malformed { .. }), "{e}");
        assert!(e.to_string().contains("65535 channels of 32 bits"), "{e}");
    }
}

/// symphonia-format-riff 0.6.1 completes a WAVE_FORMAT_EXTENSIBLE channel mask that has
/// fewer bits than channels by shifting ones above its top bit: with the top bit set the
/// shift passed 32 (a panic with debug assertions, found by the `decode` fuzz target).
/// symphonia's probe finds a `RIFF` marker anywhere in the first MiB, so the header sits
/// behind some leading bytes here, as in the fuzzer's input.
#[test]
fn a_channel_mask_symphonia_cannot_complete_is_refused_wherever_the_header_starts() {
    let mut b = b"junk before the header ".to_vec();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&68u32.to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&40u32.to_le_bytes());
    b.extend_from_slice(&0xFFFEu16.to_le_bytes());
    b.extend_from_slice(&3u16.to_le_bytes()); // channels
    b.extend_from_slice(&16_000u32.to_le_bytes());
    b.extend_from_slice(&(16_000u32 * 6).to_le_bytes());
    b.extend_from_slice(&6u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(&22u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(&0x8000_0000u32.to_le_bytes()); // one bit, the top one
    b.extend_from_slice(&[
        1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71,
    ]);
    b.extend_from_slice(b"data");
    b.extend_from_slice(&12u32.to_le_bytes());
    b.extend_from_slice(&[0u8; 12]);
    let e = Decoder::new(DecodeOptions::default())
        .decode_bytes("masked.wav", b)
        .unwrap_err();
    assert!(matches!(e, AudioError::Malformed { .. }), "{e}");
    assert!(e.to_string().contains("channel mask 0x80000000"), "{e}");
}

/// symphonia reads every `fmt ` chunk before `data`, not only the first: a second one
/// declaring 32,768 channels of 16 bits overflowed its frame-size multiply (found by the
/// `decode` fuzz target with debug assertions).
#[test]
fn a_second_fmt_chunk_is_checked_as_the_first() {
    let fmt = |channels: u16| {
        let mut f = b"fmt ".to_vec();
        f.extend_from_slice(&16u32.to_le_bytes());
        f.extend_from_slice(&1u16.to_le_bytes());
        f.extend_from_slice(&channels.to_le_bytes());
        f.extend_from_slice(&16_000u32.to_le_bytes());
        f.extend_from_slice(&32_000u32.to_le_bytes());
        f.extend_from_slice(&2u16.to_le_bytes()); // block align, inconsistent on purpose
        f.extend_from_slice(&16u16.to_le_bytes());
        f
    };
    let mut body = b"WAVE".to_vec();
    body.extend(fmt(1));
    body.extend(fmt(32_768));
    body.extend_from_slice(b"data");
    body.extend_from_slice(&8u32.to_le_bytes());
    body.extend_from_slice(&[0u8; 8]);
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&(body.len() as u32).to_le_bytes());
    b.extend(body);
    let e = Decoder::new(DecodeOptions::default())
        .decode_bytes("two_fmt.wav", b)
        .unwrap_err();
    assert!(matches!(e, AudioError::Malformed { .. }), "{e}");
    assert!(e.to_string().contains("32768 channels of 16 bits"), "{e}");
}
