"""Values of the neural-network ops of nncore.ops against NumPy references, cases ported from
Keras' ops tests (cited), argument errors, and the unchanged behavior of the kernel-era names."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import ops


# -- NumPy references -----------------------------------------------------------------------------
def _same_pads(size, window, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def np_conv2d(x, w, strides=1, padding="valid", dilation=1):
    """Direct NHWC / HWIO cross-correlation, TensorFlow's "same" rule."""
    sh, sw = np.broadcast_to(strides, 2)
    dh, dw = np.broadcast_to(dilation, 2)
    kh, kw = w.shape[:2]
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "same":
        (t, b), (l, r) = _same_pads(x.shape[1], eh, sh), _same_pads(x.shape[2], ew, sw)
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    oh = (x.shape[1] - eh) // sh + 1
    ow = (x.shape[2] - ew) // sw + 1
    y = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * sh:i * sh + eh:dh, j * sw:j * sw + ew:dw, :]
            y[:, i, j, :] = np.einsum("nabc,abco->no", patch, w)
    return y


def np_pool2d(x, pool, strides, padding, reduce):
    """NHWC pooling; padded positions take no part (max ignores them, mean does not count them)."""
    ph, pw = np.broadcast_to(pool, 2)
    sh, sw = np.broadcast_to(pool if strides is None else strides, 2)
    if padding == "same":
        (t, b), (l, r) = _same_pads(x.shape[1], ph, sh), _same_pads(x.shape[2], pw, sw)
    else:
        t = b = l = r = 0
    xp = np.pad(x.astype(np.float64), ((0, 0), (t, b), (l, r), (0, 0)), constant_values=np.nan)
    oh = (xp.shape[1] - ph) // sh + 1
    ow = (xp.shape[2] - pw) // sw + 1
    y = np.empty((x.shape[0], oh, ow, x.shape[3]))
    for i in range(oh):
        for j in range(ow):
            y[:, i, j, :] = reduce(xp[:, i * sh:i * sh + ph, j * sw:j * sw + pw, :], axis=(1, 2))
    return y


# -- activations ----------------------------------------------------------------------------------
X5 = np.array([-1, 0, 1, 2, 3], dtype=np.float32)


@pytest.mark.parametrize("name, want", [
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_relu / test_relu6 / test_sigmoid /
    # test_gelu (keras.ops.gelu defaults to the tanh approximation)
    ("relu", [0, 0, 1, 2, 3]),
    ("relu6", [0, 0, 1, 2, 3]),
    ("sigmoid", [0.26894143, 0.5, 0.7310586, 0.880797, 0.95257413]),
    ("gelu", [-0.15880796, 0.0, 0.841192, 1.9545977, 2.9963627]),
])
def test_keras_activation_values(name, want):
    np.testing.assert_allclose(getattr(ops, name)(X5), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, ref", [
    ("relu", lambda x: np.maximum(x, 0)),
    ("relu6", lambda x: np.clip(x, 0, 6)),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", np.tanh),
    ("silu", lambda x: x / (1 + np.exp(-x))),
    ("swish", lambda x: x / (1 + np.exp(-x))),
    ("elu", lambda x: np.where(x > 0, x, np.expm1(x))),
    ("selu", lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))),
    ("leaky_relu", lambda x: np.where(x >= 0, x, 0.2 * x)),
    ("softplus", lambda x: np.log1p(np.exp(x))),
    ("softsign", lambda x: x / (1 + np.abs(x))),
    ("hard_sigmoid", lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    ("gelu", lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
])
def test_activation_values_against_numpy(name, ref):
    x = np.linspace(-8, 8, 41)
    np.testing.assert_allclose(getattr(ops, name)(x), ref(x), rtol=1e-12, atol=1e-14)


def test_gelu_exact_keeps_the_normal_cdf():
    from math import erf
    x = np.linspace(-4, 4, 17)
    want = [v * 0.5 * (1 + erf(v / np.sqrt(2))) for v in x]
    np.testing.assert_allclose(ops.gelu(x, approximate=False), want, rtol=1e-12, atol=1e-15)


def test_activation_layer_gelu_stays_exact():
    # Keras' activations.gelu (and Activation("gelu")) default to the exact CDF, unlike ops.gelu.
    x = np.array([[-1.0, 0.5, 2.0]])
    act = nncore.activations.get("gelu")
    np.testing.assert_allclose(act.forward(x), ops.gelu(x, approximate=False), rtol=1e-15)
    assert nncore.activations.serialize(act) == "gelu"


