//! Audio decoding for machine-sound datasets.
//!
//! Decodes WAV (PCM 8/16/24/32-bit integer and 32/64-bit float, including
//! `WAVE_FORMAT_EXTENSIBLE` multi-channel files such as the 8-channel MIMII originals)
//! and FLAC into a checked mono [`Signal`], with samples scaled as librosa scales them
//! (`int16 / 32768`, `int24 / 2^23`, `int32 / 2^31`, `(uint8 - 128) / 128`).
//!
//! - One channel or the mean of all channels ([`ChannelPolicy`]).
//! - A sample-rate expectation that is not met is an error naming the file and both rates:
//!   nothing is silently resampled.
//! - Every failure is an [`AudioError`] that names the file; [`decode_all`] reports bad
//!   files and carries on.
//!
//! # Example
//!
//! ```
//! use aad_audio::{ChannelPolicy, DecodeOptions, decode_file, write_wav_i16};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("two_channels.wav");
//! // Interleaved stereo: channel 0 is a ramp, channel 1 is silence.
//! let frames: Vec<f32> = (0..1600).flat_map(|i| [i as f32 / 4000.0, 0.0]).collect();
//! write_wav_i16(&path, &frames, aad_audio::WavFormat::mono(16_000).with_channels(2))?;
//!
//! let ch0 = decode_file(&path, &DecodeOptions::default())?;
//! assert_eq!((ch0.len(), ch0.sample_rate()), (1600, 16_000));
//! let mean = decode_file(&path, &DecodeOptions::default().channel(ChannelPolicy::Mean))?;
//! assert!((mean.samples()[1000] - ch0.samples()[1000] / 2.0).abs() < 1e-6);
//!
//! let wrong_rate = DecodeOptions::default().expected_sample_rate(Some(44_100));
//! let err = decode_file(&path, &wrong_rate).unwrap_err();
//! assert!(err.to_string().contains("16000 Hz but 44100 Hz"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod options;
mod symph;
mod wav;
mod write;

use std::path::{Path, PathBuf};

pub use aad_core::Signal;
pub use error::AudioError;
pub use options::{ChannelPolicy, DecodeOptions, ParseChannelError};
pub use wav::WavStream;
pub use write::{MAX_WRITE_CHANNELS, WavFormat, write_wav_f32, write_wav_i16};

/// What a decoding path found besides the samples.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Raw {
    pub(crate) sample_rate: u32,
    pub(crate) channels: usize,
    /// Integer PCM cannot hold NaN or infinity: the finiteness scan is skipped.
    pub(crate) integer: bool,
}

/// A reusable decoder: keeps its sample buffer between files.
///
/// ```no_run
/// let mut dec = aad_audio::Decoder::new(aad_audio::DecodeOptions::mimii());
/// let signal = dec.decode("fan/id_00/normal/00000000.wav")?;
/// # Ok::<(), aad_audio::AudioError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    options: DecodeOptions,
    buf: Vec<f32>,
    scratch: Vec<u8>,
    fast_path: bool,
}

impl Decoder {
    /// A decoder with the given options.
    pub fn new(options: DecodeOptions) -> Self {
        Decoder {
            options,
            buf: Vec::new(),
            scratch: Vec::new(),
            fast_path: true,
        }
    }

    /// Turns the PCM WAV fast path off, so every file goes through symphonia
    /// (for cross-checks; the results are identical).
    pub fn symphonia_only(mut self) -> Self {
        self.fast_path = false;
        self
    }

    /// The options.
    pub fn options(&self) -> &DecodeOptions {
        &self.options
    }

    /// Hands a signal's buffer back for reuse by the next [`decode`](Self::decode), which
    /// then allocates nothing for clips of the same length or shorter.
    pub fn recycle(&mut self, signal: Signal) {
        let buf = signal.into_samples();
        if buf.capacity() > self.buf.capacity() {
            self.buf = buf;
        }
    }

    /// Decodes one file into a mono [`Signal`].
    ///
    /// # Errors
    /// Any [`AudioError`]; each names `path`.
    pub fn decode(&mut self, path: impl AsRef<Path>) -> Result<Signal, AudioError> {
        self.decode_source(path.as_ref(), None)
    }

