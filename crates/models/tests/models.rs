//! Every detector on synthetic data, scikit-learn parity of the deterministic ones,
//! determinism, persistence, backends and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aad_core::{Detector, Fit, Label};
use aad_models::classical::*;
use aad_models::*;
use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// Clips of 30 frames x 8 features: normal ones around 0 with a correlated structure,
/// anomalous ones shifted by `shift` in three features.
/// Clips of 30 frames x 8 dims; `shift` moves every dimension's mean. (An anomaly in only a
/// few of the dimensions is not "easy" for an Isolation Forest on clip statistics: scikit-learn's
/// gets AUC 0.79-1.0 over seeds on a 3-of-8 shift, ours the same.)
fn clips(n: usize, shift: f32, seed: u64) -> Vec<Array2<f32>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let g = Normal::new(0.0f32, 1.0).unwrap();
    (0..n)
        .map(|_| {
            Array2::from_shape_fn((30, 8), |(_, j)| {
                let base: f32 = g.sample(&mut rng);
                base * (1.0 + j as f32 * 0.2) + shift
            })
        })
        .collect()
}

fn views(c: &[Array2<f32>]) -> Vec<ArrayView2<'_, f32>> {
    c.iter().map(|m| m.view()).collect()
}

fn auc(
    det: &impl Detector<Error = ModelError>,
    normal: &[Array2<f32>],
    anomalous: &[Array2<f32>],
) -> f64 {
    let mut s = Vec::new();
    let mut l = Vec::new();
    for (set, label) in [(normal, Label::Normal), (anomalous, Label::Anomalous)] {
        for c in set {
            s.push(det.score(c.view()).unwrap());
            l.push(label);
        }
    }
    aad_metrics::roc_auc(&s, &l).unwrap()
}

fn all_configs() -> Vec<DetectorConfig> {
    let frames = Inputs::frames(Some(2000));
    vec![
        DetectorConfig::Autoencoder(
            AutoencoderConfig::cens()
                .input_dims(None)
                .epochs(15)
                .batch_size(64),
        ),
        DetectorConfig::Autoencoder(
            AutoencoderConfig::dcase2020()
                .input_dims(None)
                .epochs(10)
                .batch_size(64)
                .scoring(AeScoring::Mahalanobis { ridge: 1e-3 }),
        ),
        DetectorConfig::Knn(KnnConfig::default()),
        DetectorConfig::Knn(KnnConfig::default().inputs(frames)),
        DetectorConfig::Lof(LofConfig::default()),
        DetectorConfig::Lof(LofConfig::default().inputs(frames)),
        DetectorConfig::IsolationForest(IsolationForestConfig::default()),
        DetectorConfig::IsolationForest(IsolationForestConfig::default().inputs(frames)),
        DetectorConfig::Gmm(GmmConfig::default()),
        DetectorConfig::Gmm(GmmConfig::default().inputs(frames)),
        DetectorConfig::Mahalanobis(MahalanobisConfig::default()),
        DetectorConfig::Mahalanobis(MahalanobisConfig::default().inputs(frames)),
        DetectorConfig::Pca(PcaConfig::default()),
        DetectorConfig::Pca(PcaConfig::default().inputs(frames)),
        DetectorConfig::Knn(
            KnnConfig::default().inputs(Inputs::clip_stats().represented(Representation::ClipMean)),
        ),
        DetectorConfig::Knn(
            KnnConfig::default()
                .inputs(Inputs::clip_stats().represented(Representation::ClipMeanStdMax)),
        ),
        DetectorConfig::Mahalanobis(
            MahalanobisConfig::default()
                .inputs(Inputs::clip_stats().represented(Representation::ClipMeanStdMax)),
        ),
        DetectorConfig::Knn(KnnConfig::default().inputs(frames.pooled(Pooling::Max))),
        DetectorConfig::Gmm(
            GmmConfig::default().inputs(frames.pooled(Pooling::Percentile { p: 90.0 })),
        ),
        DetectorConfig::Pca(PcaConfig::default().inputs(frames.pooled(Pooling::TopMean { k: 5 }))),
        fusion(),
    ]
}

fn fusion() -> DetectorConfig {
    DetectorConfig::Fusion(FusionConfig::new(vec![
        DetectorConfig::Knn(
            KnnConfig::default().inputs(Inputs::clip_stats().represented(Representation::ClipMean)),
        ),
        DetectorConfig::Mahalanobis(MahalanobisConfig::default()),
        DetectorConfig::Knn(
            KnnConfig::default().inputs(Inputs::frames(Some(500)).pooled(Pooling::Max)),
        ),
    ]))
}

#[test]
fn every_detector_ranks_injected_anomalies_above_held_out_normals() {
    let train = clips(40, 0.0, 1);
    let test_normal = clips(20, 0.0, 2);
    let test_anomalous = clips(20, 2.5, 3);
    for cfg in all_configs() {
        let det = cfg.fit(&views(&train), 42).unwrap();
        let a = auc(&det, &test_normal, &test_anomalous);
        eprintln!("{:>12} {:?}: AUC {a:.3}", cfg.kind(), det.input_dims());
        assert!(a > 0.9, "{cfg:?}: AUC {a}");
    }
}

#[test]
fn same_seed_gives_bit_identical_scores_and_another_seed_differs() {
    let train = clips(30, 0.0, 4);
    let probe = clips(5, 0.7, 5);
    for cfg in all_configs() {
        let a = cfg
            .fit(&views(&train), 9)
            .unwrap()
            .score_batch(&views(&probe))
            .unwrap();
        let b = cfg
            .fit(&views(&train), 9)
            .unwrap()
            .score_batch(&views(&probe))
            .unwrap();
        assert_eq!(a, b, "{cfg:?}");
        let randomised = matches!(
            cfg,
            DetectorConfig::Autoencoder(_) | DetectorConfig::IsolationForest(_)
        );
        if randomised {
            let c = cfg
                .fit(&views(&train), 10)
                .unwrap()
                .score_batch(&views(&probe))
                .unwrap();
            assert_ne!(a, c, "{cfg:?}: a different seed should change the model");
        }
    }
}

fn vec2(v: &serde_json::Value) -> Array2<f32> {
    let rows: Vec<Vec<f32>> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j])
}

