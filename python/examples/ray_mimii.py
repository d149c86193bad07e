#!/usr/bin/env python3
"""The MIMII / DCASE experiment on a Ray cluster: the same results.csv as `aad experiment`.

    python python/examples/ray_mimii.py --data DIR --out DIR [--address ADDR]
    python python/examples/ray_mimii.py --data DIR --address ADDR --check

Stages (aad.experiment): the driver discovers and splits the dataset; feature extraction
runs as Ray tasks sharded by file (``--shard`` files per task); each (SNR, machine type,
machine id) group is fitted and scored as one Ray task; the driver gathers the rows in
the single-process order and writes results.csv (the `aad experiment` schema).

Without --address a local Ray cluster is started (``--num-cpus`` CPUs); with one (e.g.
``auto`` or ``ray://head:10001``) the run joins that cluster. Workers need the ``aad``
package installed and the dataset readable at the same path (a shared file system);
what travels through Ray's object store is the Experiment's settings, file paths,
feature matrices (float32) and result rows. The machine-ID classifiers (``idclf``,
``knn_idclf``) learn against the other machine ids' clips: a group names them as file
lists (``contrast``), and its task gets their features from the extraction shards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import ray

import aad
from aad.experiment import DEFAULT_FEATURES, DEFAULT_MODELS, Experiment


@ray.remote(num_cpus=1)
def extract_shard(exp: Experiment, paths: list[str]):
    """Features of each file: (path, [arrays] or None, error or None)."""
    fx = exp.extractor()
    out = []
    for p in paths:
        try:
            out.append((p, fx.extract(p), None))
        except OSError as e:
            out.append((p, None, str(e)))
    return out


def node_report(data: str) -> dict:
    """What a node sees: its host, the versions that must match the driver's, and the
    dataset's clips (the planner's count, so the same layout rules apply)."""
    import platform
    import socket
    report = {"host": socket.gethostname(), "aad": aad.__version__, "ray": ray.__version__,
              "python": platform.python_version()}
    try:
        report["clips"] = len(Experiment(data).plan().clips())
    except Exception as e:  # noqa: BLE001 - the check reports any failure in words
        report["clips"] = f"unreadable: {e}"
    return report


def check_cluster(data: str) -> int:
    """Runs `node_report` on every alive node and compares it with the driver's; 0 when
    every node matches it and reads the dataset."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
    mine = node_report(data)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    remote = ray.remote(num_cpus=0)(node_report)
    reports = ray.get([
        remote.options(scheduling_strategy=NodeAffinitySchedulingStrategy(
            n["NodeID"], soft=False)).remote(data) for n in nodes])
    keys = ("aad", "ray", "python", "clips")
    bad = 0
    print(f"driver: {mine['host']}: " + ", ".join(f"{k} {mine[k]}" for k in keys))
    for n, r in zip(nodes, reports):
        # A node that cannot read the data fails even when the driver cannot either.
        diff = [k for k in keys
                if r[k] != mine[k] or (k == "clips" and not isinstance(r[k], int))]
        bad += bool(diff)
        state = "ok" if not diff else "fails on " + ", ".join(diff)
        print(f"node {n['NodeManagerAddress']} ({r['host']}, {int(n['Resources'].get('CPU', 0))} "
              f"CPUs): " + ", ".join(f"{k} {r[k]}" for k in keys) + f": {state}")
    print(f"{len(nodes)} nodes, {bad} differ from the driver or cannot read the data")
    return 1 if bad or not nodes else 0


