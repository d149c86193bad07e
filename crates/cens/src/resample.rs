//! The 2:1 decimator used between CQT octaves.
//!
//! librosa decimates with libsoxr's "HQ" resampler, a C library with no pure-Rust
//! equivalent. Its response is flat to 0.9 of the output Nyquist frequency and falls to
//! -24 dB by 0.975. Every output here is `sqrt(2)` times a linear-phase low-pass of the
//! zero-extended signal at an even input sample (`ceil(n / 2)` outputs, librosa's
//! `resample(..., scale=True)`), with two filters:
//!
//! - inside the signal, a half-band Kaiser-windowed sinc (65 taps, beta 8, cut-off at the
//!   output Nyquist frequency, unit DC gain): every other tap is zero, so an output costs
//!   17 multiply-adds in a polyphase form that vectorises. It passes the lower half of
//!   the output band, all the CQT reads, within 7e-4 dB;
//! - within [`EDGE`] outputs of either end, a 255-tap Kaiser-windowed sinc (beta 12,
//!   cut-off 0.955 of the output Nyquist frequency) whose transition band is close to
//!   soxr's, blended into the half-band output over the next [`RAMP`] outputs with a
//!   raised cosine.
//!
//! Why two: the step where the signal starts or stops puts energy in every band, and a
//! transition band unlike soxr's then leaks into the first and last CQT frames (through
//! the rectangular frames of the CQT's STFT). With the half-band filter alone the
//! chroma of those frames was off by up to 5e-3 relative, enough to move a CENS
//! quantisation step: with librosa's own CQT code and only the resampler swapped, the
//! eleven reference clips of `shared/reference` gave chroma_cqt 1e-4 to 4.7e-4 and CENS
//! up to 3.1e-3 relative error against soxr_hq. With the edge filter they give chroma_cqt
//! 1.5e-5 to 4.5e-5 and CENS identical to librosa's on every clip; the edge filter costs
//! ~2,700 outputs per 10 s clip. `scripts/design/decimator_vs_soxr.py` reproduces these numbers.

use std::sync::Arc;

/// Taps of the prototype (odd).
const TAPS: usize = 65;
/// Kaiser beta.
const BETA: f64 = 8.0;

/// Outputs at each end computed with the edge filter alone.
pub(crate) const EDGE: usize = 128;
/// Outputs over which the edge filter hands over to the half-band filter.
pub(crate) const RAMP: usize = 64;
/// Taps of the edge filter (odd), Kaiser beta and cut-off (fraction of the input
/// Nyquist frequency).
const EDGE_TAPS: usize = 255;
const EDGE_BETA: f64 = 12.0;
const EDGE_CUTOFF: f64 = 0.4775;

/// Zeroth-order modified Bessel function of the first kind (power series).
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term) = (1.0, 1.0);
    let q = x * x / 4.0;
    for k in 1..200 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// `sqrt(2) *` a unit-DC-gain Kaiser-windowed sinc of `taps` (odd) taps, cut-off a
/// fraction of the input Nyquist frequency: both filters of the decimator.
fn kaiser_sinc(taps: usize, cutoff: f64, beta: f64) -> Vec<f64> {
    let m = (taps - 1) as f64;
    let h: Vec<f64> = (0..taps)
        .map(|i| {
            let n = i as f64 - m / 2.0;
            let x = std::f64::consts::PI * cutoff * n;
            let sinc = if n == 0.0 { 1.0 } else { x.sin() / x };
            let r = n / (m / 2.0);
            let kaiser = bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta);
            cutoff * sinc * kaiser
        })
        .collect();
    let g = std::f64::consts::SQRT_2 / h.iter().sum::<f64>();
    h.iter().map(|v| v * g).collect()
}

/// A planned 2:1 decimator: a 65-tap half-band filter inside the signal and, within
/// 128 outputs of either end (blended over the next 64), a 255-tap filter whose
/// transition band follows libsoxr's "HQ" (flat to 0.9 of the output Nyquist frequency,
/// more than 80 dB down past it), so that the step at a clip's start and end reaches the
/// CQT as it does in librosa. Output `ceil(n / 2)` samples scaled by `sqrt(2)`.
#[derive(Debug, Clone)]
pub struct HalfBand {
    /// `sqrt(2) * h[center]`.
    center: f32,
    /// `sqrt(2) * h[center + 2t + 1]`, t = 0..TAPS/4 (the symmetric odd taps).
    odd: Arc<[f32]>,
    /// `sqrt(2) *` the edge filter, zero-padded to a multiple of eight taps.
    edge: Arc<[f32]>,
    /// Weight of the edge filter on output `EDGE + j` (1 to 0).
    ramp: Arc<[f32]>,
    padded: Vec<f32>,
    /// Zero-extended input around one end.
    segment: Vec<f32>,
    /// Edge-filter outputs of one end.
    edge_out: Vec<f32>,
}

