"""Layers written the Keras 3 way (build + call with nncore.ops): their gradients come from the
recording and must equal the built-in layers' hand-written ones."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import layers, ops


class Linear(layers.Layer):
    """The Keras guide's Linear layer."""

    def __init__(self, units=32, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = activation

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal",
                                 trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        y = ops.matmul(inputs, self.w) + self.b
        return ops.relu(y) if self.activation == "relu" else y

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation}


def _pair(activation=None, seed=0):
    lin = Linear(4, activation=activation, dtype="float64")
    den = layers.Dense(4, activation=activation, dtype="float64")
    lin.build((None, 6))
    den.build((None, 6))
    rng = np.random.default_rng(seed)
    w = [rng.standard_normal((6, 4)), rng.standard_normal(4)]
    lin.set_weights(w)
    den.set_weights(w)
    return lin, den


@pytest.mark.parametrize("activation", [None, "relu"])
def test_custom_linear_matches_dense_outputs_input_grads_and_sgd_step(activation):
    lin, den = _pair(activation)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((10, 6))
    y = rng.standard_normal((10, 4))
    np.testing.assert_allclose(lin(x), den(x), rtol=1e-6, atol=1e-12)
    grads = []
    for layer in (lin, den):
        with nncore.GradientTape() as tape:
            tape.watch(x)
            loss = ops.mean(ops.square(layer(x) - y))
        grads.append(tape.gradient(loss, [x, *layer.trainable_weights]))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)
    # One SGD step through fit, each layer in its own model.
    models = []
    for layer in (lin, den):
        m = nncore.Sequential([nncore.Input((6,), dtype="float64"), layer])
        m.compile(optimizer=nncore.optimizers.SGD(0.1), loss="mse")
        m.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0)
        models.append(m)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)


def test_custom_layer_in_graph_gives_input_gradient_through_backward():
    lin, den = _pair("relu", seed=3)
    x = np.random.default_rng(2).standard_normal((5, 6))
    g = np.random.default_rng(4).standard_normal((5, 4))
    lin.forward(x, training=True)
    den.forward(x, training=True)
    lin.zero_grads()
    den.zero_grads()
    np.testing.assert_allclose(lin.backward(g), den.backward(g), rtol=1e-10)
    np.testing.assert_allclose(lin.w.grad, den.kernel.grad, rtol=1e-10)
    np.testing.assert_allclose(lin.b.grad, den.bias.grad, rtol=1e-10)


def test_gradcheck_works_on_a_custom_layer():
    lin, _ = _pair("relu", seed=5)
    x = np.random.default_rng(6).standard_normal((4, 6))
    assert nncore.gradcheck(lin, x)


def test_gradcheck_catches_a_wrong_hand_written_backward():
    class Broken(Linear):
        def backward(self, grad_out):
            x = self._x
            self.w.grad += x.T @ grad_out * 1.01     # wrong by 1 %
            self.b.grad += grad_out.sum(0)
            return grad_out @ self.w.value.T

        def call(self, inputs):
            self._x = np.asarray(inputs)
            return super().call(inputs)

    layer = Broken(3, dtype="float64")
    layer.build((None, 6))
    with pytest.raises(nncore.GradcheckError):
        nncore.gradcheck(layer, np.random.default_rng(0).standard_normal((4, 6)))


def test_layer_defining_backward_keeps_its_own_gradient():
    class Scaled(layers.Layer):
        def call(self, x):
            return x * 2.0

        def backward(self, grad_out):
            return grad_out * 3.0       # deliberately not the true derivative

    layer = Scaled(dtype="float64")
    layer(np.ones((2, 2)))
    layer.forward(np.ones((2, 2)), training=True)
    np.testing.assert_array_equal(layer.backward(np.ones((2, 2))), np.full((2, 2), 3.0))


