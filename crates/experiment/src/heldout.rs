//! Held-out scores and what is computed from them, as plain data: the AUC over pairs
//! scored by the same model, the seeded fold dealing, the bootstrap interval of a mean
//! AUC, and `crossfit.csv` / `crossfit.md`. The stage that produces them is
//! [`crate::crossfit`]; the run's [`Outcome`](crate::outcome::Outcome) carries them.

use std::fmt::Write as _;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::io::{IoError, write_text};

/// Bootstrap resamples per interval.
pub const RESAMPLES: usize = 1000;

/// Held-out scores of one group × feature × model × seed.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldOut {
    /// Each normal clip's fold and its score by that fold's model (which did not see it).
    pub normal: Vec<(usize, f64)>,
    /// Each anomalous clip's score by every fold's model, by fold.
    pub anomalous: Vec<Vec<f64>>,
}

impl HeldOut {
    /// AUC over the (normal, anomalous) pairs scored by the same model, ties counted half.
    ///
    /// ```
    /// use aad_experiment::crossfit::HeldOut;
    /// // Fold 0's model ranks its normal below both anomalies; fold 1's between them.
    /// let h = HeldOut {
    ///     normal: vec![(0, 0.1), (1, 0.5)],
    ///     anomalous: vec![vec![0.9, 0.4], vec![0.8, 0.6]],
    /// };
    /// assert_eq!(h.auc(), 0.75);
    /// ```
    pub fn auc(&self) -> f64 {
        self.weighted_auc(None)
    }

    /// The AUC with each normal and anomalous clip counted `weights.0[i]` and
    /// `weights.1[j]` times (a bootstrap draw).
    fn weighted_auc(&self, weights: Option<(&[u32], &[u32])>) -> f64 {
        let wn = |i: usize| weights.map_or(1.0, |(n, _)| f64::from(n[i]));
        let wa = |j: usize| weights.map_or(1.0, |(_, a)| f64::from(a[j]));
        let folds = self.anomalous.first().map_or(0, Vec::len);
        let (mut num, mut den) = (0.0, 0.0);
        let mut sorted: Vec<(f64, f64)> = Vec::with_capacity(self.anomalous.len());
        let mut cum = Vec::with_capacity(self.anomalous.len() + 1);
        for k in 0..folds {
            sorted.clear();
            sorted.extend(
                self.anomalous
                    .iter()
                    .enumerate()
                    .map(|(j, s)| (s[k], wa(j)))
                    .filter(|(_, w)| *w > 0.0),
            );
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            cum.clear();
            cum.push(0.0);
            for &(_, w) in &sorted {
                cum.push(cum[cum.len() - 1] + w);
            }
            let total = cum[cum.len() - 1];
            for (i, &(fold, x)) in self.normal.iter().enumerate() {
                let w = wn(i);
                if fold != k || w == 0.0 {
                    continue;
                }
                let lo = sorted.partition_point(|a| a.0 < x);
                let hi = sorted.partition_point(|a| a.0 <= x);
                let above = total - cum[hi];
                let tied = cum[hi] - cum[lo];
                num += w * (above + 0.5 * tied);
                den += w * total;
            }
        }
        if den > 0.0 { num / den } else { f64::NAN }
    }
}

/// The fold of each of `n` clips: a seeded shuffle dealt round-robin into `k` folds, so
/// fold sizes differ by at most one.
pub fn folds(n: usize, k: usize, seed: u64) -> Vec<usize> {
    aad_models::deal_folds(n, k, seed ^ 0x6372_6f73_7366_6974)
}

/// Mean AUC of several held-out sets and its percentile bootstrap interval at `level`
/// (e.g. 0.95). `sets` are (group, held-out scores); sets of the same group share their
/// clips, so they share each resample's draw.
pub fn mean_auc_interval(
    sets: &[(usize, &HeldOut)],
    resamples: usize,
    level: f64,
    seed: u64,
) -> (f64, f64, f64) {
    let mean = |aucs: &mut dyn Iterator<Item = f64>| {
        let (s, n) = aucs.fold((0.0, 0usize), |(s, n), a| (s + a, n + 1));
        s / n.max(1) as f64
    };
    let point = mean(&mut sets.iter().map(|(_, h)| h.auc()));
    let mut groups: Vec<usize> = sets.iter().map(|(g, _)| *g).collect();
    groups.sort_unstable();
    groups.dedup();
    // Each group's clip counts, from its first set.
    let sizes: Vec<(usize, usize)> = groups
        .iter()
        .map(|g| {
            let h = sets
                .iter()
                .find(|(x, _)| x == g)
                .map_or_else(|| sets[0].1, |s| s.1);
            (h.normal.len(), h.anomalous.len())
        })
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draw = |n: usize| {
        let mut w = vec![0u32; n];
        for _ in 0..n {
            w[rng.random_range(0..n)] += 1;
        }
        w
    };
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            let draws: Vec<(Vec<u32>, Vec<u32>)> =
                sizes.iter().map(|&(n, a)| (draw(n), draw(a))).collect();
            mean(&mut sets.iter().map(|(g, h)| {
                let (n, a) = &draws[groups.binary_search(g).unwrap_or(0)];
                h.weighted_auc(Some((n, a)))
            }))
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = (p * (means.len().max(1) - 1) as f64).round() as usize;
        means.get(pos).copied().unwrap_or(f64::NAN)
    };
    (point, q((1.0 - level) / 2.0), q((1.0 + level) / 2.0))
}

