"""Cases ported from Keras 3's model tests (keras/src/models/model_test.py, sequential_test.py,
functional_test.py): log keys of single-, list- and dict-output models under every way of
giving losses and metrics, dict outputs, Sequential's add/pop/build/config, functional
multi-input and multi-output models. Keras' ``input_a + input_b`` becomes an ``Add`` layer."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import nncore
from nncore import Input, Model, Sequential
from nncore import layers


# keras/src/models/model_test.py: the model builders
def _get_model_multi_outputs_list():
    x = Input(shape=(3,), name="input_a")
    output_a = layers.Dense(1, name="output_a")(x)
    output_b = layers.Dense(1, name="output_b", activation="sigmoid")(x)
    return Model(x, [output_a, output_b])


def _get_model_multi_outputs_list_no_output_names():
    x = Input(shape=(3,), name="input_a")
    output_a = layers.Dense(1)(x)
    output_b = layers.Dense(1, activation="sigmoid")(x)
    return Model(x, [output_a, output_b])


def _get_model_single_output():
    x = Input(shape=(3,), name="input_a")
    return Model(x, layers.Dense(1, name="output_a")(x))


def _get_model_single_output_list():
    x = Input(shape=(3,), name="input_a")
    return Model(x, [layers.Dense(1, name="output_a")(x)])


def _get_model_single_output_dict():
    x = Input(shape=(3,), name="input_a")
    return Model(x, {"output_a": layers.Dense(1, name="output_a")(x)})


def _get_model_multi_outputs_dict():
    x = Input(shape=(3,), name="input_a")
    output_a = layers.Dense(1, name="output_a")(x)
    output_b = layers.Dense(1, name="output_b", activation="sigmoid")(x)
    return Model(x, {"output_a": output_a, "output_b": output_b})


def _get_model_multi_outputs_dict_with_single_tensor():
    x = Input(shape=(3,), name="input_a")
    output = layers.Dense(1, name="output_a")(x)
    return Model(x, {"output_a": output, "output_b": output})


def _data():
    x = np.random.rand(8, 3)
    y1 = np.random.rand(8, 1)
    y2 = np.random.randint(0, 2, (8, 1))
    return x, y1, y2


def _fit_keys(model, x, y):
    hist = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    return sorted(hist.history.keys())


# keras/src/models/model_test.py::ModelTest::test_functional_single_output
@pytest.mark.parametrize("model_fn", [_get_model_single_output, _get_model_single_output_list,
                                      _get_model_single_output_dict])
@pytest.mark.parametrize("loss_type", ["str", "list", "dict", "dict_list"])
def test_functional_single_output(model_fn, loss_type):
    model = model_fn()
    loss = "mean_squared_error"
    if loss_type == "list":
        loss = [loss]
    elif loss_type == "dict":
        loss = {"output_a": loss}
    elif loss_type == "dict_list":
        loss = {"output_a": [loss]}
    model.compile(optimizer="sgd", loss=loss,
                  metrics={"output_a": ["mean_squared_error", "mean_absolute_error"]},
                  weighted_metrics={"output_a": "mean_squared_error"})
    x = np.random.rand(8, 3)
    y = np.random.rand(8, 1)
    assert _fit_keys(model, x, y) == sorted(
        ["loss", "mean_absolute_error", "mean_squared_error", "weighted_mean_squared_error"])


# keras/src/models/model_test.py::ModelTest::test_functional_list_outputs_list_losses
def test_functional_list_outputs_list_losses():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss=["mean_squared_error", "binary_crossentropy"],
                  metrics=["mean_squared_error", ["mean_squared_error", "accuracy"]],
                  loss_weights=[0.1, 2])
    assert _fit_keys(model, x, (y1, y2)) == sorted(
        ["loss", "output_a_loss", "output_a_mean_squared_error", "output_b_accuracy",
         "output_b_loss", "output_b_mean_squared_error"])


# keras/src/models/model_test.py::ModelTest::test_functional_list_outputs_list_losses_abbr
def test_functional_list_outputs_list_losses_abbr():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss=["mse", "bce"],
                  metrics=[["bce", "mse", "mae"], ["mse", "acc"]], loss_weights=[0.1, 2])
    assert _fit_keys(model, x, (y1, y2)) == sorted(
        ["loss", "output_a_loss", "output_a_bce", "output_a_mae", "output_a_mse",
         "output_b_acc", "output_b_loss", "output_b_mse"])


# keras/src/models/model_test.py::ModelTest::test_functional_list_outputs_nested_list_losses
def test_functional_list_outputs_nested_list_losses():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss=["mean_squared_error", ["binary_crossentropy"]],
                  metrics=["mean_squared_error", ["mean_squared_error", "accuracy"]],
                  loss_weights=[0.1, 2])
    assert _fit_keys(model, x, (y1, y2)) == sorted(
        ["loss", "output_a_loss", "output_a_mean_squared_error", "output_b_accuracy",
         "output_b_loss", "output_b_mean_squared_error"])


# keras/src/models/model_test.py::ModelTest::test_functional_dict_outputs_dict_losses
def test_functional_dict_outputs_dict_losses():
    model = _get_model_multi_outputs_dict()
    x, y1, y2 = _data()
    model.compile(
        optimizer="sgd",
        loss={"output_a": "mean_squared_error", "output_b": ["binary_crossentropy"]},
        metrics={"output_a": ["mean_squared_error"],
                 "output_b": ["mean_squared_error", "accuracy"]},
        weighted_metrics={"output_a": ["mean_squared_error"],
                          "output_b": ["mean_squared_error", "accuracy"]})
    outputs = model.predict(x, verbose=0)
    assert isinstance(outputs, dict)
    assert outputs["output_a"].shape == (8, 1)
    assert outputs["output_b"].shape == (8, 1)
    assert _fit_keys(model, x, {"output_a": y1, "output_b": y2}) == sorted(
        ["loss", "output_a_loss", "output_a_mean_squared_error",
         "output_a_weighted_mean_squared_error", "output_b_accuracy", "output_b_loss",
         "output_b_mean_squared_error", "output_b_weighted_accuracy",
         "output_b_weighted_mean_squared_error"])


# keras/src/models/model_test.py::ModelTest::test_functional_dict_outputs_dict_losses_with_undefined_loss
def test_functional_dict_outputs_dict_losses_with_undefined_loss():
    model = _get_model_multi_outputs_dict()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd", loss={"output_b": ["binary_crossentropy"]},
                  metrics={"output_b": ["mean_squared_error", "accuracy"]},
                  weighted_metrics={"output_b": ["mean_squared_error", "accuracy"]})
    outputs = model.predict(x, verbose=0)
    assert isinstance(outputs, dict)
    assert outputs["output_a"].shape == (8, 1)
    assert outputs["output_b"].shape == (8, 1)
    before = model.get_layer("output_a").get_weights()
    assert _fit_keys(model, x, {"output_a": y1, "output_b": y2}) == sorted(
        ["loss", "output_b_accuracy", "output_b_mean_squared_error",
         "output_b_weighted_accuracy", "output_b_weighted_mean_squared_error"])
    # The output without a loss gets no gradient.
    for a, b in zip(before, model.get_layer("output_a").get_weights()):
        np.testing.assert_array_equal(a, b)


# keras/src/models/model_test.py::ModelTest::test_functional_list_outputs_dict_losses_metrics
def test_functional_list_outputs_dict_losses_metrics():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(
        optimizer="sgd",
        loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
        metrics={"output_a": ["mean_squared_error"],
                 "output_b": ["mean_squared_error", "accuracy"]},
        weighted_metrics={"output_a": ["mean_squared_error"],
                          "output_b": ["mean_squared_error", "accuracy"]})
    outputs = model.predict(x, verbose=0)
    assert isinstance(outputs, list)
    assert outputs[0].shape == (8, 1) and outputs[1].shape == (8, 1)
    assert _fit_keys(model, x, (y1, y2)) == sorted(
        ["loss", "output_a_loss", "output_a_mean_squared_error",
         "output_a_weighted_mean_squared_error", "output_b_accuracy", "output_b_loss",
         "output_b_mean_squared_error", "output_b_weighted_accuracy",
         "output_b_weighted_mean_squared_error"])


# keras/src/models/model_test.py::ModelTest::test_functional_list_outputs_dict_losses_metrics_uniq_weighted
def test_functional_list_outputs_dict_losses_metrics_uniq_weighted():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(
        optimizer="sgd",
        loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
        metrics={"output_a": ["mean_squared_error"], "output_b": ["mean_squared_error"]},
        weighted_metrics={"output_a": ["mean_squared_error"], "output_b": ["accuracy"]})
    assert _fit_keys(model, x, (y1, y2)) == sorted(
        ["loss", "output_a_loss", "output_a_mean_squared_error",
         "output_a_weighted_mean_squared_error", "output_b_accuracy", "output_b_loss",
         "output_b_mean_squared_error"])


# keras/src/models/model_test.py::ModelTest::test_functional_list_outputs_dict_losses_partial_metrics
def test_functional_list_outputs_dict_losses_partial_metrics():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd",
                  loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
                  metrics={"output_b": ["mean_squared_error", "accuracy"]})
    assert _fit_keys(model, x, (y1, y2)) == sorted(
        ["loss", "output_a_loss", "output_b_accuracy", "output_b_loss",
         "output_b_mean_squared_error"])


# keras/src/models/model_test.py::ModelTest::test_functional_dict_outputs_with_single_tensor
def test_functional_dict_outputs_with_single_tensor():
    model = _get_model_multi_outputs_dict_with_single_tensor()
    x, y1, y2 = _data()
    assert len(model.outputs) == 2
    model.compile(optimizer="sgd",
                  loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"})
    assert _fit_keys(model, x, (y1, y2)) == sorted(["loss", "output_a_loss", "output_b_loss"])


# keras/src/models/model_test.py::ModelTest::test_functional_list_outputs_dict_losses_invalid_keys
# (nncore checks the keys at compile, Keras at the first fit)
def test_functional_list_outputs_dict_losses_invalid_keys():
    model = _get_model_multi_outputs_list()
    with pytest.raises(ValueError, match="Expected keys"):
        model.compile(optimizer="sgd", loss={"output_a": "mean_squared_error",
                                             "output_c": "binary_crossentropy"})


# keras/src/models/model_test.py::ModelTest::test_functional_list_outputs_dict_losses_no_output_names
def test_functional_list_outputs_dict_losses_no_output_names():
    model = _get_model_multi_outputs_list_no_output_names()
    with pytest.raises(ValueError, match="Expected keys"):
        model.compile(optimizer="sgd", loss={"output_a": "mean_squared_error"})


# keras/src/models/model_test.py::ModelTest::test_functional_list_outputs_dict_metrics_invalid_keys
def test_functional_list_outputs_dict_metrics_invalid_keys():
    model = _get_model_multi_outputs_list()
    with pytest.raises(ValueError, match="(?s)Invalid `metrics`.*output_c"):
        model.compile(optimizer="sgd",
                      loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
                      metrics={"output_c": ["mean_squared_error", "accuracy"]})


# keras/src/models/model_test.py::ModelTest::test_functional_dict_outputs_dict_losses_invalid_keys
# (Keras raises a KeyError there; nncore a ValueError naming the keys, as for list outputs)
def test_functional_dict_outputs_dict_losses_invalid_keys():
    model = _get_model_multi_outputs_dict()
    with pytest.raises(ValueError, match="output_c"):
        model.compile(optimizer="sgd", loss={"output_a": "mean_squared_error",
                                             "output_c": "binary_crossentropy"})


# keras/src/models/model_test.py::ModelTest::test_functional_dict_outputs_dict_metrics_invalid_keys
def test_functional_dict_outputs_dict_metrics_invalid_keys():
    model = _get_model_multi_outputs_dict()
    with pytest.raises(ValueError, match="(?s)Invalid `metrics`.*output_c"):
        model.compile(optimizer="sgd",
                      loss={"output_a": "mean_squared_error", "output_b": "binary_crossentropy"},
                      metrics={"output_c": ["mean_squared_error", "accuracy"]})


# keras/src/models/model_test.py::ModelTest::test_functional_list_outputs_invalid_nested_list_losses
def test_functional_list_outputs_invalid_nested_list_losses():
    model = _get_model_multi_outputs_list()
    x, y1, y2 = _data()
    model.compile(optimizer="sgd",
                  loss=["mean_squared_error", ["mean_squared_error", "binary_crossentropy"]])
    assert _fit_keys(model, x, (y1, y2)) == sorted(["loss", "output_a_loss", "output_b_loss"])


def test_several_losses_on_one_output_add_up():
    # What the case above implies: both losses of output_b count in the total.
    x, y1, y2 = _data()
    nncore.set_seed(0)
    both = _get_model_multi_outputs_list()
    nncore.set_seed(0)
    ref = _get_model_multi_outputs_list()
    ref.set_weights(both.get_weights())
    both.compile(optimizer="sgd",
                 loss=["mean_squared_error", ["mean_squared_error", "binary_crossentropy"]])
    ref.compile(optimizer="sgd", loss=["mean_squared_error", "mean_squared_error"])
    ref_bce = _get_model_multi_outputs_list()
    ref_bce.set_weights(both.get_weights())
    ref_bce.compile(optimizer="sgd", loss=["mean_squared_error", "binary_crossentropy"])
    got = both.evaluate(x, [y1, y2], verbose=0, return_dict=True)
    mse = ref.evaluate(x, [y1, y2], verbose=0, return_dict=True)
    bce = ref_bce.evaluate(x, [y1, y2], verbose=0, return_dict=True)
    np.testing.assert_allclose(got["output_b_loss"],
                               mse["output_b_loss"] + bce["output_b_loss"], rtol=1e-5)


# keras/src/models/model_test.py::ModelTest::test_functional_dict_outputs_dict_losses (the
# structure survives a config round trip)
def test_dict_outputs_config_round_trip():
    model = _get_model_multi_outputs_dict()
    clone = Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = np.random.rand(4, 3).astype(np.float32)
    out, back = model.predict(x, verbose=0), clone.predict(x, verbose=0)
    assert sorted(back) == ["output_a", "output_b"]
    for k in out:
        np.testing.assert_allclose(out[k], back[k], rtol=1e-6)
    assert model.output_shape == {"output_a": (None, 1), "output_b": (None, 1)}
    assert isinstance(model.predict_on_batch(x), dict)


# keras/src/models/sequential_test.py::SequentialTest::test_basic_flow_with_input
def test_sequential_basic_flow_with_input():
    model = Sequential(name="seq")
    model.add(Input(shape=(2,), batch_size=3))
    model.add(layers.Dense(4))
    model.add(layers.Dense(5))
    assert len(model.layers) == 2
    assert model.built
    assert len(model.weights) == 4
    assert model(np.random.random((3, 2))).shape == (3, 5)

    model = Sequential(layers=[Input(shape=(2,), batch_size=3), layers.Dense(4),
                               layers.Dense(5)])
    assert len(model.layers) == 2
    assert model.built
    assert len(model.weights) == 4
    assert model(np.random.random((3, 2))).shape == (3, 5)

    model.pop()
    assert len(model.layers) == 1
    assert model.built
    assert len(model.weights) == 2
    assert model(np.random.random((3, 2))).shape == (3, 4)


# keras/src/models/sequential_test.py::SequentialTest::test_legacy_flow_with_input_shape
# (input_dim= is not a Dense argument in nncore: that part is left out)
def test_sequential_legacy_flow_with_input_shape():
    model = Sequential(name="seq")
    model.add(layers.Dense(4, input_shape=(2,)))
    model.add(layers.Dense(5))
    assert len(model.layers) == 2
    assert model.built
    assert len(model.weights) == 4

    # Subsequent input_shapes are ignored
    model = Sequential(name="seq")
    model.add(layers.Dense(4, input_shape=(2,)))
    model.add(layers.Dense(5, input_shape=(3, 4)))
    assert len(model.layers) == 2
    assert model.built
    assert len(model.weights) == 4


# keras/src/models/sequential_test.py::SequentialTest::test_basic_flow_deferred
def test_sequential_basic_flow_deferred():
    model = Sequential(name="seq")
    model.add(layers.Dense(4))
    model.add(layers.Dense(5))
    assert len(model.layers) == 2
    y = model(np.random.random((3, 2)))
    assert model.built
    assert y.shape == (3, 5)

    model = Sequential(layers=[layers.Dense(4), layers.Dense(5)])
    assert model(np.random.random((3, 2))).shape == (3, 5)

    model.pop()
    assert len(model.layers) == 1
    assert model.built
    assert len(model.weights) == 2
    assert model(np.random.random((3, 2))).shape == (3, 4)


# keras/src/models/sequential_test.py::SequentialTest::test_nested_sequential
def test_sequential_nested_sequential():
    model = Sequential()
    model.add(Input(shape=(16,)))
    Sequential([model])


# keras/src/models/sequential_test.py::SequentialTest::test_errors
def test_sequential_errors():
    model = Sequential()
    model.add(Input(shape=(2,), batch_size=3))
    with pytest.raises(ValueError, match="already been configured"):
        model.add(Input(shape=(2,), batch_size=3))
    with pytest.raises(ValueError, match="already been configured"):
        model.add(layers.InputLayer(shape=(2,), batch_size=3))

    model = Sequential()
    model.add(layers.Dense(2, name="dense"))
    with pytest.raises(ValueError, match="should have unique names"):
        model.add(layers.Dense(2, name="dense"))

    model = Sequential()
    with pytest.raises(ValueError, match="no layers"):
        model(np.random.random((3, 2)))

    model = Sequential()
    model.add(Input(shape=(2,), batch_size=3))
    model.add(layers.Dense(2))
    with pytest.raises(ValueError, match="declared with input shape"):
        model.build((3, 4))
    model.build((3, 2))


# keras/src/models/sequential_test.py::SequentialTest::test_serialization (config round trips,
# as run_class_serialization_test: the revived model's config equals the original's)
def test_sequential_serialization():
    def revive(model):
        revived = Sequential.from_config(model.get_config())
        assert revived.get_config() == model.get_config()
        return revived

    model = Sequential(name="seq")
    model.add(layers.Dense(4))
    model.add(layers.Dense(5))
    assert len(revive(model).layers) == 2

    model.build((2, 3))
    revived = revive(model)
    assert len(revived.layers) == 2
    assert revived.built

    model = Sequential(name="seq")
    model.add(Input(shape=(2,), batch_size=3))
    model.add(layers.Dense(4))
    model.add(layers.Dense(5))
    model.add(layers.Dense(6))
    revived = revive(model)
    assert len(revived.layers) == 3
    assert revived.built


# keras/src/models/sequential_test.py::SequentialTest::test_functional_properties
def test_sequential_functional_properties():
    model = Sequential(name="seq")
    inputs = Input(shape=(2,))
    model.add(inputs)
    model.add(layers.Dense(4))
    assert model.inputs == [inputs]
    assert len(model.outputs) == 1
    assert model.input_shape == (None, 2)
    assert model.output_shape == (None, 4)


# keras/src/models/sequential_test.py::SequentialTest::test_pickleable
def test_sequential_pickleable():
    model = Sequential(name="seq")
    model.add(layers.Dense(4))
    result = pickle.loads(pickle.dumps(model))
    assert len(result.layers) == 1


# keras/src/models/sequential_test.py::SequentialTest::test_bad_layer
def test_sequential_bad_layer():
    model = Sequential(name="seq")
    with pytest.raises(ValueError, match="(?i)only instances of"):
        model.add({})


# keras/src/models/sequential_test.py::SequentialTest::test_compute_output_shape
def test_sequential_compute_output_shape():
    layer = Sequential([layers.Dense(4), layers.Dense(8)])
    assert layer.compute_output_shape((1, 2)) == (1, 8)


# keras/src/models/sequential_test.py::SequentialTest::test_hasattr
def test_sequential_hasattr():
    model = Sequential()
    for attr in ("input_shape", "output_shape", "inputs", "outputs"):
        assert not hasattr(model, attr)
    model = Sequential([layers.Input((4,)), layers.Dense(8)])
    for attr in ("input_shape", "output_shape", "inputs", "outputs"):
        assert hasattr(model, attr)


# keras/src/models/sequential_test.py::SequentialTest::test_layers_setter
def test_sequential_layers_setter():
    model = Sequential()
    with pytest.raises(AttributeError, match=r"Use `add\(\)` and `pop\(\)`"):
        model.layers = [layers.Dense(4)]


# keras/src/models/sequential_test.py::SequentialTest::test_training_arg (Dropout as the layer
# whose output depends on training)
def test_sequential_training_arg():
    model = Sequential([layers.Dropout(0.999999)])
    np.testing.assert_allclose(model(np.ones((4, 20))), 1.0)
    np.testing.assert_allclose(model(np.ones((4, 20)), training=False), 1.0)
    np.testing.assert_allclose(model(np.ones((4, 20)), training=True), 0.0)


def _two_input_model(name=None):
    input_a = Input(shape=(3,), batch_size=2, name="input_a")
    input_b = Input(shape=(3,), batch_size=2, name="input_b")
    x = layers.Add()([input_a, input_b])
    x = layers.Dense(5, name="dense_1")(x)
    outputs = layers.Dense(4, name="dense_2")(x)
    return Model([input_a, input_b], outputs, name=name)


# keras/src/models/functional_test.py::FunctionalTest::test_basic_flow_multi_input
def test_functional_basic_flow_multi_input():
    model = _two_input_model(name="basic")
    assert model.name == "basic"
    assert isinstance(model, Model)
    out_val = model([np.random.random((2, 3)), np.random.random((2, 3))])
    assert out_val.shape == (2, 4)
    out_val = model([Input(shape=(3,), batch_size=2, name="input_a_2"),
                     Input(shape=(3,), batch_size=2, name="input_b_2")])
    assert tuple(out_val.shape) == (2, 4)


# keras/src/models/functional_test.py::FunctionalTest::test_basic_flow_multi_output
def test_functional_basic_flow_multi_output():
    inputs = Input(shape=(3,), batch_size=2, name="input")
    x = layers.Dense(5)(inputs)
    output_a = layers.Dense(4)(x)
    output_b = layers.Dense(5)(x)
    model = Model(inputs, [output_a, output_b])
    out_val = model(np.random.random((2, 3)))
    assert isinstance(out_val, list)
    assert len(out_val) == 2
    assert out_val[0].shape == (2, 4)
    assert out_val[1].shape == (2, 5)


# keras/src/models/functional_test.py::FunctionalTest::test_layer_getters (the add op is a
# layer here, so there is one layer more)
def test_functional_layer_getters():
    model = _two_input_model()
    assert len(model.layers) == 5
    assert model.get_layer(index=0).name == "input_a"
    assert model.get_layer(index=1).name == "input_b"
    assert model.get_layer(index=3).name == "dense_1"
    assert model.get_layer(index=4).name == "dense_2"
    assert model.get_layer(name="dense_1").name == "dense_1"


# keras/src/models/functional_test.py::FunctionalTest::test_passing_inputs_by_name (through
# predict, which reads a dict of inputs keyed by input name)
def test_functional_passing_inputs_by_name():
    model = _two_input_model()
    in_val = {"input_a": np.random.random((2, 3)), "input_b": np.random.random((2, 3))}
    assert model.predict(in_val, verbose=0).shape == (2, 4)
    np.testing.assert_allclose(model.predict(in_val, verbose=0),
                               model.predict([in_val["input_a"], in_val["input_b"]], verbose=0))


# keras/src/models/functional_test.py::FunctionalTest::test_basic_flow_dict_io
def test_functional_basic_flow_dict_io():
    input_a = Input(shape=(3,), batch_size=2, name="a")
    input_b = Input(shape=(3,), batch_size=2, name="b")
    x = layers.Add()([input_a, input_b])
    x = layers.Dense(5)(x)
    outputs = layers.Dense(4)(x)
    with pytest.raises(ValueError, match="inputs must"):
        Model({"a": "input_a", "b": input_b}, outputs)
    with pytest.raises(ValueError, match="outputs must"):
        Model({"a": input_a, "b": input_b}, "outputs")
    model = Model({"a": input_a, "b": input_b}, outputs)
    out_val = model({"a": np.random.random((2, 3)), "b": np.random.random((2, 3))})
    assert out_val.shape == (2, 4)
    out_val = model({"a": Input(shape=(3,), batch_size=2), "b": Input(shape=(3,), batch_size=2)})
    assert tuple(out_val.shape) == (2, 4)


# keras/src/models/functional_test.py::FunctionalTest::test_named_input_dict_io
def test_functional_named_input_dict_io():
    input_a = Input(shape=(3,), batch_size=2, name="a")
    outputs = layers.Dense(4)(layers.Dense(5)(input_a))
    model = Model(input_a, outputs)
    assert model({"a": np.random.random((2, 3))}).shape == (2, 4)
    assert tuple(model({"a": Input(shape=(3,), batch_size=2)}).shape) == (2, 4)

    input_a = Input(shape=(3,), batch_size=2, name="a")
    input_b = Input(shape=(4,), batch_size=2, name="b")
    x = layers.Concatenate()([layers.Dense(5)(input_a), layers.Dense(5)(input_b)])
    outputs = layers.Dense(4)(x)
    model = Model([input_a, input_b], outputs)
    in_val = {"a": np.random.random((2, 3)), "b": np.random.random((2, 4))}
    assert model(in_val).shape == (2, 4)
    in_sym = {"a": Input(shape=(3,), batch_size=2), "b": Input(shape=(4,), batch_size=2)}
    assert tuple(model(in_sym).shape) == (2, 4)

    model = Model({"a": input_a, "b": input_b}, outputs)
    assert model(in_val).shape == (2, 4)
    assert tuple(model(in_sym).shape) == (2, 4)

    model = Model({"c": input_a, "d": input_b}, outputs)
    assert model({"c": in_val["a"], "d": in_val["b"]}).shape == (2, 4)
    assert tuple(model({"c": in_sym["a"], "d": in_sym["b"]}).shape) == (2, 4)
    with pytest.raises(ValueError):
        model(in_val)


def test_dict_inputs_fit_predict_and_config():
    # The keys of dict inputs name the data in fit/predict and survive get_config.
    input_a = Input(shape=(3,), name="a")
    input_b = Input(shape=(4,), name="b")
    outputs = layers.Dense(2)(layers.Concatenate()([input_a, input_b]))
    model = Model({"c": input_a, "d": input_b}, outputs)
    model.compile(optimizer="sgd", loss="mse")
    data = {"c": np.random.random((8, 3)), "d": np.random.random((8, 4))}
    model.fit(data, np.zeros((8, 2)), batch_size=4, verbose=0)
    clone = Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert clone.input_names == ["c", "d"]
    np.testing.assert_allclose(clone.predict(data, verbose=0), model.predict(data, verbose=0),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="no array for input 'c'"):
        model.predict({"a": data["c"], "b": data["d"]}, verbose=0)


# keras/src/models/sequential_test.py::SequentialTest::test_basic_flow_with_functional_model_as_first_layer
def test_sequential_with_functional_model_as_first_layer():
    inputs = Input((16, 16, 3))
    outputs = layers.Conv2D(4, 3, padding="same")(inputs)
    functional_model = Model(inputs=inputs, outputs=outputs)
    model = Sequential([functional_model, layers.Flatten(), layers.Dense(1)])
    assert len(model.layers) == 3
    assert model.built
    for layer in model.layers:
        assert layer.built
    assert tuple(model(np.random.random((1, 16, 16, 3))).shape) == (1, 1)
    assert tuple(model(Input(batch_shape=(1, 16, 16, 3))).shape) == (1, 1)


# keras/src/models/sequential_test.py::SequentialTest::test_basic_flow_with_sequential_model_as_first_layer
def test_sequential_with_sequential_model_as_first_layer():
    sequential_model = Sequential([Input((16, 16, 3)), layers.Conv2D(4, 3, padding="same")])
    model = Sequential([sequential_model, layers.Flatten(), layers.Dense(1)])
    assert len(model.layers) == 3
    assert model.built
    for layer in model.layers:
        assert layer.built
    assert tuple(model(np.random.random((1, 16, 16, 3))).shape) == (1, 1)
    assert tuple(model(Input(batch_shape=(1, 16, 16, 3))).shape) == (1, 1)


# keras/src/models/model_test.py::ModelTest::test_functional_pickling
@pytest.mark.parametrize("model_fn", [_get_model_single_output, _get_model_single_output_list])
def test_functional_pickling(model_fn):
    model = model_fn()
    model.compile()
    x = np.random.rand(8, 3)
    reloaded_pickle = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(np.array(reloaded_pickle.predict(x, verbose=0)),
                               np.array(model.predict(x, verbose=0)))


def test_compile_without_loss_refuses_training():
    # Keras' compile() takes no loss; training then asks for one.
    model = _get_model_single_output()
    model.compile()
    x, y = np.random.rand(8, 3), np.random.rand(8, 1)
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="No loss to compute"):
        model.evaluate(x, y, verbose=0)
    with pytest.raises(ValueError, match="No loss to compute"):
        model.train_on_batch(x, y)


# keras/src/models/model_test.py::ModelTest::test_layers_setter and
# keras/src/models/functional_test.py::FunctionalTest::test_layers_setter
def test_model_layers_setter():
    inputs = Input(shape=(3,), batch_size=2, name="input")
    model = Model(inputs, layers.Dense(5)(inputs))
    with pytest.raises(AttributeError, match="`Model.layers` attribute is reserved"):
        model.layers = [layers.Dense(4)]


# keras/src/models/functional_test.py::FunctionalTest::test_rank_standardization (direct calls;
# fit/predict keep refusing data of another rank)
def test_functional_rank_standardization():
    inputs = Input(shape=(3,), batch_size=2)
    model = Model(inputs, layers.Dense(3)(inputs))
    assert model(np.random.random((2, 3, 1))).shape == (2, 3)

    inputs = Input(shape=(3, 1), batch_size=2)
    model = Model(inputs, layers.Dense(3)(inputs))
    assert model(np.random.random((2, 3))).shape == (2, 3, 3)


# keras/src/models/functional_test.py::FunctionalTest::test_rank_standardization_failure (the
# simple input; nncore's message names the input, not a structure path)
def test_functional_rank_standardization_failure():
    inputs = Input(shape=(3,), name="foo")
    model = Model(inputs, layers.Dense(3)(inputs))
    with pytest.raises(ValueError, match="foo"):
        model.predict(np.random.random((2, 3, 4)), verbose=0)


def test_dict_outputs_are_ordered_by_key():
    # Keras flattens a dict of outputs in sorted key order: model.outputs, the per-output
    # losses and the evaluate list follow it, whatever the dict's own order.
    x = Input(shape=(3,), name="input_a")
    output_b = layers.Dense(1, name="output_b")(x)
    output_a = layers.Dense(2, name="output_a")(x)
    model = Model(x, {"output_b": output_b, "output_a": output_a})
    assert model.outputs == [output_a, output_b]
    assert model.output_names == ["output_a", "output_b"]
    model.compile(optimizer="sgd", loss="mse")
    data = np.random.rand(8, 3)
    y = {"output_a": np.random.rand(8, 2), "output_b": np.random.rand(8, 1)}
    logs = model.evaluate(data, y, return_dict=True, verbose=0)
    assert model.evaluate(data, y, verbose=0) == [logs["loss"], logs["output_a_loss"],
                                                 logs["output_b_loss"]]
    out = model.predict(data, verbose=0)
    assert out["output_a"].shape == (8, 2) and out["output_b"].shape == (8, 1)
