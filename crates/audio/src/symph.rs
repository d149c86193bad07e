//! The general decoding path over symphonia: any WAV or FLAC symphonia understands.

use std::fs::File;
use std::io::Seek;
use std::path::Path;

use symphonia::core::audio::GenericAudioBufferRef;
use symphonia::core::audio::sample::Sample;
use symphonia::core::audio::{Audio, conv::FromSample};
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

use crate::{AudioError, ChannelPolicy, Raw};

fn sym_err(path: &Path, e: SymError) -> AudioError {
    let path = path.to_path_buf();
    match e {
        SymError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::Malformed {
                path,
                // The io error's own text is "unexpected end of file" too: say it once.
                reason: match e.to_string().as_str() {
                    "unexpected end of file" => "unexpected end of file".to_string(),
                    other => format!("unexpected end of file ({other})"),
                },
            }
        }
        SymError::IoError(source) => AudioError::Io { path, source },
        // symphonia says "core (probe): no suitable format reader found".
        SymError::Unsupported(what) if what.contains("no suitable format reader") => {
            AudioError::Unsupported {
                path,
                reason: "not a WAV or FLAC file".into(),
            }
        }
        SymError::Unsupported(what) => AudioError::Unsupported {
            path,
            reason: what.to_string(),
        },
        SymError::DecodeError(what) | SymError::LimitError(what) => AudioError::Malformed {
            path,
            reason: what.to_string(),
        },
        other => AudioError::Malformed {
            path,
            reason: other.to_string(),
        },
    }
}

/// Adds the selected channel (or the sum over channels) of one decoded block to `out`.
fn take_planes<S: Sample>(buf: &impl Audio<S>, policy: ChannelPolicy, out: &mut Vec<f32>)
where
    f32: FromSample<S>,
{
    match policy {
        ChannelPolicy::Index(c) => {
            if let Some(p) = buf.plane(c) {
                out.extend(p.iter().map(|&s| f32::from_sample(s)));
            }
        }
        ChannelPolicy::First => {
            if let Some(p) = buf.plane(0) {
                out.extend(p.iter().map(|&s| f32::from_sample(s)));
            }
        }
        ChannelPolicy::Mean => {
            let start = out.len();
            out.resize(start + buf.frames(), 0.0);
            let dst = &mut out[start..];
            // Channel order, f32 accumulation: what numpy's mean over axis 0 does.
            for c in 0..buf.num_planes() {
                if let Some(p) = buf.plane(c) {
                    for (d, &s) in dst.iter_mut().zip(p) {
                        *d += f32::from_sample(s);
                    }
                }
            }
        }
    }
}

fn take(buf: GenericAudioBufferRef<'_>, policy: ChannelPolicy, out: &mut Vec<f32>) {
    match buf {
        GenericAudioBufferRef::U8(b) => take_planes(b, policy, out),
        GenericAudioBufferRef::U16(b) => take_planes(b, policy, out),
        GenericAudioBufferRef::U24(b) => take_planes(b, policy, out),
        GenericAudioBufferRef::U32(b) => take_planes(b, policy, out),
        GenericAudioBufferRef::S8(b) => take_planes(b, policy, out),
        GenericAudioBufferRef::S16(b) => take_planes(b, policy, out),
        GenericAudioBufferRef::S24(b) => take_planes(b, policy, out),
        GenericAudioBufferRef::S32(b) => take_planes(b, policy, out),
        GenericAudioBufferRef::F32(b) => take_planes(b, policy, out),
        GenericAudioBufferRef::F64(b) => take_planes(b, policy, out),
    }
}