def test_softmax_values():
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_softmax
    x = np.array([[1, 2, 3], [1, 2, 3]], dtype=np.float32)
    np.testing.assert_allclose(ops.softmax(x, axis=None),
                               [[0.045015, 0.122364, 0.33262]] * 2, rtol=1e-4)
    np.testing.assert_allclose(ops.softmax(x, axis=0), np.full((2, 3), 0.5), rtol=1e-6)
    np.testing.assert_allclose(ops.softmax(x), [[0.09003057, 0.24472848, 0.66524094]] * 2,
                               rtol=1e-6)


def test_log_softmax_values():
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_log_softmax
    x = np.array([[1, 2, 3], [1, 2, 3]], dtype=np.float32)
    np.testing.assert_allclose(ops.log_softmax(x, axis=None),
                               [[-3.100753, -2.100753, -1.100753]] * 2, rtol=1e-5)
    np.testing.assert_allclose(ops.log_softmax(x, axis=0), np.full((2, 3), -0.693147), rtol=1e-5)
    np.testing.assert_allclose(ops.log_softmax(x), [[-2.407606, -1.407606, -0.407606]] * 2,
                               rtol=1e-5)


@pytest.mark.parametrize("axis", [(0, 1), (0, 2), (1, 2)])
def test_softmax_with_axis_tuple(axis):
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_softmax_correctness_with_axis_tuple
    # and ::test_log_softmax_correctness_with_axis_tuple
    x = np.array([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]])
    np.testing.assert_allclose(np.sum(ops.softmax(x, axis=axis), axis=axis), 1.0)
    np.testing.assert_allclose(np.sum(np.exp(ops.log_softmax(x, axis=axis)), axis=axis), 1.0)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    np.testing.assert_allclose(ops.softmax(x, axis=axis), e / e.sum(axis=axis, keepdims=True),
                               rtol=1e-12)


def test_kernel_era_behavior_is_unchanged():
    x = np.array([[-1.0, 2.0], [3.0, -4.0]], np.float32)
    out = np.empty_like(x)
    assert ops.relu(x, out=out) is out
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    y = x.copy()
    assert ops.sigmoid(y, out=y) is y
    with pytest.raises(nncore.DTypeError):
        ops.softmax(np.array([1, 2, 3]))
    with pytest.raises(nncore.ShapeError, match="out of bounds"):
        ops.softmax(x, axis=2)
    with pytest.raises(nncore.DTypeError, match="None"):
        ops.relu(None)
    with pytest.raises(nncore.DTypeError):
        ops.tanh(np.zeros(3, np.int32))
    assert ops.leaky_relu(np.array([-1.0]), alpha=0.5)[0] == -0.5
    assert ops.leaky_relu(np.array([-1.0]))[0] == -0.2
    assert isinstance(ops.relu(x), np.ndarray)


