//! numpy's pairwise summation, so sums (and so trapezoid areas and means) round exactly as
//! numpy rounds them.

const BLOCK: usize = 128;

/// `numpy.add.reduce` over a contiguous float64 array.
pub(crate) fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        // numpy starts from -0.0 so that an all -0.0 sum stays -0.0.
        let mut res = -0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= BLOCK {
        let mut r = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]];
        let mut i = 8;
        while i < n - (n % 8) {
            for (k, rk) in r.iter_mut().enumerate() {
                *rk += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[i..] {
            res += x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
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