/// One group × feature × model × seed of the cross-fitted run.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossFitRow {
    /// Index of the group in the run's groups.
    pub group: usize,
    /// SNR label (`na` without one).
    pub snr: String,
    /// Machine type.
    pub machine_type: String,
    /// Machine id.
    pub machine_id: String,
    /// Feature name.
    pub feature: String,
    /// Detector name.
    pub model: String,
    /// Seed of the folds and of the fits.
    pub seed: u64,
    /// Folds.
    pub folds: usize,
    /// The scores.
    pub held_out: HeldOut,
}

/// One machine type × feature × detector: mean AUC over its groups and seeds with a 95 %
/// bootstrap interval.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossFitSummary {
    /// Machine type.
    pub machine_type: String,
    /// Feature name.
    pub feature: String,
    /// Detector name.
    pub model: String,
    /// Mean AUC.
    pub auc: f64,
    /// Lower end of the interval.
    pub lo: f64,
    /// Upper end of the interval.
    pub hi: f64,
    /// Groups (machine ids × SNRs).
    pub groups: usize,
}

/// What the cross-fitting stage gives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrossFit {
    /// Every fit that ran.
    pub rows: Vec<CrossFitRow>,
    /// Per machine type, feature and detector.
    pub summary: Vec<CrossFitSummary>,
    /// Jobs that failed, in words.
    pub failures: Vec<String>,
}

/// Mean AUC and interval per machine type × feature × model, in order of appearance.
pub(crate) fn summarise(rows: &[CrossFitRow]) -> Vec<CrossFitSummary> {
    let mut keys: Vec<(&str, &str, &str)> = Vec::new();
    for r in rows {
        let key = (
            r.machine_type.as_str(),
            r.feature.as_str(),
            r.model.as_str(),
        );
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.par_iter()
        .map(|&(t, f, m)| {
            let sets: Vec<(usize, &HeldOut)> = rows
                .iter()
                .filter(|r| {
                    (
                        r.machine_type.as_str(),
                        r.feature.as_str(),
                        r.model.as_str(),
                    ) == (t, f, m)
                })
                .map(|r| (r.group, &r.held_out))
                .collect();
            let (auc, lo, hi) = mean_auc_interval(&sets, RESAMPLES, 0.95, key_seed(&[t, f, m]));
            let mut groups: Vec<usize> = sets.iter().map(|(g, _)| *g).collect();
            groups.dedup();
            CrossFitSummary {
                machine_type: t.to_string(),
                feature: f.to_string(),
                model: m.to_string(),
                auc,
                lo,
                hi,
                groups: groups.len(),
            }
        })
        .collect()
}

/// `crossfit.csv`'s header.
pub const CSV_HEADER: &str =
    "snr,machine_type,machine_id,feature,model,seed,folds,n_normal,n_abnormal,auc";

/// Writes `crossfit.csv` (one row per fit) and `crossfit.md` (the per-type table with
/// intervals) into `out`.
///
/// # Errors
/// Any I/O error, naming the file.
pub fn write(out: &Path, cf: &CrossFit) -> Result<(), IoError> {
    let mut csv = format!("{CSV_HEADER}\n");
    for r in &cf.rows {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{}",
            r.snr,
            r.machine_type,
            r.machine_id,
            r.feature,
            r.model,
            r.seed,
            r.folds,
            r.held_out.normal.len(),
            r.held_out.anomalous.len(),
            r.held_out.auc()
        );
    }
    write_text(&out.join("crossfit.csv"), &csv)?;
    write_text(&out.join("crossfit.md"), &markdown(cf))
}