@ray.remote(num_cpus=1)
def fit_group(exp: Experiment, group: dict, *shards):
    """One group's rows; its clips' features come from the extraction shards."""
    feats = {}
    for shard in shards:
        for p, arrays, _ in shard:
            if arrays is not None:
                feats[p] = arrays
    n = len(exp.features)
    per_feature = [([feats[p][i] for p in group["train"]], [feats[p][i] for p in group["test"]])
                   for i in range(n)]
    contrast = None
    if exp.needs_contrast:
        # The other machine ids' training clips, named by the group as file lists.
        contrast = [[[feats[p][i] for p in files] for files in group["contrast"]]
                    for i in range(n)]
    return exp.fit_score_group(group, per_feature, threads=1, contrast=contrast)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="dataset folder (MIMII or DCASE layout)")
    ap.add_argument("--out", help="output folder (results.csv, run.json); required "
                    "unless --check")
    ap.add_argument("--check", action="store_true",
                    help="check the cluster instead of running: every node must have the "
                         "driver's aad, Ray and Python versions and see the same clips "
                         "under --data")
    ap.add_argument("--address", help="join this Ray cluster instead of starting one")
    ap.add_argument("--num-cpus", type=int, default=None,
                    help="CPUs of the local cluster (default: all)")
    ap.add_argument("--features", default=DEFAULT_FEATURES)
    ap.add_argument("--models", default=DEFAULT_MODELS)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--machines", default="fan,valve", help="'all' for every type")
    ap.add_argument("--snr", default="all")
    ap.add_argument("--channel", default="0")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--shard", type=int, default=16, help="files per extraction task")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    a = parse_args(argv)
    if not a.check and not a.out:
        print("--out is required (unless --check)", file=sys.stderr)
        return 2
    exp = Experiment(a.data, features=a.features, models=a.models,
                     seeds=[int(s) for s in a.seeds.split(",")],
                     machines=None if a.machines == "all" else a.machines.split(","),
                     snr=a.snr, channel=a.channel, epochs=a.epochs)
    t0 = time.perf_counter()
    if a.address:
        ray.init(address=a.address)
    else:
        ray.init(num_cpus=a.num_cpus, include_dashboard=False, log_to_driver=True)
    if a.check:
        rc = check_cluster(a.data)
        ray.shutdown()
        return rc
    os.makedirs(a.out, exist_ok=True)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    t_start = time.perf_counter()

    plan = exp.plan()
    for p, why in plan.skipped_files():
        print(f"skipped {p}: {why}", file=sys.stderr)
    clips = plan.clips()
    exp_ref = ray.put(exp)
    shards = [clips[i:i + a.shard] for i in range(0, len(clips), a.shard)]
    shard_refs = [extract_shard.remote(exp_ref, s) for s in shards]
    shard_of = {p: i for i, s in enumerate(shards) for p in s}
    # Which files decoded: the extraction results' errors only (small), gathered here.
    readable = []
    for shard in ray.get(shard_refs):
        for p, arrays, err in shard:
            if err is None:
                readable.append(p)
            else:
                print(f"skipped {err}", file=sys.stderr)
    t_extract = time.perf_counter()
    groups, skipped_groups = plan.groups(readable)
    for g, why in plan.unsplittable() + skipped_groups:
        print(f"skipped group {g}: {why}", file=sys.stderr)
    if not groups:
        print("nothing to evaluate: no usable group", file=sys.stderr)
        return 1
    group_refs = []
    for g in groups:
        files = g["train"] + g["test"]
        if exp.needs_contrast:
            files += [p for c in g["contrast"] for p in c]
        needed = sorted({shard_of[p] for p in files})
        group_refs.append(fit_group.remote(exp_ref, g, *[shard_refs[i] for i in needed]))
    rows, failures = [], []
    for g, (r, f) in zip(groups, ray.get(group_refs)):
        rows.extend(r)
        failures.extend(f)
    for f in failures:
        print(f"failed {f}", file=sys.stderr)
    t_fit = time.perf_counter()
    aad.experiment.write_results_csv(rows, os.path.join(a.out, "results.csv"))
    run = {
        "clips": len(clips), "readable": len(readable), "groups": len(groups),
        "rows": len(rows), "failures": failures, "cluster_cpus": cpus,
        "seconds": {"ray_init": t_start - t0, "extract": t_extract - t_start,
                    "fit_score": t_fit - t_extract, "total_after_init": t_fit - t_start},
        "extract_clips_per_s_per_cpu": len(clips) / max(t_extract - t_start, 1e-9) / cpus,
    }
    with open(os.path.join(a.out, "run.json"), "w") as f:
        json.dump(run, f, indent=2)
    print(f"{len(rows)} rows from {len(groups)} groups on {cpus} CPUs: extraction "
          f"{run['seconds']['extract']:.1f} s ({run['extract_clips_per_s_per_cpu']:.1f} clips/s "
          f"per CPU), fit+score {run['seconds']['fit_score']:.1f} s; "
          f"{os.path.join(a.out, 'results.csv')}")
    ray.shutdown()
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
