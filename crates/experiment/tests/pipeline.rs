//! End to end on a tiny synthetic dataset: outputs and their schema, an easy anomaly,
//! determinism, the cache, a DCASE 2020 layout, and bad files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use aad_data::{SyntheticConfig, generate};
use aad_experiment::registry::{FeatureSpec, ModelSpec};
use aad_experiment::report::CSV_HEADER;
use aad_experiment::{ExperimentConfig, SnrFilter, run};

/// Fan and valve, ids 00 and 02, 10 normal + 5 loud anomalies of 2 s at 6 dB.
fn easy_data(seed: u64) -> SyntheticConfig {
    let mut c = SyntheticConfig::tiny(seed);
    c.n_normal = 10;
    c.n_abnormal = 5;
    c.snrs_db = vec![6];
    c.severity_db = (-3.0, 0.0);
    c
}

fn config(data: &Path, out: &Path, features: &str, models: &str) -> ExperimentConfig {
    let mut cfg = ExperimentConfig::new(out);
    cfg.data = Some(data.to_path_buf());
    // Beside the outputs, not in the user's shared cache.
    cfg.cache = Some(out.with_extension("cache"));
    cfg.features = FeatureSpec::parse_list(features, 16_000).unwrap();
    cfg.models = ModelSpec::parse_list(models).unwrap();
    cfg.seeds = vec![1, 2];
    cfg.epochs = Some(30);
    cfg.progress = false;
    cfg.figures = false;
    cfg
}

