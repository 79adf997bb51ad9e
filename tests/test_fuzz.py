"""Hostile calls of every nncore.ops function (tests/fuzz/run.py) in a child process: a crash,
an exception of another type, a message naming no argument, or a view giving another result than
the clean call fails the test. ``NNCORE_FUZZ_CASES`` sets the number of cases (long run: 10000)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

RUNNER = pathlib.Path(__file__).parent / "fuzz" / "run.py"


def fuzz(cases, tmp_path, seed=None):
    trace = tmp_path / "case.txt"
    cmd = [sys.executable, str(RUNNER), "--cases", str(cases), "--trace", str(trace)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    last = trace.read_text() if trace.exists() else "?"
    assert proc.returncode == 0, (
        f"fuzz run died (code {proc.returncode}) during: {last}\n{proc.stderr[-3000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["missing_specs"] == [], "ops without a fuzz spec: add them to tests/fuzz/specs.py"
    assert report["violations"] == [], "\n".join(report["violations"])
    return report


def test_fuzz_every_op(tmp_path):
    cases = int(os.environ.get("NNCORE_FUZZ_CASES", "400"))
    report = fuzz(cases, tmp_path)
    assert report["hostile_calls"] >= cases // 2
    assert report["raised"] > 0 and report["returned"] > 0


@pytest.mark.slow
def test_fuzz_long(tmp_path):
    report = fuzz(10_000, tmp_path, seed=1)
    assert report["hostile_calls"] >= 5_000