#[test]
fn lof_ledoit_wolf_and_pca_match_scikit_learn() {
    let fx = aad_testutil::read_json(&aad_testutil::fixtures_dir().join("models/sklearn.json"));
    let x = vec2(&fx["X"]);
    let t = vec2(&fx["T"]);
    let raw = Inputs {
        representation: Representation::Frames,
        scaling: Scaling::None,
        max_train_vectors: None,
        pooling: Default::default(),
    };
    let check = |name: &str, det: &dyn Fn(ArrayView2<'_, f32>) -> f64, tol: f64| {
        for (i, want) in fx[name].as_array().unwrap().iter().enumerate() {
            let want = want.as_f64().unwrap();
            let got = det(t.slice(ndarray::s![i..i + 1, ..]));
            assert!(
                (got - want).abs() <= tol * want.abs().max(1.0),
                "{name}[{i}]: {got} vs {want}"
            );
        }
    };
    let mut lof = LofConfig::default().inputs(raw);
    lof.k = 7;
    let lof = lof.fit(&[x.view()], 0).unwrap();
    check("lof", &|c| lof.score(c).unwrap(), 1e-4);
    let maha = MahalanobisConfig::default()
        .inputs(raw)
        .fit(&[x.view()], 0)
        .unwrap();
    assert!((maha.shrinkage() - fx["lw_shrinkage"].as_f64().unwrap()).abs() < 1e-6);
    check("mahalanobis_lw", &|c| maha.score(c).unwrap(), 1e-4);
    let mut pca = PcaConfig::default().inputs(raw);
    pca.components = PcaComponents::Count(2);
    let pca = pca.fit(&[x.view()], 0).unwrap();
    check("pca_residual", &|c| pca.score(c).unwrap(), 1e-4);
}

