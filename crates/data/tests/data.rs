//! Discovery, splits and synthetic generation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use aad_core::Label;
use aad_data::{
    Domain, FolderSplit, Layout, MachineKind, Protocol, Snr, SyntheticConfig, discover, generate,
    split,
};

#[test]
fn discovery_over_shared_mimii_reproduces_the_manifest_counts() {
    let Some(shared) = aad_testutil::shared_dir("discovery_reproduces_manifest_counts") else {
        return;
    };
    let mut want: BTreeMap<(String, String, String, String), usize> = BTreeMap::new();
    for r in aad_testutil::manifest(&shared) {
        if r.file.starts_with("mimii/") {
            *want
                .entry((r.snr, r.machine_type, r.machine_id, r.label))
                .or_default() += 1;
        }
    }
    let found = discover(shared.join("data").join("mimii")).unwrap();
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
    let got: BTreeMap<_, _> = found
        .counts()
        .into_iter()
        .map(|((snr, t, id, label), n)| ((snr, t, id, label.to_string()), n))
        .collect();
    assert_eq!(got, want);
    assert_eq!(found.clips.len(), want.values().sum::<usize>());
}

#[test]
fn discovery_over_all_shared_data_recognises_every_layout() {
    let Some(shared) = aad_testutil::shared_dir("discovery_recognises_every_layout") else {
        return;
    };
    let found = discover(shared.join("data")).unwrap();
    let manifest = aad_testutil::manifest(&shared);
    // The 8-channel originals under multichannel/ are the same recordings as their
    // channel-0 copies under mimii/: each is counted once (the copy, first in path order).
    let dups: Vec<_> = manifest
        .iter()
        .filter(|r| {
            r.file.starts_with("multichannel/")
                && manifest
                    .iter()
                    .any(|m| m.file == r.file.replacen("multichannel/", "mimii/", 1))
        })
        .collect();
    assert!(!dups.is_empty());
    assert_eq!(found.clips.len() + dups.len(), manifest.len());
    assert_eq!(found.skipped.len(), dups.len(), "{:?}", found.skipped);
    for s in &found.skipped {
        assert!(s.reason.contains("the same recording as mimii/"), "{s:?}");
    }
    assert_eq!(
        found.ignored.len(),
        2,
        "README.md and manifest.csv: {:?}",
        found.ignored
    );
    for row in manifest
        .iter()
        .filter(|r| !dups.iter().any(|d| d.file == r.file))
    {
        let clip = found.clips.iter().find(|c| c.rel_path == row.file).unwrap();
        assert_eq!(clip.machine_type, row.machine_type, "{}", row.file);
        assert_eq!(clip.label.to_string(), row.label, "{}", row.file);
        assert_eq!(
            clip.snr.map(|s| s.to_string()).unwrap_or_default(),
            row.snr,
            "{}",
            row.file
        );
        let want_layout = if row.file.starts_with("dcase2020/") {
            Layout::Dcase2020
        } else if row.file.starts_with("dcase2023/") {
            Layout::Dcase2021
        } else {
            Layout::Mimii
        };
        assert_eq!(clip.layout, want_layout, "{}", row.file);
        if want_layout == Layout::Dcase2021 {
            assert_eq!(clip.machine_id, "section_00");
            assert!(clip.domain.is_some());
        } else {
            assert_eq!(clip.machine_id, row.machine_id, "{}", row.file);
        }
    }
}

#[test]
fn mimii_baseline_split_of_the_shared_minus_6db_set() {
    let Some(shared) = aad_testutil::shared_dir("mimii_baseline_split") else {
        return;
    };
    let found = discover(shared.join("data").join("mimii")).unwrap();
    let report = split(&found.clips, Protocol::MimiiBaseline);
    let get = |key: &str| {
        report
            .groups
            .iter()
            .find(|g| g.key.to_string() == key)
            .unwrap()
    };
    let v0 = get("-6dB/valve/id_00");
    assert_eq!(
        (v0.train.len(), v0.n_test_normal(), v0.n_test_abnormal()),
        (2, 10, 10)
    );
    let f2 = get("-6dB/fan/id_02");
    assert_eq!(
        (f2.train.len(), f2.n_test_normal(), f2.n_test_abnormal()),
        (5, 5, 5)
    );
    // The test normals are the first in sorted order, the training normals the rest.
    let last_test = v0.test[v0.n_test_normal() - 1].rel_path.clone();
    assert!(
        v0.train
            .iter()
            .all(|c| c.rel_path > last_test && c.label == Label::Normal)
    );
    // 0 dB ids with one normal and one abnormal clip cannot be split and are reported.
    let small: Vec<_> = report
        .unsplittable
        .iter()
        .map(|u| u.key.to_string())
        .collect();
    assert!(small.contains(&"0dB/valve/id_04".to_string()), "{small:?}");
    assert!(
        report
            .unsplittable
            .iter()
            .all(|u| u.reason.contains("leaves none to train on"))
    );
    assert_eq!(report.groups.len(), 8, "the eight -6 dB ids");
}

