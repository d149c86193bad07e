//! Writes the synthetic clips the parity fixtures are computed from
//! (`scripts/fixtures/gen_features.py` runs this, then librosa on the output).
//!
//! ```text
//! cargo run --release -p aad-data --example fixture_clips -- OUTDIR
//! ```
use std::path::PathBuf;

use aad_data::{MachineKind, SyntheticConfig, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: fixture_clips OUTDIR")?,
    );
    std::fs::create_dir_all(&out)?;
    let tmp = tempfile::tempdir()?;

    // Machine sounds from the synthetic generator: a normal fan, an abnormal valve and a
    // pump at 22.05 kHz.
    let mut cfg = SyntheticConfig::tiny(20261123);
    cfg.duration_s = 4.0;
    cfg.ids = vec![0];
    cfg.n_normal = 1;
    cfg.n_abnormal = 1;
    generate(&cfg, tmp.path().join("a"))?;
    std::fs::copy(
        tmp.path().join("a/0dB/fan/id_00/normal/00000000.wav"),
        out.join("fan_normal.wav"),
    )?;
    std::fs::copy(
        tmp.path().join("a/0dB/valve/id_00/abnormal/00000000.wav"),
        out.join("valve_abnormal.wav"),
    )?;
    let mut pump = cfg.clone();
    pump.machines = vec![MachineKind::Pump];
    pump.sample_rate = 22_050;
    pump.duration_s = 3.0;
    generate(&pump, tmp.path().join("b"))?;
    std::fs::copy(
        tmp.path().join("b/0dB/pump/id_00/normal/00000000.wav"),
        out.join("pump_22k.wav"),
    )?;

    // One second of digital silence, then one second of noise with a click: all-zero
    // frames must give the defined output (eps floor, zero chroma), never NaN.
    let mut state = 7u64;
    let mut noise = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let mut silence = vec![0.0f32; 32_000];
    for (i, v) in silence.iter_mut().enumerate().skip(16_000) {
        *v = 0.2 * noise() + if i % 4000 < 40 { 0.6 } else { 0.0 };
    }
    aad_audio::write_wav_i16(
        out.join("silence_then_noise.wav"),
        &silence,
        aad_audio::WavFormat::mono(16_000),
    )?;

    // 800 samples: shorter than every FFT size used (1024, 2048).
    let short: Vec<f32> = (0..800).map(|_| 0.3 * noise()).collect();
    aad_audio::write_wav_i16(
        out.join("short_800.wav"),
        &short,
        aad_audio::WavFormat::mono(16_000),
    )?;
    println!("wrote fixture clips to {}", out.display());
    Ok(())
}