#[test]
fn autoencoder_save_load_round_trip_gives_identical_scores() {
    let train = clips(30, 0.0, 8);
    let probe = clips(3, 0.9, 9);
    let dir = tempfile::tempdir().unwrap();
    for (i, cfg) in [
        AutoencoderConfig::dcase2020()
            .input_dims(None)
            .epochs(3)
            .batch_size(64),
        AutoencoderConfig::seed().input_dims(None).epochs(3),
        AutoencoderConfig::cens()
            .input_dims(None)
            .epochs(3)
            .batch_size(64)
            .scoring(AeScoring::Mahalanobis { ridge: 1e-2 }),
    ]
    .into_iter()
    .enumerate()
    {
        let ae = cfg.fit(&views(&train), 3).unwrap();
        let path = dir.path().join(format!("m{i}"));
        ae.save(&path).unwrap();
        let back = Autoencoder::load(&path).unwrap();
        assert_eq!(back, ae);
        assert_eq!(
            back.score_batch(&views(&probe)).unwrap(),
            ae.score_batch(&views(&probe)).unwrap()
        );
        // The weights are a standard safetensors file with PyTorch-style names.
        let bytes = std::fs::read(path.join("model.safetensors")).unwrap();
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
        assert!(header.contains("\"layers.0.weight\""), "{header}");
    }
    let names: Vec<_> = std::fs::read_dir(dir.path().join("m0"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary files left: {names:?}");
}

#[test]
fn corrupt_and_mismatched_model_files_are_typed_errors() {
    let train = clips(20, 0.0, 10);
    let ae = AutoencoderConfig::mimii()
        .input_dims(None)
        .epochs(2)
        .batch_size(32)
        .fit(&views(&train), 1)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fresh = |name: &str| {
        let p = dir.path().join(name);
        ae.save(&p).unwrap();
        p
    };
    // Truncated weights: the hash no longer matches.
    let p = fresh("truncated");
    let w = p.join("model.safetensors");
    let b = std::fs::read(&w).unwrap();
    std::fs::write(&w, &b[..b.len() / 2]).unwrap();
    assert!(matches!(
        Autoencoder::load(&p),
        Err(ModelError::Format { .. })
    ));
    // A future format version.
    let p = fresh("version");
    let j = p.join("model.json");
    let text = std::fs::read_to_string(&j)
        .unwrap()
        .replace("\"version\": 2", "\"version\": 7");
    std::fs::write(&j, text).unwrap();
    assert!(matches!(
        Autoencoder::load(&p),
        Err(ModelError::Version {
            ref found,
            supported: 2,
            ..
        }) if found == "7"
    ));
    // A version written as a string is reported as written, not as "version 0".
    std::fs::write(
        &j,
        std::fs::read_to_string(&j)
            .unwrap()
            .replace("\"version\": 7", "\"version\": \"2\""),
    )
    .unwrap();
    let e = Autoencoder::load(&p).unwrap_err().to_string();
    assert!(e.contains("version \"2\""), "{e}");
    // Any edit of model.json, not only of the weights, breaks the content hash.
    let p = fresh("edited");
    let j = p.join("model.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    meta["seed"] = serde_json::json!(meta["seed"].as_u64().unwrap() + 1);
    std::fs::write(&j, serde_json::to_string_pretty(&meta).unwrap()).unwrap();
    let e = Autoencoder::load(&p).unwrap_err();
    assert!(matches!(e, ModelError::Format { .. }), "{e}");
    assert!(e.to_string().contains("content hash"), "{e}");
    // An untouched copy, read and rewritten through serde_json, still loads.
    let p = fresh("rewritten");
    let j = p.join("model.json");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    std::fs::write(&j, serde_json::to_string(&meta).unwrap()).unwrap();
    Autoencoder::load(&p).unwrap();
    // Garbage JSON, a missing file, a non-model JSON.
    let p = fresh("garbage");
    std::fs::write(p.join("model.json"), "{not json").unwrap();
    assert!(matches!(
        Autoencoder::load(&p),
        Err(ModelError::Format { .. })
    ));
    let p = fresh("missing");
    std::fs::remove_file(p.join("model.safetensors")).unwrap();
    assert!(matches!(Autoencoder::load(&p), Err(ModelError::Io { .. })));
    let p = fresh("other");
    std::fs::write(
        p.join("model.json"),
        "{\"format\": \"something-else\", \"version\": 1}",
    )
    .unwrap();
    assert!(matches!(
        Autoencoder::load(&p),
        Err(ModelError::Format { .. })
    ));
    assert!(matches!(
        Autoencoder::load(dir.path().join("nowhere")),
        Err(ModelError::Io { .. })
    ));
}

#[test]
fn bad_input_gets_typed_errors() {
    let train = clips(10, 0.0, 11);
    let ae = AutoencoderConfig::mimii()
        .input_dims(None)
        .epochs(1)
        .batch_size(16);
    // Empty training set, empty clip, inconsistent widths, NaN.
    assert!(matches!(
        ae.fit(&[], 1),
        Err(ModelError::EmptyTrainingSet(_))
    ));
    let empty = Array2::<f32>::zeros((0, 8));
    assert!(matches!(
        ae.fit(&[empty.view()], 1),
        Err(ModelError::EmptyClip { clip: 0 })
    ));
    let narrow = Array2::<f32>::zeros((5, 7));
    let mixed = [train[0].view(), narrow.view()];
    assert!(matches!(
        ae.fit(&mixed, 1),
        Err(ModelError::WidthMismatch {
            clip: 1,
            expected: 8,
            got: 7
        })
    ));
    let mut nan = train[0].clone();
    nan[[3, 2]] = f32::NAN;
    assert!(matches!(
        ae.fit(&[nan.view()], 1),
        Err(ModelError::NonFinite {
            clip: 0,
            row: 3,
            col: 2,
            ..
        })
    ));
    // Fewer training vectors than the batch size.
    let e = AutoencoderConfig::dcase2020()
        .input_dims(None)
        .fit(&views(&train), 1)
        .unwrap_err();
    assert!(
        matches!(
            e,
            ModelError::TooFewVectors {
                need: 512,
                got: 270,
                ..
            }
        ),
        "{e}"
    );
    // Wrong width at scoring, for every detector.
    for cfg in all_configs() {
        let det = cfg.fit(&views(&clips(30, 0.0, 12)), 1).unwrap();
        let e = det.score(narrow.view()).unwrap_err();
        assert!(
            matches!(
                e,
                ModelError::WidthMismatch {
                    expected: 8,
                    got: 7,
                    ..
                }
            ),
            "{cfg:?}: {e}"
        );
        assert!(det.score(nan.view()).is_err());
    }
    // Invalid configurations.
    assert!(
        AutoencoderConfig::mimii()
            .input_dims(None)
            .batch_size(0)
            .fit(&views(&train), 1)
            .is_err()
    );
    assert!(
        AutoencoderConfig::mimii()
            .input_dims(None)
            .validation_split(1.0)
            .fit(&views(&train), 1)
            .is_err()
    );
    let mut knn = KnnConfig::default();
    knn.k = 0;
    assert!(knn.fit(&views(&train), 1).is_err());
    let mut knn = KnnConfig::default();
    knn.k = 50;
    assert!(matches!(
        knn.fit(&views(&train), 1),
        Err(ModelError::TooFewVectors { .. })
    ));
}

struct Recorder {
    epochs: Vec<EpochReport>,
    batches: usize,
    stop_after: usize,
}

impl TrainObserver for Recorder {
    fn on_batch(&mut self, _epoch: usize, _batch: usize) {
        self.batches += 1;
    }
    fn on_epoch(&mut self, r: &EpochReport) -> bool {
        self.epochs.push(*r);
        self.epochs.len() < self.stop_after
    }
}

#[test]
fn observer_sees_every_epoch_and_can_stop_training_and_early_stopping_works() {
    let train = clips(20, 0.0, 13);
    let cfg = AutoencoderConfig::mimii()
        .input_dims(None)
        .epochs(10)
        .batch_size(50);
    let mut rec = Recorder {
        epochs: Vec::new(),
        batches: 0,
        stop_after: 3,
    };
    let ae = cfg.fit_observed(&views(&train), 1, &mut rec).unwrap();
    assert_eq!(rec.epochs.len(), 3);
    assert_eq!(ae.history().len(), 3);
    // 600 vectors, 540 for training in batches of 50: 11 batches per epoch.
    assert_eq!(rec.batches, 33);
    assert!(
        rec.epochs
            .iter()
            .all(|r| r.val_loss.is_some() && r.train_loss.is_finite())
    );
    // Early stopping with zero patience and a huge min_delta: the first epoch sets the
    // best loss, the second does not improve on it by 1e9, training stops (as in Keras).
    let early = cfg.clone().early_stopping(Some(EarlyStopping {
        patience: 0,
        min_delta: 1e9,
        restore_best: true,
    }));
    let ae = early.fit(&views(&train), 1).unwrap();
    assert_eq!(ae.history().len(), 2);
    // The loss decreases over a longer run.
    let long = AutoencoderConfig::mimii()
        .input_dims(None)
        .epochs(40)
        .batch_size(50)
        .fit(&views(&train), 2)
        .unwrap();
    let h = long.history();
    assert!(
        h[h.len() - 1].train_loss < h[0].train_loss * 0.9,
        "{:?}",
        (h[0].train_loss, h[h.len() - 1].train_loss)
    );
}

#[cfg(feature = "candle")]
#[test]
fn the_candle_backend_trains_the_same_model_as_the_native_engine() {
    let train = clips(30, 0.0, 14);
    let probe = clips(4, 0.8, 15);
    for cfg in [
        AutoencoderConfig::dcase2020()
            .input_dims(None)
            .epochs(3)
            .batch_size(64),
        AutoencoderConfig::seed().input_dims(None).epochs(3),
    ] {
        candle_matches_native(cfg, &train, &probe);
    }
    // The interpolation network, on stacks of 5 frames.
    let train = smooth_clips(20, 0, 16);
    let probe = smooth_clips(4, 2, 17);
    let idnn = AutoencoderConfig::idnn()
        .input_dims(Some(20))
        .epochs(3)
        .batch_size(64);
    candle_matches_native(idnn, &train, &probe);
}

#[cfg(feature = "candle")]
fn candle_matches_native(cfg: AutoencoderConfig, train: &[Array2<f32>], probe: &[Array2<f32>]) {
    let native = cfg.clone().fit(&views(train), 5).unwrap();
    let candle = cfg
        .clone()
        .backend(Backend::Candle)
        .fit(&views(train), 5)
        .unwrap();
    for (a, b) in native.history().iter().zip(candle.history()) {
        assert!(
            (a.train_loss - b.train_loss).abs() < 1e-3 * a.train_loss,
            "{cfg:?}: {a:?} vs {b:?}"
        );
    }
    for (a, b) in native
        .score_batch(&views(probe))
        .unwrap()
        .iter()
        .zip(candle.score_batch(&views(probe)).unwrap())
    {
        assert!((a - b).abs() < 1e-2 * a.abs(), "{cfg:?}: {a} vs {b}");
    }
}

#[test]
fn presets_have_the_documented_sizes() {
    // Parameter counts of the baselines' Keras models (Dense + BatchNorm gamma/beta).
    let d = |cfg: AutoencoderConfig, input: usize| cfg.layer_dims(input);
    assert_eq!(
        d(AutoencoderConfig::mimii().input_dims(None), 320),
        vec![320, 64, 64, 8, 64, 64, 320]
    );
    assert_eq!(
        d(AutoencoderConfig::dcase2020().input_dims(None), 640),
        vec![640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640]
    );
    let train: Vec<Array2<f32>> = (0..3)
        .map(|s| Array2::from_shape_fn((300, 320), |(i, j)| ((i * 31 + j * 7 + s) % 17) as f32))
        .collect();
    let ae = AutoencoderConfig::mimii()
        .input_dims(None)
        .epochs(1)
        .fit(&views(&train), 0)
        .unwrap();
    assert_eq!(
        ae.n_params(),
        50_760,
        "the MIMII baseline has 50,760 parameters"
    );
    let train: Vec<Array2<f32>> = (0..3)
        .map(|s| Array2::from_shape_fn((300, 640), |(i, j)| ((i * 31 + j * 7 + s) % 17) as f32))
        .collect();
    let ae = AutoencoderConfig::dcase2020()
        .input_dims(None)
        .epochs(1)
        .fit(&views(&train), 0)
        .unwrap();
    // 265,864 dense parameters plus 2 x 8 x 128 + 2 x 8 BatchNorm gamma/beta.
    assert_eq!(ae.n_params(), 265_864 + 2 * (8 * 128 + 8));
}

#[test]
fn detectors_cross_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AnyDetector>();
    assert_send_sync::<DetectorConfig>();
    assert_send_sync::<Autoencoder>();
    assert_send_sync::<ModelError>();
}

#[test]
fn a_score_that_overflows_is_an_error_not_ok_infinity() {
    let train = clips(10, 0.0, 31);
    let det = DetectorConfig::Knn(KnnConfig::default())
        .fit(&views(&train), 1)
        .unwrap();
    let mut far = train[0].clone();
    far.fill(1e30);
    let e = det.score(far.view()).unwrap_err();
    assert!(matches!(e, ModelError::Numerical(_)), "{e}");
    assert!(det.score(train[1].view()).unwrap().is_finite());
}

#[test]
fn a_preset_given_vectors_of_another_width_is_an_error_not_another_network() {
    // Unstacked CENS: 12 bins per frame, where the CENS preset expects 12 x 5 = 60.
    let unstacked: Vec<Array2<f32>> = (0..4)
        .map(|s| Array2::from_shape_fn((40, 12), |(t, j)| ((t * 3 + j + s) % 7) as f32))
        .collect();
    let e = AutoencoderConfig::cens()
        .epochs(1)
        .fit(&views(&unstacked), 1)
        .unwrap_err();
    assert!(matches!(e, ModelError::InvalidConfig { .. }), "{e}");
    assert!(e.to_string().contains("60"), "{e}");
    let stacked: Vec<Array2<f32>> = unstacked
        .iter()
        .map(|c| aad_core::ops::stack_frames(c.view(), 5).unwrap())
        .collect();
    AutoencoderConfig::cens()
        .epochs(1)
        .batch_size(32)
        .fit(&views(&stacked), 1)
        .unwrap();
    assert!(
        AutoencoderConfig::cens()
            .input_dims(None)
            .epochs(1)
            .batch_size(32)
            .fit(&views(&unstacked), 1)
            .is_ok()
    );
}

#[test]
fn an_edited_autoencoder_json_is_rejected_naming_the_file() {
    let train = clips(12, 0.0, 41);
    let ae = AutoencoderConfig::mimii()
        .input_dims(None)
        .epochs(2)
        .batch_size(32)
        .fit(&views(&train), 1)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    ae.save(dir.path()).unwrap();
    let json = dir.path().join("model.json");
    let good = std::fs::read_to_string(&json).unwrap();
    let v: serde_json::Value = serde_json::from_str(&good).unwrap();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "zero epochs",
            Box::new(|v| v["config"]["epochs"] = 0.into()),
        ),
        (
            "zero batch",
            Box::new(|v| v["config"]["batch_size"] = 0.into()),
        ),
        (
            "inconsistent layers",
            Box::new(|v| v["layers"][0]["n_in"] = 3.into()),
        ),
        (
            "no hidden width",
            Box::new(|v| v["config"]["hidden"][0] = 0.into()),
        ),
    ];
    for (what, edit) in edits {
        let mut e = v.clone();
        edit(&mut e);
        std::fs::write(&json, serde_json::to_string(&e).unwrap()).unwrap();
        let err = Autoencoder::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(&*dir.path().to_string_lossy()) && err.contains("not a valid model"),
            "{what}: {err}"
        );
    }
    std::fs::write(&json, good).unwrap();
    assert!(Autoencoder::load(dir.path()).is_ok());
}

