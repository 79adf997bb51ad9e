"""Lambda: a function used as a layer, its output shape, and its config (which names the
function and never carries code)."""

import numpy as np
import pytest

import nncore
from nncore import layers as L
from nncore.errors import ShapeError
from nncore.layers.lambda_layer import register_function


def square(x):
    return np.square(x)


def stacker(x):
    return np.concatenate([x, x], axis=1)


def stacker_shape(s):
    return (s[0], s[1] * 2)


def scaled(x, factor, offset=None, training=None):
    out = x * factor
    if offset is not None:
        out = out + np.asarray(offset)
    return out + (1.0 if training else 0.0)


def roundtrip(layer, custom_objects=None):
    return L.Lambda.from_config(layer.get_config(), custom_objects=custom_objects)


# keras/src/layers/core/lambda_layer_test.py::LambdaTest::test_lambda_basics
@pytest.mark.parametrize("kwargs, in_shape, out_shape, objects", [
    ({"function": square}, (2, 3), (2, 3), {"square": square}),
    ({"function": square, "mask": np.ones((2, 3))}, (2, 3, 4), (2, 3, 4), {"square": square}),
    ({"function": stacker, "output_shape": (6,)}, (2, 3), (2, 6), {"stacker": stacker}),
    ({"function": stacker, "output_shape": stacker_shape}, (2, 3), (2, 6),
     {"stacker": stacker, "stacker_shape": stacker_shape}),
])
def test_lambda_basics(kwargs, in_shape, out_shape, objects):
    layer = L.Lambda(**kwargs)
    assert layer.supports_masking == ("mask" in kwargs)
    assert tuple(layer.compute_output_shape(in_shape)) == out_shape
    x = np.random.default_rng(0).standard_normal(in_shape)
    y = layer.call(x)
    assert y.shape == out_shape
    expected = square(x) if kwargs["function"] is square else stacker(x)
    np.testing.assert_array_equal(y, expected)
    clone = roundtrip(layer, objects)
    assert clone.get_config() == layer.get_config()
    np.testing.assert_array_equal(clone.call(x), expected)
    assert tuple(clone.compute_output_shape(in_shape)) == out_shape
    assert layer.weights == [] and clone.weights == []


# keras/src/layers/core/lambda_layer_test.py::LambdaTest::test_correctness
def test_correctness_and_named_function_roundtrip():
    layer = L.Lambda(square)
    np.testing.assert_array_equal(layer.call(2 * np.ones((2, 3))), 4 * np.ones((2, 3)))
    assert layer.get_config()["function"] == {
        "module": __name__, "class_name": "function", "config": "square",
        "registered_name": "square"}
    clone = roundtrip(layer, {"square": square})
    np.testing.assert_array_equal(clone.call(2 * np.ones((2, 3))), 4 * np.ones((2, 3)))


def test_called_as_a_layer_and_in_a_model():
    layer = L.Lambda(square)
    np.testing.assert_allclose(layer(np.full((2, 3), 3.0, "float32")), np.full((2, 3), 9.0))
    inp = nncore.Input(shape=(3,))
    out = L.Lambda(stacker)(inp)
    assert out.shape == (None, 6)
    model = nncore.Model(inp, out)
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(model.predict(x, verbose=0), stacker(x))


def test_gradient_through_a_lambda_matches_finite_differences():
    layer = L.Lambda(square, dtype="float64")
    x = np.random.default_rng(3).standard_normal((4, 3))
    assert nncore.gradcheck(layer, x)


# keras/src/layers/core/lambda_layer_test.py::LambdaTest::test_from_config_fails_closed_without_safe_mode_scope
@pytest.mark.parametrize("safe_mode", [None, False])
def test_serialized_code_is_never_loaded(safe_mode):
    config = L.Lambda(square).get_config()
    config["function"] = {"class_name": "__lambda__",
                          "config": {"code": "ZXhpdCgp", "defaults": None, "closure": None}}
    with pytest.raises(ValueError, match="Lambda function: .*never runs serialized code"):
        L.Lambda.from_config(config, safe_mode=safe_mode)