fn rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn synthetic_run_writes_the_documented_outputs_and_finds_an_easy_anomaly() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    generate(&easy_data(7), &data).unwrap();
    let out = tmp.path().join("out");
    let mut cfg = config(&data, &out, "logmel_mimii,cens", "ae,knn,lof_frames");
    cfg.figures = true;
    let o = run(&cfg).unwrap();

    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(csv.lines().next().unwrap(), CSV_HEADER);
    let rows = rows(&csv);
    // 2 machine types x 2 ids x 2 features x 3 models x 2 seeds.
    assert_eq!(rows.len(), 48);
    assert_eq!(o.rows.len(), 48);
    // jobs.csv: one row per result, in the same order, with its times.
    let jobs = std::fs::read_to_string(out.join("jobs.csv")).unwrap();
    let jobs: Vec<Vec<String>> = jobs
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(jobs.len(), 48);
    for (j, r) in jobs.iter().zip(&rows) {
        assert_eq!(j[0], format!("{}/{}/{}", r[0], r[1], r[2]), "{j:?} {r:?}");
        assert_eq!((&j[1], &j[2], &j[3]), (&r[3], &r[4], &r[5]), "{j:?} {r:?}");
        assert!(
            j[7].parse::<f64>().unwrap() > 0.0,
            "a fit takes time: {j:?}"
        );
    }
    for r in &rows {
        assert_eq!(r.len(), 11, "{r:?}");
        assert_eq!(r[0], "6dB");
        assert!(r[1] == "fan" || r[1] == "valve");
        assert!(r[2] == "id_00" || r[2] == "id_02");
        assert_eq!(
            (r[6].as_str(), r[7].as_str(), r[8].as_str()),
            ("5", "5", "5")
        );
        for v in [&r[9], &r[10]] {
            let x: f64 = v.parse().unwrap();
            assert!((0.0..=1.0).contains(&x), "{r:?}");
        }
    }
    // Loud fan anomalies (humming, rubbing) are easy on log-Mel: kNN on clip statistics
    // and LOF on frames separate them in every id and seed, the autoencoder on average.
    // (An AE trained for 3 epochs instead scores them *below* normals, AUC ~0: on raw dB
    // inputs it has not learnt yet, and added energy brings dB values closer to 0.)
    let auc = |r: &Vec<String>| r[9].parse::<f64>().unwrap();
    let fan_logmel = |m: &str| -> Vec<f64> {
        rows.iter()
            .filter(|r| r[1] == "fan" && r[3] == "logmel_mimii" && r[4] == m)
            .map(auc)
            .collect()
    };
    for m in ["knn", "lof_frames"] {
        let v = fan_logmel(m);
        assert_eq!(v.len(), 4);
        assert!(v.iter().all(|a| *a > 0.9), "{m}: {v:?}");
    }
    let ae = fan_logmel("ae");
    assert!(ae.iter().sum::<f64>() / ae.len() as f64 > 0.9, "ae: {ae:?}");

    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    for needle in [
        "## AUC per machine type and SNR",
        "## pAUC (p = 0.1) per machine type and SNR",
        "## AUC per machine id",
        "| fan | 6dB |",
        "logmel_mimii / knn",
        "**",
        "## Stage timings",
    ] {
        assert!(
            summary.contains(needle),
            "summary.md lacks {needle:?}:\n{summary}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["rows"], 48);
    assert_eq!(json["cache"]["misses"], 60 * 2);
    assert_eq!(json["cache"]["rejected"], 0);
    // Plain values, not Rust Debug text.
    let mel = &json["config"]["features"][0]["parameters"]["LogMel"];
    assert_eq!(mel["n_mels"], 64, "{mel}");
    assert_eq!(mel["stft"]["n_fft"], 1024, "{mel}");
    assert_eq!(json["config"]["snr"], "all", "{}", json["config"]);
    for stage in [
        "discover",
        "split",
        "extract",
        "train_score",
        "figures",
        "total",
    ] {
        assert!(json["timings_s"][stage].as_f64().unwrap() >= 0.0, "{stage}");
        let usage = &json["stage_usage"][stage];
        assert_eq!(usage["wall_s"], json["timings_s"][stage], "{stage}");
        if cfg!(unix) {
            assert!(usage["cpu_s"].as_f64().unwrap() >= 0.0, "{stage}");
            // A running maximum of a process that decoded and trained: megabytes at least.
            assert!(
                usage["peak_rss_bytes"].as_u64().unwrap() > 1_000_000,
                "{stage}"
            );
        }
    }
    let usage = &json["stage_usage"];
    assert!(
        usage["total"]["peak_rss_bytes"].as_u64() >= usage["discover"]["peak_rss_bytes"].as_u64(),
        "the peak is a running maximum"
    );
    assert!(
        usage["total"]["cpu_s"].as_f64().unwrap() + 1e-9
            >= usage["extract"]["cpu_s"].as_f64().unwrap()
                + usage["train_score"]["cpu_s"].as_f64().unwrap(),
        "the whole run took at least the CPU of two of its stages"
    );
    assert!(
        json["costs"]["extract_ms_per_clip"]["cens"]
            .as_f64()
            .unwrap()
            > 0.0
    );

    let count = |sub: &str| {
        std::fs::read_dir(out.join("figures").join(sub))
            .unwrap()
            .count()
    };
    assert_eq!(count("roc"), 4);
    assert_eq!(count("histograms"), 8);
    assert_eq!(count("loss"), 8);
    assert_eq!(count("clips"), 8); // 2 machines x {normal, abnormal} x {log-Mel, CENS}
}

#[test]
fn same_seed_gives_identical_results_with_or_without_cache_and_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    generate(&easy_data(3), &data).unwrap();
    let run_to = |name: &str, jobs: usize| {
        let out = tmp.path().join(name);
        let mut cfg = config(
            &data,
            &out,
            "logmel_mimii,cens_seed",
            "ae,iforest,knn_frames",
        );
        cfg.cache = Some(tmp.path().join("cache"));
        cfg.jobs = jobs;
        let o = run(&cfg).unwrap();
        (std::fs::read_to_string(out.join("results.csv")).unwrap(), o)
    };
    let (a, first) = run_to("a", 2);
    let (b, second) = run_to("b", 1);
    assert_eq!(first.cache_hits, 0);
    assert_eq!(
        second.cache_misses, 0,
        "the rerun must read every feature from the cache"
    );
    assert_eq!(a, b, "same seeds, same data: results.csv must be identical");
    // And the seed matters for the randomised models.
    let auc = |csv: &str, model: &str, seed: &str| -> Vec<String> {
        rows(csv)
            .into_iter()
            .filter(|r| r[4] == model && r[5] == seed)
            .map(|r| format!("{}{}", r[9], r[10]))
            .collect()
    };
    assert_ne!(auc(&a, "iforest", "1"), auc(&a, "iforest", "2"));
}

