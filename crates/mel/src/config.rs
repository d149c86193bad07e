//! Configuration of the Mel extractors and the presets the study uses.

use aad_dsp::{PadMode, StftConfig};

use crate::{MelError, MelNorm, MelScale};

/// The compression applied to mel energies.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub enum LogScale {
    /// Linear mel energies.
    None,
    /// `10 log10(S + eps)` with `eps` added in float32, as the MIMII and DCASE baselines
    /// and the seed compute it (`20 / power * log10(S + sys.float_info.epsilon)`). An exact
    /// zero becomes `10 log10(2.22e-16) = -156.54` dB, never `-inf`.
    Eps {
        /// Added before the log (the baselines use `f64::EPSILON`).
        eps: f64,
    },
    /// `librosa.power_to_db`: `10 log10(max(amin, S)) - 10 log10(max(amin, ref))`, then
    /// clipped below at the clip's **global** maximum minus `top_db`.
    PowerToDb {
        /// Reference power (librosa default 1.0).
        ref_value: f64,
        /// Floor (librosa default 1e-10).
        amin: f64,
        /// Dynamic range kept below the maximum (librosa default 80); `None` keeps all.
        top_db: Option<f64>,
    },
    /// `ln(S + offset)`, as torchaudio's `MFCC(log_mels=True)` (offset 1e-6).
    Ln {
        /// Added before the log.
        offset: f64,
    },
}

impl LogScale {
    /// The baselines' `10 log10(S + 2.22e-16)`.
    pub const BASELINE: LogScale = LogScale::Eps { eps: f64::EPSILON };

    /// `librosa.power_to_db` with its defaults (ref 1, amin 1e-10, top_db 80).
    pub const POWER_TO_DB: LogScale = LogScale::PowerToDb {
        ref_value: 1.0,
        amin: 1e-10,
        top_db: Some(80.0),
    };

    pub(crate) fn validate(&self) -> Result<(), MelError> {
        match *self {
            LogScale::None => Ok(()),
            LogScale::Eps { eps } if !(eps > 0.0 && eps.is_finite()) => {
                Err(MelError::config("eps", eps, "must be > 0"))
            }
            LogScale::PowerToDb { amin, .. } if !(amin > 0.0 && amin.is_finite()) => {
                Err(MelError::config("amin", amin, "must be > 0"))
            }
            LogScale::PowerToDb { ref_value, .. } if !ref_value.is_finite() => {
                Err(MelError::config("ref_value", ref_value, "must be finite"))
            }
            LogScale::PowerToDb {
                top_db: Some(t), ..
            } if !(t >= 0.0 && t.is_finite()) => Err(MelError::config("top_db", t, "must be >= 0")),
            LogScale::Ln { offset } if !(offset > 0.0 && offset.is_finite()) => {
                Err(MelError::config("offset", offset, "must be > 0"))
            }
            _ => Ok(()),
        }
    }
}

/// A (log-)Mel spectrogram configuration. `Default` is librosa's `melspectrogram` at
/// 16 kHz (n_fft 2048, hop 512, 128 Slaney mels, power 2, no log, no stacking).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct MelConfig {
    /// Sample rate the extractor is planned for.
    pub sample_rate: u32,
    /// The STFT (n_fft, hop, window, centring, padding).
    pub stft: StftConfig,
    /// Exponent of the magnitude: 2 (power) or 1 (magnitude).
    pub power: f32,
    /// Number of mel bands.
    pub n_mels: usize,
    /// Lowest frequency (Hz).
    pub fmin: f64,
    /// Highest frequency (Hz); `None` = Nyquist.
    pub fmax: Option<f64>,
    /// Mel scale.
    pub scale: MelScale,
    /// Filter normalisation.
    pub norm: MelNorm,
    /// Compression.
    pub log: LogScale,
    /// Frames concatenated per output row (1 = none; the baselines use 5).
    pub context: usize,
}

impl Default for MelConfig {
    fn default() -> Self {
        MelConfig {
            sample_rate: 16_000,
            stft: StftConfig::new(2048, 512),
            power: 2.0,
            n_mels: 128,
            fmin: 0.0,
            fmax: None,
            scale: MelScale::Slaney,
            norm: MelNorm::Slaney,
            log: LogScale::None,
            context: 1,
        }
    }
}

impl MelConfig {
    /// DCASE 2020 Task 2 baseline: n_fft 1024, hop 512, 128 mels, `10 log10(S + eps)`,
    /// 5 frames stacked into 640-dim vectors (309 per 10 s clip).
    pub fn dcase2020() -> Self {
        MelConfig {
            stft: StftConfig::new(1024, 512),
            n_mels: 128,
            log: LogScale::BASELINE,
            context: 5,
            ..Default::default()
        }
    }

    /// MIMII baseline: n_fft 1024, hop 512, 64 mels, `10 log10(S + eps)`, 5 frames stacked
    /// into 320-dim vectors.
    pub fn mimii_baseline() -> Self {
        MelConfig {
            n_mels: 64,
            ..MelConfig::dcase2020()
        }
    }

