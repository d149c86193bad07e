//! A seeded generator of MIMII-layout machine-sound datasets, so every example runs on a
//! fresh machine with no download.
//!
//! The sounds are built to resemble the machines rather than to be pure tones:
//!
//! | machine | normal sound | anomalies drawn |
//! |---|---|---|
//! | fan | coloured airflow noise, blade-pass harmonics with speed drift, shaft-rate modulation | humming (bearing tone with sidebands, or imbalance), clicking (per-revolution ticks), rubbing |
//! | valve | open/close transients (damped modes) in a periodic pattern with jitter, flow noise while open | clicking (missing events, bounces, irregular timing), leak (hiss while closed), humming (coil buzz) |
//! | pump | vane-pass and shaft harmonics, low-passed flow turbulence, 100 Hz motor hum | humming, clicking (cavitation crackle), leak, rubbing |
//! | slider | velocity-shaped friction noise, rolling ticks, end-stop clunks | clicking (rail defect), rubbing, humming (servo whine) |
//!
//! Every machine id draws its own base parameters (speed, blade count, resonances, cycle
//! period); every clip varies its operating point, drift, timing and level. Anomaly levels
//! are drawn from [`SyntheticConfig::severity_db`] (relative to the machine), so some are
//! subtle, and a factory background (pink noise, a distant harmonic drone, impacts,
//! rumble) is mixed in at each requested SNR. As in MIMII, the same machine recording is
//! mixed at every SNR, so never train on one SNR and test on another of the same id.
//!
//! The anomaly kind and level of each clip are written to `anomaly_kinds.csv` at the root.

mod dsp;
mod machines;

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rayon::prelude::*;

use crate::DataError;
use dsp::{Rng8, add_scaled, db, normalize_rms, rms, uniform};
use machines::{Ctx, Model};

/// The machine types the generator can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MachineKind {
    /// Axial fan.
    Fan,
    /// Solenoid valve.
    Valve,
    /// Water pump.
    Pump,
    /// Linear slide rail.
    Slider,
}

impl MachineKind {
    /// The MIMII folder name.
    pub fn as_str(self) -> &'static str {
        match self {
            MachineKind::Fan => "fan",
            MachineKind::Valve => "valve",
            MachineKind::Pump => "pump",
            MachineKind::Slider => "slider",
        }
    }

    /// Anomaly kinds that make sense for this machine.
    pub fn anomaly_kinds(self) -> &'static [AnomalyKind] {
        match self {
            MachineKind::Fan => &[
                AnomalyKind::Humming,
                AnomalyKind::Clicking,
                AnomalyKind::Rubbing,
            ],
            MachineKind::Valve => &[
                AnomalyKind::Clicking,
                AnomalyKind::Leak,
                AnomalyKind::Humming,
            ],
            MachineKind::Pump => &[
                AnomalyKind::Humming,
                AnomalyKind::Clicking,
                AnomalyKind::Leak,
                AnomalyKind::Rubbing,
            ],
            MachineKind::Slider => &[
                AnomalyKind::Clicking,
                AnomalyKind::Rubbing,
                AnomalyKind::Humming,
            ],
        }
    }
}

impl fmt::Display for MachineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MachineKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fan" => Ok(MachineKind::Fan),
            "valve" => Ok(MachineKind::Valve),
            "pump" => Ok(MachineKind::Pump),
            "slider" => Ok(MachineKind::Slider),
            other => Err(format!(
                "unknown machine type {other:?} (fan, valve, pump, slider)"
            )),
        }
    }
}

/// Kinds of fault sound, as NVH engineers describe them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnomalyKind {
    /// New or shifted tonal components: bearing tones, imbalance, coil buzz, servo whine.
    Humming,
    /// Extra, missing or irregular transients.
    Clicking,
    /// Leakage hiss.
    Leak,
    /// Periodic friction noise.
    Rubbing,
    /// A fan's imbalance: the shaft rate and its second harmonic, and the airflow
    /// modulated at the shaft rate; not a new tone in the band of interest. Never drawn
    /// as such: the fan's humming renders as it half of the time, and the clip is then
    /// listed under this kind.
    Imbalance,
}