#[test]
fn dcase2020_layout_bad_files_and_small_groups_are_reported_and_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let synth = tmp.path().join("synth");
    generate(&easy_data(5), &synth).unwrap();
    // Rearrange as DCASE 2020: dev_data/fan/{train,test}/{normal,anomaly}_id_XX_N.wav.
    let dev = tmp.path().join("dev_data");
    for id in ["00", "02"] {
        let src = synth.join("6dB").join("fan").join(format!("id_{id}"));
        let mut normals: Vec<_> = std::fs::read_dir(src.join("normal"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        normals.sort();
        let mut abnormals: Vec<_> = std::fs::read_dir(src.join("abnormal"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        abnormals.sort();
        for (i, p) in normals.iter().enumerate() {
            let (split, n) = if i < 5 { ("test", i) } else { ("train", i) };
            let dst = dev
                .join("fan")
                .join(split)
                .join(format!("normal_id_{id}_{n:08}.wav"));
            std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
            std::fs::copy(p, dst).unwrap();
        }
        for (i, p) in abnormals.iter().enumerate() {
            let dst = dev
                .join("fan")
                .join("test")
                .join(format!("anomaly_id_{id}_{i:08}.wav"));
            std::fs::copy(p, dst).unwrap();
        }
    }
    // A corrupt training file, and a machine with one clip.
    std::fs::write(
        dev.join("fan/train/normal_id_00_00000099.wav"),
        b"RIFF\x10\0\0\0WAVEjunk",
    )
    .unwrap();
    let lonely = dev.join("valve/train/normal_id_00_00000000.wav");
    std::fs::create_dir_all(lonely.parent().unwrap()).unwrap();
    std::fs::copy(dev.join("fan/train/normal_id_02_00000005.wav"), &lonely).unwrap();

    let out = tmp.path().join("out");
    let mut cfg = config(&dev, &out, "logmel_mimii", "knn,mahalanobis");
    cfg.snr = SnrFilter::parse("na").unwrap();
    let o = run(&cfg).unwrap();
    assert_eq!(o.groups.len(), 2, "fan id_00 and id_02");
    assert!(
        o.skipped_files
            .iter()
            .any(|(p, _)| p.ends_with("normal_id_00_00000099.wav")),
        "{:?}",
        o.skipped_files
    );
    assert!(
        o.skipped_groups.iter().any(|(g, _)| g.contains("valve")),
        "{:?}",
        o.skipped_groups
    );
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let rows = rows(&csv);
    assert_eq!(rows.len(), 2 * 2 * 2);
    assert!(rows.iter().all(|r| r[0] == "na" && r[1] == "fan"));
    // id_00 trains on its 5 readable normals; the corrupt one is named in the summary.
    assert!(
        rows.iter().any(|r| r[2] == "id_00" && r[6] == "5"),
        "{rows:?}"
    );
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("normal_id_00_00000099.wav"));
}

#[test]
fn bad_settings_are_errors_not_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path(), &tmp.path().join("out"), "cens", "knn");
    cfg.seeds = vec![1, 1];
    assert!(run(&cfg).unwrap_err().to_string().contains("twice"));
    cfg.seeds = vec![1];
    // An empty folder: nothing to evaluate.
    let e = run(&cfg).unwrap_err();
    assert!(e.to_string().contains("nothing to evaluate"), "{e}");
    assert!(SnrFilter::parse("loud").is_err());
    assert_eq!(
        SnrFilter::parse("-6_dB_fan,0dB").unwrap(),
        SnrFilter::Only(vec![Some(aad_data::Snr(-6)), Some(aad_data::Snr(0))])
    );
}

#[test]
fn outputs_of_different_runs_never_mix() {
    use aad_experiment::pipeline::prepare_out;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert_eq!(prepare_out(&out, false).unwrap(), None, "absent folder");
    std::fs::create_dir_all(out.join("figures")).unwrap();
    std::fs::write(out.join("figures/stale_roc.png"), b"x").unwrap();
    std::fs::write(out.join("results.csv"), b"x").unwrap();
    // What a run killed while writing its summary leaves behind.
    std::fs::write(out.join(".summary.md.4242.7.tmp"), b"half").unwrap();
    let note = prepare_out(&out, false).unwrap().unwrap();
    assert!(note.contains("replacing"), "{note}");
    assert!(!out.join("figures").exists() && !out.join("results.csv").exists());
    assert!(!out.join(".summary.md.4242.7.tmp").exists());
    std::fs::write(out.join("results.csv"), b"x").unwrap();
    std::fs::write(out.join("my_notes.txt"), b"mine").unwrap();
    let e = prepare_out(&out, false).unwrap_err().to_string();
    assert!(
        e.contains("my_notes.txt") && e.contains("--overwrite"),
        "{e}"
    );
    assert!(out.join("results.csv").exists(), "refused: nothing removed");
    prepare_out(&out, true).unwrap();
    assert!(!out.join("results.csv").exists());
    assert_eq!(std::fs::read(out.join("my_notes.txt")).unwrap(), b"mine");
}

