//! Writing WAV files atomically (temporary file in the same folder, then rename), so a
//! crash never leaves a half-written clip where a dataset reader would find it.

use std::io::BufWriter;
use std::path::Path;

use crate::AudioError;

fn io_err(path: &Path, source: std::io::Error) -> AudioError {
    AudioError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn hound_err(path: &Path, e: hound::Error) -> AudioError {
    match e {
        hound::Error::IoError(source) => io_err(path, source),
        other => AudioError::Malformed {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    }
}

/// The most channels a written file may have (MIMII's arrays have 8).
pub const MAX_WRITE_CHANNELS: usize = 64;

/// The sample rate and channel count of a WAV file to write. The fields are named, so a
/// call cannot swap them the way two bare integers could:
///
/// ```
/// use aad_audio::WavFormat;
/// let mono = WavFormat::mono(16_000);
/// let mimii = WavFormat::mono(16_000).with_channels(8);
/// assert_eq!((mimii.sample_rate, mimii.channels), (16_000, 8));
/// assert_eq!(mono, WavFormat { sample_rate: 16_000, channels: 1 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavFormat {
    /// Frames per second, in [`aad_core::SUPPORTED_SAMPLE_RATES`].
    pub sample_rate: u32,
    /// Interleaved channels, 1 to [`MAX_WRITE_CHANNELS`].
    pub channels: u16,
}

impl WavFormat {
    /// One channel at `sample_rate`.
    pub const fn mono(sample_rate: u32) -> Self {
        WavFormat {
            sample_rate,
            channels: 1,
        }
    }

    /// The same rate with `channels` interleaved channels.
    #[must_use]
    pub const fn with_channels(self, channels: u16) -> Self {
        WavFormat { channels, ..self }
    }

    fn spec(self, bits_per_sample: u16, sample_format: hound::SampleFormat) -> hound::WavSpec {
        hound::WavSpec {
            channels: self.channels,
            sample_rate: self.sample_rate,
            bits_per_sample,
            sample_format,
        }
    }
}

fn write_atomic(
    path: &Path,
    spec: hound::WavSpec,
    interleaved: &[f32],
    put: impl Fn(&mut hound::WavWriter<&mut BufWriter<std::fs::File>>, f32) -> hound::Result<()>,
) -> Result<(), AudioError> {
    check(path, spec, interleaved)?;
    // hound's own errors travel through io::Error; the first one is kept to be typed.
    let mut failure = None;
    let written = aad_core::atomic::write(path, false, |file| {
        let r = (|| {
            let mut w = hound::WavWriter::new(file, spec)?;
            for &x in interleaved {
                put(&mut w, x)?;
            }
            w.finalize()
        })();
        r.map_err(|e| {
            let msg = e.to_string();
            failure = Some(e);
            std::io::Error::other(msg)
        })
    });
    match (written, failure) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(e)) => Err(hound_err(path, e)),
        (Err(e), None) => Err(io_err(path, e)),
    }
}

fn check(path: &Path, spec: hound::WavSpec, interleaved: &[f32]) -> Result<(), AudioError> {
    if !aad_core::SUPPORTED_SAMPLE_RATES.contains(&spec.sample_rate)
        || usize::from(spec.channels) > MAX_WRITE_CHANNELS
    {
        // Older signatures took two bare integers, and a swap wrote a 48,000-channel
        // file at 1 Hz: refuse what no recorder makes.
        return Err(AudioError::InvalidOptions {
            path: path.to_path_buf(),
            reason: format!(
                "{} channels at {} Hz: channels must be 1 to {MAX_WRITE_CHANNELS} and the sample \
                 rate {}",
                spec.channels,
                spec.sample_rate,
                aad_core::SAMPLE_RATE_RANGE_TEXT
            ),
        });
    }
    if spec.channels == 0 || !interleaved.len().is_multiple_of(usize::from(spec.channels)) {
        return Err(AudioError::InvalidOptions {
            path: path.to_path_buf(),
            reason: format!(
                "{} interleaved samples do not divide into {} channels",
                interleaved.len(),
                spec.channels
            ),
        });
    }
    Ok(())
}

/// Writes interleaved samples in `[-1, 1]` as 16-bit PCM (`round(x * 32767)`, clipped),
/// atomically.
///
/// # Errors
/// I/O errors, a sample count that is not a multiple of the channel count, more than
/// [`MAX_WRITE_CHANNELS`] channels, or a sample rate outside
/// [`aad_core::SUPPORTED_SAMPLE_RATES`] (the reader's range).
pub fn write_wav_i16(
    path: impl AsRef<Path>,
    interleaved: &[f32],
    format: WavFormat,
) -> Result<(), AudioError> {
    let spec = format.spec(16, hound::SampleFormat::Int);
    write_atomic(path.as_ref(), spec, interleaved, |w, x| {
        let v = (f64::from(x) * 32767.0).round().clamp(-32768.0, 32767.0) as i16;
        w.write_sample(v)
    })
}

/// Writes interleaved samples as 32-bit float WAV, atomically.
///
/// # Errors
/// I/O errors, a sample count that is not a multiple of the channel count, more than
/// [`MAX_WRITE_CHANNELS`] channels, or a sample rate outside
/// [`aad_core::SUPPORTED_SAMPLE_RATES`] (the reader's range).
pub fn write_wav_f32(
    path: impl AsRef<Path>,
    interleaved: &[f32],
    format: WavFormat,
) -> Result<(), AudioError> {
    let spec = format.spec(32, hound::SampleFormat::Float);
    write_atomic(path.as_ref(), spec, interleaved, |w, x| w.write_sample(x))
}
