"""2-D upsampling op (nearest, bilinear; forward and input gradient) bit for bit against the
UpSampling2D layer's former NumPy computation on every ISA path and at 1 to 4 threads, against a
slow per-pixel float64 reference, float64 gradients against finite differences, the layer's
channels_first form, and the op's argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import layers, ops

from conftest import threads

# ---------------------------------------------------------------- the layer's former NumPy code


def linear_taps(n, factor, dtype):
    src = np.maximum((np.arange(n * factor) + 0.5) / factor - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.intp), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    return i0, i1, (src - i0).astype(dtype)


def _sum_into(dx, idx, g, axis):
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    index = [slice(None)] * dx.ndim
    index[axis] = idx[starts]
    dx[tuple(index)] += np.add.reduceat(g, starts, axis=axis)


def _axis_shape(n, axis, ndim):
    shape = [1] * ndim
    shape[axis] = n
    return shape


def _interp_axis(x, taps, axis):
    i0, i1, w = taps
    w = w.reshape(_axis_shape(len(w), axis, x.ndim))
    a = np.take(x, i0, axis=axis)
    return a + (np.take(x, i1, axis=axis) - a) * w


def _interp_axis_backward(g, taps, axis, n):
    i0, i1, w = taps
    w = w.reshape(_axis_shape(len(w), axis, g.ndim))
    shape = list(g.shape)
    shape[axis] = n
    dx = np.zeros(shape, dtype=g.dtype)
    gw = g * w
    _sum_into(dx, i0, g - gw, axis)
    _sum_into(dx, i1, gw, axis)
    return dx


def numpy_forward(x, size, interpolation):
    n, h, w, c = x.shape
    sh, sw = size
    if interpolation == "nearest":
        return np.broadcast_to(x[:, :, None, :, None, :], (n, h, sh, w, sw, c)).reshape(
            n, h * sh, w * sw, c)
    y = _interp_axis(x, linear_taps(h, sh, x.dtype), 1)
    return _interp_axis(y, linear_taps(w, sw, x.dtype), 2)


def numpy_backward(g, x_shape, size, interpolation):
    n, h, w, c = x_shape
    sh, sw = size
    if interpolation == "nearest":
        return g.reshape(n, h, sh, w, sw, c).sum(axis=(2, 4))
    dx = _interp_axis_backward(g, linear_taps(w, sw, g.dtype), 2, w)
    return _interp_axis_backward(dx, linear_taps(h, sh, g.dtype), 1, h)


# ---------------------------------------------------------------- a slow per-pixel reference


def slow_forward(x, size, interpolation):
    """Every output pixel from its source coordinate, in float64."""
    x = x.astype(np.float64)
    n, h, w, c = x.shape
    sh, sw = size
    y = np.zeros((n, h * sh, w * sw, c))
    for oh in range(h * sh):
        for ow in range(w * sw):
            if interpolation == "nearest":
                y[:, oh, ow] = x[:, oh // sh, ow // sw]
                continue
            sy = max((oh + 0.5) / sh - 0.5, 0.0)
            sx = max((ow + 0.5) / sw - 0.5, 0.0)
            y0, x0 = min(int(np.floor(sy)), h - 1), min(int(np.floor(sx)), w - 1)
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            ty, tx = sy - y0, sx - x0
            y[:, oh, ow] = ((1 - ty) * ((1 - tx) * x[:, y0, x0] + tx * x[:, y0, x1])
                            + ty * ((1 - tx) * x[:, y1, x0] + tx * x[:, y1, x1]))
    return y


@st.composite
def cases(draw):
    return dict(shape=(draw(st.integers(0, 3)), draw(st.integers(1, 7)), draw(st.integers(1, 7)),
                       draw(st.sampled_from([1, 2, 3, 8, 17]))),
                size=(draw(st.integers(1, 5)), draw(st.integers(1, 5))),
                interpolation=draw(st.sampled_from(["nearest", "bilinear"])),
                dtype=np.dtype(draw(st.sampled_from([np.float32, np.float64]))),
                seed=draw(st.integers(0, 2**31 - 1)))


@given(cases())
def test_same_bits_as_the_former_numpy_code_on_every_isa_and_thread_count(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["shape"]).astype(case["dtype"])
    size, mode = case["size"], case["interpolation"]
    want_y = numpy_forward(x, size, mode)
    dy = rng.standard_normal(want_y.shape).astype(x.dtype)
    want_dx = numpy_backward(dy, x.shape, size, mode)
    np.testing.assert_allclose(want_y, slow_forward(x, size, mode), rtol=0,
                               atol=1e-6 if x.dtype == np.float32 else 1e-14)
    for isa in ops.available_isas():
        first = None
        with ops.use_isa(isa):
            for nt in (1, 2, 3, 4):
                with threads(nt):
                    y = ops.upsample2d(x, size, mode)
                    dx = ops.upsample2d_backward(dy, size, mode)
                assert y.dtype == x.dtype and dx.dtype == x.dtype and dx.shape == x.shape
                np.testing.assert_array_equal(y, want_y, err_msg=f"{isa} threads={nt}")
                if mode == "nearest" and x.shape[3] == 1:
                    # One channel makes NumPy's block sum contiguous, which it adds pairwise
                    # instead of in row-major order: the same sum, other roundings.
                    np.testing.assert_allclose(dx, want_dx, rtol=1e-6, atol=1e-6, err_msg=isa)
                else:
                    np.testing.assert_array_equal(dx, want_dx, err_msg=f"{isa} threads={nt}")
                if first is None:
                    first = (y, dx)
                np.testing.assert_array_equal(dx, first[1], err_msg=f"{isa} threads={nt}")


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", [(2, 2), (3, 1), (10, 12)])
def test_large_calls_same_bits_at_every_thread_count(isa, mode, size):
    # Enough rows for both threads; factors past 8 take the 8-accumulator sums.
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 12, 10, 32)).astype(np.float32)
    y = numpy_forward(x, size, mode)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    want = numpy_backward(dy, x.shape, size, mode)
    for nt in (1, 2, 3, 4):
        with threads(nt):
            np.testing.assert_array_equal(ops.upsample2d(x, size, mode), y, err_msg=f"threads={nt}")
            np.testing.assert_array_equal(ops.upsample2d_backward(dy, size, mode), want,
                                          err_msg=f"threads={nt}")


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_gradients_against_finite_differences(isa, mode):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 3, 4, 2))
    size = (3, 2)
    dy = rng.standard_normal(ops.upsample2d(x, size, mode).shape)
    analytic = ops.upsample2d_backward(dy, size, mode)
    num = np.zeros_like(x)
    eps = 1e-6
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = float((ops.upsample2d(x, size, mode) * dy).sum())
        x[idx] = old - eps
        down = float((ops.upsample2d(x, size, mode) * dy).sum())
        x[idx] = old
        num[idx] = (up - down) / (2 * eps)
    np.testing.assert_allclose(analytic, num, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_layer_channels_first_matches_channels_last(mode):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)  # NCHW
    first = layers.UpSampling2D(size=(2, 3), data_format="channels_first", interpolation=mode)
    last = layers.UpSampling2D(size=(2, 3), data_format="channels_last", interpolation=mode)
    y_first = first(x)
    y_last = last(np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
    np.testing.assert_array_equal(y_first, y_last.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(
        y_first, numpy_forward(x.transpose(0, 2, 3, 1), (2, 3), mode).transpose(0, 3, 1, 2))
    g = rng.standard_normal(y_first.shape).astype(np.float32)
    np.testing.assert_array_equal(
        first.backward(g), numpy_backward(np.ascontiguousarray(g.transpose(0, 2, 3, 1)), (2, 5, 4, 3),
                                          (2, 3), mode).transpose(0, 3, 1, 2))


def test_non_contiguous_input_is_copied():
    x = np.random.default_rng(1).standard_normal((2, 6, 5, 3))[:, ::2]
    np.testing.assert_array_equal(ops.upsample2d(x, (2, 2), "bilinear"),
                                  ops.upsample2d(np.ascontiguousarray(x), (2, 2), "bilinear"))


def test_errors_name_the_problem():
    x = np.zeros((1, 4, 4, 3), np.float32)
    with pytest.raises(ValueError, match="interpolation"):
        ops.upsample2d(x, (2, 2), "bicubic")
    with pytest.raises(ValueError, match="size"):
        ops.upsample2d(x, (0, 2))
    with pytest.raises(ValueError, match="size"):
        ops.upsample2d(x, 2)
    with pytest.raises(nncore.ShapeError, match="4-D"):
        ops.upsample2d(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(nncore.DTypeError):
        ops.upsample2d(x.astype(np.int32))
    with pytest.raises(nncore.ShapeError, match="not an output"):
        ops.upsample2d_backward(np.zeros((1, 5, 4, 3), np.float32), (2, 2))
    # An output extent of 2**31 or more is refused before anything is allocated.
    for size in ((2**40, 1), (1, 2**31), (2**30, 1)):
        with pytest.raises(nncore.ShapeError, match="2\\*\\*31"):
            ops.upsample2d(x, size)