    /// Decodes a file already read into memory (`path` names it in errors and its
    /// extension hints the format). For callers that read the bytes anyway, e.g. to hash
    /// them: a second read of a large dataset would double its disk traffic.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("a.wav");
    /// aad_audio::write_wav_i16(&path, &[0.0, 0.25, -0.5, 0.125], aad_audio::WavFormat::mono(16_000))?;
    /// let bytes = std::fs::read(&path)?;
    /// let mut dec = aad_audio::Decoder::new(aad_audio::DecodeOptions::default());
    /// let from_memory = dec.decode_bytes(&path, bytes)?;
    /// assert_eq!(from_memory, dec.decode(&path)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Any [`AudioError`]; each names `path`.
    pub fn decode_bytes(
        &mut self,
        path: impl AsRef<Path>,
        bytes: Vec<u8>,
    ) -> Result<Signal, AudioError> {
        self.decode_source(path.as_ref(), Some(bytes))
    }

    fn decode_source(&mut self, path: &Path, bytes: Option<Vec<u8>>) -> Result<Signal, AudioError> {
        let opts = &self.options;
        if !(opts.min_duration_s.is_finite() && opts.min_duration_s >= 0.0) {
            return Err(AudioError::InvalidOptions {
                path: path.to_path_buf(),
                reason: format!("min_duration_s must be >= 0, got {}", opts.min_duration_s),
            });
        }
        match &bytes {
            None => check_regular_file(path)?,
            Some(b) if b.is_empty() => {
                return Err(AudioError::Unsupported {
                    path: path.to_path_buf(),
                    reason: "an empty file (0 bytes)".into(),
                });
            }
            Some(_) => {}
        }
        let mut buf = std::mem::take(&mut self.buf);
        let fast = match (&bytes, self.fast_path) {
            (_, false) => None,
            (None, true) => wav::decode(path, opts.channel, &mut self.scratch, &mut buf)?,
            (Some(b), true) => wav::decode_from(
                path,
                std::io::Cursor::new(b.as_slice()),
                b.len() as u64,
                opts.channel,
                &mut self.scratch,
                &mut buf,
            )?,
        };
        let raw = match fast {
            Some(raw) => raw,
            None => {
                // symphonia 0.6 panics on some malformed RIFF headers; bad input must
                // give an error, never take the caller down.
                let run = || match bytes {
                    None => symph::decode(path, opts.channel, &mut buf),
                    Some(b) => symph::decode_from(
                        path,
                        Box::new(std::io::Cursor::new(b)),
                        opts.channel,
                        &mut buf,
                    ),
                };
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                    Ok(result) => result?,
                    Err(_) => {
                        return Err(AudioError::Malformed {
                            path: path.to_path_buf(),
                            reason: "the decoder rejected the file (symphonia panicked)".into(),
                        });
                    }
                }
            }
        };
        let checked = finish(path, opts, raw, &mut buf);
        match checked {
            Ok(()) => {
                let signal =
                    Signal::new(buf, raw.sample_rate).map_err(|e| AudioError::Malformed {
                        path: path.to_path_buf(),
                        reason: e.to_string(),
                    })?;
                Ok(signal)
            }
            Err(e) => {
                self.buf = buf;
                Err(e)
            }
        }
    }
}

/// What an audio file's header announces, read without decoding its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioInfo {
    /// Samples per second.
    pub sample_rate: u32,
    /// Channels.
    pub channels: usize,
    /// Frames the header announces (`None` when it does not say, e.g. a WAV written by a
    /// streaming recorder). A claim: decoding checks it against what the file holds.
    pub frames: Option<u64>,
}

