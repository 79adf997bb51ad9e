"""A ZeroPadding2D's padded copy stands in for its input in what earlier layers keep (the
MobileNetV2 pattern: ReLU6, padding, 'valid' strided depthwise convolution): the input is not
kept twice, and no number of a training step changes."""

from __future__ import annotations

import numpy as np
import pytest

import nncore
from nncore import layers as L


def padded_model(seed=0):
    nncore.set_seed(seed)
    inp = nncore.Input(shape=(7, 7, 3))
    h = L.Conv2D(6, 1, use_bias=False)(inp)
    h = L.ReLU(6.0)(L.BatchNormalization()(h))
    side = L.GlobalAveragePooling2D()(h)              # a second reader of the padded input
    p = L.ZeroPadding2D(((0, 1), (1, 2)))(h)
    g = L.DepthwiseConv2D(3, strides=2, padding="valid", use_bias=False)(p)
    g = L.ReLU(6.0)(L.BatchNormalization()(g))
    pooled = L.GlobalAveragePooling2D()(g)
    out = L.Dense(3, activation="softmax")(L.Concatenate()([pooled, side]))
    model = nncore.Model(inp, out)
    model.compile(optimizer=nncore.optimizers.SGD(learning_rate=0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    return model


def data(n=6):
    r = np.random.default_rng(2)
    return (3 * r.standard_normal((n, 7, 7, 3))).astype(np.float32), r.integers(0, 3, n)


def test_the_kept_activation_is_a_view_of_the_padded_copy():
    x, y = data()
    model = padded_model()
    model._graph._bn_fusions = []   # the ReLU6 keeps its output (fused, the batch norm keeps x)
    relu = [l for l in model.layers if isinstance(l, L.ReLU)][0]
    dw = [l for l in model.layers if isinstance(l, L.DepthwiseConv2D)][0]
    model._graph.forward([x], True)
    kept, padded = relu._cache[1], dw._cache[0]
    assert kept.shape == (6, 7, 7, 6) and padded.shape == (6, 8, 10, 6)
    assert kept.base is padded or kept.base is padded.base
    np.testing.assert_array_equal(kept, padded[:, :7, 1:8, :])


@pytest.mark.parametrize("fused", [True, False], ids=["bn-relu-fused", "separate"])
def test_training_is_bit_identical_with_and_without_the_alias(fused):
    x, y = data()
    a, b = padded_model(), padded_model()
    b._graph.padding_holders = {}
    if not fused:
        a._graph._bn_fusions = b._graph._bn_fusions = []
    for _ in range(3):
        a.train_on_batch(x, y)
        b.train_on_batch(x, y)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_outside_training_nothing_is_rewired():
    x, _ = data()
    model = padded_model()
    relu = [l for l in model.layers if isinstance(l, L.ReLU)][0]
    dw = [l for l in model.layers if isinstance(l, L.DepthwiseConv2D)][0]
    model._graph.forward([x], False)
    if relu._cache is not None and dw._cache is not None:
        assert not np.shares_memory(relu._cache[1], dw._cache[0])