impl Default for HalfBand {
    fn default() -> Self {
        Self::new()
    }
}

impl HalfBand {
    /// Designs the filter.
    pub fn new() -> Self {
        let half = (TAPS - 1) / 2;
        let h = kaiser_sinc(TAPS, 0.5, BETA);
        let edge = kaiser_sinc(EDGE_TAPS, EDGE_CUTOFF, EDGE_BETA);
        HalfBand {
            center: h[half] as f32,
            odd: (0..half / 2).map(|t| h[half + 2 * t + 1] as f32).collect(),
            // Zero taps up to a multiple of eight, for the eight-lane dot product.
            edge: (0..EDGE_TAPS.div_ceil(8) * 8)
                .map(|i| edge.get(i).map_or(0.0, |&v| v as f32))
                .collect(),
            ramp: (1..=RAMP)
                .map(|j| {
                    (0.5 * (1.0 + (std::f64::consts::PI * j as f64 / (RAMP + 1) as f64).cos()))
                        as f32
                })
                .collect(),
            padded: Vec::new(),
            segment: Vec::new(),
            edge_out: Vec::new(),
        }
    }

    /// Edge-filter outputs `range` of the zero-extended `x`, into `self.edge_out`.
    fn edge_outputs(&mut self, x: &[f32], range: std::ops::Range<usize>) {
        let c = (EDGE_TAPS - 1) / 2;
        // Inputs 2 m - c ..= 2 m + c for every m in range, zero outside the signal.
        let lo = 2 * range.start as isize - c as isize;
        let len = 2 * range.len() + self.edge.len();
        aad_dsp::zero_extended(x, lo, len, &mut self.segment);
        self.edge_out.clear();
        edge_dots(&self.edge, &self.segment, range.len(), &mut self.edge_out);
    }

    /// Replaces the first and last `EDGE` outputs with the edge filter's and blends the
    /// next `RAMP` ones; short signals get the edge filter throughout.
    fn fix_edges(&mut self, x: &[f32], out: &mut [f32]) {
        let n_out = out.len();
        if n_out <= 2 * (EDGE + RAMP) {
            self.edge_outputs(x, 0..n_out);
            out.copy_from_slice(&self.edge_out);
            return;
        }
        let ramp = Arc::clone(&self.ramp);
        let weight = |j: usize| if j < EDGE { 1.0 } else { ramp[j - EDGE] };
        self.edge_outputs(x, 0..EDGE + RAMP);
        for (j, (o, &e)) in out.iter_mut().zip(&self.edge_out).enumerate() {
            let w = weight(j);
            *o = w * e + (1.0 - w) * *o;
        }
        self.edge_outputs(x, n_out - EDGE - RAMP..n_out);
        let tail = &mut out[n_out - EDGE - RAMP..];
        for (j, (o, &e)) in tail.iter_mut().zip(&self.edge_out).enumerate() {
            let w = weight(EDGE + RAMP - 1 - j);
            *o = w * e + (1.0 - w) * *o;
        }
    }

    /// Output length for `n` input samples.
    pub fn output_len(n: usize) -> usize {
        n.div_ceil(2)
    }

    aad_core::simd_level_dispatch_method! {
        /// Decimates `x` by 2 into `out` (cleared and filled with `ceil(n / 2)` samples).
        ///
        /// # Allocation
        /// Only when `x` is longer than any signal decimated before.
        pub fn decimate / decimate_avx512 / decimate_avx2 => decimate_impl(
            &mut self,
            x: &[f32],
            out: &mut Vec<f32>,
        )
    }

