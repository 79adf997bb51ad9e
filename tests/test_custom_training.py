"""Custom training as Keras 3 writes it: train_step/test_step overrides, GradientTape loops,
losses and metrics given as plain functions of nncore.ops, input gradients on demand."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import layers, ops


def _regression(n=256, d=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype("float32")
    w = rng.standard_normal((d, 1)).astype("float32")
    return x, x @ w + 0.1


class GuideModel(nncore.Model):
    """keras.io "Customizing what happens in fit()": train_step with compute_loss."""

    def train_step(self, data):
        x, y = data
        with nncore.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_keras_guide_train_step_trains_and_logs():
    x, y = _regression()
    inputs = nncore.Input((16,))
    model = GuideModel(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer=nncore.optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    hist = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert set(hist.history) == {"loss", "mae"}
    assert hist.history["loss"][-1] < 0.2 * hist.history["loss"][0]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    # The custom test_step's loss is the compiled mse of the predictions.
    np.testing.assert_allclose(logs["loss"], np.mean((model.predict(x, verbose=0) - y) ** 2),
                               rtol=1e-4)


def test_keras_guide_lower_level_step_with_own_metrics():
    # keras.io "Going lower-level": no compiled loss, own loss function and trackers.
    loss_fn = nncore.losses.MeanSquaredError()
    loss_tracker = nncore.metrics.Mean(name="loss")
    mae_metric = nncore.metrics.MeanAbsoluteError(name="mae")

    class LowLevel(nncore.Model):
        def train_step(self, data):
            x, y = data
            with nncore.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = loss_fn(y, y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            loss_tracker.update_state(loss)
            mae_metric.update_state(y, y_pred)
            return {"loss": loss_tracker.result(), "mae": mae_metric.result()}

        @property
        def metrics(self):
            return [loss_tracker, mae_metric]

    x, y = _regression(seed=1)
    inputs = nncore.Input((16,))
    model = LowLevel(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer=nncore.optimizers.Adam(0.05))
    hist = model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    # Metrics are reset at each epoch: the last epoch's mae is that epoch's mean only.
    assert mae_metric.count == 256


def test_super_train_step_is_the_builtin_step():
    class Counting(nncore.Model):
        steps = 0

        def train_step(self, data):
            Counting.steps += 1
            return super().train_step(data)

    x, y = _regression(seed=2)
    inputs = nncore.Input((16,))
    model = Counting(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    hist = model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    assert Counting.steps == 8
    assert hist.history["loss"][1] < hist.history["loss"][0]


def _cnn(seed):
    nncore.set_seed(seed)
    return nncore.Sequential([
        nncore.Input((8, 8, 2), dtype="float64"),
        layers.Conv2D(4, 3, padding="same", activation="relu", dtype="float64"),
        layers.BatchNormalization(dtype="float64"),
        layers.MaxPooling2D(2, dtype="float64"),
        layers.Flatten(dtype="float64"),
        layers.Dropout(0.0, dtype="float64"),
        layers.Dense(3, activation="softmax", dtype="float64"),
    ])


def test_gradient_tape_loop_reaches_the_weights_fit_reaches():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((48, 8, 8, 2))
    y = rng.integers(0, 3, 48)
    by_fit, by_tape = _cnn(7), _cnn(7)
    for a, b in zip(by_fit.get_weights(), by_tape.get_weights()):
        np.testing.assert_array_equal(a, b)
    by_fit.compile(optimizer=nncore.optimizers.SGD(0.1, momentum=0.9),
                   loss="sparse_categorical_crossentropy")
    by_fit.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    opt = nncore.optimizers.SGD(0.1, momentum=0.9)
    loss_fn = nncore.losses.SparseCategoricalCrossentropy()
    for i in range(0, 48, 16):
        with nncore.GradientTape() as tape:
            loss = loss_fn(y[i:i + 16], by_tape(x[i:i + 16], training=True))
        grads = tape.gradient(loss, by_tape.trainable_weights)
        opt.apply_gradients(zip(grads, by_tape.trainable_weights))
    # Trainable weights and the batch-norm moving statistics alike.
    for a, b in zip(by_fit.get_weights(), by_tape.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-10)


def test_plain_function_loss_trains_like_the_builtin_one():
    def my_mse(y_true, y_pred):
        return ops.mean(ops.square(y_pred - y_true), axis=-1)

    x, y = _regression(seed=4)
    x, y = x.astype("float64"), y.astype("float64")
    results = []
    for loss in (my_mse, "mse"):
        nncore.set_seed(11)
        model = nncore.Sequential([nncore.Input((16,), dtype="float64"),
                                   layers.Dense(8, activation="tanh", dtype="float64"),
                                   layers.Dense(1, dtype="float64")])
        model.compile(optimizer=nncore.optimizers.SGD(0.05), loss=loss)
        hist = model.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
        results.append((hist.history["loss"], model.get_weights()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_plain_function_metric_is_reported():
    def doubled_mae(y_true, y_pred):
        return 2.0 * ops.mean(ops.abs(y_pred - y_true), axis=-1)

    x, y = _regression(seed=5)
    model = nncore.Sequential([nncore.Input((16,)), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mae", metrics=[doubled_mae])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["doubled_mae"], 2 * logs["loss"], rtol=1e-5)


def test_input_gradients_after_fit():
    x, y = _regression(n=64, seed=6)
    model = nncore.Sequential([nncore.Input((16,)), layers.Dense(4, activation="relu"),
                               layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    # model.backward after fit gives the input gradient again.
    model.forward(x[:4], training=False)
    gx = model.backward(np.ones((4, 1), "float32"))
    assert gx is not None and gx.shape == (4, 16)
    # And a tape gives the saliency of a watched input whatever fit did before.
    xs = x[:4].astype("float32").copy()
    with nncore.GradientTape() as tape:
        tape.watch(xs)
        out = ops.sum(model(xs))
    saliency = tape.gradient(out, xs)
    np.testing.assert_allclose(saliency, gx, rtol=1e-5, atol=1e-7)


def test_adversarial_example_by_input_gradient():
    # FGSM on a trained classifier: the sign of the input gradient raises the loss.
    rng = np.random.default_rng(8)
    x = rng.standard_normal((200, 2)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    model = nncore.Sequential([nncore.Input((2,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer=nncore.optimizers.Adam(0.1), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=20, verbose=0)
    loss_fn = nncore.losses.SparseCategoricalCrossentropy()
    xa = x.copy()
    with nncore.GradientTape() as tape:
        tape.watch(xa)
        loss = loss_fn(y, model(xa))
    g = tape.gradient(loss, xa)
    adv = xa + 0.5 * np.sign(g)
    assert float(loss_fn(y, model.predict(adv, verbose=0))) > float(loss) + 0.1


def test_gradient_tape_through_a_nested_functional_model_called_twice():
    # A shared (siamese) model: each call back-propagates with its own activations.
    inputs = nncore.Input((3,), dtype="float64")
    tower = nncore.Model(inputs, layers.Dense(2, activation="tanh", dtype="float64")(inputs))
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    kernel = tower.layers[1].kernel

    def f():
        return ops.sum(tower(a) * tower(b))

    with nncore.GradientTape() as tape:
        value = f()
    g = tape.gradient(value, kernel)
    eps, numeric = 1e-6, np.zeros_like(g)
    for idx in np.ndindex(*g.shape):
        old = kernel.value[idx]
        kernel.value[idx] = old + eps
        plus = float(f())
        kernel.value[idx] = old - eps
        minus = float(f())
        kernel.value[idx] = old
        numeric[idx] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-9)


def test_tape_gradient_leaves_accumulated_grads_alone():
    dense = layers.Dense(2)
    dense.build((None, 3))
    dense.kernel.grad[...] = 5.0
    x = np.ones((1, 3), "float32")
    with nncore.GradientTape() as tape:
        y = ops.sum(dense(x))
    g = tape.gradient(y, dense.kernel)
    np.testing.assert_array_equal(g, np.ones((3, 2)))
    np.testing.assert_array_equal(dense.kernel.grad, np.full((3, 2), 5.0))


def test_frozen_layer_gets_no_gradient_from_the_tape():
    dense = layers.Dense(2, trainable=False)
    x = np.ones((1, 3), "float32")
    with nncore.GradientTape() as tape:
        y = ops.sum(dense(x))
    assert tape.gradient(y, dense.kernel) is None


def _conv_model(head=True):
    nncore.set_seed(3)
    stack = [nncore.Input((6, 6, 2), dtype="float64"),
             layers.Conv2D(3, 3, padding="same", activation="relu", dtype="float64"),
             layers.MaxPooling2D(2, dtype="float64")]
    if head:
        stack += [layers.Flatten(dtype="float64"), layers.Dense(2, dtype="float64")]
    return nncore.Sequential(stack)


def test_tape_steps_reuse_arrays_without_touching_what_the_caller_holds():
    # A model called in training inside a tape reuses its activation arrays from one step to the
    # next (as fit does); predictions the caller keeps must not change (the last layer here,
    # the pooling, writes into a reused array).
    model = _conv_model(head=False)
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((4, 6, 6, 2)) for _ in range(3)]
    kept = []
    for x in xs:
        with nncore.GradientTape() as tape:
            out = model(x, training=True)
            loss = ops.sum(ops.square(out))
        kept.append((np.asarray(out).copy(), out))
        tape.gradient(loss, model.trainable_weights)
    for (snapshot, out), x in zip(kept, xs):
        np.testing.assert_array_equal(np.asarray(out), snapshot)
        np.testing.assert_allclose(snapshot, model.predict(x, verbose=0), rtol=1e-12)


def test_siamese_calls_in_training_keep_their_own_activations():
    model = _conv_model()
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 6, 6, 2)), rng.standard_normal((2, 6, 6, 2))
    kernel = model.layers[0].kernel

    def f():
        return ops.sum(model(a, training=True) * model(b, training=True))

    with nncore.GradientTape() as tape:
        value = f()
    g = tape.gradient(value, kernel)
    eps, numeric = 1e-6, np.zeros_like(g)
    for idx in list(np.ndindex(*g.shape))[::7]:
        old = kernel.value[idx]
        kernel.value[idx] = old + eps
        plus = float(f())
        kernel.value[idx] = old - eps
        minus = float(f())
        kernel.value[idx] = old
        numeric[idx] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(g[idx], numeric[idx], rtol=1e-5, atol=1e-8)


def test_gradient_of_a_tape_overtaken_by_a_later_step_is_refused():
    model = _conv_model()
    x = np.ones((2, 6, 6, 2))
    with nncore.GradientTape() as first:
        loss1 = ops.sum(model(x, training=True))
    with nncore.GradientTape() as second:
        loss2 = ops.sum(model(x * 2, training=True))
    with pytest.raises(RuntimeError, match="overwritten"):
        first.gradient(loss1, model.trainable_weights)
    assert second.gradient(loss2, model.trainable_weights)[0] is not None


def test_gradients_the_caller_keeps_are_never_reused():
    # The arrays a tape hands out are reused only when nobody holds them any more.
    model = _conv_model()
    rng = np.random.default_rng(2)
    held = []
    for k in range(4):
        x = rng.standard_normal((3, 6, 6, 2))
        with nncore.GradientTape() as tape:
            loss = ops.sum(ops.square(model(x, training=True)))
        grads = tape.gradient(loss, model.trainable_weights)
        held.append((grads, [g.copy() for g in grads]))
    for grads, copies in held:
        for g, c in zip(grads, copies):
            np.testing.assert_array_equal(g, c)
    assert len({id(g) for grads, _ in held for g in grads}) == 4 * len(held[0][0])
