"""BatchNormalization followed by ReLU / ReLU6 in a model's training step runs fused
(models/bn_fusion.py): the same training as unfused, float64 gradients against central
differences, and no fusion where the normalized tensor has other readers."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import layers as L
from nncore.models import bn_fusion


def cnn(seed=0):
    nncore.set_seed(seed)
    inp = nncore.Input(shape=(6, 6, 3))
    h = L.Conv2D(4, 3, padding="same", use_bias=False)(inp)
    h = L.BatchNormalization(name="bn1")(h)
    h = L.ReLU(name="relu1")(h)
    h = L.Conv2D(6, 3, padding="same", use_bias=False)(h)
    h = L.BatchNormalization(name="bn2", scale=False)(h)
    h = L.ReLU(6.0, name="relu6")(h)
    s = L.Conv2D(6, 1, use_bias=False)(h)
    bn3 = L.BatchNormalization(name="bn3")(s)
    # bn3's output has two readers: not fused.
    h = L.Add()([L.Activation("relu", name="act3")(bn3), bn3])
    h = L.BatchNormalization(name="bn4", center=False)(h)
    h = L.Activation("relu", name="act4")(h)
    h = L.GlobalAveragePooling2D()(h)
    out = L.Dense(3, activation="softmax")(h)
    return nncore.Model(inp, out)


def data(seed=1, n=16):
    r = np.random.default_rng(seed)
    x = r.standard_normal((n, 6, 6, 3)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[r.integers(0, 3, n)]
    return x, y


def fused_names(model):
    return sorted((b.layer.name, a.layer.name, name) for b, a, name in bn_fusion.plan(model._graph))


def test_plan_fuses_single_reader_relu_and_relu6():
    assert fused_names(cnn()) == [("bn1", "relu1", "relu"), ("bn2", "relu6", "relu6"),
                                  ("bn4", "act4", "relu")]


def train(model, x, y, steps=3):
    model.compile(optimizer=nncore.optimizers.SGD(0.1, momentum=0.9),
                  loss="categorical_crossentropy")
    losses = [model.train_on_batch(x, y) for _ in range(steps)]
    return losses, model.get_weights()


def test_train_on_batch_runs_the_fused_kernel(monkeypatch):
    from nncore import ops

    seen = []
    real = ops.batch_norm_train

    def spy(*args, activation=None, **kwargs):
        seen.append(activation)
        return real(*args, activation=activation, **kwargs)

    monkeypatch.setattr(ops, "batch_norm_train", spy)
    x, y = data()
    train(cnn(), x, y, steps=1)
    assert sorted(seen, key=str) == sorted(["relu", "relu6", None, "relu"], key=str)


def test_fused_training_matches_unfused(monkeypatch):
    x, y = data()
    fused_losses, fused_w = train(cnn(), x, y)
    monkeypatch.setattr(bn_fusion, "plan", lambda graph: [])
    plain_losses, plain_w = train(cnn(), x, y)
    np.testing.assert_allclose(fused_losses, plain_losses, rtol=1e-5)
    for a, b in zip(fused_w, plain_w):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_fused_model_gradients_match_central_differences():
    model = cnn()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = data(n=8)
    assert nncore.gradcheck(model, (x.astype(np.float64), y), training=True, atol=1e-6, rtol=1e-4)


def test_layers_shared_with_another_model_or_called_alone_are_not_fused():
    nncore.set_seed(0)
    inp = nncore.Input(shape=(6, 6, 3))
    bn = L.BatchNormalization()
    relu = L.ReLU()
    normalized = bn(L.Conv2D(4, 3)(inp))
    model = nncore.Model(inp, L.GlobalAveragePooling2D()(relu(normalized)))
    features = nncore.Model(inp, normalized)  # shares the batch norm, ends at its output
    assert len(bn_fusion.plan(model._graph)) == 1 and not bn_fusion.plan(features._graph)
    x, _ = data()
    model(x, training=True)
    assert bn._fuse_next is None and relu._prefused is None
    out = np.asarray(features(x, training=True))
    assert (out < 0).any()
    np.testing.assert_array_equal(np.asarray(relu(out)), np.maximum(out, 0))
    assert (np.asarray(bn(out, training=True)) < 0).any()


def test_activation_as_model_output_and_logits():
    nncore.set_seed(0)
    inp = nncore.Input(shape=(5,))
    h = L.Dense(4)(inp)
    bn = L.BatchNormalization()
    out = L.Activation("relu")(bn(h))
    model = nncore.Model(inp, out)
    graph = model._graph
    assert len(bn_fusion.plan(graph)) == 1
    x = np.random.default_rng(0).standard_normal((9, 5)).astype(np.float32)
    (got,) = graph.forward([x], True)
    assert (got >= 0).all() and (got == 0).any()
    # A step whose activation the loss applies (logits) is left alone.
    bn_fusion.arm(graph, logits=(graph.output_ids[0],))
    assert bn._fuse_next is None


def test_config_and_layer_list_unchanged():
    model = cnn()
    before = (model.get_config(), [l.name for l in model.layers])
    x, y = data()
    train(model, x, y, steps=1)
    assert (model.get_config(), [l.name for l in model.layers]) == before


@pytest.mark.parametrize("trainable", [False])
def test_frozen_batch_norm_applies_the_activation_after_inference_statistics(trainable):
    x, y = data()
    model = cnn()
    for name in ("bn1", "bn2", "bn4"):
        model.get_layer(name).trainable = trainable
    losses, weights = train(model, x, y, steps=2)
    assert np.all(np.isfinite(losses))
    assert nncore.gradcheck(model, (x[:8].astype(np.float64), y[:8]), training=True, atol=1e-6,
                            rtol=1e-4)


def test_fused_batch_norm_on_another_axis_matches_central_differences():
    nncore.set_seed(3)
    inp = nncore.Input(shape=(3, 5))
    h = L.BatchNormalization(axis=1)(L.Dense(5)(inp))
    h = L.ReLU(6.0)(h)
    out = L.Dense(2, activation="softmax")(L.Flatten()(h))
    model = nncore.Model(inp, out)
    assert len(bn_fusion.plan(model._graph)) == 1
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    r = np.random.default_rng(2)
    x = r.standard_normal((7, 3, 5)) * 3
    y = np.eye(2)[r.integers(0, 2, 7)]
    assert nncore.gradcheck(model, (x, y), training=True, atol=1e-6, rtol=1e-4)
