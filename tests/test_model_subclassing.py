"""Models written by subclassing nncore.Model (``__init__`` + ``call``), as in Keras 3."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_data_dir

import nncore
from nncore import layers, ops


class TwoDense(nncore.Model):
    # The Keras guide's subclassed model ("The Model class").
    def __init__(self, hidden=64, classes=10, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.classes = classes
        self.dense1 = layers.Dense(hidden, activation="relu")
        self.dense2 = layers.Dense(classes, activation="softmax")

    def call(self, inputs, training=None):
        return self.dense2(self.dense1(inputs))


def test_parameter_count_layers_and_weights_of_a_subclassed_model():
    model = TwoDense(hidden=32)
    model.build((None, 20))
    assert model.count_params() == (20 * 32 + 32) + (32 * 10 + 10)
    assert [l.name for l in model.layers] == [model.dense1.name, model.dense2.name]
    assert len(model.trainable_weights) == 4
    assert model.trainable_weights[0] is model.dense1.kernel
    # keras/src/models/model_test.py::ModelTest::test_summary-like: the table lists both layers.
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert model.dense1.name in text and f"{model.count_params():,}" in text


def test_subclassed_model_fits_predicts_evaluates_and_saves(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = TwoDense(hidden=16, classes=2)
    model.compile(optimizer=nncore.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert hist.history["accuracy"][-1] > 0.9
    pred = model.predict(x, verbose=0)
    assert pred.shape == (256, 2)
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9
    path = tmp_path / "two.weights.npz"
    model.save_weights(path)
    fresh = TwoDense(hidden=16, classes=2)
    fresh.build((None, 8))
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), pred)
    wrong = TwoDense(hidden=8, classes=2)
    wrong.build((None, 8))
    with pytest.raises(Exception, match="shape"):
        wrong.load_weights(path)


def test_subclassed_model_with_control_flow_and_a_variable():
    class Residual(nncore.Model):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.blocks = [layers.Dense(6, activation="tanh") for _ in range(3)]
            self.gate = nncore.Variable(np.zeros(6, "float32"), name="gate")

        def call(self, x):
            for block in self.blocks:
                x = x + ops.sigmoid(self.gate) * block(x)
            return x

    model = Residual()
    model.build((None, 6))
    assert len(model.trainable_weights) == 7
    model.compile(optimizer=nncore.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(1).standard_normal((32, 6)).astype("float32")
    model.fit(x, -x, epochs=2, batch_size=8, verbose=0)
    assert np.any(model.gate.numpy() != 0)


def test_subclassed_model_nested_in_a_functional_model():
    inner = TwoDense(hidden=8, classes=3)
    inputs = nncore.Input((5,))
    outer = nncore.Model(inputs, layers.Dense(2)(inner(inputs)))
    assert outer.count_params() == inner.count_params() + 3 * 2 + 2
    outer.compile(optimizer="adam", loss="mse")
    x = np.ones((4, 5), "float32")
    before = inner.dense1.kernel.numpy()
    outer.fit(x, np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    assert not np.array_equal(before, inner.dense1.kernel.numpy())


def test_model_without_inputs_and_without_call_says_how():
    with pytest.raises(TypeError, match="define call"):
        nncore.Model()


SHARED = shared_data_dir()


@pytest.mark.skipif(SHARED is None or not (SHARED / "mnist").is_dir(),
                    reason="MNIST not found: set NNCORE_DATA_DIR to the folder holding mnist/")
def test_subclassed_mlp_reaches_97_percent_on_mnist(tmp_path):
    nncore.set_seed(0)
    (x, y), (xt, yt) = nncore.datasets.mnist.load_data(SHARED, download=False)
    x = x.reshape(-1, 784).astype("float32") / 255
    xt = xt.reshape(-1, 784).astype("float32") / 255
    model = TwoDense(hidden=128)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=3, batch_size=64, verbose=0)
    _, acc = model.evaluate(xt, yt, verbose=0)
    assert acc >= 0.97
    model.save_weights(tmp_path / "mlp.weights.npz")
    again = TwoDense(hidden=128)
    again.build((None, 784))
    again.load_weights(tmp_path / "mlp.weights.npz")
    np.testing.assert_array_equal(again.predict(xt[:100], verbose=0), model.predict(xt[:100], verbose=0))