#[test]
fn pooling_and_clip_summaries_do_what_they_say() {
    let v = [1.0, 5.0, 2.0, 4.0, 3.0];
    assert_eq!(Pooling::Mean.pool(&v), 3.0);
    assert_eq!(Pooling::Max.pool(&v), 5.0);
    assert_eq!(Pooling::TopMean { k: 2 }.pool(&v), 4.5);
    assert_eq!(Pooling::TopMean { k: 9 }.pool(&v), 3.0);
    // numpy.percentile([1, 2, 3, 4, 5], 90) = 4.6
    assert!((Pooling::Percentile { p: 90.0 }.pool(&v) - 4.6).abs() < 1e-12);
    assert_eq!(Pooling::Percentile { p: 0.0 }.pool(&v), 1.0);
    assert!(Pooling::Mean.pool(&[]).is_nan());
    assert!(Pooling::TopMean { k: 0 }.validate().is_err());
    assert!(Pooling::Percentile { p: 101.0 }.validate().is_err());
    let clip = ndarray::array![[1.0f32, -1.0], [3.0, -1.0], [2.0, -4.0]];
    let msm = Representation::ClipMeanStdMax.vectors(clip.view()).unwrap();
    let std0 = (2.0f32 / 3.0).sqrt();
    let want = [2.0, -2.0, std0, 2.0f32.sqrt(), 3.0, -1.0];
    for (g, w) in msm.iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "{msm:?}");
    }
    assert_eq!(
        Representation::ClipMean.vectors(clip.view()).unwrap(),
        ndarray::array![[2.0f32, -2.0]]
    );
    assert_eq!(Representation::ClipMeanStdMax.width(64), 192);
    // A frame detector pooled by its maximum scores a clip with one odd frame higher than
    // the mean does, relative to normal clips.
    let normal = clips(20, 0.0, 1);
    let mut spiky = clips(1, 0.0, 99).remove(0);
    spiky.row_mut(7).fill(12.0);
    let base = KnnConfig::default().inputs(Inputs::frames(None));
    let mean = base.clone().fit(&views(&normal), 1).unwrap();
    let max = base
        .inputs(Inputs::frames(None).pooled(Pooling::Max))
        .fit(&views(&normal), 1)
        .unwrap();
    let rel = |d: &Knn| d.score(spiky.view()).unwrap() / d.score(normal[0].view()).unwrap();
    assert!(
        rel(&max) > 2.0 * rel(&mean),
        "{} vs {}",
        rel(&max),
        rel(&mean)
    );
}