    #[inline(always)]
    fn decimate_impl(&mut self, x: &[f32], out: &mut Vec<f32>) {
        let n_out = Self::output_len(x.len());
        let k = self.odd.len();
        // Odd samples x[2j + 1], zero-padded by k on both sides, so output m reads
        // x_o[m + t] and x_o[m - 1 - t] for t < k.
        let n_odd = x.len() / 2;
        self.padded.clear();
        self.padded.resize(n_odd + 2 * k + 1, 0.0);
        out.clear();
        out.resize(n_out, 0.0);
        let center = self.center;
        // One deinterleaving pass: the centre tap's term for every output, the odd
        // samples into the padded buffer.
        for ((pair, o), p) in x
            .chunks_exact(2)
            .zip(out.iter_mut())
            .zip(&mut self.padded[k..k + n_odd])
        {
            *o = center * pair[0];
            *p = pair[1];
        }
        if x.len() % 2 == 1 {
            out[n_out - 1] = center * x[x.len() - 1];
        }
        let (taps, padded) = (&self.odd[..], &self.padded[..]);
        // BLOCK outputs at a time, all taps accumulated in registers. Output m adds
        // the odd samples x_o[m + t], x_o[m - 1 - t], t < k, to its centre term. Each
        // output sums its taps in order; the block's outputs are independent chains,
        // which hides the latency of the additions.
        let full = n_out / BLOCK * BLOCK;
        for m0 in (0..full).step_by(BLOCK) {
            let mut acc = [0.0f32; BLOCK];
            acc.copy_from_slice(&out[m0..m0 + BLOCK]);
            block(&mut acc, taps, &padded[m0..m0 + BLOCK + 2 * k], k);
            out[m0..m0 + BLOCK].copy_from_slice(&acc);
        }
        for m in full..n_out {
            let mut v = out[m];
            for (t, &g) in taps.iter().enumerate() {
                v += g * (padded[k + m + t] + padded[k + m - 1 - t]);
            }
            out[m] = v;
        }
        self.fix_edges(x, out);
    }
}

aad_core::simd_level_dispatch! {
    /// `n` edge-filter outputs: output `j` is the dot product of `h` (a multiple of eight
    /// taps) with `seg[2 j..]`, in eight partial sums added up in order. Four outputs
    /// advance together: one alone was a chain of dependent additions.
    fn edge_dots(h: &[f32], seg: &[f32], n: usize, out: &mut Vec<f32>) {
        const G: usize = 4;
        let hl = h.len();
        let (taps, _) = h.as_chunks::<8>();
        let mut j = 0;
        while j < n {
            let g = G.min(n - j);
            let mut acc = [[0.0f32; 8]; G];
            let mut xs: [&[[f32; 8]]; G] = [&[]; G];
            for (i, x) in xs.iter_mut().enumerate().take(g) {
                let Some(s) = seg.get(2 * (j + i)..2 * (j + i) + hl) else {
                    return;
                };
                *x = s.as_chunks::<8>().0;
            }
            if g == G {
                for (c, hc) in taps.iter().enumerate() {
                    for (a, x) in acc.iter_mut().zip(&xs) {
                        let xc = &x[c];
                        for l in 0..8 {
                            a[l] += hc[l] * xc[l];
                        }
                    }
                }
            } else {
                for (a, x) in acc.iter_mut().zip(&xs).take(g) {
                    for (hc, xc) in taps.iter().zip(x.iter()) {
                        for l in 0..8 {
                            a[l] += hc[l] * xc[l];
                        }
                    }
                }
            }
            out.extend(acc[..g].iter().map(|a| a.iter().sum::<f32>()));
            j += g;
        }
    }
}

/// Outputs per block of the decimator's inner loop.
const BLOCK: usize = 32;

