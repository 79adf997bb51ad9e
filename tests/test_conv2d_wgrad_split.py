"""The weight gradient split over weight tiles and the fused backward of relu(conv2d(x, w) + bias):
dw, db and the masked grad_y against NumPy references on every ISA path, float32 and float64; the
same bits at 1-4 threads (layers with many weight tiles, and tiny layers that fall back to pixel
chunks); finite differences of the fused backward in float64; and the Conv2D layer's training
backward against the unfused ops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_conv2d_wgrad import (error_bound, geometry, ref_backward_weight, same_bits_at_1_to_4_threads,
                               wgrad_cases)

import nncore
from nncore import _core
from nncore import layers as L
from nncore import ops
from nncore.errors import ShapeError

# ---------------------------------------------------------------- references


def ref_relu_mask(dy, y):
    """relu'(y) * dy: 1 where y > 0, NaN where y is NaN, else 0."""
    m = np.where(y > 0, 1.0, np.where(np.isnan(y), np.nan, 0.0)).astype(dy.dtype)
    return dy * m


def fused_operands(case, dtype, seed, relu):
    rng = np.random.default_rng(seed)
    pads, out = geometry(case["x_shape"], case["w_shape"], case["strides"], case["padding"], case["dilation"])
    x = rng.standard_normal(case["x_shape"]).astype(dtype)
    dy = rng.standard_normal(case["x_shape"][:1] + out + case["w_shape"][3:]).astype(dtype)
    y = None
    if relu:  # a relu output: zeros where the pre-activation was negative
        y = np.maximum(rng.standard_normal(dy.shape), 0).astype(dtype)
    return rng, pads, x, dy, y


def check_fused(case, dtype, relu, use_bias, accumulate, seed):
    rng, pads, x, dy, y = fused_operands(case, dtype, seed, relu)
    g_want = ref_relu_mask(dy, y) if relu else dy
    args = (case["w_shape"], case["strides"], pads, case["dilation"])
    cout = case["w_shape"][3]
    w0 = (rng.standard_normal(case["w_shape"]).astype(dtype) if accumulate
          else np.zeros(case["w_shape"], dtype))
    b0 = rng.standard_normal(cout).astype(dtype) if accumulate else np.zeros(cout, dtype)
    dw_want = w0 + ref_backward_weight(x, g_want, *args)
    dw_tol = error_bound(dtype, dy.shape[0] * dy.shape[1] * dy.shape[2],
                         np.abs(w0) + ref_backward_weight(np.abs(x), np.abs(g_want), *args))
    db_want = b0 + g_want.astype(np.float64).sum(axis=(0, 1, 2))
    db_tol = 4 * np.finfo(dtype).eps * (np.abs(b0) + np.abs(g_want).astype(np.float64).sum(axis=(0, 1, 2)))
    kwargs = dict(strides=case["strides"], padding=case["padding"], dilation=case["dilation"])
    for isa in ops.available_isas():
        with ops.use_isa(isa):
            out = w0.copy() if accumulate else np.full(case["w_shape"], np.nan, dtype)
            bout = b0.copy() if accumulate else (np.full(cout, np.nan, dtype) if use_bias else None)
            dw, db, g = ops.conv2d_backward_weight_fused(
                x, dy, case["w_shape"], relu_output=y, use_bias=use_bias, out=out, bias_out=bout,
                accumulate=accumulate, **kwargs)
        assert dw is out and dw.dtype == dtype, isa
        bad = np.abs(dw - dw_want) > dw_tol
        assert not bad.any(), (isa, f"dw: {bad.sum()} of {bad.size} elements")
        if relu:
            assert g.view(np.uint8).tobytes() == g_want.view(np.uint8).tobytes(), isa
        else:
            assert g is dy
        if use_bias:
            assert db is bout
            assert not (np.abs(db - db_want) > db_tol).any(), (isa, db, db_want)
        else:
            assert db is None


