"""Depthwise conv2d op (forward, input gradient, weight gradient) against slow NumPy references on
every ISA path, bitwise equal at 1 and 2 threads, float64 gradients against finite differences, and
its argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import ops

from _conv_pads import explicit_pads as pads_of
from conftest import threads

# ---------------------------------------------------------------- references (float64, explicit)


def ref_depthwise(x, w, bias, strides, padding, dilation):
    """One pixel, channel and multiplier at a time: y[n, i, j, c*M + m]."""
    (pt, pb), (pl, pr) = pads_of(padding, x.shape, w.shape, strides, dilation)
    xp = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    kh, kw, c, m = w.shape
    oh = (xp.shape[1] - (kh - 1) * dilation[0] - 1) // strides[0] + 1
    ow = (xp.shape[2] - (kw - 1) * dilation[1] - 1) // strides[1] + 1
    y = np.zeros((x.shape[0], oh, ow, c * m))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    px = xp[:, i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1], :]
                    y[:, i, j, :] += (px[:, :, None] * w[a, b].astype(np.float64)[None]).reshape(
                        x.shape[0], c * m)
    if bias is not None:
        y += bias.astype(np.float64)
    return y


def ref_backward_input(dy, w, x_shape, strides, padding, dilation):
    """The transpose of ref_depthwise, scattered tap by tap into a padded buffer."""
    (pt, pb), (pl, pr) = pads_of(padding, x_shape, w.shape, strides, dilation)
    n, h, wd, c = x_shape
    kh, kw, _, m = w.shape
    dxp = np.zeros((n, h + pt + pb, wd + pl + pr, c))
    g = dy.astype(np.float64).reshape(dy.shape[0], dy.shape[1], dy.shape[2], c, m)
    for i in range(dy.shape[1]):
        for j in range(dy.shape[2]):
            for a in range(kh):
                for b in range(kw):
                    r, s = i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1]
                    dxp[:, r, s, :] += (g[:, i, j] * w[a, b].astype(np.float64)).sum(-1)
    return dxp[:, pt:pt + h, pl:pl + wd, :]


def ref_backward_weight(x, dy, w_shape, strides, padding, dilation):
    (pt, pb), (pl, pr) = pads_of(padding, x.shape, w_shape, strides, dilation)
    xp = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    kh, kw, c, m = w_shape
    g = dy.astype(np.float64).reshape(dy.shape[0], dy.shape[1], dy.shape[2], c, m)
    dw = np.zeros(w_shape)
    for a in range(kh):
        for b in range(kw):
            for i in range(dy.shape[1]):
                for j in range(dy.shape[2]):
                    px = xp[:, i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1], :]
                    dw[a, b] += (px[:, :, None] * g[:, i, j]).sum(0)
    return dw


# ---------------------------------------------------------------- random cases


@st.composite
def cases(draw):
    n = draw(st.integers(1, 3))
    c = draw(st.sampled_from([1, 2, 3, 5, 8, 17, 33, 70]))
    m = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["valid", "same", "explicit"]))
    if padding == "explicit":
        padding = ((draw(st.integers(0, 3)), draw(st.integers(0, 3))),
                   (draw(st.integers(0, 3)), draw(st.integers(0, 3))))
    h = draw(st.integers((kh - 1) * dh + 1, (kh - 1) * dh + 8))
    w = draw(st.integers((kw - 1) * dw + 1, (kw - 1) * dw + 8))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return dict(x_shape=(n, h, w, c), w_shape=(kh, kw, c, m), strides=(sh, sw),
                dilation=(dh, dw), padding=padding, dtype=np.dtype(dtype),
                seed=draw(st.integers(0, 2**31 - 1)), bias=draw(st.booleans()))


def arrays(case):
    rng = np.random.default_rng(case["seed"])
    dt = case["dtype"]
    x = rng.standard_normal(case["x_shape"]).astype(dt)
    w = rng.standard_normal(case["w_shape"]).astype(dt)
    b = rng.standard_normal(case["w_shape"][2] * case["w_shape"][3]).astype(dt) if case["bias"] else None
    return x, w, b


def tol(dtype, terms):
    return (2e-5 if dtype == np.float32 else 1e-12) * max(terms, 1) ** 0.5 * 4


def geom(case):
    return dict(strides=case["strides"], padding=case["padding"], dilation=case["dilation"])


@given(cases())
def test_forward_matches_reference_on_every_isa_and_thread_count(case):
    x, w, b = arrays(case)
    want = ref_depthwise(x, w, b, case["strides"], case["padding"], case["dilation"])
    for isa in ops.available_isas():
        first = None
        with ops.use_isa(isa):
            for nt in (1, 2):
                with threads(nt):
                    got = ops.depthwise_conv2d(x, w, b, **geom(case))
                assert got.dtype == x.dtype and got.shape == want.shape, isa
                np.testing.assert_allclose(got, want, rtol=0, atol=tol(x.dtype, w.shape[0] * w.shape[1]),
                                           err_msg=isa)
                # The same products in the same order whatever the thread count.
                if first is None:
                    first = got
                np.testing.assert_array_equal(got, first, err_msg=f"{isa} threads={nt}")


@given(cases())
def test_backward_input_matches_reference_on_every_isa_and_thread_count(case):
    x, w, _ = arrays(case)
    y_shape = ref_depthwise(x[:, :, :, :], w, None, case["strides"], case["padding"],
                            case["dilation"]).shape
    dy = np.random.default_rng(case["seed"] + 1).standard_normal(y_shape).astype(x.dtype)
    want = ref_backward_input(dy, w, x.shape, case["strides"], case["padding"], case["dilation"])
    for isa in ops.available_isas():
        first = None
        with ops.use_isa(isa):
            for nt in (1, 2):
                with threads(nt):
                    got = ops.depthwise_conv2d_backward_input(dy, w, x.shape, **geom(case))
                assert got.dtype == x.dtype and got.shape == x.shape, isa
                np.testing.assert_allclose(got, want, rtol=0,
                                           atol=tol(x.dtype, w.size), err_msg=isa)
                if first is None:
                    first = got
                np.testing.assert_array_equal(got, first, err_msg=f"{isa} threads={nt}")


@given(cases())
def test_backward_weight_matches_reference_on_every_isa_and_thread_count(case):
    x, w, _ = arrays(case)
    y_shape = ref_depthwise(x, w, None, case["strides"], case["padding"], case["dilation"]).shape
    dy = np.random.default_rng(case["seed"] + 1).standard_normal(y_shape).astype(x.dtype)
    want = ref_backward_weight(x, dy, w.shape, case["strides"], case["padding"], case["dilation"])
    terms = y_shape[0] * y_shape[1] * y_shape[2]
    for isa in ops.available_isas():
        first = None
        with ops.use_isa(isa):
            for nt in (1, 2):
                with threads(nt):
                    got = ops.depthwise_conv2d_backward_weight(x, dy, w.shape, **geom(case))
                    acc = np.ones(w.shape, x.dtype)
                    ops.depthwise_conv2d_backward_weight(x, dy, w.shape, out=acc, accumulate=True,
                                                         **geom(case))
                assert got.dtype == x.dtype and got.shape == w.shape, isa
                np.testing.assert_allclose(got, want, rtol=0, atol=tol(x.dtype, terms), err_msg=isa)
                np.testing.assert_allclose(acc, want + 1, rtol=0, atol=tol(x.dtype, terms) + 1e-6,
                                           err_msg=isa)
                if first is None:
                    first = got
                np.testing.assert_array_equal(got, first, err_msg=f"{isa} threads={nt}")


def test_large_rows_split_over_threads_give_the_same_bits(isa):
    # Enough work for the parallel regions to really use two threads (small cases stay on one).
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 24, 24, 96)).astype(np.float32)
    w = rng.standard_normal((3, 3, 96, 1)).astype(np.float32)
    for strides in (1, 2):
        g = dict(strides=strides, padding="same")
        with threads(1):
            y1 = ops.depthwise_conv2d(x, w, **g)
            dy = rng.standard_normal(y1.shape).astype(np.float32)
            dx1 = ops.depthwise_conv2d_backward_input(dy, w, x.shape, **g)
            dw1 = ops.depthwise_conv2d_backward_weight(x, dy, w.shape, **g)
        with threads(2):
            y2 = ops.depthwise_conv2d(x, w, **g)
            dx2 = ops.depthwise_conv2d_backward_input(dy, w, x.shape, **g)
            dw2 = ops.depthwise_conv2d_backward_weight(x, dy, w.shape, **g)
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_array_equal(dx1, dx2)
        np.testing.assert_array_equal(dw1, dw2)
        np.testing.assert_allclose(dw1, ref_backward_weight(x, dy, w.shape, (strides,) * 2, "same",
                                                            (1, 1)), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("m", [1, 2])
@pytest.mark.parametrize("g", [dict(strides=1, padding="same"), dict(strides=2, padding="valid"),
                               dict(strides=1, padding="same", dilation=2)])
def test_gradients_against_finite_differences(m, g, isa):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 7, 3))
    w = rng.standard_normal((3, 2, 3, m))
    b = rng.standard_normal(3 * m)
    dy = rng.standard_normal(ops.depthwise_conv2d(x, w, b, **g).shape)

    def loss(x_, w_, b_):
        return float((ops.depthwise_conv2d(x_, w_, b_, **g) * dy).sum())

    eps = 1e-6
    for arr, analytic in ((x, ops.depthwise_conv2d_backward_input(dy, w, x.shape, **g)),
                          (w, ops.depthwise_conv2d_backward_weight(x, dy, w.shape, **g))):
        num = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + eps
            up = loss(x, w, b)
            arr[idx] = old - eps
            down = loss(x, w, b)
            arr[idx] = old
            num[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(analytic, num, rtol=1e-6, atol=1e-7)


def test_zero_sizes():
    x = np.zeros((0, 5, 5, 3), np.float32)
    w = np.ones((3, 3, 3, 2), np.float32)
    assert ops.depthwise_conv2d(x, w).shape == (0, 3, 3, 6)
    dw = ops.depthwise_conv2d_backward_weight(x, np.zeros((0, 3, 3, 6), np.float32), w.shape)
    np.testing.assert_array_equal(dw, 0)
    dx = ops.depthwise_conv2d_backward_input(np.zeros((0, 3, 3, 6), np.float32), w, x.shape)
    assert dx.shape == x.shape


def test_errors_name_the_problem():
    x = np.zeros((1, 5, 5, 3), np.float32)
    with pytest.raises(nncore.ShapeError, match="3 channels"):
        ops.depthwise_conv2d(x, np.zeros((3, 3, 4, 1), np.float32))
    with pytest.raises(nncore.DTypeError):
        ops.depthwise_conv2d(x, np.zeros((3, 3, 3, 1), np.float64))
    with pytest.raises(nncore.ShapeError, match="bias"):
        ops.depthwise_conv2d(x, np.zeros((3, 3, 3, 2), np.float32), np.zeros(3, np.float32))
    with pytest.raises(nncore.ShapeError, match="larger than the padded input"):
        ops.depthwise_conv2d(x, np.zeros((6, 1, 3, 1), np.float32))
    with pytest.raises(nncore.ShapeError, match="4-D"):
        ops.depthwise_conv2d(x[0], np.zeros((3, 3, 3, 1), np.float32))
    with pytest.raises(nncore.ShapeError, match="depth multiplier"):
        ops.depthwise_conv2d(x, np.zeros((3, 3, 3, 0), np.float32))
    with pytest.raises(nncore.ShapeError, match="grad_y"):
        ops.depthwise_conv2d_backward_input(np.zeros((1, 2, 2, 3), np.float32),
                                            np.zeros((3, 3, 3, 1), np.float32), x.shape)
    with pytest.raises(ValueError, match="accumulate"):
        ops.depthwise_conv2d_backward_weight(x, np.zeros((1, 3, 3, 3), np.float32), (3, 3, 3, 1),
                                             accumulate=True)
    # The binding re-checks shapes for direct calls.
    from nncore import _core
    with pytest.raises(nncore.ShapeError):
        _core.depthwise_conv2d_forward(x, np.zeros((3, 3, 3, 1), np.float32), None,
                                       np.zeros((1, 4, 4, 3), np.float32), (1, 1), (0, 0, 0, 0), (1, 1))


def test_huge_strides_dilation_and_padding_are_exact_or_refused():
    """Geometry whose 64-bit index sums could wrap is refused (it gave wrong values before); just
    inside the bound the far taps fall outside the input and only the centre tap is left."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 4, 3, 2)), rng.standard_normal((3, 3, 2, 2))
    g = rng.standard_normal((1, 4, 3, 4))
    for kw in (dict(padding="same", dilation=2**63 - 1), dict(strides=2**62 + 1),
               dict(padding="same", dilation=(1, 2**62 + 1)),
               dict(padding=((2**62, 2**62), (0, 0)))):
        with pytest.raises(nncore.ShapeError, match="2\\*\\*62"):
            ops.depthwise_conv2d(x, w, **kw)
        with pytest.raises(nncore.ShapeError, match="2\\*\\*62"):
            ops.depthwise_conv2d_backward_input(g, w, x.shape, **kw)
        with pytest.raises(nncore.ShapeError, match="2\\*\\*62"):
            ops.depthwise_conv2d_backward_weight(x, g, w.shape, **kw)
    kw = dict(padding="same", dilation=2**60)
    centre = (x[..., :, None] * w[1, 1]).reshape(1, 4, 3, 4)
    np.testing.assert_allclose(ops.depthwise_conv2d(x, w, **kw), centre, rtol=1e-12)
    np.testing.assert_allclose(ops.depthwise_conv2d_backward_input(g, w, x.shape, **kw),
                               (g.reshape(1, 4, 3, 2, 2) * w[1, 1]).sum(-1), rtol=1e-12)
    dw = np.zeros_like(w)
    dw[1, 1] = (x[..., None] * g.reshape(1, 4, 3, 2, 2)).sum((0, 1, 2))
    np.testing.assert_allclose(ops.depthwise_conv2d_backward_weight(x, g, w.shape, **kw), dw,
                               rtol=1e-12, atol=1e-14)
    y = ops.depthwise_conv2d(x, w, strides=2**62, padding="same")
    np.testing.assert_allclose(y, ref_depthwise(x, w, None, (2**62, 2**62), "same", (1, 1)),
                               rtol=1e-12)


