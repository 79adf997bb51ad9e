"""softmax / log_softmax along any axis against NumPy references, gradients against central
differences, extreme logits, out= and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import ops


def ref_softmax(x, axis):
    x = x.astype(np.float64)
    if x.size == 0:
        return x
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def ref_log_softmax(x, axis):
    x = x.astype(np.float64)
    if x.size == 0:
        return x
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def tol(dtype):
    return dict(rtol=2e-6, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)


shapes = st.lists(st.integers(0, 9), min_size=1, max_size=4).map(tuple)


@given(shape=shapes, data=st.data(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**31), scale=st.sampled_from([1.0, 30.0]))
def test_forward_matches_reference(shape, data, dtype, seed, scale):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)
    y = ops.softmax(x, axis)
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_allclose(y, ref_softmax(x, axis), **tol(dtype))
    ly = ops.log_softmax(x, axis=axis)
    np.testing.assert_allclose(ly, ref_log_softmax(x, axis), rtol=tol(dtype)["rtol"],
                               atol=tol(dtype)["atol"] * scale * 10)


@given(shape=shapes, data=st.data(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**31))
def test_backward_matches_reference(shape, data, dtype, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    y = ops.softmax(x, axis)
    y64 = y.astype(np.float64)
    want = y64 * (g - (g * y64).sum(axis=axis, keepdims=True))
    kw = tol(dtype)
    if dtype == np.float32 and x.size:
        # y * (g - sum(g * y)) in float32: the sum of n terms and the subtraction each round by
        # eps relative to max|g| (y <= 1), so a small result carries an absolute error up to
        # (n + 2) * eps * max|g| (e.g. 1.1e-7 on -0.0033 with n=6, max|g|=2.9).
        n = shape[axis]
        kw["atol"] = (n + 2) * np.finfo(np.float32).eps * float(np.abs(g).max())
    np.testing.assert_allclose(ops.softmax_backward(g, y, axis), want, **kw)
    ly = ops.log_softmax(x, axis)
    want = g - np.exp(ly.astype(np.float64)) * g.sum(axis=axis, keepdims=True, dtype=np.float64)
    np.testing.assert_allclose(ops.log_softmax_backward(g, ly, axis), want,
                               rtol=tol(dtype)["rtol"] * 4, atol=tol(dtype)["atol"] * 40)


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("shape,axis", [((3, 7), -1), ((4, 5, 6), 1), ((2, 3, 4), 0)])
def test_backward_matches_central_differences(log, shape, axis):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    g = rng.standard_normal(shape)
    f = ops.log_softmax if log else ops.softmax
    fb = ops.log_softmax_backward if log else ops.softmax_backward
    h = 1e-6
    numeric = np.empty_like(x)
    for i in np.ndindex(shape):
        xp = x.copy()
        xp[i] += h
        xm = x.copy()
        xm[i] -= h
        numeric[i] = np.sum(g * (f(xp, axis) - f(xm, axis))) / (2 * h)
    np.testing.assert_allclose(fb(g, f(x, axis), axis), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("shape,axis", [((3000, 37), -1), ((40, 300, 9), 1), ((70, 3, 900), 1)])
def test_every_isa_and_thread_count_agree(shape, axis, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 10).astype(dtype)
    with ops.use_isa("generic"):
        want = ops.softmax(x, axis), ops.log_softmax(x, axis)
    before = nncore.get_num_threads()
    try:
        for isa in ops.available_isas():
            for threads in (1, 2):
                nncore.set_num_threads(threads)
                with ops.use_isa(isa):
                    got = ops.softmax(x, axis), ops.log_softmax(x, axis)
                np.testing.assert_allclose(got[0], want[0], rtol=1e-5 if dtype == np.float32 else 1e-12,
                                           atol=1e-30)
                np.testing.assert_allclose(got[1], want[1], rtol=1e-5 if dtype == np.float32 else 1e-12,
                                           atol=1e-6 if dtype == np.float32 else 1e-13)
    finally:
        nncore.set_num_threads(before)
    np.testing.assert_allclose(want[0], ref_softmax(x, axis), **tol(dtype))


def test_extreme_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4 - 1, 1e4 - 2],
                  [-np.inf, 0.0, 1.0]], dtype)
    with np.errstate(all="raise"):
        y = ops.softmax(x)
        ly = ops.log_softmax(x)
    np.testing.assert_allclose(y, ref_softmax(x, -1), rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(ly[:3], ref_log_softmax(x, -1)[:3], rtol=1e-6)
    assert ly[3, 0] == -np.inf and np.isfinite(ly[3, 1:]).all()
    assert np.all(np.isfinite(y))


def test_nan_row_is_nan_other_rows_untouched(dtype):
    x = np.array([[0.0, np.nan, 1.0], [0.0, 1.0, 2.0]], dtype)
    for f in (ops.softmax, ops.log_softmax):
        y = f(x)
        assert np.isnan(y[0]).all() and np.isfinite(y[1]).all()
    x = np.array([[0.0, np.nan, 1.0], [0.0, 1.0, 2.0]], dtype).T.copy()
    assert np.isnan(ops.softmax(x, axis=0)[:, 0]).all() and np.isfinite(ops.softmax(x, 0)[:, 1]).all()


def test_out_in_place_views_and_zero_size(dtype, rng):
    x = rng.standard_normal((4, 6)).astype(dtype)
    want = ops.softmax(x)
    y = x.copy()
    assert ops.softmax(y, out=y) is y
    np.testing.assert_array_equal(y, want)
    view = x[:, ::-2]
    np.testing.assert_array_equal(ops.log_softmax(view), ops.log_softmax(view.copy()))
    assert ops.softmax(np.empty((0, 5), dtype)).shape == (0, 5)
    assert ops.softmax(np.empty((3, 0), dtype)).shape == (3, 0)
    np.testing.assert_array_equal(ops.softmax(np.zeros((2, 1), dtype)), np.ones((2, 1)))


def test_errors():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(nncore.ShapeError, match="axis 2 is out of bounds"):
        ops.softmax(x, axis=2)
    with pytest.raises(nncore.ShapeError, match="axis"):
        ops.softmax(np.float32(1.0))
    with pytest.raises(nncore.DTypeError):
        ops.softmax(np.zeros(3, np.int32))
    with pytest.raises(nncore.ShapeError, match=r"\(2, 3\) and \(3,\)"):
        ops.softmax_backward(x, np.zeros(3, np.float32))
    with pytest.raises(nncore.DTypeError):
        ops.log_softmax_backward(x, x.astype(np.float64))