# -- convolution ----------------------------------------------------------------------------------
@pytest.mark.parametrize("strides", [1, 2, (1, 2)])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("dilation", [1, (2, 1)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_2d(strides, padding, dilation, data_format):
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_conv_2d (its arange inputs and kernel,
    # scaled; strides x padding, here also x dilation x data_format)
    x = np.arange(600, dtype=float).reshape((2, 10, 10, 3)) / 100
    w = np.arange(24, dtype=float).reshape((2, 2, 3, 2)) / 10
    want = np_conv2d(x, w, strides, padding, dilation)
    if data_format == "channels_first":
        x, want = x.transpose(0, 3, 1, 2), want.transpose(0, 3, 1, 2)
    got = ops.conv(x, w, strides, padding=padding, data_format=data_format, dilation_rate=dilation)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_conv_pointwise_strides_2_3_same():
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_torch_channels_last_pointwise_conv_direct_path
    # (its values; the case runs on every backend here)
    x = np.arange(120, dtype=float).reshape((2, 4, 5, 3))
    w = np.arange(6, dtype=float).reshape((1, 1, 3, 2))
    np.testing.assert_allclose(ops.conv(x, w, strides=(2, 3), padding="same"),
                               np_conv2d(x, w, (2, 3), "same"), rtol=1e-12)


@pytest.mark.parametrize("strides", [1, (2, 2)])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("dilation", [1, (2, 2)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_depthwise_conv_2d(strides, padding, dilation, data_format):
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_depthwise_conv_2d
    if strides != 1 and dilation != 1:
        pytest.skip("Keras' case skips strides with dilation (TensorFlow refuses them)")
    x = np.arange(600, dtype=float).reshape((2, 10, 10, 3)) / 100
    w = np.arange(24, dtype=float).reshape((2, 2, 3, 2)) / 10
    # Depthwise: input channel c with its M filters gives output channels c*M .. c*M + M - 1.
    want = np.concatenate([np_conv2d(x[..., c:c + 1], w[:, :, c:c + 1, :], strides, padding,
                                     dilation) for c in range(3)], axis=3)
    if data_format == "channels_first":
        x, want = x.transpose(0, 3, 1, 2), want.transpose(0, 3, 1, 2)
    got = ops.depthwise_conv(x, w, strides, padding, data_format, dilation)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_conv_errors():
    x = np.ones((1, 4, 4, 2))
    with pytest.raises(nncore.ShapeError, match="2-D"):
        ops.conv(np.ones((1, 8, 2)), np.ones((3, 2, 2)))
    with pytest.raises(nncore.ShapeError, match="2-D"):
        ops.conv(np.ones((1, 4, 4, 4, 2)), np.ones((2, 2, 2, 2, 2)))
    with pytest.raises(nncore.ShapeError, match="grouped"):
        ops.conv(np.ones((1, 4, 4, 4)), np.ones((2, 2, 2, 6)))
    with pytest.raises(ValueError, match="padding"):
        ops.conv(x, np.ones((2, 2, 2, 1)), padding="causal")
    with pytest.raises(ValueError, match="data_format"):
        ops.conv(x, np.ones((2, 2, 2, 1)), data_format="NHWC")
    with pytest.raises(nncore.ShapeError, match="channels"):
        ops.conv(x, np.ones((2, 2, 3, 1)))
    with pytest.raises(nncore.DTypeError):
        ops.conv(x.astype(np.float32), np.ones((2, 2, 2, 1)))


# -- pooling ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("pool_size, strides, padding", [
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_max_pool (2-D cases) and
    # ::test_average_pool_valid_padding / ::test_average_pool_same_padding
    (2, 1, "valid"), (2, (2, 1), "same"), ((2, 3), (3, 3), "same"), (3, None, "valid"),
    (3, 2, "same"),
])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pools(pool_size, strides, padding, data_format):
    x = np.arange(540, dtype=float).reshape((2, 10, 9, 3))
    want_max = np_pool2d(x, pool_size, strides, padding, np.nanmax)
    want_avg = np_pool2d(x, pool_size, strides, padding, np.nanmean)
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2)
        want_max, want_avg = want_max.transpose(0, 3, 1, 2), want_avg.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(ops.max_pool(x, pool_size, strides, padding, data_format),
                               want_max, rtol=1e-12)
    np.testing.assert_allclose(ops.average_pool(x, pool_size, strides, padding, data_format),
                               want_avg, rtol=1e-12)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_average_pool_same_padding_asymmetric(data_format):
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_average_pool_same_padding_asymmetric
    x = np.array([[[[10.0], [20.0]]]], dtype=np.float32)
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2)
    res = ops.average_pool(x, pool_size=3, strides=2, padding="same", data_format=data_format)
    np.testing.assert_allclose(res, np.array([15.0]).reshape(res.shape))


def test_pool_errors():
    with pytest.raises(nncore.ShapeError, match="2-D"):
        ops.max_pool(np.ones((2, 20, 3)), 2)
    with pytest.raises(ValueError, match="padding"):
        ops.average_pool(np.ones((1, 4, 4, 1)), 2, padding=((1, 1), (1, 1)))


# -- normalization ----------------------------------------------------------------------------------
def test_moments():
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_moments
    x = np.array([0, 1, 2, 3, 4, 100, -200]).astype(np.float32)
    mean, variance = ops.moments(x, axes=[0])
    np.testing.assert_allclose(mean, np.mean(x), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(variance, np.var(x), atol=1e-5, rtol=1e-5)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(2, 28, 28, 3)).astype(np.float32)
    for axes in ([0], [0, 1, 2]):
        for keepdims in (False, True):
            mean, variance = ops.moments(x, axes=axes, keepdims=keepdims)
            np.testing.assert_allclose(mean, np.mean(x, axis=tuple(axes), keepdims=keepdims),
                                       atol=1e-5, rtol=1e-5)
            np.testing.assert_allclose(variance, np.var(x, axis=tuple(axes), keepdims=keepdims),
                                       atol=1e-5, rtol=1e-5)
            assert mean.dtype == np.float32 and variance.dtype == np.float32


def test_moments_large_offset_keeps_the_variance():
    # Two passes around the mean: E[x^2] - E[x]^2 would lose the variance to cancellation.
    x = 1e4 + np.array([1.0, -1.0, 2.0, -2.0], np.float32)
    np.testing.assert_allclose(ops.moments(x, 0)[1], 2.5, rtol=1e-6)


def test_batch_normalization():
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_batch_normalization
    x = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    mean = np.array([0.2, 0.3, 0.4])
    variance = np.array([4.0, 16.0, 64.0])
    out = ops.batch_normalization(x, mean, variance, axis=-1, offset=np.array([5.0, 10.0, 15.0]),
                                  scale=np.array([10.0, 20.0, 30.0]), epsilon=1e-7)
    np.testing.assert_allclose(out, [[4.5, 9.5, 14.625], [6.0, 11.0, 15.75]], rtol=1e-6)
    out = ops.batch_normalization(x, mean, variance, axis=1, epsilon=1e-7)
    np.testing.assert_allclose(out, [[-0.05, -0.025, -0.0125], [0.1, 0.05, 0.025]], rtol=1e-6)
    rng = np.random.default_rng(0)
    out = ops.batch_normalization(rng.uniform(size=[2, 3, 3, 5]), rng.uniform(size=[5]),
                                  rng.uniform(size=[5]), axis=3, offset=rng.uniform(size=[5]),
                                  scale=rng.uniform(size=[5]))
    assert out.shape == (2, 3, 3, 5)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_batch_normalization_any_axis_against_numpy(axis):
    rng = np.random.default_rng(axis + 5)
    x = rng.normal(size=(3, 4, 5))
    c = x.shape[axis]
    m, v, o, s = rng.normal(size=c), rng.uniform(0.1, 2, c), rng.normal(size=c), rng.normal(size=c)
    shape = [1, 1, 1]
    shape[axis] = c
    want = (x - m.reshape(shape)) / np.sqrt(v.reshape(shape) + 1e-3) * s.reshape(shape) \
        + o.reshape(shape)
    np.testing.assert_allclose(ops.batch_normalization(x, m, v, axis, o, s), want, rtol=1e-12)


def test_batch_normalization_errors():
    x = np.ones((2, 3))
    with pytest.raises(nncore.ShapeError, match="'mean'"):
        ops.batch_normalization(x, np.zeros(2), np.ones(3), -1)
    with pytest.raises(ValueError, match="axis"):
        ops.batch_normalization(x, np.zeros(3), np.ones(3), 2)


# -- one_hot ----------------------------------------------------------------------------------------
def test_one_hot():
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_one_hot
    i1 = np.array([0, 1, 2, 3])
    np.testing.assert_array_equal(ops.one_hot(i1, 4), np.eye(4)[i1])
    np.testing.assert_array_equal(ops.one_hot(i1, 4, axis=0), np.eye(4)[i1])
    np.testing.assert_array_equal(ops.one_hot([0, 1, 2, 3], 4), np.eye(4))
    i2 = np.array([[0, 1], [2, 3]])
    np.testing.assert_array_equal(ops.one_hot(i2, 4), np.eye(4)[i2])
    np.testing.assert_array_equal(ops.one_hot(i2, 4, axis=2), np.eye(4)[i2])
    np.testing.assert_array_equal(ops.one_hot(i2, 4, axis=1),
                                  np.transpose(np.eye(4)[i2], (0, 2, 1)))
    i3 = np.array([[0], [1], [2], [3]])
    np.testing.assert_array_equal(ops.one_hot(i3, 4, axis=0), np.eye(4)[i3].swapaxes(1, 2))
    np.testing.assert_array_equal(ops.one_hot(np.array([0, -1, -1, 3]), 4),
                                  [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]])