# keras/src/layers/core/lambda_layer_test.py::LambdaTest::test_correctness_lambda_shape
def test_lambda_functions_work_but_refuse_serialization():
    layer = L.Lambda(lambda x: x ** 2, output_shape=lambda s: s)
    np.testing.assert_array_equal(layer.call(2 * np.ones((2, 3))), 4 * np.ones((2, 3)))
    assert layer.compute_output_shape((None, 3)) == (None, 3)
    with pytest.raises(ValueError, match="lambda cannot be serialized safely.*register"):
        layer.get_config()
    layer = L.Lambda(square, output_shape=lambda s: s)
    with pytest.raises(ValueError, match="output_shape: a lambda cannot be serialized"):
        layer.get_config()


def test_closure_refuses_serialization():
    factor = 3.0

    def times(x):
        return x * factor

    layer = L.Lambda(times)
    np.testing.assert_array_equal(layer.call(np.ones((1, 2))), [[3.0, 3.0]])
    with pytest.raises(ValueError, match="closure 'times' cannot be serialized safely"):
        layer.get_config()


def test_unknown_function_names_custom_objects_and_imports_nothing():
    config = L.Lambda(square).get_config()
    with pytest.raises(ValueError, match="custom_objects=.*'square'"):
        L.Lambda.from_config(config)
    config["function"] = {"module": "os", "class_name": "function", "config": "system",
                          "registered_name": "system"}
    with pytest.raises(ValueError, match="'system' .*unknown"):
        L.Lambda.from_config(config)


def test_registered_function_loads_by_name_inside_a_model():
    cube = register_function(lambda x: x ** 3, name="test_lambda_layer>cube")
    layer = L.Lambda(cube)
    assert layer.get_config()["function"]["registered_name"] == "test_lambda_layer>cube"
    inp = nncore.Input(shape=(2,))
    model = nncore.Model(inp, L.Lambda(cube, name="cube")(inp))
    clone = nncore.Model.from_config(model.get_config())
    assert clone.get_layer("cube").function is cube
    x = np.array([[1.0, -2.0]], "float32")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), x ** 3)


def test_nncore_ops_resolve_without_registration():
    layer = L.Lambda(nncore.ops.square)
    clone = roundtrip(layer)
    assert clone.function is nncore.ops.square


def test_arguments_training_and_mask_are_passed():
    offset = np.array([1.0, 2.0])
    layer = L.Lambda(scaled, arguments={"factor": 2.0, "offset": offset})
    x = np.ones((1, 2))
    np.testing.assert_array_equal(layer.call(x), [[3.0, 4.0]])
    np.testing.assert_array_equal(layer.call(x, training=True), [[4.0, 5.0]])
    clone = roundtrip(layer, {"scaled": scaled})
    assert isinstance(clone.arguments["offset"], np.ndarray)
    np.testing.assert_array_equal(clone.call(x), [[3.0, 4.0]])

    def with_mask(x, mask=None):
        return x if mask is None else x * mask

    np.testing.assert_array_equal(L.Lambda(with_mask).call(x, mask=np.array([[0.0, 1.0]])),
                                  [[0.0, 1.0]])
    masked = L.Lambda(square, mask=lambda inputs, mask: inputs > 0)
    np.testing.assert_array_equal(masked.compute_mask(np.array([[-1.0, 1.0]])), [[False, True]])


def test_output_shape_inference():
    layer = L.Lambda(lambda x: x.sum(axis=-1, keepdims=True))
    assert layer.compute_output_shape((None, 4, 5)) == (None, 4, 1)
    assert layer.compute_output_shape((7, 4, 5)) == (7, 4, 1)
    with pytest.raises(ShapeError, match="output_shape="):
        L.Lambda(square).compute_output_shape((None, None, 3))

    def broken(x):
        raise RuntimeError("needs a real input")

    with pytest.raises(ShapeError, match="needs a real input.*output_shape="):
        L.Lambda(broken).compute_output_shape((None, 3))


def test_bad_arguments():
    with pytest.raises(TypeError, match="callable"):
        L.Lambda("square")
    with pytest.raises(TypeError, match="arguments"):
        L.Lambda(square, arguments=[1])
    with pytest.raises(ValueError, match="output_shape"):
        L.Lambda(square, output_shape="wide")