fn touch(root: &Path, rel: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, b"x").unwrap();
}

#[test]
fn the_same_recording_under_two_folders_is_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    touch(r, "mimii/-6dB/fan/id_00/normal/00000000.wav");
    touch(r, "multichannel/-6dB/fan/id_00/normal/00000000.wav");
    touch(r, "multichannel/-6dB/fan/id_00/normal/00000001.wav");
    // Another label, SNR or id is another recording.
    touch(r, "multichannel/-6dB/fan/id_00/abnormal/00000000.wav");
    touch(r, "multichannel/0dB/fan/id_00/normal/00000000.wav");
    touch(r, "multichannel/-6dB/fan/id_02/normal/00000000.wav");
    let found = discover(r).unwrap();
    assert_eq!(found.clips.len(), 5);
    assert_eq!(found.skipped.len(), 1);
    assert!(
        found.skipped[0]
            .path
            .ends_with("multichannel/-6dB/fan/id_00/normal/00000000.wav")
    );
    assert!(
        found.skipped[0]
            .reason
            .contains("the same recording as mimii/-6dB/fan/id_00/normal/00000000.wav"),
        "{}",
        found.skipped[0].reason
    );
}

#[test]
fn misfits_are_reported_and_non_audio_listed() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    touch(r, "6_dB_pump/pump/id_02/normal/00000000.wav");
    touch(r, "pump/id_02/unknown/00000000.wav");
    touch(r, "loose.WAV");
    touch(r, "notes.txt");
    touch(r, "pump/id_02/normal/.hidden.wav");
    let found = discover(r).unwrap();
    assert_eq!(found.clips.len(), 1);
    assert_eq!(found.clips[0].snr, Some(Snr(6)));
    assert_eq!(found.skipped.len(), 2);
    assert!(
        found
            .skipped
            .iter()
            .all(|s| s.reason.contains("fits no layout"))
    );
    assert_eq!(found.ignored.len(), 2);
    assert!(discover(r.join("notes.txt")).is_err());
    assert!(discover(r.join("missing")).is_err());
}

#[test]
fn dcase_folder_split_and_auto_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    for i in 0..4 {
        touch(r, &format!("dev_data/fan/train/normal_id_00_{i:08}.wav"));
    }
    touch(r, "dev_data/fan/test/normal_id_00_00000100.wav");
    touch(r, "dev_data/fan/test/anomaly_id_00_00000000.wav");
    touch(r, "dev_data/fan/test/anomaly_id_00_00000001.wav");
    // id_02 has test clips only: Auto falls back to the MIMII protocol.
    for i in 0..3 {
        touch(r, &format!("dev_data/fan/test/normal_id_02_{i:08}.wav"));
    }
    touch(r, "dev_data/fan/test/anomaly_id_02_00000000.wav");
    touch(
        r,
        "dev_data/gearbox/train/section_01_source_train_normal_0000_a.wav",
    );
    touch(
        r,
        "dev_data/gearbox/train/section_01_target_train_normal_0000_a.wav",
    );
    touch(
        r,
        "dev_data/gearbox/test/section_01_target_test_anomaly_0000_a.wav",
    );
    touch(
        r,
        "dev_data/gearbox/test/section_01_source_test_normal_0000_a.wav",
    );
    let found = discover(r).unwrap();
    assert!(found.skipped.is_empty());
    let auto = split(&found.clips, Protocol::Auto);
    let g0 = auto
        .groups
        .iter()
        .find(|g| g.key.machine_id == "id_00")
        .unwrap();
    assert_eq!(g0.protocol, Protocol::DcaseFolders);
    assert_eq!(
        (g0.train.len(), g0.n_test_normal(), g0.n_test_abnormal()),
        (4, 1, 2)
    );
    assert!(
        g0.train
            .iter()
            .all(|c| c.folder_split == Some(FolderSplit::Train))
    );
    let g2 = auto
        .groups
        .iter()
        .find(|g| g.key.machine_id == "id_02")
        .unwrap();
    assert_eq!(g2.protocol, Protocol::MimiiBaseline);
    assert_eq!(
        (g2.train.len(), g2.n_test_normal(), g2.n_test_abnormal()),
        (2, 1, 1)
    );
    let gb = auto
        .groups
        .iter()
        .find(|g| g.key.machine_type == "gearbox")
        .unwrap();
    assert_eq!(gb.key.machine_id, "section_01");
    assert_eq!(gb.train.len(), 2);
    assert!(gb.test.iter().any(|c| c.domain == Some(Domain::Target)));
    // Strict folder protocol: id_02 has no train folder and is reported.
    let strict = split(&found.clips, Protocol::DcaseFolders);
    assert!(
        strict
            .unsplittable
            .iter()
            .any(|u| u.key.machine_id == "id_02")
    );
}

