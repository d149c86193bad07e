//! The cross-fitting dealer: which fold each training clip is held out in.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// The fold of each of `n` clips: a seeded shuffle dealt round-robin into `k` folds, so
/// fold sizes differ by at most one. The fusions' standardisers and the experiment's
/// `--crossfit` deal with it; each mixes its own constant into `seed`, so their folds
/// are independent.
///
/// ```
/// let f = aad_models::deal_folds(7, 3, 1);
/// assert_eq!(f.len(), 7);
/// let sizes: Vec<usize> = (0..3).map(|k| f.iter().filter(|&&x| x == k).count()).collect();
/// assert!(sizes.iter().all(|&s| s == 2 || s == 3));
/// assert_eq!(f, aad_models::deal_folds(7, 3, 1));
/// ```
pub fn deal_folds(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut fold = vec![0; n];
    for (pos, &i) in order.iter().enumerate() {
        fold[i] = pos % k.max(1);
    }
    fold
}