#[test]
fn stages_run_by_hand_give_the_same_results_csv_as_run() {
    // The path a distributed runner takes (the Python module's Ray example): plan,
    // extract clip by clip, keep the usable groups, fit each group from features in memory.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    generate(&easy_data(5), &data).unwrap();
    // One unreadable clip, so the readable-file rule is exercised too.
    let bad = data.join("6dB/fan/id_00/normal/00000003.wav");
    assert!(bad.is_file(), "fixture layout changed: {}", bad.display());
    std::fs::write(&bad, b"RIFF....WAVE").unwrap();
    let out = tmp.path().join("single");
    let cfg = config(&data, &out, "logmel_mimii,cens_seed", "ae,knn,lof");
    run(&cfg).unwrap();
    let single = std::fs::read_to_string(out.join("results.csv")).unwrap();

    // The unreadable clip is named, by type, and left out as `run` leaves it out.
    let plan = aad_experiment::plan(&cfg).unwrap();
    let mut fx = aad_experiment::ClipExtractor::new(&cfg).unwrap();
    let unreadable: Vec<_> = plan
        .clips()
        .into_iter()
        .filter_map(|c| fx.extract(&c.path).err())
        .collect();
    assert_eq!(unreadable.len(), 1, "{unreadable:?}");
    assert!(
        matches!(unreadable[0], aad_experiment::ClipError::Audio(_)),
        "{:?}",
        unreadable[0]
    );
    assert!(unreadable[0].to_string().contains("00000003.wav"));
    assert_eq!(results_by_stages(&cfg), single);
    let groups = aad_experiment::plan(&cfg).unwrap().report;
    let groups = aad_experiment::usable_groups(&groups, |p| {
        Some(aad_experiment::cache::hash_bytes(&std::fs::read(p).ok()?))
    })
    .groups;
    // A wrong number of feature sets is an error, not a panic.
    assert!(aad_experiment::fit_score_group(&cfg, &(&groups[0]).into(), Vec::new()).is_err());
}

#[test]
fn unreadable_anomalous_clips_do_not_change_the_split_of_the_readable_ones() {
    // Decode before splitting (issue: "bad files silently change training sets"): with
    // two of five anomalous clips broken, the MIMII split of the readable clips moves 3
    // normals to test, as it would for a group recorded with 3 anomalies.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    generate(&easy_data(8), &data).unwrap();
    for i in [1, 3] {
        let p = data.join(format!("6dB/fan/id_00/abnormal/{i:08}.wav"));
        assert!(p.is_file(), "fixture layout changed: {}", p.display());
        std::fs::write(&p, b"RIFF broken").unwrap();
    }
    let out = tmp.path().join("out");
    let cfg = config(&data, &out, "logmel_mimii", "knn");
    let o = run(&cfg).unwrap();
    assert_eq!(o.skipped_files.len(), 2, "{:?}", o.skipped_files);
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let fan0: Vec<_> = rows(&csv)
        .into_iter()
        .filter(|r| r[1] == "fan" && r[2] == "id_00")
        .collect();
    assert!(!fan0.is_empty());
    for r in &fan0 {
        assert_eq!(
            (r[6].as_str(), r[7].as_str(), r[8].as_str()),
            ("7", "3", "3"),
            "{r:?}"
        );
    }
    // The other groups keep the split of their (all readable) clips.
    for r in rows(&csv)
        .iter()
        .filter(|r| !(r[1] == "fan" && r[2] == "id_00"))
    {
        assert_eq!(
            (r[6].as_str(), r[7].as_str(), r[8].as_str()),
            ("5", "5", "5"),
            "{r:?}"
        );
    }
}

#[test]
fn the_same_audio_reached_twice_counts_once_and_conflicting_labels_are_left_out() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    generate(&easy_data(3), &data).unwrap();
    let g = |rel: &str| data.join(rel);
    // A copy in the same group, a copy in another machine's group (kept: each group is
    // evaluated on its own), and one recording filed as normal and as anomalous.
    let copies = [
        (
            "6dB/fan/id_00/normal/00000001.wav",
            "6dB/fan/id_00/normal/00000901.wav",
        ),
        (
            "6dB/fan/id_00/normal/00000002.wav",
            "6dB/valve/id_00/normal/00000902.wav",
        ),
        (
            "6dB/fan/id_02/normal/00000004.wav",
            "6dB/fan/id_02/abnormal/00000903.wav",
        ),
    ];
    for (from, to) in copies {
        std::fs::copy(g(from), g(to)).unwrap();
    }
    let out = tmp.path().join("out");
    let mut cfg = config(&data, &out, "logmel_mimii", "knn");
    cfg.seeds = vec![1];
    let o = run(&cfg).unwrap();
    use aad_experiment::SkipReason;
    let reason = |f: &str| {
        o.skipped_files
            .iter()
            .find(|(p, _)| p.ends_with(f))
            .map(|(_, why)| why.clone())
    };
    // Typed, so a caller can match on them; the text is what the reports print.
    let dup = reason("id_00/normal/00000901.wav").unwrap();
    assert!(
        matches!(&dup, SkipReason::Duplicate { kept } if kept.ends_with("id_00/normal/00000001.wav")),
        "{dup:?}"
    );
    assert!(dup.to_string().contains("counted once"), "{dup}");
    assert_eq!(reason("valve/id_00/normal/00000902.wav"), None);
    for f in [
        "fan/id_02/normal/00000004.wav",
        "fan/id_02/abnormal/00000903.wav",
    ] {
        let r = reason(f).unwrap();
        assert!(
            matches!(r, SkipReason::ConflictingLabels { .. }),
            "{f}: {r:?}"
        );
        assert!(r.to_string().contains("both normal and anomalous"), "{r}");
    }
    for grp in &o.groups {
        let mut seen = std::collections::BTreeSet::new();
        for c in grp.train.iter().chain(&grp.test) {
            let h = aad_experiment::cache::hash_bytes(&std::fs::read(&c.path).unwrap());
            assert!(
                seen.insert(h),
                "{} counted twice in {}",
                c.path.display(),
                grp.key
            );
        }
    }
    let used: usize = o.groups.iter().map(|g| g.train.len() + g.test.len()).sum();
    // 60 generated + 3 copies, less the same-group copy and the doubly labelled pair.
    assert_eq!(used, 60 + 3 - 3, "every other clip is used");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let kinds: Vec<&str> = json["dataset"]["skipped_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "duplicate").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "conflicting_labels").count(),
        2
    );
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("00000901.wav"),
        "the summary lists what was left out"
    );
}

