//! The scores-CSV reader behind `examples/metrics_csv`, and its number format.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aad_metrics::io::{ScoresCsvError, format_g17, read_scores_csv};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_fixture_case_round_trips_through_csv_to_sklearns_numbers() {
    let fx = aad_testutil::read_json(&aad_testutil::fixtures_dir().join("metrics/cases.json"));
    let case = fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "heavy_ties_rounded")
        .unwrap();
    let mut text = String::from("file,score,label,extra\n");
    for (i, (s, l)) in case["scores"]
        .as_array()
        .unwrap()
        .iter()
        .zip(case["labels"].as_array().unwrap())
        .enumerate()
    {
        // format_g17 must round-trip every score exactly.
        text.push_str(&format!(
            "f{i}.wav,{},{},x\n",
            format_g17(s.as_f64().unwrap()),
            l
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let (scores, labels) = read_scores_csv(write(&dir, "s.csv", &text)).unwrap();
    let auc = aad_metrics::roc_auc(&scores, &labels).unwrap();
    assert_eq!(format_g17(auc), format_g17(case["auc"].as_f64().unwrap()));
    let p10 = case["pauc"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["p"] == 0.1)
        .unwrap();
    let pauc = aad_metrics::partial_auc(&scores, &labels, 0.1).unwrap();
    assert!((pauc - p10["mcclish"].as_f64().unwrap()).abs() < 1e-12);
}

#[test]
fn bad_files_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing_col = write(&dir, "a.csv", "lbl,score\n1,0.5\n");
    assert!(matches!(
        read_scores_csv(&missing_col),
        Err(ScoresCsvError::MissingColumn {
            column: "label",
            ..
        })
    ));
    let bad_label = write(&dir, "b.csv", "label,score\n0,0.1\n2,0.5\n");
    let e = read_scores_csv(&bad_label).unwrap_err();
    assert!(matches!(e, ScoresCsvError::BadRow { line: 3, .. }), "{e}");
    assert!(
        e.to_string()
            .contains("b.csv: line 3: label must be 0 or 1, got 2"),
        "{e}"
    );
    let bad_score = write(&dir, "c.csv", "label,score\n0,abc\n");
    assert!(
        read_scores_csv(&bad_score)
            .unwrap_err()
            .to_string()
            .contains("not a number")
    );
    for (name, text) in [("n.csv", "nan"), ("i.csv", "-inf")] {
        let f = write(&dir, name, &format!("label,score\n0,0.5\n1,{text}\n"));
        let e = read_scores_csv(&f).unwrap_err().to_string();
        assert!(
            e.contains(&format!("{name}: line 3: score is not finite")),
            "{e}"
        );
    }
    let empty = write(&dir, "d.csv", "label,score\n");
    assert!(matches!(
        read_scores_csv(&empty),
        Err(ScoresCsvError::Empty { .. })
    ));
    assert!(matches!(
        read_scores_csv(dir.path().join("none.csv")),
        Err(ScoresCsvError::Io { .. })
    ));
    let words = write(
        &dir,
        "e.csv",
        "score,label\n0.3,anomaly\n0.1,normal\n0.2,1.0\n",
    );
    let (_, l) = read_scores_csv(&words).unwrap();
    assert_eq!(l.iter().filter(|l| l.is_anomalous()).count(), 2);
}

#[test]
fn g17_matches_printf_for_a_range_of_magnitudes() {
    // Values checked against Python's '%.17g'.
    for (x, want) in [
        (0.5, "0.5"),
        (123.456, "123.456"),
        (-2.5e-6, "-2.5000000000000002e-06"),
        (1e20, "1e+20"),
        (0.00012345, "0.00012344999999999999"),
        (2.0 / 3.0, "0.66666666666666663"),
        (1.0, "1"),
        (-0.0, "-0"),
        (0.9, "0.90000000000000002"),
    ] {
        assert_eq!(format_g17(x), want, "{x}");
    }
}