fn read_all(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walk(root, root)
}

fn walk(root: &Path, dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(root, &p));
        } else {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.insert(rel, std::fs::read(&p).unwrap());
        }
    }
    out
}

#[test]
fn synthetic_generation_is_byte_identical_for_a_seed_and_differs_across_seeds() {
    let mut cfg = SyntheticConfig::tiny(11);
    cfg.duration_s = 0.5;
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    generate(&cfg, a.path()).unwrap();
    generate(&cfg, b.path()).unwrap();
    let (fa, fb) = (read_all(a.path()), read_all(b.path()));
    assert_eq!(fa.len(), 2 * 2 * 9 + 1);
    assert_eq!(fa, fb);
    cfg.seed = 12;
    generate(&cfg, c.path()).unwrap();
    let fc = read_all(c.path());
    let differing = fa
        .iter()
        .filter(|(k, v)| k.ends_with(".wav") && fc.get(*k) != Some(v))
        .count();
    assert_eq!(differing, 36);
}

#[test]
fn a_scaled_set_is_the_first_clips_of_the_full_one_and_progress_counts_every_file() {
    let mut cfg = SyntheticConfig::tiny(5);
    cfg.duration_s = 0.3;
    let half = cfg.clone().scaled(0.5);
    assert_eq!((half.n_normal, half.n_abnormal), (3, 2));
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate(&cfg, a.path()).unwrap();
    let count = std::sync::atomic::AtomicUsize::new(0);
    let ds = aad_data::generate_observed(&half, b.path(), &|| {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(count.into_inner(), half.n_clips());
    assert_eq!(ds.clips.len(), half.n_clips());
    let (full, part) = (read_all(a.path()), read_all(b.path()));
    let wavs: Vec<_> = part.iter().filter(|(k, _)| k.ends_with(".wav")).collect();
    assert_eq!(wavs.len(), 2 * 2 * 5);
    for (k, v) in wavs {
        assert_eq!(full.get(k), Some(v), "{k} differs from the full set's");
    }
    let on_disk: u64 = part
        .iter()
        .filter(|(k, _)| k.ends_with(".wav"))
        .map(|(_, v)| v.len() as u64)
        .sum();
    assert_eq!(on_disk, half.disk_bytes());
}

#[test]
fn synthetic_dataset_has_every_label_kind_and_snr_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = SyntheticConfig::tiny(5);
    cfg.machines = vec![
        MachineKind::Fan,
        MachineKind::Valve,
        MachineKind::Pump,
        MachineKind::Slider,
    ];
    cfg.snrs_db = vec![6, -6];
    cfg.n_abnormal = 12;
    cfg.duration_s = 1.0;
    cfg.channels = 8;
    let ds = generate(&cfg, dir.path()).unwrap();
    let found = discover(dir.path()).unwrap();
    assert_eq!(found.clips.len(), ds.clips.len());
    assert_eq!(found.clips.len(), 4 * 2 * 2 * (6 + 12));
    for c in &found.clips {
        assert!(c.anomaly_kind.is_some(), "{}", c.rel_path);
        let kind = c.anomaly_kind.as_deref().unwrap();
        assert_eq!(kind == "none", c.label == Label::Normal, "{}", c.rel_path);
    }
    let kinds: std::collections::BTreeSet<_> = found
        .clips
        .iter()
        .filter_map(|c| c.anomaly_kind.clone())
        .collect();
    for k in ["humming", "clicking", "leak", "rubbing", "none"] {
        assert!(kinds.contains(k), "{k} missing from {kinds:?}");
    }
    let snrs: std::collections::BTreeSet<_> = found.clips.iter().map(|c| c.snr).collect();
    assert_eq!(
        snrs.into_iter().collect::<Vec<_>>(),
        vec![Some(Snr(-6)), Some(Snr(6))]
    );
    // Eight channels, each holding a signal, none clipping the whole time.
    let opts = aad_audio::DecodeOptions::default().channel(aad_audio::ChannelPolicy::Index(7));
    let s = aad_audio::decode_file(&found.clips[0].path, &opts).unwrap();
    assert_eq!(s.len(), 16_000);
    let rms = (s.samples().iter().map(|x| x * x).sum::<f32>() / s.len() as f32).sqrt();
    assert!(rms > 0.005 && rms < 0.5, "rms {rms}");
}

#[test]
fn lower_snr_means_relatively_more_background() {
    // The same clip at 6 dB and -6 dB: the -6 dB version carries more energy (more noise
    // over the same machine sound).
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = SyntheticConfig::tiny(3);
    cfg.snrs_db = vec![6, -6];
    cfg.machines = vec![MachineKind::Fan];
    cfg.duration_s = 1.0;
    generate(&cfg, dir.path()).unwrap();
    let energy = |rel: &str| {
        let s = aad_audio::decode_file(dir.path().join(rel), &Default::default()).unwrap();
        s.samples()
            .iter()
            .map(|x| f64::from(*x).powi(2))
            .sum::<f64>()
    };
    let hi = energy("6dB/fan/id_00/normal/00000000.wav");
    let lo = energy("-6dB/fan/id_00/normal/00000000.wav");
    // Machine power m: noise power m/4 at 6 dB and 4m at -6 dB, so (m + 4m)/(m + m/4) = 4.
    assert!(lo / hi > 3.6 && lo / hi < 4.4, "ratio {}", lo / hi);
}

#[test]
fn invalid_generator_settings_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = SyntheticConfig::tiny(1);
    cfg.duration_s = 0.0;
    assert!(
        generate(&cfg, dir.path())
            .unwrap_err()
            .to_string()
            .contains("duration_s")
    );
    let mut cfg = SyntheticConfig::tiny(1);
    cfg.severity_db = (-5.0, -10.0);
    assert!(generate(&cfg, dir.path()).is_err());
    let mut cfg = SyntheticConfig::tiny(1);
    cfg.machines.clear();
    assert!(generate(&cfg, dir.path()).is_err());
}

