"""The choice of ISA path: what `nncore info` reports, NNCORE_ISA, and refusals of paths the CPU
or the build lacks. Run natively and under emulated CPU models (tools/check_cpu_models.sh), where
the paths this machine has are missing."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import numpy as np
import pytest

import nncore
from nncore import ops

ALL_PATHS = ("generic", "avx2", "avx512")
AVAILABLE = ops.available_isas()
MISSING = [p for p in ALL_PATHS if p not in AVAILABLE]


# Under QEMU user-mode emulation a child process runs on the real CPU unless it is launched through
# the emulator too; tools/check_cpu_models.sh names the emulator command here.
LAUNCHER = shlex.split(os.environ.get("NNCORE_TEST_LAUNCHER", ""))


def _import_with(isa: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, NNCORE_ISA=isa)
    code = "import nncore; print(nncore.info()['isa'])"
    return subprocess.run([*LAUNCHER, sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)


def test_info_is_consistent():
    info = nncore.info()
    assert info["isa_available"] == AVAILABLE
    assert AVAILABLE[0] == "generic"
    assert set(AVAILABLE) <= set(ALL_PATHS)
    # The detected path is the widest one available, and the active one is available.
    assert info["isa_detected"] == AVAILABLE[-1]
    assert info["isa"] in AVAILABLE


@pytest.mark.parametrize("isa", AVAILABLE)
def test_nncore_isa_selects_an_available_path(isa):
    proc = _import_with(isa)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == isa


@pytest.mark.parametrize("isa", MISSING)
def test_nncore_isa_refuses_a_missing_path(isa):
    proc = _import_with(isa)
    assert proc.returncode != 0
    assert f"NNCORE_ISA={isa}" in proc.stderr
    assert "does not support" in proc.stderr or "has no" in proc.stderr
    assert "Illegal instruction" not in proc.stderr and proc.returncode > 0  # an error, not a signal


@pytest.mark.parametrize("isa", MISSING)
def test_use_isa_refuses_a_missing_path(isa):
    with pytest.raises(ValueError, match=isa):
        with ops.use_isa(isa):
            pass
    assert ops.active_isa() in AVAILABLE


def test_unknown_isa_name_is_refused():
    proc = _import_with("sse9")
    assert proc.returncode != 0
    assert "unknown ISA 'sse9'" in proc.stderr and "generic, avx2, avx512" in proc.stderr


@pytest.mark.parametrize("isa", AVAILABLE)
def test_every_available_path_computes(isa):
    # One op of each kernel family on the path, against NumPy.
    rng = np.random.default_rng(3)
    a = rng.standard_normal((37, 29)).astype(np.float32)
    b = rng.standard_normal((29, 23)).astype(np.float32)
    x = rng.standard_normal((2, 9, 9, 5)).astype(np.float32)
    with ops.use_isa(isa):
        assert ops.active_isa() == isa
        np.testing.assert_allclose(ops.matmul(a, b), a @ b, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(ops.relu(a), np.maximum(a, 0))
        pooled = ops.max_pool2d(x, 3, strides=3)
        np.testing.assert_array_equal(pooled, x.reshape(2, 3, 3, 3, 3, 5).max(axis=(2, 4)))
        w = rng.standard_normal((1, 1, 5, 4)).astype(np.float32)
        np.testing.assert_allclose(ops.conv2d(x, w), x @ w[0, 0], rtol=1e-4, atol=1e-4)
