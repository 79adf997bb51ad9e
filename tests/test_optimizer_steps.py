"""Fused optimizer steps against the Keras 3 update formulas written out in NumPy, over several
steps, for every variant; in-place semantics, views, threads and argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import ops


def np_sgd(p, g, vel, lr, momentum, nesterov, wd):
    p = p - p * wd * lr
    if momentum == 0:
        return p - lr * g, vel
    vel = momentum * vel - lr * g
    return (p + momentum * vel - lr * g if nesterov else p + vel), vel


def np_adam(p, g, m, v, vhat, lr, b1, b2, eps, t, wd):
    p = p - p * wd * lr
    alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    m = m + (g - m) * (1 - b1)
    v = v + (g * g - v) * (1 - b2)
    if vhat is not None:
        vhat = np.maximum(vhat, v)
        denom = np.sqrt(vhat) + eps
    else:
        denom = np.sqrt(v) + eps
    return p - m * alpha / denom, m, v, vhat


def np_rmsprop(p, g, rms, buf, mg, lr, rho, momentum, eps, centered, wd):
    p = p - p * wd * lr
    rms = rho * rms + (1 - rho) * g * g
    if centered:
        mg = rho * mg + (1 - rho) * g
        denom = rms - mg * mg + eps
    else:
        denom = rms + eps
    inc = lr * g / np.sqrt(denom)
    if momentum > 0:
        buf = momentum * buf + inc
        return p - buf, rms, buf, mg
    return p - inc, rms, buf, mg


def tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)


shapes = st.sampled_from([(0,), (1,), (7, 3), (2, 3, 5), (1000,)])
dtypes = st.sampled_from([np.float32, np.float64])


@given(shape=shapes, dtype=dtypes, seed=st.integers(0, 2**31),
       momentum=st.sampled_from([0.0, 0.9]), nesterov=st.booleans(),
       wd=st.sampled_from([0.0, 0.01]))
def test_sgd_matches_keras_formula(shape, dtype, seed, momentum, nesterov, wd):
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(shape).astype(dtype)
    vel = np.zeros(shape, dtype) if momentum else None
    ref_p, ref_v = p.astype(np.float64), np.zeros(shape)
    for _ in range(5):
        g = rng.standard_normal(shape).astype(dtype)
        ops.sgd_step(p, g, vel, lr=0.05, momentum=momentum, nesterov=nesterov, weight_decay=wd)
        ref_p, ref_v = np_sgd(ref_p, g.astype(np.float64), ref_v, 0.05, momentum, nesterov, wd)
    assert p.dtype == dtype
    np.testing.assert_allclose(p, ref_p, **tol(dtype))
    if momentum:
        np.testing.assert_allclose(vel, ref_v, **tol(dtype))


@given(shape=shapes, dtype=dtypes, seed=st.integers(0, 2**31), amsgrad=st.booleans(),
       wd=st.sampled_from([0.0, 0.004]))
def test_adam_matches_keras_formula(shape, dtype, seed, amsgrad, wd):
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(shape).astype(dtype)
    m, v = np.zeros(shape, dtype), np.zeros(shape, dtype)
    vhat = np.zeros(shape, dtype) if amsgrad else None
    ref = [p.astype(np.float64), np.zeros(shape), np.zeros(shape), np.zeros(shape) if amsgrad else None]
    for t in range(1, 7):
        # Shrinking gradients make AMSGrad's max differ from v.
        g = (rng.standard_normal(shape) / t).astype(dtype)
        ops.adam_step(p, g, m, v, lr=0.01, beta1=0.9, beta2=0.999, epsilon=1e-7, step=t,
                      amsgrad_vhat=vhat, weight_decay=wd)
        ref = np_adam(ref[0], g.astype(np.float64), ref[1], ref[2], ref[3], 0.01, 0.9, 0.999, 1e-7,
                      t, wd)
    np.testing.assert_allclose(p, ref[0], **tol(dtype))
    np.testing.assert_allclose(m, ref[1], **tol(dtype))
    np.testing.assert_allclose(v, ref[2], **tol(dtype))
    if amsgrad:
        np.testing.assert_allclose(vhat, ref[3], **tol(dtype))


@given(shape=shapes, dtype=dtypes, seed=st.integers(0, 2**31), centered=st.booleans(),
       momentum=st.sampled_from([0.0, 0.5]), wd=st.sampled_from([0.0, 0.01]))
def test_rmsprop_matches_keras_formula(shape, dtype, seed, centered, momentum, wd):
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(shape).astype(dtype)
    rms = np.zeros(shape, dtype)
    buf = np.zeros(shape, dtype) if momentum else None
    mg = np.zeros(shape, dtype) if centered else None
    ref = [p.astype(np.float64), np.zeros(shape), np.zeros(shape), np.zeros(shape)]
    for _ in range(5):
        g = (rng.standard_normal(shape) + 0.5).astype(dtype)
        ops.rmsprop_step(p, g, rms, buf, lr=0.01, rho=0.9, momentum=momentum, epsilon=1e-7,
                         centered=centered, mg=mg, weight_decay=wd)
        ref = list(np_rmsprop(ref[0], g.astype(np.float64), ref[1], ref[2], ref[3], 0.01, 0.9,
                              momentum, 1e-7, centered, wd))
    np.testing.assert_allclose(p, ref[0], **tol(dtype))
    np.testing.assert_allclose(rms, ref[1], **tol(dtype))
    if momentum:
        np.testing.assert_allclose(buf, ref[2], **tol(dtype))
    if centered:
        np.testing.assert_allclose(mg, ref[3], **tol(dtype))


def test_keras_docstring_examples():
    # keras.optimizers.RMSprop(learning_rate=0.1), loss = var1**2 / 2 from var1 = 10: 9.683772.
    var = np.array([10.0], np.float32)
    ops.rmsprop_step(var, var.copy(), np.zeros(1, np.float32), lr=0.1)
    np.testing.assert_allclose(var, [9.683772], rtol=1e-6)
    # First Adam step moves every weight by ~lr * sign(grad) (bias correction at step 1).
    p = np.zeros(3)
    ops.adam_step(p, np.array([2.0, -0.5, 0.1]), np.zeros(3), np.zeros(3), lr=0.1, step=1)
    np.testing.assert_allclose(p, [-0.1, 0.1, -0.1], rtol=1e-3)


def test_large_buffer_at_1_and_2_threads(dtype):
    rng = np.random.default_rng(0)
    n = 300_001
    p0 = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    results = []
    before = nncore.get_num_threads()
    try:
        for threads in (1, 2):
            nncore.set_num_threads(threads)
            p, m, v = p0.copy(), np.zeros(n, dtype), np.zeros(n, dtype)
            for t in (1, 2):
                ops.adam_step(p, g, m, v, lr=1e-3, step=t)
            results.append(p)
    finally:
        nncore.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])


def test_views_are_updated_in_place(dtype, rng):
    buf = rng.standard_normal((6, 8)).astype(dtype)
    p = buf[:, ::2]  # a non-contiguous view: updated through a copy written back
    g = rng.standard_normal(p.shape).astype(dtype)
    m_buf, v_buf = np.zeros((6, 8), dtype), np.zeros((6, 8), dtype)
    m, v = m_buf[:, 1::2], v_buf[:, 1::2]
    want_p = p.copy()
    want_m, want_v = np.zeros_like(want_p), np.zeros_like(want_p)
    ops.adam_step(want_p, g, want_m, want_v, lr=0.1, step=1)
    ops.adam_step(p, g[::-1][::-1], m, v, lr=0.1, step=1)
    np.testing.assert_array_equal(p, want_p)
    np.testing.assert_array_equal(m, want_m)
    np.testing.assert_array_equal(v, want_v)
    q = buf.T
    ops.sgd_step(q, np.ones_like(q), None, lr=0.5)
    np.testing.assert_allclose(buf.T, q)


def test_nan_gradient_shows_in_params():
    p = np.zeros(3)
    ops.adam_step(p, np.array([np.nan, 1.0, 1.0]), np.zeros(3), np.zeros(3), lr=0.1, step=1)
    assert np.isnan(p[0]) and np.isfinite(p[1:]).all()


def test_errors():
    p = np.zeros(4, np.float32)
    g = np.zeros(4, np.float32)
    z = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="lr"):
        ops.sgd_step(p, g, lr=-1.0)
    with pytest.raises(ValueError, match="momentum"):
        ops.sgd_step(p, g, z, lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="velocity"):
        ops.sgd_step(p, g, lr=0.1, momentum=0.9)
    with pytest.raises(TypeError, match="lr"):
        ops.sgd_step(p, g, lr="0.1")
    for kw in ({"epsilon": 0.0}, {"epsilon": -1e-7}, {"beta1": 1.0}, {"beta2": -0.1},
               {"lr": float("nan")}, {"weight_decay": -1.0}):
        with pytest.raises(ValueError, match=next(iter(kw))):
            ops.adam_step(p, g, z, z.copy(), **{"lr": 0.1, "step": 1, **kw})
    with pytest.raises(ValueError, match="step"):
        ops.adam_step(p, g, z, z.copy(), lr=0.1, step=0)
    with pytest.raises(TypeError, match="step"):
        ops.adam_step(p, g, z, z.copy(), lr=0.1, step=1.5)
    with pytest.raises(nncore.ShapeError, match=r"'grad' and 'param'.*\(3,\) and \(4,\)"):
        ops.adam_step(p, np.zeros(3, np.float32), z, z.copy(), lr=0.1, step=1)
    with pytest.raises(nncore.ShapeError, match=r"'v' and 'param'"):
        ops.adam_step(p, g, z, np.zeros(5, np.float32), lr=0.1, step=1)
    with pytest.raises(nncore.DTypeError, match="'m' has dtype float64"):
        ops.adam_step(p, g, np.zeros(4), z, lr=0.1, step=1)
    with pytest.raises(nncore.DTypeError, match="'grad' has dtype float64"):
        ops.adam_step(p, np.zeros(4), z, z.copy(), lr=0.1, step=1)
    with pytest.raises(ValueError, match="shares memory"):
        ops.adam_step(p, g, z, z, lr=0.1, step=1)
    with pytest.raises(ValueError, match="mg"):
        ops.rmsprop_step(p, g, z, lr=0.1, centered=True)
    with pytest.raises(ValueError, match="momentum_buf"):
        ops.rmsprop_step(p, g, z, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="rho"):
        ops.rmsprop_step(p, g, z, lr=0.1, rho=1.0)
    ro = np.zeros(4, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        ops.sgd_step(ro, g, lr=0.1)
    with pytest.raises(ValueError, match="NumPy array"):
        ops.sgd_step([0.0, 1.0], [1.0, 1.0], lr=0.1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_subnormal_moments_are_flushed_and_the_rest_is_untouched(dtype):
    """Moments of parameters with a zero gradient decay into subnormals; the steps flush those to
    zero (they are slow on x86) and leave normal values exactly as the formula gives them."""
    tiny = np.finfo(dtype).tiny
    n = 40_000
    param = np.ones(n, dtype)
    grad = np.zeros(n, dtype)
    m = np.full(n, tiny / 4, dtype)          # subnormal
    v = np.full(n, tiny / 4, dtype)
    m[::2] = 0.5                             # normal
    v[::2] = 0.25
    expect_m = m[::2] - m[::2] * dtype(0.1)
    ops.adam_step(param, grad, m, v, lr=0.0, step=3)
    assert np.all(m[1::2] == 0) and np.all(v[1::2] == 0)
    np.testing.assert_array_equal(m[::2], expect_m)
    velocity = np.full(n, tiny / 2, dtype)
    ops.sgd_step(param, grad, velocity, lr=0.0, momentum=0.9)
    assert np.all(velocity == 0)
    rms = np.full(n, tiny / 2, dtype)
    ops.rmsprop_step(param, grad, rms, lr=0.0)
    assert np.all(rms == 0)
    np.testing.assert_array_equal(param, 1)
