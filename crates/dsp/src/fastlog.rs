//! A branch-free natural logarithm for positive `f32`, so the compiler can vectorise the
//! log-compression loops (glibc's `log10f` is a scalar call that took a fifth of the
//! log-Mel time).
//!
//! `x = 2^e m` with `m` in `[sqrt(1/2), sqrt(2))`, then `ln m = 2 atanh(t)`,
//! `t = (m - 1)/(m + 1)`, by its odd series to `t^9` (|t| <= 0.172, truncation below
//! 3e-10). The result is within a few ulp of the correctly rounded value; zero, negative,
//! subnormal, infinite and NaN inputs fall back to the standard library.

const SQRT2: f32 = std::f32::consts::SQRT_2;

/// `ln(x)` for `f32`, accurate to a few ulp (see the module docs).
///
/// ```
/// let x = 123.456f32;
/// assert!((aad_dsp::ln_fast(x) - x.ln()).abs() <= 4.0 * f32::EPSILON * x.ln().abs());
/// ```
#[inline(always)]
pub fn ln_fast(x: f32) -> f32 {
    // Selects only (no call), so loops over slices vectorise.
    let y = x.clamp(f32::MIN_POSITIVE, f32::MAX);
    let bits = y.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = m > SQRT2;
    m = if big { m * 0.5 } else { m };
    e += i32::from(big);
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let series = 1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0))));
    let r = 2.0 * t * series + e as f32 * std::f32::consts::LN_2;
    let r = if x == f32::INFINITY { f32::INFINITY } else { r };
    let r = if x == 0.0 { f32::NEG_INFINITY } else { r };
    if x < 0.0 || x.is_nan() { f32::NAN } else { r }
}

/// `log10(x)` for `f32` through [`ln_fast`].
#[inline(always)]
pub fn log10_fast(x: f32) -> f32 {
    ln_fast(x) * std::f32::consts::LOG10_E
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_fast_is_within_a_few_ulp_everywhere() {
        let mut worst = 0.0f64;
        // Every 997th positive normal float, plus the edges.
        let mut bits = f32::MIN_POSITIVE.to_bits();
        while bits < f32::MAX.to_bits() {
            let x = f32::from_bits(bits);
            let exact = f64::from(x).ln();
            let err = (f64::from(ln_fast(x)) - exact).abs();
            let tol = 4.0 * f64::from(f32::EPSILON) * exact.abs().max(1e-3);
            assert!(err <= tol.max(2e-7), "x = {x:e}: {} vs {exact}", ln_fast(x));
            worst = worst.max(err / exact.abs().max(1e-3));
            bits += 997;
        }
        for x in [
            0.0f32,
            -0.0,
            -1.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MAX,
        ] {
            let (a, b) = (ln_fast(x), x.ln());
            assert!(
                a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() < 1e-5,
                "{x}: {a} vs {b}"
            );
        }
        let sub = 1e-40f32;
        assert!((ln_fast(sub) - sub.ln()).abs() / sub.ln().abs() < 0.06);
        assert!(worst < 3e-7, "worst relative error {worst:e}");
    }
}
