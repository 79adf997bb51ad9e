"""Training runs backward only as far as a trainable weight: layers whose inputs depend on no
trainable weight (augmentation in front, frozen layers) skip their input gradient, and nothing
before them runs backward. The weights come out exactly as with the full backward pass."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import layers as L


def augmented_model():
    nncore.set_seed(0)
    return nncore.Sequential([
        nncore.Input((8, 8, 3)),
        L.RandomFlip("horizontal", seed=1), L.RandomCrop(8, 8, padding=2, seed=2),
        L.Conv2D(4, 3, padding="same", activation="relu"), L.MaxPool2D(2),
        L.Flatten(), L.Dense(5, activation="softmax"),
    ])


def data(n=16):
    rng = np.random.default_rng(0)
    return (rng.random((n, 8, 8, 3), dtype=np.float32),
            np.eye(5, dtype=np.float32)[rng.integers(0, 5, n)])


def train(model, x, y):
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    for k in range(3):
        model.train_on_batch(x[4 * k:4 * k + 4], y[4 * k:4 * k + 4])
    return model.get_weights()


def test_augmentation_layers_run_no_backward_and_weights_are_unchanged(monkeypatch):
    x, y = data()
    calls = []
    full = augmented_model()
    for layer in full.layers[:2]:
        original = layer.backward
        monkeypatch.setattr(layer, "backward",
                            lambda g, original=original: calls.append(1) or original(g))
    # The reference: every layer computes its input gradient.
    monkeypatch.setattr(full, "set_needs_input_grad",
                        lambda needed: nncore.Model.set_needs_input_grad(full, True))
    want = train(full, x, y)
    assert calls, "the reference should have run the augmentation layers backward"

    pruned = augmented_model()
    for layer in pruned.layers[:2]:
        monkeypatch.setattr(layer, "backward", lambda g: pytest.fail("backward was not pruned"))
    flags = {}
    for k in (2, -1):               # the first convolution, the output layer
        layer = pruned.layers[k]
        monkeypatch.setattr(layer, "backward", lambda g, layer=layer, original=layer.backward, k=k:
                            flags.setdefault(k, layer.needs_input_grad) is None or original(g))
    got = train(pruned, x, y)
    assert flags == {2: False, -1: True}
    # After training the model gives input gradients again (saliency, adversarial examples).
    assert all(layer.needs_input_grad for layer in pruned.layers)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


class FlagProbe(nncore.callbacks.Callback):
    """The layers' needs_input_grad flags while fit trains (fit turns them back on after)."""

    def on_train_batch_end(self, batch, logs=None):
        self.flags = {layer.name: layer.needs_input_grad for layer in self.model.layers}


def test_frozen_prefix_and_unfreezing():
    nncore.set_seed(0)
    frozen = L.Dense(8, activation="relu", trainable=False)
    head = L.Dense(3, activation="softmax")
    model = nncore.Sequential([nncore.Input((6,)), frozen, head])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = np.ones((4, 6), np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    before = frozen.get_weights()
    probe = FlagProbe()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[probe])
    assert not probe.flags[frozen.name] and not probe.flags[head.name]
    for a, b in zip(frozen.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    frozen.trainable = True
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[probe])
    assert not probe.flags[frozen.name] and probe.flags[head.name]
    assert any(not np.array_equal(a, b) for a, b in zip(frozen.get_weights(), before))


def test_merge_of_a_free_and_a_trained_branch_still_gets_its_gradient():
    nncore.set_seed(0)
    a, b = nncore.Input((4,)), nncore.Input((4,))
    dense = L.Dense(4)
    merged = L.Concatenate()([dense(a), L.Activation("relu")(b)])
    out_layer = L.Dense(2, activation="softmax")
    model = nncore.Model([a, b], out_layer(merged))
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = np.ones((3, 4), np.float32)
    probe = FlagProbe()
    model.fit([x, x], np.eye(2, dtype=np.float32)[[0, 1, 0]], epochs=1, verbose=0,
              callbacks=[probe])
    concat = model.layers[model.layers.index(out_layer) - 1]
    assert isinstance(concat, L.Concatenate) and probe.flags[concat.name]
    assert probe.flags[out_layer.name] and not probe.flags[dense.name]
    model.set_needs_input_grad(False)
    model.set_needs_input_grad(True)
    assert all(layer.needs_input_grad for layer in model.layers)