#[test]
fn plain_folders_split_by_their_train_and_test_folders_or_like_mimii() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    for i in 0..6 {
        touch(r, &format!("motorA/train/{i}.wav"));
    }
    for i in 0..2 {
        touch(r, &format!("motorA/test/ok/{i}.wav"));
        touch(r, &format!("motorA/test/faulty/{i}.wav"));
    }
    for i in 0..8 {
        touch(r, &format!("pump/normal/{i}.wav"));
    }
    for i in 0..3 {
        touch(r, &format!("pump/abnormal/{i}.wav"));
    }
    let found = discover(r).unwrap();
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
    assert_eq!(found.clips.len(), 6 + 4 + 8 + 3);
    assert!(found.clips.iter().all(|c| c.layout == Layout::Plain));
    let report = split(&found.clips, Protocol::Auto);
    assert!(report.unsplittable.is_empty());
    let group = |m: &str| {
        report
            .groups
            .iter()
            .find(|g| g.key.machine_type == m)
            .unwrap()
    };
    let motor = group("motorA");
    assert_eq!(
        (motor.train.len(), motor.test.len(), motor.n_test_abnormal()),
        (6, 4, 2)
    );
    assert_eq!(motor.key.machine_id, "all");
    // Without train/test folders: as many normal clips held out as there are anomalous.
    let pump = group("pump");
    assert_eq!(
        (pump.train.len(), pump.test.len(), pump.n_test_abnormal()),
        (5, 6, 3)
    );
}

#[test]
fn the_shared_manifest_is_a_dataset_and_agrees_with_the_folders() {
    let Some(shared) = aad_testutil::shared_dir("manifest_as_dataset") else {
        return;
    };
    let data = shared.join("data");
    let from_csv = discover(data.join("manifest.csv")).unwrap();
    // Only the 8-channel originals of four MIMII clips, listed beside their copies.
    assert_eq!(from_csv.skipped.len(), 4, "{:?}", from_csv.skipped);
    assert!(
        from_csv
            .skipped
            .iter()
            .all(|s| s.path.to_string_lossy().contains("multichannel")
                && s.reason.contains("the same recording as mimii/")),
        "{:?}",
        from_csv.skipped
    );
    assert!(from_csv.clips.iter().all(|c| c.layout == Layout::Manifest));
    // The same clips, labels and groups as walking the MIMII folders (the manifest has
    // no train/test column, so DCASE rows differ only in their folder split).
    let from_dirs = discover(data.join("mimii")).unwrap();
    let key = |c: &aad_data::Clip| {
        (
            format!("mimii/{}", c.rel_path),
            c.snr,
            c.machine_type.clone(),
            c.machine_id.clone(),
            c.label,
        )
    };
    let csv_mimii: Vec<_> = from_csv
        .clips
        .iter()
        .filter(|c| c.rel_path.starts_with("mimii/"))
        .map(|c| {
            (
                c.rel_path.clone(),
                c.snr,
                c.machine_type.clone(),
                c.machine_id.clone(),
                c.label,
            )
        })
        .collect();
    let dir_mimii: Vec<_> = from_dirs.clips.iter().map(key).collect();
    assert_eq!(csv_mimii, dir_mimii);
}