#[test]
fn pooling_and_summaries_survive_a_save_load_round_trip_and_old_files_read_as_mean() {
    let normal = clips(12, 0.0, 3);
    let test = clips(3, 0.5, 4);
    let dir = tempfile::tempdir().unwrap();
    for cfg in [
        DetectorConfig::Knn(
            KnnConfig::default()
                .inputs(Inputs::frames(None).pooled(Pooling::Percentile { p: 75.0 })),
        ),
        DetectorConfig::Knn(
            KnnConfig::default()
                .inputs(Inputs::clip_stats().represented(Representation::ClipMeanStdMax)),
        ),
    ] {
        let det = cfg.fit(&views(&normal), 2).unwrap();
        let p = dir.path().join("m.aadm");
        det.save(&p).unwrap();
        let back = AnyDetector::load(&p).unwrap();
        for c in &test {
            assert_eq!(det.score(c.view()).unwrap(), back.score(c.view()).unwrap());
        }
    }
    // Inputs written before pooling existed.
    let old: Inputs = serde_json::from_str(
        r#"{"representation":"Frames","scaling":"Standardize","max_train_vectors":null}"#,
    )
    .unwrap();
    assert_eq!(old.pooling, Pooling::Mean);
}

#[test]
fn a_fusion_standardises_each_member_on_held_out_training_scores() {
    let normal = clips(10, 0.0, 5);
    let knn = DetectorConfig::Knn(KnnConfig::default());
    // One member: its scores, standardised. Held-out training scores have mean 0 and std 1
    // by construction of the standardisation, so an in-distribution clip scores near 0 and
    // a shifted one far above.
    let one = FusionConfig::new(vec![knn.clone()])
        .fit(&views(&normal), 1)
        .unwrap();
    let plain = knn.fit(&views(&normal), 1).unwrap();
    let (a, b) = (clips(1, 0.0, 50).remove(0), clips(1, 3.0, 51).remove(0));
    let (za, zb) = (one.score(a.view()).unwrap(), one.score(b.view()).unwrap());
    assert!(zb > za + 3.0, "{za} {zb}");
    // A monotone map of the member's own score: the order of clips is kept.
    let (pa, pb) = (
        plain.score(a.view()).unwrap(),
        plain.score(b.view()).unwrap(),
    );
    assert_eq!(za < zb, pa < pb);
    // Max combines to at least the mean.
    let members = vec![
        knn.clone(),
        DetectorConfig::Mahalanobis(MahalanobisConfig::default()),
    ];
    let mean = FusionConfig::new(members.clone())
        .fit(&views(&normal), 1)
        .unwrap();
    let max = FusionConfig::new(members)
        .combine(Combine::Max)
        .fit(&views(&normal), 1)
        .unwrap();
    assert!(max.score(b.view()).unwrap() >= mean.score(b.view()).unwrap());
    // Bad configurations are errors.
    assert!(FusionConfig::new(vec![]).fit(&views(&normal), 1).is_err());
    assert!(
        FusionConfig::new(vec![knn.clone()])
            .folds(1)
            .fit(&views(&normal), 1)
            .is_err()
    );
    let nested = DetectorConfig::Fusion(FusionConfig::new(vec![knn]));
    assert!(
        FusionConfig::new(vec![nested])
            .fit(&views(&normal), 1)
            .is_err()
    );
}

#[test]
fn stacking_frames_keeps_clip_order_and_a_cap_keeps_a_seeded_ordered_subset() {
    let data = clips(7, 0.0, 3);
    let v = views(&data);
    let all = aad_models::concat_vectors(&v, Representation::Frames, None, 1).unwrap();
    let parts: Vec<_> = v.to_vec();
    assert_eq!(all, ndarray::concatenate(ndarray::Axis(0), &parts).unwrap());
    let n = all.nrows();
    let a = aad_models::concat_vectors(&v, Representation::Frames, Some(n / 3), 9).unwrap();
    let b = aad_models::concat_vectors(&v, Representation::Frames, Some(n / 3), 9).unwrap();
    let c = aad_models::concat_vectors(&v, Representation::Frames, Some(n / 3), 10).unwrap();
    assert_eq!(a.nrows(), n / 3);
    assert_eq!(a, b, "same seed, same rows");
    assert_ne!(a, c, "another seed, other rows");
    // Every kept row is a row of the whole set, in the same order.
    let mut from = 0;
    for row in a.rows() {
        let at = (from..n)
            .find(|&i| all.row(i) == row)
            .expect("a row of the set");
        from = at + 1;
    }
    // The clip-level path keeps the same rows for the same seed and size.
    let one_row: Vec<Array2<f32>> = (0..n)
        .map(|i| all.slice(ndarray::s![i..i + 1, ..]).to_owned())
        .collect();
    let d = aad_models::concat_vectors(&views(&one_row), Representation::ClipMean, Some(n / 3), 9)
        .unwrap();
    assert_eq!(a, d);
    // A cap at or above the size keeps everything.
    let e = aad_models::concat_vectors(&v, Representation::Frames, Some(n), 9).unwrap();
    assert_eq!(e, all);
}