#[test]
fn a_caller_observes_the_run_through_its_own_progress() {
    use aad_experiment::progress::{Progress, StageProgress};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    struct Stage(Arc<(String, AtomicU64, AtomicU64)>);
    impl StageProgress for Stage {
        fn advance(&self, n: u64) {
            self.0.2.fetch_add(n, Ordering::Relaxed);
        }
        fn set_total(&self, total: u64) {
            self.0.1.store(total, Ordering::Relaxed);
        }
    }
    #[derive(Default)]
    struct Recorder {
        messages: Mutex<Vec<String>>,
        stages: Mutex<Vec<Arc<(String, AtomicU64, AtomicU64)>>>,
    }
    impl Progress for Recorder {
        fn message(&self, line: &str) {
            self.messages.lock().unwrap().push(line.to_string());
        }
        fn stage(&self, name: &str, total: u64) -> Arc<dyn StageProgress> {
            let s = Arc::new((name.to_string(), AtomicU64::new(total), AtomicU64::new(0)));
            self.stages.lock().unwrap().push(s.clone());
            Arc::new(Stage(s))
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    generate(&easy_data(4), &data).unwrap();
    let out = tmp.path().join("out");
    let mut cfg = config(&data, &out, "logmel_mimii", "knn");
    cfg.seeds = vec![1];
    let r = Recorder::default();
    aad_experiment::run_with(&cfg, &r).unwrap();
    let messages = r.messages.lock().unwrap();
    assert!(
        messages.iter().any(|m| m.starts_with("features: 60 clips")),
        "{messages:?}"
    );
    let stages = r.stages.lock().unwrap();
    let names: Vec<&str> = stages.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        names,
        ["extract", "train"],
        "figures are off in this config"
    );
    for s in stages.iter() {
        let (total, done) = (s.1.load(Ordering::Relaxed), s.2.load(Ordering::Relaxed));
        assert!(total > 0 && done == total, "{}: {done}/{total}", s.0);
    }
}

#[test]
fn crossfitting_scores_every_normal_clip_held_out_and_writes_intervals() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    generate(&easy_data(11), &data).unwrap();
    let out = tmp.path().join("out");
    let mut cfg = config(&data, &out, "logmel_mimii", "knn,idnn");
    cfg.epochs = Some(3);
    cfg.crossfit = Some(4);
    let o = run(&cfg).unwrap();
    let cf = o.crossfit.as_ref().unwrap();
    // 2 machine types x 2 ids x 2 models x 2 seeds, each with every normal clip (10) held
    // out once and every anomalous one (5) scored by each of the 4 folds' models.
    assert_eq!(cf.rows.len(), 16, "{:?}", cf.failures);
    for r in &cf.rows {
        assert_eq!((r.folds, r.held_out.normal.len()), (4, 10));
        assert!(r.held_out.anomalous.iter().all(|a| a.len() == 4));
        let mut per_fold = [0; 4];
        r.held_out
            .normal
            .iter()
            .for_each(|(f, _)| per_fold[*f] += 1);
        assert!(per_fold.iter().all(|&n| n == 2 || n == 3), "{per_fold:?}");
        assert!(r.held_out.normal.iter().all(|(_, s)| s.is_finite()));
    }
    // Loud fan anomalies: kNN on clip statistics separates them, and the interval says so.
    let fan_knn = cf
        .summary
        .iter()
        .find(|s| s.machine_type == "fan" && s.model == "knn")
        .unwrap();
    assert!(fan_knn.auc > 0.9 && fan_knn.lo > 0.75, "{fan_knn:?}");
    assert!(fan_knn.lo <= fan_knn.auc && fan_knn.auc <= fan_knn.hi);
    let csv = std::fs::read_to_string(out.join("crossfit.csv")).unwrap();
    assert_eq!(
        csv.lines().next().unwrap(),
        aad_experiment::crossfit::CSV_HEADER
    );
    assert_eq!(csv.lines().count(), 17);
    let md = std::fs::read_to_string(out.join("crossfit.md")).unwrap();
    assert!(md.contains("| fan | logmel_mimii | knn |"), "{md}");
    // The same seed gives the same folds and numbers.
    let out2 = tmp.path().join("out2");
    let mut cfg2 = cfg.clone();
    cfg2.out = out2.clone();
    run(&cfg2).unwrap();
    assert_eq!(
        std::fs::read_to_string(out2.join("crossfit.csv")).unwrap(),
        csv
    );
    // One fold is not cross-fitting.
    cfg2.crossfit = Some(1);
    assert!(run(&cfg2).is_err());
}