@given(case=wgrad_cases(), dtype=st.sampled_from([np.float32, np.float64]), relu=st.booleans(),
       use_bias=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_fused_matches_reference_on_every_isa(case, dtype, relu, use_bias, seed):
    check_fused(case, dtype, relu, use_bias, accumulate=False, seed=seed)


@pytest.mark.parametrize("accumulate", [False, True], ids=["write", "accumulate"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", [
    ((2, 9, 8, 3), (3, 3, 3, 8), (1, 1), "same", (1, 1)),      # few weight tiles: pixel chunks
    ((2, 7, 6, 16), (3, 3, 16, 16), (1, 1), "same", (1, 1)),   # runs along grad_y rows
    ((2, 7, 9, 20), (3, 3, 20, 33), (2, 1), "valid", (1, 2)),  # runs per tap
    ((1, 3, 5, 70), (1, 1, 70, 40), (1, 1), "valid", (1, 1)),  # many tiles: one pass, no chunks
], ids=["3to8", "dy-runs", "per-tap", "1x1"])
def test_fused_named_layers(case, dtype, accumulate):
    x_shape, w_shape, strides, padding, dilation = case
    case = dict(x_shape=x_shape, w_shape=w_shape, strides=strides, padding=padding, dilation=dilation)
    check_fused(case, dtype, relu=True, use_bias=True, accumulate=accumulate, seed=7)


def test_relu_mask_keeps_nan_and_sign_rules():
    x = np.ones((1, 3, 3, 2), np.float32)
    dy = np.array([1.0, -2.0, np.inf, 3.0, 4.0, -5.0, 6.0, 7.0, 8.0] * 2, np.float32).reshape(1, 3, 3, 2)
    y = np.array([1.0, 0.0, 0.0, np.nan, -0.0, 2.0, 0.5, 0.0, 3.0] * 2, np.float32).reshape(1, 3, 3, 2)
    _, _, g = ops.conv2d_backward_weight_fused(x, dy, (1, 1, 2, 2), relu_output=y)
    want = ops.relu_backward_from_output(dy, y)
    assert g.view(np.uint32).tolist() == want.view(np.uint32).tolist()


# ---------------------------------------------------------------- thread count


def fused_same_bits(case, dtype, seed):
    _, _, x, dy, y = fused_operands(case, dtype, seed, relu=True)
    kwargs = dict(strides=case["strides"], padding=case["padding"], dilation=case["dilation"])
    before = nncore.get_num_threads()
    try:
        for isa in ops.available_isas():
            with ops.use_isa(isa):
                results = []
                for threads in (1, 2, 3, 4):
                    nncore.set_num_threads(threads)
                    dw, db, g = ops.conv2d_backward_weight_fused(x, dy, case["w_shape"], relu_output=y,
                                                                 **kwargs)
                    results.append(b"".join(a.tobytes() for a in (dw, db, g)))
            assert all(r == results[0] for r in results[1:]), isa
    finally:
        nncore.set_num_threads(before)


@pytest.mark.parametrize("x_shape,w_shape,dtype", [
    ((8, 16, 16, 64), (3, 3, 64, 64), np.float32),   # many weight tiles: threads split dw
    ((8, 16, 16, 3), (3, 3, 3, 16), np.float32),     # few: a fixed number of pixel chunks
    ((6, 12, 12, 16), (3, 3, 16, 16), np.float64),
    ((4, 8, 8, 1), (3, 3, 1, 1), np.float32),        # one weight tile
], ids=["64to64", "3to16", "16to16-f64", "1to1"])
def test_split_same_bits_at_1_to_4_threads(x_shape, w_shape, dtype):
    case = dict(x_shape=x_shape, w_shape=w_shape, strides=(1, 1), padding="same", dilation=(1, 1))
    same_bits_at_1_to_4_threads(case, dtype, accumulate=True, seed=11)
    fused_same_bits(case, dtype, seed=11)


@given(kh=st.integers(1, 3), cin=st.integers(1, 40), cout=st.integers(1, 40), n=st.integers(4, 12),
       stride=st.sampled_from([1, 2]), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**32 - 1))
def test_fused_same_bits_at_1_to_4_threads(kh, cin, cout, n, stride, dtype, seed):
    case = dict(x_shape=(n, 10, 11, cin), w_shape=(kh, kh, cin, cout), strides=(stride, stride),
                padding="same", dilation=(1, 1))
    fused_same_bits(case, dtype, seed)


# ---------------------------------------------------------------- errors


def test_bad_arguments_name_the_problem():
    x = np.ones((1, 5, 5, 2), np.float32)
    dy = np.ones((1, 3, 3, 4), np.float32)
    with pytest.raises(ShapeError, match="relu_output"):
        ops.conv2d_backward_weight_fused(x, dy, (3, 3, 2, 4), relu_output=np.ones((1, 3, 3, 3), np.float32))
    with pytest.raises(ShapeError, match="grad_y"):
        ops.conv2d_backward_weight_fused(x, dy[:, :2], (3, 3, 2, 4))
    with pytest.raises(nncore.errors.DTypeError):
        ops.conv2d_backward_weight_fused(x, dy.astype(np.float64), (3, 3, 2, 4))
    with pytest.raises(ValueError, match="accumulate"):
        ops.conv2d_backward_weight_fused(x, dy, (3, 3, 2, 4), accumulate=True)
    with pytest.raises(ShapeError, match="bias_out"):
        ops.conv2d_backward_weight_fused(x, dy, (3, 3, 2, 4), bias_out=np.zeros(3, np.float32))


