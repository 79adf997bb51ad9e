"""The model API against Keras 3 semantics: building (Sequential, functional DAGs), summary,
compile / fit / evaluate / predict and the *_on_batch calls, weights and configs, saving,
every layer's gradients in float64, errors, and optimizer steps against NumPy references."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nncore
from nncore import layers as L
from nncore import losses, optimizers


def rng(seed=0):
    return np.random.default_rng(seed)


def classification_data(n=32, features=6, classes=3, seed=0):
    r = rng(seed)
    x = r.standard_normal((n, features)).astype(np.float32)
    labels = r.integers(0, classes, n)
    return x, np.eye(classes, dtype=np.float32)[labels], labels


def mlp(features=6, classes=3, seed=0, name=None):
    nncore.set_seed(seed)
    inp = nncore.Input(shape=(features,))
    h = L.Dense(16, activation="tanh", name="hidden")(inp)
    out = L.Dense(classes, activation="softmax", name="probs")(h)
    return nncore.Model(inp, out, name=name)


def seed_cnn():
    """The CIFAR-10 model of seed 001."""
    inp = nncore.Input(shape=(32, 32, 3))
    layer = L.Conv2D(filters=8, kernel_size=(3, 3), padding="same")(inp)
    layer = L.MaxPool2D(pool_size=(2, 2))(layer)
    layer = L.Conv2D(filters=16, kernel_size=(3, 3), padding="same")(layer)
    layer = L.MaxPool2D(pool_size=(2, 2))(layer)
    layer = L.Flatten()(layer)
    layer = L.Dense(units=128)(layer)
    out = L.Dense(units=10, activation="softmax")(layer)
    return nncore.Model(inp, out)


def summary_text(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return "\n".join(lines)


# ---------------------------------------------------------------------- the seed model
def test_seed_model_summary_matches_keras():
    model = seed_cnn()
    text = summary_text(model)
    rows = {
        "Conv2D": [("(None, 32, 32, 8)", "224"), ("(None, 16, 16, 16)", "1,168")],
        "MaxPooling2D": [("(None, 16, 16, 8)", "0"), ("(None, 8, 8, 16)", "0")],
        "Flatten": [("(None, 1024)", "0")],
        "Dense": [("(None, 128)", "131,200"), ("(None, 10)", "1,290")],
        "InputLayer": [("(None, 32, 32, 3)", "0")],
    }
    for kind, expected in rows.items():
        found = [line.split() for line in text.splitlines() if f"({kind})" in line]
        assert len(found) == len(expected), (kind, text)
        for words, (shape, params) in zip(found, expected):
            line = " ".join(words)
            assert shape.replace(" ", "") in line.replace(" ", "") and words[-1] == params, line
    assert "Total params: 133,882" in text
    assert "Trainable params: 133,882" in text
    assert "Non-trainable params: 0" in text
    assert [l.count_params() for l in model.layers] == [0, 224, 0, 1168, 0, 0, 131200, 1290]
    assert model.count_params() == 133_882


def test_seed_model_trains_a_step_with_adam():
    model = seed_cnn()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    x = rng().random((8, 32, 32, 3), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng().integers(0, 10, 8)]
    loss, acc = model.train_on_batch(x, y)
    assert np.isfinite(loss) and 0.0 <= acc <= 1.0
    assert model.predict(x, verbose=0).shape == (8, 10)
    np.testing.assert_allclose(model.predict(x, verbose=0).sum(axis=1), 1.0, rtol=1e-5)


# ---------------------------------------------------------------------- building
def test_sequential_ways_to_give_the_input_shape():
    a = nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(3)])
    b = nncore.Sequential([L.Dense(3, input_shape=(4,))])
    c = nncore.Sequential([L.Dense(3)])
    assert a.built and b.built and not c.built
    with pytest.raises(ValueError, match="not built"):
        c.summary()
    assert c.predict(np.zeros((2, 4), np.float32), verbose=0).shape == (2, 3)
    assert c.built and c.count_params() == 15
    d = nncore.Sequential()
    d.add(nncore.Input(shape=(4,)))
    d.add(L.Dense(5))
    d.add(L.Dense(2))
    assert d.output_shape == (None, 2)
    assert d.pop().units == 2 and d.output_shape == (None, 5)


def test_functional_residual_add_computes_x_plus_f_x():
    inp = nncore.Input(shape=(5,))
    h = L.Dense(5, activation="tanh", name="f")(inp)
    out = L.Add()([inp, h])
    model = nncore.Model(inp, out)
    x = rng().standard_normal((7, 5)).astype(np.float32)
    k, b = model.get_layer("f").get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), x + np.tanh(x @ k + b), rtol=1e-5, atol=1e-6)
    assert "Connected to" in summary_text(model)


def test_functional_concatenate_and_multi_input():
    a = nncore.Input(shape=(3,), name="a")
    b = nncore.Input(shape=(2,), name="b")
    out = L.Concatenate()([L.Dense(4, name="da")(a), b])
    model = nncore.Model([a, b], out)
    assert model.output_shape == (None, 6)
    xa = rng(1).standard_normal((5, 3)).astype(np.float32)
    xb = rng(2).standard_normal((5, 2)).astype(np.float32)
    k, bias = model.get_layer("da").get_weights()
    want = np.concatenate([xa @ k + bias, xb], axis=1)
    np.testing.assert_allclose(model.predict([xa, xb], verbose=0), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict({"a": xa, "b": xb}, verbose=0), want, rtol=1e-5, atol=1e-6)


def test_shared_layer_weights_count_once_and_gradients_add_up():
    a = nncore.Input(shape=(3,))
    b = nncore.Input(shape=(3,))
    shared = L.Dense(2, name="shared")
    out = L.Add()([shared(a), shared(b)])
    model = nncore.Model([a, b], out)
    assert model.count_params() == 8 and len(model.weights) == 2
    xa, xb = rng().standard_normal((2, 4, 3)).astype(np.float32)
    k, bias = shared.get_weights()
    np.testing.assert_allclose(model.predict([xa, xb], verbose=0), (xa + xb) @ k + 2 * bias,
                               rtol=1e-5, atol=1e-6)
    model.compile(optimizer="sgd", loss="mse")
    assert nncore.gradcheck(model, ([xa, xb], np.zeros((4, 2))))


def test_nested_model_as_a_layer():
    inner = nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(3, name="inner_dense")])
    inp = nncore.Input(shape=(4,))
    out = L.Dense(2, name="outer_dense")(inner(inp))
    model = nncore.Model(inp, out)
    assert model.count_params() == 15 + 8
    x = rng().standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               model.get_layer("outer_dense")(inner.predict(x, verbose=0)),
                               rtol=1e-5, atol=1e-6)


def test_multi_output_losses_and_history_keys():
    inp = nncore.Input(shape=(6,))
    h = L.Dense(8, activation="tanh")(inp)
    cls = L.Dense(3, activation="softmax", name="cls")(h)
    reg = L.Dense(1, name="reg")(h)
    model = nncore.Model(inp, [cls, reg])
    model.compile(optimizer="adam", loss={"cls": "categorical_crossentropy", "reg": "mse"},
                  metrics={"cls": ["accuracy"]}, loss_weights={"cls": 1.0, "reg": 0.5})
    x, y, _ = classification_data()
    target = x[:, :1]
    history = model.fit(x, {"cls": y, "reg": target}, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}
    logs = model.evaluate(x, [y, target], verbose=0, return_dict=True)
    p_cls, p_reg = model.predict(x, verbose=0)
    assert p_cls.shape == (32, 3) and p_reg.shape == (32, 1)
    # As Keras 3's CompileLoss ("Record *unweighted* individual losses"): each output's logged
    # loss is without its loss weight, the total with it.
    assert logs["reg_loss"] == pytest.approx(np.mean((p_reg - target) ** 2), rel=1e-4)
    assert logs["cls_loss"] == pytest.approx(-np.mean(np.log(np.sum(p_cls * y, 1))), rel=1e-4)
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-5)


# ---------------------------------------------------------------------- compile / fit / evaluate
@pytest.mark.parametrize("optimizer,loss", [
    ("adam", "categorical_crossentropy"),
    (lambda: optimizers.Adam(learning_rate=0.01), lambda: losses.CategoricalCrossentropy()),
    ("sgd", lambda: losses.CategoricalCrossentropy()),
])
def test_compile_with_strings_and_objects(optimizer, loss):
    model = mlp()
    opt = optimizer() if callable(optimizer) else optimizer
    lo = loss() if callable(loss) else loss
    model.compile(optimizer=opt, loss=lo, metrics=["accuracy"])
    if not isinstance(opt, str):
        assert model.optimizer is opt
    x, y, _ = classification_data()
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}


def test_fit_history_evaluate_predict_and_batch_calls():
    model = mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y, _ = classification_data(n=30)
    history = model.fit(x, y, epochs=3, batch_size=7, verbose=0, validation_data=(x[:10], y[:10]))
    assert isinstance(history, nncore.callbacks.History) and model.history is history
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.history.values())
    assert history.epoch == [0, 1, 2]

    loss, acc = model.evaluate(x, y, batch_size=7, verbose=0)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(
        {"loss": loss, "accuracy": acc})
    probs = model.predict(x, batch_size=7, verbose=0)
    assert probs.shape == (30, 3) and probs.dtype == np.float32
    ce = -np.mean(np.log(np.sum(probs * y, axis=1)))
    assert loss == pytest.approx(ce, rel=1e-5)
    assert acc == pytest.approx(np.mean(probs.argmax(1) == y.argmax(1)))
    np.testing.assert_array_equal(model.predict_on_batch(x), model.predict(x, verbose=0))

    t_loss, t_acc = model.test_on_batch(x, y)
    assert t_loss == pytest.approx(loss, rel=1e-5) and t_acc == pytest.approx(acc)
    before = model.get_weights()
    out = model.train_on_batch(x, y, return_dict=True)
    assert set(out) == {"loss", "accuracy"} and out["loss"] == pytest.approx(loss, rel=1e-5)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))

    scalar = mlp()
    scalar.compile(optimizer="adam", loss="categorical_crossentropy")
    assert isinstance(scalar.evaluate(x, y, verbose=0), float)
    assert isinstance(scalar.train_on_batch(x, y), float)
    assert scalar.predict(x[:0], verbose=0).shape == (0, 3)


def test_initial_epoch_and_validation_split_takes_the_last_samples():
    model = mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x, y, _ = classification_data(n=40)
    history = model.fit(x, y, epochs=5, initial_epoch=3, validation_split=0.25, verbose=0)
    assert history.epoch == [3, 4]
    # Validation happens after the epoch, with the final weights, on the last 25% of the data.
    assert history.history["val_loss"][-1] == pytest.approx(
        model.evaluate(x[30:], y[30:], verbose=0), rel=1e-5)


def test_sparse_labels_and_progress_output(capsys):
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, _, labels = classification_data(n=20)
    model.fit(x, labels, epochs=2, batch_size=5, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "4/4 [==============================]" in out and "loss:" in out and "accuracy:" in out


def test_fit_is_repeatable_with_set_seed():
    x, y, _ = classification_data()

    def run():
        model = mlp(seed=11)
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        return model.fit(x, y, epochs=2, batch_size=4, verbose=0).history["loss"]

    assert run() == run()


# ---------------------------------------------------------------------- weights and configs
def test_get_and_set_weights_order_and_checks():
    model = mlp()
    names = [v.name for v in model.weights]
    assert names == ["hidden/kernel", "hidden/bias", "probs/kernel", "probs/bias"]
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(6, 16), (16,), (16, 3), (3,)]
    new = [np.full(s, 0.5, np.float32) for s in shapes]
    model.set_weights(new)
    np.testing.assert_array_equal(model.get_layer("probs").bias.value, 0.5)
    with pytest.raises(ValueError, match="4 weight arrays, got 3"):
        model.set_weights(new[:3])
    with pytest.raises(nncore.ShapeError, match="hidden/kernel"):
        model.set_weights([np.zeros((5, 16))] + new[1:])


def test_get_config_round_trip_gives_identical_predictions():
    model = mlp()
    config = model.get_config()
    json.dumps(config)
    clone = nncore.Model.from_config(config)
    clone.set_weights(model.get_weights())
    x, _, _ = classification_data()
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    assert clone.get_config() == config

    seq = nncore.Sequential([nncore.Input(shape=(6,)), L.Dense(4, activation="relu"),
                             L.Dropout(0.5), L.Dense(2)])
    seq_clone = nncore.Sequential.from_config(json.loads(json.dumps(seq.get_config())))
    seq_clone.set_weights(seq.get_weights())
    np.testing.assert_array_equal(seq_clone.predict(x, verbose=0), seq.predict(x, verbose=0))


def test_config_round_trip_of_shared_and_nested_layers():
    # The shared layer's second call reads an input that the config lists after the layer.
    inner = nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(3)])
    a, b = nncore.Input(shape=(4,)), nncore.Input(shape=(4,))
    shared = L.Dense(4, activation="tanh")
    model = nncore.Model([a, b], L.Add()([inner(shared(a)), inner(shared(b))]))
    clone = nncore.Model.from_config(json.loads(json.dumps(model.get_config())))
    assert clone.count_params() == model.count_params() == 35
    clone.set_weights(model.get_weights())
    x = [rng(k).standard_normal((2, 4)).astype(np.float32) for k in range(2)]
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_load_identical_predictions_and_training(tmp_path):
    x, y, _ = classification_data()
    model = mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.nncore")
    loaded = nncore.load_model(tmp_path / "m.nncore")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert model.fit(x, y, epochs=2, batch_size=8, verbose=0).history == \
        loaded.fit(x, y, epochs=2, batch_size=8, verbose=0).history
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.save_weights(tmp_path / "w.weights.npz")
    other = mlp(seed=5)
    other.load_weights(tmp_path / "w.weights.npz")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


# ---------------------------------------------------------------------- gradients of every layer
def away_from(values, points, margin=0.05):
    """Moves values that lie within ``margin`` of any kink in ``points``."""
    out = values.copy()
    for p in points:
        near = np.abs(out - p) < margin
        out[near] = p + np.where(out[near] >= p, margin, -margin) * 2
    return out


def f64(shape, seed, low=-2.0, high=2.0):
    return rng(seed).uniform(low, high, shape)


ACTIVATIONS = {
    # name: kinks to keep inputs away from
    "relu": [0.0], "leaky_relu": [0.0], "elu": [0.0], "selu": [0.0], "sigmoid": [],
    "tanh": [], "softplus": [], "softsign": [0.0], "hard_sigmoid": [-3.0, 3.0, -2.5, 2.5],
    "exponential": [], "swish": [], "silu": [], "gelu": [], "softmax": [], "log_softmax": [],
    "relu6": [0.0, 6.0], "heaviside": [0.0], "step": [0.0],
}


def test_every_activation_and_layer_has_a_gradient_test():
    assert set(nncore.activations.NAMES) <= set(ACTIVATIONS)
    covered = {"Activation", "Add", "AveragePooling2D", "BatchNormalization", "Concatenate",
               "Conv2D", "Dense", "Dropout", "ELU", "Flatten", "GlobalAveragePooling2D",
               "LeakyReLU", "MaxPooling2D", "Maxout", "PReLU", "ReLU", "Reshape", "Softmax",
               "ThresholdedReLU", "RandomFlip", "RandomTranslation", "RandomRotation",
               "RandomZoom", "RandomCrop", "GaussianNoise", "Conv2DTranspose", "DepthwiseConv2D",
               "SeparableConv2D", "ZeroPadding2D", "Cropping2D", "UpSampling2D",
               "GlobalMaxPooling2D", "Rescaling", "LayerNormalization", "GroupNormalization",
               "SpatialDropout2D",
               # gradients checked in test_keras_core_layers.py::test_merge_gradients
               "Subtract", "Multiply", "Average", "Maximum", "Minimum",
               # test_lambda_layer.py::test_gradient_through_a_lambda_matches_finite_differences
               "Lambda"}
    exported = {type_.__name__ for name in L.__all__
                if isinstance(type_ := getattr(L, name), type) and issubclass(type_, L.Layer)
                and type_ not in (L.Layer, L.InputLayer)}
    assert exported <= covered, f"layers without a gradient test: {sorted(exported - covered)}"


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_layer_gradients(name):
    x = away_from(f64((4, 5), 1, -3.5, 3.5), ACTIVATIONS[name])
    assert nncore.gradcheck(L.Activation(name, dtype="float64"), x)


@pytest.mark.parametrize("activation", [None, "tanh", "relu", "softmax", "sigmoid"])
def test_dense_activation_gradients(activation):
    layer = L.Dense(4, activation=activation, dtype="float64")
    x = f64((3, 5), 2)
    layer(x)
    if activation == "relu":  # keep pre-activations off the kink
        z = x @ layer.kernel.value
        layer.bias.assign(np.where(np.abs(z).min(axis=0) < 0.05, 0.3, 0.0))
    assert nncore.gradcheck(layer, x)


@given(batch=st.integers(1, 4), features=st.integers(1, 9), units=st.integers(1, 7),
       use_bias=st.booleans(), rank3=st.booleans(), seed=st.integers(0, 99))
def test_dense_gradients_hypothesis(batch, features, units, use_bias, rank3, seed):
    shape = (batch, 2, features) if rank3 else (batch, features)
    assert nncore.gradcheck(L.Dense(units, use_bias=use_bias, dtype="float64"), f64(shape, seed))


@given(size=st.integers(3, 8), cin=st.integers(1, 3), filters=st.integers(1, 3),
       k=st.integers(1, 3), stride=st.integers(1, 2), dilation=st.integers(1, 2),
       padding=st.sampled_from(["valid", "same"]), seed=st.integers(0, 99))
def test_conv2d_gradients_hypothesis(size, cin, filters, k, stride, dilation, padding, seed):
    if stride > 1 and dilation > 1:
        dilation = 1
    if padding == "valid" and (k - 1) * dilation + 1 > size:
        return
    layer = L.Conv2D(filters, k, strides=stride, padding=padding, dilation_rate=dilation,
                     dtype="float64")
    assert nncore.gradcheck(layer, f64((2, size, size + 1, cin), seed))


def distinct_values(shape, seed):
    """Values with gaps much larger than eps, so max pooling has no ties."""
    n = int(np.prod(shape))
    return (rng(seed).permutation(n).reshape(shape) * 0.01 - n * 0.005).astype(np.float64)


@given(size=st.integers(2, 7), pool=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), training=st.booleans(), seed=st.integers(0, 99))
def test_max_pooling_gradients_hypothesis(size, pool, stride, padding, training, seed):
    if padding == "valid" and pool > size:
        return
    layer = L.MaxPooling2D(pool, strides=stride, padding=padding, dtype="float64")
    assert nncore.gradcheck(layer, distinct_values((2, size, size, 2), seed), training=training)


@given(size=st.integers(2, 7), pool=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), seed=st.integers(0, 99))
def test_average_pooling_gradients_hypothesis(size, pool, stride, padding, seed):
    if padding == "valid" and pool > size:
        return
    layer = L.AveragePooling2D(pool, strides=stride, padding=padding, dtype="float64")
    assert nncore.gradcheck(layer, f64((2, size, size, 3), seed))


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_average_pooling_gradients(keepdims):
    assert nncore.gradcheck(L.GlobalAveragePooling2D(keepdims=keepdims, dtype="float64"),
                            f64((2, 3, 4, 5), 3))


@pytest.mark.parametrize("layer", [
    lambda: L.Flatten(dtype="float64"),
    lambda: L.Reshape((4, -1), dtype="float64"),
])
def test_reshaping_gradients(layer):
    assert nncore.gradcheck(layer(), f64((2, 2, 3, 2), 4))


@pytest.mark.parametrize("training", [False, True])
def test_dropout_gradients(training):
    assert nncore.gradcheck(L.Dropout(0.3, seed=1, dtype="float64"), f64((4, 6), 5),
                            training=training)
    assert nncore.gradcheck(L.Dropout(0.5, noise_shape=(None, 1, 3), seed=2, dtype="float64"),
                            f64((3, 2, 3), 6), training=training)


@given(axis=st.sampled_from([-1, 1]), center=st.booleans(), scale=st.booleans(),
       training=st.booleans(), seed=st.integers(0, 99))
def test_batch_normalization_gradients_hypothesis(axis, center, scale, training, seed):
    layer = L.BatchNormalization(axis=axis, center=center, scale=scale, dtype="float64")
    x = f64((5, 3, 4), seed) * 3 + 1
    layer(x)
    for v in layer.weights:  # non-trivial parameters and moving statistics
        v.assign(rng(seed + 1).uniform(0.5, 1.5, v.shape))
    assert nncore.gradcheck(layer, x, training=training)


@pytest.mark.parametrize("layer,kinks", [
    (lambda: L.ReLU(dtype="float64"), [0.0]),
    (lambda: L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.5, dtype="float64"), [0.5, 1.0]),
    (lambda: L.LeakyReLU(negative_slope=0.2, dtype="float64"), [0.0]),
    (lambda: L.ELU(alpha=0.7, dtype="float64"), [0.0]),
    (lambda: L.ThresholdedReLU(theta=0.8, dtype="float64"), [0.8]),
    (lambda: L.Softmax(dtype="float64"), []),
    (lambda: L.Softmax(axis=1, dtype="float64"), []),
])
def test_activation_layers_gradients(layer, kinks):
    x = away_from(f64((3, 4, 5), 7), kinks)
    assert nncore.gradcheck(layer(), x)


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("make", [
    lambda: L.RandomFlip(seed=1, dtype="float64"),
    lambda: L.RandomTranslation(0.2, 0.3, seed=2, dtype="float64"),
    lambda: L.RandomRotation(0.1, fill_mode="constant", seed=3, dtype="float64"),
    lambda: L.RandomZoom(0.2, fill_mode="nearest", seed=4, dtype="float64"),
    lambda: L.RandomCrop(4, 5, padding=1, seed=5, dtype="float64"),
    lambda: L.GaussianNoise(0.3, seed=6, dtype="float64"),
], ids=["flip", "translation", "rotation", "zoom", "crop", "noise"])
def test_augmentation_layer_gradients(make, training):
    # Each random transform is linear in the image: its backward must be the exact adjoint.
    assert nncore.gradcheck(make(), f64((2, 6, 7, 2), 11), training=training)


def randomized(layer, x, seed):
    """The layer built on x with every weight drawn away from its initial value (zero biases and
    betas, unit gammas would hide a wrong gradient)."""
    layer(x)
    for k, v in enumerate(layer.weights):
        r = rng(seed + k)
        v.assign(r.uniform(0.5, 1.5, v.shape) * r.choice([-1, 1], v.shape))
    return layer


@pytest.mark.parametrize("make,shape", [
    (lambda **kw: L.Conv2DTranspose(3, 3, strides=2, output_padding=1, **kw), (2, 3, 4, 2)),
    (lambda **kw: L.Conv2DTranspose(2, (2, 3), strides=(2, 1), padding="same", activation="tanh",
                                    **kw), (2, 3, 3, 3)),
    (lambda **kw: L.Conv2DTranspose(2, 3, dilation_rate=2, padding="same", use_bias=False, **kw),
     (1, 4, 3, 2)),
    (lambda **kw: L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, **kw),
     (2, 5, 6, 3)),
    (lambda **kw: L.DepthwiseConv2D((2, 3), dilation_rate=2, activation="tanh", **kw),
     (2, 5, 6, 2)),
    (lambda **kw: L.SeparableConv2D(3, 3, strides=2, padding="same", depth_multiplier=2, **kw),
     (2, 5, 5, 2)),
    (lambda **kw: L.SeparableConv2D(2, (3, 2), dilation_rate=(1, 2), activation="tanh", **kw),
     (2, 4, 5, 3)),
    (lambda **kw: L.Conv2DTranspose(2, 3, strides=2, data_format="channels_first", **kw),
     (1, 2, 3, 3)),
    (lambda **kw: L.DepthwiseConv2D(2, depth_multiplier=2, data_format="channels_first", **kw),
     (1, 2, 4, 3)),
], ids=["transpose-valid-output-padding", "transpose-same-strided", "transpose-dilated",
        "depthwise-same-strided-m2", "depthwise-dilated", "separable-same-strided-m2",
        "separable-dilated", "transpose-channels-first", "depthwise-channels-first"])
def test_conv_variant_gradients(make, shape):
    x = f64(shape, 12)
    assert nncore.gradcheck(randomized(make(dtype="float64"), x, 13), x)


@pytest.mark.parametrize("make", [
    lambda **kw: L.ZeroPadding2D(((1, 2), (0, 3)), **kw),
    lambda **kw: L.ZeroPadding2D(1, data_format="channels_first", **kw),
    lambda **kw: L.Cropping2D(((1, 0), (2, 1)), **kw),
    lambda **kw: L.Cropping2D(((0, 2), (1, 1)), data_format="channels_first", **kw),
    lambda **kw: L.UpSampling2D((2, 3), **kw),
    lambda **kw: L.UpSampling2D((3, 2), interpolation="bilinear", **kw),
    lambda **kw: L.UpSampling2D(2, interpolation="bilinear", data_format="channels_first", **kw),
    lambda **kw: L.Rescaling(0.5, offset=-1.0, **kw),
    lambda **kw: L.Rescaling([0.5, -2.0, 3.0], offset=[1.0, 0.0, -1.0], **kw),
], ids=["pad", "pad-cf", "crop", "crop-cf", "upsample-nearest", "upsample-bilinear",
        "upsample-bilinear-cf", "rescale", "rescale-per-channel"])
def test_spatial_layer_gradients(make):
    assert nncore.gradcheck(make(dtype="float64"), f64((2, 3, 4, 3), 14))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_max_pooling_gradients(keepdims, data_format):
    layer = L.GlobalMaxPooling2D(data_format=data_format, keepdims=keepdims, dtype="float64")
    assert nncore.gradcheck(layer, distinct_values((2, 3, 4, 5), 15))


@pytest.mark.parametrize("make", [
    lambda: L.LayerNormalization(dtype="float64"),
    lambda: L.LayerNormalization(axis=[1, 3], dtype="float64"),
    lambda: L.LayerNormalization(axis=(2, 3), center=False, dtype="float64"),
    lambda: L.GroupNormalization(groups=2, dtype="float64"),
    lambda: L.GroupNormalization(groups=3, axis=1, dtype="float64"),
    lambda: L.GroupNormalization(groups=-1, scale=False, dtype="float64"),
], ids=["ln", "ln-axes-1-3", "ln-axes-2-3-no-center", "gn-2", "gn-3-axis-1", "gn-instance"])
def test_layer_and_group_normalization_gradients(make):
    x = f64((2, 3, 2, 6), 16) * 2 + 0.5
    assert nncore.gradcheck(randomized(make(), x, 17), x)


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_spatial_dropout_gradients(training, data_format):
    layer = L.SpatialDropout2D(0.5, data_format=data_format, seed=3, dtype="float64")
    x = f64((3, 4, 4, 4), 18)
    if training:  # the mask gradcheck replays must drop some feature maps and keep others
        state = layer.get_rng_state()
        y = layer.forward(x, training=True)
        layer.set_rng_state(state)
        maps = (y != 0).reshape(3, 4, -1) if data_format == "channels_first" else \
            np.moveaxis(y != 0, -1, 1).reshape(3, 4, -1)
        assert (maps.all(axis=-1) | ~maps.any(axis=-1)).all()
        assert 0 < maps.all(axis=-1).sum() < maps.shape[0] * maps.shape[1]
    assert nncore.gradcheck(layer, x, training=training)


@pytest.mark.parametrize("shared_axes", [None, [1], [1, 2]])
def test_prelu_gradients(shared_axes):
    layer = L.PReLU(shared_axes=shared_axes, dtype="float64")
    x = away_from(f64((3, 4, 2), 8), [0.0])
    layer(x)
    layer.alpha.assign(rng(9).uniform(0.1, 0.5, layer.alpha.shape))
    assert nncore.gradcheck(layer, x)


@given(units=st.integers(1, 4), pieces=st.integers(1, 3), use_bias=st.booleans(),
       seed=st.integers(0, 99))
def test_maxout_gradients_hypothesis(units, pieces, use_bias, seed):
    assert nncore.gradcheck(L.Maxout(units, num_pieces=pieces, use_bias=use_bias, dtype="float64"),
                            f64((3, 5), seed))


@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_merging_gradients(axis):
    a, b, c = f64((3, 2, 3, 4), 10)
    assert nncore.gradcheck(L.Add(dtype="float64"), [a, b, c])
    assert nncore.gradcheck(L.Concatenate(axis=axis, dtype="float64"), [a, b])


def test_float32_seed_like_cnn_through_the_compiled_loss():
    nncore.set_seed(1)
    inp = nncore.Input(shape=(6, 6, 2))
    h = L.Conv2D(3, 3, padding="same", activation="relu")(inp)
    h = L.MaxPooling2D(2)(h)
    h = L.BatchNormalization()(h)
    h = L.Flatten()(h)
    out = L.Dense(4, activation="softmax")(h)
    model = nncore.Model(inp, out)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = distinct_values((3, 6, 6, 2), 1) * 10
    y = np.eye(4)[[0, 2, 3]]
    assert nncore.gradcheck(model, (x, y), training=True)


def test_regularized_loss_value_and_gradients():
    from nncore import regularizers

    nncore.set_seed(2)
    inp = nncore.Input(shape=(4,))
    h = L.Dense(5, activation="tanh", kernel_regularizer=regularizers.L2(0.01),
                bias_regularizer=regularizers.L1(0.02), name="h")(inp)
    model = nncore.Model(inp, L.Dense(3, activation="softmax", name="p")(h))
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = rng(3).standard_normal((6, 4))
    y = np.eye(3)[[0, 1, 2, 2, 1, 0]]
    model.get_layer("h").bias.assign(rng(4).uniform(0.1, 1.0, 5) * np.sign(rng(5).standard_normal(5)))
    k, b = model.get_layer("h").get_weights()
    probs = model.predict(x, verbose=0).astype(np.float64)
    # Keras: L2(l2) adds l2 * sum(w**2), L1(l1) adds l1 * sum(|w|).
    want = -np.mean(np.log(np.sum(probs * y, 1))) + 0.01 * np.sum(k.astype(np.float64) ** 2) \
        + 0.02 * np.sum(np.abs(b.astype(np.float64)))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(want, rel=1e-5)
    assert nncore.gradcheck(model, (x, y))


# ---------------------------------------------------------------------- errors
def test_wrong_input_shape_names_the_layer():
    model = nncore.Sequential([nncore.Input(shape=(4,)), L.Dense(3, name="first")])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(nncore.ShapeError, match=r"'first'.*4.*5"):
        model.predict(np.zeros((2, 5), np.float32), verbose=0)
    with pytest.raises(nncore.ShapeError, match=r"expects input .* shape \(None, 4\)"):
        model.fit(np.zeros((2, 4, 1), np.float32), np.zeros((2, 3)), verbose=0)
    conv = nncore.Sequential([nncore.Input(shape=(8, 8, 3)), L.Conv2D(2, 3, name="c")])
    with pytest.raises(nncore.ShapeError, match=r"'c'.*3 input channels, got 1"):
        conv.predict(np.zeros((1, 8, 8, 1), np.float32), verbose=0)
    with pytest.raises(nncore.ShapeError, match=r"Conv2D 'c2'.*larger than the input"):
        nncore.Sequential([nncore.Input(shape=(2, 2, 1)), L.Conv2D(1, 3, name="c2")])


def test_labels_that_do_not_fit_the_loss():
    model = mlp(classes=10)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = np.zeros((8, 6), np.float32)
    with pytest.raises(ValueError, match=r"\(8, 3\)"):
        model.fit(x, np.zeros((8, 3), np.float32), verbose=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError):
        model.fit(x, np.full(8, 12), verbose=0)
    with pytest.raises(ValueError, match="8 samples"):
        model.fit(x, np.zeros(7, np.int64), verbose=0)


@pytest.mark.parametrize("kwargs,word", [
    ({"optimizer": "adamm", "loss": "mse"}, "adamm"),
    ({"optimizer": "adam", "loss": "categorical_crossentropi"}, "categorical_crossentropi"),
    ({"optimizer": "adam", "loss": "mse", "metrics": ["acuracy"]}, "acuracy"),
])
def test_unknown_string_names(kwargs, word):
    with pytest.raises(ValueError, match=word):
        mlp().compile(**kwargs)


def test_unknown_activation_and_layer_names():
    with pytest.raises(ValueError, match="relux"):
        L.Dense(3, activation="relux")
    with pytest.raises(ValueError, match="Bogus"):
        L.get({"class_name": "Bogus", "config": {}})


def test_fit_evaluate_before_compile():
    model = mlp()
    x, y, _ = classification_data()
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y, verbose=0),
                 lambda: model.train_on_batch(x, y)):
        with pytest.raises(RuntimeError, match="compile"):
            call()
    assert model.predict(x, verbose=0).shape == (32, 3)  # predict needs no compile


def test_multi_input_model_needs_all_inputs():
    a = nncore.Input(shape=(2,))
    b = nncore.Input(shape=(2,))
    model = nncore.Model([a, b], L.Add()([a, b]))
    with pytest.raises(ValueError, match="2 inputs"):
        model.predict(np.zeros((3, 2)), verbose=0)


# ---------------------------------------------------------------------- optimizer steps vs NumPy
def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def reference_grads(params, x, y):
    """Keras' mean categorical cross-entropy of Dense(tanh) -> Dense(softmax), by hand."""
    k1, b1, k2, b2 = params
    h = np.tanh(x @ k1 + b1)
    p = softmax(h @ k2 + b2)
    g_logits = (p - y) / x.shape[0]
    gk2, gb2 = h.T @ g_logits, g_logits.sum(0)
    g_h = (g_logits @ k2.T) * (1 - h * h)
    return [x.T @ g_h, g_h.sum(0), gk2, gb2]


