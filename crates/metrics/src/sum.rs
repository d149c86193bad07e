//! numpy's pairwise summation, so sums (and so trapezoid areas and means) round exactly as
//! numpy rounds them.

/// `numpy.add.reduce` over a contiguous float64 array.
pub(crate) fn pairwise_sum(a: &[f64]) -> f64 {
    aad_core::ops::pairwise_sum(a, -0.0)
}

/// `numpy.mean` of a float64 array.
pub(crate) fn np_mean(a: &[f64]) -> f64 {
    pairwise_sum(a) / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_agrees_with_a_plain_sum_of_exact_values() {
        for n in [0usize, 1, 7, 8, 9, 127, 128, 129, 1000, 4097] {
            let v: Vec<f64> = (0..n).map(|i| (i % 17) as f64 * 0.5).collect();
            assert_eq!(pairwise_sum(&v), v.iter().sum::<f64>(), "n = {n}");
        }
    }
}
