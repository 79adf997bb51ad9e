"""conv2d forward and backward against slow NumPy references, on every ISA path; gradients against
central finite differences in float64; padding rules, errors, zero-size and strided inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import nncore
from nncore import ops

from _conv_pads import explicit_pads

# ---------------------------------------------------------------- references (float64, explicit)


def out_size(size, pads, k, stride, dil):
    return (size + pads[0] + pads[1] - (k - 1) * dil - 1) // stride + 1


def tap_slices(a, b, oh, ow, strides, dilation):
    """Rows/cols of the padded input that kernel tap (a, b) meets, one per output pixel."""
    sh, sw = strides
    dh, dw = dilation
    return (slice(a * dh, a * dh + (oh - 1) * sh + 1, sh), slice(b * dw, b * dw + (ow - 1) * sw + 1, sw))


def ref_conv2d(x, w, bias, strides, padding, dilation, relu=False):
    (pt, pb), (pl, pr) = explicit_pads(padding, x.shape, w.shape, strides, dilation)
    xp = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    kh, kw, _, co = w.shape
    oh = out_size(x.shape[1], (pt, pb), kh, strides[0], dilation[0])
    ow = out_size(x.shape[2], (pl, pr), kw, strides[1], dilation[1])
    y = np.zeros((x.shape[0], oh, ow, co))
    for a in range(kh):
        for b in range(kw):
            rows, cols = tap_slices(a, b, oh, ow, strides, dilation)
            y += xp[:, rows, cols, :] @ w[a, b].astype(np.float64)
    if bias is not None:
        y += bias.astype(np.float64)
    return np.maximum(y, 0) if relu else y


def ref_backward_input(dy, w, x_shape, strides, padding, dilation):
    (pt, pb), (pl, pr) = explicit_pads(padding, x_shape, w.shape, strides, dilation)
    n, h, wd, c = x_shape
    dxp = np.zeros((n, h + pt + pb, wd + pl + pr, c))
    oh, ow = dy.shape[1:3]
    for a in range(w.shape[0]):
        for b in range(w.shape[1]):
            rows, cols = tap_slices(a, b, oh, ow, strides, dilation)
            dxp[:, rows, cols, :] += dy.astype(np.float64) @ w[a, b].astype(np.float64).T
    return dxp[:, pt:pt + h, pl:pl + wd, :]


def ref_backward_weight(x, dy, w_shape, strides, padding, dilation):
    (pt, pb), (pl, pr) = explicit_pads(padding, x.shape, w_shape, strides, dilation)
    xp = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    oh, ow = dy.shape[1:3]
    dw = np.zeros(w_shape)
    for a in range(w_shape[0]):
        for b in range(w_shape[1]):
            rows, cols = tap_slices(a, b, oh, ow, strides, dilation)
            dw[a, b] = np.einsum("nhwc,nhwo->co", xp[:, rows, cols, :], dy.astype(np.float64))
    return dw


def tolerance(dtype, terms, scale):
    eps = np.finfo(dtype).eps
    return 16 * eps * max(terms, 1) ** 0.5 * scale + np.finfo(dtype).tiny


# ---------------------------------------------------------------- hypothesis over geometries

pad_strategy = st.one_of(
    st.sampled_from(["valid", "same"]),
    st.tuples(st.tuples(st.integers(0, 3), st.integers(0, 3)), st.tuples(st.integers(0, 3), st.integers(0, 3))),
)
channel_strategy = st.one_of(st.integers(1, 5), st.sampled_from([8, 9, 16, 17, 24, 32, 33, 64]))


@st.composite
def conv_cases(draw):
    n = draw(st.integers(0, 3))
    h = draw(st.integers(1, 11))
    w = draw(st.integers(1, 11))
    cin = draw(channel_strategy)
    cout = draw(channel_strategy)
    kh = draw(st.integers(1, 4))
    kw = draw(st.integers(1, 4))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(pad_strategy)
    (pt, pb), (pl, pr) = explicit_pads(padding, (n, h, w, cin), (kh, kw, cin, cout), strides, dilation)
    assume((kh - 1) * dilation[0] + 1 <= h + pt + pb and (kw - 1) * dilation[1] + 1 <= w + pl + pr)
    return dict(x_shape=(n, h, w, cin), w_shape=(kh, kw, cin, cout), strides=strides,
                dilation=dilation, padding=padding)


def _data(case, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case["x_shape"]).astype(dtype)
    w = rng.standard_normal(case["w_shape"]).astype(dtype)
    b = rng.standard_normal(case["w_shape"][3]).astype(dtype)
    return rng, x, w, b


def _kwargs(case):
    return dict(strides=case["strides"], padding=case["padding"], dilation=case["dilation"])


@given(case=conv_cases(), dtype=st.sampled_from([np.float32, np.float64]), relu=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_forward_matches_reference_on_every_isa(case, dtype, relu, seed):
    rng, x, w, b = _data(case, dtype, seed)
    want = ref_conv2d(x, w, b, case["strides"], case["padding"], case["dilation"], relu)
    k = np.prod(case["w_shape"][:3])
    tol = tolerance(dtype, k, 4.0 * k ** 0.5 + 4)
    for isa in ops.available_isas():
        with ops.use_isa(isa):
            got = ops.conv2d(x, w, b, activation="relu" if relu else None, **_kwargs(case))
        assert got.dtype == dtype and got.shape == want.shape, isa
        np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=isa)


@given(case=conv_cases(), dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_backward_input_matches_reference_on_every_isa(case, dtype, seed):
    rng, x, w, _ = _data(case, dtype, seed)
    y_shape = ref_conv2d(x, w, None, case["strides"], case["padding"], case["dilation"]).shape
    dy = rng.standard_normal(y_shape).astype(dtype)
    want = ref_backward_input(dy, w, x.shape, case["strides"], case["padding"], case["dilation"])
    terms = case["w_shape"][0] * case["w_shape"][1] * case["w_shape"][3]
    tol = tolerance(dtype, terms, 4.0 * terms ** 0.5 + 4)
    for isa in ops.available_isas():
        with ops.use_isa(isa):
            got = ops.conv2d_backward_input(dy, w, x.shape, **_kwargs(case))
        assert got.dtype == dtype and got.shape == x.shape, isa
        np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=isa)


@given(case=conv_cases(), dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_backward_weight_matches_reference_on_every_isa(case, dtype, seed):
    rng, x, w, _ = _data(case, dtype, seed)
    y_shape = ref_conv2d(x, w, None, case["strides"], case["padding"], case["dilation"]).shape
    dy = rng.standard_normal(y_shape).astype(dtype)
    want = ref_backward_weight(x, dy, w.shape, case["strides"], case["padding"], case["dilation"])
    terms = y_shape[0] * y_shape[1] * y_shape[2]
    tol = tolerance(dtype, terms, 4.0 * terms ** 0.5 + 4)
    for isa in ops.available_isas():
        with ops.use_isa(isa):
            got = ops.conv2d_backward_weight(x, dy, w.shape, **_kwargs(case))
            acc = np.ones(w.shape, dtype)
            ops.conv2d_backward_weight(x, dy, w.shape, out=acc, accumulate=True, **_kwargs(case))
        assert got.dtype == dtype and got.shape == w.shape, isa
        np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=isa)
        np.testing.assert_allclose(acc, want + 1, rtol=0, atol=tol + 4 * np.finfo(dtype).eps, err_msg=isa)


# ---------------------------------------------------------------- the seed model's shapes


@pytest.mark.parametrize(
    "x_shape,w_shape",
    [((32, 32, 32, 3), (3, 3, 3, 8)), ((32, 16, 16, 8), (3, 3, 8, 16)), ((3, 32, 32, 64), (3, 3, 64, 64)),
     ((2, 9, 7, 3), (3, 3, 3, 1))],
    ids=["conv1", "conv2", "wide", "filter"],
)
def test_model_shapes_same_padding(x_shape, w_shape, dtype, isa):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[3]).astype(dtype)
    dy = rng.standard_normal(x_shape[:3] + (w_shape[3],)).astype(dtype)
    args = ((1, 1), "same", (1, 1))
    k = np.prod(w_shape[:3])
    tol = tolerance(dtype, k, 8 * k ** 0.5)
    np.testing.assert_allclose(ops.conv2d(x, w, b, padding="same", activation="relu"),
                               ref_conv2d(x, w, b, *args, relu=True), rtol=0, atol=tol)
    np.testing.assert_allclose(ops.conv2d_backward_input(dy, w, x_shape, padding="same"),
                               ref_backward_input(dy, w, x_shape, *args), rtol=0, atol=tol * 4)
    terms = np.prod(x_shape[:3])
    np.testing.assert_allclose(ops.conv2d_backward_weight(x, dy, w_shape, padding="same"),
                               ref_backward_weight(x, dy, w_shape, *args), rtol=0,
                               atol=tolerance(dtype, terms, 8 * terms ** 0.5))
    np.testing.assert_allclose(ops.conv2d_backward_bias(dy), dy.astype(np.float64).sum((0, 1, 2)),
                               rtol=0, atol=tolerance(dtype, terms, 8 * terms ** 0.5))


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
    "x_shape,w_shape,kwargs",
    [
        ((2, 5, 6, 3), (3, 3, 3, 4), dict(padding="same")),
        ((1, 7, 6, 2), (3, 2, 2, 3), dict(strides=2, padding="same")),
        ((2, 6, 7, 2), (2, 3, 2, 2), dict(strides=(2, 3), padding=((1, 2), (0, 1)), dilation=(1, 2))),
        ((1, 8, 8, 1), (3, 3, 1, 2), dict(dilation=2, padding="valid")),
        ((1, 1, 1, 5), (1, 1, 5, 3), dict()),
    ],
)
def test_gradients_against_finite_differences(x_shape, w_shape, kwargs, isa):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[3])
    y = ops.conv2d(x, w, b, **kwargs)
    g = rng.standard_normal(y.shape)

    def loss():
        return float(np.sum(ops.conv2d(x, w, b, **kwargs) * g))

    np.testing.assert_allclose(ops.conv2d_backward_input(g, w, x.shape, **kwargs), numeric_grad(loss, x),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ops.conv2d_backward_weight(x, g, w.shape, **kwargs), numeric_grad(loss, w),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ops.conv2d_backward_bias(g), numeric_grad(loss, b), rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- padding rules and small cases


@pytest.mark.parametrize("size,k,s,expected", [(5, 3, 2, (1, 1)), (6, 3, 2, (0, 1)), (4, 2, 2, (0, 0)),
                                               (7, 4, 1, (1, 2)), (1, 3, 1, (1, 1))])
def test_same_padding_puts_the_extra_element_bottom_right(size, k, s, expected):
    """A one-hot kernel at the window's top-left corner reads x at (i*s - top, j*s - left)."""
    x = np.arange(1, size * size + 1, dtype=np.float64).reshape(1, size, size, 1)
    w = np.zeros((k, k, 1, 1))
    w[0, 0, 0, 0] = 1.0
    y = ops.conv2d(x, w, strides=s, padding="same")
    top = expected[0]
    assert y.shape == (1, -(-size // s), -(-size // s), 1)
    for i in range(y.shape[1]):
        for j in range(y.shape[2]):
            r, c = i * s - top, j * s - top
            want = x[0, r, c, 0] if 0 <= r < size and 0 <= c < size else 0.0
            assert y[0, i, j, 0] == want


def test_zero_size_batch_and_empty_channels(dtype):
    x = np.zeros((0, 5, 5, 3), dtype)
    w = np.ones((3, 3, 3, 4), dtype)
    y = ops.conv2d(x, w, padding="same")
    assert y.shape == (0, 5, 5, 4)
    assert ops.conv2d_backward_input(y, w, x.shape, padding="same").shape == x.shape
    dw = ops.conv2d_backward_weight(x, y, w.shape, padding="same")
    assert dw.shape == w.shape and not dw.any()
    assert not ops.conv2d_backward_bias(y).any()
    # no input channels: the output is the bias
    x0 = np.ones((2, 4, 4, 0), dtype)
    b = np.arange(3, dtype=dtype)
    y0 = ops.conv2d(x0, np.ones((3, 3, 0, 3), dtype), b, padding="same")
    np.testing.assert_array_equal(y0, np.broadcast_to(b, (2, 4, 4, 3)))


def test_size_one_everything(dtype, isa):
    x = np.full((1, 1, 1, 1), 3.0, dtype)
    w = np.full((1, 1, 1, 1), 2.0, dtype)
    assert ops.conv2d(x, w, np.ones(1, dtype))[0, 0, 0, 0] == 7.0
    assert ops.conv2d(x, np.ones((3, 3, 1, 1), dtype), padding="same")[0, 0, 0, 0] == 3.0
    assert ops.conv2d_backward_input(np.ones((1, 1, 1, 1), dtype), w, x.shape)[0, 0, 0, 0] == 2.0
    assert ops.conv2d_backward_weight(x, np.ones((1, 1, 1, 1), dtype), w.shape)[0, 0, 0, 0] == 3.0


def test_relu_keeps_nan_and_zeroes_negatives():
    x = np.array([np.nan, -1.0, 2.0]).reshape(1, 1, 3, 1)
    y = ops.conv2d(x, np.ones((1, 1, 1, 1)), activation="relu")
    assert np.isnan(y[0, 0, 0, 0]) and y[0, 0, 1, 0] == 0.0 and y[0, 0, 2, 0] == 2.0


def test_non_contiguous_inputs_and_out(dtype):
    rng = np.random.default_rng(3)
    xb = rng.standard_normal((2, 12, 14, 6)).astype(dtype)
    x = xb[:, ::2, 1::2, ::2]  # (2, 6, 7, 3), strided every way
    w = np.asfortranarray(rng.standard_normal((3, 3, 3, 5)).astype(dtype))
    want = ref_conv2d(x, w, None, (1, 1), "same", (1, 1))
    np.testing.assert_allclose(ops.conv2d(x, w, padding="same"), want, rtol=1e-5, atol=1e-5)
    big = np.zeros((2, 6, 7, 10), dtype)
    out = big[..., ::2]
    res = ops.conv2d(x, w, padding="same", out=out)
    assert res is out
    np.testing.assert_allclose(big[..., ::2], want, rtol=1e-5, atol=1e-5)
    assert not big[..., 1::2].any()
    dy = rng.standard_normal((2, 6, 7, 5)).astype(dtype)[:, :, ::-1]
    np.testing.assert_allclose(ops.conv2d_backward_input(dy, w, x.shape, padding="same"),
                               ref_backward_input(dy, w, x.shape, (1, 1), "same", (1, 1)), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ops.conv2d_backward_weight(x, dy, w.shape, padding="same"),
                               ref_backward_weight(x, dy, w.shape, (1, 1), "same", (1, 1)), rtol=1e-4, atol=1e-4)


def test_out_arguments_are_reused(dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 5, 5, 3)).astype(dtype)
    w = rng.standard_normal((3, 3, 3, 4)).astype(dtype)
    y = np.empty((2, 5, 5, 4), dtype)
    assert ops.conv2d(x, w, padding="same", out=y) is y
    dx = np.empty_like(x)
    assert ops.conv2d_backward_input(y, w, x.shape, padding="same", out=dx) is dx
    db = np.ones(4, dtype)
    ops.conv2d_backward_bias(y, out=db, accumulate=True)
    np.testing.assert_allclose(db, 1 + y.astype(np.float64).sum((0, 1, 2)), rtol=1e-5)
    # an output that aliases an input still gives the right answer
    a = rng.standard_normal((1, 4, 4, 2)).astype(dtype)
    want = ref_conv2d(a, np.ones((1, 1, 2, 2), dtype), None, (1, 1), "valid", (1, 1))
    ops.conv2d(a, np.ones((1, 1, 2, 2), dtype), out=a)
    np.testing.assert_allclose(a, want, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- errors


def test_errors_name_the_argument_and_shapes():
    x = np.ones((2, 5, 5, 3), np.float32)
    w = np.ones((3, 3, 3, 4), np.float32)
    with pytest.raises(nncore.DTypeError, match="'x'"):
        ops.conv2d(x.astype(np.int32), w)
    with pytest.raises(nncore.DTypeError, match="'w'"):
        ops.conv2d(x, w.astype(np.float64))
    with pytest.raises(nncore.DTypeError, match="'bias'"):
        ops.conv2d(x, w, np.ones(4, np.float64))
    with pytest.raises(nncore.ShapeError, match=r"'x'.*4-D.*\(5, 5, 3\)"):
        ops.conv2d(x[0], w)
    with pytest.raises(nncore.ShapeError, match=r"'x'.*3 channels.*\(2, 5, 5, 3\).*'w'.*\(3, 3, 2, 4\)"):
        ops.conv2d(x, np.ones((3, 3, 2, 4), np.float32))
    with pytest.raises(nncore.ShapeError, match=r"larger than the padded input.*\(2, 5, 5, 3\).*\(6, 6, 3, 4\)"):
        ops.conv2d(x, np.ones((6, 6, 3, 4), np.float32))
    with pytest.raises(nncore.ShapeError, match="larger"):
        ops.conv2d(x, w, dilation=3)
    for bad in (0, -1, (1, 0)):
        with pytest.raises(nncore.ShapeError, match="strides"):
            ops.conv2d(x, w, strides=bad)
        with pytest.raises(nncore.ShapeError, match="dilation"):
            ops.conv2d(x, w, dilation=bad)
    with pytest.raises(nncore.ShapeError, match="'bias'"):
        ops.conv2d(x, w, np.ones(3, np.float32))
    with pytest.raises(nncore.ShapeError, match="'out'"):
        ops.conv2d(x, w, out=np.empty((2, 5, 5, 4), np.float32))
    with pytest.raises(ValueError, match="padding"):
        ops.conv2d(x, w, padding="full")
    with pytest.raises(nncore.ShapeError, match="negative"):
        ops.conv2d(x, w, padding=((1, -1), (0, 0)))
    with pytest.raises(ValueError, match="activation"):
        ops.conv2d(x, w, activation="tanh")
    dy = np.ones((2, 3, 3, 4), np.float32)
    with pytest.raises(nncore.ShapeError, match=r"'grad_y'.*\(2, 4, 3, 4\).*x_shape.*\(2, 5, 5, 3\)"):
        ops.conv2d_backward_input(np.ones((2, 4, 3, 4), np.float32), w, (2, 5, 5, 3))
    with pytest.raises(nncore.ShapeError, match=r"'x_shape'.*\(2, 5, 5, 2\).*'w'"):
        ops.conv2d_backward_input(dy, w, (2, 5, 5, 2))
    with pytest.raises(nncore.ShapeError, match=r"'grad_y'.*\(2, 3, 3, 4\).*'x'.*w_shape.*\(3, 3, 3, 5\)"):
        ops.conv2d_backward_weight(x, dy, (3, 3, 3, 5))
    with pytest.raises(nncore.ShapeError, match="w_shape"):
        ops.conv2d_backward_weight(x, dy, (3, 3, 3))
    with pytest.raises(nncore.DTypeError, match="'grad_y'"):
        ops.conv2d_backward_weight(x, dy.astype(np.float64), w.shape)
    with pytest.raises(ValueError, match="accumulate"):
        ops.conv2d_backward_weight(x, dy, w.shape, accumulate=True)


def test_core_bindings_recheck_arguments():
    """Direct calls with inconsistent arguments raise instead of reading or writing wild memory."""
    from nncore import _core

    x = np.ones((2, 5, 5, 3), np.float32)
    w = np.ones((3, 3, 3, 4), np.float32)
    geo = ((1, 1), (0, 0, 0, 0), (1, 1))
    with pytest.raises(nncore.ShapeError):
        _core.conv2d_forward(x, w, None, np.empty((2, 5, 5, 4), np.float32), *geo, False)
    with pytest.raises(nncore.ShapeError):
        _core.conv2d_forward(x[:, ::2], w, None, np.empty((2, 1, 3, 4), np.float32), *geo, False)
    with pytest.raises(nncore.DTypeError):
        _core.conv2d_forward(x, w, None, np.empty((2, 3, 3, 4), np.float64), *geo, False)
    with pytest.raises(nncore.ShapeError):
        _core.conv2d_forward(x, w, None, np.empty((2, 3, 3, 4), np.float32), (0, 1), (0, 0, 0, 0), (1, 1), False)
    with pytest.raises(nncore.ShapeError):
        _core.conv2d_backward_input(np.ones((2, 4, 4, 4), np.float32), w, np.empty_like(x), *geo)
    with pytest.raises(nncore.ShapeError):
        _core.conv2d_backward_weight(x, np.ones((2, 3, 3, 4), np.float32), np.empty((3, 3, 3, 5), np.float32),
                                     *geo, False)
    with pytest.raises(ValueError, match="share memory"):
        y = np.empty((2, 5, 5, 3), np.float32)
        _core.conv2d_forward(y, np.ones((1, 1, 3, 3), np.float32), None, y, *geo, False)


@pytest.mark.parametrize("cin,cout,width", [(3, 8, 32), (8, 3, 32), (16, 8, 16), (1, 1, 40), (3, 2, 19)])
def test_non_finite_inputs_stay_inside_their_receptive_field(cin, cout, width, dtype, isa):
    """An inf in x reaches only the outputs whose window covers it (vectorized kernels share
    registers between neighbouring pixels; padding lanes must not turn 0 * inf into NaN)."""
    x = np.ones((1, 5, width, cin), dtype)
    x[0, 2, 7, 0] = np.inf
    w = np.ones((3, 3, cin, cout), dtype)
    y = ops.conv2d(x, w, padding="same")
    expect = np.zeros(y.shape, bool)
    expect[0, 1:4, 6:9, :] = True
    np.testing.assert_array_equal(np.isposinf(y), expect)
    assert np.isfinite(y[~expect]).all()
    dx = ops.conv2d_backward_input(_inf_grad(y.shape, dtype), w, x.shape, padding="same")
    dx_expect = np.zeros(dx.shape, bool)
    dx_expect[0, 1:4, 6:9, :] = True
    np.testing.assert_array_equal(np.isposinf(dx), dx_expect)
    assert np.isfinite(dx[~dx_expect]).all()


def _inf_grad(shape, dtype):
    g = np.ones(shape, dtype)
    g[0, 2, 7, 0] = np.inf
    return g


@pytest.mark.parametrize("kwargs", [dict(dilation=2**62), dict(dilation=2**31),
                                    dict(strides=2**62), dict(dilation=(1, 2**40))])
def test_huge_geometry_is_refused_not_crashed(kwargs):
    # These once overflowed the kernels' index arithmetic (a segfault) or their allocations.
    with pytest.raises(nncore.ShapeError, match="below 2\\*\\*31"):
        ops.conv2d(np.ones((1, 4, 3, 2)), np.ones((2, 2, 2, 3)), padding="same", **kwargs)
