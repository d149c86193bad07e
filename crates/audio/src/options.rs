/// Which channel of a multi-channel file becomes the mono signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelPolicy {
    /// Keep one channel (0-based). The MIMII and DCASE baselines keep channel 0.
    Index(usize),
    /// Mean of all channels in `f32`, summed in channel order, as `librosa.to_mono`
    /// computes it (the seed project averaged the 8 MIMII microphones).
    Mean,
    /// Channel 0.
    #[default]
    First,
}

impl ChannelPolicy {
    /// Short label for reports: the channel index or `mean`.
    pub fn label(self) -> String {
        match self {
            ChannelPolicy::Index(i) => i.to_string(),
            ChannelPolicy::First => "0".into(),
            ChannelPolicy::Mean => "mean".into(),
        }
    }
}

/// Parses `mean`/`mix` or a channel index.
///
/// ```
/// use aad_audio::ChannelPolicy;
/// assert_eq!("mean".parse::<ChannelPolicy>()?, ChannelPolicy::Mean);
/// assert_eq!("3".parse::<ChannelPolicy>()?, ChannelPolicy::Index(3));
/// # Ok::<(), aad_audio::ParseChannelError>(())
/// ```
impl std::str::FromStr for ChannelPolicy {
    type Err = ParseChannelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mean" | "mix" => Ok(ChannelPolicy::Mean),
            n => n
                .parse::<usize>()
                .map(ChannelPolicy::Index)
                .map_err(|_| ParseChannelError(n.to_string())),
        }
    }
}

/// A channel policy that is neither `mean` nor an index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("channel must be `mean` or an index, got {0:?}")]
pub struct ParseChannelError(pub String);

/// Options of [`decode_file`](crate::decode_file) and [`Decoder`](crate::Decoder).
///
/// `Default` keeps channel 0, accepts any sample rate and any non-empty length.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// Channel selection. Default: channel 0.
    pub channel: ChannelPolicy,
    /// Required sample rate; a file at another rate is an error (never resampled).
    /// Default: `None` (accept the file's rate).
    pub expected_sample_rate: Option<u32>,
    /// Shortest acceptable file, in seconds. Default: 0 (any non-empty file).
    pub min_duration_s: f64,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            channel: ChannelPolicy::First,
            expected_sample_rate: None,
            min_duration_s: 0.0,
        }
    }
}

impl DecodeOptions {
    /// What the MIMII/DCASE baselines read: channel 0, 16 kHz required, at least 1 s.
    pub fn mimii() -> Self {
        DecodeOptions {
            channel: ChannelPolicy::First,
            expected_sample_rate: Some(16_000),
            min_duration_s: 1.0,
        }
    }

    /// Sets the channel policy.
    pub fn channel(mut self, channel: ChannelPolicy) -> Self {
        self.channel = channel;
        self
    }

    /// Sets the required sample rate.
    pub fn expected_sample_rate(mut self, rate: Option<u32>) -> Self {
        self.expected_sample_rate = rate;
        self
    }

    /// Sets the shortest acceptable duration in seconds.
    pub fn min_duration_s(mut self, seconds: f64) -> Self {
        self.min_duration_s = seconds;
        self
    }
}
