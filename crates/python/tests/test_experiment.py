"""The experiment's stages driven from Python give run()'s results.csv; Experiment pickles."""

import pickle

import pytest

import aad


def run_stages(exp, out_csv):
    plan = exp.plan()
    fx = exp.extractor()
    feats, readable = {}, []
    for path in plan.clips():
        try:
            feats[path] = fx.extract(path)
            readable.append(path)
        except OSError:
            pass
    groups, _skipped = plan.groups(readable)
    rows = []
    for g in groups:
        per_feature = [([feats[p][i] for p in g["train"]], [feats[p][i] for p in g["test"]])
                       for i in range(len(exp.features))]
        r, failures = exp.fit_score_group(g, per_feature)
        assert not failures, failures
        rows.extend(r)
    aad.experiment.write_results_csv(rows, out_csv)
    return len(readable)


def test_stages_from_python_equal_the_single_process_run(tmp_path):
    data = tmp_path / "data"
    aad.experiment.generate_synthetic(data, seed=4, n_normal=8, n_abnormal=4, ids=(0, 2))
    (data / "0dB/valve/id_02/normal/00000001.wav").write_bytes(b"RIFF broken")
    exp = aad.experiment.Experiment(data, features="logmel_mimii,cens_seed",
                                    models="ae,knn,iforest", seeds=(1, 2), epochs=5)
    n = exp.run(tmp_path / "single", cache=tmp_path / "cache")
    assert n > 0
    exp2 = pickle.loads(pickle.dumps(exp))
    assert run_stages(exp2, tmp_path / "staged.csv") == 8 * 4 + 4 * 4 - 1
    single = (tmp_path / "single" / "results.csv").read_text()
    assert (tmp_path / "staged.csv").read_text() == single
    assert single.splitlines()[0] == ("snr,machine_type,machine_id,feature,model,seed,n_train,"
                                      "n_test_normal,n_test_abnormal,auc,pauc")


def test_crossfit_scores_every_normal_clip_and_writes_intervals(tmp_path):
    data = tmp_path / "data"
    aad.experiment.generate_synthetic(data, seed=5, n_normal=8, n_abnormal=4, ids=(0,))
    exp = aad.experiment.Experiment(data, features="logmel_mimii", models="knn", seeds=(1,))
    exp.run(tmp_path / "out", cache=tmp_path / "cache", crossfit=4)
    lines = (tmp_path / "out" / "crossfit.csv").read_text().splitlines()
    assert lines[0] == ("snr,machine_type,machine_id,feature,model,seed,folds,n_normal,"
                        "n_abnormal,auc")
    # fan and valve, one id each: all 8 normal clips held out once, 4 folds.
    assert len(lines) == 3
    for line in lines[1:]:
        cells = line.split(",")
        assert cells[6:9] == ["4", "8", "4"], line
        assert 0.0 <= float(cells[9]) <= 1.0
    assert "95 % interval" in (tmp_path / "out" / "crossfit.md").read_text()
    with pytest.raises(aad.ModelError):
        exp.run(tmp_path / "out2", crossfit=1)