    /// The seed project's log-Mel: n_fft 2048, hop 512, 64 mels, `10 log10(S + eps)`, no
    /// stacking (64 x 313 per 10 s clip).
    pub fn seed() -> Self {
        MelConfig {
            stft: StftConfig::new(2048, 512),
            n_mels: 64,
            log: LogScale::BASELINE,
            context: 1,
            ..Default::default()
        }
    }

    /// Sets the number of stacked frames.
    pub fn context(mut self, context: usize) -> Self {
        self.context = context;
        self
    }

    /// Sets the log compression.
    pub fn log(mut self, log: LogScale) -> Self {
        self.log = log;
        self
    }

    /// Sets the number of mel bands.
    pub fn n_mels(mut self, n_mels: usize) -> Self {
        self.n_mels = n_mels;
        self
    }

    /// Sets the sample rate.
    pub fn sample_rate(mut self, sample_rate: u32) -> Self {
        self.sample_rate = sample_rate;
        self
    }

    /// Sets the centre padding (reflect reproduces the DCASE-era librosa 0.6).
    pub fn pad_mode(mut self, pad_mode: PadMode) -> Self {
        self.stft.pad_mode = pad_mode;
        self
    }

    /// Sets the STFT.
    pub fn stft(mut self, stft: StftConfig) -> Self {
        self.stft = stft;
        self
    }

    /// Sets the frequency range.
    pub fn freq_range(mut self, fmin: f64, fmax: Option<f64>) -> Self {
        self.fmin = fmin;
        self.fmax = fmax;
        self
    }

    /// Sets the mel scale and normalisation.
    pub fn scale(mut self, scale: MelScale, norm: MelNorm) -> Self {
        self.scale = scale;
        self.norm = norm;
        self
    }

    /// The upper frequency used.
    pub fn fmax_hz(&self) -> f64 {
        self.fmax.unwrap_or(f64::from(self.sample_rate) / 2.0)
    }

    /// Width of one output row: `n_mels * context`.
    pub fn dims(&self) -> usize {
        self.n_mels * self.context
    }

    pub(crate) fn validate(&self) -> Result<(), MelError> {
        if !aad_core::SUPPORTED_SAMPLE_RATES.contains(&self.sample_rate) {
            return Err(MelError::config(
                "sample_rate",
                self.sample_rate,
                aad_core::SAMPLE_RATE_RANGE_TEXT,
            ));
        }
        self.stft.validate()?;
        if !(self.power > 0.0 && self.power.is_finite()) {
            return Err(MelError::config("power", self.power, "must be > 0"));
        }
        if self.n_mels == 0 {
            return Err(MelError::config("n_mels", 0, "must be >= 1"));
        }
        if self.context == 0 {
            return Err(MelError::config("context", 0, "must be >= 1"));
        }
        self.log.validate()
    }
}

/// MFCC configuration: mel bands, their log, a DCT-II (orthonormal) and the first
/// `n_mfcc` coefficients. `Default` is librosa's `mfcc` (20 coefficients of
/// `power_to_db` of 128 Slaney mels, n_fft 2048, hop 512).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct MfccConfig {
    /// The mel spectrogram and its log (librosa: `LogScale::POWER_TO_DB`).
    pub mel: MelConfig,
    /// Coefficients kept.
    pub n_mfcc: usize,
    /// Drop coefficient 0 (the overall level), as the seed did (`mfcc[1:]`).
    pub drop_first: bool,
}

impl Default for MfccConfig {
    fn default() -> Self {
        MfccConfig {
            mel: MelConfig::default().log(LogScale::POWER_TO_DB),
            n_mfcc: 20,
            drop_first: false,
        }
    }
}

impl MfccConfig {
    /// The seed project's torchaudio MFCC: n_fft 16000 with a 1600-sample window, hop
    /// 1200, 64 HTK mels, reflect padding, `ln(S + 1e-6)`, 13 coefficients with the 0th
    /// dropped (12 x 134 per 10 s clip).
    pub fn seed() -> Self {
        MfccConfig {
            mel: MelConfig {
                stft: StftConfig::new(16_000, 1200)
                    .win_length(Some(1600))
                    .pad_mode(PadMode::Reflect),
                n_mels: 64,
                scale: MelScale::Htk,
                norm: MelNorm::None,
                log: LogScale::Ln { offset: 1e-6 },
                ..MelConfig::default()
            },
            n_mfcc: 13,
            drop_first: true,
        }
    }

    /// `n_mfcc` coefficients of `mel` (whose log is used as configured).
    pub fn new(mel: MelConfig, n_mfcc: usize) -> Self {
        MfccConfig {
            mel,
            n_mfcc,
            drop_first: false,
        }
    }

    /// Sets whether coefficient 0 is dropped.
    pub fn drop_first(mut self, drop_first: bool) -> Self {
        self.drop_first = drop_first;
        self
    }

    /// Coefficients per frame after dropping.
    pub fn dims(&self) -> usize {
        self.n_mfcc - usize::from(self.drop_first)
    }
}
