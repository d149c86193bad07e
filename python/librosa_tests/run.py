#!/usr/bin/env python3
"""Runs librosa 0.11.0's own tests of the functions aad provides against aad.

    python python/librosa_tests/run.py [--out REPORT.md]

1. Fetches the librosa 0.11.0 source distribution from PyPI (pinned by its sha256) and
   takes tests/test_features.py and tests/test_core.py from it (nothing is committed).
2. Selects the test functions whose code calls one of aad's functions
   (librosa.feature.melspectrogram, mfcc, chroma_stft, chroma_cqt, chroma_cens;
   librosa.stft, estimate_tuning, power_to_db).
3. Runs them twice with pytest: with librosa itself (baseline: some need librosa's test
   data, which the sdist does not ship, or example audio from the network), then with
   aad swapped in (conftest_swap.py). Prints a summary table and the reasons; exits 1
   when a case that passes with librosa fails with aad.
"""

import argparse
import ast
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET

SDIST = "librosa-0.11.0.tar.gz"
SHA256 = "f5ed951ca189b375bbe2e33b2abd7e040ceeee302b9bbaeeffdfddb8d0ace908"
HERE = pathlib.Path(__file__).resolve().parent
FILES = ["test_features.py", "test_core.py"]
CALLS = {"melspectrogram", "mfcc", "chroma_stft", "chroma_cqt", "chroma_cens", "stft",
         "estimate_tuning", "power_to_db"}


def fetch(work: pathlib.Path) -> pathlib.Path:
    cache = pathlib.Path(os.environ.get("AAD_LIBROSA_SDIST_DIR", work))
    path = cache / SDIST
    if not path.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--no-binary", ":all:", "librosa==0.11.0", "-d", str(cache)],
                       check=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256:
        sys.exit(f"{path}: sha256 {digest}, expected {SHA256}")
    tests = work / "tests"
    tests.mkdir()
    with tarfile.open(path) as tar:
        for f in FILES:
            member = tar.getmember(f"librosa-0.11.0/tests/{f}")
            (tests / f).write_bytes(tar.extractfile(member).read())
    shutil.copy(HERE / "conftest_swap.py", tests / "conftest.py")
    return tests


def selected(tests: pathlib.Path):
    """Test function names whose body calls librosa.<one of CALLS>."""
    names = []
    for f in FILES:
        tree = ast.parse((tests / f).read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                used = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
                if used & CALLS and "istft" not in node.name:
                    names.append((f, node.name, sorted(used & CALLS)))
    return names


def run(tests, names, swap, xml):
    ids = [f"tests/{f}::{n}" for f, n, _ in names]
    env = dict(os.environ, AAD_SWAP="1" if swap else "0", NUMBA_NUM_THREADS="1")
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "-W", "ignore", f"--junitxml={xml}", "-o", "junit_family=xunit1",
                    *ids], cwd=tests.parent, env=env, stdout=subprocess.DEVNULL)
    out = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        key = f"{case.get('file', case.get('classname'))}::{case.get('name')}"
        kind, why = "passed", ""
        for tag in ("failure", "error", "skipped"):
            el = case.find(tag)
            if el is not None:
                kind = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                why = (el.get("message") or "").splitlines()[0][:200] if el.get("message") else ""
        out[key] = (kind, why)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="also write the report (Markdown) here")
    ap.add_argument("--json", help="write per-case outcomes (JSON) here")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        work = pathlib.Path(d)
        tests = fetch(work)
        names = selected(tests)
        base = run(tests, names, False, work / "base.xml")
        ours = run(tests, names, True, work / "ours.xml")
    rows = {}
    for key in ours:
        b, o = base.get(key, ("missing", "")), ours[key]
        if b[0] != "passed":
            cat = "librosa itself does not pass here (" + b[0] + ")"
        elif o[0] == "passed":
            cat = "passed"
        elif o[0] == "skipped":
            cat = "skipped: unsupported parameter"
        else:
            cat = "failed"
        why = b[1] if b[0] != "passed" else o[1]
        rows.setdefault(cat, []).append((key, why))
    lines = [f"librosa 0.11.0 tests ({', '.join(FILES)}): {len(names)} test functions call "
             f"aad's functions, {len(ours)} cases", "", "| outcome | cases |", "|---|---:|"]
    for cat in sorted(rows):
        lines.append(f"| {cat} | {len(rows[cat])} |")
    lines.append("")
    for cat in sorted(rows):
        if cat == "passed":
            continue
        lines.append(f"### {cat}")
        reasons = {}
        for key, why in rows[cat]:
            reasons.setdefault(why, []).append(key)
        for why, keys in sorted(reasons.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"- {len(keys)} x {why or '(no message)'}: e.g. {keys[0]}")
        lines.append("")
    report = "\n".join(lines)
    print(report)
    if a.out:
        pathlib.Path(a.out).write_text(report)
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps({"baseline": base, "aad": ours}, indent=1))
    # A case librosa passes and aad fails is a regression: CI goes red.
    return 1 if rows.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