#[test]
fn the_machine_id_classifier_learns_each_id_against_the_other_ids_of_its_type() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    generate(&easy_data(12), &data).unwrap();
    let out = tmp.path().join("out");
    let mut cfg = config(&data, &out, "logmel_mimii", "idclf,knn_idclf");
    cfg.seeds = vec![1];
    cfg.crossfit = Some(3);
    let o = run(&cfg).unwrap();
    // 2 machine types x 2 ids x 2 models, every one fitted with the other id as contrast.
    assert!(o.failures.is_empty(), "{:?}", o.failures);
    assert_eq!(o.rows.len(), 8);
    let cf = o.crossfit.as_ref().unwrap();
    assert!(cf.failures.is_empty(), "{:?}", cf.failures);
    assert_eq!(cf.rows.len(), 8);
    // The loud fan anomalies sound like neither fan id.
    for r in o.rows.iter().filter(|r| r.machine_type == "fan") {
        assert!(r.auc > 0.8, "{r:?}");
    }

    // A machine type with one id has nothing to learn it against: each of its jobs
    // fails, saying why, and the run still reports the detectors that can fit.
    let mut one = easy_data(12);
    one.ids = vec![0];
    let data1 = tmp.path().join("one");
    generate(&one, &data1).unwrap();
    let out1 = tmp.path().join("out1");
    let mut cfg = config(&data1, &out1, "logmel_mimii", "knn,idclf");
    cfg.seeds = vec![1];
    let o = run(&cfg).unwrap();
    assert_eq!(o.rows.len(), 2, "knn on fan and valve");
    assert!(o.rows.iter().all(|r| r.model == "knn"));
    assert_eq!(o.failures.len(), 2);
    assert!(
        o.failures[0].to_string().contains("other machine"),
        "{}",
        o.failures[0]
    );
}

#[test]
fn domain_banks_read_the_domains_of_a_dcase_2021_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let synth = tmp.path().join("synth");
    generate(&easy_data(6), &synth).unwrap();
    let sorted = |dir: std::path::PathBuf| {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    // One section: the fan is the source domain (8 training clips), the valve stands
    // in for the target domain, a strong shift with 3 training clips as in DCASE 2021.
    let dev = tmp.path().join("dev").join("fan");
    let put = |src: &std::path::Path, split: &str, domain: &str, label: &str, i: usize| {
        let dst = dev
            .join(split)
            .join(format!("section_00_{domain}_{split}_{label}_{i:04}.wav"));
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(src, dst).unwrap();
    };
    for (domain, machine, n_train) in [("source", "fan", 8), ("target", "valve", 3)] {
        let id = synth.join("6dB").join(machine).join("id_00");
        for (i, p) in sorted(id.join("normal")).iter().enumerate() {
            let split = if i < n_train { "train" } else { "test" };
            put(p, split, domain, "normal", i);
        }
        for (i, p) in sorted(id.join("abnormal")).iter().enumerate() {
            put(p, "test", domain, "anomaly", i);
        }
    }
    let out = tmp.path().join("out");
    let mut cfg = config(
        &tmp.path().join("dev"),
        &out,
        "logmel_mimii",
        "knn_msm,knn_domains",
    );
    cfg.snr = SnrFilter::parse("na").unwrap();
    cfg.seeds = vec![1];
    let o = run(&cfg).unwrap();
    assert!(o.failures.is_empty(), "{:?}", o.failures);
    let auc = |m: &str| o.rows.iter().find(|r| r.model == m).unwrap().auc;
    // Pooled, the 3 target clips are outnumbered: a 5-NN reaches into the source clips
    // and target normals look anomalous. Banked, each domain is its own reference.
    assert!(
        auc("knn_domains") > auc("knn_msm"),
        "banks {} vs pooled {}",
        auc("knn_domains"),
        auc("knn_msm")
    );
    assert!(auc("knn_domains") > 0.9, "{}", auc("knn_domains"));

    // The public stages carry each training clip's domain (they once fitted one bank),
    // and so does a deployable model fitted on the files (from their DCASE names).
    assert_eq!(
        results_by_stages(&cfg),
        aad_experiment::report::csv(&o.rows)
    );
    let g = &o.groups[0];
    let paths = |cs: &[aad_data::Clip]| -> Vec<std::path::PathBuf> {
        cs.iter().map(|c| c.path.clone()).collect()
    };
    let opts = aad_experiment::model::FitOptions {
        feature: "logmel_mimii".into(),
        detector: "knn_domains".into(),
        ..Default::default()
    };
    let (model, _) = aad_experiment::model::Model::fit_files(&paths(&g.train), &opts).unwrap();
    let deployed = scores_of(&model, &paths(&g.test));
    let studied = o
        .figure_data
        .iter()
        .find(|d| d.model == "knn_domains")
        .unwrap();
    assert_eq!(deployed, studied.scores);
}

