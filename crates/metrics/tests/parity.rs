//! Parity with scikit-learn 1.9 / scipy 1.17 on committed fixtures
//! (`scripts/fixtures/gen_metrics.py`), an oracle test and property tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aad_core::Label;
use aad_metrics::*;
use serde_json::Value;

const TOL: f64 = 1e-12;

fn fixtures() -> Value {
    aad_testutil::read_json(
        &aad_testutil::fixtures_dir()
            .join("metrics")
            .join("cases.json"),
    )
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::INFINITY))
        .collect()
}

fn labels(v: &Value) -> Vec<Label> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| {
            if x.as_i64().unwrap() == 1 {
                Label::Anomalous
            } else {
                Label::Normal
            }
        })
        .collect()
}

fn close(a: f64, b: f64, what: &str) -> f64 {
    let d = (a - b).abs();
    assert!(
        d <= TOL || (a.is_infinite() && a == b),
        "{what}: ours {a} vs sklearn {b} (diff {d:e})"
    );
    if a.is_infinite() { 0.0 } else { d }
}

fn all_close(a: &[f64], b: &[f64], what: &str) -> f64 {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    a.iter()
        .zip(b)
        .map(|(x, y)| close(*x, *y, what))
        .fold(0.0, f64::max)
}

#[test]
fn roc_auc_and_pauc_agree_with_sklearn_on_every_case() {
    let fx = fixtures();
    let mut worst = 0.0f64;
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 14);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let s = f64s(&c["scores"]);
        let l = labels(&c["labels"]);
        worst = worst.max(close(
            roc_auc(&s, &l).unwrap(),
            c["auc"].as_f64().unwrap(),
            name,
        ));
        worst = worst.max(close(
            rank_auc(&s, &l).unwrap(),
            c["auc"].as_f64().unwrap(),
            name,
        ));
        for (drop, key) in [(true, "roc"), (false, "roc_all")] {
            let roc = roc_curve_with(&s, &l, drop).unwrap();
            worst = worst.max(all_close(&roc.fpr, &f64s(&c[key]["fpr"]), name));
            worst = worst.max(all_close(&roc.tpr, &f64s(&c[key]["tpr"]), name));
            worst = worst.max(all_close(
                &roc.thresholds,
                &f64s(&c[key]["thresholds"]),
                name,
            ));
        }
        for p in c["pauc"].as_array().unwrap() {
            let max_fpr = p["p"].as_f64().unwrap();
            let what = format!("{name} p={max_fpr}");
            let ours = partial_auc(&s, &l, max_fpr).unwrap();
            worst = worst.max(close(ours, p["mcclish"].as_f64().unwrap(), &what));
            assert!((0.0..=1.0).contains(&ours), "{what}: {ours}");
            let raw = partial_auc_raw(&s, &l, max_fpr).unwrap();
            worst = worst.max(close(raw, p["raw"].as_f64().unwrap(), &what));
            match p["dcase_formula"].as_f64() {
                Some(v) => {
                    worst = worst.max(close(
                        partial_auc_dcase_formula(&s, &l, max_fpr).unwrap(),
                        v,
                        &what,
                    ))
                }
                None => assert!(
                    partial_auc_dcase_formula(&s, &l, max_fpr).is_err(),
                    "{what}"
                ),
            }
        }
        if let Some(t) = c.get("at_threshold") {
            let thr = t["threshold"].as_f64().unwrap();
            let r = binary_report(&s, &l, thr).unwrap();
            close(r.precision, t["precision"].as_f64().unwrap(), name);
            close(r.recall, t["recall"].as_f64().unwrap(), name);
            close(r.f1, t["f1"].as_f64().unwrap(), name);
            close(
                r.balanced_accuracy,
                t["balanced_accuracy"].as_f64().unwrap(),
                name,
            );
        }
        if let Some(j) = c.get("jackknife") {
            let ci = jackknife_auc(&s, &l, 0.95).unwrap();
            // The jackknife sums many AUCs and a t quantile: agree to 1e-9.
            for (ours, key) in [(ci.estimate, "estimate"), (ci.lo, "lo"), (ci.hi, "hi")] {
                let want = j[key].as_f64().unwrap();
                assert!(
                    (ours - want).abs() < 1e-9,
                    "{name} jackknife {key}: {ours} vs {want}"
                );
            }
        }
    }
    eprintln!("largest difference from scikit-learn: {worst:e}");
}

