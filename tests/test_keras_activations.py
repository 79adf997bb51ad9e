"""Cases ported from keras/src/activations/activations_test.py (same inputs, references and
tolerances; the random inputs are seeded here), for the activations nncore has."""

import math

import numpy as np
import pytest

from nncore import activations, layers


@pytest.fixture
def rs():
    return np.random.RandomState(1337)


def _ref_softmax(values):
    e = np.exp(values - np.max(values))
    return e / np.sum(e)


def _ref_log_softmax(values):
    stabilized = values - np.max(values)
    return stabilized - np.log(np.sum(np.exp(stabilized)))


def _ref_softplus(x):
    return np.log(np.ones_like(x) + np.exp(x))


def _ref_leaky_relu(x, alpha=0.2):
    return x if x > 0 else alpha * x


def _ref_relu6(x):
    return min(max(0, x), 6)


def _ref_silu(x):
    return x / (1 + np.exp(-x))


def _ref_hard_sigmoid(x):
    x = (x / 6.0) + 0.5
    return 0.0 if x <= 0 else (1.0 if x >= 1 else x)


def _ref_sigmoid(x):
    if x >= 0:
        return 1 / (1 + np.exp(-x))
    z = np.exp(x)
    return z / (1 + z)


def _ref_softsign(x):
    return np.divide(x, np.ones_like(x) + np.absolute(x))


def close(a, b, rtol=1e-6, atol=1e-6):
    # Keras' assertAllClose defaults are rtol=1e-6, atol=1e-6.
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