/// The rows of `cfg`'s run made as a distributed runner makes them (the Python module's
/// Ray example): plan, extract clip by clip, keep the usable groups, fit each group from
/// features in memory with [`aad_experiment::fit_score_group_with_contrast`] (the
/// contrast sets named by [`aad_experiment::contrast_files`]). Its `results.csv` text.
fn results_by_stages(cfg: &ExperimentConfig) -> String {
    let plan = aad_experiment::plan(cfg).unwrap();
    let mut fx = aad_experiment::ClipExtractor::new(cfg).unwrap();
    let feats: std::collections::BTreeMap<_, _> = plan
        .clips()
        .into_iter()
        .filter_map(|c| fx.extract(&c.path).ok().map(|m| (c.path.clone(), m)))
        .collect();
    let groups = aad_experiment::usable_groups(&plan.report, |p| {
        feats
            .contains_key(p)
            .then(|| aad_experiment::cache::hash_bytes(&std::fs::read(p).unwrap()))
    })
    .groups;
    let mut rows = Vec::new();
    for g in &groups {
        let pick = |cs: &[aad_data::Clip], fi: usize| -> Vec<_> {
            cs.iter().map(|c| feats[&c.path][fi].clone()).collect()
        };
        let per_feature = (0..cfg.features.len())
            .map(|fi| (pick(&g.train, fi), pick(&g.test, fi)))
            .collect();
        // The contrast sets travel as file lists; their features come from the same
        // extraction.
        let files = aad_experiment::contrast_files(&groups, &g.key);
        let contrast = (0..cfg.features.len())
            .map(|fi| {
                files
                    .iter()
                    .map(|set| set.iter().map(|p| feats[p][fi].clone()).collect())
                    .collect()
            })
            .collect();
        let r =
            aad_experiment::fit_score_group_with_contrast(cfg, &g.into(), per_feature, contrast)
                .unwrap();
        assert!(r.failures.is_empty(), "{:?}", r.failures);
        rows.extend(r.rows);
    }
    aad_experiment::report::csv(&rows)
}

/// One fit path: every registry detector scores a group's test clips identically when
/// the study runs it (`run`) and when it is fitted as a deployable model on the group's
/// training files (`Model::fit_files`, as `aad fit` does) and scores the test files (as
/// `aad score` does); the machine-ID classifiers learn against the type's other ids in
/// both. The stages run by hand give `run`'s `results.csv` too, the machine-ID
/// classifiers with their contrast sets passed as file lists.
#[test]
fn every_detector_scores_the_same_through_run_the_stages_and_a_deployable_model() {
    use aad_experiment::model::{FitOptions, Model};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut small = easy_data(9);
    small.n_normal = 8;
    small.n_abnormal = 2;
    small.machines = vec![aad_data::MachineKind::Fan];
    generate(&small, &data).unwrap();
    let all: Vec<&str> = aad_experiment::registry::DETECTORS
        .iter()
        .map(|d| d.name)
        .collect();
    let mut cfg = config(
        &data,
        &tmp.path().join("out"),
        "logmel_mimii",
        &all.join(","),
    );
    cfg.seeds = vec![1];
    cfg.epochs = Some(2);
    let o = run(&cfg).unwrap();
    assert!(o.failures.is_empty(), "{:?}", o.failures);

    let single = aad_experiment::report::csv(&o.rows);
    assert_eq!(results_by_stages(&cfg), single);

    let (gi, g) = o
        .groups
        .iter()
        .enumerate()
        .find(|(_, g)| g.key.machine_id == "id_00")
        .unwrap();
    let paths = |cs: &[aad_data::Clip]| -> Vec<std::path::PathBuf> {
        cs.iter().map(|c| c.path.clone()).collect()
    };
    let contrast: Vec<Vec<std::path::PathBuf>> = o
        .groups
        .iter()
        .filter(|o| {
            o.key.machine_type == g.key.machine_type && o.key.machine_id != g.key.machine_id
        })
        .map(|o| paths(&o.train))
        .collect();
    assert!(!contrast.is_empty());
    for name in &all {
        let opts = FitOptions {
            feature: "logmel_mimii".into(),
            detector: (*name).into(),
            seed: 1,
            epochs: Some(2),
            contrast: contrast.clone(),
            ..FitOptions::default()
        };
        let (model, skipped) = Model::fit_files(&paths(&g.train), &opts).unwrap();
        assert!(skipped.is_empty(), "{name}: {skipped:?}");
        let deployed = scores_of(&model, &paths(&g.test));
        let studied = &o
            .figure_data
            .iter()
            .find(|d| d.group == gi && d.model == *name)
            .unwrap()
            .scores;
        assert_eq!(&deployed, studied, "{name}");
    }
}