def test_one_hot_dtype_and_errors():
    # keras/src/ops/nn_test.py::NNOpsDynamicShapeTest::test_one_hot_dtype (floatx by default)
    assert ops.one_hot(np.array([1]), 3).dtype == np.float32
    assert ops.one_hot(np.array([1]), 3, dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(ops.one_hot(np.array([5]), 3), [[0, 0, 0]])
    with pytest.raises(ValueError, match="sparse"):
        ops.one_hot(np.array([1]), 3, sparse=True)
    with pytest.raises(ValueError, match="whole"):
        ops.one_hot(np.array([1.5]), 3)


def test_one_hot_of_a_tracked_array_records_nothing():
    x = np.array([0.0, 2.0])
    with nncore.GradientTape() as tape:
        tape.watch(x)
        y = ops.one_hot(x, 3)
    assert isinstance(y, np.ndarray)


# -- cross-entropies --------------------------------------------------------------------------------
def test_binary_crossentropy():
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_binary_crossentropy
    target = np.array([[0.1], [0.9], [0.2], [1.0]])
    output = np.array([[0.1], [0.2], [0.3], [0.4]])
    np.testing.assert_allclose(ops.binary_crossentropy(target, output, from_logits=False),
                               [[0.32508277], [1.47080801], [0.52613434], [0.91629048]], rtol=1e-6)
    np.testing.assert_allclose(ops.binary_crossentropy(target, output, from_logits=True),
                               [[0.73439666], [0.61813887], [0.79435524], [0.51301525]], rtol=1e-6)
    output = np.array([[0.99], [-0.2], [0.9], [-0.4]])
    np.testing.assert_allclose(ops.binary_crossentropy(target, output, from_logits=True),
                               [[1.206961], [0.778139], [1.061154], [0.913015]], rtol=1e-6)


def test_binary_crossentropy_large_logits_are_exact():
    # Beyond the probability clip: the logits form stays exact (TensorFlow / JAX backends).
    x = np.array([-50.0, 50.0])
    np.testing.assert_allclose(ops.binary_crossentropy(np.array([1.0, 0.0]), x, from_logits=True),
                               [50.0, 50.0], rtol=1e-12)


def test_categorical_crossentropy():
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_categorical_crossentropy
    target = np.array([[0.33008796, 0.0391289, 0.9503603], [0.80376694, 0.92363342, 0.19147756]])
    output = np.array([[0.23446431, 0.35822914, 0.06683268], [0.3413979, 0.05420256, 0.81619654]])
    f = ops.categorical_crossentropy
    np.testing.assert_allclose(f(target, output, from_logits=False, axis=-1),
                               [2.54095299, 3.96374412], rtol=1e-6)
    np.testing.assert_allclose(f(target, output, from_logits=False, axis=0),
                               [0.71683073, 1.87988172, 2.46810762], rtol=1e-6)
    np.testing.assert_allclose(f(target, output, from_logits=True, axis=-1),
                               [1.59419954, 2.49880593], rtol=1e-6)
    output = np.array([[1.23446431, -0.35822914, 1.06683268], [0.3413979, -0.05420256, 0.81619654]])
    np.testing.assert_allclose(f(target, output, from_logits=True, axis=-1),
                               [1.16825923, 2.55436813], rtol=1e-6)


def test_sparse_categorical_crossentropy():
    # keras/src/ops/nn_test.py::NNOpsCorrectnessTest::test_sparse_categorical_crossentropy
    target = np.array([0, 1, 2])
    output = np.array([[0.9, 0.05, 0.05], [0.05, 0.89, 0.06], [0.05, 0.01, 0.94]])
    f = ops.sparse_categorical_crossentropy
    np.testing.assert_allclose(f(target, output), [0.105361, 0.116534, 0.061875], rtol=1e-5)
    output = np.array([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]])
    np.testing.assert_allclose(f(target, output, from_logits=True), [0.001822, 0.000459, 0.169846],
                               rtol=1e-3)
    # A trailing axis of 1 on the labels is dropped (Keras).
    np.testing.assert_allclose(f(target[:, None], output, from_logits=True),
                               f(target, output, from_logits=True))


def test_sparse_equals_dense_with_one_hot_targets():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(4, 3, 5))
    labels = rng.integers(0, 3, (4, 5))
    for from_logits in (False, True):
        out = logits if from_logits else np.exp(logits)
        np.testing.assert_allclose(
            ops.sparse_categorical_crossentropy(labels, out, from_logits=from_logits, axis=1),
            ops.categorical_crossentropy(ops.one_hot(labels, 3, axis=1, dtype="float64"), out,
                                         from_logits=from_logits, axis=1), rtol=1e-12)


def test_crossentropy_errors():
    with pytest.raises(ValueError, match="same shape"):
        ops.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="same shape"):
        ops.binary_crossentropy(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="out of range"):
        ops.sparse_categorical_crossentropy(np.array([0, 3]), np.ones((2, 3)))
    with pytest.raises(ValueError, match="class axis"):
        ops.sparse_categorical_crossentropy(np.array([0, 1, 2]), np.ones((2, 3)))
