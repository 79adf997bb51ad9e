"""Batch normalization (seed 002, algorithm 1) against NumPy, gradients against central
differences, optional gamma/beta, accumulate, out= and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import ops


def ref_train(x, gamma, beta, eps):
    x = x.astype(np.float64)
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    var = ((x - mean) ** 2).mean(axis=axes)
    g = 1.0 if gamma is None else gamma.astype(np.float64)
    b = 0.0 if beta is None else beta.astype(np.float64)
    return g * (x - mean) / np.sqrt(var + eps) + b, mean, var


def ref_backward(gy, x, gamma, eps):
    x = x.astype(np.float64)
    gy = gy.astype(np.float64)
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    mean = x.mean(axis=axes)
    inv = 1.0 / np.sqrt(((x - mean) ** 2).mean(axis=axes) + eps)
    xhat = (x - mean) * inv
    g = 1.0 if gamma is None else gamma.astype(np.float64)
    gbeta = gy.sum(axis=axes)
    ggamma = (gy * xhat).sum(axis=axes)
    gx = g * inv / m * (m * gy - gbeta - xhat * ggamma)
    return gx, ggamma, gbeta


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)


shapes = st.lists(st.integers(1, 7), min_size=2, max_size=4).map(tuple)


@given(shape=shapes, dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**31),
       affine=st.sampled_from(["both", "none", "gamma", "beta"]))
def test_train_inference_backward_match_numpy(shape, dtype, seed, affine):
    rng = np.random.default_rng(seed)
    c = shape[-1]
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    gamma = rng.uniform(0.5, 2, c).astype(dtype) if affine in ("both", "gamma") else None
    beta = rng.standard_normal(c).astype(dtype) if affine in ("both", "beta") else None
    eps = 1e-3
    y, mean, var, inv_std = ops.batch_norm_train(x, gamma, beta, eps)
    want_y, want_mean, want_var = ref_train(x, gamma, beta, eps)
    for a in (y, mean, var, inv_std):
        assert a.dtype == dtype
    assert y.shape == shape and mean.shape == var.shape == inv_std.shape == (c,)
    np.testing.assert_allclose(y, want_y, **tol(dtype))
    np.testing.assert_allclose(mean, want_mean, **tol(dtype))
    np.testing.assert_allclose(var, want_var, **tol(dtype))
    np.testing.assert_allclose(inv_std, 1 / np.sqrt(want_var + eps), **tol(dtype))

    mm = rng.standard_normal(c).astype(dtype)
    mv = rng.uniform(0.1, 3, c).astype(dtype)
    yi = ops.batch_norm_inference(x, gamma, beta, mm, mv, eps)
    g = 1.0 if gamma is None else gamma.astype(np.float64)
    b = 0.0 if beta is None else beta.astype(np.float64)
    np.testing.assert_allclose(yi, g * (x - mm.astype(np.float64)) / np.sqrt(mv + eps) + b,
                               **tol(dtype))

    gy = rng.standard_normal(shape).astype(dtype)
    gx, gg, gb = ops.batch_norm_backward(gy, x, gamma, mean, inv_std)
    want = ref_backward(gy, x, gamma, eps)
    scale = np.abs(gy).sum() / c + 1
    for got, w in zip((gx, gg, gb), want):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, w, rtol=tol(dtype)["rtol"], atol=tol(dtype)["atol"] * scale)


@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 4, 5), (9, 1)])
@pytest.mark.parametrize("affine", [True, False])
def test_backward_matches_central_differences(shape, affine):
    rng = np.random.default_rng(11)
    c = shape[-1]
    x = rng.standard_normal(shape) * 2 + 0.5
    gamma = rng.uniform(0.5, 2, c) if affine else None
    beta = rng.standard_normal(c) if affine else None
    w = rng.standard_normal(shape)
    eps = 1e-3

    def loss(x_, gamma_, beta_):
        return np.sum(w * ops.batch_norm_train(x_, gamma_, beta_, eps)[0])

    h = 1e-6
    num_x = np.empty_like(x)
    for i in np.ndindex(shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        num_x[i] = (loss(xp, gamma, beta) - loss(xm, gamma, beta)) / (2 * h)
    _, mean, _, inv_std = ops.batch_norm_train(x, gamma, beta, eps)
    gx, gg, gb = ops.batch_norm_backward(w, x, gamma, mean, inv_std)
    np.testing.assert_allclose(gx, num_x, rtol=1e-5, atol=1e-8)
    g0 = np.ones(c) if gamma is None else gamma
    b0 = np.zeros(c) if beta is None else beta
    num_g = np.array([(loss(x, g0 + h * e, b0) - loss(x, g0 - h * e, b0)) / (2 * h) for e in np.eye(c)])
    num_b = np.array([(loss(x, g0, b0 + h * e) - loss(x, g0, b0 - h * e)) / (2 * h) for e in np.eye(c)])
    np.testing.assert_allclose(gg, num_g, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(gb, num_b, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("shape", [(32, 16, 16, 8), (100_001, 3), (7, 300)])
def test_large_shapes_at_1_and_2_threads(shape, dtype):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 2 + 3).astype(dtype)
    c = shape[-1]
    gamma = rng.uniform(0.5, 2, c).astype(dtype)
    beta = rng.standard_normal(c).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    want_y = ref_train(x, gamma, beta, 1e-3)[0]
    want_b = ref_backward(gy, x, gamma, 1e-3)
    before = nncore.get_num_threads()
    try:
        for threads in (1, 2):
            nncore.set_num_threads(threads)
            y, mean, _, inv_std = ops.batch_norm_train(x, gamma, beta, 1e-3)
            np.testing.assert_allclose(y, want_y, **tol(dtype))
            got = ops.batch_norm_backward(gy, x, gamma, mean, inv_std)
            rows = x.size // c
            for g, w in zip(got, want_b):
                np.testing.assert_allclose(g, w, rtol=tol(dtype)["rtol"],
                                           atol=tol(dtype)["atol"] * np.sqrt(rows))
    finally:
        nncore.set_num_threads(before)


def test_large_mean_small_spread_is_accurate():
    # A one-pass E[x^2] - E[x]^2 in float32 would lose every digit here.
    rng = np.random.default_rng(4)
    x = (1e4 + rng.standard_normal((4096, 3)) * 1e-2).astype(np.float32)
    _, mean, var, _ = ops.batch_norm_train(x, None, None, 1e-8)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mean, x64.mean(axis=0), rtol=1e-7)
    np.testing.assert_allclose(var, x64.var(axis=0), rtol=1e-5)


@pytest.mark.parametrize("first", [1e4 + 100.0, -1e6, np.inf])
def test_statistics_are_accurate_whatever_the_first_row(first, dtype):
    # The one-pass statistics are deviations from the first row: an outlier (or a non-finite
    # value) there must not cost the variance its digits.
    rng = np.random.default_rng(6)
    x = (1e4 + rng.standard_normal((5000, 4)) * 1e-2).astype(dtype)
    x[0, 1] = first
    _, mean, var, _ = ops.batch_norm_train(x, None, None, 1e-8)
    x64 = x.astype(np.float64)
    with np.errstate(invalid="ignore"):
        want_mean, want_var = x64.mean(axis=0), x64.var(axis=0)
    rtol = 1e-5 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(mean, want_mean, rtol=rtol)
    np.testing.assert_allclose(var, want_var, rtol=rtol)


def test_out_tuples_in_place_and_accumulate(dtype, rng):
    x = rng.standard_normal((5, 4)).astype(dtype)
    gamma = np.full(4, 2.0, dtype)
    beta = np.full(4, -1.0, dtype)
    want = ops.batch_norm_train(x, gamma, beta, 1e-3)
    y = x.copy()
    outs = (y, np.empty(4, dtype), np.empty(4, dtype), np.empty(4, dtype))
    got = ops.batch_norm_train(y, gamma, beta, 1e-3, out=outs)
    assert all(a is b for a, b in zip(got, outs))
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    gy = rng.standard_normal(x.shape).astype(dtype)
    gx, gg, gb = ops.batch_norm_backward(gy, x, gamma, want[1], want[3])
    acc_g, acc_b = np.ones(4, dtype), np.ones(4, dtype)
    g2 = gy.copy()
    res = ops.batch_norm_backward(g2, x, gamma, want[1], want[3], out=(g2, acc_g, acc_b),
                                  accumulate=True)
    assert res[0] is g2 and res[1] is acc_g and res[2] is acc_b
    np.testing.assert_array_equal(g2, gx)
    np.testing.assert_allclose(acc_g, 1 + gg, rtol=1e-6)
    np.testing.assert_allclose(acc_b, 1 + gb, rtol=1e-6)
    # Non-contiguous input and a partial out tuple.
    view = rng.standard_normal((4, 10)).astype(dtype)[:, ::2]
    y2 = ops.batch_norm_train(view, None, None, 1e-3, out=(None, None, None, None))[0]
    np.testing.assert_array_equal(y2, ops.batch_norm_train(view.copy(), None, None, 1e-3)[0])


def test_degenerate_batches(dtype):
    y, mean, var, inv_std = ops.batch_norm_train(np.empty((0, 3), dtype), None, None, 1e-3)
    assert y.shape == (0, 3) and np.isnan(mean).all() and np.isnan(var).all()
    x = np.array([[1.0, 2.0]], dtype)
    y, mean, var, _ = ops.batch_norm_train(x, None, np.array([0.5, -0.5], dtype), 1e-3)
    np.testing.assert_array_equal(y, [[0.5, -0.5]])
    np.testing.assert_array_equal(var, [0.0, 0.0])
    gx, gg, gb = ops.batch_norm_backward(np.empty((0, 3), dtype), np.empty((0, 3), dtype), None,
                                         np.zeros(3, dtype), np.ones(3, dtype))
    assert gx.shape == (0, 3) and (gg == 0).all() and (gb == 0).all()
    x = np.array([[np.nan, 1.0], [0.0, 2.0]], dtype)
    y, mean, _, _ = ops.batch_norm_train(x, None, None, 1e-3)
    assert np.isnan(y[:, 0]).all() and np.isnan(mean[0]) and np.isfinite(y[:, 1]).all()


def test_errors():
    x = np.zeros((4, 3), np.float32)
    c = np.ones(3, np.float32)
    for eps in (0.0, -1e-3, float("nan")):
        with pytest.raises(ValueError, match="epsilon"):
            ops.batch_norm_train(x, c, c, eps)
    with pytest.raises(ValueError, match="epsilon"):
        ops.batch_norm_inference(x, c, c, c, c, 0.0)
    with pytest.raises(nncore.ShapeError, match=r"'gamma' must have shape \(3,\).*\(4, 3\), got \(4,\)"):
        ops.batch_norm_train(x, np.ones(4, np.float32), c, 1e-3)
    with pytest.raises(nncore.DTypeError, match="'beta' has dtype float64"):
        ops.batch_norm_train(x, c, np.ones(3), 1e-3)
    with pytest.raises(nncore.ShapeError, match="moving_var"):
        ops.batch_norm_inference(x, c, c, c, np.ones(2, np.float32), 1e-3)
    with pytest.raises(nncore.ShapeError, match=r"\(4, 3\) and \(3, 4\)"):
        ops.batch_norm_backward(x, x.T.copy(), c, c, c)
    with pytest.raises(ValueError, match="out"):
        ops.batch_norm_train(x, c, c, 1e-3, out=(x,))
    with pytest.raises(ValueError, match="accumulate"):
        ops.batch_norm_backward(x, x, c, c, c, accumulate=True)