def test_strided_and_non_contiguous_inputs_are_copied():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 9, 8))[:, ::2, :, ::2]
    w = rng.standard_normal((3, 3, 4, 1))
    np.testing.assert_allclose(ops.depthwise_conv2d(x, w, padding="same"),
                               ref_depthwise(x, w, None, (1, 1), "same", (1, 1)), atol=1e-12)


# ---------------------------------------------------------------- the DepthwiseConv2D layer
from nncore import layers as L  # noqa: E402


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3, padding="same"),
    dict(kernel_size=(2, 3), strides=2, depth_multiplier=2, activation="tanh"),
    dict(kernel_size=3, dilation_rate=2, padding="same", data_format="channels_first"),
])
def test_layer_gradients_against_finite_differences(kw, isa):
    layer = L.DepthwiseConv2D(dtype="float64", bias_initializer="random_normal", **kw)
    shape = (2, 3, 6, 5) if kw.get("data_format") == "channels_first" else (2, 6, 5, 3)
    assert nncore.gradcheck(layer, np.random.default_rng(2).standard_normal(shape))


def test_layer_matches_the_op_reference():
    layer = L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=3,
                              bias_initializer="random_normal", activation="relu")
    x = np.random.default_rng(0).standard_normal((2, 9, 8, 4)).astype(np.float32)
    y = layer(x)
    w, b = layer.get_weights()
    want = np.maximum(ref_depthwise(x, w, b, (2, 2), "same", (1, 1)), 0)
    np.testing.assert_allclose(y, want, atol=1e-5)