def sgd_reference(params, grads, state, lr=0.1, momentum=0.0, nesterov=False):
    if not state:
        state.extend(np.zeros_like(p) for p in params)
    for p, g, v in zip(params, grads, state):
        if momentum == 0.0:
            p -= lr * g
            continue
        v *= momentum
        v -= lr * g
        p += momentum * v - lr * g if nesterov else v


def adam_reference(params, grads, state, lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    if not state:
        state.append(0)
        state.extend((np.zeros_like(p), np.zeros_like(p)) for p in params)
    state[0] += 1
    t = state[0]
    lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    for p, g, (m, v) in zip(params, grads, state[1:]):
        m += (1 - b1) * (g - m)
        v += (1 - b2) * (g * g - v)
        p -= lr_t * m / (np.sqrt(v) + eps)


@pytest.mark.parametrize("make,step", [
    (lambda: optimizers.SGD(learning_rate=0.1), lambda p, g, s: sgd_reference(p, g, s)),
    (lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9),
     lambda p, g, s: sgd_reference(p, g, s, momentum=0.9)),
    (lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
     lambda p, g, s: sgd_reference(p, g, s, momentum=0.9, nesterov=True)),
    (lambda: optimizers.Adam(learning_rate=0.01), lambda p, g, s: adam_reference(p, g, s)),
], ids=["sgd", "momentum", "nesterov", "adam"])
def test_train_on_batch_matches_numpy_reference(make, step):
    model = mlp(features=5, classes=4, seed=3)
    model.compile(optimizer=make(), loss="categorical_crossentropy")
    params = [w.astype(np.float64) for w in model.get_weights()]
    state = []
    r = rng(4)
    for _ in range(4):
        x = r.standard_normal((6, 5)).astype(np.float32)
        y = np.eye(4, dtype=np.float32)[r.integers(0, 4, 6)]
        model.train_on_batch(x, y)
        step(params, reference_grads(params, x.astype(np.float64), y.astype(np.float64)), state)
        for got, want in zip(model.get_weights(), params):
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