/// Clips whose 4 bands follow slow sinusoids (normal), with `clicks` one-frame spikes in
/// random bands (anomalous), as 5-frame stacks (20 values per vector).
fn smooth_clips(n: usize, clicks: usize, seed: u64) -> Vec<Array2<f32>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let g = Normal::new(0.0f32, 0.05).unwrap();
    (0..n)
        .map(|_| {
            let phase: f32 = g.sample(&mut rng) * 20.0;
            let mut m = Array2::from_shape_fn((64, 4), |(t, j)| {
                (0.2 * t as f32 + phase + j as f32).sin() + g.sample(&mut rng)
            });
            for k in 0..clicks {
                m[[(7 + 13 * k) % 60 + 2, k % 4]] += 1.5;
            }
            aad_core::ops::stack_frames(m.view(), 5).unwrap()
        })
        .collect()
}

#[test]
fn the_interpolation_network_predicts_the_centre_frame_and_hears_one_frame_clicks() {
    let train = smooth_clips(40, 0, 21);
    let normal = smooth_clips(15, 0, 22);
    let clicked = smooth_clips(15, 3, 23);
    let cfg = AutoencoderConfig::idnn()
        .input_dims(Some(20))
        .target(AeTarget::Interpolate { frames: 5 })
        .epochs(40)
        .batch_size(64);
    assert_eq!(cfg.layer_dims(20), [16, 64, 32, 16, 32, 64, 4]);
    let idnn = cfg.fit(&views(&train), 4).unwrap();
    assert_eq!(idnn.input_dims(), 20);
    let a = auc(&idnn, &normal, &clicked);
    let p90 = cfg
        .clone()
        .pooling(Pooling::Percentile { p: 90.0 })
        .fit(&views(&train), 4)
        .unwrap();
    let a90 = auc(&p90, &normal, &clicked);
    let mahalanobis = cfg
        .clone()
        .scoring(AeScoring::Mahalanobis { ridge: 1e-3 })
        .fit(&views(&train), 4)
        .unwrap();
    let am = auc(&mahalanobis, &normal, &clicked);
    eprintln!("IDNN AUC on one-frame clicks: mean {a:.3}, p90 {a90:.3}, Mahalanobis {am:.3}");
    assert!(a > 0.9 && a90 > 0.9 && am > 0.9, "{a} {a90} {am}");
    // Per-vector scores are the squared error of the 4 centre values only.
    assert_eq!(idnn.vector_scores(normal[0].view()).unwrap().len(), 60);
    // A width that is not 5 frames, or an even context, is a typed error.
    let five = AutoencoderConfig::idnn().input_dims(None).epochs(1);
    let wide = [Array2::<f32>::zeros((600, 21))];
    assert!(matches!(
        five.fit(&views(&wide), 1),
        Err(ModelError::InvalidConfig { .. })
    ));
    let even = five.target(AeTarget::Interpolate { frames: 4 });
    assert!(matches!(
        even.fit(&views(&train), 1),
        Err(ModelError::InvalidConfig { .. })
    ));
    // Saved and loaded, with its pooling, it scores the same.
    let dir = tempfile::tempdir().unwrap();
    for (i, det) in [&idnn, &p90, &mahalanobis].into_iter().enumerate() {
        let path = dir.path().join(format!("idnn{i}"));
        det.save(&path).unwrap();
        let back = Autoencoder::load(&path).unwrap();
        assert_eq!(&back, det);
        assert_eq!(
            back.score_batch(&views(&clicked)).unwrap(),
            det.score_batch(&views(&clicked)).unwrap()
        );
    }
}

/// Any number of threads trains the bit-identical model: every product is split into
/// row blocks whose elements are the one-thread dot products, and every reduction runs in
/// one fixed order. 1, 2 (the helper thread), 3 and 8 (a pool) threads; the MIMII network
/// and the DCASE one with BatchNorm.
#[test]
fn any_number_of_threads_trains_the_bit_identical_model() {
    // Wide enough (batch 128 x 320 -> 64) for the products to be split into row blocks.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(31);
    let g = Normal::new(0.0f32, 1.0).unwrap();
    let train: Vec<Array2<f32>> = (0..4)
        .map(|_| Array2::from_shape_fn((200, 320), |_| g.sample(&mut rng)))
        .collect();
    for cfg in [
        AutoencoderConfig::mimii(),
        AutoencoderConfig::dcase2020().input_dims(Some(320)),
    ] {
        let cfg = cfg.epochs(2).batch_size(128).validation_split(0.1);
        let one = cfg.clone().fit(&views(&train), 3).unwrap();
        for threads in [2, 3, 8] {
            let many = cfg.clone().threads(threads).fit(&views(&train), 3).unwrap();
            assert_eq!(one.history().len(), many.history().len());
            for (a, b) in one.history().iter().zip(many.history()) {
                assert_eq!(
                    (a.train_loss.to_bits(), a.val_loss.map(f64::to_bits)),
                    (b.train_loss.to_bits(), b.val_loss.map(f64::to_bits)),
                    "{threads} threads"
                );
            }
            assert_eq!(
                one.score_batch(&views(&train[..1])).unwrap(),
                many.score_batch(&views(&train[..1])).unwrap(),
                "{threads} threads"
            );
        }
    }
}

/// Lends the engine a different number of threads before each epoch, as the
/// experiment's scheduler does when cores fall idle.
struct Lending(std::vec::IntoIter<usize>);

