"""Keras 3's tests of Dense, Dropout, the activation layers, Flatten/Reshape and the merging
layers, ported case by case (each cites its origin). ``run_layer_test`` below makes the checks of
Keras' ``testing.TestCase.run_layer_test`` as plain asserts; the other Keras layer test files of
this suite import it from here."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nncore
from nncore import constraints, layers
from nncore.layers import merging


def run_layer_test(layer_cls, init_kwargs, *, input_shape=None, input_data=None, call_kwargs=None,
                   expected_output_shape=None, expected_output=None, expected_output_dtype=None,
                   expected_num_trainable_weights=None, expected_num_non_trainable_weights=None,
                   expected_num_losses=None, run_training_check=True, atol=1e-6, rtol=1e-6):
    """The checks of Keras' ``run_layer_test``: config round trip, build, symbolic call, eager call
    and one training step. Keras' ``layer.losses`` after a call are the penalties of the layer's
    regularized weights, counted here as the regularized trainable weights."""
    call_kwargs = dict(call_kwargs or {})
    multi = input_shape is not None and isinstance(input_shape[0], (tuple, list))
    if input_data is None and input_shape is not None:
        rng = np.random.default_rng(0)
        make = lambda s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
        input_data = [make(s) for s in input_shape] if multi else make(input_shape)
    if input_shape is None:
        input_shape = [np.shape(x) for x in input_data] if multi else np.shape(input_data)

    # Serialization: get_config -> JSON -> from_config gives the same config, also by class name.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    revived = layer_cls.from_config(config)
    assert revived.get_config() == config
    by_name = layers.get({"class_name": layer_cls.__name__, "config": config})
    assert type(by_name) is layer_cls and by_name.get_config() == config

    def build_asserts(layer):
        assert layer.built
        if expected_num_trainable_weights is not None:
            assert len(layer.trainable_weights) == expected_num_trainable_weights
        if expected_num_non_trainable_weights is not None:
            assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights

    def shape_matches(shape):
        return len(shape) == len(expected_output_shape) and all(
            e is None or e == d for e, d in zip(expected_output_shape, shape))

    # Build.
    batchless = [(None, *s[1:]) for s in input_shape] if multi else (None, *input_shape[1:])
    layer = layer_cls(**init_kwargs)
    layer.build(batchless)
    build_asserts(layer)

    # Symbolic call.
    layer = layer_cls(**init_kwargs)
    sym = ([nncore.Input(batch_shape=s) for s in input_shape] if multi
           else nncore.Input(batch_shape=input_shape))
    out = layer(sym, **call_kwargs)
    build_asserts(layer)
    if expected_output_shape is not None:
        assert shape_matches(out.shape), (out.shape, expected_output_shape)

    # Eager call.
    layer = layer_cls(**init_kwargs)
    output = layer(input_data, **call_kwargs)
    build_asserts(layer)
    if expected_output_shape is not None:
        assert shape_matches(output.shape), (output.shape, expected_output_shape)
    if expected_output_dtype is not None:
        assert output.dtype == np.dtype(expected_output_dtype)
    if expected_output is not None:
        np.testing.assert_allclose(output, expected_output, atol=atol, rtol=rtol)
    if expected_num_losses is not None:
        assert sum(v.regularizer is not None for v in layer.trainable_weights) == expected_num_losses
        assert np.isfinite(layer.regularization_loss())

    # One training step of a model around the layer.
    if run_training_check:
        inputs = ([nncore.Input(shape=s[1:]) for s in input_shape] if multi
                  else nncore.Input(shape=input_shape[1:]))
        model = nncore.Model(inputs, layer(inputs))
        model.compile(optimizer="sgd", loss="mse")
        history = model.fit(input_data, np.zeros_like(output) + 1, epochs=1, verbose=0,
                            batch_size=len(output))
        assert np.isfinite(history.history["loss"][0])
    return layer, output


# ---------------------------------------------------------------- keras/src/layers/core/dense_test.py


# keras/src/layers/core/dense_test.py::DenseTest::test_dense_basics
def test_dense_basics():
    # 2D case, no bias.
    run_layer_test(layers.Dense,
                   {"units": 4, "activation": "relu", "kernel_initializer": "random_uniform",
                    "bias_initializer": "ones", "use_bias": False},
                   input_shape=(2, 3), expected_output_shape=(2, 4),
                   expected_num_trainable_weights=1, expected_num_non_trainable_weights=0,
                   expected_num_losses=0)
    # 3D case, some regularizers.
    run_layer_test(layers.Dense,
                   {"units": 5, "activation": "sigmoid", "kernel_regularizer": "l2",
                    "bias_regularizer": "l2"},
                   input_shape=(2, 3, 4), expected_output_shape=(2, 3, 5),
                   expected_num_trainable_weights=2, expected_num_non_trainable_weights=0,
                   expected_num_losses=2)


# keras/src/layers/core/dense_test.py::DenseTest::test_dense_invalid_units_raises
@pytest.mark.parametrize("units", [0, -3, 2.5, None, "64"])
def test_dense_invalid_units_raises(units):
    with pytest.raises(ValueError, match="positive integer"):
        layers.Dense(units)


# keras/src/layers/core/dense_test.py::DenseTest::test_dense_correctness
def test_dense_correctness():
    layer = layers.Dense(units=2, activation="relu")
    layer.build((1, 2))
    layer.set_weights([np.array([[1.0, -2.0], [3.0, -4.0]]), np.array([5.0, -6.0])])
    inputs = np.array([[-1.0, 2.0]])
    np.testing.assert_allclose(layer(inputs), [[10.0, 0.0]], rtol=1e-6, atol=1e-6)

    layer = layers.Dense(units=2, use_bias=False)
    layer.build((1, 2))
    layer.set_weights([np.array([[1.0, -2.0], [3.0, -4.0]])])
    assert layer.bias is None
    np.testing.assert_allclose(layer(inputs), [[5.0, -6.0]], rtol=1e-6, atol=1e-6)


# keras/src/layers/core/dense_test.py::DenseTest::test_dense_errors
def test_dense_errors():
    layer = layers.Dense(units=2, activation="relu")
    layer(nncore.Input(batch_shape=(1, 2)))
    with pytest.raises(ValueError, match="incompatible with the layer"):
        layer(nncore.Input(batch_shape=(1, 3)))


# keras/src/layers/core/dense_test.py::DenseTest::test_dense_no_activation
def test_dense_no_activation():
    layer = layers.Dense(units=2, use_bias=False, activation=None)
    layer.build((1, 2))
    layer.set_weights([np.array([[1.0, -2.0], [3.0, -4.0]])])
    assert layer.bias is None
    np.testing.assert_allclose(layer(np.array([[-1.0, 2.0]])), [[5.0, -6.0]], rtol=1e-6, atol=1e-6)


# keras/src/layers/core/dense_test.py::DenseTest::test_dense_without_activation_set
def test_dense_without_activation_set():
    layer = layers.Dense(units=2, use_bias=False)
    layer.build((1, 2))
    layer.set_weights([np.array([[1.0, -2.0], [3.0, -4.0]])])
    layer.activation = None
    assert layer.bias is None
    np.testing.assert_allclose(layer(np.array([[-1.0, 2.0]])), [[5.0, -6.0]], rtol=1e-6, atol=1e-6)


# keras/src/layers/core/dense_test.py::DenseTest::test_dense_with_activation
def test_dense_with_activation():
    layer = layers.Dense(units=2, use_bias=False, activation="relu")
    layer.build((1, 2))
    layer.set_weights([np.array([[1.0, -2.0], [3.0, -4.0]])])
    np.testing.assert_allclose(layer(np.array([[-1.0, 2.0]])), [[5.0, 0.0]], rtol=1e-6, atol=1e-6)


# keras/src/layers/core/dense_test.py::DenseTest::test_dense_constraints
def test_dense_constraints():
    layer = layers.Dense(units=2, kernel_constraint="non_neg")
    layer.build((None, 2))
    assert isinstance(layer.kernel.constraint, constraints.NonNeg)
    layer = layers.Dense(units=2, bias_constraint="non_neg")
    layer.build((None, 2))
    assert isinstance(layer.bias.constraint, constraints.NonNeg)


# ---------------------------------------------------------------- keras/src/layers/activations/*_test.py


# keras/src/layers/activations/activation_test.py::ActivationTest::test_activation_basics
@pytest.mark.parametrize("activation, input_shape", [("relu", (2, 3)),
                                                     (nncore.activations.gelu, (2, 2))])
def test_activation_basics(activation, input_shape):
    run_layer_test(layers.Activation, {"activation": activation}, input_shape=input_shape,
                   expected_output_shape=input_shape, expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, expected_num_losses=0)


# keras/src/layers/activations/elu_test.py::ELUTest::test_config
# keras/src/layers/activations/elu_test.py::ELUTest::test_elu
def test_elu():
    run_layer_test(layers.ELU, {}, input_shape=(2, 3, 4))


# keras/src/layers/activations/elu_test.py::ELUTest::test_correctness
def test_elu_correctness():
    def np_elu(x, alpha=1.0):
        return (x > 0) * x + (x <= 0) * alpha * (np.exp(x) - 1)

    x = np.random.random((2, 2, 5))
    np.testing.assert_allclose(layers.ELU()(x), np_elu(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layers.ELU(alpha=0.7)(x), np_elu(x, alpha=0.7), rtol=1e-6, atol=1e-6)
    # Keras' case draws only positive inputs; the negative branch as well:
    x = np.random.default_rng(0).uniform(-3, 0, (2, 5))
    np.testing.assert_allclose(layers.ELU(alpha=0.7)(x), np_elu(x, alpha=0.7), rtol=1e-5, atol=1e-6)


# keras/src/layers/activations/leaky_relu_test.py::LeakyReLUTest::test_leaky_relu
def test_leaky_relu():
    run_layer_test(layers.LeakyReLU, {"negative_slope": 1}, input_shape=(2, 3, 4))


# keras/src/layers/activations/leaky_relu_test.py::LeakyReLUTest::test_leaky_relu_correctness
def test_leaky_relu_correctness():
    result = layers.LeakyReLU(negative_slope=0.5)(np.array([-10, -5, 0.0, 5, 10]))
    np.testing.assert_allclose(result, [-5.0, -2.5, 0.0, 5.0, 10.0], rtol=1e-6, atol=1e-6)


# keras/src/layers/activations/leaky_relu_test.py::LeakyReLUTest::test_invalid_usage
def test_leaky_relu_invalid_usage():
    with pytest.raises(ValueError, match="The negative_slope value of a Leaky ReLU layer cannot be None"):
        run_layer_test(layers.LeakyReLU, {"negative_slope": None}, input_shape=(2, 3, 4))


# keras/src/layers/activations/prelu_test.py::PReLUTest::test_prelu
def test_prelu():
    layer, _ = run_layer_test(layers.PReLU,
                              {"alpha_initializer": "zeros", "alpha_regularizer": "L1",
                               "alpha_constraint": "MaxNorm", "shared_axes": 1},
                              input_shape=(2, 3, 4))
    assert layer.alpha.shape == (1, 4)
    assert isinstance(layer.alpha.constraint, constraints.MaxNorm)


# keras/src/layers/activations/prelu_test.py::PReLUTest::test_prelu_correctness
def test_prelu_correctness():
    def np_prelu(x, alpha):
        return (x > 0) * x + (x <= 0) * alpha * x

    inputs = np.random.randn(2, 10, 5, 3)
    prelu_layer = layers.PReLU(alpha_initializer="glorot_uniform", alpha_regularizer="l1",
                               alpha_constraint="non_neg", shared_axes=(1, 2))
    prelu_layer.build(inputs.shape)
    weights = np.random.random((1, 1, 3))
    prelu_layer.alpha.assign(weights)
    np.testing.assert_allclose(prelu_layer(inputs), np_prelu(inputs, weights), rtol=1e-6, atol=1e-6)


# keras/src/layers/activations/relu_test.py::ReLUTest::test_relu
def test_relu():
    run_layer_test(layers.ReLU, {"max_value": 10, "negative_slope": 1, "threshold": 0.5},
                   input_shape=(2, 3, 4))


# keras/src/layers/activations/relu_test.py::ReLUTest::test_normal_relu_correctness
# keras/src/layers/activations/relu_test.py::ReLUTest::test_leaky_relu_correctness
# keras/src/layers/activations/relu_test.py::ReLUTest::test_threshold_relu_correctness
@pytest.mark.parametrize("kwargs, inputs, expected", [
    ({"max_value": 10, "negative_slope": 0.0, "threshold": 0}, [-10, -5, 0.0, 5, 10],
     [0.0, 0.0, 0.0, 5.0, 10.0]),
    ({"max_value": 10, "negative_slope": 0.5, "threshold": 0}, [-10, -5, 0.0, 5, 10],
     [-5.0, -2.5, 0.0, 5.0, 10.0]),
    ({"max_value": 8, "negative_slope": 0.0, "threshold": 5}, [6.0, 7.0, 0.0, 5, 10],
     [6.0, 7.0, 0.0, 0.0, 8.0]),
])
def test_relu_correctness(kwargs, inputs, expected):
    np.testing.assert_allclose(layers.ReLU(**kwargs)(np.array(inputs)), expected, rtol=1e-6, atol=1e-6)


# keras/src/layers/activations/relu_test.py::ReLUTest::test_invalid_usage
@pytest.mark.parametrize("kwargs, message", [
    ({"max_value": -10, "negative_slope": 1, "threshold": 0.5},
     "max_value of a ReLU layer cannot be a negative value"),
    ({"max_value": 10, "negative_slope": -10, "threshold": 0.5},
     "negative_slope of a ReLU layer cannot be None or a negative value"),
    ({"max_value": 10, "negative_slope": 1, "threshold": -10},
     "threshold of a ReLU layer cannot be None or a negative value"),
])
def test_relu_invalid_usage(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_layer_test(layers.ReLU, kwargs, input_shape=(2, 3, 4))


# keras/src/layers/activations/relu_test.py::ReLUTest::test_get_config
def test_relu_get_config():
    config = layers.ReLU(max_value=5.0, negative_slope=0.2, threshold=1.0).get_config()
    assert config["max_value"] == 5.0
    assert config["negative_slope"] == 0.2
    assert config["threshold"] == 1.0


# keras/src/layers/activations/relu_test.py::ReLUTest::test_get_config_default_params
def test_relu_get_config_default_params():
    config = layers.ReLU().get_config()
    assert config["max_value"] is None
    assert config["negative_slope"] == 0.0
    assert config["threshold"] == 0.0


# keras/src/layers/activations/relu_test.py::ReLUTest::test_from_config
def test_relu_from_config():
    relu_layer = layers.ReLU(max_value=5.0, negative_slope=0.2, threshold=1.0)
    restored = layers.ReLU.from_config(relu_layer.get_config())
    assert restored.max_value == relu_layer.max_value
    assert restored.negative_slope == relu_layer.negative_slope
    assert restored.threshold == relu_layer.threshold


# keras/src/layers/activations/relu_test.py::ReLUTest::test_compute_output_shape
def test_relu_compute_output_shape():
    relu_layer = layers.ReLU()
    assert tuple(relu_layer.compute_output_shape((2, 3))) == (2, 3)
    assert tuple(relu_layer.compute_output_shape((4, 5, 6))) == (4, 5, 6)
    assert tuple(relu_layer.compute_output_shape((1,))) == (1,)


# keras/src/layers/activations/relu_test.py::ReLUTest::test_default_relu_no_args
def test_default_relu_no_args():
    result = layers.ReLU()(np.array([-3.0, -1.0, 0.0, 1.0, 3.0]))
    np.testing.assert_allclose(result, [0.0, 0.0, 0.0, 1.0, 3.0], rtol=1e-6, atol=1e-6)


# keras/src/layers/activations/relu_test.py::ReLUTest::test_relu_none_max_value_is_unlimited
def test_relu_none_max_value_is_unlimited():
    inputs = np.array([0.0, 100.0, 1000.0, 99999.0])
    np.testing.assert_allclose(layers.ReLU(max_value=None)(inputs), inputs, rtol=1e-6, atol=1e-6)


# keras/src/layers/activations/relu_test.py::ReLUTest::test_relu_all_zeros_input
def test_relu_all_zeros_input():
    np.testing.assert_allclose(layers.ReLU()(np.zeros((3, 4))), np.zeros((3, 4)))


# keras/src/layers/activations/relu_test.py::ReLUTest::test_relu_multidimensional_input
def test_relu_multidimensional_input():
    relu_layer = layers.ReLU()
    np.testing.assert_allclose(relu_layer(np.array([[-1.0, 2.0], [3.0, -4.0]])),
                               [[0.0, 2.0], [3.0, 0.0]])
    # A second layer: an nncore layer keeps the input shape it was built for.
    np.testing.assert_allclose(layers.ReLU()(np.ones((2, 3, 4)) * -1.0), np.zeros((2, 3, 4)))


# keras/src/layers/activations/relu_test.py::ReLUTest::test_negative_slope_none_raises
def test_relu_negative_slope_none_raises():
    with pytest.raises(ValueError, match="negative_slope of a ReLU layer cannot be None or a negative value"):
        layers.ReLU(negative_slope=None)


# keras/src/layers/activations/relu_test.py::ReLUTest::test_threshold_none_raises
def test_relu_threshold_none_raises():
    with pytest.raises(ValueError, match="threshold of a ReLU layer cannot be None or a negative value"):
        layers.ReLU(threshold=None)


# keras/src/layers/activations/softmax_test.py::SoftmaxTest::test_softmax
def test_softmax():
    run_layer_test(layers.Softmax, {}, input_shape=(2, 3, 4))


# keras/src/layers/activations/softmax_test.py::SoftmaxTest::test_softmax_correctness
# keras/src/layers/activations/softmax_test.py::SoftmaxTest::test_softmax_correctness_with_axis
@pytest.mark.parametrize("kwargs", [{}, {"axis": 1}])
def test_softmax_correctness(kwargs):
    result = layers.Softmax(**kwargs)(np.array([[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]]))
    expected = [[0.21194157, 0.5761169, 0.21194157], [0.21194157, 0.5761169, 0.21194157]]
    np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- keras/src/layers/reshaping


# keras/src/layers/reshaping/flatten_test.py::FlattenTest::test_flatten (dense)
@pytest.mark.parametrize("init_kwargs", [{}, {"data_format": "channels_last"},
                                         {"data_format": "channels_first"}])
def test_flatten(init_kwargs):
    inputs = np.random.random((10, 3, 5, 5)).astype("float32")
    inputs = np.multiply(inputs, inputs >= 0.8)
    if init_kwargs.get("data_format") == "channels_first":
        expected = np.reshape(np.transpose(inputs, (0, 2, 3, 1)), (-1, 5 * 5 * 3))
    else:
        expected = np.reshape(inputs, (-1, 5 * 5 * 3))
    run_layer_test(layers.Flatten, init_kwargs, input_data=inputs, expected_output=expected)


# keras/src/layers/reshaping/flatten_test.py::FlattenTest::test_flatten_with_scalar_channels
@pytest.mark.parametrize("init_kwargs", [{}, {"data_format": "channels_last"},
                                         {"data_format": "channels_first"}])
def test_flatten_with_scalar_channels(init_kwargs):
    inputs = np.random.random((10,)).astype("float32")
    run_layer_test(layers.Flatten, init_kwargs, input_data=inputs,
                   expected_output=np.expand_dims(inputs, -1), run_training_check=False)


# keras/src/layers/reshaping/flatten_test.py::FlattenTest::test_flatten_symbolic_with_dynamic_batch_size
def test_flatten_symbolic_with_dynamic_batch_size():
    flattened = layers.Flatten()(nncore.Input(batch_shape=(None, 2, 3)))
    assert flattened.shape == (None, 2 * 3)


# keras/src/layers/reshaping/flatten_test.py::FlattenTest::test_flatten_symbolic_with_dynamic_dimension
def test_flatten_symbolic_with_dynamic_dimension():
    flattened = layers.Flatten()(nncore.Input(batch_shape=(5, 2, None)))
    assert flattened.shape == (5, None)


# keras/src/layers/reshaping/flatten_test.py::FlattenTest::test_flatten_with_dynamic_batch_size_and_dynamic_dimenstions
# (the layer called eagerly on the generator's two batches)
def test_flatten_with_dynamic_batch_size_and_dynamic_dimensions():
    layer = layers.Flatten()
    assert layer(np.ones((3, 5, 7), dtype="float32")).shape == (3, 35)
    assert layer(np.ones((2, 7, 5), dtype="float32")).shape == (2, 35)


# keras/src/layers/reshaping/reshape_test.py::ReshapeTest::test_reshape (dense)
@pytest.mark.parametrize("target_shape, input_shape, output_shape", [
    ((8, 1), (3, 2, 4), (3, 8, 1)),
    ((8,), (3, 2, 4), (3, 8)),
    ((2, 4), (3, 8), (3, 2, 4)),
    ((-1, 1), (3, 2, 4), (3, 8, 1)),
    ((1, -1), (3, 2, 4), (3, 1, 8)),
    ((-1,), (3, 2, 4), (3, 8)),
    ((2, -1), (3, 2, 4), (3, 2, 4)),
])
def test_reshape(target_shape, input_shape, output_shape):
    run_layer_test(layers.Reshape, {"target_shape": target_shape}, input_shape=input_shape,
                   expected_output_shape=output_shape)


# keras/src/layers/reshaping/reshape_test.py::ReshapeTest::test_reshape_with_dynamic_batch_size
def test_reshape_with_dynamic_batch_size():
    assert layers.Reshape((8,))(nncore.Input(shape=(2, 4))).shape == (None, 8)


# keras/src/layers/reshaping/reshape_test.py::ReshapeTest::test_reshape_rejects_invalid_target_shape
def test_reshape_rejects_invalid_target_shape():
    with pytest.raises(ValueError, match=r"non-negative integer.*-1.*target_shape=\(-2, 5\)"):
        layers.Reshape(target_shape=(-2, 5))
    with pytest.raises(ValueError, match=r"at most one unknown dimension.*target_shape=\(-1, -1, 5\)"):
        layers.Reshape(target_shape=(-1, -1, 5))


# keras/src/layers/reshaping/reshape_test.py::ReshapeTest::test_reshape_with_dynamic_batch_size_and_minus_one
def test_reshape_with_dynamic_batch_size_and_minus_one():
    assert layers.Reshape((-1, 8))(nncore.Input(batch_shape=(None, 6, 4))).shape == (None, 3, 8)


# keras/src/layers/reshaping/reshape_test.py::ReshapeTest::test_reshape_layer_with_varying_input_size_and_minus_one
def test_reshape_layer_with_varying_input_size_and_minus_one():
    layer = layers.Reshape((-1, 8))
    assert layer(np.ones((1, 6, 4), dtype="float32")).shape == (1, 3, 8)
    assert layer(np.ones((1, 10, 4), dtype="float32")).shape == (1, 5, 8)
    with pytest.raises(nncore.ShapeError, match="Reshape"):
        layer(np.ones((1, 3, 3), dtype="float32"))


# keras/src/layers/reshaping/reshape_test.py::ReshapeTest::test_reshape_with_dynamic_dim_and_minus_one
def test_reshape_with_dynamic_dim_and_minus_one():
    assert layers.Reshape((-1, 3))(nncore.Input(batch_shape=(4, 6, None, 3))).shape == (4, None, 3)


# keras/src/layers/reshaping/reshape_test.py::ReshapeTest::test_reshape_sets_static_shape
def test_reshape_sets_static_shape():
    assert layers.Reshape((3, 5))(nncore.Input(batch_shape=(2, None))).shape == (2, 3, 5)


# ---------------------------------------------------------------- keras/src/layers/merging/merging_test.py

# Subtract, Multiply, Average, Maximum and Minimum live in nncore.layers.merging.
MERGE_CASES = [
    pytest.param(layers.Add, np.add, {}, (2, 4, 5), id="add"),
    pytest.param(merging.Subtract, np.subtract, {}, (2, 4, 5), id="subtract"),
    pytest.param(merging.Minimum, np.minimum, {}, (2, 4, 5), id="minimum"),
    pytest.param(merging.Maximum, np.maximum, {}, (2, 4, 5), id="maximum"),
    pytest.param(merging.Multiply, np.multiply, {}, (2, 4, 5), id="multiply"),
    pytest.param(merging.Average, lambda a, b: np.multiply(np.add(a, b), 0.5), {}, (2, 4, 5),
                 id="average"),
    pytest.param(layers.Concatenate, lambda a, b, **kw: np.concatenate((a, b), **kw), {"axis": -1},
                 (2, 4, 10), id="concat"),
]


# keras/src/layers/merging/merging_test.py::MergingLayersTest::test_basic
@pytest.mark.parametrize("layer_class, np_op, init_kwargs, expected_output_shape", MERGE_CASES)
def test_merging_basic(layer_class, np_op, init_kwargs, expected_output_shape):
    run_layer_test(layer_class, init_kwargs, input_shape=((2, 4, 5), (2, 4, 5)),
                   expected_output_shape=expected_output_shape, expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, expected_num_losses=0)


# keras/src/layers/merging/merging_test.py::MergingLayersTest::test_correctness_static
# keras/src/layers/merging/merging_test.py::MergingLayersTest::test_correctness_dynamic
# (compute_mask left out: nncore has no masks)
@pytest.mark.parametrize("batch_size", [2, None], ids=["static", "dynamic"])
@pytest.mark.parametrize("layer_class, np_op, init_kwargs, expected_output_shape", MERGE_CASES)
def test_merging_correctness(layer_class, np_op, init_kwargs, expected_output_shape, batch_size):
    x1 = np.random.rand(2, 4, 5)
    x2 = np.random.rand(2, 4, 5)
    x3 = np_op(x1, x2, **init_kwargs)
    input_1 = nncore.Input(shape=(4, 5), batch_size=batch_size)
    input_2 = nncore.Input(shape=(4, 5), batch_size=batch_size)
    out = layer_class(**init_kwargs)([input_1, input_2])
    model = nncore.Model([input_1, input_2], out)
    res = model([x1, x2])
    assert res.shape == expected_output_shape
    np.testing.assert_allclose(res, x3, atol=1e-4)


# keras/src/layers/merging/merging_test.py::MergingLayersTest::test_concatenate_errors
def test_concatenate_errors():
    out = layers.Concatenate(axis=-1)([np.ones((1, 1, 1, 1, 5)), np.ones((1, 1, 1, 1, 4))])
    assert out.shape == (1, 1, 1, 1, 9)
    with pytest.raises(ValueError, match="requires inputs with matching shapes except for the "
                                         "concatenation axis"):
        layers.Concatenate(axis=-1)([np.ones((1, 2, 1, 1, 5)), np.ones((1, 1, 1, 1, 4))])
    with pytest.raises(ValueError, match="requires inputs with matching shapes except for the "
                                         "concatenation axis"):
        layers.Concatenate(axis=1)([np.ones((1, 2, 1, 2, 1)), np.ones((1, 1, 1, 3, 1))])


# keras/src/layers/merging/merging_test.py::MergingLayersTest::test_subtract_layer_inputs_length_errors
def test_subtract_layer_inputs_length_errors():
    input_1, input_2, input_3 = (nncore.Input(shape=(4, 5)) for _ in range(3))
    with pytest.raises(ValueError, match="layer should be called on exactly 2 inputs"):
        merging.Subtract()([input_1, input_2, input_3])
    with pytest.raises(ValueError, match="layer should be called on exactly 2 inputs"):
        merging.Subtract()([input_1])


@pytest.mark.parametrize("cls", [layers.Add, merging.Subtract, merging.Multiply, merging.Average,
                                 merging.Maximum, merging.Minimum])
def test_merge_gradients(cls):
    rng = np.random.default_rng(0)
    n = 2 if cls is merging.Subtract else 3
    xs = [rng.standard_normal((2, 3, 4)) for _ in range(n)]
    assert nncore.gradcheck(cls(dtype="float64"), xs)


def test_maximum_tie_gives_gradient_to_first_input():
    layer = merging.Maximum()
    x = np.ones((1, 3), np.float32)
    layer([x, x.copy()])
    g0, g1 = layer.backward(np.full((1, 3), 2.0, np.float32))
    np.testing.assert_array_equal(g0, 2.0)
    np.testing.assert_array_equal(g1, 0.0)


def test_add_rejects_mismatched_eager_inputs():
    with pytest.raises(nncore.ShapeError, match="incompatible shapes"):
        layers.Add()([np.ones((2, 3)), np.ones((2, 1))])


# ---------------------------------------------------------------- get_config carries every Keras argument


@pytest.mark.parametrize("layer, keys", [
    (layers.Dense(2), ["units", "activation", "use_bias", "kernel_initializer", "bias_initializer",
                       "kernel_regularizer", "bias_regularizer", "kernel_constraint",
                       "bias_constraint", "quantization_config"]),
    (layers.Conv2D(2, 3), ["filters", "kernel_size", "strides", "padding", "data_format",
                           "dilation_rate", "groups", "activation", "use_bias",
                           "kernel_initializer", "bias_initializer", "kernel_regularizer",
                           "bias_regularizer", "activity_regularizer", "kernel_constraint",
                           "bias_constraint"]),
    (layers.PReLU(), ["alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes"]),
    (layers.MaxPooling2D(), ["pool_size", "padding", "strides", "data_format"]),
    (layers.AveragePooling2D(), ["pool_size", "padding", "strides", "data_format"]),
    (layers.GlobalAveragePooling2D(), ["data_format", "keepdims"]),
    (layers.Flatten(), ["data_format"]),
    (layers.Reshape((2,)), ["target_shape"]),
    (layers.Dropout(0.1), ["rate", "seed", "noise_shape"]),
    (layers.ReLU(), ["max_value", "negative_slope", "threshold"]),
    (layers.LeakyReLU(), ["negative_slope"]),
    (layers.ELU(), ["alpha"]),
    (layers.Softmax(), ["axis"]),
    (layers.Concatenate(), ["axis"]),
], ids=lambda v: type(v).__name__ if isinstance(v, layers.Layer) else "")
def test_get_config_has_keras_keys(layer, keys):
    config = layer.get_config()
    for key in keys + ["name", "trainable", "dtype"]:
        assert key in config, key
    assert type(layer).from_config(config).get_config() == config


# keras/src/layers/activations/softmax_test.py::SoftmaxTest::test_softmax_correctness_with_mask
# (axis=(1, 0) without the mask: nncore has no masks; softmax over all six values)
def test_softmax_over_several_axes():
    x = np.array([[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]])
    e = np.exp(x - x.max())
    np.testing.assert_allclose(layers.Softmax(axis=(1, 0))(x), e / e.sum(), rtol=1e-6)
    layer = layers.Softmax(axis=(1, 2), dtype="float64")
    assert nncore.gradcheck(layer, np.random.default_rng(0).standard_normal((2, 3, 4)))
    config = layer.get_config()
    assert config["axis"] == [1, 2]
    assert layers.Softmax.from_config(config).axis == (1, 2)
    with pytest.raises(ValueError, match="axis"):
        layers.Softmax(axis="x")
    with pytest.raises(nncore.ShapeError, match="axis 3"):
        layers.Softmax(axis=(1, 3))(np.ones((2, 3, 4)))


# ---------------------------------------------------------------- Layer.add_weight


def test_add_weight_keras_and_nncore_call_styles():
    layer = layers.Layer()
    w = layer.add_weight(shape=(2, 3), initializer="ones", name="w", constraint="non_neg",
                         regularizer="l2", trainable=False)
    assert w.name.endswith("/w") and w.shape == (2, 3) and w.dtype == np.float32
    assert isinstance(w.constraint, constraints.NonNeg) and w.regularizer is not None
    assert not w.trainable and np.all(w.numpy() == 1)
    v = layer.add_weight((4,), "zeros", "float64")  # Keras' positional shape, initializer, dtype
    assert v.shape == (4,) and v.dtype == np.float64 and np.all(v.numpy() == 0)
    k = layer.add_weight("kernel", (1, 2), initializer="ones")  # nncore's name-first style
    assert k.name.endswith("/kernel") and k.shape == (1, 2)
    assert layer.add_weight().shape == ()
    with pytest.raises(ValueError, match="both positionally and as a keyword"):
        layer.add_weight((2,), shape=(3,))
    with pytest.raises(ValueError, match="negative"):
        layer.add_weight(shape=(-1,))
    with pytest.raises(ValueError, match="typo"):
        layer.add_weight(shape=(2,), constraint="typo")


# ---------------------------------------------------------------- configs as Keras 3 writes them

_POLICY = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
           "registered_name": None}


def _keras_obj(module, class_name, config):
    return {"module": module, "class_name": class_name, "config": config, "registered_name": None}


@pytest.mark.parametrize("cls, config", [
    (layers.Dense, {"units": 4, "activation": "relu", "use_bias": True,
                    "kernel_initializer": _keras_obj("keras.initializers", "GlorotUniform", {"seed": None}),
                    "bias_initializer": _keras_obj("keras.initializers", "Zeros", {}),
                    "kernel_regularizer": None, "bias_regularizer": None,
                    "kernel_constraint": _keras_obj("keras.constraints", "MaxNorm",
                                                    {"max_value": 2, "axis": 0}),
                    "bias_constraint": None, "quantization_config": None}),
    (layers.Conv2D, {"filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
                     "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
                     "activation": "linear", "use_bias": True,
                     "kernel_initializer": _keras_obj("keras.initializers", "GlorotUniform", {"seed": None}),
                     "bias_initializer": _keras_obj("keras.initializers", "Zeros", {}),
                     "kernel_regularizer": None, "bias_regularizer": None,
                     "activity_regularizer": None,
                     "kernel_constraint": _keras_obj("keras.constraints", "NonNeg", {}),
                     "bias_constraint": None}),
    (layers.BatchNormalization, {"axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True,
                                 "scale": True,
                                 "beta_initializer": _keras_obj("keras.initializers", "Zeros", {}),
                                 "gamma_initializer": _keras_obj("keras.initializers", "Ones", {}),
                                 "moving_mean_initializer": _keras_obj("keras.initializers", "Zeros", {}),
                                 "moving_variance_initializer": _keras_obj("keras.initializers", "Ones", {}),
                                 "beta_regularizer": None, "gamma_regularizer": None,
                                 "beta_constraint": None,
                                 "gamma_constraint": _keras_obj("keras.constraints", "UnitNorm", {"axis": 0}),
                                 "synchronized": False, "renorm": False, "renorm_clipping": None,
                                 "renorm_momentum": 0.99}),
    (layers.PReLU, {"alpha_initializer": _keras_obj("keras.initializers", "Zeros", {}),
                    "alpha_regularizer": None,
                    "alpha_constraint": _keras_obj("keras.constraints", "MinMaxNorm",
                                                   {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}),
                    "shared_axes": [1, 2]}),
    (layers.MaxPooling2D, {"pool_size": [2, 2], "padding": "valid", "strides": [2, 2],
                           "data_format": "channels_last"}),
    (layers.GlobalAveragePooling2D, {"data_format": "channels_last", "keepdims": False}),
    (layers.Flatten, {"data_format": "channels_last"}),
    (layers.Dropout, {"rate": 0.5, "seed": None, "noise_shape": None}),
])
def test_keras_written_config_loads(cls, config):
    layer = cls.from_config({"name": "from_keras", "trainable": True, "dtype": _POLICY, **config})
    assert layer.name == "from_keras" and layer.dtype == np.float32
    for key in ("kernel_constraint", "gamma_constraint", "alpha_constraint"):
        if config.get(key):
            constraint = getattr(layer, key)
            assert type(constraint).__name__ == config[key]["class_name"]
            assert constraint.get_config() == config[key]["config"]


def test_unsupported_keras_arguments_raise_clearly():
    with pytest.raises(ValueError, match="mixed precision"):
        layers.Dense(2, dtype="mixed_float16")
    with pytest.raises(ValueError, match="activity_regularizer"):
        layers.Dense(2, activity_regularizer="l2")
    with pytest.raises(ValueError, match="LoRA"):
        layers.Dense(2, lora_rank=4)
    with pytest.raises(ValueError, match="quantiz"):
        layers.Dense(2, quantization_config={"mode": "int8"})
    with pytest.raises(ValueError, match="LoRA"):
        layers.Conv2D(2, 3, lora_rank=4)