/// A deployable model's scores of `files`, each file expected to score.
fn scores_of(model: &aad_experiment::model::Model, files: &[std::path::PathBuf]) -> Vec<f64> {
    model
        .score_files(files)
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// A feature that fails for a group (clips too short for the autoencoder's context) does
/// not shift the contrast sets of the features after it: each feature's machine-ID
/// classifier learns against its own feature's sets.
#[test]
fn a_failed_feature_leaves_the_next_features_contrast_sets_in_place() {
    use aad_core::Label;
    use ndarray::Array2;
    let tmp = tempfile::tempdir().unwrap();
    let matrices = |n: usize, frames: usize, dims: usize, offset: f32| -> Vec<Array2<f32>> {
        (0..n)
            .map(|c| {
                Array2::from_shape_fn((frames, dims), |(t, d)| {
                    ((c * 31 + t * 7 + d * 3) % 17) as f32 * 0.1 + offset
                })
            })
            .collect()
    };
    let (mel, cens) = (
        FeatureSpec::parse("logmel_mimii", 16_000).unwrap(),
        FeatureSpec::parse("cens", 16_000).unwrap(),
    );
    let labels = vec![
        Label::Normal,
        Label::Normal,
        Label::Anomalous,
        Label::Anomalous,
    ];
    let job = aad_experiment::GroupJob {
        key: aad_data::GroupKey {
            snr: None,
            machine_type: "fan".into(),
            machine_id: "id_00".into(),
        },
        n_train: 6,
        labels: labels.clone(),
        train_domains: Vec::new(),
    };
    // cens: this machine, and one other machine whose frames sit elsewhere.
    let mut test = matrices(2, 40, cens.dims(), 0.0);
    test.extend(matrices(2, 40, cens.dims(), 0.6));
    let cens_x = (matrices(6, 40, cens.dims(), 0.0), test);
    let cens_contrast = vec![matrices(6, 40, cens.dims(), 1.0)];
    // logmel_mimii: two frames per clip, fewer than the autoencoder's context.
    let mel_x = (
        matrices(6, 2, mel.dims(), 0.0),
        matrices(4, 2, mel.dims(), 0.0),
    );
    let mel_contrast = vec![matrices(6, 2, mel.dims(), 1.0)];

    let mut cfg = config(
        tmp.path(),
        &tmp.path().join("out"),
        "logmel_mimii,cens",
        "ae,knn_idclf",
    );
    cfg.seeds = vec![1];
    cfg.epochs = Some(1);
    let both = aad_experiment::fit_score_group_with_contrast(
        &cfg,
        &job,
        vec![mel_x, cens_x.clone()],
        vec![mel_contrast, cens_contrast.clone()],
    )
    .unwrap();
    assert!(
        both.failures
            .iter()
            .any(|f| f.to_string().contains("logmel_mimii")),
        "{:?}",
        both.failures
    );
    let mut alone = cfg.clone();
    alone.features = vec![cens];
    let alone = aad_experiment::fit_score_group_with_contrast(
        &alone,
        &job,
        vec![cens_x],
        vec![cens_contrast],
    )
    .unwrap();
    assert!(alone.failures.is_empty(), "{:?}", alone.failures);
    let idclf = |rows: &[aad_experiment::ResultRow]| -> Vec<String> {
        rows.iter()
            .filter(|r| r.model == "knn_idclf")
            .map(|r| format!("{} {} {}", r.feature, r.auc, r.pauc))
            .collect()
    };
    assert_eq!(idclf(&both.rows), idclf(&alone.rows));
    assert_eq!(idclf(&alone.rows).len(), 1);
}
