"""Arrays reused between training steps: the same training results as fresh allocation (with
malloc keeping freed memory, or with the shared pool), shared layers keep both outputs of one
step, arrays handed to users are never overwritten, and a pooled block is handed out again only
once nothing else refers to it."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import nncore
from nncore import layers as L
from nncore.layers import _workspace


@pytest.fixture(params=["malloc", "pool"])
def mode(request, monkeypatch):
    """Either way a training step can get its arrays: glibc keeping freed memory (no pooling),
    or the pool used where that is not available."""
    if request.param == "pool":
        monkeypatch.setitem(_workspace._heap, "kept", False)
        _workspace.clear()
    return request.param


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


def residual_model():
    """Conv/BN/ReLU with a residual Add (the graph sums two gradients) and a depthwise conv."""
    nncore.set_seed(5)
    inp = nncore.Input(shape=(8, 8, 4))
    h = L.Conv2D(4, 3, padding="same", use_bias=False)(inp)
    h = L.ReLU()(L.BatchNormalization()(h))
    g = L.DepthwiseConv2D(3, padding="same")(h)
    g = L.BatchNormalization()(g)
    h = L.ReLU(6.0)(L.Add()([h, g]))
    h = L.Conv2D(6, 3, strides=2, padding="same")(h)
    out = L.Dense(3, activation="softmax")(L.GlobalAveragePooling2D()(h))
    model = nncore.Model(inp, out)
    model.compile(optimizer=nncore.optimizers.SGD(learning_rate=0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    return model


def data(n=20):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 8, 8, 3)).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[rng.integers(0, 5, n)]
    return x, y


@pytest.mark.parametrize("shared", [False, True])
def test_reuse_gives_the_same_weights_as_fresh_arrays(shared, mode, monkeypatch):
    x, y = data()
    reused = conv_model(shared)
    reused.fit(x, y, batch_size=6, epochs=2, verbose=0)   # 6, 6, 6, 2: shapes change
    monkeypatch.setattr(_workspace, "buffer", lambda *a, **k: None)
    fresh = conv_model(shared)
    fresh.fit(x, y, batch_size=6, epochs=2, verbose=0)
    for a, b in zip(reused.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_residual_steps_are_bit_identical_with_the_pool(mode, monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((10, 8, 8, 4)).astype(np.float32)
    y = rng.integers(0, 3, 10)
    reused = residual_model()
    for i in range(4):
        reused.train_on_batch(x[i % 2 * 5:][:5], y[i % 2 * 5:][:5])
    monkeypatch.setattr(_workspace, "buffer", lambda *a, **k: None)
    fresh = residual_model()
    for i in range(4):
        fresh.train_on_batch(x[i % 2 * 5:][:5], y[i % 2 * 5:][:5])
    for a, b in zip(reused.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_pool_blocks_are_reused_between_steps(mode):
    if mode != "pool":
        pytest.skip("pool only")
    x, y = data()
    model = conv_model(False)
    model.train_on_batch(x[:6], y[:6])
    size = _workspace.pool_bytes()
    for i in range(3):
        model.train_on_batch(x[6:12], y[6:12])
    assert 0 < _workspace.pool_bytes() == size


def test_arrays_handed_out_are_never_overwritten(mode):
    x, y = data()
    model = conv_model(False)
    pred = model.predict(x[:6], verbose=0)
    direct = model(x[:6], training=True)
    keep_pred, keep_direct = pred.copy(), np.array(direct, copy=True)
    model.fit(x, y, batch_size=6, epochs=1, verbose=0)
    np.testing.assert_array_equal(pred, keep_pred)
    np.testing.assert_array_equal(direct, keep_direct)


def test_buffer_is_none_outside_a_step():
    assert _workspace.buffer(L.Dense(2), "y", (2, 2), np.float32) is None


def test_a_held_block_is_not_handed_out_again(monkeypatch):
    monkeypatch.setitem(_workspace._heap, "kept", False)
    _workspace.clear()
    with _workspace.training_step():
        a = _workspace.buffer(None, "y", (2, 8), np.float32)
        view = a[1:]
        b = _workspace.buffer(None, "y", (2, 8), np.float32)
        assert b.base is not a.base
        del a
        # A view still refers to the block.
        assert _workspace.buffer(None, "y", (4, 4), np.float32).base is not view.base
        block = id(view.base)    # not the block itself: a reference would keep it taken
        del view
        c = _workspace.buffer(None, "dx", (16,), np.int32)   # any shape of the same size
        assert id(c.base) == block and c.shape == (16,) and c.dtype == np.int32
        assert _workspace.buffer(None, "z", (3,), np.float64).shape == (3,)
    _workspace.clear()


def test_blocks_no_step_took_lately_are_dropped(monkeypatch):
    monkeypatch.setitem(_workspace._heap, "kept", False)
    _workspace.clear()
    with _workspace.training_step():
        _workspace.buffer(None, "y", (5, 7), np.float32)
    for _ in range(3):
        with _workspace.training_step():
            _workspace.buffer(None, "y", (4, 4), np.float32)
    assert _workspace.pool_bytes() == 64
    _workspace.clear()


def test_conv_without_activation_keeps_only_its_input():
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 3)).astype(np.float32)
    for layer in (L.Conv2D(4, 3), L.DepthwiseConv2D(3)):
        layer.build(x.shape)
        layer.forward(x, training=True)
        assert layer._cache[0] is x and all(v is None for v in layer._cache[1:4])
    relu = L.Conv2D(4, 3, activation="relu")
    relu.build(x.shape)
    y = relu.forward(x, training=True)
    assert relu._cache[2] is y


def test_glibc_keeps_freed_memory_unless_told_not_to():
    code = ("import nncore, numpy as np\nfrom nncore.layers import _workspace as w\n"
            "m = nncore.Sequential([nncore.Input((4,)), nncore.layers.Dense(2)])\n"
            "m.compile(optimizer='sgd', loss='mse')\n"
            "m.train_on_batch(np.ones((3, 4), np.float32), np.ones((3, 2), np.float32))\n"
            "print(w.pooling())")
    env = {**os.environ, "NNCORE_KEEP_FREED_MEMORY": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "True", out.stderr
    if sys.platform.startswith("linux") and "glibc" in " ".join(os.confstr("CS_GNU_LIBC_VERSION").split()[:1]):
        env["NNCORE_KEEP_FREED_MEMORY"] = "1"
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert out.stdout.strip() == "False", out.stderr