impl AnomalyKind {
    /// Lower-case name used in `anomaly_kinds.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::Humming => "humming",
            AnomalyKind::Clicking => "clicking",
            AnomalyKind::Leak => "leak",
            AnomalyKind::Rubbing => "rubbing",
            AnomalyKind::Imbalance => "imbalance",
        }
    }
}

/// Where an injected anomaly lies, as `anomaly_kinds.csv` records it: the ground truth
/// that explanations are scored against.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct AnomalyTruth {
    /// The kind the clip is listed under, when the renderer chose a variant of the kind
    /// drawn ([`AnomalyKind::Imbalance`] for a fan's humming).
    pub variant: Option<AnomalyKind>,
    /// Every tone the anomaly adds, in Hz, at the clip's mean speed: a bearing tone, its
    /// second harmonic and shaft-rate sidebands; a coil buzz's harmonics; a servo
    /// whine's peak (it sweeps up to it); an imbalance's shaft rate and its harmonic.
    pub freq_hz: Vec<f64>,
    /// When the anomaly's transients happen, in seconds: added clicks, and a valve's
    /// missed or bounced clicks.
    pub times_s: Vec<f64>,
    /// The -3 dB band of a band-limited noise (leak, rubbing), in Hz.
    pub band_hz: Option<(f64, f64)>,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SyntheticConfig {
    /// Master seed: the same config gives byte-identical files.
    pub seed: u64,
    /// Machine types.
    pub machines: Vec<MachineKind>,
    /// Machine ids (folder `id_XX`).
    pub ids: Vec<u32>,
    /// Normal clips per machine id and SNR.
    pub n_normal: usize,
    /// Anomalous clips per machine id and SNR.
    pub n_abnormal: usize,
    /// SNR levels in dB (folders `6dB`, `0dB`, `-6dB`).
    pub snrs_db: Vec<i32>,
    /// Clip length in seconds.
    pub duration_s: f64,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Channels per file (MIMII originals have 8; the extra channels are delayed,
    /// attenuated copies with their own sensor noise).
    pub channels: u16,
    /// Range of anomaly levels relative to the machine sound, in dB (uniform). For
    /// pattern anomalies (valve clicking) the position in the range sets how irregular
    /// the pattern becomes.
    pub severity_db: (f64, f64),
}

impl Default for SyntheticConfig {
    /// Fan and valve, ids 00/02/04, 30 normal + 10 anomalous clips per id at 6, 0 and
    /// -6 dB, 10 s mono 16 kHz.
    fn default() -> Self {
        SyntheticConfig {
            seed: 2024,
            machines: vec![MachineKind::Fan, MachineKind::Valve],
            ids: vec![0, 2, 4],
            n_normal: 30,
            n_abnormal: 10,
            snrs_db: vec![6, 0, -6],
            duration_s: 10.0,
            sample_rate: 16_000,
            channels: 1,
            severity_db: (-24.0, -6.0),
        }
    }
}

impl SyntheticConfig {
    /// A tiny set for tests: fan and valve, 2 ids, 6 normal + 3 anomalous 2 s clips at 0 dB.
    pub fn tiny(seed: u64) -> Self {
        SyntheticConfig {
            seed,
            ids: vec![0, 2],
            n_normal: 6,
            n_abnormal: 3,
            snrs_db: vec![0],
            duration_s: 2.0,
            ..Default::default()
        }
    }

    /// The shape of MIMII's fan and valve sets: 2 machine types x 4 ids (00, 02, 04, 06) x
    /// 3 SNRs, 1,000 normal and 215 anomalous 10 s clips per id and SNR: 29,160 clips, as
    /// many as the real 6/0/-6 dB fan+valve archives hold. Mono 16-bit at 16 kHz, 9.3 GB
    /// on disk ([`SyntheticConfig::disk_bytes`]; the real 8-channel files take 75 GB).
    ///
    /// ```
    /// let cfg = aad_data::SyntheticConfig::mimii_sized(1);
    /// assert_eq!(cfg.n_clips(), 29_160);
    /// assert_eq!(cfg.scaled(0.125).n_clips(), 2 * 4 * 3 * (125 + 27));
    /// ```
    pub fn mimii_sized(seed: u64) -> Self {
        SyntheticConfig {
            seed,
            ids: vec![0, 2, 4, 6],
            n_normal: 1000,
            n_abnormal: 215,
            ..Default::default()
        }
    }

    /// The same set with `fraction` of the clips per id (rounded, at least one normal
    /// clip): the kept clips are byte-identical to the first ones of the full set, since
    /// every clip's random stream depends only on the seed and its own name.
    pub fn scaled(mut self, fraction: f64) -> Self {
        let f = if fraction.is_finite() {
            fraction.max(0.0)
        } else {
            1.0
        };
        self.n_normal = ((self.n_normal as f64 * f).round() as usize).max(1);
        self.n_abnormal = (self.n_abnormal as f64 * f).round() as usize;
        self
    }

    /// Files [`generate`] writes.
    pub fn n_clips(&self) -> usize {
        self.machines.len()
            * self.ids.len()
            * self.snrs_db.len()
            * (self.n_normal + self.n_abnormal)
    }

    /// Bytes [`generate`] writes (16-bit PCM plus a 44-byte header per file).
    pub fn disk_bytes(&self) -> u64 {
        let samples = (self.duration_s * f64::from(self.sample_rate)).round() as u64;
        self.n_clips() as u64 * (44 + samples * u64::from(self.channels) * 2)
    }

    fn validate(&self) -> Result<(), DataError> {
        let bad = |name: &'static str, value: String, reason: &'static str| {
            Err(DataError::InvalidConfig {
                name,
                value,
                reason,
            })
        };
        if self.machines.is_empty() {
            return bad("machines", "[]".into(), "at least one machine type");
        }
        if self.ids.is_empty() {
            return bad("ids", "[]".into(), "at least one id");
        }
        if self.snrs_db.is_empty() {
            return bad("snrs_db", "[]".into(), "at least one SNR");
        }
        if !(self.duration_s.is_finite() && self.duration_s >= 0.1 && self.duration_s <= 600.0) {
            return bad(
                "duration_s",
                self.duration_s.to_string(),
                "between 0.1 and 600 s",
            );
        }
        if self.sample_rate < 8000 {
            return bad(
                "sample_rate",
                self.sample_rate.to_string(),
                "at least 8000 Hz",
            );
        }
        if self.channels == 0 || self.channels > 32 {
            return bad("channels", self.channels.to_string(), "between 1 and 32");
        }
        let (lo, hi) = self.severity_db;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return bad(
                "severity_db",
                format!("{lo}..{hi}"),
                "a finite range lo < hi",
            );
        }
        if self.n_normal == 0 {
            return bad("n_normal", "0".into(), "at least one normal clip");
        }
        Ok(())
    }
}