#[test]
fn thresholds_agree_with_numpy_and_scipy() {
    let fx = fixtures();
    for t in fx["thresholds"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        let x = f64s(&t["scores"]);
        close(
            threshold_mean_std(&x, 1.0).unwrap(),
            t["mean_std_k1"].as_f64().unwrap(),
            name,
        );
        close(
            threshold_mean_std(&x, 3.0).unwrap(),
            t["mean_std_k3"].as_f64().unwrap(),
            name,
        );
        for q in t["quantiles"].as_array().unwrap() {
            let qv = q["q"].as_f64().unwrap();
            close(
                threshold_quantile(&x, qv).unwrap(),
                q["value"].as_f64().unwrap(),
                name,
            );
        }
        let g = &t["gamma_floc0"];
        let fit = GammaFit::fit(&x).unwrap();
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
        assert!(
            rel(fit.shape, g["shape"].as_f64().unwrap()) < 1e-9,
            "{name} shape {}",
            fit.shape
        );
        assert!(
            rel(fit.scale, g["scale"].as_f64().unwrap()) < 1e-9,
            "{name} scale"
        );
        for (p, key) in [(0.9, "ppf90"), (0.99, "ppf99")] {
            let ours = threshold_gamma(&x, p).unwrap();
            assert!(
                rel(ours, g[key].as_f64().unwrap()) < 1e-9,
                "{name} {key}: {ours}"
            );
        }
        // scipy's free-location fit lands elsewhere; report how far, do not pretend parity.
        let free = t["gamma_free_loc"]["ppf90"].as_f64().unwrap();
        eprintln!(
            "{name}: gamma ppf90 floc=0 {:.6} vs scipy free loc {free:.6} ({:+.2} %)",
            threshold_gamma(&x, 0.9).unwrap(),
            100.0 * (threshold_gamma(&x, 0.9).unwrap() - free) / free
        );
    }
    let h = &fx["hmean"];
    close(
        harmonic_mean(&f64s(&h["values"]), h["eps"].as_f64().unwrap()).unwrap(),
        h["value"].as_f64().unwrap(),
        "hmean",
    );
}

/// A small deterministic generator for the property tests.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn random_case(rng: &mut Lcg, n: usize, ties: bool) -> (Vec<f64>, Vec<Label>) {
    let mut l: Vec<Label> = (0..n)
        .map(|_| {
            if rng.next() < 0.4 {
                Label::Anomalous
            } else {
                Label::Normal
            }
        })
        .collect();
    l[0] = Label::Normal;
    l[1] = Label::Anomalous;
    let s = (0..n)
        .map(|i| {
            let v = rng.next() + if l[i].is_anomalous() { 0.3 } else { 0.0 };
            if ties { (v * 5.0).round() } else { v }
        })
        .collect();
    (s, l)
}

