"""Keras 3's Conv2D and 2-D pooling layer tests, ported case by case (each cites its origin), with
NumPy references written here from the Keras cases' parameters (channels_first cases compare
against the channels_last reference of the transposed input, as Keras' references do)."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import constraints, layers
from test_keras_core_layers import run_layer_test


def _same_pads(size, window, stride):
    """TensorFlow 'same' padding of one axis: (before, after), the odd cell after."""
    total = max(window - stride, 0) if size % stride == 0 else max(window - size % stride, 0)
    return total // 2, total - total // 2


def _windows(x, window, strides):
    """(N, OH, OW, C, KH, KW) view of the windows of an NHWC array."""
    n, h, w, c = x.shape
    (kh, kw), (sh, sw) = window, strides
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    s = x.strides
    return np.lib.stride_tricks.as_strided(
        x, (n, oh, ow, c, kh, kw), (s[0], sh * s[1], sw * s[2], s[3], s[1], s[2]))


def np_conv2d(x, kernel, bias, strides, padding, dilation_rate, groups):
    strides = (strides,) * 2 if isinstance(strides, int) else tuple(strides)
    dil = (dilation_rate,) * 2 if isinstance(dilation_rate, int) else tuple(dilation_rate)
    kh, kw, cin, cout = kernel.shape
    if dil != (1, 1):
        dilated = np.zeros(((kh - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1, cin, cout))
        dilated[::dil[0], ::dil[1]] = kernel
        kernel = dilated
        kh, kw = kernel.shape[:2]
    if padding == "same":
        pads = [(0, 0), _same_pads(x.shape[1], kh, strides[0]), _same_pads(x.shape[2], kw, strides[1]),
                (0, 0)]
        x = np.pad(x, pads)
    per = cout // groups
    outs = []
    for g in range(groups):
        win = _windows(np.ascontiguousarray(x[..., g * cin:(g + 1) * cin]), (kh, kw), strides)
        outs.append(np.einsum("nhwcij,ijco->nhwo", win, kernel[..., g * per:(g + 1) * per])
                    + bias[g * per:(g + 1) * per])
    return np.concatenate(outs, axis=-1)


def np_pool2d(x, pool_size, strides, padding, kind):
    pool_size = (pool_size,) * 2 if isinstance(pool_size, int) else tuple(pool_size)
    strides = pool_size if strides is None else (
        (strides,) * 2 if isinstance(strides, int) else tuple(strides))
    x = np.asarray(x, np.float64)
    valid = np.ones(x.shape)
    if padding == "same":
        pads = [(0, 0), _same_pads(x.shape[1], pool_size[0], strides[0]),
                _same_pads(x.shape[2], pool_size[1], strides[1]), (0, 0)]
        x = np.pad(x, pads, constant_values=-np.inf if kind == "max" else 0.0)
        valid = np.pad(valid, pads)
    win = _windows(np.ascontiguousarray(x), pool_size, strides)
    if kind == "max":
        return win.max(axis=(4, 5))
    # Average over the cells inside the input only (TensorFlow / Keras 'same').
    return win.sum(axis=(4, 5)) / _windows(np.ascontiguousarray(valid), pool_size, strides).sum(axis=(4, 5))


def np_pool2d_format(x, pool_size, strides, padding, kind, data_format):
    if data_format == "channels_first":
        return np_pool2d(x.transpose(0, 2, 3, 1), pool_size, strides, padding, kind).transpose(0, 3, 1, 2)
    return np_pool2d(x, pool_size, strides, padding, kind)


# ---------------------------------------------------------------- keras/src/layers/convolutional/conv_test.py


# keras/src/layers/convolutional/conv_test.py::ConvBasicTest::test_conv2d_basic
@pytest.mark.parametrize("filters, kernel_size, strides, padding, dilation_rate, groups, input_shape, output_shape", [
    (5, 2, 1, "valid", 1, 1, (3, 5, 5, 4), (3, 4, 4, 5)),
    (6, 2, 1, "same", (2, 2), 2, (3, 4, 4, 4), (3, 4, 4, 6)),
    (6, (2, 2), (2, 1), "valid", (1, 1), 2, (3, 5, 5, 4), (3, 2, 4, 6)),
])
def test_conv2d_basic(filters, kernel_size, strides, padding, dilation_rate, groups, input_shape,
                      output_shape):
    run_layer_test(layers.Conv2D,
                   {"filters": filters, "kernel_size": kernel_size, "strides": strides,
                    "padding": padding, "data_format": "channels_last",
                    "dilation_rate": dilation_rate, "groups": groups},
                   input_shape=input_shape, expected_output_shape=output_shape,
                   expected_num_trainable_weights=2, expected_num_non_trainable_weights=0,
                   expected_num_losses=0)


# keras/src/layers/convolutional/conv_test.py::ConvBasicTest::test_bad_init_args (Conv2D cases;
# the filters=0 case, written for Conv1D there, is checked on Conv2D)
def test_bad_init_args():
    with pytest.raises(ValueError, match="Invalid value for argument `filters`. Expected a "
                                         "strictly positive value. Received filters=0."):
        layers.Conv2D(filters=0, kernel_size=1)
    with pytest.raises(ValueError, match=r"The `kernel_size` argument must be a tuple of \d+ "
                       r"integers. Received kernel_size=\(1, 0\), including values \{0\} "
                       r"that do not satisfy `value > 0`"):
        layers.Conv2D(filters=2, kernel_size=(1, 0))
    with pytest.raises(ValueError, match=r"The `strides` argument must be a tuple of \d+ "
                       r"integers. Received strides=\(1, 0\), including values \{0\} that "
                       r"do not satisfy `value > 0`"):
        layers.Conv2D(filters=2, kernel_size=(2, 2), strides=(1, 0))
    with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction with "
                       r"`dilation_rate > 1`. Received: strides=\(2, 2\) and "
                       r"dilation_rate=\(2, 1\)"):
        layers.Conv2D(filters=2, kernel_size=(2, 2), strides=2, dilation_rate=(2, 1))
    with pytest.raises(ValueError, match="The number of groups must be a positive integer. "
                                         "Received: groups=0."):
        layers.Conv2D(filters=5, kernel_size=(2, 2), groups=0)
    with pytest.raises(ValueError, match="The number of filters must be evenly divisible by the"
                                         " number of groups. Received: groups=2, filters=5."):
        layers.Conv2D(filters=5, kernel_size=(2, 2), groups=2)


# keras/src/layers/convolutional/conv_test.py::ConvBasicTest::test_conv_symbolic_invalid_configuration
def test_conv_symbolic_invalid_configuration():
    inputs = nncore.Input(shape=(10, 10, 3))
    layer = layers.Conv2D(filters=1, kernel_size=(2, 2), dilation_rate=(10, 10))
    with pytest.raises(ValueError):
        layer(inputs)


# keras/src/layers/convolutional/conv_test.py::ConvCorrectnessTest::test_conv2d
@pytest.mark.parametrize("filters, kernel_size, strides, padding, data_format, dilation_rate, groups", [
    (5, 2, 1, "valid", "channels_last", 1, 1),
    (4, 3, 2, "same", "channels_last", 1, 1),
    (6, 2, 1, "same", "channels_last", (2, 2), 2),
    (6, 2, 1, "same", "channels_last", (2, 3), 2),
    (6, (4, 3), (2, 1), "valid", "channels_last", (1, 1), 2),
    (6, (4, 3), (2, 1), "valid", "channels_first", (1, 1), 2),
])
def test_conv2d_correctness(filters, kernel_size, strides, padding, data_format, dilation_rate,
                            groups):
    layer = layers.Conv2D(filters=filters, kernel_size=kernel_size, strides=strides,
                          padding=padding, data_format=data_format,
                          dilation_rate=dilation_rate, groups=groups)
    inputs = np.random.normal(size=[2, 8, 8, 4])
    layer.build(input_shape=inputs.shape)
    kernel_weights = np.random.normal(size=layer.kernel.shape)
    bias_weights = np.random.normal(size=(filters,))
    layer.kernel.assign(kernel_weights)
    layer.bias.assign(bias_weights)
    outputs = layer(inputs)
    if data_format == "channels_first":
        # Keras' reference reads the (2, 8, 8, 4) batch as NCHW: channels 8, image 8x4.
        expected = np_conv2d(inputs.transpose(0, 2, 3, 1), kernel_weights, bias_weights, strides,
                             padding, dilation_rate, groups).transpose(0, 3, 1, 2)
    else:
        expected = np_conv2d(inputs, kernel_weights, bias_weights, strides, padding,
                             dilation_rate, groups)
    # Keras' assertAllClose(..., rtol=5e-4) keeps its default atol=1e-6; float32 sums of
    # up to 48 products of N(0, 1) values need a float32-sized atol.
    np.testing.assert_allclose(outputs, expected, rtol=5e-4, atol=1e-4)


# keras/src/layers/convolutional/conv_test.py::ConvCorrectnessTest::test_conv_constraints
def test_conv_constraints():
    layer = layers.Conv2D(filters=4, kernel_size=3, kernel_constraint="non_neg")
    layer.build((None, 5, 5, 3))
    assert isinstance(layer.kernel.constraint, constraints.NonNeg)
    layer = layers.Conv2D(filters=4, kernel_size=3, bias_constraint="non_neg")
    layer.build((None, 5, 5, 3))
    assert isinstance(layer.bias.constraint, constraints.NonNeg)


# keras/src/layers/convolutional/conv_test.py::ConvCorrectnessTest::test_conv_raises_exception_on_zero_dims
def test_conv_raises_exception_on_zero_dims():
    x = np.random.rand(3, 4, 4, 4)
    layer = layers.Conv2D(6, [5, 5], 1, "valid")
    with pytest.raises(ValueError):
        layer(x)


# ---------------------------------------------------------------- grouped convolution beyond Keras' cases


@pytest.mark.parametrize("padding, strides", [("valid", 1), ("same", 2)])
def test_grouped_conv_gradients(padding, strides):
    layer = layers.Conv2D(4, 3, strides=strides, padding=padding, groups=2, dtype="float64",
                          activation="tanh")
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 6))
    assert nncore.gradcheck(layer, x)


def test_grouped_conv_groups_are_independent():
    layer = layers.Conv2D(4, 1, groups=2, use_bias=False)
    layer.build((None, 3, 3, 4))
    assert layer.kernel.shape == (1, 1, 2, 4)
    x = np.random.default_rng(1).standard_normal((1, 3, 3, 4)).astype(np.float32)
    base = layer(x)
    x2 = x.copy()
    x2[..., 2:] += 1.0  # the second group's channels feed only filters 2 and 3
    moved = layer(x2)
    np.testing.assert_array_equal(moved[..., :2], base[..., :2])
    assert not np.allclose(moved[..., 2:], base[..., 2:])


def test_grouped_conv_channels_must_divide():
    with pytest.raises(nncore.ShapeError, match="groups"):
        layers.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), np.float32))


def test_grouped_conv_trains_in_a_model():
    inp = nncore.Input(shape=(6, 6, 4))
    out = layers.Flatten()(layers.Conv2D(4, 3, groups=2, activation="relu")(inp))
    model = nncore.Model(inp, layers.Dense(2)(out))
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 6, 6, 4)).astype(np.float32)
    y = rng.standard_normal((16, 2)).astype(np.float32)
    h = model.fit(x, y, epochs=5, batch_size=16, verbose=0).history["loss"]
    assert h[-1] < h[0]


# ---------------------------------------------------------------- keras/src/layers/pooling/max_pooling_test.py


# keras/src/layers/pooling/max_pooling_test.py::MaxPoolingBasicTest::test_max_pooling2d
@pytest.mark.parametrize("pool_size, strides, padding, data_format, input_shape, output_shape", [
    (2, 1, "valid", "channels_last", (3, 5, 5, 4), (3, 4, 4, 4)),
    (2, 1, "same", "channels_first", (3, 5, 5, 4), (3, 5, 5, 4)),
    ((2, 3), (2, 2), "valid", "channels_last", (3, 5, 5, 4), (3, 2, 2, 4)),
])
def test_max_pooling2d_basic(pool_size, strides, padding, data_format, input_shape, output_shape):
    run_layer_test(layers.MaxPooling2D,
                   {"pool_size": pool_size, "strides": strides, "padding": padding,
                    "data_format": data_format},
                   input_shape=input_shape, expected_output_shape=output_shape,
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   expected_num_losses=0)


# keras/src/layers/pooling/max_pooling_test.py::MaxPoolingCorrectnessTest::test_max_pooling2d
@pytest.mark.parametrize("pool_size, strides, padding, data_format", [
    (2, 1, "valid", "channels_last"),
    (2, 1, "valid", "channels_first"),
    ((2, 2), (2, 2), "same", "channels_last"),
    ((2, 2), (2, 2), "same", "channels_first"),
    ((2, 3), (3, 3), "same", "channels_last"),
])
def test_max_pooling2d_correctness(pool_size, strides, padding, data_format):
    inputs = np.arange(100, dtype="float32").reshape((1, 5, 5, 4))
    layer = layers.MaxPooling2D(pool_size=pool_size, strides=strides, padding=padding,
                                data_format=data_format)
    np.testing.assert_allclose(layer(inputs),
                               np_pool2d_format(inputs, pool_size, strides, padding, "max", data_format),
                               rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- keras/src/layers/pooling/average_pooling_test.py


# keras/src/layers/pooling/average_pooling_test.py::AveragePoolingBasicTest::test_average_pooling2d
@pytest.mark.parametrize("pool_size, strides, padding, data_format, input_shape, output_shape", [
    (2, 1, "valid", "channels_last", (3, 5, 5, 4), (3, 4, 4, 4)),
    (2, 1, "same", "channels_last", (3, 5, 5, 4), (3, 5, 5, 4)),
    (2, 1, "valid", "channels_first", (3, 5, 5, 4), (3, 5, 4, 3)),
    (2, 1, "same", "channels_first", (3, 5, 5, 4), (3, 5, 5, 4)),
    ((2, 3), (2, 2), "valid", "channels_last", (3, 5, 5, 4), (3, 2, 2, 4)),
    ((2, 3), (2, 2), "same", "channels_last", (3, 5, 5, 4), (3, 3, 3, 4)),
    ((2, 3), (3, 3), "same", "channels_first", (3, 5, 5, 4), (3, 5, 2, 2)),
])
def test_average_pooling2d_basic(pool_size, strides, padding, data_format, input_shape,
                                 output_shape):
    run_layer_test(layers.AveragePooling2D,
                   {"pool_size": pool_size, "strides": strides, "padding": padding,
                    "data_format": data_format},
                   input_shape=input_shape, expected_output_shape=output_shape,
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   expected_num_losses=0)


# keras/src/layers/pooling/average_pooling_test.py::AveragePoolingCorrectnessTest::test_average_pooling2d
# keras/src/layers/pooling/average_pooling_test.py::AveragePoolingCorrectnessTest::test_average_pooling2d_same_padding
@pytest.mark.parametrize("pool_size, strides, padding, data_format", [
    (2, 1, "valid", "channels_last"),
    ((2, 3), (2, 2), "valid", "channels_last"),
    (2, (2, 1), "same", "channels_last"),
    (2, (2, 1), "same", "channels_first"),
    ((2, 2), (2, 2), "same", "channels_last"),
    ((2, 2), (2, 2), "same", "channels_first"),
])
def test_average_pooling2d_correctness(pool_size, strides, padding, data_format):
    inputs = np.arange(16, dtype="float32").reshape((1, 4, 4, 1))
    layer = layers.AveragePooling2D(pool_size=pool_size, strides=strides, padding=padding,
                                    data_format=data_format)
    np.testing.assert_allclose(layer(inputs),
                               np_pool2d_format(inputs, pool_size, strides, padding, "avg", data_format),
                               rtol=1e-6, atol=1e-6)


def test_average_pooling2d_same_excludes_padding():
    # 3x3 input, 2x2 windows with stride 2 and 'same': the last row/column windows hold 2 and 1
    # real cells, which are averaged on their own.
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    y = layers.AveragePooling2D(2, padding="same")(x)[0, :, :, 0]
    np.testing.assert_allclose(y, [[(0 + 1 + 3 + 4) / 4, (2 + 5) / 2], [(6 + 7) / 2, 8]])


# ---------------------------------------------------------------- keras/src/layers/pooling/global_average_pooling_test.py


# keras/src/layers/pooling/global_average_pooling_test.py::GlobalAveragePoolingBasicTest::test_global_average_pooling2d
@pytest.mark.parametrize("data_format, keepdims, input_shape, output_shape", [
    ("channels_last", False, (3, 5, 6, 4), (3, 4)),
    ("channels_last", True, (3, 5, 6, 4), (3, 1, 1, 4)),
    ("channels_first", False, (3, 5, 6, 4), (3, 5)),
])
def test_global_average_pooling2d_basic(data_format, keepdims, input_shape, output_shape):
    run_layer_test(layers.GlobalAveragePooling2D,
                   {"data_format": data_format, "keepdims": keepdims},
                   input_shape=input_shape, expected_output_shape=output_shape,
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   expected_num_losses=0)


# keras/src/layers/pooling/global_average_pooling_test.py::GlobalAveragePoolingCorrectnessTest::test_global_average_pooling2d
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_average_pooling2d_correctness(data_format, keepdims):
    inputs = np.arange(96, dtype="float32").reshape((2, 3, 4, 4))
    layer = layers.GlobalAveragePooling2D(data_format=data_format, keepdims=keepdims)
    steps_axis = [1, 2] if data_format == "channels_last" else [2, 3]
    expected = np.apply_over_axes(np.mean, inputs, steps_axis)
    if not keepdims:
        expected = expected.squeeze()
    np.testing.assert_allclose(layer(inputs), expected, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- channels_first beyond Keras' cases


@pytest.mark.parametrize("make", [
    lambda df: layers.Conv2D(3, 3, padding="same", data_format=df, activation="relu"),
    lambda df: layers.Conv2D(4, 2, strides=2, groups=2, data_format=df),
    lambda df: layers.MaxPooling2D(2, padding="same", data_format=df),
    lambda df: layers.AveragePooling2D(3, strides=2, data_format=df),
    lambda df: layers.GlobalAveragePooling2D(data_format=df, keepdims=True),
])
def test_channels_first_is_channels_last_transposed(make):
    x = np.random.default_rng(0).standard_normal((2, 7, 6, 4)).astype(np.float32)  # NHWC
    last, first = make("channels_last"), make("channels_first")
    last.build((None, 7, 6, 4))
    first.build((None, 4, 7, 6))
    if last.weights:
        first.set_weights(last.get_weights())
    y_last = last(x, training=True)
    y_first = first(x.transpose(0, 3, 1, 2).copy(), training=True)
    np.testing.assert_allclose(y_first, y_last.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-6)
    assert first.compute_output_shape((None, 4, 7, 6)) == shape_nchw(last.compute_output_shape((None, 7, 6, 4)))
    g = np.random.default_rng(1).standard_normal(y_last.shape).astype(np.float32)
    dx_last = last.backward(g)
    dx_first = first.backward(g.transpose(0, 3, 1, 2).copy())
    np.testing.assert_allclose(dx_first, dx_last.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5)
    for a, b in zip(last.weights, first.weights):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-5, atol=1e-5)
    assert first.get_config()["data_format"] == "channels_first"


def shape_nchw(shape):
    return (shape[0], shape[3], shape[1], shape[2])


def test_channels_first_conv_gradients_and_training():
    layer = layers.Conv2D(3, 3, data_format="channels_first", dtype="float64", activation="tanh")
    assert nncore.gradcheck(layer, np.random.default_rng(2).standard_normal((2, 2, 5, 5)))
    inp = nncore.Input(shape=(3, 8, 8))
    h = layers.MaxPooling2D(data_format="channels_first")(
        layers.Conv2D(4, 3, padding="same", data_format="channels_first", activation="relu")(inp))
    out = layers.Dense(2)(layers.Flatten(data_format="channels_first")(h))
    model = nncore.Model(inp, out)
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 3, 8, 8)).astype(np.float32)
    y = rng.standard_normal((16, 2)).astype(np.float32)
    h = model.fit(x, y, epochs=5, batch_size=16, verbose=0).history["loss"]
    assert h[-1] < h[0]


def test_bad_data_format_raises():
    for cls in (layers.Conv2D, layers.MaxPooling2D, layers.GlobalAveragePooling2D, layers.Flatten):
        args = (2, 3) if cls is layers.Conv2D else ()
        with pytest.raises(ValueError, match="data_format"):
            cls(*args, data_format="NCHW")
