"""Layer normalization op (forward, backward) against slow NumPy references on every ISA path,
bitwise equal at 1 to 4 threads, float64 gradients against finite differences, the layer against
its former NumPy computation, and the op's argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import layers, ops

from conftest import threads

# ---------------------------------------------------------------- references (float64, per row)


def ref_forward(x, gamma, beta, eps, center):
    """One row at a time in float64: mean, biased variance, then the affine map."""
    x = x.astype(np.float64)
    y = np.empty_like(x)
    for r in range(x.shape[0]):
        row = x[r]
        mean = row.sum() / row.size
        var = ((row - mean) ** 2).sum() / row.size
        inv = 1.0 / np.sqrt(var + eps)
        y[r] = ((row - mean) if center else row) * inv
        if gamma is not None:
            y[r] *= gamma
        if beta is not None:
            y[r] += beta
    return y


def ref_backward(dy, x, gamma, eps, center):
    """dx from the Jacobian of each row written out, dgamma / dbeta as column sums."""
    x = x.astype(np.float64)
    dy = dy.astype(np.float64)
    g = np.ones(x.shape[1]) if gamma is None else gamma.astype(np.float64)
    dx = np.empty_like(x)
    d = x.shape[1]
    x_hat = np.empty_like(x)
    for r in range(x.shape[0]):
        row = x[r]
        mean = row.mean()
        dev = row - mean
        var = (dev * dev).mean()
        inv = 1.0 / np.sqrt(var + eps)
        # d inv / d x_j = -inv^3 dev_j / d ; d mean / d x_j = 1 / d
        dinv = -inv ** 3 * dev / d
        base = (dev if center else row)
        jac = np.outer(base, dinv) + inv * (np.eye(d) - (np.ones((d, d)) / d if center else 0))
        gh = dy[r] * g
        dx[r] = gh @ jac
        x_hat[r] = base * inv
    return dx, (dy * x_hat).sum(0), dy.sum(0)


def tol(dtype, d):
    return (3e-5 if dtype == np.float32 else 1e-12) * max(d, 1) ** 0.5 * 4


@st.composite
def cases(draw):
    return dict(rows=draw(st.integers(0, 9)), d=draw(st.sampled_from([1, 2, 3, 7, 16, 31, 33, 64, 100])),
                dtype=np.dtype(draw(st.sampled_from([np.float32, np.float64]))),
                center=draw(st.booleans()), gamma=draw(st.booleans()), beta=draw(st.booleans()),
                scale=draw(st.sampled_from([1.0, 1e-3, 50.0])), shift=draw(st.sampled_from([0.0, 3.0])),
                seed=draw(st.integers(0, 2**31 - 1)))


def arrays(case):
    rng = np.random.default_rng(case["seed"])
    dt = case["dtype"]
    x = (rng.standard_normal((case["rows"], case["d"])) * case["scale"] + case["shift"]).astype(dt)
    gamma = rng.standard_normal(case["d"]).astype(dt) if case["gamma"] else None
    beta = rng.standard_normal(case["d"]).astype(dt) if case["beta"] else None
    dy = rng.standard_normal(x.shape).astype(dt)
    return x, gamma, beta, dy


@given(cases())
def test_matches_reference_on_every_isa_and_thread_count(case):
    x, gamma, beta, dy = arrays(case)
    eps = 1e-3
    want_y = ref_forward(x, gamma, beta, eps, case["center"])
    want = ref_backward(dy, x, gamma, eps, case["center"])
    scale = max(1.0, float(np.abs(want_y).max(initial=0)))
    for isa in ops.available_isas():
        first = None
        with ops.use_isa(isa):
            for nt in (1, 2, 3, 4):
                with threads(nt):
                    y, mean, inv = ops.layer_norm(x, gamma, beta, eps, center=case["center"])
                    grads = ops.layer_norm_backward(dy, x, gamma, mean, inv, center=case["center"])
                assert y.dtype == x.dtype and y.shape == x.shape and mean.shape == (x.shape[0],)
                np.testing.assert_allclose(y, want_y, rtol=0, atol=tol(x.dtype, case["d"]) * scale,
                                           err_msg=isa)
                gscale = max(1.0, float(np.abs(want[0]).max(initial=0)))
                np.testing.assert_allclose(grads[0], want[0], rtol=0,
                                           atol=tol(x.dtype, case["d"]) * gscale * 4, err_msg=isa)
                for got, ref in zip(grads[1:], want[1:]):
                    assert got.shape == (case["d"],)
                    np.testing.assert_allclose(got, ref, rtol=0,
                                               atol=tol(x.dtype, case["rows"]) * gscale * 4,
                                               err_msg=isa)
                outs = (y, mean, inv) + tuple(grads)
                if first is None:
                    first = outs
                for a, b in zip(outs, first):
                    np.testing.assert_array_equal(a, b, err_msg=f"{isa} threads={nt}")


@pytest.mark.parametrize("center", [True, False])
def test_large_calls_give_the_same_bits_at_every_thread_count(isa, center):
    # Enough rows for several row chunks and both threads (small calls stay on one thread).
    rng = np.random.default_rng(5)
    x = rng.standard_normal((700, 300)).astype(np.float32)
    gamma, beta = rng.standard_normal(300).astype(np.float32), rng.standard_normal(300).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    first = None
    for nt in (1, 2, 3, 4):
        with threads(nt):
            y, mean, inv = ops.layer_norm(x, gamma, beta, 1e-5, center=center)
            outs = (y, mean, inv) + ops.layer_norm_backward(dy, x, gamma, mean, inv, center=center)
        if first is None:
            first = outs
        for a, b in zip(outs, first):
            np.testing.assert_array_equal(a, b, err_msg=f"threads={nt}")
    want = ref_backward(dy[:20].astype(np.float64), x[:20], gamma, 1e-5, center)[0]
    np.testing.assert_allclose(first[3][:20], want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("center", [True, False])
def test_gradients_against_finite_differences(isa, center):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 9))
    gamma, beta = rng.standard_normal(9), rng.standard_normal(9)
    dy = rng.standard_normal(x.shape)

    def loss(x_, g_, b_):
        return float((ops.layer_norm(x_, g_, b_, 1e-3, center=center)[0] * dy).sum())

    _, mean, inv = ops.layer_norm(x, gamma, beta, 1e-3, center=center)
    dx, dg, db = ops.layer_norm_backward(dy, x, gamma, mean, inv, center=center)
    eps = 1e-6
    for arr, analytic in ((x, dx), (gamma, dg), (beta, db)):
        num = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + eps
            up = loss(x, gamma, beta)
            arr[idx] = old - eps
            down = loss(x, gamma, beta)
            arr[idx] = old
            num[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(analytic, num, rtol=1e-6, atol=1e-7)


def test_batched_shapes_and_non_contiguous_inputs():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 10))
    y, mean, inv = ops.layer_norm(x, None, None, 1e-3)
    assert mean.shape == (3, 4) and inv.shape == (3, 4)
    np.testing.assert_allclose(y.reshape(12, 10), ref_forward(x.reshape(12, 10), None, None, 1e-3, True),
                               atol=1e-12)
    _, mean0, inv0 = ops.layer_norm(np.zeros((3, 0)))  # empty rows: 0 / 0 statistics
    assert np.isnan(mean0).all() and np.isnan(inv0).all()
    xt = rng.standard_normal((10, 6)).T  # a transposed view: copied to C order by the op
    gamma = rng.standard_normal(20)[::2]
    y1 = ops.layer_norm(xt, gamma, None, 1e-3)[0]
    y2 = ops.layer_norm(np.ascontiguousarray(xt), np.ascontiguousarray(gamma), None, 1e-3)[0]
    np.testing.assert_array_equal(y1, y2)


def test_errors_name_the_problem():
    x = np.zeros((2, 5), np.float32)
    with pytest.raises(nncore.DTypeError):
        ops.layer_norm(np.zeros((2, 5), np.int32))
    with pytest.raises(nncore.DTypeError):
        ops.layer_norm(x, np.ones(5, np.float64))
    with pytest.raises(nncore.ShapeError, match="gamma"):
        ops.layer_norm(x, np.ones(4, np.float32))
    with pytest.raises(nncore.ShapeError, match="beta"):
        ops.layer_norm(x, None, np.ones((5, 1), np.float32))
    with pytest.raises(ValueError, match="epsilon"):
        ops.layer_norm(x, epsilon=0.0)
    with pytest.raises(nncore.ShapeError, match="at least 1"):
        ops.layer_norm(np.float32(1.0))
    _, mean, inv = ops.layer_norm(x)
    with pytest.raises(nncore.ShapeError, match="grad_y"):
        ops.layer_norm_backward(np.zeros((2, 4), np.float32), x, None, mean, inv)
    with pytest.raises(nncore.ShapeError, match="mean"):
        ops.layer_norm_backward(x, x, None, mean[:1], inv)
    with pytest.raises(nncore.ShapeError, match="inv_std"):
        ops.layer_norm_backward(x, x, None, mean, inv[None])
    with pytest.raises(nncore.DTypeError):
        ops.layer_norm_backward(x.astype(np.float64), x, None, mean, inv)


# ---------------------------------------------------------------- the layer, against its NumPy form


def numpy_layer_norm(x, axes, gamma, beta, eps, rms):
    """The layer's former NumPy forward: the normalized axes moved last, rows normalized."""
    rest = [a for a in range(x.ndim) if a not in axes]
    perm = rest + axes
    xt = np.transpose(x, perm)
    rows = xt.reshape(-1, int(np.prod([x.shape[a] for a in axes])))
    mean = rows.mean(axis=1, keepdims=True)
    dev = rows - mean
    inv = (1.0 / np.sqrt(np.mean(dev * dev, axis=1, keepdims=True) + eps)).astype(x.dtype)
    y = (rows if rms else dev) * inv
    if gamma is not None:
        y = y * gamma.reshape(-1)
    if beta is not None:
        y = y + beta.reshape(-1)
    return np.transpose(y.astype(x.dtype).reshape(xt.shape), np.argsort(perm))


@pytest.mark.parametrize("axis", [-1, [1, 2], [1, 3], 2])
@pytest.mark.parametrize("rms", [False, True])
def test_layer_matches_its_former_numpy_computation(axis, rms):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4, 5, 6)).astype(np.float32)
    kwargs = dict(rms_scaling=True) if rms else {}
    with pytest.warns(UserWarning) if rms else _nothing():
        layer = layers.LayerNormalization(axis=axis, **kwargs)
    layer.build(x.shape)
    for w in layer.trainable_weights:
        w.assign(rng.standard_normal(w.shape).astype(np.float32))
    y = layer(x)
    axes = sorted(a % 4 for a in ([axis] if isinstance(axis, int) else axis))
    want = numpy_layer_norm(x, axes, None if layer.gamma is None else layer.gamma.value,
                            None if layer.beta is None else layer.beta.value, layer.epsilon, rms)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