#[test]
fn oracle_brute_force_pairwise_auc_equals_rank_and_roc_auc() {
    let mut rng = Lcg(42);
    for trial in 0..200 {
        let n = 2 + (trial % 60);
        let (s, l) = random_case(&mut rng, n, trial % 2 == 0);
        let (mut wins, mut pairs) = (0.0, 0.0);
        for i in 0..n {
            for j in 0..n {
                if l[i].is_anomalous() && !l[j].is_anomalous() {
                    pairs += 1.0;
                    wins += if s[i] > s[j] {
                        1.0
                    } else if s[i] == s[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        let brute = wins / pairs;
        assert!(
            (rank_auc(&s, &l).unwrap() - brute).abs() < 1e-12,
            "trial {trial}"
        );
        assert!(
            (roc_auc(&s, &l).unwrap() - brute).abs() < 1e-12,
            "trial {trial}"
        );
    }
}

#[test]
fn properties_negation_monotone_invariance_and_pauc_range() {
    let mut rng = Lcg(7);
    for trial in 0..200 {
        let (s, l) = random_case(&mut rng, 3 + trial % 80, trial % 3 == 0);
        let auc = roc_auc(&s, &l).unwrap();
        let neg: Vec<f64> = s.iter().map(|v| -v).collect();
        assert!(
            (roc_auc(&neg, &l).unwrap() - (1.0 - auc)).abs() < 1e-12,
            "AUC(-s) = 1 - AUC(s)"
        );
        let mono: Vec<f64> = s.iter().map(|v| (3.0 * v).exp() + 7.0).collect();
        assert!(
            (roc_auc(&mono, &l).unwrap() - auc).abs() < 1e-12,
            "monotone invariance"
        );
        for p in [0.01, 0.1, 0.37, 0.9, 1.0] {
            let pa = partial_auc(&s, &l, p).unwrap();
            assert!((0.0..=1.0 + 1e-12).contains(&pa), "pAUC {pa} at p={p}");
            let raw = partial_auc_raw(&s, &l, p).unwrap();
            assert!(
                (0.0..=1.0 + 1e-12).contains(&raw),
                "raw pAUC {raw} at p={p}"
            );
            let conv = 0.5 * (1.0 + (raw * p - p * p / 2.0) / (p - p * p / 2.0));
            if p < 1.0 {
                assert!((conv - pa).abs() < 1e-12, "McClish conversion at p={p}");
            }
        }
    }
}

#[test]
fn bad_input_gets_typed_errors_with_the_numbers() {
    use Label::{Anomalous as A, Normal as N};
    assert_eq!(roc_auc(&[], &[]), Err(MetricsError::Empty));
    assert_eq!(
        roc_auc(&[0.1, 0.2], &[N]),
        Err(MetricsError::LengthMismatch {
            scores: 2,
            labels: 1
        })
    );
    let e = roc_auc(&[0.1, 0.2, 0.3], &[N, N, N]).unwrap_err();
    assert_eq!(
        e,
        MetricsError::OneClass {
            class: "normal",
            n: 3
        }
    );
    assert!(e.to_string().contains("only one class present (3 normal"));
    assert!(matches!(
        roc_auc(&[0.1, 0.2], &[A, A]),
        Err(MetricsError::OneClass {
            class: "anomalous",
            n: 2
        })
    ));
    assert!(matches!(
        roc_auc(&[0.1, f64::NAN], &[N, A]),
        Err(MetricsError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        roc_auc(&[f64::INFINITY, 0.1], &[N, A]),
        Err(MetricsError::NonFinite { index: 0, .. })
    ));
    for p in [0.0, -0.1, 1.5, f64::NAN] {
        let e = partial_auc(&[0.1, 0.2], &[N, A], p).unwrap_err();
        assert!(matches!(e, MetricsError::InvalidMaxFpr(_)), "{p}: {e}");
    }
    assert!(partial_auc(&[0.1, 0.2], &[N, A], 1.0).is_ok());
    assert!(threshold_quantile(&[], 0.5).is_err());
    assert!(threshold_quantile(&[1.0], 1.5).is_err());
    assert!(GammaFit::fit(&[1.0, -2.0]).is_err());
    assert!(GammaFit::fit(&[2.0, 2.0, 2.0]).is_err());
    assert!(jackknife_auc(&[0.1, 0.2, 0.3], &[N, N, A], 0.95).is_err());
    assert!(bootstrap_auc(&[0.1, 0.2], &[N, A], 5, 0.95, 1).is_err());
    assert!(harmonic_mean(&[0.5, -0.1], 1e-9).is_err());
    assert!(mean(&[]).is_err());
}

#[test]
fn bootstrap_is_seeded_and_brackets_the_estimate() {
    let mut rng = Lcg(3);
    let (s, l) = random_case(&mut rng, 60, false);
    let a = bootstrap_auc(&s, &l, 500, 0.95, 9).unwrap();
    let b = bootstrap_auc(&s, &l, 500, 0.95, 9).unwrap();
    let c = bootstrap_auc(&s, &l, 500, 0.95, 10).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.lo < a.estimate && a.estimate < a.hi, "{a:?}");
    assert!(a.hi - a.lo < 0.5);
}

#[test]
fn domain_auc_uses_all_anomalies_and_the_official_score_is_a_harmonic_mean() {
    use Label::{Anomalous as A, Normal as N};
    let s = [0.1, 0.2, 0.9, 0.6, 0.7, 0.3];
    let l = [N, N, N, N, A, A];
    let target = [false, false, true, true, false, true];
    // Source normals {0.1, 0.2} vs anomalies {0.7, 0.3}: perfect.
    assert_eq!(domain_auc(&s, &l, &target, &false).unwrap(), 1.0);
    // Target normals {0.9, 0.6} vs {0.7, 0.3}: 1 of 4 pairs.
    assert_eq!(domain_auc(&s, &l, &target, &true).unwrap(), 0.25);
    let sec = SectionScores::compute(&s, &l, &target, 0.1).unwrap();
    let omega = official_score(&[sec]).unwrap();
    let want = 3.0 / (1.0 / sec.auc_source + 1.0 / sec.auc_target + 1.0 / sec.pauc);
    assert!((omega - want).abs() < 1e-15);
}
