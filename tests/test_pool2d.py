"""Max / average / global-average pooling against slow NumPy references (explicit window loops);
backward passes against the references and against central finite differences in float64."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import nncore
from nncore import ops

# ---------------------------------------------------------------- references


def same_pads(size, window, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, out


def geometry(x_shape, pool, strides, padding):
    strides = pool if strides is None else strides
    dims = []
    for size, p, s in zip(x_shape[1:3], pool, strides):
        if padding == "valid":
            dims.append((0, (size - p) // s + 1))
        else:
            dims.append(same_pads(size, p, s))
    return strides, dims


def windows(x_shape, pool, strides, padding):
    """Yields (i, j, rows, cols): output position and the input slices of its window."""
    (sh, sw), ((pt, oh), (pl, ow)) = geometry(x_shape, pool, strides, padding)
    for i in range(oh):
        r0 = i * sh - pt
        rows = slice(max(r0, 0), min(r0 + pool[0], x_shape[1]))
        for j in range(ow):
            c0 = j * sw - pl
            yield i, j, rows, slice(max(c0, 0), min(c0 + pool[1], x_shape[2]))


def out_shape(x_shape, pool, strides, padding):
    _, ((_, oh), (_, ow)) = geometry(x_shape, pool, strides, padding)
    return (x_shape[0], oh, ow, x_shape[3])


def ref_max(x, pool, strides, padding):
    n, h, w, c = x.shape
    y = np.zeros(out_shape(x.shape, pool, strides, padding), x.dtype)
    am = np.zeros(y.shape, np.int64)
    for i, j, rows, cols in windows(x.shape, pool, strides, padding):
        win = x[:, rows, cols, :].reshape(n, (rows.stop - rows.start) * (cols.stop - cols.start), c)
        k = np.argmax(win, axis=1)  # first maximum; a NaN counts as the maximum
        y[:, i, j, :] = np.take_along_axis(win, k[:, None, :], 1)[:, 0, :]
        r = rows.start + k // (cols.stop - cols.start)
        q = cols.start + k % (cols.stop - cols.start)
        am[:, i, j, :] = (r * w + q) * c + np.arange(c)
    return y, am


def ref_max_backward(dy, x, pool, strides, padding):
    _, am = ref_max(x, pool, strides, padding)
    dx = np.zeros(x.shape)
    flat = dx.reshape(x.shape[0], int(np.prod(x.shape[1:])))
    for b in range(x.shape[0]):
        np.add.at(flat[b], am[b].ravel(), dy[b].astype(np.float64).ravel())
    return dx


def ref_avg(x, pool, strides, padding):
    y = np.zeros(out_shape(x.shape, pool, strides, padding))
    for i, j, rows, cols in windows(x.shape, pool, strides, padding):
        y[:, i, j, :] = x[:, rows, cols, :].astype(np.float64).mean(axis=(1, 2))
    return y


def ref_avg_backward(dy, x_shape, pool, strides, padding):
    dx = np.zeros(x_shape)
    for i, j, rows, cols in windows(x_shape, pool, strides, padding):
        count = (rows.stop - rows.start) * (cols.stop - cols.start)
        dx[:, rows, cols, :] += dy[:, i, j, None, None, :].astype(np.float64) / count
    return dx


# ---------------------------------------------------------------- hypothesis


@st.composite
def pool_cases(draw):
    x_shape = (draw(st.integers(0, 3)), draw(st.integers(1, 12)), draw(st.integers(1, 12)),
               draw(st.one_of(st.integers(1, 5), st.sampled_from([8, 16, 17, 70]))))
    pool = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    strides = draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    padding = draw(st.sampled_from(["valid", "same"]))
    if padding == "valid":
        assume(pool[0] <= x_shape[1] and pool[1] <= x_shape[2])
    return dict(x_shape=x_shape, pool=pool, strides=strides, padding=padding)


def _kw(case):
    return dict(strides=case["strides"], padding=case["padding"])


def _args(case):
    return case["pool"], case["strides"], case["padding"]


@given(case=pool_cases(), dtype=st.sampled_from([np.float32, np.float64]), ties=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_max_pool_forward_and_backward_match_reference(case, dtype, ties, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case["x_shape"]).astype(dtype)
    if ties:  # few distinct values: the first maximum must win
        x = np.round(x).astype(dtype)
    want_y, want_am = ref_max(x, *_args(case))
    y = ops.max_pool2d(x, case["pool"], **_kw(case))
    y2, am = ops.max_pool2d_with_argmax(x, case["pool"], **_kw(case))
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(y2, want_y)
    assert am.dtype == np.int32
    np.testing.assert_array_equal(am, want_am)
    dy = rng.standard_normal(want_y.shape).astype(dtype)
    want_dx = ref_max_backward(dy, x, *_args(case))
    tol = 8 * np.finfo(dtype).eps * (1 + np.abs(want_dx))
    dx = ops.max_pool2d_backward(dy, x, case["pool"], **_kw(case))
    assert dx.dtype == dtype and dx.shape == x.shape
    np.testing.assert_array_less(np.abs(dx - want_dx), tol + 1e-30)
    dx2 = ops.max_pool2d_backward_argmax(dy, am, x.shape)
    np.testing.assert_array_less(np.abs(dx2 - want_dx), tol + 1e-30)


@given(case=pool_cases(), dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_avg_pool_forward_and_backward_match_reference(case, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case["x_shape"]).astype(dtype)
    want = ref_avg(x, *_args(case))
    tol = 16 * np.finfo(dtype).eps * (1 + np.abs(want))
    y = ops.avg_pool2d(x, case["pool"], **_kw(case))
    assert y.dtype == dtype and y.shape == want.shape
    np.testing.assert_array_less(np.abs(y - want), tol)
    dy = rng.standard_normal(want.shape).astype(dtype)
    want_dx = ref_avg_backward(dy, x.shape, *_args(case))
    dx = ops.avg_pool2d_backward(dy, x, case["pool"], **_kw(case))
    np.testing.assert_array_less(np.abs(dx - want_dx), 16 * np.finfo(dtype).eps * (1 + np.abs(want_dx)))
    dx_from_shape = ops.avg_pool2d_backward(dy, x.shape, case["pool"], **_kw(case))
    np.testing.assert_array_equal(dx_from_shape, dx)


@pytest.mark.parametrize("shape", [(32, 32, 32, 8), (32, 16, 16, 16), (3, 7, 9, 5), (2, 6, 6, 130)])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_model_shapes(shape, padding, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    want_y, want_am = ref_max(x, (2, 2), None, padding)
    y, am = ops.max_pool2d_with_argmax(x, 2, padding=padding)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(am, want_am)
    dy = rng.standard_normal(y.shape).astype(dtype)
    want = ref_max_backward(dy, x, (2, 2), None, padding)
    np.testing.assert_allclose(ops.max_pool2d_backward_argmax(dy, am, x.shape), want, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ops.max_pool2d_backward(dy, x, 2, padding=padding), want, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ops.avg_pool2d(x, 2, padding=padding), ref_avg(x, (2, 2), None, padding),
                               rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- finite differences (float64)


def numeric_grad(f, arr, eps=1e-6):
    g = np.zeros_like(arr)
    flat, gflat = arr.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + eps
        up = f()
        flat[i] = keep - eps
        down = f()
        flat[i] = keep
        gflat[i] = (up - down) / (2 * eps)
    return g


@pytest.mark.parametrize(
    "shape,pool,kwargs",
    [((2, 5, 6, 3), 2, dict(padding="same")), ((1, 7, 7, 2), 3, dict(strides=2, padding="valid")),
     ((1, 6, 5, 2), (3, 2), dict(strides=1, padding="same")), ((2, 4, 4, 1), 2, dict())],
)
def test_pool_gradients_against_finite_differences(shape, pool, kwargs):
    rng = np.random.default_rng(11)
    x = rng.permutation(np.prod(shape)).reshape(shape) / 7.0  # distinct values: no ties
    g = rng.standard_normal(ops.max_pool2d(x, pool, **kwargs).shape)

    def max_loss():
        return float(np.sum(ops.max_pool2d(x, pool, **kwargs) * g))

    def avg_loss():
        return float(np.sum(ops.avg_pool2d(x, pool, **kwargs) * g))

    num = numeric_grad(max_loss, x)
    np.testing.assert_allclose(ops.max_pool2d_backward(g, x, pool, **kwargs), num, rtol=1e-5, atol=1e-7)
    _, am = ops.max_pool2d_with_argmax(x, pool, **kwargs)
    np.testing.assert_allclose(ops.max_pool2d_backward_argmax(g, am, x.shape), num, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ops.avg_pool2d_backward(g, x, pool, **kwargs), numeric_grad(avg_loss, x),
                               rtol=1e-5, atol=1e-7)


def test_global_avg_pool_and_its_gradient(dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 5, 7, 4)).astype(dtype)
    y = ops.global_avg_pool2d(x)
    assert y.shape == (3, 4) and y.dtype == dtype
    np.testing.assert_allclose(y, x.astype(np.float64).mean(axis=(1, 2)), rtol=1e-6, atol=1e-6)
    g = rng.standard_normal((3, 4)).astype(dtype)
    dx = ops.global_avg_pool2d_backward(g, x.shape)
    np.testing.assert_allclose(dx, np.broadcast_to(g[:, None, None, :] / 35.0, x.shape), rtol=1e-6)
    if dtype == np.float64:
        num = numeric_grad(lambda: float(np.sum(ops.global_avg_pool2d(x) * g)), x)
        np.testing.assert_allclose(dx, num, rtol=1e-5, atol=1e-8)


# ---------------------------------------------------------------- special values and sizes


def test_max_pool_nan_wins_and_padding_is_ignored():
    x = -np.ones((1, 3, 3, 2))
    x[0, 1, 1, 0] = np.nan
    y, am = ops.max_pool2d_with_argmax(x, 2, strides=1, padding="valid")
    assert np.isnan(y[..., 0]).all() and (am[..., 0] == (1 * 3 + 1) * 2).all()
    assert (y[..., 1] == -1).all()
    # all-negative input with 'same' padding: the padded zeros must not win
    z = ops.max_pool2d(-np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1), 2, padding="same")
    assert (z < 0).all()


def test_avg_pool_same_divides_by_the_valid_count():
    x = np.ones((1, 3, 3, 1), np.float32)
    y = ops.avg_pool2d(x, 2, padding="same")  # 2x2 output, the last row/col windows are cut
    np.testing.assert_array_equal(y, np.ones((1, 2, 2, 1), np.float32))


def test_zero_and_one_sizes(dtype):
    x = np.zeros((0, 4, 4, 3), dtype)
    assert ops.max_pool2d(x, 2).shape == (0, 2, 2, 3)
    y, am = ops.max_pool2d_with_argmax(x, 2)
    assert am.shape == (0, 2, 2, 3)
    assert ops.max_pool2d_backward(y, x, 2).shape == x.shape
    assert ops.max_pool2d_backward_argmax(y, am, x.shape).shape == x.shape
    assert ops.avg_pool2d_backward(y, x, 2).shape == x.shape
    assert ops.global_avg_pool2d(x).shape == (0, 3)
    one = np.full((1, 1, 1, 1), 5.0, dtype)
    assert ops.max_pool2d(one, 1)[0, 0, 0, 0] == 5.0
    assert ops.avg_pool2d(one, 3, padding="same")[0, 0, 0, 0] == 5.0
    assert ops.max_pool2d_backward(np.ones_like(one), one, 1)[0, 0, 0, 0] == 1.0
    assert np.isnan(ops.global_avg_pool2d(np.zeros((2, 0, 3, 1), dtype))).all()
    empty_spatial = np.zeros((2, 0, 0, 3), dtype)
    assert ops.max_pool2d(empty_spatial, 2, padding="same").shape == (2, 0, 0, 3)


def test_non_contiguous_inputs_and_out(dtype):
    rng = np.random.default_rng(2)
    base = rng.standard_normal((2, 10, 12, 6)).astype(dtype)
    x = base[:, ::2, ::-1, 1::2]
    want, _ = ref_max(x, (2, 2), None, "same")
    np.testing.assert_array_equal(ops.max_pool2d(x, 2, padding="same"), want)
    big = np.zeros((2, 3, 6, 6), dtype)
    out = big[..., ::2]
    assert ops.max_pool2d(x, 2, padding="same", out=out) is out
    np.testing.assert_array_equal(big[..., ::2], want)
    dy = rng.standard_normal((2, 3, 6, 6)).astype(dtype)[..., ::2]
    np.testing.assert_allclose(ops.max_pool2d_backward(dy, x, 2, padding="same"),
                               ref_max_backward(dy, x, (2, 2), None, "same"), atol=1e-6)
    np.testing.assert_allclose(ops.avg_pool2d_backward(dy, x, 2, padding="same"),
                               ref_avg_backward(dy, x.shape, (2, 2), None, "same"), atol=1e-6)


def test_errors():
    x = np.ones((2, 5, 5, 3), np.float32)
    with pytest.raises(nncore.DTypeError, match="'x'"):
        ops.max_pool2d(x.astype(np.int64), 2)
    with pytest.raises(nncore.ShapeError, match=r"'x'.*4-D"):
        ops.avg_pool2d(x[0], 2)
    with pytest.raises(nncore.ShapeError, match=r"larger than the padded input.*\(2, 5, 5, 3\)"):
        ops.max_pool2d(x, 6)
    for bad in (0, -2, (2, 0)):
        with pytest.raises(nncore.ShapeError, match="pool_size"):
            ops.max_pool2d(x, bad)
        with pytest.raises(nncore.ShapeError, match="strides"):
            ops.avg_pool2d(x, 2, strides=bad)
    with pytest.raises(ValueError, match="padding"):
        ops.max_pool2d(x, 2, padding=((1, 1), (1, 1)))
    dy = np.ones((2, 3, 2, 3), np.float32)
    with pytest.raises(nncore.ShapeError, match=r"'grad_y'.*\(2, 3, 2, 3\).*\(2, 5, 5, 3\).*\(2, 2, 2, 3\)"):
        ops.max_pool2d_backward(dy, x, 2)
    with pytest.raises(nncore.ShapeError, match="'grad_y'"):
        ops.avg_pool2d_backward(dy, x.shape, 2)
    with pytest.raises(nncore.DTypeError, match="'x'"):
        ops.max_pool2d_backward(np.ones((2, 2, 2, 3), np.float64), x, 2)
    y, am = ops.max_pool2d_with_argmax(x, 2)
    with pytest.raises(nncore.DTypeError, match="'argmax'"):
        ops.max_pool2d_backward_argmax(y, am.astype(np.int64), x.shape)
    with pytest.raises(nncore.ShapeError, match="'argmax'"):
        ops.max_pool2d_backward_argmax(y, am[:, :1], x.shape)
    bad = am.copy()
    bad[0, 0, 0, 0] = 5 * 5 * 3
    with pytest.raises(nncore.ShapeError, match="outside"):
        ops.max_pool2d_backward_argmax(y, bad, x.shape)
    bad[0, 0, 0, 0] = -1
    with pytest.raises(nncore.ShapeError, match="outside"):
        ops.max_pool2d_backward_argmax(y, bad, x.shape)
    with pytest.raises(nncore.ShapeError, match="'grad_y'"):
        ops.global_avg_pool2d_backward(np.ones((2, 4), np.float32), x.shape)


def test_core_bindings_recheck_arguments():
    from nncore import _core

    x = np.ones((2, 5, 5, 3), np.float32)
    with pytest.raises(nncore.ShapeError):  # windows past the input
        _core.max_pool2d_forward(x, np.empty((2, 9, 9, 3), np.float32), None, (2, 2), (2, 2), (0, 0))
    with pytest.raises(nncore.ShapeError):  # padding as large as the window
        _core.avg_pool2d_forward(x, np.empty((2, 3, 3, 3), np.float32), (2, 2), (2, 2), (2, 0))
    with pytest.raises(nncore.ShapeError):
        _core.max_pool2d_forward(x, np.empty((2, 2, 2, 4), np.float32), None, (2, 2), (2, 2), (0, 0))
    with pytest.raises(nncore.DTypeError):
        _core.max_pool2d_forward(x, np.empty((2, 2, 2, 3), np.float32), np.empty((2, 2, 2, 3), np.int64),
                                 (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError, match="share memory"):
        _core.avg_pool2d_forward(x, x.reshape(-1)[:24].reshape(2, 2, 2, 3), (2, 2), (2, 2), (0, 0))
