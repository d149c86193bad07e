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

fn write_atomic(
    path: &Path,
    spec: hound::WavSpec,
    interleaved: &[f32],
    put: impl Fn(&mut hound::WavWriter<BufWriter<std::fs::File>>, f32) -> hound::Result<()>,
) -> Result<(), AudioError> {
    if !aad_core::SUPPORTED_SAMPLE_RATES.contains(&spec.sample_rate)
        || usize::from(spec.channels) > MAX_WRITE_CHANNELS
    {
        // Both are plain integers, so swapping them compiles: refuse what no recorder
        // makes rather than write a 48,000-channel file at 1 Hz.
        return Err(AudioError::InvalidOptions {
            path: path.to_path_buf(),
            reason: format!(
                "{} channels at {} Hz: channels must be 1 to {MAX_WRITE_CHANNELS} and the sample \
                 rate {} (were the two arguments swapped?)",
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
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(|e| io_err(path, e))?;
        let mut w =
            hound::WavWriter::new(BufWriter::new(file), spec).map_err(|e| hound_err(path, e))?;
        for &x in interleaved {
            put(&mut w, x).map_err(|e| hound_err(path, e))?;
        }
        w.finalize().map_err(|e| hound_err(path, e))?;
        std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes interleaved samples in `[-1, 1]` as 16-bit PCM (`round(x * 32767)`, clipped),
/// atomically.
///
/// # Errors
/// I/O errors, a sample count that is not a multiple of `channels`, more than
/// [`MAX_WRITE_CHANNELS`] channels, or a sample rate outside
/// [`aad_core::SUPPORTED_SAMPLE_RATES`] (the reader's range).
pub fn write_wav_i16(
    path: impl AsRef<Path>,
    interleaved: &[f32],
    channels: u16,
    sample_rate: u32,
) -> Result<(), AudioError> {
    let spec = hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    write_atomic(path.as_ref(), spec, interleaved, |w, x| {
        let v = (f64::from(x) * 32767.0).round().clamp(-32768.0, 32767.0) as i16;
        w.write_sample(v)
    })
}

/// Writes interleaved samples as 32-bit float WAV, atomically.
///
/// # Errors
/// I/O errors, a sample count that is not a multiple of `channels`, more than
/// [`MAX_WRITE_CHANNELS`] channels, or a sample rate outside
/// [`aad_core::SUPPORTED_SAMPLE_RATES`] (the reader's range).
pub fn write_wav_f32(
    path: impl AsRef<Path>,
    interleaved: &[f32],
    channels: u16,
    sample_rate: u32,
) -> Result<(), AudioError> {
    let spec = hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    write_atomic(path.as_ref(), spec, interleaved, |w, x| w.write_sample(x))
}