/// One generated file, as listed in `anomaly_kinds.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedClip {
    /// Path relative to the root, `/`-separated.
    pub rel_path: String,
    /// Machine type.
    pub machine: MachineKind,
    /// Machine id number.
    pub id: u32,
    /// SNR in dB.
    pub snr_db: i32,
    /// Anomaly kind and its level in dB relative to the machine (`None` for normal
    /// clips); the kind is the listed one (a variant where the renderer chose one).
    pub anomaly: Option<(AnomalyKind, f64)>,
    /// Where the anomaly lies (empty for normal clips).
    pub truth: AnomalyTruth,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct SyntheticDataset {
    /// The root folder.
    pub root: PathBuf,
    /// Every file, in a deterministic order.
    pub clips: Vec<GeneratedClip>,
}

/// splitmix64 over the seed and a key: independent, reproducible streams per clip.
fn derive_seed(seed: u64, key: &str) -> u64 {
    let mut h = seed ^ 0x9E37_79B9_7F4A_7C15;
    for b in key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        h ^= h >> 29;
    }
    let mut z = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An anomaly kind and its level in dB relative to the machine.
type Anomaly = (AnomalyKind, f64);

struct Job {
    machine: MachineKind,
    id: u32,
    anomalous: bool,
    index: usize,
}