impl aad_models::TrainObserver for Lending {
    fn threads(&mut self) -> Option<usize> {
        self.0.next()
    }
}

#[test]
fn threads_lent_between_epochs_train_the_bit_identical_model() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(32);
    let g = Normal::new(0.0f32, 1.0).unwrap();
    let train: Vec<Array2<f32>> = (0..4)
        .map(|_| Array2::from_shape_fn((200, 320), |_| g.sample(&mut rng)))
        .collect();
    let cfg = AutoencoderConfig::dcase2020()
        .input_dims(Some(320))
        .epochs(4)
        .batch_size(128)
        .validation_split(0.1);
    let one = cfg.clone().fit(&views(&train), 3).unwrap();
    let mut lending = Lending(vec![1, 2, 3, 2].into_iter());
    let lent = cfg
        .clone()
        .fit_observed(&views(&train), 3, &mut lending)
        .unwrap();
    assert_eq!(lending.0.len(), 0, "asked before every epoch");
    let losses = |m: &aad_models::Autoencoder| -> Vec<(u64, Option<u64>)> {
        m.history()
            .iter()
            .map(|e| (e.train_loss.to_bits(), e.val_loss.map(f64::to_bits)))
            .collect()
    };
    assert_eq!(losses(&one), losses(&lent));
    assert_eq!(
        one.score_batch(&views(&train)).unwrap(),
        lent.score_batch(&views(&train)).unwrap()
    );
}

#[test]
fn the_machine_id_classifier_matches_scikit_learn_logistic_regression() {
    let fx = aad_testutil::read_json(&aad_testutil::fixtures_dir().join("models/sklearn.json"));
    let x = vec2(&fx["idclf_X"]);
    let t = vec2(&fx["T"]);
    let y: Vec<usize> = fx["idclf_y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let class = |c: usize| {
        let rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] == c).collect();
        x.select(ndarray::Axis(0), &rows)
    };
    let (own, a, b) = (class(0), class(1), class(2));
    let mut cfg = IdClassifierConfig::default().inputs(Inputs {
        representation: Representation::Frames,
        scaling: Scaling::None,
        max_train_vectors: None,
        pooling: Pooling::Mean,
    });
    cfg.l2 = fx["idclf_l2"].as_f64().unwrap();
    cfg.max_iter = 500;
    let det = cfg
        .fit_contrast(&[own.view()], &[vec![a.view()], vec![b.view()]], 0)
        .unwrap();
    assert_eq!(det.classes(), 3);
    for (i, want) in fx["idclf_nll"].as_array().unwrap().iter().enumerate() {
        let want = want.as_f64().unwrap();
        let got = det.score(t.slice(ndarray::s![i..i + 1, ..])).unwrap();
        assert!(
            (got - want).abs() <= 1e-4 * want.max(1.0),
            "idclf[{i}]: {got} vs {want}"
        );
    }
}

/// Clips of machine `m` (of 3): frames of 8 bands, a hum in band `2 m`; `odd` adds a hum
/// in band 7, which no machine has.
fn machine_clips(m: usize, n: usize, odd: bool, seed: u64) -> Vec<Array2<f32>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let g = Normal::new(0.0f32, 0.3).unwrap();
    (0..n)
        .map(|_| {
            Array2::from_shape_fn((25, 8), |(_, j)| {
                let hum = f32::from(u8::from(j == 2 * m)) + f32::from(u8::from(odd && j == 7));
                hum + g.sample(&mut rng)
            })
        })
        .collect()
}

