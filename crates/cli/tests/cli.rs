//! The `aad` binary end to end: demo data, fit, score, eval, monitor, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn aad(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aad"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Demo data and a model fitted on it, shared by the tests of one process: `(scratch, demo)`.
///
/// It lives in Cargo's per-target scratch folder, rebuilt by each run, because a static
/// `TempDir` is never dropped and would leave a copy in the system's temporary folder per run.
fn fixture() -> &'static (PathBuf, PathBuf) {
    static F: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-fixture");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.join("demo");
        let o = aad(&["demo", d.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let model = d.join("fan.aadm");
        let o = aad(&[
            "fit",
            "--normal",
            d.join("train").to_str().unwrap(),
            "-o",
            model.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        (dir, d)
    })
}

/// `aad score MODEL INPUT --quiet`.
fn score_quiet(model: &Path, input: &Path) -> Output {
    aad(&[
        "score",
        model.to_str().unwrap(),
        input.to_str().unwrap(),
        "--quiet",
    ])
}

/// `aad fit` on the demo's training clips with `extra` options, into `name` in the
/// fixture's folder; the loaded model.
fn fit_demo(name: &str, extra: &[&str]) -> aad_engine::model::Model {
    let (t, d) = fixture();
    let out = t.join(name);
    let (train, path) = (d.join("train"), out.to_str().unwrap().to_string());
    let mut args = vec![
        "fit",
        "--normal",
        train.to_str().unwrap(),
        "-o",
        &path,
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let o = aad(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    aad_engine::model::Model::load(&out).unwrap()
}

/// `aad synth --preset mimii --fraction F` into `parent/syn`, checked to succeed:
/// the folder and the command's output.
fn synth_mimii(parent: &Path, fraction: &str) -> (PathBuf, Output) {
    let d = parent.join("syn");
    let o = aad(&[
        "synth",
        "--preset",
        "mimii",
        "--fraction",
        fraction,
        "--quiet",
        d.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    (d, o)
}

fn rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn fit_score_and_eval_separate_the_synthetic_anomalies() {
    let (_t, d) = fixture();
    let model = d.join("fan.aadm");
    let before = std::fs::read(&model).unwrap();
    let o = score_quiet(&model, &d.join("test"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_eq!(out.lines().next(), Some("file,score,threshold,anomaly"));
    let r = rows(&out);
    assert_eq!(r.len(), 18);
    // AUC from the CSV: every anomalous clip above every normal one on this easy set.
    let (mut scores, mut labels) = (Vec::new(), Vec::new());
    for row in &r {
        scores.push(row[1].parse::<f64>().unwrap());
        labels.push(if row[0].contains("anomalous") {
            aad_core::Label::Anomalous
        } else {
            aad_core::Label::Normal
        });
        let anomaly = row[1].parse::<f64>().unwrap() > row[2].parse::<f64>().unwrap();
        assert_eq!(row[3], if anomaly { "1" } else { "0" });
    }
    let auc = aad_metrics::roc_auc(&scores, &labels).unwrap();
    assert!(auc > 0.95, "AUC {auc}");
    assert_eq!(
        std::fs::read(&model).unwrap(),
        before,
        "scoring changed the model"
    );

    let o = aad(&[
        "eval",
        model.to_str().unwrap(),
        "--normal",
        d.join("test/normal").to_str().unwrap(),
        "--anomalous",
        d.join("test/anomalous").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("clips 10 normal, 8 anomalous"), "{out}");
    let auc_line: f64 = out
        .lines()
        .find_map(|l| l.strip_prefix("auc "))
        .unwrap()
        .parse()
        .unwrap();
    assert!((auc_line - auc).abs() < 1e-4);
}

#[test]
fn unreadable_files_are_reported_and_the_others_still_scored() {
    let (t, d) = fixture();
    let bad = t.join("broken.wav");
    std::fs::write(&bad, b"RIFF....WAVEfmt not really").unwrap();
    let missing = t.join("nope.wav");
    let csv = t.join("out.csv");
    let o = aad(&[
        "score",
        d.join("fan.aadm").to_str().unwrap(),
        d.join("test/normal/normal_00.wav").to_str().unwrap(),
        bad.to_str().unwrap(),
        missing.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("broken.wav"), "{err}");
    assert!(err.contains("nope.wav"), "{err}");
    assert!(!err.contains("os error"), "{err}");
    let r = rows(&std::fs::read_to_string(&csv).unwrap());
    assert_eq!(r.len(), 1);
    assert!(r[0][0].ends_with("normal_00.wav"));
}

#[test]
fn a_damaged_model_file_is_a_named_error_with_exit_2() {
    let (t, d) = fixture();
    let good = std::fs::read(d.join("fan.aadm")).unwrap();
    let clip = d.join("test/normal/normal_00.wav");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("not_a_model", b"hello".to_vec()),
        ("edited", {
            let mut b = good.clone();
            let n = b.len();
            b[n - 3] ^= 0x40; // a bit of the last tensor
            b
        }),
        ("edited_header", {
            // The threshold's value inside the header JSON (escaped there), same length.
            let mut b = good.clone();
            let pat = br#"\"value\":"#;
            let at = b
                .windows(pat.len())
                .position(|w| w == pat)
                .expect("threshold in header")
                + pat.len();
            assert!(b[at].is_ascii_digit(), "threshold digit");
            b[at] = if b[at] == b'9' { b'1' } else { b[at] + 1 };
            assert_ne!(b, good);
            b
        }),
    ];
    for (name, bytes) in cases {
        let p = t.join(format!("{name}.aadm"));
        std::fs::write(&p, &bytes).unwrap();
        let o = aad(&["score", p.to_str().unwrap(), clip.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(err.contains(&format!("{name}.aadm")), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        // The user's words, not the container's ("incomplete metadata, file not fully
        // covered").
        let words = match name {
            "truncated" | "cut_by_one" => "damaged or truncated model file",
            "empty" => "an empty file, not a model",
            "not_a_model" => "not a model file",
            _ => "",
        };
        assert!(err.contains(words), "{name}: {err}");
        assert!(
            !err.contains("metadata") && !err.contains("covered"),
            "{name}: {err}"
        );
    }
    let p = t.join("cut_by_one.aadm");
    std::fs::write(&p, &good[..good.len() - 1]).unwrap();
    let o = aad(&["score", p.to_str().unwrap(), clip.to_str().unwrap()]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("damaged or truncated model file"), "{err}");
    let o = aad(&["score", d.to_str().unwrap(), clip.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "a folder as the model");
}

/// Cuts samples [a, b) of a 16-bit mono WAV into a new file.
fn cut(src: &Path, a: usize, b: usize, dst: &Path) {
    let mut r = hound::WavReader::open(src).unwrap();
    let spec = r.spec();
    let s: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
    let mut w = hound::WavWriter::create(dst, spec).unwrap();
    for &v in &s[a..b] {
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn monitor_windows_score_as_the_same_stretches_cut_into_files() {
    let (t, d) = fixture();
    let model = d.join("fan.aadm");
    let long = d.join("long.wav");
    let o = aad(&[
        "monitor",
        model.to_str().unwrap(),
        long.to_str().unwrap(),
        "--window",
        "10",
        "--hop",
        "7.5",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_eq!(
        out.lines().next(),
        Some("start_s,end_s,score,threshold,anomaly")
    );
    let r = rows(&out);
    assert_eq!(r.len(), 15, "(120 - 10) / 7.5 + 1 windows");
    // The anomalous stretch (60-80 s) is flagged, the normal sound around it is not.
    // Windows that straddle two concatenated clips hear the splice (a click), so only
    // windows aligned with the clips are checked.
    for row in &r {
        let (s, e) = (
            row[0].parse::<f64>().unwrap(),
            row[1].parse::<f64>().unwrap(),
        );
        if s >= 60.0 && e <= 80.0 {
            assert_eq!(row[4], "1", "{row:?}");
        }
        if (e <= 60.0 || s >= 80.0) && s % 10.0 == 0.0 {
            assert_eq!(row[4], "0", "{row:?}");
        }
    }
    // --explain: the same rows, then where and why, in the recording's time.
    let o = aad(&[
        "monitor",
        model.to_str().unwrap(),
        long.to_str().unwrap(),
        "--window",
        "10",
        "--hop",
        "7.5",
        "--quiet",
        "--explain",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let explained = text(&o.stdout);
    assert_eq!(
        explained.lines().next(),
        Some(
            "start_s,end_s,score,threshold,anomaly,kind,band_lo_hz,band_hi_hz,span_start_s,span_end_s,explanation"
        )
    );
    let x = rows(&explained);
    assert_eq!(x.len(), r.len());
    for (e, plain) in x.iter().zip(&r) {
        assert_eq!(e[..5], plain[..5], "scores and decisions unchanged");
        let f = |i: usize| e[i].parse::<f64>().unwrap();
        assert!(f(0) <= f(8) && f(8) < f(9) && f(9) <= f(1) + 1e-9, "{e:?}");
        assert!(e[10].contains(&format!("from {:.2} s", f(8))), "{e:?}");
    }
    // Window k equals the file holding the same samples, bit for bit.
    let mut paths = Vec::new();
    for k in [0usize, 8, 14] {
        let p = t.join(format!("win{k}.wav"));
        cut(&long, k * 120_000, k * 120_000 + 160_000, &p);
        paths.push((k, p));
    }
    let mut args = vec!["score", model.to_str().unwrap(), "--quiet"];
    args.extend(paths.iter().map(|(_, p)| p.to_str().unwrap()));
    let scored = rows(&text(&aad(&args).stdout));
    for ((k, _), row) in paths.iter().zip(&scored) {
        assert_eq!(row[1], r[*k][2], "window {k}");
    }
    // Raw PCM on stdin gives the same rows as the WAV file.
    let mut pcm = Vec::new();
    let mut rd = hound::WavReader::open(&long).unwrap();
    for s in rd.samples::<i16>() {
        pcm.extend_from_slice(&s.unwrap().to_le_bytes());
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_aad"))
        .args([
            "monitor",
            model.to_str().unwrap(),
            "-",
            "--window",
            "10",
            "--hop",
            "7.5",
            "--quiet",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&pcm).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert_eq!(text(&o.stdout), out);
}

#[test]
fn list_prints_every_registered_feature_and_detector() {
    let o = aad(&["list"]);
    assert!(o.status.success());
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "features:");
    let det = lines.iter().position(|l| *l == "detectors:").unwrap();
    for e in aad_engine::registry::FEATURES {
        assert!(
            lines[1..det].iter().any(|l| l.starts_with(e.name)),
            "{}",
            e.name
        );
    }
    for e in aad_engine::registry::DETECTORS {
        assert!(
            lines[det + 1..].iter().any(|l| l.starts_with(e.name)),
            "{}",
            e.name
        );
    }
}

/// The help of every option that takes a name, and the docs' tables, name every entry of
/// the registry (the help is generated from it; the docs are checked here).
#[test]
fn every_help_list_and_docs_table_names_every_registry_entry() {
    let help = |sub: &str| text(&aad(&[sub, "--help"]).stdout).replace(['\n', ' '], "");
    let (experiment, fit) = (help("experiment"), help("fit"));
    let docs = |f: &str| {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../docs")
                .join(f),
        )
        .unwrap()
    };
    let tables = docs("experiment.md");
    for e in aad_engine::registry::FEATURES {
        assert!(
            experiment.contains(e.name) && fit.contains(e.name),
            "{} in --help",
            e.name
        );
        assert!(
            tables.contains(&format!("`{}`", e.name)),
            "{} in docs/experiment.md",
            e.name
        );
    }
    for e in aad_engine::registry::DETECTORS {
        assert!(
            experiment.contains(e.name) && fit.contains(e.name),
            "{} in --help",
            e.name
        );
        assert!(
            tables.contains(&format!("`{}`", e.name)),
            "{} in docs/experiment.md",
            e.name
        );
    }
    // `all` is a list's word, not a detector: `aad fit --detector all` says so without
    // offering it.
    let (t, d) = fixture();
    let o = aad(&[
        "fit",
        "--normal",
        d.join("train").to_str().unwrap(),
        "-o",
        t.join("all.aadm").to_str().unwrap(),
        "--detector",
        "all",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("knn_msm") && !err.contains(", all"), "{err}");
}

#[test]
fn bad_options_are_usage_errors() {
    let (t, d) = fixture();
    let out = t.join("x.aadm");
    for args in [
        vec![
            "fit",
            "--normal",
            d.join("train").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--feature",
            "nope",
        ],
        vec![
            "fit",
            "--normal",
            d.join("train").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--threshold",
            "gamma:2",
        ],
        vec![
            "fit",
            "--normal",
            d.join("train/normal_00.wav").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    ] {
        let o = aad(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(text(&o.stderr).starts_with("error: "), "{args:?}");
        assert!(!out.exists());
    }
}

#[test]
fn a_quantile_threshold_flags_about_that_share_of_training_scores() {
    let m = fit_demo("q.aadm", &["--target-fpr", "0.25"]);
    let above = m
        .training_scores()
        .iter()
        .filter(|s| **s > m.threshold())
        .count();
    assert_eq!(m.training_scores().len(), 20);
    assert!((4..=6).contains(&above), "{above} of 20 above");
    assert_eq!(m.training_files().len(), 20);
    assert!(m.training_files().iter().all(|f| f.xxh3_128.len() == 32));
}

#[test]
fn an_autoencoder_fitted_on_two_threads_is_the_one_fitted_on_one() {
    let (t, d) = fixture();
    let fit = |threads: &str| {
        let name = format!("ae{threads}.aadm");
        let args = [
            "--detector",
            "ae_mimii",
            "--epochs",
            "2",
            "--threads",
            threads,
        ];
        fit_demo(&name, &args)
    };
    let (one, two) = (fit("1"), fit("2"));
    assert_eq!(one.training_scores(), two.training_scores());
    assert_eq!(one.threshold(), two.threshold());
    let clip = d.join("test");
    let scores = |m: &str| {
        let o = score_quiet(&t.join(m), &clip);
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    assert_eq!(scores("ae1.aadm"), scores("ae2.aadm"));
}

#[test]
fn a_recording_at_another_rate_than_the_model_is_a_clear_error() {
    let (t, d) = fixture();
    let p = t.join("at_8k.wav");
    let x: Vec<f32> = (0..80_000)
        .map(|i| ((i % 50) as f32 / 50.0) - 0.5)
        .collect();
    aad_audio::write_wav_i16(&p, &x, aad_audio::WavFormat::mono(8_000)).unwrap();
    let model = d.join("fan.aadm");
    let o = score_quiet(&model, &p);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("at_8k.wav") && err.contains("8000") && err.contains("16000"),
        "{err}"
    );
    let o = aad(&[
        "monitor",
        model.to_str().unwrap(),
        p.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("the model expects 16000 Hz"));
}

#[test]
fn synth_writes_the_mimii_shape_at_a_fraction_and_rejects_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (d, o) = synth_mimii(dir.path(), "0.003");
    assert!(
        text(&o.stdout).starts_with("wrote 96 clips"),
        "{}",
        text(&o.stdout)
    );
    for snr in ["6dB", "0dB", "-6dB"] {
        for id in ["fan/id_00", "fan/id_06", "valve/id_02", "valve/id_04"] {
            let n = |label: &str| {
                std::fs::read_dir(d.join(snr).join(id).join(label))
                    .unwrap()
                    .count()
            };
            assert_eq!((n("normal"), n("abnormal")), (3, 1), "{snr}/{id}");
        }
    }
    let again = aad(&["synth", "--quiet", d.to_str().unwrap()]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "a non-empty folder is refused"
    );
    for bad in [
        ["--fraction", "0"],
        ["--fraction", "1.5"],
        ["--preset", "huge"],
    ] {
        let e = dir.path().join("bad");
        let o = aad(&["synth", bad[0], bad[1], e.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(text(&o.stderr).contains(bad[0]), "{}", text(&o.stderr));
        assert!(!e.exists());
    }
}

#[test]
fn summary_with_decode_shows_the_split_the_experiment_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("syn");
    let o = aad(&["synth", "--fraction", "0.5", "--quiet", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let id = d.join("6dB/fan/id_00/normal");
    std::fs::write(id.join("00000000.wav"), b"RIFF....WAVE").unwrap();
    std::fs::copy(id.join("00000001.wav"), id.join("00000099.wav")).unwrap();
    let plain = text(&aad(&["summary", d.to_str().unwrap()]).stdout);
    assert!(!plain.contains("after decoding"), "decoding is asked for");
    let o = aad(&["summary", "--decode", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("(1 unreadable, 1 repeated)"), "{out}");
    assert!(
        out.contains("unreadable ") && out.contains("00000000.wav: "),
        "{out}"
    );
    assert!(out.contains("00000099.wav: the same audio as"), "{out}");
    // The group's row before and after decoding: two clips fewer in training.
    let train_of = |section: &str| -> usize {
        let line = section
            .lines()
            .find(|l| l.starts_with("6dB/fan/id_00 "))
            .unwrap_or_else(|| panic!("no row in {section}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let (before, after) = out.split_once("after decoding").unwrap();
    assert_eq!(train_of(before), train_of(after) + 2, "{out}");
}

#[test]
fn the_machine_id_classifier_fits_against_other_machines_given_with_contrast() {
    let dir = tempfile::tempdir().unwrap();
    let (d, _) = synth_mimii(dir.path(), "0.006");
    let fan = d.join("-6dB/fan");
    let normal = |id: &str| fan.join(id).join("normal").to_str().unwrap().to_string();
    let model = dir.path().join("m.aadm");
    let fit = |extra: &[&str]| {
        let mut args = vec![
            "fit".to_string(),
            "--normal".into(),
            normal("id_00"),
            "-o".into(),
            model.to_str().unwrap().into(),
            "--detector".into(),
            "knn_idclf".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        aad(&args)
    };
    // Without other machines: a usage error that says what to give.
    let o = fit(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("--contrast"),
        "{}",
        text(&o.stderr)
    );
    assert!(!model.exists());
    // Its own recordings as the contrast are left out, which leaves none.
    let o = fit(&["--contrast", &normal("id_00")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("same content"),
        "{}",
        text(&o.stderr)
    );
    let o = fit(&[
        "--contrast",
        &normal("id_02"),
        "--contrast",
        &normal("id_04"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("against 2 others (12 clips)"),
        "{}",
        text(&o.stderr)
    );
    let o = aad(&[
        "eval",
        model.to_str().unwrap(),
        "--normal",
        &normal("id_00"),
        "--anomalous",
        fan.join("id_00/abnormal").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("clips 6 normal, 1 anomalous"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn a_bank_detector_reads_each_training_file_s_domain_from_its_dcase_name() {
    let (_t, d) = fixture();
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("train");
    std::fs::create_dir_all(&train).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(d.join("train"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    // The first file becomes the only target-domain clip.
    for (i, p) in files.iter().enumerate() {
        let domain = if i == 0 { "target" } else { "source" };
        let name = format!("section_00_{domain}_train_normal_{i:04}.wav");
        std::fs::copy(p, train.join(name)).unwrap();
    }
    let model = dir.path().join("m.aadm");
    let fit = || {
        aad(&[
            "fit",
            "--normal",
            train.to_str().unwrap(),
            "-o",
            model.to_str().unwrap(),
            "--detector",
            "knn_domains",
            "--quiet",
        ])
    };
    let score = || {
        let o = score_quiet(&model, &d.join("test"));
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let r = rows(&text(&o.stdout));
        assert_eq!(r.len(), 18);
        r.iter().map(|row| row[1].clone()).collect::<Vec<_>>()
    };
    // One target clip cannot make a bank of its own: it joins the source bank, in the
    // final fit and in every cross-fitting fold.
    let o = fit();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let one_bank = score();
    // A second target clip: two banks, other scores.
    let second = train.join(format!(
        "section_00_target_train_normal_{:04}.wav",
        files.len()
    ));
    std::fs::copy(
        d.join("test/normal")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
        second,
    )
    .unwrap();
    let o = fit();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_ne!(score(), one_bank, "two banks score as one");
}

#[test]
fn models_of_format_1_still_load_and_score_as_they_did() {
    let (t, d) = fixture();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/model-format-1");
    for name in ["knn_msm", "knn_idclf", "ae_cens"] {
        let csv = t.join(format!("format1-{name}.csv"));
        let o = aad(&[
            "score",
            fixtures.join(format!("{name}.aadm")).to_str().unwrap(),
            d.join("test").to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        let got: Vec<Vec<String>> = rows(&std::fs::read_to_string(&csv).unwrap())
            .into_iter()
            .map(|mut r| {
                r[0] = Path::new(&r[0])
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string();
                r
            })
            .collect();
        let want = rows(&std::fs::read_to_string(fixtures.join(format!("{name}.csv"))).unwrap());
        assert!(want.len() >= 10, "{name}: {want:?}");
        assert_eq!(got, want, "{name}");
    }
}

/// A 2 s recording of a machine: a 500 Hz hum in noise; 16-bit samples.
fn machine_pcm(rate: u32, seed: u32) -> Vec<i32> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..2 * rate)
        .map(|i| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let t = i as f32 / rate as f32;
            let x = 0.2 * (t * 500.0 * std::f32::consts::TAU).sin() + 0.1 * noise;
            (x * 32_767.0) as i32
        })
        .collect()
}

fn write_wav(path: &Path, samples: &[i32], rate: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// `tests/fixtures/audio/flac48k` (`scripts/fixtures/gen_flac48k.py`): fitting once
/// read the rate with the WAV-only reader, fell back to 16 kHz, and refused every clip.
#[test]
fn a_folder_of_48_khz_flac_recordings_fits_and_scores() {
    let dir = tempfile::tempdir().unwrap();
    let data = aad_testutil::fixtures_dir().join("audio/flac48k");
    let model = dir.path().join("m.aadm");
    let o = aad(&[
        "fit",
        "--normal",
        data.join("train").to_str().unwrap(),
        "-o",
        model.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let m = aad_engine::model::Model::load(&model).unwrap();
    assert_eq!((m.sample_rate(), m.training_files().len()), (48_000, 6));
    let o = score_quiet(&model, &data.join("test"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let r = rows(&text(&o.stdout));
    let score = |i: usize| r[i][1].parse::<f64>().unwrap();
    assert!(
        r[1][0].ends_with("b_fault.flac") && score(1) > score(0),
        "{r:?}"
    );
    assert_eq!((r[0][3].as_str(), r[1][3].as_str()), ("0", "1"), "{r:?}");
}

#[test]
fn fit_reads_the_rate_most_files_have_and_names_each_file_left_out() {
    let dir = tempfile::tempdir().unwrap();
    write_wav(
        &dir.path().join("a_44k.wav"),
        &machine_pcm(44_100, 0),
        44_100,
    );
    for seed in 1..8 {
        let path = dir.path().join(format!("b_{seed}.wav"));
        write_wav(&path, &machine_pcm(16_000, seed), 16_000);
    }
    let model = dir.path().join("m.aadm");
    let o = aad(&[
        "fit",
        "--normal",
        dir.path().to_str().unwrap(),
        "-o",
        model.to_str().unwrap(),
        "--quiet",
    ]);
    // Exit 2: a file was left out; the model of the other seven is written.
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("a_44k.wav") && err.contains("44100 Hz") && err.contains("16000 Hz"),
        "{err}"
    );
    let m = aad_engine::model::Model::load(&model).unwrap();
    assert_eq!((m.sample_rate(), m.training_files().len()), (16_000, 7));

    // --rate chooses: at 44.1 kHz there is one clip, too few.
    let o = aad(&[
        "fit",
        "--normal",
        dir.path().to_str().unwrap(),
        "-o",
        dir.path().join("m44.aadm").to_str().unwrap(),
        "--quiet",
        "--rate",
        "44100",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("1 usable normal clips"), "{err}");
    // Even when the fit fails, every file left out is named.
    assert_eq!(err.matches("skipped ").count(), 7, "{err}");
    assert!(err.contains("b_7.wav: sample rate 16000 Hz"), "{err}");
}

/// The first hour's messages: an input without audio, a recording shorter than a
/// monitor window (with or without a plot), a repeated training file, the demo folder.
#[test]
fn inputs_without_audio_and_short_recordings_say_so_with_exit_2() {
    let (t, d) = fixture();
    let model = d.join("fan.aadm");
    let empty = t.join("no_audio");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), b"not audio").unwrap();
    let o = score_quiet(&model, &empty);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("no .wav or .flac files"),
        "{}",
        text(&o.stderr)
    );
    assert!(
        text(&o.stdout).is_empty(),
        "no CSV header alone: {}",
        text(&o.stdout)
    );

    let clip = d.join("test/normal/normal_00.wav");
    let png = t.join("short.png");
    for plot in [false, true] {
        let mut args = vec![
            "monitor",
            model.to_str().unwrap(),
            clip.to_str().unwrap(),
            "--window",
            "30",
            "--quiet",
        ];
        if plot {
            args.extend(["--plot", png.to_str().unwrap()]);
        }
        let o = aad(&args);
        assert_eq!(o.status.code(), Some(2), "plot {plot}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("shorter than one window"),
            "{}",
            text(&o.stderr)
        );
    }

    let dup = t.join("dup");
    std::fs::create_dir_all(&dup).unwrap();
    for (i, f) in [
        "normal_00",
        "normal_01",
        "normal_02",
        "normal_03",
        "normal_04",
    ]
    .iter()
    .enumerate()
    {
        std::fs::copy(
            d.join(format!("train/{f}.wav")),
            dup.join(format!("{i}.wav")),
        )
        .unwrap();
    }
    std::fs::copy(d.join("train/normal_00.wav"), dup.join("copy.wav")).unwrap();
    let o = aad(&[
        "fit",
        "--normal",
        dup.to_str().unwrap(),
        "-o",
        t.join("dup.aadm").to_str().unwrap(),
        "--quiet",
    ]);
    let err = text(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("copy.wav"))
        .unwrap_or_default();
    assert!(
        line.contains("same content as") && line.contains("0.wav"),
        "{err}"
    );
    assert_eq!(line.matches("copy.wav").count(), 1, "the path once: {line}");
    // Five clips fit, with a warning: fewer than recommended.
    assert!(
        err.contains("warning: fitted on 5 normal clips; 20 or more"),
        "{err}"
    );

    // A 6 ms clip is scored, with a warning.
    let tiny = t.join("tiny.wav");
    write_wav(&tiny, &machine_pcm(16_000, 3)[..96], 16_000);
    let o = score_quiet(&model, &tiny);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("tiny.wav: 0.006 s long") && err.contains("unreliable"),
        "{err}"
    );

    let ignored = Command::new("git")
        .args(["check-ignore", "-q", "demo/train/normal_00.wav"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .status();
    // Outside a git checkout (a packaged crate) there is nothing to check.
    if let Ok(s) = ignored
        && s.code() != Some(128)
    {
        assert!(s.success(), "demo/ is not ignored by git");
    }
}

#[test]
fn explain_names_the_band_the_kind_and_the_time_span_of_a_clip() {
    let (_, d) = fixture();
    let model = d.join("fan.aadm");
    let clip = d.join("test/anomalous/anomalous_00.wav");
    let o = aad(&["explain", model.to_str().unwrap(), clip.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("(anomalous)"), "{out}");
    let kind = out.lines().find_map(|l| l.strip_prefix("kind ")).unwrap();
    assert!(
        ["tonal", "broadband level", "transient", "fluctuation"].contains(&kind),
        "{out}"
    );
    assert!(out.contains(" band from ") && out.contains(" kHz"), "{out}");
    let table: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("band_lo_hz"))
        .skip(1)
        .collect();
    assert_eq!(table.len(), 16, "{out}");
    let shares: f64 = table
        .iter()
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
            v[2] + v[3] + v[4]
        })
        .sum();
    assert!((shares - 1.0).abs() < 1e-3, "{shares}");
    // --plot draws it, and prints the same explanation.
    let png = fixture().0.join("why.png");
    let o = aad(&[
        "explain",
        model.to_str().unwrap(),
        clip.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), out);
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
        "{}",
        bytes.len()
    );
    // `aad score --explain`: the same scores, with the explanation's columns.
    let plain = score_quiet(&model, &d.join("test"));
    let o = aad(&[
        "score",
        model.to_str().unwrap(),
        d.join("test").to_str().unwrap(),
        "--explain",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let csv = text(&o.stdout);
    assert!(
        csv.starts_with(
            "file,score,threshold,anomaly,kind,band_lo_hz,band_hi_hz,start_s,end_s,explanation\n"
        ),
        "{csv}"
    );
    let explained = rows(&csv);
    let before = rows(&text(&plain.stdout));
    assert_eq!(explained.len(), before.len());
    for (e, b) in explained.iter().zip(&before) {
        assert_eq!(e[..4], b[..4], "scores and decisions unchanged");
        assert!(
            e[5].parse::<f64>().unwrap() < e[6].parse::<f64>().unwrap(),
            "{e:?}"
        );
    }
    // An autoencoder scored by its squared error is explained by its reconstruction
    // error; one scored by the Mahalanobis distance (no breakdown yet) says so.
    let ae = fit_demo("explain_ae.aadm", &["--detector", "ae", "--epochs", "2"]);
    let _ = ae;
    let o = aad(&[
        "explain",
        fixture().0.join("explain_ae.aadm").to_str().unwrap(),
        clip.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("reconstruction error above normal"),
        "{}",
        text(&o.stdout)
    );
    let ae = fit_demo(
        "explain_ae_mahala.aadm",
        &["--detector", "ae_mahala", "--epochs", "2"],
    );
    let _ = ae;
    let o = aad(&[
        "explain",
        fixture().0.join("explain_ae_mahala.aadm").to_str().unwrap(),
        clip.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("explanations cover"),
        "{}",
        text(&o.stderr)
    );
    let o = aad(&[
        "score",
        fixture().0.join("explain_ae_mahala.aadm").to_str().unwrap(),
        clip.to_str().unwrap(),
        "--explain",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("no explanations yet"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn summary_says_a_repeated_reason_once_for_all_its_files() {
    let t = tempfile::tempdir().unwrap();
    for i in 0..13 {
        std::fs::write(t.path().join(format!("rec{i:02}.wav")), b"RIFF").unwrap();
    }
    let o = aad(&["summary", t.path().to_str().unwrap()]);
    let out = text(&o.stdout);
    assert!(out.contains("skipped 13 file(s):"), "{out}");
    assert_eq!(out.matches("path fits no layout").count(), 1, "{out}");
    assert!(out.contains("  13 files: path fits no layout"), "{out}");
    assert!(
        out.contains("rec00.wav") && out.contains("... and 3 more"),
        "{out}"
    );
}

/// A reader that closes its end early (`aad explain M F | head -1`) ends each command
/// quietly: no panic, exit 0 or the SIGPIPE that ends `cat` too.
#[test]
fn a_closed_pipe_ends_every_printing_command_without_a_panic() {
    let (_, d) = fixture();
    let model = d.join("fan.aadm");
    let clip = d.join("test/anomalous/anomalous_00.wav");
    let (test, long) = (d.join("test"), d.join("long.wav"));
    let (m, c) = (model.to_str().unwrap(), clip.to_str().unwrap());
    let commands: [&[&str]; 4] = [
        &["explain", m, c],
        &["score", m, test.to_str().unwrap()],
        &["monitor", m, long.to_str().unwrap()],
        &["list"],
    ];
    for args in commands {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aad"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Closed before the command has loaded anything, so its first print meets it.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = text(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert!(
                o.status.success() || o.status.signal() == Some(13),
                "{args:?}: {:?} {err}",
                o.status
            );
        }
    }
}
