"""The training loop's state against independent references: what layers see in training and at
inference, metric objects per output, callback hooks of the three loops, batch order and the
weights of samples under shuffling."""

from __future__ import annotations

import io
import contextlib

import numpy as np
import pytest

import nncore
from nncore import layers as L
from nncore.layers.base import Layer


class Recorder(Layer):
    """Identity that keeps what it saw, per call, with the training flag."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def compute_output_shape(self, input_shape):
        return input_shape

    def forward(self, x, training=False):
        self.seen.append((x.copy(), training))
        return x

    def backward(self, grad_out):
        return grad_out


def _xy(n=64, seed=0, classes=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    labels = rng.integers(0, classes, n)
    return x, np.eye(classes, dtype=np.float32)[labels]


def test_a_fused_output_that_feeds_another_layer_gives_it_probabilities_in_training():
    x, y = _xy()
    inp = nncore.Input(shape=(5,))
    probs = L.Dense(3, activation="softmax", name="probs")(inp)
    rec = Recorder(name="rec")
    other = L.Dense(1, name="other")(rec(probs))
    model = nncore.Model(inp, [probs, other])
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"])
    model.fit(x, [y, y[:, :1]], batch_size=16, epochs=1, verbose=0)
    train_calls = [s for s, training in rec.seen if training]
    assert train_calls
    for seen in train_calls:
        np.testing.assert_allclose(seen.sum(axis=1), 1.0, rtol=1e-5)
    # the head's loss still sees the same probabilities as predict
    p, _ = model.predict(x, verbose=0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_a_fused_output_trains_like_the_unfused_one():
    """Folding softmax into the loss is an optimization only: same weights as a model whose
    softmax is a separate layer that also feeds nothing else (and is therefore not fused)."""
    x, y = _xy()

    def build(split):
        nncore.set_seed(3)
        inp = nncore.Input(shape=(5,))
        if split:
            out = L.Activation("softmax")(L.Dense(3)(inp))
        else:
            out = L.Dense(3, activation="softmax")(inp)
        m = nncore.Model(inp, out)
        m.compile(optimizer="sgd", loss="categorical_crossentropy")
        return m

    a, b = build(False), build(True)
    assert a._heads[0].fused and b._heads[0].fused
    a.fit(x, y, batch_size=16, shuffle=False, verbose=0)
    b.fit(x, y, batch_size=16, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-7)


def _two_output_model():
    nncore.set_seed(0)
    inp = nncore.Input(shape=(5,))
    a = L.Dense(3, activation="softmax", name="a")(inp)
    b = L.Dense(3, activation="softmax", name="b")(inp)
    return nncore.Model(inp, [a, b])


def test_one_metric_object_for_two_outputs_gets_a_copy_per_output():
    x, ya = _xy(seed=1)
    _, yb = _xy(seed=2)
    acc = nncore.metrics.CategoricalAccuracy(name="acc")
    model = _two_output_model()
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=[[acc], [acc]])
    logs = model.evaluate(x, [ya, yb], verbose=0, return_dict=True)
    assert acc.name == "acc"                            # the user's object is not renamed
    assert {"a_acc", "b_acc"} <= set(logs)
    pa, pb = model.predict(x, verbose=0)
    want_a = np.mean(pa.argmax(1) == ya.argmax(1))
    want_b = np.mean(pb.argmax(1) == yb.argmax(1))
    assert logs["a_acc"] == pytest.approx(want_a) and logs["b_acc"] == pytest.approx(want_b)
    assert want_a != want_b                             # states did not mix
    assert model.metrics_names == ["loss", "a_acc", "b_acc", "a_loss", "b_loss"]
    values = model.evaluate(x, [ya, yb], verbose=0)
    assert dict(zip(model.metrics_names, values)) == pytest.approx(logs)


def test_multi_output_metric_lists_follow_keras():
    x, ya = _xy(seed=1)
    model = _two_output_model()
    # one entry per output, as Keras reads a list whose length is the number of outputs
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy", "mae"])
    logs = model.evaluate(x, [ya, ya], verbose=0, return_dict=True)
    assert "a_accuracy" in logs and "b_mae" in logs and "a_mae" not in logs
    with pytest.raises(ValueError, match="3 metrics given for a model with 2 outputs"):
        model.compile(optimizer="sgd", loss="categorical_crossentropy",
                      metrics=["accuracy", "mae", "mse"])
        model.evaluate(x, [ya, ya], verbose=0)


def test_weighted_metrics_use_sample_weights_and_metrics_do_not():
    x, y = _xy()
    w = np.linspace(0, 1, len(x))
    nncore.set_seed(0)
    inp = nncore.Input(shape=(5,))
    m = nncore.Model(inp, L.Dense(3, activation="softmax")(inp))
    m.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"],
              weighted_metrics=["accuracy"])
    logs = m.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    hit = m.predict(x, verbose=0).argmax(1) == y.argmax(1)
    assert logs["accuracy"] == pytest.approx(hit.mean())
    assert logs["weighted_accuracy"] == pytest.approx((hit * w).sum() / w.sum())


class Hooks(nncore.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def _rec(name):
        def hook(self, *args):
            self.calls.append((name, *[a for a in args if isinstance(a, int)]))
        return hook

    on_test_begin = _rec("test_begin")
    on_test_end = _rec("test_end")
    on_test_batch_begin = _rec("test_batch_begin")
    on_test_batch_end = _rec("test_batch_end")
    on_predict_begin = _rec("predict_begin")
    on_predict_end = _rec("predict_end")
    on_predict_batch_begin = _rec("predict_batch_begin")
    on_predict_batch_end = _rec("predict_batch_end")


def _small():
    nncore.set_seed(0)
    inp = nncore.Input(shape=(5,))
    m = nncore.Model(inp, L.Dense(3, activation="softmax")(inp))
    m.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


def test_evaluate_and_predict_fire_their_hooks_and_honour_steps():
    x, y = _xy()
    m = _small()
    cb = Hooks()
    m.evaluate(x, y, batch_size=16, steps=2, callbacks=[cb], verbose=0)
    assert cb.calls == [("test_begin",), ("test_batch_begin", 0), ("test_batch_end", 0),
                        ("test_batch_begin", 1), ("test_batch_end", 1), ("test_end",)]
    cb = Hooks()
    out = m.predict(x, batch_size=16, steps=3, callbacks=[cb], verbose=0)
    assert out.shape == (48, 3)
    assert cb.calls[0] == ("predict_begin",) and cb.calls[-1] == ("predict_end",)
    assert [c for c in cb.calls if c[0] == "predict_batch_end"] == \
        [("predict_batch_end", k) for k in range(3)]
    # fit's validation pass calls the test hooks of fit's callbacks
    cb = Hooks()
    m.fit(x, y, batch_size=16, epochs=2, validation_data=(x, y), callbacks=[cb], verbose=0)
    assert cb.calls.count(("test_begin",)) == 2


def test_the_users_history_and_progbar_are_the_ones_used():
    x, y = _xy()
    m = _small()
    hist = nncore.callbacks.History()
    got = m.fit(x, y, epochs=2, callbacks=[hist], verbose=0)
    assert got is hist and m.history is hist and len(hist.history["loss"]) == 2
    out = io.StringIO()
    bar = nncore.callbacks.ProgbarLogger(stream=out)
    with contextlib.redirect_stdout(io.StringIO()) as stdout:
        m.fit(x, y, epochs=1, callbacks=[bar], verbose=1)
    assert out.getvalue().count("Epoch 1/1") == 1 and "Epoch" not in stdout.getvalue()
    # evaluate draws its own line through the same logger
    out.truncate(0)
    m.evaluate(x, y, callbacks=[bar], verbose=1)
    assert "loss:" in out.getvalue()


def test_compile_on_an_unbuilt_sequential_checks_its_arguments():
    m = nncore.Sequential([L.Dense(3)])
    with pytest.raises(ValueError, match="no_such_loss"):
        m.compile(optimizer="sgd", loss="no_such_loss")
    with pytest.raises(ValueError, match="no_such_metric"):
        m.compile(optimizer="sgd", loss="mse", metrics=["no_such_metric"])
    with pytest.raises(ValueError, match="no_such_optimizer"):
        m.compile(optimizer="no_such_optimizer", loss="mse")
    m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    m.fit(np.zeros((4, 5), np.float32), np.zeros((4, 3), np.float32), verbose=0)
    assert m.metrics_names == ["loss", "mae"]


def _order_model(shuffle_seed=0):
    """A model whose first layer records the rows of every training batch."""
    nncore.set_seed(shuffle_seed)
    inp = nncore.Input(shape=(5,))
    rec = Recorder()
    m = nncore.Model(inp, L.Dense(3, activation="softmax")(rec(inp)))
    m.compile(optimizer="sgd", loss="categorical_crossentropy")
    return m, rec


def _row_ids(rec, x):
    ids = {row.tobytes(): i for i, row in enumerate(x)}
    return [[ids[r.tobytes()] for r in seen] for seen, training in rec.seen if training]


def test_shuffle_true_draws_a_new_order_each_epoch_and_false_keeps_it():
    x, y = _xy(n=40)
    m, rec = _order_model()
    m.fit(x, y, batch_size=8, epochs=2, shuffle=True, verbose=0)
    batches = _row_ids(rec, x)
    e1, e2 = sum(batches[:5], []), sum(batches[5:], [])
    assert sorted(e1) == list(range(40)) and sorted(e2) == list(range(40))
    assert e1 != list(range(40)) and e2 != e1
    m, rec = _order_model()
    m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert sum(_row_ids(rec, x), []) == list(range(40)) * 2
    m, rec = _order_model()
    m.fit(x, y, batch_size=8, epochs=1, shuffle="batch", verbose=0)
    batches = _row_ids(rec, x)
    # Keras 3: batches in order, samples shuffled within each
    assert [sorted(b) for b in batches] == [list(range(k, k + 8)) for k in range(0, 40, 8)]
    assert any(b != sorted(b) for b in batches)


def test_sample_weights_follow_the_shuffled_rows():
    """Rows of weight 0 cannot change training whatever their targets, only if each weight
    travels with its row through the shuffle."""
    x, y = _xy(n=48)
    w = np.where(np.arange(48) % 3 == 0, 0.0, 1.0)
    y_other = y.copy()
    y_other[w == 0] = np.roll(y[w == 0], 1, axis=1)
    runs = []
    for targets in (y, y_other):
        m, _ = _order_model(shuffle_seed=5)
        m.fit(x, targets, sample_weight=w, batch_size=8, epochs=2, shuffle=True, verbose=0)
        runs.append(m.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    # and the zero-weight rows really were trained on with the other targets present
    m, _ = _order_model(shuffle_seed=5)
    m.fit(x, y_other, batch_size=8, epochs=2, shuffle=True, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(runs[0], m.get_weights()))


def test_class_weight_follows_the_shuffled_rows():
    x, y = _xy(n=48)
    cw = {0: 0.0, 1: 1.0, 2: 1.0}
    labels = y.argmax(1)
    runs = []
    for xs in (x, np.where((labels == 0)[:, None], x * 3.0, x).astype(np.float32)):
        m, _ = _order_model(shuffle_seed=9)
        m.fit(xs, y, class_weight=cw, batch_size=8, epochs=1, shuffle=True, verbose=0)
        runs.append(m.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_ema_weights_replace_the_trained_ones_at_the_end_of_fit():
    # keras/src/optimizers/optimizer_test.py::OptimizerTest::test_ema_with_model_fit
    x_train = np.ones((1, 1), np.float32)
    # Keras broadcasts y_true (1, 1) against y_pred (1, 2); nncore's losses want equal shapes,
    # and zeros of (1, 2) are what the broadcast gives.
    y_train = np.zeros((1, 2), np.float32)
    optimizer = nncore.optimizers.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.9)
    model = nncore.Sequential([L.Dense(2, kernel_initializer="ones", use_bias=False)])
    model.compile(loss="mse", optimizer=optimizer)
    model.fit(x_train, y_train, batch_size=1, epochs=2, verbose=0)
    np.testing.assert_allclose(model.trainable_variables[0].numpy(), [[0.891, 0.891]], atol=1e-5)


def test_weighted_metrics_survive_save_and_load(tmp_path):
    x, y = _xy()
    w = np.linspace(0, 1, len(x))
    m = _small()
    m.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"],
              weighted_metrics=["accuracy"])
    m.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.nncore"
    m.save(path)
    back = nncore.load_model(path)
    want = m.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    got = back.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    assert set(got) == set(want) and "weighted_accuracy" in got
    for k in want:
        assert got[k] == pytest.approx(want[k])