/// The per-type table: mean AUC, its 95 % interval, and whether it differs from the best
/// of its machine type.
fn markdown(cf: &CrossFit) -> String {
    let mut s = String::from(
        "# Cross-fitted results\n\nEvery normal clip is scored by a model that did not see it \
         (k-fold cross-fitting of each machine id's normal clips; each fold's model also scores \
         every anomalous clip, and the AUC counts pairs scored by the same model). AUC: mean \
         over machine ids and seeds; interval: 95 % percentile bootstrap over clips \
         (resampled within each id and class). A row whose mean lies inside the best row's \
         interval is marked `≈ best`: that difference is no difference.\n\n\
         | machine | feature | model | AUC | 95 % interval | ids | vs best |\n\
         |---|---|---|---:|---|---:|---|\n",
    );
    let mut types: Vec<&str> = cf.summary.iter().map(|r| r.machine_type.as_str()).collect();
    types.dedup();
    for t in types {
        let rows: Vec<&CrossFitSummary> =
            cf.summary.iter().filter(|r| r.machine_type == t).collect();
        let Some(best) = rows.iter().max_by(|a, b| a.auc.total_cmp(&b.auc)) else {
            continue;
        };
        for r in &rows {
            let mark = if std::ptr::eq(*r, *best) {
                "best"
            } else if r.auc >= best.lo {
                "≈ best"
            } else {
                "below"
            };
            let _ = writeln!(
                s,
                "| {t} | {} | {} | {:.3} | [{:.3}, {:.3}] | {} | {mark} |",
                r.feature, r.model, r.auc, r.lo, r.hi, r.groups
            );
        }
    }
    if !cf.failures.is_empty() {
        let _ = writeln!(s, "\nFailed ({}):\n", cf.failures.len());
        for f in &cf.failures {
            let _ = writeln!(s, "- {f}");
        }
    }
    s
}

/// The bootstrap seed of a row: FNV-1a of its names, so a row's interval does not depend
/// on which other rows the run holds.
fn key_seed(parts: &[&str]) -> u64 {
    parts
        .iter()
        .flat_map(|p| p.bytes().chain([0]))
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain AUC of one model's scores, for comparison.
    fn plain(normal: &[f64], anomalous: &[f64]) -> f64 {
        let mut s = 0.0;
        for &n in normal {
            for &a in anomalous {
                s += if a > n {
                    1.0
                } else if a == n {
                    0.5
                } else {
                    0.0
                };
            }
        }
        s / (normal.len() * anomalous.len()) as f64
    }

    #[test]
    fn one_fold_is_the_plain_auc_and_pairs_never_cross_models() {
        let normal = [0.1, 0.4, 0.35, 0.8];
        let anomalous = [0.3, 0.9, 0.4];
        let h = HeldOut {
            normal: normal.iter().map(|&s| (0, s)).collect(),
            anomalous: anomalous.iter().map(|&s| vec![s]).collect(),
        };
        assert_eq!(h.auc(), plain(&normal, &anomalous));
        // Fold 1's model scores everything 100 higher: compared across models every
        // anomaly would beat fold 0's normals; within models nothing changes.
        let h2 = HeldOut {
            normal: vec![(0, 0.1), (0, 0.4), (1, 100.35), (1, 100.8)],
            anomalous: anomalous.iter().map(|&s| vec![s, s + 100.0]).collect(),
        };
        let want =
            (plain(&[0.1, 0.4], &anomalous) * 2.0 + plain(&[0.35, 0.8], &anomalous) * 2.0) / 4.0;
        assert!((h2.auc() - want).abs() < 1e-12);
        // Weights count clips: doubling a normal equals listing it twice.
        let w = h.weighted_auc(Some((&[2, 1, 1, 1], &[1, 1, 1])));
        let normal5 = [0.1, 0.1, 0.4, 0.35, 0.8];
        assert!((w - plain(&normal5, &anomalous)).abs() < 1e-12);
    }

    #[test]
    fn folds_are_balanced_seeded_and_cover_every_clip() {
        let f = folds(11, 5, 3);
        let mut sizes = [0; 5];
        f.iter().for_each(|&i| sizes[i] += 1);
        assert!(sizes.iter().all(|&s| s == 2 || s == 3), "{sizes:?}");
        assert_eq!(f, folds(11, 5, 3));
        assert_ne!(f, folds(11, 5, 4));
    }

    #[test]
    fn intervals_contain_the_mean_and_shrink_with_more_clips() {
        let make = |n: usize, shift: f64| {
            let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
            HeldOut {
                normal: (0..n).map(|i| (i % 2, rng.random::<f64>())).collect(),
                anomalous: (0..n)
                    .map(|_| {
                        let s = rng.random::<f64>() + shift;
                        vec![s, s]
                    })
                    .collect(),
            }
        };
        let (small, big) = (make(10, 0.3), make(200, 0.3));
        let (m1, lo1, hi1) = mean_auc_interval(&[(0, &small)], 500, 0.95, 1);
        let (m2, lo2, hi2) = mean_auc_interval(&[(0, &big)], 500, 0.95, 1);
        assert!(lo1 <= m1 && m1 <= hi1 && lo2 <= m2 && m2 <= hi2);
        assert!(
            hi2 - lo2 < (hi1 - lo1) / 2.0,
            "{lo1}..{hi1} vs {lo2}..{hi2}"
        );
        assert_eq!(
            mean_auc_interval(&[(0, &small)], 500, 0.95, 1),
            (m1, lo1, hi1),
            "seeded"
        );
    }
}