#[test]
fn manifest_rows_that_do_not_parse_are_skipped_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    touch(r, "a.wav");
    touch(r, "b.wav");
    let csv = r.join("list.csv");
    std::fs::write(
        &csv,
        "file,machine_type,label,split,notes,domain\n\
         a.wav,pump,normal,train,\"x, y\",\n\
         b.wav,pump,1,test,,target\n\
         missing.wav,pump,normal,,\n\
         a.wav,pump,maybe,,\n\
         b.wav,pump,normal,later,\n",
    )
    .unwrap();
    let found = discover(&csv).unwrap();
    assert_eq!(found.clips.len(), 2);
    assert_eq!(found.clips[0].machine_id, "all");
    assert_eq!(found.clips[1].label, Label::Anomalous);
    assert_eq!(found.clips[1].folder_split, Some(FolderSplit::Test));
    assert_eq!(
        (found.clips[0].domain, found.clips[1].domain),
        (None, Some(Domain::Target))
    );
    let reasons: Vec<&str> = found.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].contains("line 4") && reasons[0].contains("no such file"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("line 5") && reasons[1].contains("maybe"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].contains("line 6") && reasons[2].contains("later"),
        "{reasons:?}"
    );
    std::fs::write(&csv, "path,type\na.wav,pump\n").unwrap();
    let e = discover(&csv).unwrap_err();
    assert!(e.to_string().contains("machine_type"), "{e}");
}

#[test]
fn the_generator_records_where_each_anomaly_lies() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = SyntheticConfig::tiny(3);
    cfg.machines = vec![
        MachineKind::Fan,
        MachineKind::Valve,
        MachineKind::Pump,
        MachineKind::Slider,
    ];
    cfg.n_normal = 1;
    cfg.n_abnormal = 12;
    cfg.duration_s = 1.0;
    let ds = generate(&cfg, dir.path()).unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    for c in &ds.clips {
        let t = &c.truth;
        let Some((kind, _)) = c.anomaly else {
            assert_eq!(*t, aad_data::AnomalyTruth::default(), "{}", c.rel_path);
            continue;
        };
        kinds.insert(kind.as_str());
        use aad_data::AnomalyKind;
        let why = format!("{} {kind:?} {t:?}", c.rel_path);
        match kind {
            AnomalyKind::Humming | AnomalyKind::Imbalance => {
                assert!(!t.freq_hz.is_empty(), "{why}");
                assert!(t.freq_hz.iter().all(|f| *f > 0.0 && *f < 8_000.0), "{why}");
            }
            AnomalyKind::Leak | AnomalyKind::Rubbing => {
                let (lo, hi) = t.band_hz.expect(&why);
                assert!(0.0 <= lo && lo < hi, "{why}");
            }
            AnomalyKind::Clicking => {
                // In a 1 s clip a valve may miss or bounce no click and a slider's stroke
                // may not reach its defect; a fan's and a pump's clicks are dense.
                if matches!(c.machine, MachineKind::Fan | MachineKind::Pump) {
                    assert!(!t.times_s.is_empty(), "{why}");
                }
                assert!(t.times_s.iter().all(|x| (0.0..1.0).contains(x)), "{why}");
            }
        }
        if kind == AnomalyKind::Imbalance {
            assert_eq!(c.machine, MachineKind::Fan, "{why}");
            assert_eq!(t.freq_hz.len(), 2, "shaft rate and its harmonic: {why}");
        }
    }
    assert!(kinds.contains("imbalance"), "{kinds:?}");
    let csv = std::fs::read_to_string(dir.path().join("anomaly_kinds.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.ends_with(",freq_hz,times_s,band_lo_hz,band_hi_hz"),
        "{header}"
    );
    let row = csv
        .lines()
        .find(|l| l.contains(",humming,"))
        .expect("a humming clip");
    let freqs = row.split(',').nth(7).unwrap();
    assert!(freqs.split(';').all(|f| f.parse::<f64>().is_ok()), "{row}");
}