def test_layer_config_and_parameter_counts():
    layer = L.DepthwiseConv2D((3, 3), strides=(2, 2), padding="same", depth_multiplier=2,
                              use_bias=False, depthwise_constraint="non_neg", name="dw")
    config = layer.get_config()
    for key in ("depth_multiplier", "kernel_size", "strides", "padding", "data_format",
                "dilation_rate", "activation", "use_bias", "depthwise_initializer",
                "bias_initializer", "depthwise_regularizer", "bias_regularizer",
                "activity_regularizer", "depthwise_constraint", "bias_constraint"):
        assert key in config, key
    assert L.DepthwiseConv2D.from_config(config).get_config() == config
    # Keras 3 counts (MobileNetV2 blocks): 3x3 on 112x112x32 without bias -> 288; stride 2 on
    # 112x112x96 -> 864 and a 56x56 output; depth_multiplier=2 on 7x7x960 with bias -> 19200.
    for kw, shape, params, out in [
            (dict(padding="same", use_bias=False), (None, 112, 112, 32), 288, (None, 112, 112, 32)),
            (dict(strides=2, padding="same", use_bias=False), (None, 112, 112, 96), 864,
             (None, 56, 56, 96)),
            (dict(depth_multiplier=2), (None, 7, 7, 960), 19200, (None, 5, 5, 1920))]:
        layer = L.DepthwiseConv2D(3, **kw)
        layer.build(shape)
        assert layer.count_params() == params
        assert layer.compute_output_shape(shape) == out
        assert [v.name.split("/")[-1] for v in layer.weights] == (
            ["kernel"] if not layer.use_bias else ["kernel", "bias"])
    with pytest.raises(ValueError, match="depth_multiplier"):
        L.DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match="dilation_rate"):
        L.DepthwiseConv2D(3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="activity_regularizer"):
        L.DepthwiseConv2D(3, activity_regularizer="l2")


def test_layer_save_load_and_fit(tmp_path):
    model = nncore.Sequential([
        L.Input((8, 8, 3)),
        L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="relu"),
        L.DepthwiseConv2D(3, strides=2, padding="same", depthwise_regularizer="l2"),
        L.Flatten(),
        L.Dense(2),
    ])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8, 8, 3)).astype(np.float32)
    y = np.stack([x.mean((1, 2, 3)), x[:, :4].mean((1, 2, 3))], 1)
    hist = model.fit(x, y, epochs=8, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    model.save(tmp_path / "m.keras")
    back = nncore.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
