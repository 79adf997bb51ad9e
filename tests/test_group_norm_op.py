"""Group normalization op (channels-last forward, backward) against slow NumPy references on every
ISA path, bitwise equal at 1 to 4 threads, float64 gradients against finite differences, the layer
against its former NumPy computation, and the op's argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import layers, ops

from conftest import threads

# ---------------------------------------------------------------- references (float64)


def ref_forward(x, gamma, beta, groups, eps):
    """One (sample, group) at a time over its spatial positions and channels."""
    x = x.astype(np.float64)
    n, c = x.shape[0], x.shape[-1]
    cg = c // groups
    y = np.empty_like(x)
    for i in range(n):
        for g in range(groups):
            block = x[i, ..., g * cg:(g + 1) * cg]
            mean = block.sum() / block.size
            var = ((block - mean) ** 2).sum() / block.size
            y[i, ..., g * cg:(g + 1) * cg] = (block - mean) / np.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


def ref_backward(dy, x, gamma, groups, eps):
    """The textbook gradient per (sample, group): inv (gh - mean(gh) - x_hat mean(gh x_hat))."""
    x = x.astype(np.float64)
    dy = dy.astype(np.float64)
    c = x.shape[-1]
    cg = c // groups
    gam = np.ones(c) if gamma is None else gamma.astype(np.float64)
    dx = np.empty_like(x)
    x_hat = np.empty_like(x)
    for i in range(x.shape[0]):
        for g in range(groups):
            sl = (i, Ellipsis, slice(g * cg, (g + 1) * cg))
            block = x[sl]
            mean = block.mean()
            inv = 1.0 / np.sqrt(((block - mean) ** 2).mean() + eps)
            xh = (block - mean) * inv
            gh = dy[sl] * gam[g * cg:(g + 1) * cg]
            dx[sl] = inv * (gh - gh.mean() - xh * (gh * xh).mean())
            x_hat[sl] = xh
    axes = tuple(range(x.ndim - 1))
    return dx, (dy * x_hat).sum(axis=axes), dy.sum(axis=axes)


def tol(dtype, terms):
    return (3e-5 if dtype == np.float32 else 1e-12) * max(terms, 1) ** 0.5 * 4


@st.composite
def cases(draw):
    n = draw(st.integers(0, 3))
    spatial = tuple(draw(st.lists(st.integers(1, 6), min_size=0, max_size=2)))
    groups = draw(st.sampled_from([1, 2, 3, 4]))
    cg = draw(st.sampled_from([1, 2, 3, 5, 8]))
    return dict(shape=(n,) + spatial + (groups * cg,), groups=groups,
                dtype=np.dtype(draw(st.sampled_from([np.float32, np.float64]))),
                gamma=draw(st.booleans()), beta=draw(st.booleans()),
                scale=draw(st.sampled_from([1.0, 1e-2, 30.0])), shift=draw(st.sampled_from([0.0, 2.0])),
                seed=draw(st.integers(0, 2**31 - 1)))


def arrays(case):
    rng = np.random.default_rng(case["seed"])
    dt = case["dtype"]
    c = case["shape"][-1]
    x = (rng.standard_normal(case["shape"]) * case["scale"] + case["shift"]).astype(dt)
    gamma = rng.standard_normal(c).astype(dt) if case["gamma"] else None
    beta = rng.standard_normal(c).astype(dt) if case["beta"] else None
    return x, gamma, beta, rng.standard_normal(x.shape).astype(dt)


@given(cases())
def test_matches_reference_on_every_isa_and_thread_count(case):
    x, gamma, beta, dy = arrays(case)
    groups, eps = case["groups"], 1e-3
    want_y = ref_forward(x, gamma, beta, groups, eps)
    want = ref_backward(dy, x, gamma, groups, eps)
    per_group = x.size // max(x.shape[0] * groups, 1)
    for isa in ops.available_isas():
        first = None
        with ops.use_isa(isa):
            for nt in (1, 2, 3, 4):
                with threads(nt):
                    y, mean, inv = ops.group_norm(x, gamma, beta, groups, eps)
                    grads = ops.group_norm_backward(dy, x, gamma, mean, inv, groups)
                assert y.dtype == x.dtype and y.shape == x.shape and mean.shape == (x.shape[0], groups)
                scale = max(1.0, float(np.abs(want_y).max(initial=0)))
                np.testing.assert_allclose(y, want_y, rtol=0, atol=tol(x.dtype, per_group) * scale,
                                           err_msg=isa)
                gscale = max(1.0, float(np.abs(want[0]).max(initial=0)))
                np.testing.assert_allclose(grads[0], want[0], rtol=0,
                                           atol=tol(x.dtype, per_group) * gscale * 4, err_msg=isa)
                for got, ref in zip(grads[1:], want[1:]):
                    np.testing.assert_allclose(got, ref, rtol=0,
                                               atol=tol(x.dtype, x.size) * gscale * 4, err_msg=isa)
                outs = (y, mean, inv) + tuple(grads)
                if first is None:
                    first = outs
                for a, b in zip(outs, first):
                    np.testing.assert_array_equal(a, b, err_msg=f"{isa} threads={nt}")


@pytest.mark.parametrize("shape,groups", [((6, 20, 20, 32), 8),    # images in parallel
                                          ((1, 72, 72, 16), 4),    # one image, split inside
                                          ((3, 48, 48, 24), 3)])   # few large images in turn
def test_large_calls_give_the_same_bits_at_every_thread_count(isa, shape, groups):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(shape) + 1.5).astype(np.float32)
    gamma = rng.standard_normal(shape[-1]).astype(np.float32)
    beta = rng.standard_normal(shape[-1]).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    first = None
    for nt in (1, 2, 3, 4):
        with threads(nt):
            y, mean, inv = ops.group_norm(x, gamma, beta, groups, 1e-5)
            outs = (y, mean, inv) + ops.group_norm_backward(dy, x, gamma, mean, inv, groups)
        if first is None:
            first = outs
        for a, b in zip(outs, first):
            np.testing.assert_array_equal(a, b, err_msg=f"threads={nt}")
    np.testing.assert_allclose(first[0][:1], ref_forward(x[:1], gamma, beta, groups, 1e-5),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(first[3][:1], ref_backward(dy[:1], x[:1], gamma, groups, 1e-5)[0],
                               rtol=1e-3, atol=1e-4)


def test_gradients_against_finite_differences(isa):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 2, 6))
    gamma, beta = rng.standard_normal(6), rng.standard_normal(6)
    dy = rng.standard_normal(x.shape)

    def loss(x_, g_, b_):
        return float((ops.group_norm(x_, g_, b_, 3, 1e-3)[0] * dy).sum())

    _, mean, inv = ops.group_norm(x, gamma, beta, 3, 1e-3)
    dx, dg, db = ops.group_norm_backward(dy, x, gamma, mean, inv, 3)
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


def test_non_contiguous_inputs_are_copied():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 8, 5, 4)).transpose(0, 2, 1, 3)  # a (2, 5, 8, 4) view
    y1 = ops.group_norm(x, None, None, 2)[0]
    y2 = ops.group_norm(np.ascontiguousarray(x), None, None, 2)[0]
    np.testing.assert_array_equal(y1, y2)


def test_errors_name_the_problem():
    x = np.zeros((2, 3, 6), np.float32)
    with pytest.raises(nncore.ShapeError, match="groups"):
        ops.group_norm(x, None, None, 4)
    with pytest.raises(nncore.ShapeError, match="groups"):
        ops.group_norm(x, None, None, 0)
    with pytest.raises(TypeError, match="groups"):
        ops.group_norm(x, None, None, 2.0)
    with pytest.raises(nncore.ShapeError, match="at least 2"):
        ops.group_norm(np.zeros(6, np.float32), None, None, 2)
    with pytest.raises(nncore.ShapeError, match="gamma"):
        ops.group_norm(x, np.ones(5, np.float32), None, 2)
    with pytest.raises(nncore.DTypeError):
        ops.group_norm(x, np.ones(6, np.float64), None, 2)
    with pytest.raises(nncore.DTypeError):
        ops.group_norm(x.astype(np.int64), None, None, 2)
    with pytest.raises(ValueError, match="epsilon"):
        ops.group_norm(x, None, None, 2, epsilon=-1.0)
    _, mean, inv = ops.group_norm(x, None, None, 2)
    with pytest.raises(nncore.ShapeError, match="mean"):
        ops.group_norm_backward(x, x, None, mean, inv, 3)
    with pytest.raises(nncore.ShapeError, match="grad_y"):
        ops.group_norm_backward(x[:1], x, None, mean, inv, 2)
    with pytest.raises(nncore.ShapeError, match="inv_std"):
        ops.group_norm_backward(x, x, None, mean, inv[:, :1], 2)


# ---------------------------------------------------------------- the layer, against its NumPy form


def numpy_group_norm(x, axis, groups, gamma, beta, eps):
    """The layer's former NumPy forward: (N, C, rest) rows of one group each."""
    moved = np.moveaxis(x, axis, 1)
    n, c = moved.shape[:2]
    x3 = np.ascontiguousarray(moved).reshape(n, c, -1)
    rows = x3.reshape(n * groups, -1)
    mean = rows.mean(axis=1, keepdims=True)
    dev = rows - mean
    inv = (1.0 / np.sqrt(np.mean(dev * dev, axis=1, keepdims=True) + eps)).astype(x.dtype)
    y = (dev * inv).reshape(n, c, -1) * gamma[:, None] + beta[:, None]
    return np.moveaxis(y.astype(x.dtype).reshape(moved.shape), 1, axis)


@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_layer_matches_its_former_numpy_computation(axis):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4, 6, 8)).astype(np.float32)
    groups = 2
    layer = layers.GroupNormalization(groups=groups, axis=axis)
    layer.build(x.shape)
    for w in layer.trainable_weights:
        w.assign(rng.standard_normal(w.shape).astype(np.float32))
    want = numpy_group_norm(x, axis % 4, groups, layer.gamma.value, layer.beta.value, layer.epsilon)
    np.testing.assert_allclose(layer(x), want, rtol=1e-5, atol=1e-5)
