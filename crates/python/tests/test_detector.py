"""Detector fit/score/save/load round trips, metrics against scikit-learn, the GIL."""

import threading
import time

import numpy as np
import pytest

import aad


def clip(f, seed, sr=16000, n=16000):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    return (0.1 * np.sin(2 * np.pi * f * t) + rng.normal(0, 0.01, n)).astype(np.float32)


def test_fit_on_arrays_scores_save_load_round_trip(tmp_path):
    det = aad.Detector.fit([clip(440, s) for s in range(8)], sr=16000, detector="knn")
    assert det.feature == "logmel_dcase" and det.detector == "knn"  # the default feature
    odd, usual = det.score(clip(1000, 99), sr=16000), det.score(clip(440, 99), sr=16000)
    assert odd > det.threshold >= usual
    assert det.predict(clip(1000, 99), sr=16000) is True
    p = tmp_path / "m.aadm"
    det.save(p)
    back = aad.Detector.load(p)
    assert back.score(clip(1000, 99), sr=16000) == odd
    assert back.threshold == det.threshold
    np.testing.assert_array_equal(back.training_scores, det.training_scores)
    # Same seed, same model: identical threshold.
    again = aad.Detector.fit([clip(440, s) for s in range(8)], sr=16000, detector="knn")
    assert again.threshold == det.threshold


def test_fit_on_files_skips_bad_ones_and_scores_paths(tmp_path):
    aad.experiment.generate_synthetic(tmp_path / "d", seed=3, n_normal=8, n_abnormal=3,
                                      ids=(0,))
    normal = sorted((tmp_path / "d").glob("0dB/fan/id_00/normal/*.wav"))
    abnormal = sorted((tmp_path / "d").glob("0dB/fan/id_00/abnormal/*.wav"))
    assert len(normal) == 8 and len(abnormal) == 3
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    with pytest.warns(UserWarning, match="1 training files skipped"):
        det = aad.Detector.fit([*map(str, normal[:6]), bad], detector="mahalanobis")
    assert len(det.skipped) == 1 and "bad.wav" in det.skipped[0][0]
    scores = det.score([*normal[6:], *abnormal])
    assert scores.shape == (5,) and scores.dtype == np.float64
    y, sr = aad.load(normal[6])
    assert det.score(normal[6]) == det.score(y, sr=sr)
    with pytest.raises(OSError, match="bad.wav"):
        det.score(bad)


def test_too_few_clips_and_unknown_names_raise():
    with pytest.raises(aad.ModelError):
        aad.Detector.fit([clip(440, 0)], sr=16000)
    with pytest.raises(aad.ModelError, match="nosuch"):
        aad.Detector.fit([clip(440, s) for s in range(8)], sr=16000, detector="nosuch")
    with pytest.raises(aad.ParameterError):
        aad.Detector.fit([clip(440, s) for s in range(8)])  # arrays need sr


def test_metrics_match_scikit_learn():
    sklearn = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    for _ in range(20):
        y = rng.integers(0, 2, 50)
        y[:2] = [0, 1]
        s = rng.normal(size=50) + y * rng.uniform(0, 2)
        s[5] = s[6]  # a tie
        assert aad.metrics.roc_auc(y, s) == pytest.approx(sklearn.roc_auc_score(y, s), abs=1e-12)
        assert aad.metrics.pauc(y, s, 0.1) == pytest.approx(
            sklearn.roc_auc_score(y, s, max_fpr=0.1), abs=1e-12)


def test_the_gil_is_released_during_work():
    # A 10-minute extraction (about 1.5 s) in one thread; this thread, woken 50 ms after it
    # started, must get the GIL back while the extraction still runs. Were the GIL held,
    # this thread could only resume after the call returned.
    y = np.random.default_rng(0).normal(0, 0.1, 16000 * 600).astype(np.float32)
    started, done = threading.Event(), threading.Event()

    def work():
        started.set()
        aad.feature.chroma_cens(y=y, sr=16000)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    started.wait()
    time.sleep(0.05)
    ran_while_working = not done.is_set()
    t.join()
    assert done.is_set()
    assert ran_while_working, "Python could not run while Rust worked: the GIL was held"


