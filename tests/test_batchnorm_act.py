"""Batch norm with a fused ReLU / ReLU6 (ops level): NumPy references, the unfused composition,
thread-count independence, ISA paths and central differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nncore
from nncore import ops

from test_batchnorm import ref_backward, ref_train, tol

CAP = {"relu": np.inf, "relu6": 6.0}


def clamp(y, act):
    return np.minimum(np.maximum(y, 0.0), CAP[act])


def mask_of(z, act):
    """The activation's derivative read off its output (as the from-output backward kernels)."""
    return (z > 0) & (z < CAP[act])


def case(rng, shape, dtype, affine):
    c = shape[-1]
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    gamma = rng.uniform(0.5, 4, c).astype(dtype) if affine in ("both", "gamma") else None
    beta = (rng.standard_normal(c) * 2).astype(dtype) if affine in ("both", "beta") else None
    gy = rng.standard_normal(shape).astype(dtype)
    return x, gamma, beta, gy


def fused(x, gamma, beta, gy, act):
    z, mean, var, inv = ops.batch_norm_train(x, gamma, beta, 1e-3, activation=act)
    grads = ops.batch_norm_backward(gy, x, gamma, mean, inv, activation=act, beta=beta)
    return (z, mean, var, inv, *grads)


shapes = st.lists(st.integers(1, 9), min_size=2, max_size=4).map(tuple)


@settings(deadline=None)
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**31),
       affine=st.sampled_from(["both", "none", "gamma", "beta"]),
       act=st.sampled_from(["relu", "relu6"]), isa=st.sampled_from(ops.available_isas()),
       threads=st.integers(1, 4))
def test_fused_matches_numpy(shape, dtype, seed, affine, act, isa, threads):
    x, gamma, beta, gy = case(np.random.default_rng(seed), shape, dtype, affine)
    before = nncore.get_num_threads()
    try:
        nncore.set_num_threads(threads)
        with ops.use_isa(isa):
            z, mean, var, inv, gx, gg, gb = fused(x, gamma, beta, gy, act)
    finally:
        nncore.set_num_threads(before)
    want_y, want_mean, want_var = ref_train(x, gamma, beta, 1e-3)
    assert z.dtype == gx.dtype == gg.dtype == dtype
    np.testing.assert_allclose(z, clamp(want_y, act), **tol(dtype))
    np.testing.assert_allclose(mean, want_mean, **tol(dtype))
    np.testing.assert_allclose(var, want_var, **tol(dtype))
    # The mask is the one the kernel's own output shows (values at a kink may round either way).
    want = ref_backward(gy * mask_of(z, act), x, gamma, 1e-3)
    scale = np.abs(gy).sum() / shape[-1] + 1
    for got, w in zip((gx, gg, gb), want):
        np.testing.assert_allclose(got, w, rtol=tol(dtype)["rtol"], atol=tol(dtype)["atol"] * scale)


@pytest.mark.parametrize("act", ["relu", "relu6"])
@pytest.mark.parametrize("shape", [(128, 8, 8, 16), (32, 6, 6, 96), (1000, 3), (7, 300)])
def test_fused_equals_unfused_composition(shape, act, dtype, isa):
    x, gamma, beta, gy = case(np.random.default_rng(5), shape, dtype, "both")
    z, _, _, _, gx, gg, gb = fused(x, gamma, beta, gy, act)
    y, mean, _, inv = ops.batch_norm_train(x, gamma, beta, 1e-3)
    fwd, bwd = {"relu": (ops.relu, ops.relu_backward_from_output),
                "relu6": (ops.relu6, ops.relu6_backward_from_output)}[act]
    z2 = fwd(y)
    np.testing.assert_array_equal(z, z2)
    gx2, gg2, gb2 = ops.batch_norm_backward(bwd(gy, z2), x, gamma, mean, inv)
    rows = x.size // shape[-1]
    for a, b in zip((gx, gg, gb), (gx2, gg2, gb2)):
        np.testing.assert_allclose(a, b, rtol=tol(dtype)["rtol"],
                                   atol=tol(dtype)["atol"] * np.sqrt(rows))


@pytest.mark.parametrize("act", ["relu", "relu6"])
@pytest.mark.parametrize("shape", [(128, 16, 16, 16), (32, 12, 12, 192), (100_001, 3)])
def test_fused_bitwise_independent_of_threads(shape, act, isa):
    x, gamma, beta, gy = case(np.random.default_rng(9), shape, np.float32, "both")
    before = nncore.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 3, 4):
            nncore.set_num_threads(threads)
            results.append(fused(x, gamma, beta, gy, act))
    finally:
        nncore.set_num_threads(before)
    for r in results[1:]:
        for a, b in zip(results[0], r):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("act", ["relu", "relu6"])
@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_fused_backward_matches_central_differences(shape, act, affine):
    rng = np.random.default_rng(13)
    c = shape[-1]
    x = rng.standard_normal(shape) * 2 + 0.5
    # gamma up to 8 puts some ReLU6 outputs on the cap.
    gamma = rng.uniform(0.5, 8, c) if affine else None
    beta = rng.standard_normal(c) if affine else None
    w = rng.standard_normal(shape)
    eps = 1e-3

    def loss(x_, gamma_, beta_):
        return np.sum(w * ops.batch_norm_train(x_, gamma_, beta_, eps, activation=act)[0])

    z, mean, _, inv = ops.batch_norm_train(x, gamma, beta, eps, activation=act)
    assert 0 < np.count_nonzero(mask_of(z, act)) < z.size
    h = 1e-6
    num_x = np.empty_like(x)
    for i in np.ndindex(shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        num_x[i] = (loss(xp, gamma, beta) - loss(xm, gamma, beta)) / (2 * h)
    gx, gg, gb = ops.batch_norm_backward(w, x, gamma, mean, inv, activation=act, beta=beta)
    np.testing.assert_allclose(gx, num_x, rtol=1e-5, atol=1e-7)
    g0 = np.ones(c) if gamma is None else gamma
    b0 = np.zeros(c) if beta is None else beta
    num_g = np.array([(loss(x, g0 + h * e, b0) - loss(x, g0 - h * e, b0)) / (2 * h) for e in np.eye(c)])
    num_b = np.array([(loss(x, g0, b0 + h * e) - loss(x, g0, b0 - h * e)) / (2 * h) for e in np.eye(c)])
    np.testing.assert_allclose(gg, num_g, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gb, num_b, rtol=1e-5, atol=1e-7)


def test_activation_argument_errors():
    x = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match="activation must be None, 'relu' or 'relu6'"):
        ops.batch_norm_train(x, None, None, 1e-3, activation="tanh")
    with pytest.raises(ValueError, match="activation"):
        ops.batch_norm_backward(x, x, None, np.zeros(3, np.float32), np.ones(3, np.float32),
                                activation=1)
    with pytest.raises(Exception, match="beta"):
        ops.batch_norm_backward(x, x, None, np.zeros(3, np.float32), np.ones(3, np.float32),
                                activation="relu", beta=np.zeros(2, np.float32))
