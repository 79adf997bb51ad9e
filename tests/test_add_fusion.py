"""A residual Add followed by ReLU / ReLU6 in a model's training step runs as one pass
(models/bn_fusion.py, ops.add_act): the same bits as unfused, float64 gradients against central
differences, and no fusion where the sum has other readers."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import layers as L
from nncore.models import bn_fusion
from nncore.layers.merging import Add


def resnet(seed=0, dtype="float32"):
    nncore.set_seed(seed)
    inp = nncore.Input(shape=(6, 6, 4))
    h = L.Conv2D(4, 3, padding="same", use_bias=False, dtype=dtype)(inp)
    h = L.BatchNormalization(dtype=dtype)(h)
    h = L.Add(name="add1", dtype=dtype)([h, inp])
    h = L.ReLU(name="relu1", dtype=dtype)(h)
    s = L.Conv2D(4, 1, dtype=dtype)(h)
    h = L.Add(name="add2", dtype=dtype)([s, h, inp])  # three inputs
    h = L.ReLU(6.0, name="relu6", dtype=dtype)(h)
    s = L.Conv2D(4, 1, dtype=dtype)(h)
    added = L.Add(name="add3", dtype=dtype)([s, h])
    # add3's sum has two readers: not fused.
    h = L.Multiply(dtype=dtype)([L.Activation("relu", name="act3", dtype=dtype)(added), added])
    h = L.GlobalAveragePooling2D(dtype=dtype)(h)
    out = L.Dense(3, activation="softmax", dtype=dtype)(h)
    return nncore.Model(inp, out)


def data(seed=1, n=16, dtype=np.float32):
    r = np.random.default_rng(seed)
    x = r.standard_normal((n, 6, 6, 4)).astype(dtype)
    y = np.eye(3, dtype=dtype)[r.integers(0, 3, n)]
    return x, y


def add_pairs(model):
    return sorted((p.layer.name, a.layer.name, name) for p, a, name in bn_fusion.plan(model._graph)
                  if isinstance(p.layer, Add))


def test_plan_fuses_single_reader_relu_and_relu6_after_add():
    assert add_pairs(resnet()) == [("add1", "relu1", "relu"), ("add2", "relu6", "relu6")]


def train(model, x, y, steps=3):
    model.compile(optimizer=nncore.optimizers.SGD(0.1, momentum=0.9),
                  loss="categorical_crossentropy")
    losses = [model.train_on_batch(x, y) for _ in range(steps)]
    return losses, model.get_weights()


def test_fused_training_is_bit_for_bit_unfused(monkeypatch):
    """The fused sum and ReLU are the same additions and the same comparisons, the mask in
    backward the same as the ReLU layer's: every bit of the run agrees."""
    x, y = data()
    seen = []
    real = nncore.ops.add_act

    def spy(a, b, activation=None, **kw):
        seen.append(activation)
        return real(a, b, activation, **kw)

    monkeypatch.setattr(nncore.ops, "add_act", spy)
    fused_losses, fused_w = train(resnet(), x, y)
    assert {"relu", "relu6"} <= set(seen)
    real_plan = bn_fusion.plan
    monkeypatch.setattr(bn_fusion, "plan", lambda graph: [p for p in real_plan(graph)
                                                          if not isinstance(p[0].layer, Add)])
    seen.clear()
    plain_losses, plain_w = train(resnet(), x, y)
    assert "relu" not in seen and "relu6" not in seen
    assert fused_losses == plain_losses
    for a, b in zip(fused_w, plain_w):
        assert a.tobytes() == b.tobytes()


def test_fused_model_gradients_match_central_differences():
    model = resnet(dtype="float64")
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = data(n=6, dtype=np.float64)
    assert nncore.gradcheck(model, (x, y), training=True, atol=1e-6, rtol=1e-4)


def test_add_and_relu_as_model_output_and_logits():
    nncore.set_seed(0)
    inp = nncore.Input(shape=(5,))
    add = L.Add()
    out = L.Activation("relu")(add([L.Dense(5)(inp), inp]))
    model = nncore.Model(inp, out)
    graph = model._graph
    assert len(bn_fusion.plan(graph)) == 1
    x = np.random.default_rng(0).standard_normal((9, 5)).astype(np.float32)
    (got,) = graph.forward([x], True)
    assert (got >= 0).all() and (got == 0).any()
    # A step whose activation the loss applies (logits) is left alone.
    bn_fusion.arm(graph, logits=(graph.output_ids[0],))
    assert add._fuse_next is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_layer_alone_sums_like_numpy(dtype):
    rng = np.random.default_rng(4)
    xs = [rng.standard_normal((3, 4, 5)).astype(dtype) for _ in range(3)]
    got = np.asarray(L.Add(dtype=dtype)(xs))
    np.testing.assert_array_equal(got, (xs[0] + xs[1]) + xs[2])
    # Shapes that differ only where NumPy broadcasts take NumPy's sum.
    b = rng.standard_normal((1, 4, 5)).astype(dtype)
    np.testing.assert_array_equal(np.asarray(L.Add(dtype=dtype)([xs[0], b])), xs[0] + b)
