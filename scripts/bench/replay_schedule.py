#!/usr/bin/env python3
"""Predicts the experiment's train/score stage on more workers from one run's job times.

Reads OUT/jobs.csv (every job's fit and score seconds, from `aad experiment --out OUT`)
and replays the jobs on W workers by list scheduling: each job starts on the first free
worker, in one of two orders,
  as-run        the order the run lists them (group by group, feature by feature), and
  longest-first the longest job first (LPT: within 4/3 of the best possible schedule);
and prints, per W, the predicted wall seconds of each order beside the ideal (total job
seconds / W, or the longest job when that is longer) and the share of the ideal reached.
Three constraints are replayed: "one feature per group at a time" (the experiment's
schedule before `schedule.rs`: a group's jobs on one feature start only when its jobs on
the previous feature are done), "longest first with at most W batches loaded" (today's
schedule: a (group, feature)'s matrices are loaded with its first job and dropped after
its last, at most one batch per worker), the same with idle cores lent (a worker that
finds no job left lends its core to a running autoencoder, `--lent-speedup` times faster
from then on) and "any order" (no memory bound). Jobs keep their one-thread times: the feature loading and the threads'
contention for memory are not modelled, so measured walls are longer.

    scripts/bench/replay_schedule.py OUT/jobs.csv [--workers 1,2,4,8,16,64]
"""
import argparse
import csv
import heapq


def makespan(durations, workers):
    free = [0.0] * workers
    heapq.heapify(free)
    end = 0.0
    for d in durations:
        start = heapq.heappop(free)
        heapq.heappush(free, start + d)
        end = max(end, start + d)
    return end


def staged(rows, durations, workers, longest_first):
    """List scheduling where the jobs of (group, feature k) wait for those of
    (group, feature k-1) to finish; ready jobs go in run order or longest first."""
    feats = {}
    for r in rows:
        feats.setdefault(r["group"], [])
        if r["feature"] not in feats[r["group"]]:
            feats[r["group"]].append(r["feature"])
    batches = {}
    for i, r in enumerate(rows):
        batches.setdefault((r["group"], feats[r["group"]].index(r["feature"])), []).append(i)
    left = {k: len(v) for k, v in batches.items()}
    ready = [i for (g, k), v in batches.items() if k == 0 for i in v]
    key = (lambda i: (-durations[i], i)) if longest_first else (lambda i: i)
    running, now, free, done = [], 0.0, workers, 0
    while done < len(rows):
        ready.sort(key=key)
        while free and ready:
            i = ready.pop(0)
            heapq.heappush(running, (now + durations[i], i))
            free -= 1
        now, i = heapq.heappop(running)
        free += 1
        done += 1
        g, k = rows[i]["group"], feats[rows[i]["group"]].index(rows[i]["feature"])
        left[(g, k)] -= 1
        if left[(g, k)] == 0 and (g, k + 1) in batches:
            ready.extend(batches[(g, k + 1)])
    return now


def bounded(rows, durations, workers):
    """The experiment's schedule: the longest job that may start first, a (group,
    feature) batch opening with its first job and closing with its last, at most
    `workers` batches open at once (`lending` with no gain from a lent core)."""
    return lending(rows, durations, workers, 1.0)


def lending(rows, durations, workers, speedup):
    """The experiment's schedule (see `bounded`), and a worker that finds no job left
    lends its core to a running autoencoder that has none yet, which from then on runs
    `speedup` times faster (taken at once: the run takes it at the job's next epoch)."""
    batches = {}
    for i, r in enumerate(rows):
        batches.setdefault((r["group"], r["feature"]), []).append(i)
    jobs = {k: sorted(v, key=lambda i: -durations[i]) for k, v in batches.items()}
    nxt = {k: 0 for k in jobs}
    left = {k: len(v) for k, v in jobs.items()}
    order = list(jobs)
    is_ae = [r["model"].startswith("ae") for r in rows]
    opened, now, free, spare, done = set(), 0.0, workers, 0, 0
    running = {}  # job -> [remaining one-thread seconds, rate, batch]
    while done < len(rows):
        while free:
            cands = [k for k in order if nxt[k] < len(jobs[k])
                     and (k in opened or (len(opened) < workers and nxt[k] == 0))]
            if not cands:
                break
            k = max(cands, key=lambda k: (durations[jobs[k][nxt[k]]], -order.index(k)))
            opened.add(k)
            i = jobs[k][nxt[k]]
            nxt[k] += 1
            running[i] = [durations[i], 1.0, k]
            free -= 1
        if all(nxt[k] == len(jobs[k]) for k in jobs):
            spare, free = spare + free, 0
        for i, job in sorted(running.items(), key=lambda x: -x[1][0]):
            if spare and is_ae[i] and job[1] == 1.0:
                job[1], spare = speedup, spare - 1
        i = min(running, key=lambda i: (running[i][0] / running[i][1], i))
        dt = running[i][0] / running[i][1]
        now += dt
        for job in running.values():
            job[0] -= dt * job[1]
        _, rate, k = running.pop(i)
        if rate != 1.0:
            spare += 1
        free += 1
        done += 1
        left[k] -= 1
        if left[k] == 0:
            opened.discard(k)
    return now


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("jobs")
    p.add_argument("--workers", default="1,2,4,8,16,64")
    p.add_argument("--lent-speedup", type=float, default=1.25,
                   help="an autoencoder's speed-up on a second thread (measured: 1.0-1.3 "
                        "for the MIMII-sized networks, 1.63 for the DCASE one)")
    a = p.parse_args()
    with open(a.jobs, newline="") as f:
        rows = list(csv.DictReader(f))
    d = [float(r["fit_s"]) + float(r["score_s"]) for r in rows]
    if not d:
        raise SystemExit(f"{a.jobs}: no jobs")
    total, longest = sum(d), max(d)
    print(f"{len(d)} jobs, {total:.1f} job-seconds, longest {longest:.1f} s")
    print()
    print("| workers | ideal s | one feature per group: as run | longest first | "
          "longest first, <= workers batches loaded | same, idle cores lent | "
          "any order: as run | longest first |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    pct = lambda ideal, t: f"{t:.1f} ({100 * ideal / t:.0f} %)"
    for w in (int(x) for x in a.workers.split(",")):
        ideal = max(total / w, longest)
        cells = [
            staged(rows, d, w, False),
            staged(rows, d, w, True),
            bounded(rows, d, w),
            lending(rows, d, w, a.lent_speedup),
            makespan(d, w),
            makespan(sorted(d, reverse=True), w),
        ]
        print(f"| {w} | {ideal:.1f} | " + " | ".join(pct(ideal, t) for t in cells) + " |")


if __name__ == "__main__":
    main()
