//! The AVX2 and AVX-512 builds of the STFT framing loop give bit-identical spectra to
//! the portable one. One test function: the switch is process-wide.
#![allow(clippy::unwrap_used)]

use aad_core::simd;
use aad_dsp::{Stft, StftConfig};
use ndarray::Array2;

fn spectra(x: &[f32]) -> Vec<Array2<f32>> {
    let mut out = Vec::new();
    for (n_fft, hop) in [(1024, 512), (2048, 512), (400, 160)] {
        let mut s32 = Stft::<f32>::new(StftConfig::new(n_fft, hop)).unwrap();
        let mut p = Array2::zeros((s32.num_frames(x.len()), s32.n_bins()));
        s32.power_into(x, p.view_mut()).unwrap();
        out.push(p);
        let mut s64 = Stft::<f64>::new(StftConfig::new(n_fft, hop)).unwrap();
        let mut m = Array2::zeros((s64.num_frames(x.len()), s64.n_bins()));
        s64.magnitude_into(x, m.view_mut()).unwrap();
        out.push(m);
    }
    out
}

#[test]
fn every_simd_level_gives_a_bit_identical_stft() {
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let x: Vec<f32> = (0..40_001)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let n = (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            // Loud and near-silent stretches (the paired-frame balance check).
            if (i / 3000) % 3 == 1 { 1e-7 * n } else { n }
        })
        .collect();
    let mut runs = Vec::new();
    for level in simd::Level::ALL {
        simd::set_max_level(level);
        runs.push((level, spectra(&x)));
    }
    simd::set_max_level(simd::Level::Avx512);
    let (_, portable) = &runs[0];
    for (level, fast) in &runs[1..] {
        for (a, b) in fast.iter().zip(portable) {
            assert_eq!(a.dim(), b.dim());
            assert!(
                a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{level:?}"
            );
        }
    }
}