/// Renders one clip at every SNR (the machine part is shared, as in MIMII).
/// A rendered clip at one SNR: the SNR, the interleaved samples, the anomaly as listed,
/// and where it lies.
type RenderedSnr = (i32, Vec<f32>, Option<Anomaly>, AnomalyTruth);

fn render_job(cfg: &SyntheticConfig, job: &Job) -> Vec<RenderedSnr> {
    let fs = cfg.sample_rate as f32;
    let ctx = Ctx {
        fs,
        n: (cfg.duration_s * f64::from(cfg.sample_rate)).round() as usize,
    };
    let id_key = format!("{}/id_{:02}", job.machine, job.id);
    let mut id_rng = Rng8::seed_from_u64(derive_seed(cfg.seed, &id_key));
    let model = Model::new(job.machine, &mut id_rng);
    let level = uniform(&mut id_rng, 0.02, 0.05) as f32;
    let label = if job.anomalous { "abnormal" } else { "normal" };
    let clip_key = format!("{id_key}/{label}/{}", job.index);
    let mut rng = Rng8::seed_from_u64(derive_seed(cfg.seed, &clip_key));
    let anomaly = job.anomalous.then(|| {
        let kinds = job.machine.anomaly_kinds();
        let kind = kinds[rand::Rng::random_range(&mut rng, 0..kinds.len())];
        let (lo, hi) = cfg.severity_db;
        let sev = uniform(&mut rng, lo, hi);
        (kind, sev)
    });
    let rendered = model.render(
        &mut rng,
        &ctx,
        anomaly.map(|(k, s)| {
            let (lo, hi) = cfg.severity_db;
            (k, ((s - lo) / (hi - lo)) as f32)
        }),
    );
    let gain = level * db(uniform(&mut rng, -1.0, 1.0));
    let truth = rendered.truth;
    let anomaly = anomaly.map(|(k, s)| (truth.variant.unwrap_or(k), s));
    let mut machine = rendered.machine;
    normalize_rms(&mut machine, gain);
    if let (Some((_, sev)), false) = (anomaly, rendered.anomaly.is_empty()) {
        let mut a = rendered.anomaly;
        normalize_rms(&mut a, gain * db(sev));
        add_scaled(&mut machine, &a, 1.0);
    }
    let mut noise_rng = Rng8::seed_from_u64(derive_seed(cfg.seed, &format!("{clip_key}/noise")));
    let noise = machines::factory_noise(&mut noise_rng, &ctx);
    let channels = usize::from(cfg.channels);
    let mut sensor = Vec::new();
    if channels > 1 {
        sensor = dsp::white(&mut noise_rng, ctx.n * channels);
    }
    cfg.snrs_db
        .iter()
        .map(|&snr| {
            let g_noise = gain / (rms(&noise).max(1e-12) * db(f64::from(snr)));
            let mut out = vec![0.0f32; ctx.n * channels];
            for c in 0..channels {
                let delay = c * 2;
                let ch_gain = 1.0 - 0.03 * c as f32;
                let noise_delay = c * 3;
                for i in 0..ctx.n {
                    let m = if i >= delay { machine[i - delay] } else { 0.0 };
                    let n = if i >= noise_delay {
                        noise[i - noise_delay]
                    } else {
                        0.0
                    };
                    let s = if c > 0 {
                        sensor[i * channels + c] * gain * 0.01
                    } else {
                        0.0
                    };
                    out[i * channels + c] = (ch_gain * m + g_noise * n + s).clamp(-0.999, 0.999);
                }
            }
            (snr, out, anomaly, truth.clone())
        })
        .collect()
}