#[test]
fn the_machine_id_classifier_hears_what_its_machine_does_not_do_and_needs_contrast() {
    let own = machine_clips(0, 8, false, 1);
    let others = [machine_clips(1, 8, false, 2), machine_clips(2, 8, false, 3)];
    let contrast: Vec<Vec<ArrayView2<'_, f32>>> = others.iter().map(|c| views(c)).collect();
    let cfg = DetectorConfig::IdClassifier(IdClassifierConfig::default());
    assert!(cfg.needs_contrast());
    assert!(matches!(
        cfg.fit(&views(&own), 1),
        Err(ModelError::NeedsContrast)
    ));
    let det = cfg
        .fit_set(
            &TrainingSet::new(&views(&own)).with_contrast(&contrast),
            1,
            &mut (),
        )
        .unwrap();
    // Anomalies: machine 0 sounding like machine 1 (a hum that moved), or machine 0
    // with a hum in a band no machine uses.
    let test_normal = machine_clips(0, 6, false, 10);
    let moved = machine_clips(1, 3, false, 11);
    let odd = machine_clips(0, 3, true, 12);
    assert_eq!(auc(&det, &test_normal, &moved), 1.0);
    // A linear classifier learns only what tells the machines apart: band 7 never
    // does, so the odd hum barely moves its score. This is why it is fused with kNN.
    assert!(auc(&det, &test_normal, &odd) < 1.0);
    let anomalous: Vec<_> = moved.into_iter().chain(odd).collect();
    // Same seed, same scores; a save/load round trip keeps them.
    let again = cfg
        .fit_set(
            &TrainingSet::new(&views(&own)).with_contrast(&contrast),
            1,
            &mut (),
        )
        .unwrap();
    assert_eq!(
        det.score(anomalous[0].view()).unwrap(),
        again.score(anomalous[0].view()).unwrap()
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idclf.aadm");
    det.save(&path).unwrap();
    let back = AnyDetector::load(&path).unwrap();
    for c in test_normal.iter().chain(&anomalous) {
        assert_eq!(det.score(c.view()).unwrap(), back.score(c.view()).unwrap());
    }
    // In a fusion, the classifier gets the contrast sets at every cross-fitting fold.
    let fused = DetectorConfig::Fusion(FusionConfig::new(vec![
        DetectorConfig::Knn(KnnConfig::default().inputs(Inputs::clip_stats())),
        DetectorConfig::IdClassifier(IdClassifierConfig::default()),
    ]));
    assert!(fused.needs_contrast());
    assert!(fused.fit(&views(&own), 1).is_err());
    let fused = fused
        .fit_set(
            &TrainingSet::new(&views(&own)).with_contrast(&contrast),
            1,
            &mut (),
        )
        .unwrap();
    assert_eq!(auc(&fused, &test_normal, &anomalous), 1.0);
    // Contrast clips of another width are refused, naming the widths.
    let narrow = vec![Array2::<f32>::zeros((25, 7))];
    let err = IdClassifierConfig::default()
        .fit_contrast(&views(&own), &[views(&narrow)], 1)
        .unwrap_err();
    assert!(err.to_string().contains("expects 8"), "{err}");
}

#[test]
fn sub_band_matching_hears_a_fault_confined_to_one_band() {
    // 128 columns of noise (a log-Mel's width); the fault lifts columns 120 and 121 a
    // little in every frame.
    let make = |n: usize, bump: f32, seed: u64| -> Vec<Array2<f32>> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let g = Normal::new(0.0f32, 1.0).unwrap();
        (0..n)
            .map(|_| {
                Array2::from_shape_fn((40, 128), |(_, j)| {
                    g.sample(&mut rng) + if j == 120 || j == 121 { bump } else { 0.0 }
                })
            })
            .collect()
    };
    let train = make(20, 0.0, 1);
    let normal = make(10, 0.0, 2);
    let faulty = make(10, 1.0, 3);
    let knn = DetectorConfig::Knn(
        KnnConfig::default()
            .inputs(Inputs::clip_stats().represented(Representation::ClipMeanStdMax)),
    );
    let whole = knn.fit(&views(&train), 1).unwrap();
    let bands = SubbandConfig::new(knn.clone(), 8)
        .fit(&views(&train), 1)
        .unwrap();
    let (a_whole, a_bands) = (auc(&whole, &normal, &faulty), auc(&bands, &normal, &faulty));
    // On iid noise the whole-clip distance hears it too (0.96): standardisation keeps
    // the lifted columns' share. The bands must not do worse, and must hear it.
    assert!(a_bands >= a_whole, "sub-band {a_bands} vs whole {a_whole}");
    assert!(a_bands >= 0.95, "{a_bands}");
    // The band that decides is the one with the fault (columns 112..128).
    let z = bands.band_scores(faulty[0].view()).unwrap();
    assert_eq!(z.len(), 8);
    let worst = z
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(worst, 7, "{z:?}");
    // Saved and read back as any detector, the same scores.
    let any = DetectorConfig::Subband(SubbandConfig::new(knn.clone(), 8))
        .fit(&views(&train), 1)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bands.aadm");
    any.save(&path).unwrap();
    let back = AnyDetector::load(&path).unwrap();
    assert_eq!(
        any.score(faulty[1].view()).unwrap(),
        back.score(faulty[1].view()).unwrap()
    );
    // More bands than columns is a configuration error, not a panic.
    let err = SubbandConfig::new(knn, 129)
        .fit(&views(&train), 1)
        .unwrap_err();
    assert!(err.to_string().contains("feature width (128)"), "{err}");
}

#[test]
fn domain_banks_keep_a_few_target_clips_from_being_drowned_by_the_source_ones() {
    // Source: 30 clips around 0; target (another speed): 4 clips around 4 in the first
    // three features. Anomalies lie between, at 2, in every feature.
    let shifted = |n: usize, level: f32, seed: u64| -> Vec<Array2<f32>> {
        let mut c = clips(n, 0.0, seed);
        for m in &mut c {
            m.columns_mut()
                .into_iter()
                .take(3)
                .for_each(|mut col| col += level);
        }
        c
    };
    let source = clips(30, 0.0, 1);
    let target = shifted(4, 4.0, 2);
    let knn = DetectorConfig::Knn(
        KnnConfig::default().inputs(Inputs::clip_stats().represented(Representation::ClipMean)),
    );
    let banks = DetectorConfig::DomainBanks(DomainBanksConfig::new(knn.clone()));
    let all: Vec<Array2<f32>> = source.iter().chain(&target).cloned().collect();
    let domains: Vec<usize> = (0..all.len()).map(|i| usize::from(i >= 30)).collect();
    let pooled = knn.fit(&views(&all), 1).unwrap();
    let det = banks
        .fit_set(
            &TrainingSet::new(&views(&all)).with_domains(&domains),
            1,
            &mut (),
        )
        .unwrap();
    let AnyDetector::DomainBanks(b) = &det else {
        panic!("not banks")
    };
    assert_eq!(b.banks(), 2);
    let test_target = shifted(8, 4.0, 3);
    let anomalous = shifted(8, 2.0, 4);
    let (a_pooled, a_banks) = (
        auc(&pooled, &test_target, &anomalous),
        auc(&det, &test_target, &anomalous),
    );
    // One pool: the 4 target clips are too few for a 5-NN, so target normals look
    // anomalous. Banks: each domain is its own reference.
    assert!(a_banks > a_pooled, "banks {a_banks} vs pooled {a_pooled}");
    assert!(a_banks >= 0.95, "{a_banks}");
    // Without domains it is one bank. A domain of one clip cannot be standardised: it
    // joins the largest bank (a fold of cross-fitting may leave one), and a bank of one
    // clip given directly is refused.
    assert!(banks.fit(&views(&all), 1).is_ok());
    let mut one = domains.clone();
    one[0] = 2;
    let three = banks
        .fit_set(
            &TrainingSet::new(&views(&all)).with_domains(&one),
            1,
            &mut (),
        )
        .unwrap();
    let AnyDetector::DomainBanks(b3) = &three else {
        panic!("not banks")
    };
    assert_eq!(b3.banks(), 2);
    let err = DomainBanksConfig::new(knn.clone())
        .fit_banks(&[views(&source), views(&target[..1])], &[], 1)
        .unwrap_err();
    assert!(err.to_string().contains("2 training clips"), "{err}");
    assert!(
        banks
            .fit_set(
                &TrainingSet::new(&views(&all)).with_domains(&[0, 1]),
                1,
                &mut ()
            )
            .is_err()
    );
    // Saved and read back: the same scores.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("banks.aadm");
    det.save(&path).unwrap();
    let back = AnyDetector::load(&path).unwrap();
    assert_eq!(
        det.score(anomalous[0].view()).unwrap(),
        back.score(anomalous[0].view()).unwrap()
    );
}