def test_empty_batch_gives_zero_gradients():
    x = np.ones((0, 5, 5, 2), np.float32)
    dy = np.ones((0, 5, 5, 4), np.float32)
    dw, db, g = ops.conv2d_backward_weight_fused(x, dy, (3, 3, 2, 4), relu_output=dy, padding="same")
    assert not dw.any() and not db.any() and g.shape == dy.shape


# ---------------------------------------------------------------- the layer


@pytest.mark.parametrize("activation", ["relu", None, "tanh"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_layer_backward_matches_unfused_ops(activation, use_bias, isa):
    rng = np.random.default_rng(3)
    layer = L.Conv2D(6, 3, padding="same", strides=2, activation=activation, use_bias=use_bias,
                     bias_initializer="random_normal")
    x = rng.standard_normal((3, 9, 8, 4)).astype(np.float32)
    y = layer(x)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    layer.kernel.grad[...] = 0
    if use_bias:
        layer.bias.grad[...] = 0
    dx = layer.backward(gy).copy()
    z = ops.conv2d(x, layer.kernel.value, layer.bias.value if use_bias else None, strides=2, padding="same")
    if activation == "relu":
        g = ops.relu_backward_from_output(gy, y)
    elif activation == "tanh":
        g = gy * (1 - np.tanh(z) ** 2)
    else:
        g = gy
    args = dict(strides=2, padding="same")
    dw = ref_backward_weight(x, g, layer.kernel.shape, (2, 2), geometry(x.shape, layer.kernel.shape, (2, 2),
                                                                          "same", (1, 1))[0], (1, 1))
    np.testing.assert_allclose(layer.kernel.grad, dw, rtol=1e-4, atol=1e-4)
    if use_bias:
        np.testing.assert_allclose(layer.bias.grad, g.sum(axis=(0, 1, 2)), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, ops.conv2d_backward_input(g, layer.kernel.value, x.shape, **args),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("activation", ["relu", None])
def test_layer_gradients_match_finite_differences(activation):
    layer = L.Conv2D(5, 3, padding="same", activation=activation, bias_initializer="random_normal")
    # Inputs away from relu's kink: finite differences are meaningless across it.
    x = np.random.default_rng(4).standard_normal((2, 6, 5, 3))
    assert nncore.gradcheck(layer, x)


def test_fused_op_matches_finite_differences():
    """dw, db and g of sum(relu(conv2d(x, w) + b) * r) against central differences in float64."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 5, 6, 3))
    w = rng.standard_normal((3, 2, 3, 4))
    b = rng.standard_normal(4)
    kw = dict(strides=(1, 2), padding="same", dilation=(2, 1))
    r = rng.standard_normal(ops.conv2d(x, w, b, **kw).shape)

    def loss(w_, b_):
        return float((np.maximum(ops.conv2d(x, w_, b_, **kw), 0) * r).sum())

    y = np.maximum(ops.conv2d(x, w, b, **kw), 0)
    assert np.abs(ops.conv2d(x, w, b, **kw)).min() > 1e-4  # no pre-activation on the kink
    dw, db, _ = ops.conv2d_backward_weight_fused(x, r, w.shape, relu_output=y, **kw)
    eps = 1e-6
    num_w = np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        wp, wm = w.copy(), w.copy()
        wp[idx] += eps
        wm[idx] -= eps
        num_w[idx] = (loss(wp, b) - loss(wm, b)) / (2 * eps)
    num_b = np.zeros_like(b)
    for i in range(b.size):
        bp, bm = b.copy(), b.copy()
        bp[i] += eps
        bm[i] -= eps
        num_b[i] = (loss(w, bp) - loss(w, bm)) / (2 * eps)
    np.testing.assert_allclose(dw, num_w, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(db, num_b, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- Winograd F(2x2, 3x3)

# float32 3x3 stride-1 layers with >= 32 input and output channels take Winograd. Its
# transformed operands are sums of up to 4 inputs times sums of up to 4 gradients, and G^T M G adds
# weights summing to at most 4: errors are bounded as a direct sum of 64 times the magnitude.
WINO_CASES = [
    ((2, 7, 9, 64), (3, 3, 64, 32), "same"),
    ((2, 6, 7, 32), (3, 3, 32, 32), "same"),
    ((3, 8, 8, 64), (3, 3, 64, 40), "valid"),
    ((1, 5, 6, 70), (3, 3, 70, 33), ((2, 0), (1, 2))),
    ((2, 9, 4, 96), (3, 3, 96, 64), ((0, 1), (1, 0))),
]


@pytest.mark.parametrize("accumulate", [False, True], ids=["write", "accumulate"])
@pytest.mark.parametrize("winograd", [True, False], ids=["winograd", "direct"])
@pytest.mark.parametrize("case", WINO_CASES, ids=["same", "same-32", "valid", "odd-pads", "one-sided"])
def test_winograd_matches_reference(case, winograd, accumulate):
    x_shape, w_shape, padding = case
    rng = np.random.default_rng(13)
    x = rng.standard_normal(x_shape).astype(np.float32)
    pads, out = geometry(x_shape, w_shape, (1, 1), padding, (1, 1))
    dy = rng.standard_normal((x_shape[0],) + out + (w_shape[3],)).astype(np.float32)
    y = np.maximum(rng.standard_normal(dy.shape), 0).astype(np.float32)
    g = ref_relu_mask(dy, y)
    args = (w_shape, (1, 1), pads, (1, 1))
    w0 = rng.standard_normal(w_shape).astype(np.float32) if accumulate else np.zeros(w_shape, np.float32)
    want = w0 + ref_backward_weight(x, g, *args)
    tol = error_bound(np.float32, out[0] * out[1] * x_shape[0] + 8,
                      np.abs(w0) + 64 * ref_backward_weight(np.abs(x), np.abs(g), *args))
    before = _core.conv2d_wgrad_winograd()
    try:
        _core.set_conv2d_wgrad_winograd(winograd)
        assert _core.conv2d_wgrad_winograd() is winograd
        for isa in ops.available_isas():
            with ops.use_isa(isa):
                dw = ops.conv2d_backward_weight(x, g, w_shape, padding=padding, out=w0.copy(),
                                                accumulate=accumulate)
                fdw, db, fg = ops.conv2d_backward_weight_fused(
                    x, dy, w_shape, relu_output=y, padding=padding, out=w0.copy(),
                    bias_out=np.zeros(w_shape[3], np.float32), accumulate=accumulate)
            assert not (np.abs(dw - want) > tol).any(), isa
            assert fdw.tobytes() == dw.tobytes(), isa  # the same sums, masked on the fly
            assert fg.tobytes() == g.tobytes()
            np.testing.assert_allclose(db, g.astype(np.float64).sum(axis=(0, 1, 2)), rtol=1e-5, atol=1e-5)
    finally:
        _core.set_conv2d_wgrad_winograd(before)


@pytest.mark.parametrize("x_shape,w_shape", [((6, 12, 12, 64), (3, 3, 64, 64)),
                                             ((4, 9, 7, 128), (3, 3, 128, 48))])
def test_winograd_same_bits_at_1_to_4_threads(x_shape, w_shape):
    case = dict(x_shape=x_shape, w_shape=w_shape, strides=(1, 1), padding="same", dilation=(1, 1))
    same_bits_at_1_to_4_threads(case, np.float32, accumulate=True, seed=17)
    fused_same_bits(case, np.float32, seed=17)


@pytest.mark.parametrize("cin,cout,taken", [(64, 32, True), (32, 32, True), (31, 64, False),
                                            (64, 31, False)])
def test_user_winograd_switch_covers_the_weight_gradient(cin, cout, taken):
    """nncore.set_winograd(False) (like NNCORE_WINOGRAD=0) leaves the weight gradient on the
    direct sum too, bit for bit what turning off its own path gives. Below 32 input or output
    channels the transforms cost more than they save, and the direct sum runs either way."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 10, 10, cin)).astype(np.float32)
    dy = rng.standard_normal((4, 10, 10, cout)).astype(np.float32)
    w_shape = (3, 3, cin, cout)
    before = _core.conv2d_wgrad_winograd()
    try:
        _core.set_conv2d_wgrad_winograd(False)
        direct = ops.conv2d_backward_weight(x, dy, w_shape, padding="same")
        _core.set_conv2d_wgrad_winograd(True)
        wino = ops.conv2d_backward_weight(x, dy, w_shape, padding="same")
        nncore.set_winograd(False)
        switched_off = ops.conv2d_backward_weight(x, dy, w_shape, padding="same")
    finally:
        nncore.set_winograd(None)
        _core.set_conv2d_wgrad_winograd(before)
    assert switched_off.tobytes() == direct.tobytes()
    assert (wino.tobytes() != direct.tobytes()) is taken  # whether the layer takes Winograd