# ---------------------------------------------------------------- softmax / log_softmax
def test_softmax(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_softmax
    x = rs.random_sample((2, 5))
    close(activations.softmax(x[np.newaxis, :])[0][0], _ref_softmax(x[0]), rtol=1e-5)


def test_softmax_2d_axis_0(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_softmax_2d_axis_0
    x = rs.random_sample((2, 5))
    result = activations.softmax(x[np.newaxis, :], axis=1)[0]
    expected = np.zeros((2, 5))
    for i in range(5):
        expected[:, i] = _ref_softmax(x[:, i])
    close(result, expected, rtol=1e-5)


def test_softmax_3d_axis_tuple(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_softmax_3d_axis_tuple
    x = rs.random_sample((2, 3, 5))
    result = activations.softmax(x, axis=(1, 2))
    expected = np.zeros((2, 3, 5))
    for i in range(2):
        expected[i] = _ref_softmax(x[i])
    close(result, expected, rtol=1e-5)


def test_softmax_1d(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_softmax_1d
    x = rs.random_sample(5)
    close(activations.softmax(x), _ref_softmax(x), rtol=1e-5)


def test_softmax_higher_dim(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_softmax_higher_dim
    x = rs.random_sample((2, 3, 4, 5))
    result = activations.softmax(x, axis=(2, 3))
    expected = np.zeros((2, 3, 4, 5))
    for i in range(2):
        for j in range(3):
            expected[i, j] = _ref_softmax(x[i, j])
    close(result, expected, rtol=1e-5)


def test_softmax_higher_dim_multiple_axes(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_softmax_higher_dim_multiple_axes
    x = rs.random_sample((2, 3, 4, 5, 6))
    result = activations.softmax(x, axis=(2, 3, 4))
    expected = np.zeros((2, 3, 4, 5, 6))
    for i in range(2):
        for j in range(3):
            expected[i, j] = _ref_softmax(x[i, j])
    close(result, expected, rtol=1e-5)


def test_softmax_negative_axis(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_softmax_negative_axis
    x = rs.random_sample((2, 5))
    result = activations.softmax(x, axis=-1)
    close(result, np.stack([_ref_softmax(x[i]) for i in range(2)]), rtol=1e-5)


def test_temporal_softmax(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_temporal_softmax
    x = rs.random_sample((2, 2, 3)) * 10
    result = activations.softmax(x[np.newaxis, :])[0]
    close(result[0, 0], _ref_softmax(x[0, 0]), rtol=1e-5)


def test_log_softmax_2d_axis_0(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_log_softmax_2d_axis_0
    x = rs.random_sample((2, 5))
    result = activations.log_softmax(x[np.newaxis, :], axis=1)[0]
    expected = np.zeros((2, 5))
    for i in range(5):
        expected[:, i] = _ref_log_softmax(x[:, i])
    close(result, expected, rtol=1e-5)


def test_log_softmax_3d_axis_tuple(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_log_softmax_3d_axis_tuple
    x = rs.random_sample((2, 3, 5))
    result = activations.log_softmax(x, axis=(1, 2))
    expected = np.stack([_ref_log_softmax(x[i]) for i in range(2)])
    close(result, expected, rtol=1e-5)


def test_log_softmax_1d(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_log_softmax_1d
    x = rs.random_sample(5)
    close(activations.log_softmax(x), _ref_log_softmax(x), rtol=1e-5)


def test_log_softmax_higher_dim(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_log_softmax_higher_dim
    x = rs.random_sample((2, 3, 4, 5))
    result = activations.log_softmax(x, axis=(2, 3))
    expected = np.zeros((2, 3, 4, 5))
    for i in range(2):
        for j in range(3):
            expected[i, j] = _ref_log_softmax(x[i, j])
    close(result, expected, rtol=1e-5)


def test_log_softmax_higher_dim_multiple_axes(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_log_softmax_higher_dim_multiple_axes
    x = rs.random_sample((2, 3, 4, 5, 6))
    result = activations.log_softmax(x, axis=(2, 3, 4))
    expected = np.zeros((2, 3, 4, 5, 6))
    for i in range(2):
        for j in range(3):
            expected[i, j] = _ref_log_softmax(x[i, j])
    close(result, expected, rtol=1e-5)


def test_log_softmax_negative_axis(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_log_softmax_negative_axis
    x = rs.random_sample((2, 5))
    result = activations.log_softmax(x, axis=-1)
    close(result, np.stack([_ref_log_softmax(x[i]) for i in range(2)]), rtol=1e-5)


def test_temporal_log_softmax(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_temporal_log_softmax
    x = rs.random_sample((2, 2, 3)) * 10
    result = activations.log_softmax(x[np.newaxis, :])[0]
    close(result[0, 0], _ref_log_softmax(x[0, 0]), rtol=1e-5)


# ---------------------------------------------------------------- elementwise functions
def test_selu():
    # keras/src/activations/activations_test.py::ActivationsTest::test_selu
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946
    positive = np.array([[1, 2]], dtype="float32")
    close(activations.selu(positive[np.newaxis, :])[0], positive * scale, rtol=1e-5)
    negative = np.array([[-1, -2]], dtype="float32")
    close(activations.selu(negative[np.newaxis, :])[0], (np.exp(negative) - 1) * scale * alpha)


# The Keras tests of softplus, softsign, sigmoid, tanh and exponential draw these inputs.
_RANGES = [((2, 5), 0, 1, True), (5, -10, 10, False), ((3, 3, 3), -10, 10, False),
           ((2, 5), -1e-7, 1e-7, False), ((2, 5), 10, 100, False), ((2, 5), -100, -10, False)]


@pytest.mark.parametrize("name,ref", [
    ("softplus", _ref_softplus),        # ...::test_softplus
    ("softsign", _ref_softsign),        # ...::test_softsign
    ("sigmoid", _ref_sigmoid),          # ...::test_sigmoid
])
def test_elementwise_over_keras_ranges(name, ref, rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_<name>
    fn = getattr(activations, name)
    for shape, lo, hi, batch in _RANGES:
        x = rs.uniform(lo, hi, shape)
        result = fn(x[np.newaxis, :])[0] if batch else fn(x)
        close(result, np.vectorize(ref)(x), rtol=1e-5)


def test_hard_sigmoid(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_hard_sigmoid
    x = rs.uniform(0, 1, (2, 5))
    close(activations.hard_sigmoid(x[np.newaxis, :])[0], np.vectorize(_ref_hard_sigmoid)(x), rtol=1e-5)
    for shape in (5, (3, 3, 3)):
        x = rs.uniform(-10, 10, shape)
        close(activations.hard_sigmoid(x), np.vectorize(_ref_hard_sigmoid)(x), rtol=1e-5)
    x = rs.uniform(5, 10, (2, 5))
    close(activations.hard_sigmoid(x), np.ones((2, 5)), rtol=1e-5)


def test_relu_negative_slope():
    # keras/src/activations/activations_test.py::ActivationsTest::test_relu_negative_slope
    x = np.array([-10, -5, 0.0, 5, 10])
    close(activations.relu(x, negative_slope=0.5), [-5.0, -2.5, 0.0, 5.0, 10.0], rtol=1e-5)


def test_relu_max_value():
    # keras/src/activations/activations_test.py::ActivationsTest::test_relu_max_value
    x = np.array([-10, -5, 0.0, 5, 10])
    close(activations.relu(x, max_value=5.0), [0.0, 0.0, 0.0, 5.0, 5.0], rtol=1e-5)


def test_relu_threshold():
    # keras/src/activations/activations_test.py::ActivationsTest::test_relu_threshold
    x = np.array([-10, -5, 0.0, 5, 10])
    close(activations.relu(x, threshold=5.0), [-0.0, -0.0, 0.0, 0.0, 10.0], rtol=1e-5)


def test_relu_combined_threshold_and_max_value():
    # keras/src/activations/activations_test.py::ActivationsTest::test_relu_combined_threshold_and_max_value
    x = np.array([-10, -5, 0.0, 5, 10])
    close(activations.relu(x, threshold=5.0, max_value=5.0), [0.0, 0.0, 0.0, 0.0, 5.0], rtol=1e-5)


def test_relu_combined_all_parameters():
    # keras/src/activations/activations_test.py::ActivationsTest::test_relu_combined_all_parameters
    x = np.array([-10, -5, 0.0, 5, 10])
    close(activations.relu(x, negative_slope=0.5, max_value=5.0, threshold=5.0),
          [-7.5, -5.0, -2.5, 0.0, 5.0], rtol=1e-5)


def test_relu_to_trigger_relu6():
    # keras/src/activations/activations_test.py::ActivationsTest::test_relu_to_trigger_relu6
    x = np.array([-10, -5, 0.0, 5, 10, 12])
    close(activations.relu(x, max_value=6.0), [0.0, 0.0, 0.0, 5.0, 6.0, 6.0], rtol=1e-5)


def test_relu_to_trigger_leaky():
    # keras/src/activations/activations_test.py::ActivationsTest::test_relu_to_trigger_leaky
    x = np.array([-10, -5, 0.0, 5, 10])
    close(activations.relu(x, negative_slope=0.5), [-5.0, -2.5, 0.0, 5.0, 10.0], rtol=1e-5)


def test_relu(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_relu
    positive = rs.uniform(0.1, 10, (2, 5))
    close(activations.relu(positive[np.newaxis, :])[0], positive, rtol=1e-5)
    negative = rs.uniform(-10, -0.1, (2, 5))
    close(activations.relu(negative[np.newaxis, :])[0], np.zeros((2, 5)), rtol=1e-5)
    for shape, lo, hi in ((5, -10, 10), ((3, 3, 3), -10, 10), ((2, 5), -1e-7, 1e-7)):
        x = rs.uniform(lo, hi, shape)
        close(activations.relu(x), np.maximum(0, x), rtol=1e-5)
    x = rs.uniform(1e4, 1e5, (2, 5))
    close(activations.relu(x), x, rtol=1e-5)
    x = rs.uniform(-1e5, -1e4, (2, 5))
    close(activations.relu(x), np.zeros((2, 5)), rtol=1e-5)


def test_leaky_relu(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_leaky_relu
    ref = np.vectorize(_ref_leaky_relu)
    for slope in (0.01, 0.3):
        positive = rs.random_sample((2, 5))
        close(activations.leaky_relu(positive[np.newaxis, :], negative_slope=slope)[0],
              ref(positive, alpha=slope), rtol=1e-5)
        negative = rs.uniform(-1, 0, (2, 5))
        close(activations.leaky_relu(negative[np.newaxis, :], negative_slope=slope)[0],
              ref(negative, alpha=slope), rtol=1e-5)


def test_relu6(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_relu6
    ref = np.vectorize(_ref_relu6)
    for lo, hi in ((0, 5.9), (6.1, 10), (-1, 0)):
        x = rs.uniform(lo, hi, (2, 5))
        close(activations.relu6(x[np.newaxis, :])[0], ref(x), rtol=1e-5)


def test_silu(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_silu
    ref = np.vectorize(_ref_silu)
    for lo, hi in ((0, 5.9), (-1, 1), (-5.9, 0)):
        x = rs.uniform(lo, hi, (2, 5))
        close(activations.silu(x[np.newaxis, :])[0], ref(x), rtol=1e-5)


def test_gelu(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_gelu (the normal CDF
    # through math.erf instead of scipy)
    def gelu(x, approximate=False):
        if approximate:
            return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * np.power(x, 3))))
        return x * 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))

    x = rs.random_sample((2, 5))
    close(activations.gelu(x[np.newaxis, :])[0], gelu(x), rtol=1e-5)
    x = rs.random_sample((2, 5))
    close(activations.gelu(x[np.newaxis, :], approximate=True)[0], gelu(x, True), rtol=1e-5)


def test_elu(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_elu
    x = rs.random_sample((2, 5))
    close(activations.elu(x[np.newaxis, :])[0], x, rtol=1e-5)
    negative = np.array([[-1, -2]], dtype="float32")
    close(activations.elu(negative[np.newaxis, :])[0], np.exp(negative) - 1)


def test_tanh(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_tanh
    x = rs.random_sample((2, 5))
    close(activations.tanh(x[np.newaxis, :])[0], np.tanh(x), rtol=1e-5)
    x = rs.uniform(-10, 10, (2, 5))
    close(activations.tanh(x[np.newaxis, :])[0], np.tanh(x), rtol=1e-5)
    for shape, lo, hi in ((5, -10, 10), ((3, 3, 3), -10, 10), ((2, 5), 0, 10), ((2, 5), -10, 0),
                          ((2, 5), -1e-7, 1e-7), ((2, 5), 1e4, 1e5)):
        x = rs.uniform(lo, hi, shape)
        close(activations.tanh(x), np.tanh(x), rtol=1e-5)


def test_exponential(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_exponential
    x = rs.random_sample((2, 5))
    close(activations.exponential(x[np.newaxis, :])[0], np.exp(x), rtol=1e-5)
    x = rs.uniform(-10, 10, (2, 5))
    close(activations.exponential(x[np.newaxis, :])[0], np.exp(x), rtol=1e-5)
    for shape, lo, hi in ((5, -10, 10), ((3, 3, 3), -10, 10), ((2, 5), 0, 10), ((2, 5), -10, 0),
                          ((2, 5), -1e-7, 1e-7)):
        x = rs.uniform(lo, hi, shape)
        close(activations.exponential(x), np.exp(x), rtol=1e-5)
    x = rs.uniform(1e4, 1e5, (2, 5))
    with np.errstate(over="ignore"):
        expected = np.exp(x)
    close(activations.exponential(x), expected, rtol=1e-5)


def test_linear(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_linear
    for x in (rs.random_sample((10, 5)), rs.uniform(-10, 10, 5), rs.uniform(-10, 10, (10, 5)),
              rs.uniform(-10, 10, (5, 5, 5)), rs.uniform(-10, 10, (10, 5)).astype(np.float32),
              rs.randint(-10, 10, (10, 5)).astype(np.int32)):
        close(x, activations.linear(x))


def test_get_method():
    # keras/src/activations/activations_test.py::ActivationsTest::test_get_method (nncore's get
    # returns the activation with its backward pass, and None for linear)
    act = activations.get("relu")
    assert act.name == "relu" and activations.get(activations.relu).name == "relu"
    assert activations.get(None) is None and activations.get(activations.linear) is None
    with pytest.raises(ValueError):
        activations.get("typo")


# ---------------------------------------------------------------- the new arguments in layers
def _central_difference(f, x, g, eps=1e-6):
    out = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        out[i] = np.sum(g * (f(xp) - f(xm))) / (2 * eps)
    return out


@pytest.mark.parametrize("params", [dict(negative_slope=0.5), dict(max_value=5.0),
                                    dict(threshold=1.5), dict(threshold=2.0, max_value=5.0),
                                    dict(negative_slope=0.3, max_value=4.0, threshold=-1.0)])
def test_relu_with_arguments_has_a_matching_backward(params):
    rng = np.random.default_rng(0)
    # Keep away from the kinks, where the central difference is meaningless.
    x = rng.uniform(-8, 8, (4, 6))
    for kink in (0.0, params.get("threshold", 0.0), params.get("max_value", 99.0)):
        x[np.abs(x - kink) < 1e-3] += 0.01
    g = rng.normal(size=x.shape)
    act = activations.get({"name": "relu", **params})
    close(act.forward(x), activations.relu(x, **params), rtol=0, atol=0)
    close(act.backward(g, x, None), _central_difference(lambda z: activations.relu(z, **params), x, g),
          rtol=1e-6, atol=1e-8)


def test_softmax_tuple_axis_backward_matches_central_differences():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 4))
    g = rng.normal(size=x.shape)
    for name in ("softmax", "log_softmax"):
        act = activations.get({"name": name, "axis": (1, 2)})
        y = act.forward(x)
        close(y, getattr(activations, name)(x, axis=(1, 2)), rtol=0, atol=0)
        close(act.backward(g, x, y),
              _central_difference(lambda z: getattr(activations, name)(z, axis=(1, 2)), x, g),
              rtol=1e-6, atol=1e-8)


def test_dense_accepts_keras_activation_functions():
    dense = layers.Dense(3, activation=activations.relu)
    assert dense.activation is not None and dense.activation.name == "relu"


def test_bad_arguments():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="out of range"):
        activations.softmax(x, axis=(0, 2))
    with pytest.raises(ValueError, match="repeats"):
        activations.softmax(x, axis=(1, -1))
    with pytest.raises(TypeError, match="axis"):
        activations.softmax(x, axis="1")
    with pytest.raises(ValueError, match="max_value"):
        activations.relu(x, max_value="6")
    with pytest.raises(ValueError, match="negative_slope"):
        activations.relu(x, negative_slope=float("nan"))


# ---------------------------------------------------------------- Keras' other activations
def _ref_sparse_sigmoid(x):
    return np.where(x <= -1, 0, np.where(x >= 1, 1, 0.5 * (x + 1)))


def _ref_log_sigmoid(x):
    return -1 * _ref_softplus(-x)


def _ref_hard_silu(x):
    return x * np.minimum(np.maximum(0.0, x + 3.0), 6.0) * (1.0 / 6.0)


def test_sparse_sigmoid(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_sparse_sigmoid
    x = rs.uniform(0, 1, (2, 5))
    close(activations.sparse_sigmoid(x[np.newaxis, :])[0], _ref_sparse_sigmoid(x), rtol=1e-5)
    for shape, lo, hi in ((5, -10, 10), ((3, 3, 3), -10, 10), ((2, 5), 10, 100), ((2, 5), -100, -10)):
        x = rs.uniform(lo, hi, shape)
        close(activations.sparse_sigmoid(x), _ref_sparse_sigmoid(x), rtol=1e-5)


def test_log_sigmoid(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_log_sigmoid
    x = rs.uniform(0, 1, (2, 5))
    close(activations.log_sigmoid(x[np.newaxis, :])[0], _ref_log_sigmoid(x), rtol=1e-5)
    for shape, lo, hi in ((5, -10, 10), ((3, 3, 3), -10, 10), ((2, 5), 10, 100), ((2, 5), -100, -10)):
        x = rs.uniform(lo, hi, shape)
        close(activations.log_sigmoid(x), _ref_log_sigmoid(x), rtol=1e-5)


def test_hard_silu(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_hard_silu
    x = rs.uniform(-3, 3, (2, 5)).astype("float32")
    close(activations.hard_silu(x[np.newaxis, :])[0], _ref_hard_silu(x), rtol=1e-5)
    for shape in (5, (3, 3, 3)):
        x = rs.uniform(-10, 10, shape).astype("float32")
        close(activations.hard_silu(x), _ref_hard_silu(x), rtol=1e-5)
    x = rs.uniform(5, 10, (2, 5)).astype("float32")
    close(activations.hard_silu(x), x, rtol=1e-5)
    x = rs.uniform(-10, -5, (2, 5)).astype("float32")
    close(activations.hard_silu(x), np.zeros_like(x), rtol=1e-5)


def test_celu(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_celu
    def celu(x, alpha=1.0):
        return np.maximum(x, 0.0) + alpha * np.expm1(np.minimum(x, 0.0) / alpha)

    x = rs.random_sample((2, 5))
    close(activations.celu(x[np.newaxis, :])[0], celu(x), rtol=1e-5)
    x = rs.random_sample((2, 5))
    close(activations.celu(x[np.newaxis, :], alpha=0.5)[0], celu(x, alpha=0.5), rtol=1e-5)


def test_glu(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_glu
    def glu(x, axis=-1):
        x1, x2 = np.split(x, 2, axis)
        return x1 * (1 / (1 + np.exp(-x2)))

    x = rs.random_sample((2, 4))
    close(activations.glu(x[np.newaxis, :])[0], glu(x), rtol=1e-5)
    x = rs.random_sample((2, 4))
    close(activations.glu(x[np.newaxis, :], axis=-2)[0], glu(x, axis=-2), rtol=1e-5)
    with pytest.raises(ValueError, match="odd size 3"):
        activations.glu(np.ones((2, 3)))


@pytest.mark.parametrize("name,ref", [
    # keras/src/activations/activations_test.py::ActivationsTest::test_tanh_shrink
    ("tanh_shrink", lambda x: x - np.tanh(x)),
    # ...::test_hard_tanh
    ("hard_tanh", lambda x: np.clip(x, -1.0, 1.0)),
    # ...::test_hard_shrink
    ("hard_shrink", lambda x: np.where(np.abs(x) > 0.5, x, 0.0)),
    # ...::test_squareplus
    ("squareplus", lambda x: (x + np.sqrt(x**2 + 4)) / 2),
    # ...::test_soft_shrink
    ("soft_shrink", lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0))),
    # ...::test_sparse_plus
    ("sparse_plus", lambda x: np.where(x <= -1, np.zeros_like(x),
                                       np.where(x < 1, (1 / 4) * (x + 1) ** 2, x))),
])
def test_shrinks_and_pluses(name, ref, rs):
    x = rs.random_sample((2, 5))
    close(getattr(activations, name)(x[np.newaxis, :])[0], ref(x), rtol=1e-5)


def test_threshold(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_threshold
    x = rs.random_sample((2, 5))
    close(activations.threshold(x[np.newaxis, :], 0, 0)[0], np.where(x > 0, x, np.array(0, x.dtype)),
          rtol=1e-5)


def test_mish(rs):
    # keras/src/activations/activations_test.py::ActivationsTest::test_mish
    x = rs.random_sample((2, 5))
    close(activations.mish(x[np.newaxis, :])[0], x * np.tanh(_ref_softplus(x)), rtol=1e-5)
    x = rs.uniform(-10, 10, (2, 5))
    close(activations.mish(x[np.newaxis, :])[0], x * np.tanh(_ref_softplus(x)), rtol=1e-5)
    for shape, lo, hi in ((5, -10, 10), ((3, 3, 3), -10, 10), ((2, 5), 0, 10), ((2, 5), -10, 0),
                          ((2, 5), -1e-7, 1e-7), ((2, 5), 1e4, 1e5)):
        x = rs.uniform(lo, hi, shape)
        with np.errstate(over="ignore"):
            expected = x * np.tanh(_ref_softplus(x))
        close(activations.mish(x), expected, rtol=1e-5)


def test_sparsemax():
    # keras/src/activations/activations_test.py::ActivationsTest::test_sparsemax
    x_1d = np.linspace(1, 12, num=12)
    expected = np.zeros_like(x_1d)
    expected[-1] = 1.0
    close(activations.sparsemax(x_1d), expected)
    x_2d = np.linspace(1, 12, num=12).reshape(-1, 2)
    expected = np.zeros_like(x_2d)
    expected[:, -1] = 1.0
    close(activations.sparsemax(x_2d), expected)
    x_3d = np.linspace(1, 12, num=12).reshape(-1, 1, 3)
    expected = np.zeros_like(x_3d)
    expected[:, :, -1] = 1.0
    close(activations.sparsemax(x_3d), expected)
    expected = np.zeros_like(x_2d)
    expected[-1, :] = 1.0
    close(activations.sparsemax(x_2d, axis=-2), expected)
    close(activations.sparsemax(x_3d, axis=-2), np.ones_like(x_3d))
    expected = np.zeros_like(x_3d)
    expected[-1, :, :] = 1.0
    close(activations.sparsemax(x_3d, axis=-3), expected)
    x_4d = np.linspace(1, 12, num=12).reshape(-1, 1, 1, 2)
    close(activations.sparsemax(x_4d, axis=-3), np.ones_like(x_4d))


@pytest.mark.parametrize("name,params", [
    ("celu", {}), ("celu", {"alpha": 0.5}), ("tanh_shrink", {}), ("hard_tanh", {}),
    ("hard_shrink", {}), ("soft_shrink", {"threshold": 0.3}),
    ("threshold", {"threshold": 0.2, "default_value": -1.0}), ("squareplus", {"b": 2}),
    ("sparse_plus", {}), ("sparse_sigmoid", {}), ("log_sigmoid", {}), ("hard_silu", {}),
    ("hard_swish", {}), ("mish", {}), ("sparsemax", {})])
def test_numpy_activations_backward_matches_central_differences(name, params):
    rng = np.random.default_rng(2)
    x = rng.uniform(-4, 4, (3, 5))
    for kink in (-3.0, -1.0, -0.5, -0.3, 0.0, 0.2, 0.3, 0.5, 1.0, 3.0):
        x[np.abs(x - kink) < 1e-3] += 0.01
    g = rng.normal(size=x.shape)
    act = activations.get({"name": name, **params})
    fn = getattr(activations, name)
    y = act.forward(x)
    close(y, fn(x, **params), rtol=0, atol=0)
    close(act.backward(g, x, y), _central_difference(lambda z: fn(z, **params), x, g),
          rtol=1e-5, atol=1e-7)
    assert activations.get(fn).name == act.name


def test_layers_train_with_a_numpy_activation():
    import nncore
    model = nncore.Sequential([nncore.layers.Input((4,)), nncore.layers.Dense(8, activation="mish"),
                               nncore.layers.Dense(1, activation=activations.hard_tanh)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype(np.float32)
    y = np.tanh(x[:, :1]).astype(np.float32)
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first


def test_names_list_every_activation():
    assert set(activations.NAMES).isdisjoint(activations.NUMPY_NAMES)
    assert {"relu", "softmax", "gelu"} <= set(activations.NAMES)
    assert {"mish", "celu", "sparsemax", "hard_silu"} <= set(activations.NUMPY_NAMES)
    for name in activations.NAMES + activations.NUMPY_NAMES:
        assert activations.get(name) is not None