def test_the_machine_id_classifier_learns_one_machine_against_others():
    own = [clip(440, s) for s in range(6)]
    others = [[clip(f, 10 * f + s) for s in range(6)] for f in (660, 880)]
    with pytest.raises(aad.ModelError, match="--contrast"):
        aad.Detector.fit(own, sr=16000, detector="knn_idclf")
    det = aad.Detector.fit(own, sr=16000, detector="knn_idclf", contrast=others)
    assert det.detector == "knn_idclf"
    # Sounding like another machine is anomalous for this one.
    assert det.score(clip(660, 99), sr=16000) > det.score(clip(440, 99), sr=16000)
    with pytest.raises(aad.ParameterError, match="contrast"):
        aad.Detector.fit(["a.wav"] * 4, detector="idclf", contrast=[[own[0]]])


def _hum_machine(rng, t):
    """A 500 Hz hum with its partial in noise, at times ``t``."""
    hum = np.sin(2 * np.pi * 500 * t) + 0.5 * np.sin(2 * np.pi * 1000 * t)
    return (0.05 * hum + 0.05 * (rng.random(t.size) - 0.5)).astype(np.float32)


def test_explain_names_the_band_of_a_new_tone_and_leaves_the_score(tmp_path):
    sr = 16000
    rng = np.random.default_rng(5)
    t = np.arange(4 * sr) / sr
    det = aad.Detector.fit([_hum_machine(rng, t) for _ in range(20)], sr=sr)
    y = _hum_machine(rng, t)
    on = (t >= 1.5) & (t < 3.5)
    y[on] += (0.02 * np.sin(2 * np.pi * 3000 * t[on])).astype(np.float32)
    score = det.score(y, sr=sr)
    e = det.explain(y, sr=sr)
    assert e["band_hz"][0] <= 3000 <= e["band_hz"][1], e
    assert e["kind"] == "tonal", e
    assert e["span_s"][0] < 3.5 and e["span_s"][1] > 1.5, e
    assert abs(sum(b["share_mean"] + b["share_std"] + b["share_max"] for b in e["bands"]) - 1) < 1e-9
    assert e["sentence"].startswith("Tonal change")
    assert e["cycle"] is None, e
    assert e["pulses"] is None, e
    assert det.score(y, sr=sr) == score
    sf = pytest.importorskip("soundfile")
    path = tmp_path / "tone.wav"
    sf.write(path, y, sr, subtype="FLOAT")
    assert det.explain(path) == e


def test_explain_places_a_valve_click_that_did_not_come():
    sr = 16000
    rng = np.random.default_rng(11)

    def valve(missing=()):
        y = (0.01 * (rng.random(8 * sr) - 0.5)).astype(np.float32)
        first = 0.1 + 0.5 * rng.random()
        tc = np.arange(160) / sr
        click = 0.5 * np.exp(-tc / 0.003) * np.sin(2 * np.pi * 2000 * tc)
        due = []
        for k in range(14):
            at = first + 0.6 * k
            start = int(at * sr)
            gain = 1 + 0.4 * (rng.random() - 0.5)
            if k in missing:
                due.append(at)
            elif start + 160 <= y.size:
                y[start : start + 160] += (gain * click).astype(np.float32)
        return y, due

    det = aad.Detector.fit([valve()[0] for _ in range(24)], sr=sr)
    y, due = valve(missing=(4, 8, 9))
    e = det.explain(y, sr=sr)
    c = e["cycle"]
    assert c is not None, e["sentence"]
    assert abs(c["period_s"] - 0.6) < 0.04, c
    assert e["kind"] == "transient", e["sentence"]
    assert any(e["span_s"][0] - 0.032 <= t <= e["span_s"][1] + 0.032 for t in due), (due, e["span_s"])
    assert 0.8 <= c["depth"] <= 1.0, c
    assert "did not come" in e["sentence"]


def test_explain_calls_a_fast_click_train_transient_with_its_rate():
    sr = 16000
    rng = np.random.default_rng(13)
    t = np.arange(4 * sr) / sr
    det = aad.Detector.fit([_hum_machine(rng, t) for _ in range(24)], sr=sr)
    y = _hum_machine(rng, t)
    tc = np.arange(160) / sr
    click = 0.3 * np.exp(-tc / 0.001) * np.sin(2 * np.pi * 3000 * tc)
    # 27 clicks a second: every analysis frame holds one.
    for at in np.arange(0.01, 3.99, 1 / 27):
        start = int(at * sr)
        y[start : start + 160] += click.astype(np.float32)
    e = det.explain(y, sr=sr)
    p = e["pulses"]
    assert p is not None, e["sentence"]
    assert abs(p["rate_hz"] - 27) < 0.3, p
    assert p["peak_ratio"] >= 8, p
    assert e["kind"] == "transient", e["sentence"]
    assert e["band_hz"][0] <= 3000 <= e["band_hz"][1], e
    assert "a second" in e["sentence"]