/// Reads the header of a WAV or FLAC file: its rate, channels and announced length,
/// without decoding its samples. The same checks as decoding guard it: a header with
/// impossible fields (zero channels or rate, a frame wider than WAV allows) is an error,
/// never a panic.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("tone.wav");
/// aad_audio::write_wav_i16(&path, &[0.0; 4_800], aad_audio::WavFormat::mono(48_000))?;
/// let info = aad_audio::probe(&path)?;
/// assert_eq!((info.sample_rate, info.channels, info.frames), (48_000, 1, Some(4_800)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`AudioError`], naming the file: not a regular file, unreadable, empty, not audio, or a
/// header with impossible fields.
pub fn probe(path: impl AsRef<Path>) -> Result<AudioInfo, AudioError> {
    let path = path.as_ref();
    check_regular_file(path)?;
    let mut file = std::fs::File::open(path).map_err(|source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let len = file
        .metadata()
        .map_err(|source| AudioError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if let Some(info) = wav::probe(path, &mut file, len)? {
        return Ok(info);
    }
    // symphonia 0.6 panics on some malformed headers (see `Decoder::decode`).
    std::panic::catch_unwind(|| symph::probe(path)).unwrap_or_else(|_| {
        Err(AudioError::Malformed {
            path: path.to_path_buf(),
            reason: "the decoder rejected the header".into(),
        })
    })
}

/// Refuses what is not a regular file before opening it: opening a FIFO blocks until
/// something writes to it, and a folder would reach the format probe and be reported
/// as "no suitable format reader".
pub(crate) fn check_regular_file(path: &Path) -> Result<(), AudioError> {
    let meta = std::fs::metadata(path).map_err(|source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let reason = if meta.is_dir() {
        "a folder, not an audio file"
    } else if !meta.is_file() {
        "not a regular file (a FIFO, socket or device); copy it to a file first"
    } else if meta.len() == 0 {
        "an empty file (0 bytes)"
    } else {
        return Ok(());
    };
    Err(AudioError::Unsupported {
        path: path.to_path_buf(),
        reason: reason.into(),
    })
}

/// Shared checks after decoding: rate, emptiness, length, mean, finiteness.
fn finish(path: &Path, opts: &DecodeOptions, raw: Raw, buf: &mut [f32]) -> Result<(), AudioError> {
    if let Some(expected) = opts.expected_sample_rate
        && expected != raw.sample_rate
    {
        return Err(AudioError::SampleRateMismatch {
            path: path.to_path_buf(),
            expected,
            found: raw.sample_rate,
        });
    }
    if raw.sample_rate == 0 {
        return Err(AudioError::Malformed {
            path: path.to_path_buf(),
            reason: "sample rate 0 in header".into(),
        });
    }
    if buf.is_empty() {
        return Err(AudioError::Empty {
            path: path.to_path_buf(),
        });
    }
    let min_frames = (opts.min_duration_s * f64::from(raw.sample_rate)).ceil() as usize;
    if buf.len() < min_frames {
        return Err(AudioError::TooShort {
            path: path.to_path_buf(),
            frames: buf.len(),
            seconds: buf.len() as f64 / f64::from(raw.sample_rate),
            min_frames,
        });
    }
    if opts.channel == ChannelPolicy::Mean && raw.channels > 1 {
        let n = raw.channels as f32;
        buf.iter_mut().for_each(|x| *x /= n);
    }
    if !raw.integer {
        check_float_samples(path, buf, 0)?;
    }
    Ok(())
}

/// The largest sample magnitude a float file may hold. Integer PCM decodes to [-1, 1];
/// float WAV is nominally in [-1, 1] too, and some tools write integer-scaled floats (up to
/// 32768). 10^6 leaves room for both while keeping every spectrum of a 10 s clip far from
/// f32 overflow (a 2048-point frame's power stays below 10^19); beyond it a sample is a
/// corrupt value (a flipped exponent bit turns 0.5 into 10^20), not sound.
pub const MAX_SAMPLE_MAGNITUDE: f32 = 1e6;

/// Rejects a non-finite or absurd float sample; `offset` is the frame index of `buf[0]`
/// in the file.
pub(crate) fn check_float_samples(
    path: &Path,
    buf: &[f32],
    offset: usize,
) -> Result<(), AudioError> {
    match buf
        .iter()
        .position(|x| !x.is_finite() || x.abs() > MAX_SAMPLE_MAGNITUDE)
    {
        None => Ok(()),
        Some(i) if !buf[i].is_finite() => Err(AudioError::NonFinite {
            path: path.to_path_buf(),
            frame: offset + i,
            value: buf[i],
        }),
        Some(i) => Err(AudioError::AbsurdSample {
            path: path.to_path_buf(),
            frame: offset + i,
            value: buf[i],
            limit: MAX_SAMPLE_MAGNITUDE,
        }),
    }
}

/// Decodes one file with `options` (see [`Decoder`] to reuse buffers across files).
///
/// # Errors
/// Any [`AudioError`]; each names `path`.
pub fn decode_file(path: impl AsRef<Path>, options: &DecodeOptions) -> Result<Signal, AudioError> {
    Decoder::new(options.clone()).decode(path)
}

/// Result of decoding a list of files: what decoded, and what was skipped and why.
#[derive(Debug, Default)]
pub struct BatchDecode {
    /// Decoded files, in input order.
    pub decoded: Vec<(PathBuf, Signal)>,
    /// Files that failed, in input order, each with its error.
    pub skipped: Vec<AudioError>,
}

/// Decodes every file of `paths`; a bad file is recorded in
/// [`BatchDecode::skipped`] and the batch carries on.
pub fn decode_all<P: AsRef<Path>>(paths: &[P], options: &DecodeOptions) -> BatchDecode {
    let mut dec = Decoder::new(options.clone());
    let mut out = BatchDecode::default();
    for p in paths {
        match dec.decode(p) {
            Ok(s) => out.decoded.push((p.as_ref().to_path_buf(), s)),
            Err(e) => out.skipped.push(e),
        }
    }
    out
}