def test_nested_custom_blocks_track_train_and_save(tmp_path):
    # keras guide "Making new layers and models via subclassing": MLPBlock of Linear layers.
    class MLPBlock(layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.linear_1 = Linear(32, activation="relu")
            self.linear_2 = Linear(32, activation="relu")
            self.linear_3 = Linear(1)

        def call(self, inputs):
            return self.linear_3(self.linear_2(self.linear_1(inputs)))

    block = MLPBlock()
    y = block(np.ones((3, 64), "float32"))
    assert y.shape == (3, 1)
    assert len(block.weights) == 6 and len(block.trainable_weights) == 6
    assert block.count_params() == 64 * 32 + 32 + 32 * 32 + 32 + 32 + 1
    inputs = nncore.Input((64,))
    model = nncore.Model(inputs, block(inputs))
    assert model.count_params() == block.count_params()
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 64)).astype("float32")
    t = x[:, :1] * 0.5
    before = [w.copy() for w in model.get_weights()]
    hist = model.fit(x, t, epochs=5, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    path = tmp_path / "block.weights.npz"
    model.save_weights(path)
    fresh_block = MLPBlock()
    fresh = nncore.Model(inputs2 := nncore.Input((64,)), fresh_block(inputs2))
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_custom_layer_output_shape_is_inferred_in_functional_models():
    class Pairs(layers.Layer):
        def call(self, x):
            return ops.concatenate([x, x * x], axis=-1)

    inputs = nncore.Input((5,))
    out = Pairs()(inputs)
    assert out.shape == (None, 10)


def test_add_loss_joins_the_training_loss_and_its_gradient():
    # keras/src/layers/layer_test.py::LayerTest::test_add_loss (activity regularization).
    class ActivityReg(layers.Layer):
        def __init__(self, rate=1e-2, **kw):
            super().__init__(**kw)
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * ops.sum(ops.square(inputs)))
            return inputs

    layer = ActivityReg()
    layer(np.ones((2, 3), "float32"))
    assert layer.losses == [pytest.approx(0.06)]
    inputs = nncore.Input((3,), dtype="float64")
    dense = layers.Dense(2, dtype="float64", kernel_initializer="ones")
    model = nncore.Model(inputs, ActivityReg(0.5, dtype="float64")(dense(inputs)))
    model.compile(optimizer=nncore.optimizers.SGD(0.1), loss="mse")
    x = np.ones((4, 3))
    y = np.zeros((4, 2))
    # mse = mean(h^2) with h = 3 (ones kernel, zero bias), plus 0.5 * sum(h^2) = 0.5 * 72.
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(9.0 + 36.0)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    # d/dh of mean(h^2) + 0.5 sum(h^2): 2h/8 + h = 0.75 h + 3 = 3.75 per element; dW = x^T dh.
    np.testing.assert_allclose(dense.kernel.numpy(), 1 - 0.1 * 4 * 3.75, rtol=1e-12)


def test_lambda_like_call_with_extra_arguments():
    class Scale(layers.Layer):
        def call(self, x, factor=1.0):
            return x * factor

    np.testing.assert_array_equal(Scale()(np.ones((1, 2), "float32"), factor=3.0),
                                  np.full((1, 2), 3.0))


def test_training_flag_reaches_nested_layers():
    seen = []

    class Probe(layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class Outer(layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.inner = Probe()

        def call(self, x):
            return self.inner(x)

    outer = Outer()
    with nncore.GradientTape():
        outer(np.ones((1, 2), "float32"), training=True)
    outer(np.ones((1, 2), "float32"))
    assert seen == [True, False]


def test_weights_used_twice_in_call_get_both_contributions():
    # A tied weight (used in two products) and a bias added twice: the gradient that a kernel
    # may add straight into Variable.grad must still sum every use (checked by gradcheck, which
    # runs forward/backward as a model's graph does).
    class Tied(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 3), initializer="random_normal")
            self.b = self.add_weight(shape=(3,), initializer="random_normal")

        def call(self, x):
            h = ops.tanh(ops.matmul(x, self.w) + self.b)
            return ops.matmul(h, ops.transpose(self.w)) + ops.matmul(x, self.w) + self.b

    layer = Tied(dtype="float64")
    x = np.random.default_rng(7).standard_normal((5, 3))
    layer(x)
    assert nncore.gradcheck(layer, x)
