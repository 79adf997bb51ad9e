"""Arrays reused between training steps: the same training results as fresh allocation, shared
layers keep both outputs of one step, and arrays handed to users are never overwritten."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore.layers import _workspace


def conv_model(shared: bool):
    nncore.set_seed(3)
    inp = nncore.Input(shape=(8, 8, 3))
    conv = nncore.layers.Conv2D(3, 3, padding="same", activation="relu")
    h = conv(inp)
    h = conv(h) if shared else nncore.layers.Conv2D(3, 3, padding="same")(h)
    h = nncore.layers.MaxPool2D(2)(h)
    h = nncore.layers.Conv2D(4, 3, padding="same")(h)
    h = nncore.layers.MaxPool2D(2)(h)
    h = nncore.layers.Flatten()(h)
    out = nncore.layers.Dense(5, activation="softmax")(h)
    model = nncore.Model(inp, out)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def data(n=20):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 8, 8, 3)).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[rng.integers(0, 5, n)]
    return x, y


@pytest.mark.parametrize("shared", [False, True])
def test_reuse_gives_the_same_weights_as_fresh_arrays(shared, monkeypatch):
    x, y = data()
    reused = conv_model(shared)
    reused.fit(x, y, batch_size=6, epochs=2, verbose=0)   # 6, 6, 6, 2: shapes change
    monkeypatch.setattr(_workspace, "buffer", lambda *a, **k: None)
    fresh = conv_model(shared)
    fresh.fit(x, y, batch_size=6, epochs=2, verbose=0)
    for a, b in zip(reused.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_buffers_are_reused_between_steps():
    x, y = data()
    model = conv_model(False)
    conv = model.layers[1]
    model.train_on_batch(x[:6], y[:6])
    # The layer's cache is released after its backward; its step buffers stay for the next step.
    first = conv._step_buffers["y"][0]
    model.train_on_batch(x[6:12], y[6:12])
    assert conv._step_buffers["y"][0] is first


def test_arrays_handed_out_are_never_overwritten():
    x, y = data()
    model = conv_model(False)
    pred = model.predict(x[:6], verbose=0)
    direct = model(x[:6], training=True)
    keep_pred, keep_direct = pred.copy(), np.array(direct, copy=True)
    model.fit(x, y, batch_size=6, epochs=1, verbose=0)
    np.testing.assert_array_equal(pred, keep_pred)
    np.testing.assert_array_equal(direct, keep_direct)


def test_buffer_is_none_outside_a_step_and_on_second_use():
    layer = nncore.layers.Dense(2)
    assert _workspace.buffer(layer, "y", (2, 2), np.float32) is None
    with _workspace.training_step():
        a = _workspace.buffer(layer, "y", (2, 2), np.float32)
        assert a is not None and _workspace.buffer(layer, "y", (2, 2), np.float32) is None
    with _workspace.training_step():
        assert _workspace.buffer(layer, "y", (2, 2), np.float32) is a
        assert _workspace.buffer(layer, "z", (3,), np.float64).shape == (3,)
