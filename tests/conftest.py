"""Shared fixtures: dtypes, ISA paths, hypothesis profiles, dataset location."""

from __future__ import annotations

import contextlib
import os
import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from nncore import _core, ops

settings.register_profile(
    "default",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    deadline=None,
    max_examples=400,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("NNCORE_HYPOTHESIS_PROFILE", "default"))

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def gemm_tuning(**overrides):
    """GEMM blocking overridden (the internal _set_gemm_tuning) inside the block."""
    _core._set_gemm_tuning(**overrides)
    try:
        yield
    finally:
        _core._set_gemm_tuning()


@contextlib.contextmanager
def threads(n):
    """nncore's thread count set to n inside the block."""
    before = ops.get_num_threads()
    ops.set_num_threads(n)
    try:
        yield
    finally:
        ops.set_num_threads(before)


def shared_data_dir() -> pathlib.Path | None:
    """The folder holding the real datasets (``mnist/``, ``cifar10/``): ``$NNCORE_DATA_DIR`` as the
    README names it (that folder, or the parent of the dataset subfolder it points at), else
    ../shared/data beside the repository."""
    env = os.environ.get("NNCORE_DATA_DIR")
    candidates = []
    if env:
        path = pathlib.Path(env)
        is_subfolder = path.name in ("mnist", "fashion_mnist", "cifar10") and not any(
            (path / sub).is_dir() for sub in ("mnist", "cifar10"))
        candidates.append(path.parent if is_subfolder else path)
    candidates.append(REPO_ROOT.parent / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c
    return None


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return np.dtype(request.param)


@pytest.fixture(params=ops.available_isas())
def isa(request):
    """Runs the test once per ISA path this CPU supports."""
    with ops.use_isa(request.param):
        yield request.param


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