/// `acc[l] += Σ_t g[t] (xo[l + k + t] + xo[l + k - 1 - t])` for `BLOCK` outputs, where
/// `xo` starts at the block's first output (padded by `k`).
#[inline(always)]
fn block(acc: &mut [f32; BLOCK], taps: &[f32], xo: &[f32], k: usize) {
    // The caller passes BLOCK + 2k samples and k taps, so every window below exists.
    debug_assert!(taps.len() <= k && xo.len() >= BLOCK + 2 * k);
    for (t, &g) in taps.iter().enumerate() {
        let (Some(ahead), Some(behind)) = (
            xo.get(k + t..k + t + BLOCK),
            xo.get(k - 1 - t..k - 1 - t + BLOCK),
        ) else {
            return;
        };
        for l in 0..BLOCK {
            acc[l] += g * (ahead[l] + behind[l]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(f: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (std::f64::consts::TAU * f * i as f64).sin() as f32)
            .collect()
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn passes_the_lower_band_stops_the_upper_and_scales_by_sqrt2() {
        let mut d = HalfBand::new();
        let mut out = Vec::new();
        // 0.1 cycles/sample (0.2 of the output Nyquist): passed, amplitude x sqrt(2).
        d.decimate(&tone(0.1, 20_001), &mut out);
        assert_eq!(out.len(), 10_001);
        let mid = &out[1000..9000];
        assert!(
            (rms(mid) / (std::f64::consts::FRAC_1_SQRT_2 * std::f64::consts::SQRT_2) - 1.0).abs()
                < 1e-4
        );
        // 0.4 cycles/sample (would alias to 0.2 of the output rate): stopped by > 80 dB.
        d.decimate(&tone(0.4, 20_000), &mut out);
        assert!(rms(&out[1000..9000]) < 1e-4, "{}", rms(&out[1000..9000]));
        // DC gain sqrt(2) from both filters (edge filter throughout a short signal, the
        // half-band inside a long one); odd and even lengths.
        d.decimate(&vec![1.0; 401], &mut out);
        assert_eq!(out.len(), 201);
        assert!((out[100] - std::f32::consts::SQRT_2).abs() < 1e-5);
        d.decimate(&vec![1.0; 4000], &mut out);
        assert_eq!(out.len(), 2000);
        for m in [200, 1000, 1800] {
            assert!((out[m] - std::f32::consts::SQRT_2).abs() < 1e-5, "{m}");
        }
        d.decimate(&[1.0], &mut out);
        assert_eq!(out.len(), 1);
        d.decimate(&[], &mut out);
        assert!(out.is_empty());
    }

    /// `y[m] = sum_i h[i] x[2m + i - (len(h) - 1) / 2]`, zero-extended, in f64.
    fn direct(h: &[f32], x: &[f32], m: usize) -> f64 {
        let half = (h.len() - 1) / 2;
        (0..h.len())
            .filter_map(|i| {
                let j = (2 * m + i).checked_sub(half)?;
                x.get(j).map(|&v| f64::from(h[i]) * f64::from(v))
            })
            .sum()
    }

    #[test]
    fn equals_the_direct_form_filters_blended_at_the_edges_for_every_length() {
        let d = HalfBand::new();
        let half = (TAPS - 1) / 2;
        let mut hb = vec![0.0f32; TAPS];
        hb[half] = d.center;
        for (t, &g) in d.odd.iter().enumerate() {
            hb[half + 2 * t + 1] = g;
            hb[half - 2 * t - 1] = g;
        }
        let edge = &d.edge[..EDGE_TAPS];
        let mut dec = HalfBand::new();
        let mut out = Vec::new();
        let lengths = (0..120usize).chain([
            2 * (EDGE + RAMP) - 1,
            2 * (EDGE + RAMP),
            2 * (EDGE + RAMP) + 1,
            2 * (EDGE + RAMP) + 2,
            1001,
            1200,
        ]);
        for n in lengths {
            let x: Vec<f32> = (0..n)
                .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
                .collect();
            dec.decimate(&x, &mut out);
            let n_out = n.div_ceil(2);
            assert_eq!(out.len(), n_out);
            for (m, &y) in out.iter().enumerate() {
                let from_end = m.min(n_out - 1 - m);
                let w = if n_out <= 2 * (EDGE + RAMP) || from_end < EDGE {
                    1.0
                } else if from_end < EDGE + RAMP {
                    f64::from(d.ramp[from_end - EDGE])
                } else {
                    0.0
                };
                let want = w * direct(edge, &x, m) + (1.0 - w) * direct(&hb, &x, m);
                assert!((f64::from(y) - want).abs() < 1e-5, "n {n} m {m}");
            }
        }
    }

    #[test]
    fn the_edge_filter_passes_to_0_9_and_stops_past_the_output_nyquist_frequency() {
        let d = HalfBand::new();
        let gain = |f: f64| {
            let (re, im) = d
                .edge
                .iter()
                .enumerate()
                .fold((0.0, 0.0), |(re, im), (i, &h)| {
                    let ph = std::f64::consts::TAU * f * i as f64;
                    (re + f64::from(h) * ph.cos(), im - f64::from(h) * ph.sin())
                });
            f64::hypot(re, im) / std::f64::consts::SQRT_2
        };
        // Frequencies in cycles per input sample; the output Nyquist frequency is 0.25.
        for f in [0.0, 0.05, 0.1, 0.2, 0.225] {
            assert!((gain(f) - 1.0).abs() < 1e-4, "passband {f}: {}", gain(f));
        }
        for f in [0.26, 0.3, 0.4, 0.5] {
            assert!(gain(f) < 1e-4, "stopband {f}: {}", gain(f));
        }
    }

    #[test]
    fn is_linear_phase_and_centred() {
        // An impulse at input 2m appears centred on output m.
        let mut d = HalfBand::new();
        let mut x = vec![0.0f32; 201];
        x[100] = 1.0;
        let mut out = Vec::new();
        d.decimate(&x, &mut out);
        let peak = out
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert_eq!(peak, 50);
        for j in 1..10 {
            assert!((out[50 - j] - out[50 + j]).abs() < 1e-7, "symmetric at {j}");
        }
    }
}