fn io_err(path: &Path, source: std::io::Error) -> DataError {
    DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes a synthetic MIMII-layout dataset under `root`:
/// `<snr>dB/<type>/id_XX/{normal,abnormal}/NNNNNNNN.wav` (16-bit PCM) plus
/// `anomaly_kinds.csv`. Clips are rendered in parallel; the output depends only on the
/// config. Files are written atomically.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let mut cfg = aad_data::SyntheticConfig::tiny(7);
/// cfg.duration_s = 0.5;
/// let ds = aad_data::generate(&cfg, dir.path())?;
/// assert_eq!(ds.clips.len(), 2 * 2 * (6 + 3));
/// let found = aad_data::discover(dir.path())?;
/// assert_eq!(found.clips.len(), ds.clips.len());
/// assert!(found.clips.iter().any(|c| c.anomaly_kind.is_some()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// An invalid config, or a file that cannot be written.
pub fn generate(
    cfg: &SyntheticConfig,
    root: impl AsRef<Path>,
) -> Result<SyntheticDataset, DataError> {
    generate_observed(cfg, root, &|| {})
}

/// [`generate`], calling `written` (from any thread) after each file. Memory stays at
/// one rendered clip per thread whatever the size of the set.
///
/// # Errors
/// An invalid config, or a file that cannot be written.
pub fn generate_observed(
    cfg: &SyntheticConfig,
    root: impl AsRef<Path>,
    written: &(dyn Fn() + Sync),
) -> Result<SyntheticDataset, DataError> {
    cfg.validate()?;
    let root = root.as_ref();
    let mut jobs = Vec::new();
    for &machine in &cfg.machines {
        for &id in &cfg.ids {
            for (anomalous, count) in [(false, cfg.n_normal), (true, cfg.n_abnormal)] {
                for index in 0..count {
                    jobs.push(Job {
                        machine,
                        id,
                        anomalous,
                        index,
                    });
                }
            }
        }
    }
    let written: Vec<Result<Vec<GeneratedClip>, DataError>> = jobs
        .par_iter()
        .map(|job| {
            let label = if job.anomalous { "abnormal" } else { "normal" };
            let mut out = Vec::new();
            for (snr, samples, anomaly, truth) in render_job(cfg, job) {
                let rel_dir = format!("{snr}dB/{}/id_{:02}/{label}", job.machine, job.id);
                let dir = root.join(&rel_dir);
                std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
                let name = format!("{:08}.wav", job.index);
                aad_audio::write_wav_i16(
                    dir.join(&name),
                    &samples,
                    aad_audio::WavFormat::mono(cfg.sample_rate).with_channels(cfg.channels),
                )?;
                written();
                out.push(GeneratedClip {
                    rel_path: format!("{rel_dir}/{name}"),
                    machine: job.machine,
                    id: job.id,
                    snr_db: snr,
                    anomaly,
                    truth,
                });
            }
            Ok(out)
        })
        .collect();
    let mut clips = Vec::new();
    for w in written {
        clips.extend(w?);
    }
    clips.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    write_metadata(root, &clips)?;
    Ok(SyntheticDataset {
        root: root.to_path_buf(),
        clips,
    })
}

fn write_metadata(root: &Path, clips: &[GeneratedClip]) -> Result<(), DataError> {
    let path = root.join(crate::discover::ANOMALY_KINDS_FILE);
    let tmp = root.join(format!(".{}.tmp", crate::discover::ANOMALY_KINDS_FILE));
    let mut text = String::from(
        "file,machine_type,machine_id,snr,label,kind,severity_db,freq_hz,times_s,band_lo_hz,band_hi_hz\n",
    );
    let list = |v: &[f64], digits: usize| {
        v.iter()
            .map(|x| format!("{x:.digits$}"))
            .collect::<Vec<_>>()
            .join(";")
    };
    for c in clips {
        let (label, kind, sev) = match c.anomaly {
            Some((k, s)) => ("abnormal", k.as_str(), format!("{s:.2}")),
            None => ("normal", "none", String::new()),
        };
        let t = &c.truth;
        let (lo, hi) = t.band_hz.map_or((String::new(), String::new()), |(a, b)| {
            (format!("{a:.1}"), format!("{b:.1}"))
        });
        text.push_str(&format!(
            "{},{},id_{:02},{}dB,{label},{kind},{sev},{},{},{lo},{hi}\n",
            c.rel_path,
            c.machine,
            c.id,
            c.snr_db,
            list(&t.freq_hz, 1),
            list(&t.times_s, 3)
        ));
    }
    let mut f = std::fs::File::create(&tmp).map_err(|e| io_err(&tmp, e))?;
    f.write_all(text.as_bytes()).map_err(|e| io_err(&tmp, e))?;
    f.sync_all().map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io_err(&path, e))
}
