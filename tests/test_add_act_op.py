"""ops.add_act: the sum of two arrays with an optional ReLU / ReLU6, against a NumPy reference on
every ISA path and thread count, in place, on views, with bad input refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import ops

from conftest import threads

ACTS = [None, "relu", "relu6"]


def reference(a, b, act):
    """The same additions in the same dtype, then the activation as the kernels define it: NaN
    stays NaN, -0.0 stays -0.0."""
    with np.errstate(invalid="ignore"):  # inf - inf
        s = a + b
    if act is None:
        return s
    r = np.where(s < 0, np.zeros_like(s), s)
    return np.where(r > 6, np.full_like(r, 6), r) if act == "relu6" else r


def same_bits(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()


@given(shape=st.lists(st.integers(0, 9), min_size=0, max_size=4),
       act=st.sampled_from(ACTS), dtype=st.sampled_from([np.float32, np.float64]),
       nthreads=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_matches_reference_on_every_isa_and_thread_count(shape, act, dtype, nthreads, seed):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(shape) * 5).astype(dtype)
    b = (rng.standard_normal(shape) * 5).astype(dtype)
    want = reference(a, b, act)
    for isa in ops.available_isas():
        with ops.use_isa(isa), threads(nthreads):
            same_bits(ops.add_act(a, b, act), want)


@pytest.mark.parametrize("act", ACTS)
def test_large_arrays_split_over_threads(isa, act, dtype):
    rng = np.random.default_rng(1)
    n = 3 * (1 << 15) + 17  # several chunks and a ragged end
    a, b = (rng.standard_normal(n) * 5).astype(dtype), (rng.standard_normal(n) * 5).astype(dtype)
    for t in (1, 2, 3):
        with threads(t):
            same_bits(ops.add_act(a, b, act), reference(a, b, act))


@pytest.mark.parametrize("act", ACTS)
def test_special_values(isa, act):
    a = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 7.0, -1.0, np.inf, 3.0], np.float32)
    b = np.array([1.0, 1.0, 1.0, -0.0, -0.0, 0.0, 0.5, -np.inf, 3.0], np.float32)
    got = ops.add_act(a, b, act)
    same_bits(got, reference(a, b, act))
    assert np.isnan(got[0]) and np.isnan(got[7])  # NaN in, and inf - inf, stay NaN


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("which", ["x1", "x2"])
def test_in_place(act, which, dtype):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((5, 7)).astype(dtype), rng.standard_normal((5, 7)).astype(dtype)
    want = reference(a, b, act)
    target = a if which == "x1" else b
    got = ops.add_act(a, b, act, out=target)
    assert got is target
    same_bits(got, want)


def test_out_and_views():
    rng = np.random.default_rng(3)
    big = rng.standard_normal((6, 8)).astype(np.float32)
    a, b = big[::2, ::2], big[1::2, 1::2].T.copy().T  # strided and transposed views
    out = np.empty((3, 4), np.float32)
    assert ops.add_act(a, b, "relu", out=out) is out
    same_bits(out, reference(np.ascontiguousarray(a), np.ascontiguousarray(b), "relu"))


def test_bad_input_is_refused_naming_the_problem():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(nncore.ShapeError, match="'x1'.*'x2'|'x2'.*'x1'"):
        ops.add_act(x, np.ones((3, 2), np.float32))
    with pytest.raises(nncore.DTypeError, match="'x2'"):
        ops.add_act(x, np.ones((2, 3), np.float64))
    with pytest.raises(nncore.DTypeError, match="'x1'"):
        ops.add_act(np.ones((2, 3), np.int32), np.ones((2, 3), np.int32))
    with pytest.raises(ValueError, match="activation must be None, 'relu' or 'relu6', got 'tanh'"):
        ops.add_act(x, x, "tanh")
    with pytest.raises(nncore.ShapeError, match="'out'"):
        ops.add_act(x, x, out=np.empty((3, 2), np.float32))
    buf = np.zeros(10, np.float32)
    with pytest.raises(ValueError, match="'out'.*overlap"):
        ops.add_act(buf[:9], np.ones(9, np.float32), out=buf[1:10])