/// Decodes `path` with symphonia. The mean is left as a sum (divided by the caller).
pub(crate) fn decode(
    path: &Path,
    policy: ChannelPolicy,
    out: &mut Vec<f32>,
) -> Result<Raw, AudioError> {
    let file = File::open(path).map_err(|source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_from(path, Box::new(file), policy, out)
}

/// [`decode`] over any media source (`path` names it in errors and gives the format hint).
pub(crate) fn decode_from(
    path: &Path,
    source: Box<dyn MediaSource>,
    policy: ChannelPolicy,
    out: &mut Vec<f32>,
) -> Result<Raw, AudioError> {
    let byte_len = source.byte_len();
    let Opened {
        mut format,
        track_id,
        expected_frames,
        params,
        sample_rate,
        channels,
    } = open(path, source, policy)?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| sym_err(path, e))?;

    out.clear();
    // The header's frame count is a claim; the input's length bounds what it can hold
    // (a frame takes at least one byte per channel), so a 44-byte file never reserves a
    // gigabyte (issue 13). The vector still grows if a compressed stream holds more.
    if let (Some(n), Some(len)) = (expected_frames, byte_len) {
        let can_hold = len / channels as u64;
        out.reserve(usize::try_from(n.min(can_hold)).unwrap_or(0));
    }
    read_packets(
        path,
        &mut *format,
        &mut *decoder,
        (track_id, expected_frames),
        policy,
        out,
    )?;
    let found = out.len() as u64;
    if let Some(expected) = expected_frames
        && found < expected
    {
        return Err(AudioError::Truncated {
            path: path.to_path_buf(),
            expected,
            found,
        });
    }
    Ok(Raw {
        sample_rate,
        channels,
        integer: false,
    })
}

/// What the header of any file symphonia understands announces (WAV variants the fast
/// path leaves to it, FLAC).
pub(crate) fn probe(path: &Path) -> Result<crate::AudioInfo, AudioError> {
    let file = File::open(path).map_err(|source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let o = open(path, Box::new(file), ChannelPolicy::First)?;
    Ok(crate::AudioInfo {
        sample_rate: o.sample_rate,
        channels: o.channels,
        frames: o.expected_frames,
    })
}

/// A probed stream: its format reader, the audio track and what its header claims.
struct Opened {
    format: Box<dyn FormatReader>,
    track_id: u32,
    expected_frames: Option<u64>,
    params: AudioCodecParameters,
    sample_rate: u32,
    channels: usize,
}

/// Probes `source` and checks its audio track's header against `policy`.
fn open(
    path: &Path,
    source: Box<dyn MediaSource>,
    policy: ChannelPolicy,
) -> Result<Opened, AudioError> {
    let mut source = source;
    crate::wav::check_riff_fields(path, &mut source)?;
    source
        .seek(std::io::SeekFrom::Start(0))
        .map_err(|e| sym_err(path, SymError::IoError(e)))?;
    let mss = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| sym_err(path, e))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| AudioError::Unsupported {
            path: path.to_path_buf(),
            reason: "no audio track".into(),
        })?;
    let track_id = track.id;
    let expected_frames = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| AudioError::Unsupported {
            path: path.to_path_buf(),
            reason: "track has no audio codec parameters".into(),
        })?
        .clone();
    let sample_rate = params.sample_rate.ok_or_else(|| AudioError::Malformed {
        path: path.to_path_buf(),
        reason: "no sample rate in header".into(),
    })?;
    let channels = params.channels.as_ref().map(|c| c.count()).unwrap_or(0);
    if channels == 0 {
        return Err(AudioError::Malformed {
            path: path.to_path_buf(),
            reason: "header declares zero channels".into(),
        });
    }
    if let ChannelPolicy::Index(c) = policy
        && c >= channels
    {
        return Err(AudioError::ChannelOutOfRange {
            path: path.to_path_buf(),
            channel: c,
            channels,
        });
    }
    Ok(Opened {
        format,
        track_id,
        expected_frames,
        params,
        sample_rate,
        channels,
    })
}

/// Decodes every packet of the track into `out`; a stream that ends early is
/// [`AudioError::Truncated`] when the header said how long it is.
fn read_packets(
    path: &Path,
    format: &mut dyn FormatReader,
    decoder: &mut dyn AudioDecoder,
    (track_id, expected_frames): (u32, Option<u64>),
    policy: ChannelPolicy,
    out: &mut Vec<f32>,
) -> Result<(), AudioError> {
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(match expected_frames {
                    Some(expected) => AudioError::Truncated {
                        path: path.to_path_buf(),
                        expected,
                        found: out.len() as u64,
                    },
                    None => sym_err(path, SymError::IoError(e)),
                });
            }
            Err(e) => return Err(sym_err(path, e)),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = decoder.decode(&packet).map_err(|e| sym_err(path, e))?;
        take(buf, policy, out);
    }
    Ok(())
}
