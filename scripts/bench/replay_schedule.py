#!/usr/bin/env python3
"""Predicts the experiment's train/score stage on more workers from one run's job times.

Reads OUT/jobs.csv (every job's fit and score seconds, from `aad experiment --out OUT`)
and replays the jobs on W workers by list scheduling: each job starts on the first free
worker, in one of two orders,
  as-run        the order the run lists them (group by group, feature by feature), and
  longest-first the longest job first (LPT: within 4/3 of the best possible schedule);
and prints, per W, the predicted wall seconds of each order beside the ideal (total job
seconds / W, or the longest job when that is longer) and the share of the ideal reached.
Jobs are taken as independent with their one-thread times: the per-group feature loading
and the threads' contention for memory are not modelled, so measured walls are longer.

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


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("jobs")
    p.add_argument("--workers", default="1,2,4,8,16,64")
    a = p.parse_args()
    with open(a.jobs, newline="") as f:
        rows = list(csv.DictReader(f))
    d = [float(r["fit_s"]) + float(r["score_s"]) for r in rows]
    if not d:
        raise SystemExit(f"{a.jobs}: no jobs")
    total, longest = sum(d), max(d)
    print(f"{len(d)} jobs, {total:.1f} job-seconds, longest {longest:.1f} s")
    print()
    print("| workers | ideal s | as-run s | longest-first s | longest-first / ideal |")
    print("|---:|---:|---:|---:|---:|")
    for w in (int(x) for x in a.workers.split(",")):
        ideal = max(total / w, longest)
        run = makespan(d, w)
        lpt = makespan(sorted(d, reverse=True), w)
        print(f"| {w} | {ideal:.1f} | {run:.1f} | {lpt:.1f} | {100 * ideal / lpt:.0f} % |")


if __name__ == "__main__":
    main()
